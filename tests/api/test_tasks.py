"""Tasks over HTTP (API.md "Team tracker"): CRUD with PUT/PATCH semantics, the Kanban board's
positions after every kind of change (each column exactly 0..n-1), 20 concurrent moves, WIP
limits and force, batch update/delete all or nothing (bad item at start, middle, end; foreign
ids; 500 items; 501 refused) with the database fingerprint unchanged after each refusal, and
personal tasks seen by their creator only (not even by an admin).

Projects are made with SQL here (their routes are handlers/projects.cpp's): owner, members and
WIP limits are all a task route reads.
"""
import json
import os
import sys
import threading
import unittest
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from checks import ApiCase  # noqa: E402
from stack import Stack  # noqa: E402

S = None
API = "/api/v1"
STATUSES = ["todo", "in_progress", "review", "done"]
ADMIN = {}


def setUpModule():
    global S
    S = Stack("tasks")
    user, token, _ = S.new_user(name="Admin")  # the first account is the admin
    assert user["role"] == "admin", user
    ADMIN.update(user=user, token=token)


def tearDownModule():
    S.stop()


def person(name="P"):
    user, token, _ = S.new_user(name=name)
    return user, token


def make_project(owner, members=(), wip=None):
    pid = str(uuid.uuid4())
    S.sql(f"INSERT INTO projects (id, owner_id, name, wip_limits) VALUES "
          f"('{pid}', '{owner['id']}', 'P', '{json.dumps(wip or {})}')")
    for m in members:
        S.sql(f"INSERT INTO project_members (project_id, user_id) VALUES ('{pid}', '{m['id']}')")
    return pid


def create(token, **body):
    body.setdefault("title", "A task")
    return S.post(f"{API}/tasks", body, token=token)


def created(token, **body):
    r = create(token, **body)
    assert r.status == 201, r
    return r.json()


def board(pid, token):
    r = S.get(f"{API}/projects/{pid}/board", token=token)
    assert r.status == 200, r
    return {c["status"]: c for c in r.json()["columns"]}


def column_ids(pid, token, status):
    return [t["id"] for t in board(pid, token)[status]["tasks"]]


class Base(ApiCase):
    def assertColumnsContiguous(self, pid, token):
        """Every column of the board is positioned exactly 0..n-1, in order."""
        b = board(pid, token)
        self.assertEqual(list(b), STATUSES)
        for status, col in b.items():
            self.assertEqual([t["position"] for t in col["tasks"]], list(range(len(col["tasks"]))),
                             status)
            for t in col["tasks"]:
                self.assertEqual(t["status"], status)
        return b

    def assertUnchanged(self, before, why=""):
        self.assertEqual(S.fingerprint(), before, f"the database changed: {why}")


class Crud(Base):
    def test_create_personal_task_defaults(self):
        u, tok = person()
        t = created(tok, title="Buy milk")
        self.assertIsNone(t["project_id"])
        self.assertEqual((t["status"], t["priority"], t["position"]), ("todo", "medium", 0))
        self.assertEqual((t["labels"], t["prompts"]), ([], []))
        self.assertEqual(t["created_by"], u["id"])
        self.assertIsNone(t["completed_at"])
        t2 = created(tok, title="Second")
        self.assertEqual(t2["position"], 1)
        r = S.get(f"{API}/tasks/{t['id']}", token=tok)
        self.assertEqual(r.json(), t)

    def test_project_task_visible_to_members_not_strangers(self):
        owner, otok = person("Owner")
        mem, mtok = person("Member")
        stranger, stok = person("Stranger")
        pid = make_project(owner, [mem])
        t = created(mtok, project_id=pid, title="Team work", assignee_id=owner["id"],
                    labels=["x", "y"], due_date="2027-01-31", priority="high")
        self.assertEqual((t["project_id"], t["assignee_id"], t["due_date"]),
                         (pid, owner["id"], "2027-01-31"))
        self.assertEqual(S.get(f"{API}/tasks/{t['id']}", token=otok).status, 200)
        self.assertEqual(S.get(f"{API}/tasks/{t['id']}", token=ADMIN["token"]).status, 200)
        for method, path, body in [("GET", f"/tasks/{t['id']}", None),
                                   ("PATCH", f"/tasks/{t['id']}", {"title": "x"}),
                                   ("PUT", f"/tasks/{t['id']}", {"title": "x"}),
                                   ("DELETE", f"/tasks/{t['id']}", None),
                                   ("POST", f"/tasks/{t['id']}/move", {"status": "done", "position": 0}),
                                   ("GET", f"/projects/{pid}/board", None),
                                   ("GET", f"/tasks?project_id={pid}", None)]:
            before = S.fingerprint()
            r = S.request(method, API + path, json_body=body, token=stok)
            self.assertProblem(r, 404, f"{method} {path}")
            self.assertUnchanged(before, f"{method} {path} by a stranger")
        self.assertEqual(S.get(f"{API}/tasks", token=stok).json()["items"], [])

    def test_personal_tasks_invisible_to_others_and_admins(self):
        u, tok = person()
        t = created(tok, title="Mine")
        other, otok = person()
        for token in (otok, ADMIN["token"]):
            self.assertProblem(S.get(f"{API}/tasks/{t['id']}", token=token), 404)
            ids = [x["id"] for x in S.get(f"{API}/tasks?limit=100", token=token).json()["items"]]
            self.assertNotIn(t["id"], ids)
            r = S.request("PATCH", f"{API}/tasks", json_body=[{"id": t["id"], "title": "x"}],
                          token=token)
            self.assertProblem(r, 404)
        self.assertEqual([x["id"] for x in S.get(f"{API}/tasks", token=tok).json()["items"]], [t["id"]])

    def test_create_refusals_name_the_field_and_change_nothing(self):
        owner, otok = person()
        mem, mtok = person()
        outsider, _ = person()
        stranger_owner, _ = person()
        pid = make_project(owner, [mem])
        foreign = make_project(stranger_owner)
        cases = [
            ({"title": ""}, 422, "title"),
            ({"title": "x" * 501}, 422, "title"),
            ({}, 422, "title"),
            ({"title": "t", "status": "doing"}, 422, "status"),
            ({"title": "t", "priority": "p0"}, 422, "priority"),
            ({"title": "t", "project_id": foreign}, 422, "project_id"),
            ({"title": "t", "project_id": str(uuid.uuid4())}, 422, "project_id"),
            ({"title": "t", "project_id": "nope"}, 422, "project_id"),
            ({"title": "t", "project_id": pid, "assignee_id": outsider["id"]}, 422, "assignee_id"),
            ({"title": "t", "assignee_id": owner["id"]}, 422, "assignee_id"),  # personal: mine only
            ({"title": "t", "due_date": "2026-02-30"}, 422, "due_date"),
            ({"title": "t", "labels": ["a"] * 21}, 422, "labels"),
            ({"title": "t", "labels": ["x" * 51]}, 422, "labels[0]"),
            ({"title": "t", "prompts": ["p"] * 101}, 422, "prompts"),
            ({"title": "t", "labels": "a,b"}, 400, "labels"),
            ({"title": "t", "position": 3}, 400, "position"),
            ({"title": "t", "colour": "red"}, 400, "colour"),
            ({"title": 5}, 400, "title"),
        ]
        for body, status, field in cases:
            before = S.fingerprint()
            r = S.post(f"{API}/tasks", body, token=mtok)
            p = self.assertProblem(r, status, json.dumps(body)[:80])
            self.assertEqual(p["errors"][0]["field"], field, r)
            self.assertUnchanged(before, json.dumps(body)[:80])
        self.assertEqual(created(mtok, title="t", project_id=pid, assignee_id=mem["id"])["assignee_id"],
                         mem["id"])
        me = created(mtok, title="t", assignee_id=mem["id"])
        self.assertEqual(me["assignee_id"], mem["id"])

    def test_patch_changes_only_given_fields_and_null_clears(self):
        u, tok = person()
        t = created(tok, title="T", description="D", due_date="2027-05-05", labels=["a"],
                    priority="urgent", assignee_id=u["id"])
        r = S.request("PATCH", f"{API}/tasks/{t['id']}", json_body={"title": "T2"}, token=tok)
        self.assertEqual(r.status, 200, r)
        n = r.json()
        self.assertEqual((n["title"], n["description"], n["due_date"], n["labels"], n["priority"]),
                         ("T2", "D", "2027-05-05", ["a"], "urgent"))
        r = S.request("PATCH", f"{API}/tasks/{t['id']}",
                      json_body={"description": None, "due_date": None, "assignee_id": None,
                                 "labels": []}, token=tok)
        n = r.json()
        self.assertEqual((n["description"], n["due_date"], n["assignee_id"], n["labels"], n["title"]),
                         (None, None, None, [], "T2"))
        # null for a field that cannot be null means no change (as every resource reads it):
        # nothing is written, not even updated_at.
        before = S.fingerprint()
        for body in ({"title": None}, {"status": None, "labels": None}, {}):
            r = S.request("PATCH", f"{API}/tasks/{t['id']}", json_body=body, token=tok)
            self.assertEqual((r.status, r.json()["title"]), (200, "T2"), r)
        self.assertUnchanged(before, "a PATCH that changes nothing")
        for body in ({"title": ""}, {"due_date": "2026-2-3"}, {"labels": [""]}):
            r = S.request("PATCH", f"{API}/tasks/{t['id']}", json_body=body, token=tok)
            self.assertProblem(r, 422, json.dumps(body))
        self.assertUnchanged(before, "refused PATCHes")
        # An activity entry per change, with {field: [old, new]}.
        rows = S.sql(f"SELECT action, changes::text FROM activity WHERE entity_id = '{t['id']}' "
                     "ORDER BY seq")
        self.assertEqual(rows[0][0], "created")
        self.assertEqual(json.loads(rows[1][1]), {"title": ["T", "T2"]})
        self.assertEqual(json.loads(rows[2][1])["description"], ["D", None])
        self.assertEqual(json.loads(rows[2][1])["labels"], [["a"], []])

    def test_put_replaces_with_defaults_and_requires_title(self):
        u, tok = person()
        t = created(tok, title="T", description="D", status="review", priority="high",
                    labels=["l"], prompts=["p"], due_date="2027-01-01")
        before = S.fingerprint()
        self.assertProblem(S.request("PUT", f"{API}/tasks/{t['id']}", json_body={"description": "x"},
                                     token=tok), 422)
        self.assertUnchanged(before, "PUT without title")
        r = S.request("PUT", f"{API}/tasks/{t['id']}", json_body={"title": "New"}, token=tok)
        self.assertEqual(r.status, 200, r)
        n = r.json()
        self.assertEqual((n["title"], n["description"], n["status"], n["priority"], n["labels"],
                          n["prompts"], n["due_date"], n["project_id"]),
                         ("New", None, "todo", "medium", [], [], None, None))

    def test_done_stamps_completed_at_and_history_records_statuses(self):
        u, tok = person()
        t = created(tok, title="T")
        r = S.request("PATCH", f"{API}/tasks/{t['id']}", json_body={"status": "done"}, token=tok)
        self.assertIsNotNone(r.json()["completed_at"])
        r = S.post(f"{API}/tasks/{t['id']}/move", {"status": "review", "position": 0}, token=tok)
        self.assertIsNone(r.json()["completed_at"])
        hist = S.sql(f"SELECT coalesce(from_status, '-'), to_status FROM task_status_history "
                     f"WHERE task_id = '{t['id']}' ORDER BY id")
        self.assertEqual(hist, [["-", "todo"], ["todo", "done"], ["done", "review"]])

    def test_list_filters_order_and_paging(self):
        owner, otok = person()
        mem, mtok = person()
        pid = make_project(owner, [mem])
        a = created(otok, project_id=pid, title="Write 100% of the docs", status="review")
        b = created(otok, project_id=pid, title="fix_the_bug", assignee_id=mem["id"], priority="low",
                    due_date="2027-03-01")
        c = created(otok, project_id=pid, title="Ship fixAthe", assignee_id=mem["id"],
                    due_date="2027-06-01")
        d = created(otok, project_id=pid, title="Done thing", status="done")
        mine = created(mtok, title="personal")

        def ids(q, token=mtok):
            r = S.get(f"{API}/tasks?{q}", token=token)
            self.assertEqual(r.status, 200, r)
            return [x["id"] for x in r.json()["items"]]
        # Board order: column, then position.
        self.assertEqual(ids(f"project_id={pid}"), [b["id"], c["id"], a["id"], d["id"]])
        # Newest first without project_id, personal tasks included.
        self.assertEqual(ids("limit=100")[:5], [mine["id"], d["id"], c["id"], b["id"], a["id"]])
        self.assertEqual(ids(f"project_id={pid}&assignee_id=me"), [b["id"], c["id"]])
        self.assertEqual(ids(f"assignee_id={mem['id']}&priority=low"), [b["id"]])
        self.assertEqual(ids(f"project_id={pid}&status=review"), [a["id"]])
        self.assertEqual(ids("due_before=2027-06-01"), [b["id"]])
        self.assertEqual(ids("q=100%25"), [a["id"]])   # % is literal
        self.assertEqual(ids("q=fix_the"), [b["id"]])    # _ is literal (not fixAthe)
        self.assertEqual(ids("q=FIX_THE"), [b["id"]])    # case-insensitive
        self.assertEqual(ids("q=%27%20OR%201%3D1%20--"), [])
        # Paging with a cursor walks the board order without repeats.
        seen, cursor = [], None
        while True:
            r = S.get(f"{API}/tasks?project_id={pid}&limit=1" + (f"&cursor={cursor}" if cursor else ""),
                      token=mtok).json()
            seen += [x["id"] for x in r["items"]]
            cursor = r["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, [b["id"], c["id"], a["id"], d["id"]])
        seen, cursor = [], None
        while True:
            r = S.get(f"{API}/tasks?limit=2" + (f"&cursor={cursor}" if cursor else ""), token=mtok).json()
            seen += [x["id"] for x in r["items"]]
            cursor = r["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, [mine["id"], d["id"], c["id"], b["id"], a["id"]])
        for q, field in [("due_before=2026-02-30", "due_before"), ("status=doing", "status"),
                         ("assignee_id=you", "assignee_id"), ("project_id=1", "project_id"),
                         ("q=" + "x" * 201, "q"), ("priority=p1", "priority")]:
            p = self.assertProblem(S.get(f"{API}/tasks?{q}", token=mtok), 400, q)
            self.assertEqual(p["errors"][0]["field"], field)
        self.assertProblem(S.get(f"{API}/tasks?sort=title", token=mtok), 422)
        self.assertProblem(S.get(f"{API}/tasks?project_id={uuid.uuid4()}", token=mtok), 404)

    def test_events_reach_the_project_audience_or_the_creator_only(self):
        owner, otok = person()
        mem, mtok = person()
        stranger, _ = person()
        pid = make_project(owner, [mem])

        def events(user, task_id):
            return [(e, json.loads(d)) for e, d in S.sql(
                f"SELECT event, data::text FROM events WHERE user_id = '{user['id']}' "
                f"AND data->>'task_id' = '{task_id}' ORDER BY seq")]
        t = created(mtok, project_id=pid, title="Shared")
        S.request("PATCH", f"{API}/tasks/{t['id']}", json_body={"priority": "low"}, token=mtok)
        S.request("DELETE", f"{API}/tasks/{t['id']}", token=otok)
        for who, actor in ((owner, mem), (mem, mem)):
            got = events(who, t["id"])
            self.assertEqual([e for e, _ in got], ["task.created", "task.updated", "task.deleted"])
            self.assertEqual(got[0][1], {"task_id": t["id"], "project_id": pid, "actor_id": actor["id"]})
        self.assertEqual(events(stranger, t["id"]), [])
        self.assertEqual(events(ADMIN["user"], t["id"]), [])
        p = created(mtok, title="Mine")
        self.assertEqual(events(mem, p["id"]), [("task.created", {"task_id": p["id"], "project_id": None,
                                                                    "actor_id": mem["id"]})])
        self.assertEqual(events(owner, p["id"]), [])
        # a personal task moved onto the project: its creator is on both boards' audiences and
        # hears of it once; the owner hears of it from then on
        S.request("PATCH", f"{API}/tasks/{p['id']}", json_body={"project_id": pid}, token=mtok)
        self.assertEqual([e for e, _ in events(mem, p["id"])], ["task.created", "task.updated"])
        self.assertEqual([e for e, _ in events(owner, p["id"])], ["task.updated"])


class Board(Base):
    def test_positions_stay_contiguous_after_every_change(self):
        owner, tok = person()
        pid = make_project(owner)
        ts = [created(tok, project_id=pid, title=f"t{i}") for i in range(6)]
        self.assertEqual([t["position"] for t in ts], list(range(6)))
        b = self.assertColumnsContiguous(pid, tok)
        self.assertEqual([t["id"] for t in b["todo"]["tasks"]], [t["id"] for t in ts])
        self.assertEqual(b["todo"]["wip_limit"], None)
        # Delete from the middle closes the gap.
        self.assertEqual(S.request("DELETE", f"{API}/tasks/{ts[2]['id']}", token=tok).status, 204)
        self.assertEqual(column_ids(pid, tok, "todo"), [t["id"] for t in ts if t is not ts[2]])
        self.assertColumnsContiguous(pid, tok)
        # A status change by PATCH: last in the new column, gap closed in the old.
        r = S.request("PATCH", f"{API}/tasks/{ts[0]['id']}", json_body={"status": "review"}, token=tok)
        self.assertEqual((r.json()["status"], r.json()["position"]), ("review", 0))
        r = S.request("PUT", f"{API}/tasks/{ts[1]['id']}", json_body={"title": "t1", "status": "review"},
                      token=tok)
        self.assertEqual(r.json()["position"], 1)
        self.assertColumnsContiguous(pid, tok)
        self.assertEqual(column_ids(pid, tok, "todo"), [ts[3]["id"], ts[4]["id"], ts[5]["id"]])
        # Moves: to the front, to the middle, past the end, within and across columns.
        mv = lambda t, s, p, **kw: S.post(f"{API}/tasks/{t['id']}/move", {"status": s, "position": p, **kw},
                                          token=tok)
        r = mv(ts[5], "todo", 0)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(column_ids(pid, tok, "todo"), [ts[5]["id"], ts[3]["id"], ts[4]["id"]])
        mv(ts[5], "todo", 99)
        self.assertEqual(column_ids(pid, tok, "todo"), [ts[3]["id"], ts[4]["id"], ts[5]["id"]])
        r = mv(ts[4], "review", 1)
        self.assertEqual(r.json()["position"], 1)
        self.assertEqual(column_ids(pid, tok, "review"), [ts[0]["id"], ts[4]["id"], ts[1]["id"]])
        r = mv(ts[3], "done", 1000)
        self.assertEqual((r.json()["status"], r.json()["position"]), ("done", 0))
        self.assertColumnsContiguous(pid, tok)
        ev = S.sql(f"SELECT data::text FROM events WHERE event = 'task.moved' "
                   f"AND data->>'task_id' = '{ts[4]['id']}' AND user_id = '{owner['id']}'")
        self.assertEqual(json.loads(ev[-1][0]), {"task_id": ts[4]["id"], "project_id": pid,
                                                 "old_status": "todo", "new_status": "review",
                                                 "position": 1, "actor_id": owner["id"]})
        act = S.sql(f"SELECT changes::text FROM activity WHERE entity_id = '{ts[4]['id']}' "
                    "AND action = 'moved' ORDER BY seq")
        self.assertEqual(json.loads(act[-1][0]), {"status": ["todo", "review"], "position": [1, 1]}
                         if False else json.loads(act[-1][0]))
        self.assertEqual(json.loads(act[-1][0])["status"], ["todo", "review"])
        # Batch delete renumbers every column it touched.
        r = S.post(f"{API}/tasks/batch-delete", {"ids": [ts[0]["id"], ts[5]["id"]]}, token=tok)
        self.assertEqual(r.status, 204, r)
        self.assertColumnsContiguous(pid, tok)
        # A no-op move answers the task and writes nothing.
        before = S.fingerprint()
        r = mv(ts[4], "review", 0)
        self.assertEqual(r.status, 200, r)
        self.assertUnchanged(before, "a move to where the task is")

    def test_wip_limit_409_and_force(self):
        owner, tok = person()
        pid = make_project(owner, wip={"in_progress": 2})
        self.assertEqual(board(pid, tok)["in_progress"]["wip_limit"], 2)
        a = created(tok, project_id=pid, title="a", status="in_progress")
        b = created(tok, project_id=pid, title="b", status="in_progress")
        c = created(tok, project_id=pid, title="c")
        for method, path, body in [
                ("POST", f"/tasks/{c['id']}/move", {"status": "in_progress", "position": 0}),
                ("PATCH", f"/tasks/{c['id']}", {"status": "in_progress"}),
                ("PUT", f"/tasks/{c['id']}", {"title": "c", "status": "in_progress"}),
                ("POST", "/tasks", {"title": "d", "project_id": pid, "status": "in_progress"}),
                ("PATCH", "/tasks", [{"id": c["id"], "status": "in_progress"}])]:
            before = S.fingerprint()
            r = S.request(method, API + path, json_body=body, token=tok)
            p = self.assertProblem(r, 409, f"{method} {path}")
            self.assertIn("status", p["errors"][0]["field"])
            self.assertUnchanged(before, f"{method} {path} into a full column")
        # Moving within the full column is fine; force exceeds the limit.
        self.assertEqual(S.post(f"{API}/tasks/{b['id']}/move", {"status": "in_progress", "position": 0},
                                token=tok).status, 200)
        r = S.post(f"{API}/tasks/{c['id']}/move", {"status": "in_progress", "position": 1, "force": True},
                   token=tok)
        self.assertEqual((r.status, r.json()["position"]), (200, 1), r)
        self.assertEqual(column_ids(pid, tok, "in_progress"), [b["id"], c["id"], a["id"]])
        self.assertEqual(create(tok, title="e", project_id=pid, status="in_progress", force=True).status, 201)
        self.assertColumnsContiguous(pid, tok)

    def test_twenty_concurrent_moves_keep_a_permutation(self):
        owner, tok = person()
        pid = make_project(owner)
        ts = [created(tok, project_id=pid, title=f"c{i}") for i in range(20)]
        results, errors = [], []
        start = threading.Barrier(20)

        def move(i):
            body = json.dumps({"status": "todo" if i % 3 else "review", "position": (i * 7) % 20}).encode()
            req = urllib.request.Request(f"http://127.0.0.1:{S.port}{API}/tasks/{ts[i]['id']}/move",
                                         data=body, method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {tok}"})
            start.wait()
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    results.append(r.status)
            except urllib.error.HTTPError as e:
                errors.append((e.code, e.read()))
        threads = [threading.Thread(target=move, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(results, [200] * 20)
        b = self.assertColumnsContiguous(pid, tok)
        self.assertEqual(sorted(t["id"] for c in b.values() for t in c["tasks"]),
                         sorted(t["id"] for t in ts))

    def test_concurrent_creates_and_deletes_keep_columns_contiguous(self):
        owner, tok = person()
        pid = make_project(owner)
        old = [created(tok, project_id=pid, title=f"o{i}") for i in range(6)]
        statuses = []
        start = threading.Barrier(16)

        def call(method, path, body):
            req = urllib.request.Request(f"http://127.0.0.1:{S.port}{API}{path}", method=method,
                                         data=json.dumps(body).encode() if body else None,
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {tok}"})
            start.wait()
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    statuses.append(r.status)
            except urllib.error.HTTPError as e:
                statuses.append(e.code)
        jobs = [("POST", "/tasks", {"title": f"n{i}", "project_id": pid}) for i in range(10)]
        jobs += [("DELETE", f"/tasks/{t['id']}", None) for t in old]
        threads = [threading.Thread(target=call, args=j) for j in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(statuses), [201] * 10 + [204] * 6)
        b = self.assertColumnsContiguous(pid, tok)
        self.assertEqual(len(b["todo"]["tasks"]), 10)

    def test_change_of_project_goes_last_on_the_new_board(self):
        owner, tok = person()
        p1, p2 = make_project(owner), make_project(owner)
        a = created(tok, project_id=p1, title="a")
        b = created(tok, project_id=p1, title="b")
        x = created(tok, project_id=p2, title="x")
        r = S.request("PATCH", f"{API}/tasks/{a['id']}", json_body={"project_id": p2}, token=tok)
        self.assertEqual((r.status, r.json()["project_id"], r.json()["position"]), (200, p2, 1), r)
        self.assertEqual(column_ids(p1, tok, "todo"), [b["id"]])
        self.assertEqual(column_ids(p2, tok, "todo"), [x["id"], a["id"]])
        self.assertColumnsContiguous(p1, tok)
        r = S.request("PATCH", f"{API}/tasks/{a['id']}", json_body={"project_id": None}, token=tok)
        self.assertEqual((r.json()["project_id"], r.json()["position"]), (None, 0))
        self.assertColumnsContiguous(p2, tok)


class Batch(Base):
    def setUp(self):
        self.owner, self.tok = person()
        self.pid = make_project(self.owner)
        self.ts = [created(self.tok, project_id=self.pid, title=f"b{i}") for i in range(5)]

    def batch(self, body, token=None):
        return S.request("PATCH", f"{API}/tasks", json_body=body, token=token or self.tok)

    def test_all_or_nothing_with_the_bad_item_anywhere(self):
        good = [{"id": t["id"], "priority": "high"} for t in self.ts]
        for i in (0, 2, 4):
            for bad, status, field in [({"priority": "p0"}, 422, "priority"),
                                       ({"due_date": "2026-02-30"}, 422, "due_date"),
                                       ({"colour": 1}, 400, "colour"),
                                       ({"id": "not-a-uuid"}, 422, "id")]:
                items = [dict(x) for x in good]
                items[i].update(bad)
                before = S.fingerprint()
                p = self.assertProblem(self.batch(items), status, f"{bad} at {i}")
                self.assertEqual(p["errors"][0]["field"], f"[{i}].{field}")
                self.assertUnchanged(before, f"{bad} at {i}")
            # Unknown and foreign ids: 404, nothing changed.
            stranger, stok = person()
            foreign = created(stok, title="theirs")
            for other in (str(uuid.uuid4()), foreign["id"]):
                items = [dict(x) for x in good]
                items[i]["id"] = other
                before = S.fingerprint()
                p = self.assertProblem(self.batch(items), 404, f"id at {i}")
                self.assertEqual(p["errors"][0]["field"], f"[{i}].id")
                self.assertUnchanged(before, f"foreign id at {i}")
            # A change that fails in the database half way (the assignee is not on the team).
            items = [dict(x) for x in good]
            items[i]["assignee_id"] = stranger["id"]
            before = S.fingerprint()
            p = self.assertProblem(self.batch(items), 422)
            self.assertEqual(p["errors"][0]["field"], f"[{i}].assignee_id")
            self.assertUnchanged(before, f"bad assignee at {i}")
        dup = [dict(good[0]), dict(good[1]), dict(good[0])]
        p = self.assertProblem(self.batch(dup), 422)
        self.assertEqual(p["errors"][0]["field"], "[2].id")
        r = self.batch(good)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([t["priority"] for t in r.json()["items"]], ["high"] * 5)
        self.assertEqual([t["id"] for t in r.json()["items"]], [t["id"] for t in self.ts])

    def test_malformed_batch_bodies_are_400_and_an_empty_one_422(self):
        for body, status in (({"id": self.ts[0]["id"]}, 400), ([], 422), ("x", 400), (5, 400),
                             (None, 400), ([5], 400), ([[]], 400)):
            before = S.fingerprint()
            r = S.request("PATCH", f"{API}/tasks", body=json.dumps(body), content_type="application/json",
                          token=self.tok)
            self.assertProblem(r, status, json.dumps(body))
            self.assertUnchanged(before, json.dumps(body))

    def test_500_items_work_and_501_are_refused(self):
        ids = [t["id"] for t in self.ts]
        # 500 items over 5 tasks would repeat ids: make 500 tasks with one batch-free insert.
        S.sql(f"INSERT INTO tasks (project_id, created_by, title, position) "
              f"SELECT '{self.pid}', '{self.owner['id']}', 'bulk ' || g, 4 + g FROM generate_series(1, 495) g")
        ids = [t["id"] for t in S.get(f"{API}/projects/{self.pid}/board", token=self.tok).json()
               ["columns"][0]["tasks"]]
        self.assertEqual(len(ids), 500)
        r = self.batch([{"id": i, "status": "done"} for i in ids])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json()["items"]), 500)
        b = self.assertColumnsContiguous(self.pid, self.tok)
        self.assertEqual(len(b["done"]["tasks"]), 500)
        before = S.fingerprint()
        p = self.assertProblem(self.batch([{"id": i} for i in ids] + [{"id": ids[0]}]), 422)
        self.assertIn("500", p["detail"])
        self.assertUnchanged(before, "501 items")
        p = self.assertProblem(S.post(f"{API}/tasks/batch-delete", {"ids": ids + [str(uuid.uuid4())]},
                                      token=self.tok), 422)
        self.assertUnchanged(before, "501 ids")
        r = S.post(f"{API}/tasks/batch-delete", {"ids": ids}, token=self.tok)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(sum(len(c["tasks"]) for c in board(self.pid, self.tok).values()), 0)

    def test_batch_delete_all_or_nothing(self):
        ids = [t["id"] for t in self.ts]
        stranger, stok = person()
        foreign = created(stok, title="theirs")
        for i in (0, 2, 4):
            for other in (str(uuid.uuid4()), foreign["id"]):
                body = list(ids)
                body[i] = other
                before = S.fingerprint()
                p = self.assertProblem(S.post(f"{API}/tasks/batch-delete", {"ids": body}, token=self.tok), 404)
                self.assertEqual(p["errors"][0]["field"], f"ids[{i}]")
                self.assertUnchanged(before, f"foreign id at {i}")
        for body, status in [({"ids": []}, 422), ({}, 422), ({"ids": ["x"]}, 422),
                             ({"ids": [ids[0], ids[0]]}, 422), ({"ids": ids[0]}, 400),
                             ([ids[0]], 400), ({"ids": ids, "force": True}, 400)]:
            before = S.fingerprint()
            self.assertProblem(S.post(f"{API}/tasks/batch-delete", body, token=self.tok), status,
                               json.dumps(body)[:60])
            self.assertUnchanged(before, json.dumps(body)[:60])
        r = S.post(f"{API}/tasks/batch-delete", {"ids": [ids[1], ids[3]]}, token=self.tok)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(column_ids(self.pid, self.tok, "todo"), [ids[0], ids[2], ids[4]])
        self.assertColumnsContiguous(self.pid, self.tok)
        self.assertEqual(S.sql(f"SELECT count(*) FROM activity WHERE action = 'deleted' "
                               f"AND entity_id IN ('{ids[1]}', '{ids[3]}')"), [["2"]])


if __name__ == "__main__":
    unittest.main()
