"""Projects and their members through nginx (issue 11): every route and status for admin,
owner, member and stranger, the caller's permissions, the 422s of bad member ids and WIP
limits, list filters and paging, member add/remove (tasks unassigned), ownership transfer,
activity entries in the same transaction (kept after a delete), events on /ws/events to the
project's audience only (a removed member hears once, then nothing), and project_id on
uploads and saved live streams. One stack; nothing sleeps to synchronise."""
import asyncio
import json
import os
import sys
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from checks import ApiCase  # noqa: E402
from stack import SOURCE, Stack  # noqa: E402

import websockets  # noqa: E402

API = "/api/v1"
S = None
ADMIN, OWNER, MEMBER, STRANGER = {}, {}, {}, {}
TONE = os.path.join(SOURCE, "tests/fixtures/audio/tone440_1s.wav")
with open(TONE, "rb") as f:
    WAV = f.read()
KEYS = {"id", "name", "description", "status", "owner_id", "member_ids", "wip_limits",
        "created_at", "updated_at", "permissions"}
ALL = {"edit": True, "delete": True, "manage_members": True}
NONE = {"edit": False, "delete": False, "manage_members": False}


def setUpModule():
    global S
    S = Stack("projects")
    for who in (ADMIN, OWNER, MEMBER, STRANGER):
        user, token, _ = S.new_user()
        who.update(id=user["id"], token=token)
    assert S.get(f"{API}/auth/me", token=ADMIN["token"]).json()["role"] == "admin"


def tearDownModule():
    S.stop()


def new_user():
    user, token, _ = S.new_user()
    return {"id": user["id"], "token": token}


def create(who, **body):
    body.setdefault("name", f"p-{uuid.uuid4().hex[:8]}")
    return S.post(f"{API}/projects", body, token=who["token"])


def made(who, **body):
    r = create(who, **body)
    assert r.status == 201, r
    return r.json()


def patch(who, pid, body):
    return S.request("PATCH", f"{API}/projects/{pid}", json_body=body, token=who["token"])


def add_member(who, pid, user_id):
    return S.post(f"{API}/projects/{pid}/members", {"user_id": user_id}, token=who["token"])


def remove_member(who, pid, user_id):
    return S.request("DELETE", f"{API}/projects/{pid}/members/{user_id}", token=who["token"])


def activity(pid):
    """(entity, entity_id, action, changes) of the project's entries, oldest first."""
    rows = S.sql(f"SELECT entity, entity_id, action, changes::text FROM activity "
                 f"WHERE project_id = '{pid}' ORDER BY seq")
    return [(e, i, a, json.loads(c)) for e, i, a, c in rows]


def task(pid, creator, assignee=None, position=0):
    """A task row of the project (the task routes are another helper's): its id."""
    a = f"'{assignee}'" if assignee else "NULL"
    return S.sql(f"INSERT INTO tasks (project_id, created_by, title, position, assignee_id) "
                 f"VALUES ('{pid}', '{creator}', 't', {position}, {a}) RETURNING id")[0][0]


def events_of(user_id, after=0):
    """The events stored for a user after seq `after`: (event, data)."""
    rows = S.sql(f"SELECT event, data::text FROM events WHERE user_id = '{user_id}' AND seq > {after} "
                 "ORDER BY seq")
    return [(e, json.loads(d)) for e, d in rows]


def last_seq():
    return int(S.sql("SELECT coalesce(max(seq), 0) FROM events")[0][0])


class Projects(ApiCase):
    def refused(self, r, status, field=None, why=""):
        body = self.assertProblem(r, status, why)
        if field is not None:
            self.assertIn(field, [e.get("field") for e in body.get("errors", [])], f"{why}: {r}")
        return body

    def unchanged_after(self, request, status, field=None):
        """The request is refused with `status` (naming `field`) and no row changes."""
        before = S.fingerprint()
        self.refused(request(), status, field, why=str(field))
        self.assertEqual(S.fingerprint(), before, f"{field}: the database changed")

    # --- reading, per role ------------------------------------------------------------------
    def test_create_answers_the_project_with_the_owners_permissions(self):
        r = create(OWNER, name="Launch", description="Q3", member_ids=[MEMBER["id"]],
                   wip_limits={"in_progress": 3, "review": 2})
        self.assertEqual(r.status, 201, r)
        p = r.json()
        self.assertEqual(set(p), KEYS)
        self.assertEqual(r.header("location"), f"{API}/projects/{p['id']}")
        self.assertEqual((p["name"], p["description"], p["status"], p["owner_id"]),
                         ("Launch", "Q3", "active", OWNER["id"]))
        self.assertEqual(p["member_ids"], [MEMBER["id"]])
        self.assertEqual(p["wip_limits"], {"in_progress": 3, "review": 2})
        self.assertEqual(p["permissions"], ALL)
        self.assertEqual(p["created_at"], p["updated_at"])

    def test_get_per_role_and_permissions(self):
        p = made(OWNER, member_ids=[MEMBER["id"]])
        for who, perms in ((OWNER, ALL), (ADMIN, ALL), (MEMBER, NONE)):
            r = S.get(f"{API}/projects/{p['id']}", token=who["token"])
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["permissions"], perms)
            self.assertEqual(r.json()["member_ids"], [MEMBER["id"]])
        unknown = S.get(f"{API}/projects/{uuid.uuid4()}", token=STRANGER["token"])
        theirs = S.get(f"{API}/projects/{p['id']}", token=STRANGER["token"])
        self.refused(theirs, 404)
        self.assertEqual(theirs.json()["detail"], unknown.json()["detail"])
        self.refused(S.get(f"{API}/projects/not-a-uuid", token=OWNER["token"]), 404)
        self.refused(S.get(f"{API}/projects/{p['id']}"), 401)

    def test_list_shows_what_the_caller_can_see_newest_first(self):
        p1 = made(OWNER, member_ids=[MEMBER["id"]])
        p2 = made(OWNER)
        ids = lambda who: [i["id"] for i in self.walk("", who, 100)]  # noqa: E731
        owner = ids(OWNER)
        self.assertLess(owner.index(p2["id"]), owner.index(p1["id"]), "newest first")
        self.assertIn(p1["id"], ids(MEMBER))
        self.assertNotIn(p2["id"], ids(MEMBER))
        self.assertNotIn(p1["id"], ids(STRANGER))
        self.assertLessEqual({p1["id"], p2["id"]}, set(ids(ADMIN)))
        items = {i["id"]: i for i in self.walk("", MEMBER, 100)}
        self.assertEqual(items[p1["id"]]["permissions"], NONE)

    def walk(self, query, who, limit):
        out, cursor = [], None
        while True:
            q = f"?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
            r = S.get(f"{API}/projects{q}", token=who["token"])
            self.assertEqual(r.status, 200, r)
            out += r.json()["items"]
            cursor = r.json()["next_cursor"]
            if not cursor:
                return out

    def test_list_filters_and_paging(self):
        u = new_user()
        names = ["100% done", "100 percent", "snake_case", "snakeXcase", "Alpha launch", "alpha"]
        made_ = {n: made(u, name=n)["id"] for n in names}
        made(u, name="archived alpha", status="archived")

        def names_for(query):
            return sorted(i["name"] for i in self.walk(query, u, 100))

        self.assertEqual(names_for("&q=%25"), ["100% done"], "% is literal")
        self.assertEqual(names_for("&q=_"), ["snake_case"], "_ is literal")
        self.assertEqual(names_for("&q=ALPHA"), ["Alpha launch", "alpha", "archived alpha"])
        self.assertEqual(names_for("&q=alpha&status=active"), ["Alpha launch", "alpha"])
        self.assertEqual(names_for("&status=archived"), ["archived alpha"])
        self.refused(S.get(f"{API}/projects?status=bogus", token=u["token"]), 400, "status")
        self.refused(S.get(f"{API}/projects?sort=name", token=u["token"]), 422, "sort")
        everything = [i["id"] for i in self.walk("", u, 100)]
        self.assertEqual(len(everything), len(names) + 1)
        for limit in (1, 2, 3):
            self.assertEqual([i["id"] for i in self.walk("", u, limit)], everything)
        self.assertLessEqual(set(made_.values()), set(everything))

    # --- changes, per role --------------------------------------------------------------------
    def test_patch_statuses_per_role(self):
        p = made(OWNER, member_ids=[MEMBER["id"]], description="d")
        pid = p["id"]
        self.unchanged_after(lambda: patch(MEMBER, pid, {"name": "x"}), 403)
        self.unchanged_after(lambda: patch(STRANGER, pid, {"name": "x"}), 404)
        self.unchanged_after(lambda: patch(STRANGER, pid, {"name": ""}), 404)  # who before what
        self.unchanged_after(lambda: patch(MEMBER, pid, {"bogus": 1}), 403)
        r = patch(OWNER, pid, {"name": "renamed", "status": "completed", "description": None,
                               "wip_limits": {"todo": 5}})
        self.assertEqual(r.status, 200, r)
        q = r.json()
        self.assertEqual((q["name"], q["status"], q["description"], q["wip_limits"]),
                         ("renamed", "completed", None, {"todo": 5}))
        self.assertEqual(q["member_ids"], [MEMBER["id"]])
        self.assertGreaterEqual(q["updated_at"], p["updated_at"])  # api_time: seconds
        r = patch(ADMIN, pid, {"wip_limits": {}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["wip_limits"], {})
        self.assertEqual(r.json()["permissions"], ALL)
        self.refused(patch(OWNER, "not-a-uuid", {"name": "x"}), 404)

    def test_delete_statuses_per_role_tasks_go_activity_stays(self):
        p = made(OWNER, member_ids=[MEMBER["id"]])
        pid = p["id"]
        t = task(pid, MEMBER["id"], MEMBER["id"])
        for who, status in ((MEMBER, 403), (STRANGER, 404)):
            self.unchanged_after(
                lambda: S.request("DELETE", f"{API}/projects/{pid}", token=who["token"]), status)
        r = S.request("DELETE", f"{API}/projects/{pid}", token=ADMIN["token"])
        self.assertEqual(r.status, 204, r)
        self.refused(S.get(f"{API}/projects/{pid}", token=OWNER["token"]), 404)
        self.refused(S.request("DELETE", f"{API}/projects/{pid}", token=OWNER["token"]), 404)
        self.assertEqual(S.sql(f"SELECT count(*) FROM tasks WHERE id = '{t}'"), [["0"]])
        self.assertEqual(S.sql(f"SELECT count(*) FROM project_members WHERE project_id = '{pid}'"), [["0"]])
        entries = activity(pid)
        self.assertEqual([(e, a) for e, _, a, _ in entries],
                         [("project", "created"), ("member", "added"), ("project", "deleted")])
        deleted = entries[-1][3]
        self.assertEqual(deleted["name"], [p["name"], None])
        self.assertEqual(deleted["owner_id"], [OWNER["id"], None])
        self.assertEqual(S.sql(f"SELECT actor_id FROM activity WHERE project_id = '{pid}' "
                               "AND action = 'deleted'"), [[ADMIN["id"]]])

    # --- validation -----------------------------------------------------------------------------
    def test_create_refusals_name_the_field_and_store_nothing(self):
        gone = new_user()
        S.request("PATCH", f"{API}/users/{gone['id']}", json_body={"is_active": False},
                  token=ADMIN["token"])
        cases = [
            ({"name": ""}, 422, "name"),
            ({"name": "x" * 201}, 422, "name"),
            ({"description": "no name"}, 422, "name"),
            ({"name": 5}, 400, "name"),
            ({"name": "a", "status": "paused"}, 422, "status"),
            ({"name": "a", "member_ids": [MEMBER["id"], STRANGER["id"], str(uuid.uuid4())]}, 422, "member_ids[2]"),
            ({"name": "a", "member_ids": [gone["id"]]}, 422, "member_ids[0]"),
            ({"name": "a", "member_ids": [OWNER["id"]]}, 422, "member_ids[0]"),
            ({"name": "a", "member_ids": ["not-a-uuid"]}, 422, "member_ids[0]"),
            ({"name": "a", "member_ids": [MEMBER["id"], 7]}, 400, "member_ids[1]"),
            ({"name": "a", "member_ids": MEMBER["id"]}, 400, "member_ids"),
            ({"name": "a", "wip_limits": {"doing": 2}}, 422, "wip_limits.doing"),
            ({"name": "a", "wip_limits": {"todo": 0}}, 422, "wip_limits.todo"),
            ({"name": "a", "wip_limits": {"review": -1}}, 422, "wip_limits.review"),
            ({"name": "a", "wip_limits": {"done": 1.5}}, 400, "wip_limits.done"),
            ({"name": "a", "wip_limits": {"todo": "3"}}, 400, "wip_limits.todo"),
            ({"name": "a", "wip_limits": [1]}, 400, "wip_limits"),
            ({"name": "a", "owner_id": STRANGER["id"]}, 400, "owner_id"),
            ({"name": "a", "colour": "red"}, 400, "colour"),
        ]
        for body, status, field in cases:
            with self.subTest(field=field, body=body):
                self.unchanged_after(
                    lambda: S.post(f"{API}/projects", body, token=OWNER["token"]), status, field)
        self.assertEqual(create(OWNER, name="x" * 200).status, 201)

    def test_patch_refusals_name_the_field_and_change_nothing(self):
        pid = made(OWNER, member_ids=[MEMBER["id"]])["id"]
        cases = [
            ({"name": ""}, 422, "name"),
            ({"member_ids": [MEMBER["id"], str(uuid.uuid4())]}, 422, "member_ids[1]"),
            ({"member_ids": [OWNER["id"]]}, 422, "member_ids[0]"),
            ({"wip_limits": {"blocked": 1}}, 422, "wip_limits.blocked"),
            ({"owner_id": STRANGER["id"]}, 422, "owner_id"),
            ({"owner_id": "x"}, 422, "owner_id"),
            ({"user_id": MEMBER["id"]}, 400, "user_id"),
        ]
        for body, status, field in cases:
            with self.subTest(field=field):
                self.unchanged_after(lambda: patch(OWNER, pid, body), status, field)

    # --- members ----------------------------------------------------------------------------
    def test_members_add_remove_statuses(self):
        pid = made(OWNER)["id"]
        extra = new_user()
        self.unchanged_after(lambda: add_member(STRANGER, pid, extra["id"]), 404)
        r = add_member(OWNER, pid, MEMBER["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["member_ids"], [MEMBER["id"]])
        self.unchanged_after(lambda: add_member(MEMBER, pid, extra["id"]), 403)
        before = S.fingerprint()
        again = add_member(OWNER, pid, MEMBER["id"])  # idempotent
        self.assertEqual((again.status, again.json()["member_ids"]), (200, [MEMBER["id"]]))
        self.assertEqual(S.fingerprint(), before)
        self.unchanged_after(lambda: add_member(OWNER, pid, OWNER["id"]), 409, "user_id")
        self.unchanged_after(lambda: add_member(OWNER, pid, str(uuid.uuid4())), 422, "user_id")
        self.unchanged_after(lambda: S.post(f"{API}/projects/{pid}/members", {}, token=OWNER["token"]),
                             422, "user_id")
        self.assertEqual(add_member(ADMIN, pid, extra["id"]).status, 200)
        self.unchanged_after(lambda: remove_member(MEMBER, pid, extra["id"]), 403)
        self.unchanged_after(lambda: remove_member(STRANGER, pid, extra["id"]), 404)
        self.unchanged_after(lambda: remove_member(OWNER, pid, OWNER["id"]), 409, "user_id")
        self.unchanged_after(lambda: remove_member(OWNER, pid, STRANGER["id"]), 404)
        self.assertEqual(remove_member(OWNER, pid, extra["id"]).status, 204)
        self.unchanged_after(lambda: remove_member(OWNER, pid, extra["id"]), 404)
        self.refused(S.get(f"{API}/projects/{pid}", token=extra["token"]), 404)
        self.refused(remove_member(OWNER, pid, "nope"), 404)

    def test_removing_a_member_unassigns_their_tasks_in_that_project_only(self):
        gone = new_user()
        pid = made(OWNER, member_ids=[gone["id"], MEMBER["id"]])["id"]
        other = made(OWNER, member_ids=[gone["id"]])["id"]
        mine = [task(pid, OWNER["id"], gone["id"], i) for i in range(2)]
        kept = task(pid, OWNER["id"], MEMBER["id"], 2)
        elsewhere = task(other, OWNER["id"], gone["id"])
        self.assertEqual(remove_member(OWNER, pid, gone["id"]).status, 204)
        assignee = lambda t: S.sql(f"SELECT coalesce(assignee_id::text, '-') FROM tasks WHERE id = '{t}'")[0][0]  # noqa: E731
        self.assertEqual([assignee(t) for t in mine], ["-", "-"])
        self.assertEqual(assignee(kept), MEMBER["id"])
        self.assertEqual(assignee(elsewhere), gone["id"])
        entries = activity(pid)
        self.assertIn(("member", gone["id"], "removed", {}), entries)
        for t in mine:
            self.assertIn(("task", t, "updated", {"assignee_id": [gone["id"], None]}), entries)
        self.assertFalse([e for e in entries if e[1] == kept and e[0] == "task"])
        # PATCH member_ids does the same
        self.assertEqual(patch(OWNER, other, {"member_ids": []}).status, 200)
        self.assertEqual(assignee(elsewhere), "-")

    def test_patch_member_ids_replaces_the_set_with_entries(self):
        a, b, c = new_user(), new_user(), new_user()
        pid = made(OWNER, member_ids=[a["id"], b["id"]])["id"]
        r = patch(OWNER, pid, {"member_ids": [b["id"], c["id"], c["id"]]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(sorted(r.json()["member_ids"]), sorted([b["id"], c["id"]]))
        entries = activity(pid)
        self.assertIn(("member", a["id"], "removed", {}), entries)
        self.assertIn(("member", c["id"], "added", {}), entries)
        self.assertEqual([e for e in entries if e[0] == "project" and e[2] == "updated"], [],
                         "a member change is recorded as member entries only")

    def test_ownership_transfer(self):
        heir = new_user()
        pid = made(OWNER, member_ids=[heir["id"], MEMBER["id"]])["id"]
        self.unchanged_after(lambda: patch(MEMBER, pid, {"owner_id": MEMBER["id"]}), 403)
        r = patch(OWNER, pid, {"owner_id": heir["id"]})
        self.assertEqual(r.status, 200, r)
        p = r.json()
        self.assertEqual(p["owner_id"], heir["id"])
        self.assertEqual(sorted(p["member_ids"]), sorted([MEMBER["id"], OWNER["id"]]))
        self.assertEqual(p["permissions"], NONE, "the previous owner is a member now")
        self.assertEqual(S.get(f"{API}/projects/{pid}", token=heir["token"]).json()["permissions"], ALL)
        self.assertIn({"owner_id": [OWNER["id"], heir["id"]]},
                      [c for e, _, a, c in activity(pid) if e == "project" and a == "updated"])
        self.refused(patch(OWNER, pid, {"name": "mine again"}), 403)
        # with member_ids in the same request, that is the exact member set
        # and a caller who leaves itself out sees nothing more of it: 204
        r = patch(heir, pid, {"owner_id": MEMBER["id"], "member_ids": []})
        self.assertEqual(r.status, 204, r)
        p = S.get(f"{API}/projects/{pid}", token=MEMBER["token"]).json()
        self.assertEqual((p["owner_id"], p["member_ids"], p["permissions"]), (MEMBER["id"], [], ALL))
        for who in (OWNER, heir):
            self.refused(S.get(f"{API}/projects/{pid}", token=who["token"]), 404)

    # --- activity and events ---------------------------------------------------------------
    def test_activity_entries_of_create_and_patch(self):
        pid = made(OWNER, name="Act", member_ids=[MEMBER["id"]], wip_limits={"todo": 2})["id"]
        self.assertEqual(patch(OWNER, pid, {"name": "Act 2", "status": "archived"}).status, 200)
        self.assertEqual(patch(OWNER, pid, {"name": "Act 2"}).status, 200)  # no change: no entry
        entries = activity(pid)
        self.assertEqual(entries[0][:3], ("project", pid, "created"))
        self.assertEqual(entries[0][3], {"name": [None, "Act"], "status": [None, "active"],
                                         "owner_id": [None, OWNER["id"]], "wip_limits": [None, {"todo": 2}]})
        self.assertEqual(entries[1], ("member", MEMBER["id"], "added", {}))
        self.assertEqual(entries[2], ("project", pid, "updated",
                                      {"name": ["Act", "Act 2"], "status": ["active", "archived"]}))
        self.assertEqual(len(entries), 3)
        self.assertEqual(S.sql(f"SELECT DISTINCT actor_id FROM activity WHERE project_id = '{pid}'"),
                         [[OWNER["id"]]])

    def test_events_reach_the_audience_only(self):
        """Stored per recipient: owner and members (not an admin who is neither, not a
        stranger); a removed member gets project.updated once, then nothing."""
        leaver, joiner = new_user(), new_user()
        start = last_seq()
        pid = made(OWNER, member_ids=[MEMBER["id"], leaver["id"]])["id"]
        self.assertEqual(remove_member(OWNER, pid, leaver["id"]).status, 204)
        self.assertEqual(add_member(OWNER, pid, joiner["id"]).status, 200)
        self.assertEqual(patch(OWNER, pid, {"name": "after"}).status, 200)
        self.assertEqual(S.request("DELETE", f"{API}/projects/{pid}", token=OWNER["token"]).status, 204)
        names = lambda u: [e for e, d in events_of(u["id"], start) if d.get("project_id") == pid]  # noqa: E731
        full = ["project.created", "project.updated", "project.updated", "project.updated", "project.deleted"]
        self.assertEqual(names(OWNER), full)
        self.assertEqual(names(MEMBER), full)
        self.assertEqual(names(leaver), ["project.created", "project.updated"])
        self.assertEqual(names(joiner), ["project.updated", "project.updated", "project.deleted"])
        self.assertEqual(names(STRANGER), [])
        self.assertEqual(names(ADMIN), [])
        data = [d for e, d in events_of(OWNER["id"], start) if d.get("project_id") == pid][0]
        self.assertEqual(data, {"project_id": pid, "actor_id": OWNER["id"]})

    def test_events_on_the_socket_member_yes_stranger_and_removed_no(self):
        leaver = new_user()
        pid = made(OWNER, member_ids=[MEMBER["id"], leaver["id"]])["id"]
        url = lambda who: f"ws://127.0.0.1:{S.port}/ws/events?token={who['token']}"  # noqa: E731

        async def until_marker(ws, marker):
            got = []
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if m["event"] == "test.marker" and m["data"].get("n") == marker:
                    return got
                got.append(m["event"])

        def mark(who, n):
            S.sql(f"WITH e AS (INSERT INTO events (user_id, event, data) VALUES ('{who['id']}', "
                  f"'test.marker', '{{\"n\": {n}}}'::jsonb) RETURNING seq, user_id, event, data) "
                  "SELECT pg_notify('rostrum_events', json_build_object('seq', seq, 'user_id', "
                  "user_id, 'event', event, 'data', data)::text) FROM e")

        async def main():
            async with websockets.connect(url(MEMBER)) as member, \
                    websockets.connect(url(STRANGER)) as stranger, \
                    websockets.connect(url(leaver)) as removed:
                self.assertEqual(remove_member(OWNER, pid, leaver["id"]).status, 204)
                self.assertEqual(patch(OWNER, pid, {"name": "later"}).status, 200)
                for who in (MEMBER, STRANGER, leaver):
                    mark(who, 1)
                self.assertEqual(await until_marker(member, 1), ["project.updated", "project.updated"])
                self.assertEqual(await until_marker(stranger, 1), [])
                self.assertEqual(await until_marker(removed, 1), ["project.updated"])

        asyncio.run(main())

    # --- sessions linked to a project -----------------------------------------------------
    def test_upload_project_id_must_be_a_visible_project(self):
        pid = made(OWNER, member_ids=[MEMBER["id"]])["id"]
        files = S.audio_files()
        for who, project in ((STRANGER, pid), (OWNER, str(uuid.uuid4()))):
            before = S.fingerprint()
            r = S.request("POST", f"{API}/sessions?project_id={project}", body=WAV,
                          content_type="audio/wav", token=who["token"])
            self.refused(r, 422, "project_id")
            self.assertEqual(S.fingerprint(), before)
            self.assertEqual(S.audio_files(), files)
        for who in (OWNER, MEMBER):
            r = S.request("POST", f"{API}/sessions?project_id={pid}", body=WAV,
                          content_type="audio/wav", token=who["token"])
            self.assertEqual(r.status, 202, r)
            self.assertEqual(r.json()["project_id"], pid)

    def test_live_save_project_id_must_be_a_visible_project(self):
        pid = made(OWNER)["id"]
        headers = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                   "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
        for who, project in ((STRANGER, pid), (OWNER, str(uuid.uuid4())), (OWNER, "nope")):
            before = S.fingerprint()
            r = S.get(f"/ws/transcribe?token={who['token']}&save=1&project_id={project}", headers=headers)
            self.refused(r, 422, "project_id")
            self.assertEqual(S.fingerprint(), before)
        r = S.get(f"/ws/transcribe?token={OWNER['token']}&project_id={pid}", headers=headers)
        self.refused(r, 400, "project_id")  # only with save=1

        async def save():
            async with websockets.connect(f"ws://127.0.0.1:{S.port}/ws/transcribe?token={OWNER['token']}"
                                          f"&save=1&project_id={pid}", max_size=None) as ws:
                await ws.send(json.dumps({"config": {"sample_rate": 16000}}))
                await ws.send(b"\0\0" * 16000)
                await asyncio.wait_for(ws.recv(), 30)
                await ws.send('{"eof": 1}')
                while True:
                    m = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if "session_id" in m:
                        return m["session_id"]

        sid = asyncio.run(save())
        s = S.get(f"{API}/sessions/{sid}", token=OWNER["token"]).json()
        self.assertEqual(s["project_id"], pid)


if __name__ == "__main__":
    unittest.main(verbosity=2)
