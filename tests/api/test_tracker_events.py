"""Team tracker events on /ws/events (issue 11; /work/shared/API.md "Team tracker" and
"WebSocket"): every member of a project, its owner included, gets `task.*` for the project's
tasks, with task.moved's payload {task_id, project_id, old_status, new_status, position,
actor_id}; nobody else does (a stranger, an admin who is neither owner nor member, a member
removed a moment ago); and a change that is rolled back (a refused batch, a refused move) sends
nothing at all.

"Nothing" is proven without sleeping: after the change, the test makes a MARKER event that the
same socket will get (its user creates a personal task: task.created to its creator only), and
asserts that the marker is the very next message, i.e. nothing came before it. Events are
delivered in seq order (API.md), so anything sent for the earlier change would come first.
"""
import asyncio
import json
import os
import sys
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from stack import Stack  # noqa: E402
from tracker import API, World  # noqa: E402

import websockets  # noqa: E402

S = None
W = None
RECV_TIMEOUT = 30


def setUpModule():
    global S, W
    S = Stack("tracker_events")
    W = World(S)
    # one more member, removed in one test
    for role in ("removed",):
        user, token, _ = S.new_user(name=f"Tracker {role}")
        W.users[role], W.tokens[role] = user, token


def tearDownModule():
    S.stop()


def url(role):
    return f"ws://127.0.0.1:{S.port}/ws/events?token={W.tok(role)}"


async def recv(ws, timeout=RECV_TIMEOUT):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


def call(method, path, body=None, role="owner"):
    return W.call(method, API + path, body, role=role)


class Events(unittest.TestCase):
    def marker(self, role):
        """A personal task of `role`: its task.created goes to that user alone. Returns its id."""
        return W.task(role, title="marker")["id"]

    async def assert_next_is_marker(self, ws, role, why):
        marker = self.marker(role)
        m = await recv(ws)
        self.assertEqual((m["event"], m["data"].get("task_id")), ("task.created", marker),
                         f"{why}: the socket of {role} got {m} before its marker")

    def test_member_and_owner_get_created_and_moved_with_the_contract_payload(self):
        p = W.project("owner", members=("member",))

        async def main():
            async with websockets.connect(url("member")) as member, websockets.connect(url("owner")) as owner:
                r = call("POST", "/tasks", {"title": "Evented", "project_id": p["id"]}, role="owner")
                self.assertEqual(r.status, 201, r)
                tid = r.json()["id"]
                r = call("POST", f"/tasks/{tid}/move", {"status": "in_progress", "position": 0}, role="member")
                self.assertEqual(r.status, 200, r)
                for ws, who in ((member, "member"), (owner, "owner")):
                    created = await recv(ws)
                    self.assertEqual(created["event"], "task.created", f"{who}: {created}")
                    self.assertEqual(created["data"]["task_id"], tid)
                    self.assertEqual(created["data"]["project_id"], p["id"])
                    self.assertEqual(created["data"]["actor_id"], W.uid("owner"))
                    moved = await recv(ws)
                    self.assertEqual(moved["event"], "task.moved", f"{who}: {moved}")
                    self.assertEqual(moved["data"], {"task_id": tid, "project_id": p["id"], "old_status": "todo",
                                                     "new_status": "in_progress", "position": 0,
                                                     "actor_id": W.uid("member")})
                    self.assertGreater(moved["seq"], created["seq"])
                # updated and deleted reach the member too, in order
                self.assertEqual(call("PATCH", f"/tasks/{tid}", {"priority": "high"}, role="owner").status, 200)
                self.assertEqual(call("DELETE", f"/tasks/{tid}", role="owner").status, 204)
                names = [(await recv(member))["event"] for _ in range(2)]
                self.assertEqual(names, ["task.updated", "task.deleted"])
                await self.assert_next_is_marker(member, "member", "after update and delete")

        asyncio.run(main())

    def test_stranger_and_admin_get_nothing_of_the_project(self):
        p = W.project("owner", members=("member",))

        async def main():
            async with websockets.connect(url("stranger")) as stranger, websockets.connect(url("admin")) as admin:
                r = call("POST", "/tasks", {"title": "Not yours", "project_id": p["id"]}, role="owner")
                self.assertEqual(r.status, 201, r)
                tid = r.json()["id"]
                self.assertEqual(call("POST", f"/tasks/{tid}/move", {"status": "done", "position": 0}).status, 200)
                self.assertEqual(call("PATCH", f"/projects/{p['id']}", {"name": "Renamed"}).status, 200)
                await self.assert_next_is_marker(stranger, "stranger", "a stranger")
                # an admin may read the project, but is not its audience (owner + members)
                await self.assert_next_is_marker(admin, "admin", "an admin who is not a member")

        asyncio.run(main())

    def test_a_removed_member_stops_getting_the_projects_events_at_once(self):
        p = W.project("owner", members=("member", "removed"))

        async def main():
            async with websockets.connect(url("removed")) as removed:
                r = call("POST", "/tasks", {"title": "Seen", "project_id": p["id"]}, role="owner")
                self.assertEqual(r.status, 201, r)
                seen = await recv(removed)
                self.assertEqual((seen["event"], seen["data"]["task_id"]), ("task.created", r.json()["id"]))
                r = call("PATCH", f"/projects/{p['id']}", {"member_ids": [W.uid("member")]}, role="owner")
                self.assertEqual(r.status, 200, r)
                # the removal itself may be announced to the one removed (project.updated):
                # read up to a first marker, allowing only that
                first = self.marker("removed")
                while True:
                    m = await recv(removed)
                    if m["event"] == "task.created" and m["data"].get("task_id") == first:
                        break
                    self.assertTrue(m["event"].startswith("project."), f"after the removal: {m}")
                r = call("POST", "/tasks", {"title": "Unseen", "project_id": p["id"]}, role="owner")
                self.assertEqual(r.status, 201, r)
                tid = r.json()["id"]
                self.assertEqual(call("POST", f"/tasks/{tid}/move", {"status": "review", "position": 0},
                                      role="member").status, 200)
                await self.assert_next_is_marker(removed, "removed", "a removed member")

        asyncio.run(main())

    def test_rolled_back_changes_send_nothing(self):
        p = W.project("owner", members=("member",), wip_limits={"review": 1})
        a = W.task("owner", project_id=p["id"])
        b = W.task("owner", project_id=p["id"], status="review")

        async def main():
            async with websockets.connect(url("member")) as member:
                # a batch whose last id is unknown: 404, and the first item's change is undone
                r = call("PATCH", "/tasks", [{"id": a["id"], "priority": "urgent"},
                                             {"id": str(uuid.uuid4()), "priority": "low"}], role="member")
                self.assertEqual(r.status, 404, r)
                # a batch with an invalid item at the end: 422
                r = call("PATCH", "/tasks", [{"id": a["id"], "title": "x"}, {"id": b["id"], "status": "blocked"}],
                         role="member")
                self.assertEqual(r.status, 422, r)
                # a batch delete with an unknown id: 404
                r = call("POST", "/tasks/batch-delete", {"ids": [a["id"], str(uuid.uuid4())]}, role="member")
                self.assertEqual(r.status, 404, r)
                # a move into the full review column: 409
                r = call("POST", f"/tasks/{a['id']}/move", {"status": "review", "position": 0}, role="member")
                self.assertEqual(r.status, 409, r)
                await self.assert_next_is_marker(member, "member", "after four refused changes")
                # and the forced move does go out
                r = call("POST", f"/tasks/{a['id']}/move", {"status": "review", "position": 0, "force": True},
                         role="member")
                self.assertEqual(r.status, 200, r)
                m = await recv(member)
                self.assertEqual((m["event"], m["data"]["task_id"], m["data"]["new_status"]),
                                 ("task.moved", a["id"], "review"))

        asyncio.run(main())
        t = call("GET", f"/tasks/{a['id']}", role="member").json()
        self.assertEqual((t["priority"], t["status"]), ("medium", "review"))

    def test_a_personal_tasks_events_go_to_its_creator_only(self):
        async def main():
            async with websockets.connect(url("owner")) as owner, websockets.connect(url("admin")) as admin:
                t = W.task("owner", title="Personal")
                m = await recv(owner)
                self.assertEqual((m["event"], m["data"]["task_id"], m["data"]["project_id"]),
                                 ("task.created", t["id"], None))
                self.assertEqual(call("POST", f"/tasks/{t['id']}/move", {"status": "done", "position": 0}).status, 200)
                m = await recv(owner)
                self.assertEqual((m["event"], m["data"]["project_id"], m["data"]["new_status"]),
                                 ("task.moved", None, "done"))
                await self.assert_next_is_marker(admin, "admin", "another user's personal task")

        asyncio.run(main())


if __name__ == "__main__":
    unittest.main()
