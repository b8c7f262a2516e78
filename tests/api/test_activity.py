"""The activity log (issue 11): GET /activity (who sees which entries, filters, paging) and
GET /activity/verify (the hash chains recomputed: an entry edited, deleted or reordered behind
the API's back is found), and the database refusing the API's role any change to the log.

The entries are written as the superuser with fixed times (the routes that write them are
other files' work); activity_link, the database's trigger, links each into its chain as it
would for the API. Tampering is done as the superuser with triggers off
(session_replication_role = replica), as an intruder with the cluster's keys would, and undone
from a copy after each case.
"""
import os
import subprocess
import sys
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import stack  # noqa: E402
from checks import ApiCase  # noqa: E402
from stack import Stack  # noqa: E402

S = None
API = "/api/v1"
U = {}  # name -> (user, token)
P1, P2, GONE = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())  # GONE: a deleted project
TASK, PERSONAL_O, PERSONAL_M = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
E = {}  # entry name -> id
AS_ROOT = os.geteuid() == 0
APP_ROLE = "rostrum_app"


def q(v):
    return "NULL" if v is None else "'" + str(v).replace("'", "''") + "'"


def setUpModule():
    global S
    S = Stack("activity")
    for name in ("admin", "olga", "mia", "xavier"):
        user, token, _ = S.new_user(name=name.capitalize())
        U[name] = (user, token)
    assert U["admin"][0]["role"] == "admin"
    uid = {n: U[n][0]["id"] for n in U}
    S.sql(f"INSERT INTO projects (id, owner_id, name) VALUES ({q(P1)}, {q(uid['olga'])}, 'P1'), "
          f"({q(P2)}, {q(uid['xavier'])}, 'P2');"
          f"INSERT INTO project_members (project_id, user_id) VALUES ({q(P1)}, {q(uid['mia'])});"
          f"INSERT INTO tasks (id, project_id, created_by, title, position) VALUES "
          f"({q(PERSONAL_O)}, NULL, {q(uid['olga'])}, 'mine', 0)")
    # (name, at, actor, project, entity, entity_id, action, changes), in the log's order.
    entries = [
        ("p1_created", "2026-01-05T10:00:00Z", "olga", P1, "project", P1, "created", '{"name": [null, "P1"]}'),
        ("mia_added", "2026-01-05T10:05:00Z", "olga", P1, "member", uid["mia"], "added", "{}"),
        ("task_created", "2026-01-05T11:00:00Z", "mia", P1, "task", TASK, "created", '{"title": [null, "t"]}'),
        ("task_moved", "2026-01-06T12:00:00Z", "mia", P1, "task", TASK, "moved",
         '{"status": ["todo", "in_progress"], "position": [0, 0]}'),
        ("p2_created", "2026-01-06T12:30:00Z", "xavier", P2, "project", P2, "created", "{}"),
        ("olga_personal", "2026-01-07T13:00:00Z", "olga", None, "task", PERSONAL_O, "created", "{}"),
        ("mia_personal", "2026-01-07T13:30:00Z", "mia", None, "task", PERSONAL_M, "created", "{}"),
        ("system_on_olga", "2026-01-08T14:00:00Z", None, None, "task", PERSONAL_O, "updated",
         '{"prompts": [[], ["Call Bob"]]}'),
        ("gone_deleted", "2026-01-09T15:00:00Z", "admin", GONE, "project", GONE, "deleted", "{}"),
    ]
    for name, at, actor, project, entity, entity_id, action, changes in entries:
        (eid,), = S.sql("INSERT INTO activity (at, actor_id, project_id, entity, entity_id, action, changes) "
                        f"VALUES ({q(at)}, {q(uid[actor] if actor else None)}, {q(project)}, {q(entity)}, "
                        f"{q(entity_id)}, {q(action)}, {q(changes)}) RETURNING id")
        E[name] = eid
    # The copy every tampering case is undone from.
    S.sql("CREATE SCHEMA saved; CREATE TABLE saved.activity AS SELECT * FROM activity;"
          "CREATE TABLE saved.activity_chains AS SELECT * FROM activity_chains")


def tearDownModule():
    S.stop()


def get(path, who):
    return S.get(f"{API}{path}", token=U[who][1])


def ids(r):
    return [next(k for k, v in E.items() if v == item["id"]) for item in r.json()["items"]]


def app_sql(sql):
    """psql as the application role, the way the daemons log in (as the service user, peer
    authentication); the CompletedProcess."""
    cmd = [stack.PSQL, "-h", f"{stack.PG}/run", "-U", APP_ROLE, "-d", S.db, "-AtXq",
           "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose", "-c", sql]
    if AS_ROOT:
        cmd = ["runuser", "-u", stack.SERVICE_USER, "--"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


class Listing(ApiCase):
    def listing(self, who, query=""):
        r = get(f"/activity?limit=100{query}", who)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.json()["next_cursor"])
        return ids(r)

    def test_who_sees_what_newest_first(self):
        # The owner and the member: their project's entries and their own personal ones (the
        # system's entry on Olga's personal task is Olga's); Xavier: his project's; the admin:
        # every project's, the deleted one's included, and nobody's personal entries.
        self.assertEqual(self.listing("olga"), ["system_on_olga", "olga_personal", "task_moved", "task_created",
                                                "mia_added", "p1_created"])
        self.assertEqual(self.listing("mia"), ["mia_personal", "task_moved", "task_created", "mia_added",
                                               "p1_created"])
        self.assertEqual(self.listing("xavier"), ["p2_created"])
        self.assertEqual(self.listing("admin"), ["gone_deleted", "p2_created", "task_moved", "task_created",
                                                 "mia_added", "p1_created"])

    def test_an_entry_as_written(self):
        r = get(f"/activity?entity_id={TASK}&limit=1", "mia")
        self.assertEqual(r.status, 200, r)
        item = r.json()["items"][0]
        self.assertEqual(item, {"id": E["task_moved"], "at": "2026-01-06T12:00:00Z", "actor_id": U["mia"][0]["id"],
                                "project_id": P1, "entity": "task", "entity_id": TASK, "action": "moved",
                                "changes": {"position": [0, 0], "status": ["todo", "in_progress"]}})
        self.assertIsNotNone(r.json()["next_cursor"])
        r = get(f"/activity?entity_id={PERSONAL_O}", "olga")
        self.assertIsNone(r.json()["items"][0]["actor_id"])

    def test_filters(self):
        uid = {n: U[n][0]["id"] for n in U}
        for query, expected in (
                (f"&project_id={P1}", ["task_moved", "task_created", "mia_added", "p1_created"]),
                ("&entity=member", ["mia_added"]),
                (f"&entity_id={TASK}", ["task_moved", "task_created"]),
                (f"&actor_id={uid['mia']}", ["task_moved", "task_created"]),
                (f"&actor_id={uid['olga']}&entity=project", ["p1_created"]),
                ("&from=2026-01-06", ["system_on_olga", "olga_personal", "task_moved"]),
                ("&to=2026-01-05T11:00:00Z", ["mia_added", "p1_created"]),  # `to` excluded
                ("&from=2026-01-05T11:00:00Z&to=2026-01-07", ["task_moved", "task_created"]),  # `from` included
                ("&from=2026-01-06T13:00:00%2B01:00&to=2026-01-06T13:00:01%2B01:00", ["task_moved"])):
            with self.subTest(query=query):
                self.assertEqual(self.listing("olga", query), expected)
        self.assertEqual(self.listing("admin", f"&project_id={GONE}"), ["gone_deleted"])

    def test_a_project_the_caller_cannot_see_is_404(self):
        for who, project in (("xavier", P1), ("mia", P2), ("olga", GONE), ("admin", str(uuid.uuid4()))):
            with self.subTest(who=who, project=project):
                r = get(f"/activity?project_id={project}", who)
                self.assertProblem(r, 404)
                self.assertEqual(r.json()["detail"], get(f"/activity?project_id={uuid.uuid4()}", who).json()["detail"])

    def test_bad_parameters(self):
        for query, status, field in (
                ("entity=user", 400, "entity"),
                ("entity_id=42", 400, "entity_id"),
                ("project_id=1%27%20OR%201=1--", 400, "project_id"),
                ("actor_id=", 400, "actor_id"),
                ("from=2026-02-30", 400, "from"),
                ("to=2026-01-01T25:00:00Z", 400, "to"),
                ("cursor=abc", 400, "cursor"),
                ("limit=0", 400, "limit"),
                ("order=asc", 422, "order")):
            with self.subTest(query=query):
                body = self.assertProblem(get(f"/activity?{query}", "olga"), (status,), query)
                self.assertIn(field, str(body))

    def test_pages_walk_every_entry_once(self):
        everything = self.listing("admin")
        for limit in (1, 2, 4):
            seen, cursor = [], None
            while True:
                r = get(f"/activity?limit={limit}" + (f"&cursor={cursor}" if cursor else ""), "admin")
                self.assertEqual(r.status, 200, r)
                seen += ids(r)
                cursor = r.json()["next_cursor"]
                if not cursor:
                    break
            self.assertEqual(seen, everything, limit)


class WrittenByTheRoutes(ApiCase):
    """The entries the project routes write (s7-projects) read back here, chained like the rest."""

    def test_a_project_created_then_deleted(self):
        r = S.post(f"{API}/projects", {"name": "routed"}, token=U["olga"][1])
        self.assertEqual(r.status, 201, r)
        pid = r.json()["id"]
        r = get(f"/activity?project_id={pid}", "olga")
        self.assertEqual(r.status, 200, r)
        self.assertEqual([(i["entity"], i["entity_id"], i["action"], i["actor_id"]) for i in r.json()["items"]],
                         [("project", pid, "created", U["olga"][0]["id"])])
        self.assertProblem(get(f"/activity?project_id={pid}", "xavier"), 404)
        self.assertEqual(S.request("DELETE", f"{API}/projects/{pid}", token=U["olga"][1]).status, 204)
        # The project is gone: its entries are the admin's to read, nobody else's.
        self.assertProblem(get(f"/activity?project_id={pid}", "olga"), 404)
        r = get(f"/activity?project_id={pid}", "admin")
        self.assertEqual([i["action"] for i in r.json()["items"]], ["deleted", "created"])
        self.assertEqual(get("/activity/verify", "admin").json()["ok"], True)
        S.sql("SET session_replication_role = replica; DELETE FROM activity WHERE project_id = "
              f"{q(pid)}; DELETE FROM activity_chains WHERE chain = {q(pid)}")  # as setUpModule left it


class Verify(ApiCase):
    def verify(self):
        r = get("/activity/verify", "admin")
        self.assertEqual(r.status, 200, r)
        return r.json()

    def tamper(self, sql):
        """Runs `sql` as the superuser with triggers off, returns what verify says, and puts
        the log back as it was."""
        S.sql("SET session_replication_role = replica; " + sql)
        try:
            return self.verify()
        finally:
            S.sql("SET session_replication_role = replica; DELETE FROM activity; DELETE FROM activity_chains;"
                  "INSERT INTO activity OVERRIDING SYSTEM VALUE SELECT * FROM saved.activity;"
                  "INSERT INTO activity_chains SELECT * FROM saved.activity_chains")
            self.assertEqual(self.verify()["ok"], True, "the log was not put back")

    def test_an_intact_log(self):
        self.assertEqual(self.verify(), {"ok": True, "checked": len(E), "first_bad_id": None})

    def test_each_kind_of_tampering_is_found(self):
        chain = f"project_id = {q(P1)}"  # p1_created, mia_added, task_created, task_moved
        for kind, sql, first_bad in (
                ("edited changes", f"UPDATE activity SET changes = '{{}}' WHERE id = {q(E['task_created'])}",
                 "task_created"),
                ("edited time", f"UPDATE activity SET at = at + interval '1 second' WHERE id = {q(E['mia_added'])}",
                 "mia_added"),
                ("edited actor", f"UPDATE activity SET actor_id = NULL WHERE id = {q(E['p2_created'])}", "p2_created"),
                ("edited and re-hashed",
                 f"UPDATE activity a SET action = 'viewed' WHERE id = {q(E['task_created'])};"
                 f"UPDATE activity a SET hash = activity_hash(a) WHERE id = {q(E['task_created'])}",
                 "task_moved"),  # its successor's prev_hash gives it away
                ("moved to another chain",
                 f"UPDATE activity SET chain = {q(P2)}, chain_seq = 2 WHERE id = {q(E['task_moved'])}",
                 "task_created"),  # P1's chain lost its tail: its last remaining entry comes first
                ("deleted in the middle", f"DELETE FROM activity WHERE id = {q(E['mia_added'])}", "task_created"),
                ("deleted first", f"DELETE FROM activity WHERE id = {q(E['p1_created'])}", "mia_added"),
                ("deleted last", f"DELETE FROM activity WHERE id = {q(E['task_moved'])}", "task_created"),
                ("deleted last and its head moved back",
                 f"DELETE FROM activity WHERE id = {q(E['task_moved'])};"
                 f"UPDATE activity_chains SET last_seq = 3 WHERE chain = {q(P1)}", "task_created"),
                ("reordered",
                 f"UPDATE activity SET chain_seq = -chain_seq WHERE {chain} AND chain_seq IN (2, 3);"
                 f"UPDATE activity SET chain_seq = 5 + chain_seq WHERE {chain} AND chain_seq IN (-2, -3)",
                 "mia_added"),
                ("a personal chain", f"UPDATE activity SET entity = 'project' WHERE id = {q(E['mia_personal'])}",
                 "mia_personal"),
                # A personal task's entries are the task's chain (migration 0012): the system's
                # entry was its last, so the one before it no longer matches the chain's head.
                ("the last of a personal task's chain",
                 f"DELETE FROM activity WHERE id = {q(E['system_on_olga'])}", "olga_personal"),
                ("a personal task's whole chain",
                 f"DELETE FROM activity WHERE entity_id = {q(PERSONAL_M)}", None),
                ("a deleted project's", f"UPDATE activity SET changes = '{{\"x\": [1, 2]}}' "
                                        f"WHERE id = {q(E['gone_deleted'])}", "gone_deleted")):
            with self.subTest(kind=kind):
                got = self.tamper(sql)
                expected_checked = len(E) - sql.count("DELETE FROM activity WHERE")
                self.assertEqual(got, {"ok": False, "checked": expected_checked,
                                       "first_bad_id": E[first_bad] if first_bad else None}, kind)

    def test_the_first_bad_entry_in_the_logs_order(self):
        got = self.tamper(f"UPDATE activity SET action = 'x' WHERE id IN ({q(E['task_moved'])}, {q(E['task_created'])})")
        self.assertEqual(got["first_bad_id"], E["task_created"])

    def test_members_may_not_verify(self):
        for who in ("olga", "mia"):
            self.assertProblem(get("/activity/verify", who), 403)
        self.assertProblem(S.get(f"{API}/activity/verify"), 401)


@unittest.skipUnless(AS_ROOT, "needs root: psql as the service user, whom peer auth maps to the app role")
class Privileges(ApiCase):
    """The API's database role appends to the log and reads it; it cannot change it."""

    def test_the_app_role_cannot_change_the_log(self):
        r = app_sql("SELECT count(*) FROM activity")
        self.assertEqual(r.returncode, 0, r.stderr)  # it logs in and reads: the refusals below are real
        self.assertEqual(r.stdout.strip(), str(len(E)))
        r = app_sql(f"BEGIN; INSERT INTO activity (actor_id, entity, entity_id, action) VALUES "
                    f"({q(U['olga'][0]['id'])}, 'task', {q(uuid.uuid4())}, 'created'); ROLLBACK")
        self.assertEqual(r.returncode, 0, r.stderr)
        before = S.sql("SELECT md5(string_agg(a::text, ',' ORDER BY seq)) FROM activity a")
        for sql in ("UPDATE activity SET action = 'x'",
                    f"UPDATE activity SET changes = '{{}}' WHERE id = {q(E['task_moved'])}",
                    "DELETE FROM activity",
                    f"DELETE FROM activity WHERE id = {q(E['task_moved'])}",
                    "TRUNCATE activity",
                    "SELECT * FROM activity_chains",
                    "UPDATE activity_chains SET last_seq = 0",
                    "DELETE FROM activity_chains",
                    "UPDATE task_status_history SET at = now()",
                    "DELETE FROM task_status_history",
                    "ALTER TABLE activity DISABLE TRIGGER activity_append_only",
                    "SET session_replication_role = replica"):
            with self.subTest(sql=sql):
                r = app_sql(sql)
                self.assertNotEqual(r.returncode, 0, f"{sql}: {r.stdout}")
                self.assertRegex(r.stderr, "42501|must be owner|permission denied", sql)
        self.assertEqual(S.sql("SELECT md5(string_agg(a::text, ',' ORDER BY seq)) FROM activity a"), before)
        self.assertTrue(get("/activity/verify", "admin").json()["ok"])

    def test_the_owner_role_cannot_either(self):
        # The trigger refuses it to the tables' owner too (only triggers off, as a superuser).
        for sql in ("UPDATE activity SET action = 'x'", "DELETE FROM activity", "TRUNCATE activity"):
            with self.subTest(sql=sql):
                with self.assertRaises(subprocess.CalledProcessError):
                    S.sql(f"SET ROLE rostrum_owner; {sql}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
