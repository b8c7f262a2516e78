"""The interview bank (API.md "Interviews"; issue 12, "Content"): the seeded industries, roles
and questions, the list filters (a null industry or role matches every filter), and the admin
writes with their refusals. Everything through nginx; every refusal leaves the database as it
was (S.fingerprint()). One stack for the file.
"""
import os
import sys
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from checks import ApiCase  # noqa: E402
from stack import Stack  # noqa: E402

S = None
API = "/api/v1"
ADMIN, M = {}, {}  # the admin (the first account), a member
SEEDED_INDUSTRIES = ["software", "finance", "healthcare", "education", "retail", "manufacturing",
                     "consulting", "public-sector"]
DIFFICULTIES = ["easy", "medium", "hard"]
COMPETENCIES = ["communication", "problem_solving", "teamwork", "leadership", "technical",
                "motivation", "adaptability", "customer_focus", "ethics"]
QUESTION_KEYS = {"id", "text", "industry", "role", "difficulty", "competency", "key_points",
                 "follow_ups", "created_at", "updated_at"}


def setUpModule():
    global S
    S = Stack("interview_bank")
    for who in (ADMIN, M):
        user, token, _ = S.new_user()
        who.update(user=user, token=token)
    assert ADMIN["user"]["role"] == "admin" and M["user"]["role"] == "member"


def tearDownModule():
    S.stop()


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def key_points(n=2, terms=3):
    return [{"text": f"Point {i}", "terms": [f"term{i}x{j}" for j in range(terms)]} for i in range(n)]


def question_body(**kw):
    body = {"text": f"Tell me about a time you {uuid.uuid4().hex} under pressure.",
            "difficulty": "medium", "competency": "teamwork", "key_points": key_points(),
            "follow_ups": ["What would you do differently?"]}
    body.update(kw)
    return body


class BankCase(ApiCase):
    def all_items(self, path, query="", token=None):
        """Every item of a list, following next_cursor; each page checked."""
        items, cursor = [], None
        for _ in range(100):
            q = f"?limit=100{query}" + (f"&cursor={cursor}" if cursor else "")
            r = S.get(f"{API}{path}{q}", token=token or M["token"])
            self.assertEqual(r.status, 200, r)
            items += r.json()["items"]
            cursor = r.json()["next_cursor"]
            if cursor is None:
                ids = [x["id"] for x in items]
                self.assertEqual(len(ids), len(set(ids)), f"{path}{query}: an item twice")
                return items
        self.fail(f"{path}{query}: next_cursor never ends")

    def admin(self, method, path, body=None):
        return S.request(method, API + path, json_body=body, token=ADMIN["token"])

    def made(self, method, path, body):
        r = self.admin(method, path, body)
        self.assertIn(r.status, (200, 201), f"{method} {path} {body}: {r}")
        return r.json()

    def assertRefused(self, r, status, field=None, why=""):
        problem = self.assertProblem(r, status, why)
        if field is not None:
            fields = [e.get("field") for e in problem.get("errors", [])]
            self.assertIn(field, fields, f"{why}: {problem}")
        return problem


class TestSeed(BankCase):
    def test_industries_each_with_keywords_and_four_roles(self):
        industries = self.all_items("/industries")
        slugs = [i["slug"] for i in industries]
        self.assertGreaterEqual(len(industries), 8)
        self.assertLessEqual(set(SEEDED_INDUSTRIES), set(slugs))
        all_roles = self.all_items("/roles")
        self.assertEqual(len({r["slug"] for r in all_roles}), len(all_roles), "role slugs are unique")
        for i in industries:
            if i["slug"] not in SEEDED_INDUSTRIES:
                continue
            with self.subTest(industry=i["slug"]):
                self.assertTrue(i["name"] and i["keywords"], i)
                self.assertEqual(S.get(f"{API}/industries/{i['id']}", token=M["token"]).json(), i)
                roles = self.all_items("/roles", f"&industry={i['slug']}")
                self.assertGreaterEqual(len(roles), 4, roles)
                for r in roles:
                    self.assertEqual(r["industry"], i["slug"], r)
                    self.assertTrue(r["name"] and r["keywords"], r)
        self.assertIn("registered-nurse", {r["slug"] for r in all_roles})
        self.assertIn("backend-engineer", {r["slug"] for r in all_roles})

    def test_ten_questions_for_every_industry_and_difficulty(self):
        for ind in SEEDED_INDUSTRIES:
            for d in DIFFICULTIES:
                with self.subTest(industry=ind, difficulty=d):
                    qs = self.all_items("/questions", f"&industry={ind}&difficulty={d}")
                    self.assertGreaterEqual(len(qs), 10)
                    for q in qs:
                        self.assertEqual(q["difficulty"], d, q)
                        self.assertIn(q["industry"], (None, ind), q)

    def test_every_seeded_question_is_complete(self):
        # The seed's rows, written in one transaction, share the earliest created_at: what other
        # tests add is left out whatever it holds.
        everything = self.all_items("/questions")
        seeded_at = min(q["created_at"] for q in everything)
        qs = [q for q in everything if q["created_at"] == seeded_at]
        self.assertGreaterEqual(len(qs), 30 + 2 * 8)
        self.assertGreaterEqual(sum(1 for q in qs if q["industry"] is None), 30)
        for ind in SEEDED_INDUSTRIES:
            own = [q for q in qs if q["industry"] == ind]
            self.assertTrue(2 <= len(own) <= 4, f"{ind}: {len(own)} specific questions")
        self.assertEqual(len({q["text"] for q in qs}), len(qs))
        for q in qs:
            with self.subTest(question=q["text"][:40]):
                self.assertEqual(set(q), QUESTION_KEYS)
                self.assertIn(q["competency"], COMPETENCIES)
                self.assertTrue(10 <= len(q["text"]) <= 1000)
                self.assertTrue(2 <= len(q["key_points"]) <= 5, q["key_points"])
                for kp in q["key_points"]:
                    self.assertEqual(set(kp), {"text", "terms"})
                    self.assertTrue(kp["text"])
                    self.assertTrue(3 <= len(kp["terms"]) <= 6, kp)
                    self.assertTrue(all(t and t == t.lower() for t in kp["terms"]), kp)
                self.assertTrue(1 <= len(q["follow_ups"]) <= 3, q["follow_ups"])
                if q["role"] is not None:
                    self.assertIsNotNone(q["industry"])
        # The hard ones ask the challenging follow-ups.
        hard = [q for q in qs if q["difficulty"] == "hard"]
        challenging = [q for q in hard if any("differently" in f or "measure" in f for f in q["follow_ups"])]
        self.assertGreaterEqual(len(challenging), len(hard) * 3 // 4)

    def test_get_one_question(self):
        q = self.all_items("/questions", "&role=registered-nurse")[0]
        r = S.get(f"{API}/questions/{q['id']}", token=M["token"])
        self.assertEqual((r.status, r.json()), (200, q))
        self.assertProblem(S.get(f"{API}/questions/{uuid.uuid4()}", token=M["token"]), 404)


class TestFilters(BankCase):
    def test_industry_keeps_general_and_its_own(self):
        qs = self.all_items("/questions", "&industry=finance")
        self.assertTrue(all(q["industry"] in (None, "finance") for q in qs))
        self.assertTrue(any(q["industry"] == "finance" for q in qs))
        self.assertTrue(any(q["industry"] is None for q in qs))
        everything = self.all_items("/questions")
        self.assertLess(len(qs), len(everything))

    def test_role_keeps_general_its_industrys_and_its_own(self):
        qs = self.all_items("/questions", "&role=registered-nurse")
        self.assertTrue(all(q["industry"] in (None, "healthcare") for q in qs), qs)
        self.assertTrue(all(q["role"] in (None, "registered-nurse") for q in qs), qs)
        self.assertTrue(any(q["role"] == "registered-nurse" for q in qs))
        self.assertTrue(any(q["industry"] == "healthcare" and q["role"] is None for q in qs))
        # Combined with its own industry: the same; with another industry: the general only.
        same = self.all_items("/questions", "&role=registered-nurse&industry=healthcare")
        self.assertEqual({q["id"] for q in same}, {q["id"] for q in qs})
        other = self.all_items("/questions", "&role=registered-nurse&industry=software")
        self.assertTrue(other and all(q["industry"] is None for q in other))

    def test_difficulty_and_competency(self):
        qs = self.all_items("/questions", "&difficulty=hard&competency=ethics")
        self.assertTrue(qs)
        self.assertTrue(all(q["difficulty"] == "hard" and q["competency"] == "ethics" for q in qs))

    def test_roles_filter(self):
        roles = self.all_items("/roles", "&industry=retail")
        self.assertTrue(roles and all(r["industry"] == "retail" for r in roles))
        self.assertLess(len(roles), len(self.all_items("/roles")))

    def test_unknown_filters_refused(self):
        cases = [
            ("/questions?industry=astrology", 422, "industry"),
            ("/questions?role=wizard", 422, "role"),
            ("/questions?industry=Software", 422, "industry"),
            ("/questions?difficulty=extreme", 400, "difficulty"),
            ("/questions?competency=charisma", 400, "competency"),
            ("/roles?industry=astrology", 422, "industry"),
            ("/questions?limit=0", (400, 422), None),
            ("/industries?colour=red", 422, "colour"),
        ]
        for path, status, field in cases:
            with self.subTest(path=path):
                self.assertRefused(S.get(API + path, token=M["token"]), status, field, path)


class TestAdminWrites(BankCase):
    def test_member_403_on_every_write_nothing_stored(self):
        ind = self.all_items("/industries")[0]
        role = self.all_items("/roles")[0]
        q = self.all_items("/questions")[0]
        writes = [
            ("POST", "/industries", {"slug": unique("x"), "name": "X"}),
            ("PATCH", f"/industries/{ind['id']}", {"name": "Renamed"}),
            ("DELETE", f"/industries/{ind['id']}", None),
            ("POST", "/roles", {"industry": "software", "slug": unique("x"), "name": "X"}),
            ("PATCH", f"/roles/{role['id']}", {"name": "Renamed"}),
            ("DELETE", f"/roles/{role['id']}", None),
            ("POST", "/questions", question_body()),
            ("PATCH", f"/questions/{q['id']}", {"difficulty": "hard"}),
            ("DELETE", f"/questions/{q['id']}", None),
        ]
        before = S.fingerprint()
        for method, path, body in writes:
            with self.subTest(route=f"{method} {path}"):
                r = S.request(method, API + path, json_body=body, token=M["token"])
                self.assertProblem(r, 403, f"{method} {path} as a member")
        self.assertEqual(S.fingerprint(), before)

    def test_industry_crud_and_conflicts(self):
        slug = unique("aviation")
        r = self.admin("POST", "/industries", {"slug": slug, "name": "Aviation", "keywords": ["safety", "crew"]})
        self.assertEqual(r.status, 201, r)
        made = r.json()
        self.assertEqual((made["slug"], made["name"], made["keywords"]), (slug, "Aviation", ["safety", "crew"]))
        self.assertEqual(r.header("location"), f"{API}/industries/{made['id']}")
        before = S.fingerprint()
        self.assertRefused(self.admin("POST", "/industries", {"slug": slug, "name": "Again"}), 409, "slug")
        self.assertRefused(self.admin("PATCH", f"/industries/{made['id']}", {"slug": "software"}), 409, "slug")
        self.assertEqual(S.fingerprint(), before)
        patched = self.made("PATCH", f"/industries/{made['id']}", {"name": "Aviation and aerospace"})
        self.assertEqual((patched["name"], patched["slug"], patched["keywords"]),
                         ("Aviation and aerospace", slug, ["safety", "crew"]))
        self.assertEqual(S.get(f"{API}/industries/{made['id']}", token=M["token"]).json(), patched)
        self.assertEqual(self.admin("DELETE", f"/industries/{made['id']}").status, 204)
        self.assertProblem(self.admin("DELETE", f"/industries/{made['id']}"), 404)
        self.assertProblem(S.get(f"{API}/industries/{made['id']}", token=M["token"]), 404)
        self.assertProblem(self.admin("PATCH", f"/industries/{made['id']}", {"name": "Gone"}), 404)

    def test_referenced_industry_and_role_are_not_deleted(self):
        ind = self.made("POST", "/industries", {"slug": unique("energy"), "name": "Energy"})
        role = self.made("POST", "/roles", {"industry": ind["slug"], "slug": unique("grid-engineer"),
                                            "name": "Grid engineer", "keywords": ["grid"]})
        self.assertEqual((role["industry"], role["keywords"]), (ind["slug"], ["grid"]))
        q = self.made("POST", "/questions", question_body(role=role["slug"]))
        self.assertEqual((q["industry"], q["role"]), (ind["slug"], role["slug"]))
        before = S.fingerprint()
        self.assertRefused(self.admin("DELETE", f"/industries/{ind['id']}"), 409)
        self.assertRefused(self.admin("DELETE", f"/roles/{role['id']}"), 409)
        # Moving the role away from its question's industry breaks the question's key.
        self.assertRefused(self.admin("PATCH", f"/roles/{role['id']}", {"industry": "software"}), 409)
        self.assertEqual(S.fingerprint(), before)
        self.assertEqual(S.get(f"{API}/industries/{ind['id']}", token=M["token"]).status, 200)
        # The question gone, the role goes; the industry still has the role, then nothing.
        self.assertEqual(self.admin("DELETE", f"/questions/{q['id']}").status, 204)
        self.assertRefused(self.admin("DELETE", f"/industries/{ind['id']}"), 409)
        self.assertEqual(self.admin("DELETE", f"/roles/{role['id']}").status, 204)
        self.assertEqual(self.admin("DELETE", f"/industries/{ind['id']}").status, 204)
        # The seeded ones have questions.
        software = [i for i in self.all_items("/industries") if i["slug"] == "software"][0]
        self.assertRefused(self.admin("DELETE", f"/industries/{software['id']}"), 409)

    def test_role_crud(self):
        slug = unique("site-reliability-engineer")
        r = self.admin("POST", "/roles", {"industry": "software", "slug": slug, "name": "SRE"})
        self.assertEqual(r.status, 201, r)
        role = r.json()
        self.assertEqual((role["industry"], role["keywords"]), ("software", []))
        self.assertEqual(r.header("location"), f"{API}/roles/{role['id']}")
        self.assertIn(role["id"], {x["id"] for x in self.all_items("/roles", "&industry=software")})
        before = S.fingerprint()
        self.assertRefused(self.admin("POST", "/roles", {"industry": "finance", "slug": slug, "name": "Dup"}), 409, "slug")
        self.assertRefused(self.admin("PATCH", f"/roles/{role['id']}", {"slug": "backend-engineer"}), 409, "slug")
        self.assertRefused(self.admin("PATCH", f"/roles/{role['id']}", {"industry": "astrology"}), 422, "industry")
        self.assertEqual(S.fingerprint(), before)
        moved = self.made("PATCH", f"/roles/{role['id']}", {"industry": "consulting", "keywords": ["slo"]})
        self.assertEqual((moved["industry"], moved["keywords"], moved["slug"]), ("consulting", ["slo"], slug))
        self.assertEqual(S.get(f"{API}/roles/{role['id']}", token=M["token"]).json(), moved)
        self.assertEqual(self.admin("DELETE", f"/roles/{role['id']}").status, 204)
        self.assertProblem(S.get(f"{API}/roles/{role['id']}", token=M["token"]), 404)

    def test_question_crud(self):
        body = question_body(industry="retail", key_points=[
            {"text": "Names the customer's need", "terms": ["Need", "asked for", "wanted"]},
            {"text": "Says what happened", "terms": ["result", "outcome"]}])
        r = self.admin("POST", "/questions", body)
        self.assertEqual(r.status, 201, r)
        q = r.json()
        self.assertEqual(set(q), QUESTION_KEYS)
        self.assertEqual(r.header("location"), f"{API}/questions/{q['id']}")
        self.assertEqual((q["industry"], q["role"], q["text"]), ("retail", None, body["text"]))
        self.assertEqual(q["key_points"][0]["terms"], ["need", "asked for", "wanted"])  # lower-cased
        self.assertEqual(q["follow_ups"], body["follow_ups"])
        self.assertIn(q["id"], {x["id"] for x in self.all_items("/questions", "&industry=retail&difficulty=medium")})
        self.assertNotIn(q["id"], {x["id"] for x in self.all_items("/questions", "&industry=finance")})
        path = f"/questions/{q['id']}"
        before = S.fingerprint()
        self.assertRefused(self.admin("POST", "/questions", question_body(text=body["text"])), 409, "text")
        seeded = self.all_items("/questions", "&industry=software")[0]["text"]
        self.assertRefused(self.admin("PATCH", path, {"text": seeded}), 409, "text")
        self.assertRefused(self.admin("PATCH", path, {"industry": "finance", "role": "store-manager"}), 422, "role")
        self.assertEqual(S.fingerprint(), before)
        # A role alone brings its industry; another industry then breaks the role's key.
        q2 = self.made("PATCH", path, {"role": "store-manager", "difficulty": "hard"})
        self.assertEqual((q2["industry"], q2["role"], q2["difficulty"]), ("retail", "store-manager", "hard"))
        before = S.fingerprint()
        self.assertRefused(self.admin("PATCH", path, {"industry": "finance"}), 422, "role")
        self.assertEqual(S.fingerprint(), before)
        # industry: null makes it general, role and all.
        q3 = self.made("PATCH", path, {"industry": None, "key_points": key_points(5, 6), "follow_ups": []})
        self.assertEqual((q3["industry"], q3["role"], len(q3["key_points"]), q3["follow_ups"]),
                         (None, None, 5, []))
        self.assertIn(q["id"], {x["id"] for x in self.all_items("/questions", "&industry=finance&difficulty=hard")})
        self.assertEqual(S.get(API + path, token=M["token"]).json(), q3)
        self.assertEqual(self.admin("DELETE", path).status, 204)
        self.assertProblem(self.admin("DELETE", path), 404)
        self.assertProblem(self.admin("PATCH", path, {"difficulty": "easy"}), 404)

    def test_question_with_role_of_another_industry_refused(self):
        before = S.fingerprint()
        self.assertRefused(self.admin("POST", "/questions",
                                      question_body(industry="software", role="registered-nurse")), 422, "role")
        self.assertEqual(S.fingerprint(), before)
        q = self.made("POST", "/questions", question_body(role="registered-nurse"))
        self.assertEqual((q["industry"], q["role"]), ("healthcare", "registered-nurse"))
        self.assertEqual(self.admin("DELETE", f"/questions/{q['id']}").status, 204)


class TestBadBodies(BankCase):
    def test_bad_bodies_refused_nothing_stored(self):
        ind = self.all_items("/industries")[0]
        role = self.all_items("/roles")[0]
        q = self.all_items("/questions")[0]
        qb = question_body
        kp_too_many_terms = [{"text": "a", "terms": [f"t{i}" for i in range(11)]}, key_points()[0]]
        cases = [
            # (method, path, body, status, field)
            ("POST", "/industries", {"slug": "Has Spaces", "name": "X"}, 422, "slug"),
            ("POST", "/industries", {"slug": "-dash", "name": "X"}, 422, "slug"),
            ("POST", "/industries", {"slug": "double--dash", "name": "X"}, 422, "slug"),
            ("POST", "/industries", {"slug": "x" * 65, "name": "X"}, 422, "slug"),
            ("POST", "/industries", {"slug": unique("ok")}, 422, "name"),
            ("POST", "/industries", {"slug": unique("ok"), "name": ""}, 422, "name"),
            ("POST", "/industries", {"slug": unique("ok"), "name": "X", "keywords": "crew"}, 400, "keywords"),
            ("POST", "/industries", {"slug": unique("ok"), "name": "X", "colour": "red"}, 400, None),
            ("PATCH", f"/industries/{ind['id']}", {"slug": "UPPER"}, 422, "slug"),
            ("PATCH", f"/industries/{uuid.uuid4()}", {"name": "X"}, 404, None),
            ("POST", "/roles", {"industry": "astrology", "slug": unique("r"), "name": "X"}, 422, "industry"),
            ("POST", "/roles", {"slug": unique("r"), "name": "X"}, 422, "industry"),
            ("POST", "/roles", {"industry": "software", "slug": "Bad_Slug", "name": "X"}, 422, "slug"),
            ("PATCH", f"/roles/{role['id']}", {"name": "x" * 201}, 422, "name"),
            ("POST", "/questions", qb(text="Too short"), 422, "text"),
            ("POST", "/questions", qb(text="x" * 1001), 422, "text"),
            ("POST", "/questions", qb(competency="charisma"), 422, "competency"),
            ("POST", "/questions", qb(difficulty="extreme"), 422, "difficulty"),
            ("POST", "/questions", qb(key_points=key_points(1)), 422, "key_points"),
            ("POST", "/questions", qb(key_points=key_points(6)), 422, "key_points"),
            ("POST", "/questions", qb(key_points=[]), 422, "key_points"),
            ("POST", "/questions", {k: v for k, v in qb().items() if k != "key_points"}, 422, "key_points"),
            ("POST", "/questions", qb(key_points=None), 422, "key_points"),
            ("POST", "/questions", qb(key_points="listen"), 400, "key_points"),
            ("POST", "/questions", qb(key_points=["listen", "act"]), 400, "key_points[0]"),
            ("POST", "/questions", qb(key_points=[{"text": "a"}, key_points()[0]]), 422, "key_points[0].terms"),
            ("POST", "/questions", qb(key_points=[{"terms": ["a"]}, key_points()[0]]), 422, "key_points[0].text"),
            ("POST", "/questions", qb(key_points=[key_points()[0], {"text": "a", "terms": []}]), 422, "key_points[1].terms"),
            ("POST", "/questions", qb(key_points=kp_too_many_terms), 422, "key_points[0].terms"),
            ("POST", "/questions", qb(key_points=[{"text": "a", "terms": [3]}, key_points()[0]]), 400, "key_points[0].terms[0]"),
            ("POST", "/questions", qb(key_points=[{"text": " ", "terms": ["a"]}, key_points()[0]]), 422, "key_points[0].text"),
            ("POST", "/questions", qb(key_points=[{"text": "a", "terms": ["a"], "weight": 2}, key_points()[0]]), 400, "key_points[0].weight"),
            ("POST", "/questions", qb(follow_ups=["Why?"]), 422, "follow_ups[0]"),
            ("POST", "/questions", qb(follow_ups=["What happened next?"] * 6), 422, "follow_ups"),
            ("POST", "/questions", qb(industry="astrology"), 422, "industry"),
            ("POST", "/questions", qb(industry="Software"), 422, "industry"),
            ("POST", "/questions", qb(role="wizard"), 422, "role"),
            ("POST", "/questions", qb(industry=None, role="registered-nurse"), 422, "role"),
            ("POST", "/questions", qb(id=str(uuid.uuid4())), 400, None),
            ("POST", "/questions", [qb()], 400, None),
            ("PATCH", f"/questions/{q['id']}", {"key_points": key_points(1)}, 422, "key_points"),
            ("PATCH", f"/questions/{q['id']}", {"competency": "charisma"}, 422, "competency"),
            ("PATCH", f"/questions/{uuid.uuid4()}", {"difficulty": "easy"}, 404, None),
        ]
        self.assertGreaterEqual(len(cases), 30)
        before = S.fingerprint()
        for method, path, body, status, field in cases:
            with self.subTest(case=f"{method} {path} {body}"):
                self.assertRefused(self.admin(method, path, body), status, field, f"{method} {path} {body}")
        self.assertEqual(S.fingerprint(), before)


if __name__ == "__main__":
    unittest.main(verbosity=2)
