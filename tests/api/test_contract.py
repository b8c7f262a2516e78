"""One contract over the route table (issue 10): every operation of the served OpenAPI document
(GET /api/v1/openapi.json, which tests/unit/handlers/routes_test*.cpp hold to the route table)
is checked here, so a new route cannot forget any of it:

- without a token (or with a malformed one) -> 401, on every operation whose `security` asks
  for one (the document's `security` follows the route's kAuth flag: routes_access_test);
- a member -> 403 on every operation marked `x-rostrum-role: admin` (the kAdmin flag);
- another user's {id} -> 404, exactly like an unknown id, and nothing changes;
- an unknown query parameter -> 422 with errors[].field naming it, and nothing changes;
- a list operation (a GET whose 200 is {items, next_cursor}) pages with limit=1 and limit=2
  over every item exactly once;
- every 4xx is application/problem+json with type, title, status, detail and a request_id.

Resources come from FIXTURES: one function per collection making one item. A route under a
collection without one fails (test_every_resource_has_a_fixture names it). Operations tagged
`internal` are nginx's own subrequests: from outside they must be 404, nothing more.

One stack for the whole file.
"""
import os
import sys
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from checks import ApiCase, without_request_id  # noqa: E402
from stack import SOURCE, Stack  # noqa: E402

S = None
DOC = {}
ADMIN, A, B = {}, {}, {}  # the admin (the first account), two members
API = "/api/v1"
PASSWORD = "correct horse battery"
UNKNOWN = "contract_unknown_param"
with open(os.path.join(SOURCE, "tests/fixtures/audio/tone440_1s.wav"), "rb") as f:
    WAV = f.read()


def setUpModule():
    global S
    S = Stack("contract")
    for who in (ADMIN, A, B):
        user, token, _ = S.new_user()
        who.update(user=user, token=token)
    assert ADMIN["user"]["role"] == "admin" and B["user"]["role"] == "member"
    r = S.get(f"{API}/openapi.json")
    assert r.status == 200, r
    DOC.update(r.json())


def tearDownModule():
    S.stop()


# --- fixtures: how to make one item of each collection ------------------------------------------

def make_user(owner):
    """A member the admin creates; a user is its own owner: (id, its token)."""
    email = f"contract-{uuid.uuid4().hex[:12]}@example.com"
    r = S.post(f"{API}/users", {"email": email, "password": PASSWORD, "name": "Contract"},
               token=ADMIN["token"])
    assert r.status == 201, r
    return r.json()["id"], S.login(email)["access_token"]


def make_patient(owner):
    """A patient `owner` adds: (id, the owner's token)."""
    r = S.post(f"{API}/patients", {"name": "Contract Patient", "age": 40}, token=owner["token"])
    assert r.status == 201, r
    return r.json()["id"], owner["token"]


def make_session(owner):
    """A session `owner` uploads (a one-second tone): (id, the owner's token)."""
    r = S.request("POST", f"{API}/sessions", body=WAV, content_type="audio/wav", token=owner["token"])
    assert r.status == 202, r
    return r.json()["id"], owner["token"]


def make_task(owner):
    """A personal task of `owner`'s: (id, the owner's token)."""
    r = S.post(f"{API}/tasks", {"title": "Contract task", "labels": ["c"]}, token=owner["token"])
    assert r.status == 201, r
    return r.json()["id"], owner["token"]


def make_activity(owner):
    """An activity entry of `owner`'s (a personal task's, which only its actor reads), written
    as the superuser: entries are only ever written by the changes they record."""
    (eid,), = S.sql("INSERT INTO activity (actor_id, entity, entity_id, action) VALUES "
                    f"('{owner['user']['id']}', 'task', '{uuid.uuid4()}', 'created') RETURNING id")
    return eid, owner["token"]


def make_project(owner):
    """A project `owner` creates (no members): (id, the owner's token)."""
    r = S.post(f"{API}/projects", {"name": f"contract-{uuid.uuid4().hex[:8]}"}, token=owner["token"])
    assert r.status == 201, r
    return r.json()["id"], owner["token"]


def make_resource(owner):
    """A learning resource the admin adds; the library is shared, so everyone reads it."""
    r = S.post(f"{API}/resources", {"title": "Contract", "url": f"https://example.org/{uuid.uuid4().hex}",
                                    "kind": "article", "tags": ["overall"]}, token=ADMIN["token"])
    assert r.status == 201, r
    return r.json()["id"], owner["token"]


def make_industry(owner):
    """An industry the admin adds; the bank is shared, so everyone reads it."""
    r = S.post(f"{API}/industries", {"slug": f"contract-{uuid.uuid4().hex[:12]}", "name": "Contract"},
               token=ADMIN["token"])
    assert r.status == 201, r
    return r.json()["id"], owner["token"]


def make_role(owner):
    """A role of the seeded software industry the admin adds."""
    r = S.post(f"{API}/roles", {"industry": "software", "slug": f"contract-{uuid.uuid4().hex[:12]}",
                                "name": "Contract"}, token=ADMIN["token"])
    assert r.status == 201, r
    return r.json()["id"], owner["token"]


def make_question(owner):
    """A general question the admin adds to the bank."""
    r = S.post(f"{API}/questions", {"text": f"Contract question {uuid.uuid4().hex}?", "difficulty": "easy",
                                    "competency": "teamwork",
                                    "key_points": [{"text": "a", "terms": ["a"]}, {"text": "b", "terms": ["b"]}]},
               token=ADMIN["token"])
    assert r.status == 201, r
    return r.json()["id"], owner["token"]


def make_interview(owner):
    """An interview `owner` starts (the bank's seed asks its first question): (id, the owner's token)."""
    r = S.post(f"{API}/interviews", {"industry": "software", "question_count": 1}, token=owner["token"])
    assert r.status == 201, r
    return r.json()["id"], owner["token"]


FIXTURES = {
    f"{API}/users": make_user,
    f"{API}/activity": make_activity,
    f"{API}/projects": make_project,
    f"{API}/sessions": make_session,
    f"{API}/tasks": make_task,
    f"{API}/patients": make_patient,
    f"{API}/resources": make_resource,
    f"{API}/industries": make_industry,
    f"{API}/roles": make_role,
    f"{API}/questions": make_question,
    f"{API}/interviews": make_interview,
}


# Collections every user reads (no owner): their {id} routes are either readable by all or
# admin-only, which test_admin_routes_403_to_a_member checks.
SHARED = {f"{API}/resources", f"{API}/industries", f"{API}/roles", f"{API}/questions"}


def fill_sub_ids(path):
    """The path parameters besides {id} (/projects/{id}/members/{user_id}): B's id, the same in
    every call, so that a refusal depends on {id} alone."""
    return path.replace("{user_id}", B["user"]["id"])


# --- the document ---------------------------------------------------------------------------------

def operations():
    """(method, path, operation) for every operation the document lists."""
    out = []
    for path, item in DOC["paths"].items():
        for method, op in item.items():
            if method != "parameters":
                out.append((method.upper(), path, op))
    return out


def internal(op):
    return "internal" in op.get("tags", [])


def needs_token(op):
    return bool(op.get("security"))


def admin_only(op):
    return op.get("x-rostrum-role") == "admin"


def collection(path):
    """The collection a path with {id} belongs to: /api/v1/sessions/{id}/audio -> /api/v1/sessions."""
    return path.split("/{id}")[0]


def resolve(schema):
    while "$ref" in schema:
        node = DOC
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def is_list(method, op):
    """A GET whose 200 is the {items, next_cursor} envelope."""
    if method != "GET":
        return False
    content = op.get("responses", {}).get("200", {}).get("content", {})
    schema = resolve(content.get("application/json", {}).get("schema", {}))
    return {"items", "next_cursor"} <= set(schema.get("properties", {}))


def body_for(op):
    """A body of the kind the operation takes, plausible enough to get past the media checks
    that run before the handler: (bytes or None, content type or None)."""
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        return b"{}", "application/json"
    if "application/x-www-form-urlencoded" in content:
        return b"grant_type=password", "application/x-www-form-urlencoded"
    if any(t.startswith("audio/") for t in content):
        return WAV, "audio/wav"
    if "multipart/form-data" in content:  # an upload form: the file part alone
        b = "contract" + uuid.uuid4().hex
        head = f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="t.wav"\r\n\r\n'
        return head.encode() + WAV + f"\r\n--{b}--\r\n".encode(), f"multipart/form-data; boundary={b}"
    if content:
        raise AssertionError(f"no contract body for request type(s) {sorted(content)}: add one to body_for")
    return None, None


def call(method, path, op, token=None, query="", headers=None):
    body, ctype = body_for(op)
    return S.request(method, path + query, body=body, content_type=ctype, token=token, headers=headers)


class Contract(ApiCase):
    ids = {}  # collection -> (id, owner token): one item per collection, made once

    def item(self, coll):
        if coll not in FIXTURES:
            self.fail(f"no fixture for {coll}: add one to FIXTURES in tests/api/test_contract.py")
        if coll not in self.ids:
            self.ids[coll] = FIXTURES[coll](A)
        return self.ids[coll]

    def concrete(self, path):
        """The path with {id} filled by an item A's fixture made: (path, the item owner's token)."""
        owner = None
        if "{id}" in path:
            rid, owner = self.item(collection(path))
            path = path.replace("{id}", rid)
        path = fill_sub_ids(path)
        if "{" in path:
            self.fail(f"{path}: the contract fills only {{id}}: teach concrete() this path parameter")
        return path, owner

    def refused(self, r, status, why):
        """A 4xx problem: assertProblem's checks, plus a request_id to quote."""
        body = self.assertProblem(r, status, why)
        self.assertTrue(isinstance(body.get("request_id"), str) and body["request_id"], f"{why}: no request_id: {r}")
        return body

    def refused_as_documented(self, op, r, status, why):
        """A 4xx in the shape the operation documents: problem+json (refused()), or OpenAI's
        error object for `x-rostrum-errors: openai` (POST /v1/audio/transcriptions), its `param`
        read as the problem's errors[].field."""
        if op.get("x-rostrum-errors") != "openai":
            return self.refused(r, status, why)
        self.assertEqual(r.status, status, f"{why}: {r}")
        e = r.json().get("error")
        self.assertEqual(set(e or {}), {"message", "type", "param", "code"}, f"{why}: not OpenAI's shape: {r}")
        self.assertTrue(r.header("x-request-id"), f"{why}: no x-request-id: {r}")
        return {"errors": [{"field": e["param"]}] if e["param"] else []}

    def snapshot(self):
        """The database's fingerprint once the fixtures' jobs are done (only a request changes
        rows then)."""
        S.quiesce()
        return S.fingerprint()

    def unchanged(self, before, why):
        self.assertEqual(self.snapshot(), before, f"{why}: the database changed after a refused request")

    def routes(self):
        ops = [(m, p, op) for m, p, op in operations() if not internal(op)]
        self.assertGreater(len(ops), 10, "the document lists almost nothing")
        return ops

    # --- the checks -------------------------------------------------------------------------------

    def test_every_resource_has_a_fixture(self):
        """Every collection with an {id} route or a list route can make an item here."""
        needed = {collection(p) for m, p, op in self.routes() if "{id}" in p}
        needed |= {collection(p) for m, p, op in self.routes() if is_list(m, op)}
        missing = sorted(needed - set(FIXTURES))
        self.assertEqual(missing, [], "no fixture in tests/api/test_contract.py FIXTURES for these "
                                      "collections (the contract cannot check their routes)")

    def test_internal_operations_are_unreachable_from_outside(self):
        for m, p, op in operations():
            if internal(op):
                with self.subTest(route=f"{m} {p}"):
                    self.refused(call(m, p, op, token=A["token"]), 404, f"{m} {p} from outside")

    def test_without_a_token_401(self):
        checked = 0
        for m, p, op in self.routes():
            if not needs_token(op):
                continue
            path, _ = self.concrete(p)
            for why, headers in (("no token", None), ("malformed token", {"Authorization": "Bearer x.y.z"})):
                with self.subTest(route=f"{m} {p}", why=why):
                    self.refused_as_documented(op, call(m, path, op, headers=headers), 401,
                                               f"{m} {p} with {why}")
            checked += 1
        self.assertGreater(checked, 0)

    def test_admin_routes_403_to_a_member(self):
        checked = 0
        for m, p, op in self.routes():
            if admin_only(op):
                with self.subTest(route=f"{m} {p}"):
                    self.assertTrue(needs_token(op), f"{m} {p} is admin-only but documents no security")
                    path, _ = self.concrete(p)
                    before = self.snapshot()
                    self.refused(call(m, path, op, token=B["token"]), 403, f"{m} {p} as a member")
                    self.unchanged(before, f"{m} {p}")
                checked += 1
        self.assertGreater(checked, 0, "no operation is marked x-rostrum-role: admin")

    def test_another_users_id_404_like_an_unknown_one(self):
        checked = 0
        for m, p, op in self.routes():
            if "{id}" not in p or collection(p) in SHARED:
                continue
            with self.subTest(route=f"{m} {p}"):
                path, owner = self.concrete(p)
                rid, _ = self.item(collection(p))
                # It exists (its owner sees it): B's 404 is about ownership, not absence. (A
                # collection without GET {id}, the route's own GET: /projects/{id}/board.)
                if "get" in DOC["paths"].get(f"{collection(p)}/{{id}}", {}) or m != "GET":
                    self.assertEqual(S.get(f"{collection(p)}/{rid}", token=owner).status, 200)
                else:
                    self.assertEqual(S.get(path, token=owner).status, 200)
                before = self.snapshot()
                theirs = call(m, path, op, token=B["token"])
                unknown = call(m, fill_sub_ids(p.replace("{id}", str(uuid.uuid4()))), op, token=B["token"])
                self.refused(theirs, 404, f"{m} {p} with another user's id")
                self.refused(unknown, 404, f"{m} {p} with an unknown id")
                self.assertEqual(without_request_id(theirs), without_request_id(unknown),
                                 f"{m} {p}: another user's id must look exactly like an unknown one")
                self.unchanged(before, f"{m} {p}")
            checked += 1
        self.assertGreater(checked, 0)

    def test_unknown_query_parameter_422_naming_it(self):
        for m, p, op in self.routes():
            with self.subTest(route=f"{m} {p}"):
                path, owner = self.concrete(p)
                token = ADMIN["token"] if admin_only(op) else (owner or A["token"])
                before = self.snapshot()
                r = call(m, path, op, token=token if needs_token(op) else None, query=f"?{UNKNOWN}=1")
                body = self.refused_as_documented(op, r, 422, f"{m} {p}?{UNKNOWN}=1")
                fields = [e.get("field") for e in body.get("errors", [])]
                self.assertIn(UNKNOWN, fields, f"{m} {p}: errors[].field must name the parameter: {r}")
                self.unchanged(before, f"{m} {p}")

    def test_list_routes_page_every_item_once(self):
        checked = 0
        for m, p, op in self.routes():
            # A list under an item (/patients/{id}/sessions, /sessions/{id}/note/history) is
            # paged by its own file's tests: no fixture makes items of it from here.
            if not is_list(m, op) or "{id}" in p:
                continue
            with self.subTest(route=f"{m} {p}"):
                self.assertIn(p, FIXTURES, f"no fixture for {p}")
                params = {q["name"]: q for q in op.get("parameters", [])}
                self.assertLessEqual({"limit", "cursor"}, set(params), f"{p}: a list documents limit and cursor")
                lister = ADMIN if admin_only(op) else A
                made = [FIXTURES[p](lister)[0] for _ in range(3)]
                expected = self.walk(p, params["limit"].get("schema", {}).get("maximum", 100), lister["token"])
                self.assertEqual(len(expected), len(set(expected)), f"{p}: an item twice in one walk")
                self.assertLessEqual(set(made), set(expected), f"{p}: a new item is missing")
                for limit in (1, 2):
                    self.assertEqual(self.walk(p, limit, lister["token"]), expected,
                                     f"{p}?limit={limit} does not walk every item exactly once")
            checked += 1
        self.assertGreater(checked, 0, "no list operation found in the document")

    def walk(self, path, limit, token):
        """The ids of every page of `path`, following next_cursor to its end."""
        ids, cursor = [], None
        for _ in range(10000):
            q = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
            r = S.get(path + q, token=token)
            self.assertEqual(r.status, 200, r)
            page = r.json()
            self.assertLessEqual(len(page["items"]), limit, r)
            ids += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return ids
            self.assertEqual(len(page["items"]), limit, f"{path}: a page before the last one is short")
        self.fail(f"{path}?limit={limit}: next_cursor never ends")


if __name__ == "__main__":
    unittest.main(verbosity=2)
