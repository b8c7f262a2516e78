"""The team tracker's test world (issue 11), shared by tests/api/test_tracker_*.py: the four
roles of /work/shared/API.md's "Team tracker" section (an admin who is not in the project, its
owner, a member, a stranger), and small makers for projects and tasks that fail loudly when the
route they rely on does not answer as the contract says.

Written against API.md, not against the implementation: every expectation here is the
document's."""
import uuid

API = "/api/v1"
STATUSES = ("todo", "in_progress", "review", "done")
ROLES = ("admin", "owner", "member", "stranger")


class World:
    """Users of one stack: the admin is the first account of the stack (call World(S) before
    anything else registers)."""

    def __init__(self, stack):
        self.S = stack
        self.users, self.tokens = {}, {}
        for role in ROLES:
            user, token, _ = stack.new_user(name=f"Tracker {role}")
            self.users[role], self.tokens[role] = user, token
        assert self.users["admin"]["role"] == "admin", self.users["admin"]
        assert self.users["owner"]["role"] == "member", self.users["owner"]

    def uid(self, role):
        return self.users[role]["id"]

    def tok(self, role):
        return self.tokens[role]

    def call(self, method, path, body=None, role=None, token=None, raw=None, content_type=None):
        """One request as `role` (or with `token`); body is JSON, raw bytes go as they are."""
        token = token if token is not None else (self.tokens[role] if role else None)
        if raw is not None:
            return self.S.request(method, path, body=raw, token=token,
                                  content_type=content_type or "application/json")
        return self.S.request(method, path, json_body=body, token=token, content_type=content_type)

    def project(self, role="owner", members=("member",), **fields):
        """A project of `role` with `members` (roles or user ids); returns its JSON."""
        ids = [self.uid(m) if m in self.users else m for m in members]
        body = {"name": f"Project {uuid.uuid4().hex[:8]}", "member_ids": ids}
        body.update(fields)
        r = self.call("POST", f"{API}/projects", body, role=role)
        assert r.status == 201, f"POST /projects as {role}: {r}"
        return r.json()

    def task(self, role="owner", project_id=None, **fields):
        """A task created by `role` (personal when project_id is None); returns its JSON."""
        body = {"title": f"Task {uuid.uuid4().hex[:8]}"}
        if project_id:
            body["project_id"] = project_id
        body.update(fields)
        r = self.call("POST", f"{API}/tasks", body, role=role)
        assert r.status == 201, f"POST /tasks as {role}: {r}"
        return r.json()

    def columns(self, board_id):
        """{status: [positions in order]} of a board, read from the database (the truth): the
        numbered tasks' positions, then the appended ones' (position NULL, migration 0012) as
        the API computes them, in rank order."""
        rows = self.S.sql("SELECT status, coalesce(position, task_tail_position(board_id, status, rank)) "
                          f"FROM tasks WHERE board_id = '{board_id}' ORDER BY status, position, rank")
        out = {}
        for status, pos in rows:
            out.setdefault(status, []).append(int(pos))
        return out

    def assert_permutations(self, case, board_id):
        """Every column of the board holds positions 0..n-1, no gap, no duplicate."""
        for status, positions in self.columns(board_id).items():
            case.assertEqual(positions, list(range(len(positions))),
                             f"column {status} of board {board_id}: positions {positions}")
