"""Who may do what on the team tracker (issue 11), as /work/shared/API.md's "Team tracker"
section says, through nginx, for the four roles: an admin who is neither owner nor member, the
project's owner, a member, and a stranger.

The access matrix is a TABLE (MATRIX below: one row per route and kind of target, one expected
status per role). test_every_served_tracker_route_has_a_row reads the served OpenAPI document
and fails for any tracker operation (under /projects, /tasks, /activity, /reports) that has no
row, so a new route cannot forget its access rules. Every refusal in the table is a problem+json
and leaves the database fingerprint (every table's rows) as it was.

The rules the table spells out (API.md):
- a project is visible to its owner, its members and admins; anyone else gets 404;
- owner and admin change or delete the project and its members; a member doing that gets 403;
- members (and owner, and admin) read the project and create, edit, move and delete its tasks;
- a personal task (no project_id) is its creator's alone: everyone else 404, admins included;
- POST /tasks with a project the caller cannot see: 422 naming project_id (not a 404: the
  target of the request is the collection);
- /activity/verify is admin-only (403 for everybody else, who are all authenticated).

Also here (one stack per file): the `permissions` each role is shown, what the lists show to
whom, and the Kanban stress test (20 concurrent moves in one column, positions a permutation).
"""
import os
import random
import re
import sys
import threading
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from checks import ApiCase  # noqa: E402
from stack import SOURCE, Stack  # noqa: E402
from tracker import API, ROLES, World  # noqa: E402

S = None
W = None
DOC = {}
with open(os.path.join(SOURCE, "tests/fixtures/audio/tone440_1s.wav"), "rb") as f:
    WAV = f.read()

TRACKER_PREFIXES = (f"{API}/projects", f"{API}/tasks", f"{API}/activity", f"{API}/reports")


def setUpModule():
    global S, W
    S = Stack("tracker_access")
    W = World(S)
    r = S.get(f"{API}/openapi.json")
    assert r.status == 200, r
    DOC.update(r.json())


def tearDownModule():
    S.stop()


# --- the targets a row acts on --------------------------------------------------------------------

def fixture():
    """A fresh project of `owner` with `member`, a task of it (created by the member), a second
    one, and a personal task of the owner: the ids a row's path and body use."""
    p = W.project("owner", members=("member",))
    if ("POST", f"{API}/tasks") in served():
        t = W.task("member", project_id=p["id"])
        t2 = W.task("owner", project_id=p["id"])
        mine = W.task("owner")
    else:  # no task routes yet: the rows of the routes that are served still run
        t, t2, mine = ({"id": str(uuid.uuid4())} for _ in range(3))
    return {"pid": p["id"], "tid": t["id"], "tid2": t2["id"], "ptid": mine["id"],
            "member_id": W.uid("member"), "stranger_id": W.uid("stranger")}


def row(method, path, expect, body=None, raw=None, fresh=True, optional=False, name=None):
    """One line of the matrix. expect: {role: status}; path and body take the fixture's ids
    ({pid}, {tid}, {tid2}, {ptid}, {member_id}, {stranger_id}); body may be a function of them.
    fresh: the row changes its target, so every role gets a new fixture. optional: a route
    API.md does not list (the members sub-resource): checked when served, else skipped."""
    return {"method": method, "path": path, "expect": dict(zip(ROLES, expect)), "body": body,
            "raw": raw, "fresh": fresh, "optional": optional,
            "name": name or f"{method} {path}"}


# Columns: admin, owner, member, stranger.
R_ALL = (200, 200, 200, 404)          # read a project's things: everyone with a role
W_ALL = (200, 200, 200, 404)          # work on a project's tasks: everyone with a role
OWNER_ADMIN = (200, 200, 403, 404)    # change the project: owner and admin
PERSONAL = (404, 200, 404, 404)       # a personal task of the owner: the creator only
PERSONAL_204 = (404, 204, 404, 404)

MATRIX = [
    # projects
    row("GET", "/projects", (200, 200, 200, 200), fresh=False),
    row("POST", "/projects", (201, 201, 201, 201), body={"name": "New project"}),
    row("GET", "/projects/{pid}", R_ALL, fresh=False),
    row("PATCH", "/projects/{pid}", OWNER_ADMIN, body={"name": "Renamed"}),
    row("PATCH", "/projects/{pid}", OWNER_ADMIN, name="PATCH /projects/{pid} member_ids (members)",
        body=lambda c: {"member_ids": [c["member_id"], c["stranger_id"]]}),
    row("PATCH", "/projects/{pid}", OWNER_ADMIN, name="PATCH /projects/{pid} wip_limits",
        body={"wip_limits": {"in_progress": 3}}),
    row("DELETE", "/projects/{pid}", (204, 204, 403, 404)),
    row("GET", "/projects/{pid}/board", R_ALL, fresh=False),
    row("GET", "/projects/{pid}/progress", R_ALL, fresh=False),
    row("GET", "/projects/{pid}/flow?bucket=day", R_ALL, fresh=False),
    row("GET", "/projects/{pid}/flow?bucket=week", R_ALL, fresh=False),
    # members: a sub-resource API.md does not list (it manages members through member_ids);
    # when an implementation serves one, owner/admin manage, a member 403, a stranger 404.
    row("GET", "/projects/{pid}/members", R_ALL, fresh=False, optional=True),
    # (the answer to an added member: the project (200) or the membership (201), either)
    row("POST", "/projects/{pid}/members", ((200, 201), (200, 201), 403, 404), optional=True,
        body=lambda c: {"user_id": c["stranger_id"]}),
    row("DELETE", "/projects/{pid}/members/{member_id}", (204, 204, 403, 404), optional=True),
    # tasks of the project
    row("GET", "/tasks", (200, 200, 200, 200), fresh=False),
    row("GET", "/tasks?project_id={pid}", R_ALL, fresh=False),
    row("POST", "/tasks", (201, 201, 201, 422), name="POST /tasks in the project",
        body=lambda c: {"title": "In the project", "project_id": c["pid"]}),
    row("POST", "/tasks", (201, 201, 201, 201), name="POST /tasks personal", body={"title": "Mine"}),
    row("GET", "/tasks/{tid}", R_ALL, fresh=False),
    row("PUT", "/tasks/{tid}", W_ALL, body=lambda c: {"title": "Replaced", "project_id": c["pid"]}),
    row("PATCH", "/tasks/{tid}", W_ALL, body={"priority": "high"}),
    row("DELETE", "/tasks/{tid}", (204, 204, 204, 404)),
    row("POST", "/tasks/{tid}/move", W_ALL, body={"status": "in_progress", "position": 0}),
    row("PATCH", "/tasks", W_ALL, name="PATCH /tasks (batch) project tasks",
        body=lambda c: [{"id": c["tid"], "priority": "urgent"}, {"id": c["tid2"], "title": "B"}]),
    row("POST", "/tasks/batch-delete", (204, 204, 204, 404), name="POST /tasks/batch-delete project tasks",
        body=lambda c: {"ids": [c["tid"], c["tid2"]]}),
    # a personal task of the owner: nobody else, not even an admin
    row("GET", "/tasks/{ptid}", PERSONAL, fresh=False),
    row("PUT", "/tasks/{ptid}", PERSONAL, body={"title": "Replaced"}),
    row("PATCH", "/tasks/{ptid}", PERSONAL, body={"priority": "low"}),
    row("DELETE", "/tasks/{ptid}", PERSONAL_204),
    row("POST", "/tasks/{ptid}/move", PERSONAL, body={"status": "done", "position": 0}),
    row("PATCH", "/tasks", PERSONAL, name="PATCH /tasks (batch) personal task",
        body=lambda c: [{"id": c["ptid"], "priority": "low"}]),
    row("POST", "/tasks/batch-delete", PERSONAL_204, name="POST /tasks/batch-delete personal task",
        body=lambda c: {"ids": [c["ptid"]]}),
    # a project task and the owner's personal one: only the owner sees both; for anyone else
    # one id is invisible, so the whole batch is refused (404) and nothing changes
    row("PATCH", "/tasks", PERSONAL, name="PATCH /tasks (batch) project + personal task",
        body=lambda c: [{"id": c["tid"], "priority": "low"}, {"id": c["ptid"], "priority": "low"}]),
    row("POST", "/tasks/batch-delete", PERSONAL_204, name="POST /tasks/batch-delete project + personal task",
        body=lambda c: {"ids": [c["tid"], c["ptid"]]}),
    # activity and reports
    row("GET", "/activity", (200, 200, 200, 200), fresh=False),
    row("GET", "/activity?project_id={pid}", R_ALL, fresh=False),
    row("GET", "/activity?entity=task&entity_id={tid}", (200, 200, 200, 200), fresh=False),
    row("GET", "/activity/verify", (200, 403, 403, 403), fresh=False),
    row("GET", "/reports/team-performance?project_id={pid}", R_ALL, fresh=False),
    row("GET", "/reports/workload?project_id={pid}", R_ALL, fresh=False),
    # voice-to-tasks: a raw audio body, the fields as query parameters (as POST /sessions)
    row("POST", "/tasks/from-audio?title=Memo", (202, 202, 202, 202), raw=WAV, name="POST /tasks/from-audio personal"),
    row("POST", "/tasks/from-audio?title=Memo&project_id={pid}", (202, 202, 202, 422), raw=WAV,
        name="POST /tasks/from-audio in the project"),
]


def template(path):
    """/projects/{pid}/flow?bucket=day -> /api/v1/projects/{}/flow (the document's shape)."""
    return re.sub(r"\{[^}]*\}", "{}", API + path.split("?")[0])


def served():
    """{(METHOD, template)} of every tracker operation the served document lists."""
    out = set()
    for path, item in DOC["paths"].items():
        if not path.startswith(TRACKER_PREFIXES):
            continue
        for method in item:
            if method != "parameters":
                out.add((method.upper(), re.sub(r"\{[^}]*\}", "{}", path)))
    return out


class AccessMatrix(ApiCase):
    def test_every_served_tracker_route_has_a_row(self):
        rows = {(r["method"], template(r["path"])) for r in MATRIX}
        missing = sorted(served() - rows)
        self.assertEqual(missing, [], "tracker operations without a row in MATRIX: add one")

    def test_every_route_of_the_contract_is_served(self):
        contract = {(r["method"], template(r["path"])) for r in MATRIX if not r["optional"]}
        self.assertEqual(sorted(contract - served()), [], "API.md routes the document does not list")

    def run_row(self, r, role, ctx):
        path = API + r["path"].format(**ctx)
        body = r["body"](ctx) if callable(r["body"]) else r["body"]
        if r["raw"] is not None:
            return W.call(r["method"], path, raw=r["raw"], role=role, content_type="audio/wav")
        return W.call(r["method"], path, body, role=role)

    def test_matrix(self):
        """Every row, every role: the status of the table; a refusal is a problem+json and
        changes nothing. A failing cell does not hide the others: all mismatches are listed."""
        served_now = served()
        shared = fixture()
        mismatches = []
        for r in MATRIX:
            # a route that is not served fails test_every_route_of_the_contract_is_served
            if (r["method"], template(r["path"])) not in served_now:
                continue
            for role in ROLES:
                ctx = fixture() if r["fresh"] else shared
                want = r["expect"][role]
                wants = want if isinstance(want, tuple) else (want,)
                S.quiesce()  # an upload's job must not change the fingerprint under us
                before = S.fingerprint() if min(wants) >= 400 else None
                resp = self.run_row(r, role, ctx)
                cell = f"{r['name']} as {role}"
                if resp.status not in wants:
                    mismatches.append(f"{cell}: expected {want}, got {resp}")
                    continue
                if min(wants) >= 400:
                    try:
                        self.assertProblem(resp, want, cell)
                        if want == 422:  # every 422 of the table: a project the caller cannot see
                            fields = [e.get("field") for e in resp.json().get("errors", [])]
                            self.assertIn("project_id", fields, cell)
                    except AssertionError as e:
                        mismatches.append(str(e))
                    S.quiesce()
                    if S.fingerprint() != before:
                        mismatches.append(f"{cell}: refused with {want} but the database changed")
        self.assertEqual(mismatches, [], "\n" + "\n".join(mismatches))

    def test_without_a_token_every_row_is_401(self):
        ctx = fixture()
        bad = []
        for r in MATRIX:
            path = API + r["path"].format(**ctx)
            body = r["body"](ctx) if callable(r["body"]) else r["body"]
            resp = (S.request(r["method"], path, body=r["raw"], content_type="audio/wav")
                    if r["raw"] is not None else S.request(r["method"], path, json_body=body))
            if (r["method"], template(r["path"])) not in served():
                continue
            if resp.status != 401 or resp.header("www-authenticate") != "Bearer":
                bad.append(f"{r['name']}: {resp}")
        self.assertEqual(bad, [])

    def test_unknown_ids_answer_like_invisible_ones(self):
        """A random UUID gets the same 404 body (request_id aside) as a stranger's view of a real
        one: nothing tells the stranger the project or task exists."""
        ctx = fixture()
        for path in ("/projects/{}", "/projects/{}/board", "/projects/{}/progress", "/tasks/{}"):
            real = "{pid}" if path.startswith("/projects") else "{tid}"
            seen = W.call("GET", API + path.format(real.format(**ctx)), role="stranger")
            unknown = W.call("GET", API + path.format(uuid.uuid4()), role="stranger")
            self.assertProblem(seen, 404, path)
            self.assertProblem(unknown, 404, path)
            a, b = seen.json(), unknown.json()
            a.pop("request_id", None), b.pop("request_id", None)
            self.assertEqual(a, b, path)


class Visibility(ApiCase):
    """What each role is shown: permissions, and the lists."""

    @classmethod
    def setUpClass(cls):
        cls.ctx = fixture()

    def test_permissions_follow_the_role(self):
        want = {"admin": True, "owner": True, "member": False}
        for role, allowed in want.items():
            with self.subTest(role=role):
                r = W.call("GET", f"{API}/projects/{self.ctx['pid']}", role=role)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json().get("permissions"),
                                 {"edit": allowed, "delete": allowed, "manage_members": allowed}, r)

    def test_project_shape(self):
        r = W.call("GET", f"{API}/projects/{self.ctx['pid']}", role="member")
        self.assertEqual(r.status, 200, r)
        p = r.json()
        for k in ("id", "name", "description", "status", "owner_id", "member_ids", "wip_limits",
                  "created_at", "updated_at", "permissions"):
            self.assertIn(k, p)
        self.assertEqual(p["owner_id"], W.uid("owner"))
        self.assertEqual(p["member_ids"], [W.uid("member")], "the owner is not listed as a member")

    def test_project_list_shows_the_project_to_its_roles_only(self):
        for role in ROLES:
            with self.subTest(role=role):
                ids, cursor = [], None
                while True:
                    r = W.call("GET", f"{API}/projects?limit=100" + (f"&cursor={cursor}" if cursor else ""), role=role)
                    self.assertEqual(r.status, 200, r)
                    ids += [p["id"] for p in r.json()["items"]]
                    cursor = r.json()["next_cursor"]
                    if not cursor:
                        break
                self.assertEqual(self.ctx["pid"] in ids, role != "stranger", ids)

    def test_task_list_shows_personal_tasks_to_their_creator_only(self):
        for role in ROLES:
            with self.subTest(role=role):
                r = W.call("GET", f"{API}/tasks?limit=100", role=role)
                self.assertEqual(r.status, 200, r)
                ids = [t["id"] for t in r.json()["items"]]
                self.assertEqual(self.ctx["ptid"] in ids, role == "owner")

    def test_activity_list_hides_the_project_from_strangers(self):
        for role in ROLES:
            with self.subTest(role=role):
                r = W.call("GET", f"{API}/activity?limit=100", role=role)
                self.assertEqual(r.status, 200, r)
                pids = {a.get("project_id") for a in r.json()["items"]}
                self.assertEqual(self.ctx["pid"] in pids, role != "stranger", r)

    def test_a_removed_member_loses_access_at_once(self):
        ctx = fixture()
        r = W.call("PATCH", f"{API}/projects/{ctx['pid']}", {"member_ids": []}, role="owner")
        self.assertEqual(r.status, 200, r)
        for path in (f"/projects/{ctx['pid']}", f"/tasks/{ctx['tid']}", f"/projects/{ctx['pid']}/board"):
            self.assertProblem(W.call("GET", API + path, role="member"), 404, path)


class KanbanStress(ApiCase):
    """POST /tasks/{id}/move keeps each column's positions 0..n-1 when 20 clients move tasks of
    the same column at once (API.md: "even under concurrent moves")."""

    N = 20

    def concurrent(self, calls):
        """Runs every call at the same moment (a barrier), returns the responses in order."""
        barrier = threading.Barrier(len(calls))
        out = [None] * len(calls)

        def run(i, fn):
            barrier.wait()
            try:
                out[i] = fn()
            except Exception as e:  # noqa: BLE001 -- reported as the cell's answer
                out[i] = e

        threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        return out

    def board_column(self, pid, status, role="member"):
        r = W.call("GET", f"{API}/projects/{pid}/board", role=role)
        self.assertEqual(r.status, 200, r)
        cols = {c["status"]: c for c in r.json()["columns"]}
        self.assertEqual(list(cols), ["todo", "in_progress", "review", "done"], "columns in board order")
        return [(t["id"], t["position"]) for t in cols[status]["tasks"]]

    def test_twenty_concurrent_moves_in_one_column(self):
        p = W.project("owner", members=("member",))
        ids = [W.task("member" if i % 2 else "owner", project_id=p["id"])["id"] for i in range(self.N)]
        W.assert_permutations(self, p["id"])
        rng = random.Random(11)
        for round_ in range(3):
            targets = [rng.randrange(self.N + 3) for _ in ids]  # past the end = last
            calls = [lambda t=t, pos=pos, role=("owner", "member", "admin")[i % 3]:
                     W.call("POST", f"{API}/tasks/{t}/move", {"status": "todo", "position": pos}, role=role)
                     for i, (t, pos) in enumerate(zip(ids, targets))]
            answers = self.concurrent(calls)
            bad = [a for a in answers if getattr(a, "status", None) != 200]
            self.assertEqual(bad, [], f"round {round_}")
            W.assert_permutations(self, p["id"])
            column = self.board_column(p["id"], "todo")
            self.assertEqual(sorted(t for t, _ in column), sorted(ids))
            self.assertEqual([pos for _, pos in column], list(range(self.N)))

    def test_twenty_concurrent_moves_across_columns(self):
        """Half into another column, half within: both columns stay permutations."""
        p = W.project("owner", members=("member",))
        ids = [W.task("owner", project_id=p["id"])["id"] for _ in range(self.N)]
        calls = [lambda t=t, i=i: W.call("POST", f"{API}/tasks/{t}/move",
                                         {"status": "in_progress" if i % 2 else "todo", "position": i % 4},
                                         role="member")
                 for i, t in enumerate(ids)]
        answers = self.concurrent(calls)
        self.assertEqual([a for a in answers if getattr(a, "status", None) != 200], [])
        W.assert_permutations(self, p["id"])
        self.assertEqual(len(self.board_column(p["id"], "in_progress")), self.N // 2)
        self.assertEqual(len(self.board_column(p["id"], "todo")), self.N // 2)

    def test_concurrent_creates_and_deletes_keep_the_order(self):
        p = W.project("owner", members=("member",))
        ids = [W.task("owner", project_id=p["id"])["id"] for _ in range(10)]
        calls = [lambda t=t: W.call("DELETE", f"{API}/tasks/{t}", role="member") for t in ids[::2]]
        calls += [lambda: W.call("POST", f"{API}/tasks", {"title": "x", "project_id": p["id"]}, role="owner")
                  for _ in range(10)]
        answers = self.concurrent(calls)
        self.assertEqual(sorted(a.status for a in answers), [201] * 10 + [204] * 5, answers)
        W.assert_permutations(self, p["id"])
        self.assertEqual(len(self.board_column(p["id"], "todo")), 15)


if __name__ == "__main__":
    unittest.main()
