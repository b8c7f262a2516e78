"""POST /api/v1/questions/generate (API.md "Interviews", issue 12): new questions for a role from
templates and keywords, the role's or a pasted job description's (TF-IDF against the shipped
background corpus), never repeating the bank's text.

The industries and roles it uses are made here with psql (unique slugs, their own keywords), so
the test does not depend on the seed's wording; the bank check reads every questions.text the
database holds (the seed's included) and adds one question equal to a generated one.

One stack for the whole file; nothing sleeps.
"""
import os
import re
import sys
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from checks import ApiCase  # noqa: E402
from stack import Stack  # noqa: E402

S = None
API = "/api/v1"
MEMBER = {}
SLUGS = {}
ROLE_KEYWORDS = ["service reliability", "incident response", "capacity planning"]
DESCRIPTION = """Site Reliability Engineer

You will run our Kafka clusters and PostgreSQL databases and keep the data pipelines healthy.

What you will do:
- Operate Kafka and PostgreSQL in production, with on-call for the data pipelines.
- Automate deployments with Terraform and Kubernetes.
- Tune PostgreSQL queries and plan Kafka capacity.
- Write runbooks for the data pipelines and review Terraform changes.

You have three years of experience, strong communication skills and a team spirit."""


def q(s):
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def setUpModule():
    global S
    S = Stack("question_generate")
    S.new_user()  # the first account is the admin: everything below runs as a member
    user, token, _ = S.new_user()
    assert user["role"] == "member", user
    MEMBER.update(user=user, token=token)
    tag = uuid.uuid4().hex[:8]
    SLUGS.update(industry=f"gen-ops-{tag}", other=f"gen-retail-{tag}", role=f"gen-sre-{tag}",
                 bare=f"gen-bare-{tag}", other_role=f"gen-cashier-{tag}")
    (ind,), = S.sql(f"INSERT INTO industries (slug, name, keywords) VALUES ({q(SLUGS['industry'])}, "
                    f"'Operations', ARRAY['uptime','on-call']) RETURNING id")
    (oth,), = S.sql(f"INSERT INTO industries (slug, name) VALUES ({q(SLUGS['other'])}, 'Retail') RETURNING id")
    kw = "ARRAY[" + ",".join(q(k) for k in ROLE_KEYWORDS) + "]"
    S.sql(f"INSERT INTO roles (industry_id, slug, name, keywords) VALUES "
          f"('{ind}', {q(SLUGS['role'])}, 'Site Reliability Engineer', {kw}), "
          f"('{ind}', {q(SLUGS['bare'])}, 'Operations Analyst', '{{}}'), "
          f"('{oth}', {q(SLUGS['other_role'])}, 'Cashier', ARRAY['tills'])")
    SLUGS["industry_id"], SLUGS["role_id"] = ind, None


def tearDownModule():
    S.stop()


def body(**kw):
    out = {"industry": SLUGS["industry"], "role": SLUGS["role"], "difficulty": "medium", "count": 5}
    out.update(kw)
    return {k: v for k, v in out.items() if v is not None}


def generate(token=None, **kw):
    return S.post(f"{API}/questions/generate", body(**kw), token=token or MEMBER["token"])


def norm(text):
    return " ".join(re.sub(r"[^a-z0-9\x80-\U0010ffff]+", " ", text.lower()).split())


class QuestionGenerate(ApiCase):
    def items(self, **kw):
        r = generate(**kw)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json()), {"items"}, r)
        return r.json()["items"]

    def assertField(self, r, status, field, why):
        p = self.assertProblem(r, status, why)
        self.assertIn(field, [e.get("field") for e in p.get("errors", [])], f"{why}: {r}")

    def test_count_is_honoured_by_a_member(self):
        for difficulty in ("easy", "medium", "hard"):
            for count in (1, 5, 20):
                with self.subTest(difficulty=difficulty, count=count):
                    items = self.items(count=count, difficulty=difficulty)
                    self.assertEqual(len(items), count)
                    texts = [norm(i["text"]) for i in items]
                    self.assertEqual(len(set(texts)), count, "a question twice in one response")

    def test_the_items_shape_and_key_points_from_the_keywords(self):
        items = self.items(count=9)
        competencies = set()
        for i in items:
            self.assertEqual(set(i), {"id", "text", "industry", "role", "difficulty", "competency",
                                      "key_points", "follow_ups"}, i)
            self.assertIsNone(i["id"])
            self.assertEqual((i["industry"], i["role"], i["difficulty"]),
                             (SLUGS["industry"], SLUGS["role"], "medium"))
            self.assertTrue(2 <= len(i["key_points"]) <= 5, i)
            for kp in i["key_points"]:
                self.assertEqual(set(kp), {"text", "terms"})
                self.assertTrue(kp["text"] and kp["terms"], kp)
            self.assertTrue(i["follow_ups"], i)
            # The first key point is about the question's keyword, its terms are the keyword's.
            first = i["key_points"][0]
            self.assertIn(first["terms"][0], i["text"].lower(), i)
            self.assertIn(first["terms"][0], first["text"].lower(), i)
            self.assertNotIn("{", i["text"] + " ".join(i["follow_ups"]))
            competencies.add(i["competency"])
        # Without a description: the role's keywords, every one of them used.
        for k in ROLE_KEYWORDS:
            self.assertTrue(any(k in i["text"] for i in items), f"{k} in no question")
        self.assertGreaterEqual(len(competencies), 5)

    def test_a_job_descriptions_keywords_fill_the_questions(self):
        items = self.items(count=5, job_description=DESCRIPTION)
        self.assertEqual(len(items), 5)
        text = " ".join(i["text"] for i in items)
        for k in ("Kafka", "PostgreSQL", "data pipelines", "Terraform"):
            self.assertIn(k, text, f"the description's keyword {k!r} is in no question")
        # Generic job-ad words and the job title are not keywords.
        firsts = [i["key_points"][0]["terms"][0] for i in items]
        for generic in ("experience", "communication", "team", "site reliability engineer"):
            self.assertNotIn(generic, firsts)
        # Not the role's keywords: the description had enough of its own.
        self.assertFalse(any(k in text for k in ROLE_KEYWORDS), text)

    def test_an_empty_description_falls_back_to_the_roles_keywords(self):
        plain = self.items(count=6)
        for blank in ("", "   \n\t  "):
            with self.subTest(description=repr(blank)):
                self.assertEqual(self.items(count=6, job_description=blank), plain)
        # A description of stop words only: the role's keywords too.
        self.assertEqual(self.items(count=6, job_description="the and of with you 2024"), plain)

    def test_a_role_without_keywords_uses_the_industrys_then_its_name(self):
        items = self.items(role=SLUGS["bare"], count=3)
        text = " ".join(i["text"] for i in items)
        self.assertTrue("uptime" in text or "on-call" in text, text)

    def test_never_a_bank_text(self):
        first = self.items(count=20, difficulty="hard")
        bank = {norm(t) for (t,) in S.sql("SELECT text FROM questions")}
        self.assertFalse(bank & {norm(i["text"]) for i in first})
        # A bank question worded like a generated one (differently spaced and capitalised):
        # the generator skips it and still answers 20.
        taken = first[0]["text"]
        S.sql("INSERT INTO questions (industry_id, difficulty, competency, text, key_points) VALUES "
              f"('{SLUGS['industry_id']}', 'hard', 'technical', {q('  ' + taken.upper() + ' ')}, "
              """'[{"text":"a","terms":["a"]},{"text":"b","terms":["b"]}]')""")
        again = self.items(count=20, difficulty="hard")
        self.assertEqual(len(again), 20)
        self.assertNotIn(norm(taken), {norm(i["text"]) for i in again})
        bank = {norm(t) for (t,) in S.sql("SELECT text FROM questions")}
        self.assertFalse(bank & {norm(i["text"]) for i in again})

    def test_nothing_is_stored(self):
        S.quiesce()
        before = S.fingerprint()
        self.items(count=20, job_description=DESCRIPTION)
        self.assertEqual(S.fingerprint(), before)

    def test_bad_input(self):
        cases = [
            ("count 0", dict(count=0), "count"),
            ("count 21", dict(count=21), "count"),
            ("count missing", dict(count=None), "count"),
            ("count a string", dict(count="5"), None),
            ("unknown difficulty", dict(difficulty="extreme"), "difficulty"),
            ("unknown industry", dict(industry="no-such-industry"), "industry"),
            ("unknown role", dict(role="no-such-role"), "role"),
            ("a role of another industry", dict(role=SLUGS["other_role"]), "role"),
            ("industry missing", dict(industry=None), "industry"),
            ("description too long", dict(job_description="a" * 20001), "job_description"),
        ]
        for why, kw, field in cases:
            with self.subTest(why=why):
                r = generate(**kw)
                if field:
                    self.assertField(r, 422, field, why)
                else:
                    self.assertProblem(r, (400, 422), why)
        # A description at the limit is read.
        self.assertEqual(len(self.items(count=1, job_description="kafka " * 3333 + "ab")), 1)
        # A body past api.max_body_bytes: 413 before anything is parsed.
        self.assertProblem(generate(job_description="b" * 70000), 413, "a 70 kB body")
        r = S.post(f"{API}/questions/generate", body(unexpected=1), token=MEMBER["token"])
        self.assertProblem(r, 400, "an unknown field")

    def test_needs_a_token(self):
        r = S.post(f"{API}/questions/generate", body())
        self.assertProblem(r, 401, "no token")


if __name__ == "__main__":
    unittest.main(verbosity=2)
