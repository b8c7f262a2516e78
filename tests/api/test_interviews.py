"""The interview simulator through nginx (API.md "Interviews"): preferences, an interview from
its first question to its scorecard with typed answers, follow-ups that react to a poor answer
(and none after a strong one, at most one per question), 409 for anything but the current
question and for a finished interview, a stranger's 404 on every interview route, bad input
refused with nothing stored, a voice answer end to end (a real recording, the worker's
interview.turn event), and the dashboard after finished interviews.

The bank is the seed of migration 0011. Nothing sleeps to synchronise: every wait is a poll
with a deadline."""
import json
import os
import secrets
import sys
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import stack  # noqa: E402
from checks import ApiCase  # noqa: E402
from stack import Stack  # noqa: E402

S = None
API = "/api/v1"
SPEECH = os.environ.get("ROSTRUM_SPEECH_DATA",
                        os.path.join(stack.SOURCE, "..", "shared", "data", "speech"))
HARVARD = os.path.join(SPEECH, "read", "harvard_sentences.wav")
JOB_S = 180
U = {}

POOR = "I don't know, maybe."


def setUpModule():
    global S
    S = Stack("interviews")
    for name in ("admin", "alice", "bob", "carol", "dave"):
        user, token, _ = S.new_user(name=name)
        U[name] = (user, token)


def tearDownModule():
    if S:
        S.stop()


def tok(name):
    return U[name][1]


def uid(name):
    return U[name][0]["id"]


def start(who="alice", **body):
    body.setdefault("industry", "software")
    return S.post(f"{API}/interviews", body, token=tok(who))


def started(case, who="alice", **body):
    r = start(who, **body)
    case.assertEqual(r.status, 201, r)
    return r.json()


def answer(iid, qid, text, who="alice"):
    return S.post(f"{API}/interviews/{iid}/answers", {"question_id": qid, "text": text},
                  token=tok(who))


def strong(question):
    """An answer that covers every key point (its terms), tells a concrete STAR story with
    numbers and an outcome, and is long enough for any question."""
    terms = " and ".join(t for k in question["key_points"] for t in k["terms"][:3])
    return ("In my last role at a logistics company the situation was that our release process "
            "kept failing and customers were waiting for fixes. My task was to lead the effort "
            "to make it reliable within one quarter. I analysed the failures, I spoke with each "
            "team, I set up a weekly review and I wrote a plan that covered " + terms + ". "
            "I then implemented the changes step by step with two colleagues and measured the "
            "results every week. As a result we cut failed releases from twelve to two a month, "
            "about 80 percent fewer, and customer complaints dropped by 35 percent. I learned "
            "to agree on the measure of success first, and the team still uses the review.")


def get_iv(iid, who="alice"):
    r = S.get(f"{API}/interviews/{iid}", token=tok(who))
    assert r.status == 200, r
    return r.json()


def multipart(parts):
    boundary = "iv" + secrets.token_hex(8)
    b = boundary.encode()
    body = b""
    for name, data, filename, ctype in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        head = f"Content-Disposition: {disp}\r\n" + (f"Content-Type: {ctype}\r\n" if ctype else "")
        body += b"--" + b + b"\r\n" + head.encode() + b"\r\n" + data + b"\r\n"
    return body + b"--" + b + b"--\r\n", f"multipart/form-data; boundary={boundary}"


def upload(iid, parts, who="alice"):
    body, ctype = multipart(parts)
    return S.request("POST", f"{API}/interviews/{iid}/answers", body=body, content_type=ctype,
                     token=tok(who), timeout=60)


def upload_raw(iid, data, ctype="audio/wav", who="alice", **query):
    qs = urllib.parse.urlencode(query)
    return S.request("POST", f"{API}/interviews/{iid}/answers" + (f"?{qs}" if qs else ""),
                     body=data, content_type=ctype, token=tok(who), timeout=60)


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Interviews(ApiCase):
    def finish_all(self, iv, who="alice"):
        """Answers every question strongly until none is open, then finishes: the scorecard."""
        for _ in range(60):
            cur = get_iv(iv["id"], who)["current_question"]
            if cur is None:
                break
            r = answer(iv["id"], cur["id"], strong(cur), who)
            self.assertEqual(r.status, 201, r)
        r = S.post(f"{API}/interviews/{iv['id']}/finish", token=tok(who))
        self.assertEqual(r.status, 200, r)
        return r.json()

    # --- preferences ---------------------------------------------------------------------------
    def test_preferences_fill_what_an_interview_leaves_out(self):
        r = S.get(f"{API}/me/preferences", token=tok("dave"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"industry": None, "role": None, "difficulty": "medium"})
        r = S.request("PUT", f"{API}/me/preferences", json_body={"role": "accountant", "difficulty": "hard"},
                      token=tok("dave"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"industry": "finance", "role": "accountant", "difficulty": "hard"})
        r = S.post(f"{API}/interviews", {}, token=tok("dave"))
        self.assertEqual(r.status, 201, r)
        iv = r.json()
        self.assertEqual((iv["industry"], iv["role"], iv["difficulty"], iv["question_count"], iv["mode"]),
                         ("finance", "accountant", "hard", 5, "voice"))
        q = iv["current_question"]
        self.assertEqual(q["difficulty"], "hard")
        self.assertIn(q["industry"], (None, "finance"))
        self.assertIn(q["role"], (None, "accountant"))
        self.assertEqual(len(iv["turns"]), 1)
        self.assertIsNone(iv["turns"][0]["answer"])

    # --- a typed interview from start to scorecard -------------------------------------------
    def test_typed_interview_from_start_to_scorecard(self):
        iv = started(self, industry="software", role="backend-engineer", difficulty="easy",
                     question_count=2, mode="text", answer_time_s=300)
        self.assertEqual(iv["status"], "in_progress")
        r = S.get(f"{API}/interviews/{iv['id']}/scorecard", token=tok("alice"))
        self.assertProblem(r, 409, "no scorecard before finish")
        card = self.finish_all(iv)
        for k in ("communication", "fluency", "confidence", "relevance", "structure", "overall"):
            self.assertTrue(0 <= card[k] <= 100, card)
        self.assertGreaterEqual(len(card["per_question"]), 2, card)
        self.assertEqual(card["skipped"], 0, card)
        self.assertTrue(card["strengths"] or card["improvements"], card)
        self.assertGreater(card["relevance"], 40, card)
        got = get_iv(iv["id"])
        self.assertEqual(got["status"], "finished")
        self.assertIsNone(got["current_question"])
        self.assertTrue(got["finished_at"])
        bank = [t for t in got["turns"] if t["follow_up_of"] is None]
        self.assertEqual(len(bank), 2)
        for t in got["turns"]:
            a = t["answer"]
            self.assertEqual(a["status"], "done", t)
            self.assertIsNone(a["session_id"])
            self.assertFalse(a["over_time"])
            self.assertEqual(set(a["feedback"]), {"relevance", "structure", "delivery", "grammar", "tips"})
        self.assertEqual(S.get(f"{API}/interviews/{iv['id']}/scorecard", token=tok("alice")).json(), card)
        # The list shows it (without turns), filtered.
        r = S.get(f"{API}/interviews?status=finished&role=backend-engineer", token=tok("alice"))
        self.assertEqual(r.status, 200, r)
        ids = [i["id"] for i in r.json()["items"]]
        self.assertIn(iv["id"], ids)
        self.assertNotIn("turns", r.json()["items"][0])
        r = S.get(f"{API}/interviews?industry=finance", token=tok("alice"))
        self.assertNotIn(iv["id"], [i["id"] for i in r.json()["items"]])
        # interview.turn was stored for each answer.
        n = S.sql(f"SELECT count(*) FROM events WHERE event = 'interview.turn' "
                  f"AND data->>'interview_id' = '{iv['id']}'")[0][0]
        self.assertEqual(int(n), len(got["turns"]))

    def test_unanswered_questions_count_as_skipped(self):
        iv = started(self, question_count=3)
        r = S.post(f"{API}/interviews/{iv['id']}/finish", token=tok("alice"))
        self.assertEqual(r.status, 200, r)
        card = r.json()
        self.assertEqual((card["skipped"], card["overall"], card["per_question"]), (3, 0, []))

    # --- follow-ups ---------------------------------------------------------------------------
    def test_a_poor_answer_gets_one_follow_up_a_strong_one_none(self):
        iv = started(self, question_count=2, difficulty="medium")
        first = iv["current_question"]
        r = answer(iv["id"], first["id"], POOR)
        self.assertEqual(r.status, 201, r)
        got = r.json()
        self.assertEqual(len(got["turns"]), 2, got)
        fu = got["turns"][1]
        self.assertEqual(fu["follow_up_of"], first["id"])
        self.assertEqual(got["current_question"]["id"], fu["question"]["id"])
        self.assertNotEqual(fu["question"]["id"], first["id"])
        self.assertTrue(got["turns"][0]["answer"]["feedback"]["relevance"]["missed"])
        # A poor answer to the follow-up: no second follow-up, the bank's next question.
        r = answer(iv["id"], fu["question"]["id"], POOR)
        self.assertEqual(r.status, 201, r)
        got = r.json()
        self.assertEqual(len(got["turns"]), 3)
        self.assertIsNone(got["turns"][2]["follow_up_of"])
        second = got["current_question"]
        self.assertNotEqual(second["id"], first["id"])
        # A strong answer: no follow-up; two bank questions asked, so none is open.
        r = answer(iv["id"], second["id"], strong(second))
        self.assertEqual(r.status, 201, r)
        got = r.json()
        self.assertEqual(len(got["turns"]), 3, got["turns"][-1])
        self.assertIsNone(got["current_question"])
        fb = got["turns"][2]["answer"]["feedback"]
        self.assertGreater(fb["relevance"]["score"], got["turns"][0]["answer"]["feedback"]["relevance"]["score"])

    # --- 409s ---------------------------------------------------------------------------------
    def test_only_the_current_question_of_an_open_interview_is_answered(self):
        iv = started(self, question_count=3)
        q1 = iv["current_question"]
        got = answer(iv["id"], q1["id"], strong(q1)).json()
        # Another interview's question, but not the one this interview asks now: with a bank
        # this size and many interviews of alice's, two interviews can ask the same question
        # (then the answer is rightly accepted).
        other = next(o for o in (started(self, question_count=3) for _ in range(20))
                     if o["current_question"]["id"] not in (q1["id"], got["current_question"]["id"]))
        before = (S.quiesce(), S.fingerprint())[1]
        for why, qid in (("an answered question", q1["id"]), ("an unknown id", str(uuid.uuid4())),
                         ("another interview's question", other["current_question"]["id"])):
            with self.subTest(why=why):
                self.assertProblem(answer(iv["id"], qid, "An answer."), 409, why)
        self.assertEqual(S.fingerprint(), before)
        self.assertIsNotNone(got["current_question"])

    # --- a stranger -----------------------------------------------------------------------------
    def test_a_stranger_gets_404_on_every_interview_route(self):
        iv = started(self)
        iid, qid = iv["id"], iv["current_question"]["id"]
        S.quiesce()
        before = S.fingerprint()
        calls = [
            ("GET", f"{API}/interviews/{iid}", None),
            ("POST", f"{API}/interviews/{iid}/answers", {"question_id": qid, "text": "mine now"}),
            ("POST", f"{API}/interviews/{iid}/finish", None),
            ("GET", f"{API}/interviews/{iid}/scorecard", None),
        ]
        for m, path, body in calls:
            with self.subTest(route=f"{m} {path}"):
                r = S.request(m, path, json_body=body, token=tok("bob"))
                self.assertProblem(r, 404, "a stranger")
        r = upload(iid, [("question_id", qid.encode(), None, None), ("file", read(HARVARD), "a.wav", "audio/wav")],
                   who="bob")
        self.assertProblem(r, 404, "a stranger's voice answer")
        self.assertNotIn(iid, [i["id"] for i in S.get(f"{API}/interviews", token=tok("bob")).json()["items"]])
        self.assertEqual(S.fingerprint(), before)

    # --- bad input: the status, and nothing stored ---------------------------------------------
    def test_bad_input_is_refused_and_nothing_is_stored(self):
        iv = started(self, question_count=1)
        iid, qid = iv["id"], iv["current_question"]["id"]
        done = started(self, question_count=1)
        self.finish_all(done)
        other = started(self, question_count=2)
        files_before = S.audio_files()
        big = json.dumps({"question_id": qid, "text": "x" * 70000})
        cases = [
            ("unknown industry", lambda: start(industry="mining"), 422),
            ("unknown role", lambda: start(role="astronaut"), 422),
            ("a role of another industry", lambda: start(industry="software", role="accountant"), 422),
            ("unknown difficulty", lambda: start(difficulty="extreme"), 422),
            ("question_count 0", lambda: start(question_count=0), 422),
            ("question_count 21", lambda: start(question_count=21), 422),
            ("question_count as a string", lambda: start(question_count="5"), 400),
            ("answer_time_s 29", lambda: start(answer_time_s=29), 422),
            ("answer_time_s 601", lambda: start(answer_time_s=601), 422),
            ("bad mode", lambda: start(mode="video"), 422),
            ("unknown field", lambda: start(colour="blue"), 400),
            ("no industry and no preference", lambda: S.post(f"{API}/interviews", {}, token=tok("bob")), 422),
            ("preferences: unknown industry",
             lambda: S.request("PUT", f"{API}/me/preferences", json_body={"industry": "mining"}, token=tok("alice")), 422),
            ("preferences: unknown difficulty",
             lambda: S.request("PUT", f"{API}/me/preferences", json_body={"difficulty": "x"}, token=tok("alice")), 422),
            ("an answer to a finished interview",
             lambda: answer(done["id"], done["turns"][0]["question"]["id"], "late"), 409),
            ("a question of another interview", lambda: answer(iid, other["current_question"]["id"], "text"), 409),
            ("oversized text (10001 characters)", lambda: answer(iid, qid, "a" * 10001), 422),
            ("a body over api.max_body_bytes",
             lambda: S.request("POST", f"{API}/interviews/{iid}/answers", body=big.encode(),
                               content_type="application/json", token=tok("alice")), 413),
            ("empty text", lambda: answer(iid, qid, ""), 422),
            ("blank text", lambda: answer(iid, qid, "   \n "), 422),
            ("no question_id",
             lambda: S.post(f"{API}/interviews/{iid}/answers", {"text": "hello"}, token=tok("alice")), 422),
            ("question_id not a uuid", lambda: answer(iid, "q1", "hello"), (400, 422)),
            ("bad audio", lambda: upload_raw(iid, b"this is not audio at all" * 100, question_id=qid), 415),
            ("an empty recording", lambda: upload_raw(iid, b"", question_id=qid), (400, 411, 422)),
            ("a voice answer without question_id",
             lambda: upload(iid, [("file", read(HARVARD), "a.wav", "audio/wav")]), 422),
            ("a voice answer to another interview's question",
             lambda: upload(iid, [("question_id", other["current_question"]["id"].encode(), None, None),
                                  ("file", read(HARVARD), "a.wav", "audio/wav")]), 409),
            ("a voice answer to a finished interview",
             lambda: upload_raw(done["id"], read(HARVARD), question_id=done["turns"][0]["question"]["id"]), 409),
            ("a text/plain body",
             lambda: S.request("POST", f"{API}/interviews/{iid}/answers", body=b"hello", content_type="text/plain",
                               token=tok("alice")), 415),
            ("finish twice", lambda: S.post(f"{API}/interviews/{done['id']}/finish", token=tok("alice")), 409),
            ("dashboard bucket=day", lambda: S.get(f"{API}/dashboard/progress?bucket=day", token=tok("alice")), (400, 422)),
            ("dashboard to before from",
             lambda: S.get(f"{API}/dashboard/progress?from=2026-02-01&to=2026-01-01", token=tok("alice")), 422),
        ]
        self.assertGreaterEqual(len(cases), 20)
        S.quiesce()
        before = S.fingerprint()
        for why, call, status in cases:
            with self.subTest(why=why):
                r = call()
                self.assertProblem(r, status, why)
                self.assertEqual(S.fingerprint(), before, f"{why}: something was stored")
        self.assertEqual(S.audio_files(), files_before)
        self.assertIsNone(get_iv(iid)["turns"][0]["answer"])

    # --- a voice answer end to end ------------------------------------------------------------
    def test_a_voice_answer_is_transcribed_analysed_and_announced(self):
        if not os.path.exists(HARVARD):
            self.skipTest(f"speech data not found at {SPEECH}")
        iv = started(self, question_count=1, answer_time_s=30)
        qid = iv["current_question"]["id"]
        r = upload(iv["id"], [("question_id", qid.encode(), None, None),
                              ("file", read(HARVARD), "answer.wav", "audio/wav")])
        self.assertEqual(r.status, 202, r)
        got = r.json()
        a = got["turns"][0]["answer"]
        self.assertEqual(a["status"], "processing")
        self.assertIsNone(got["current_question"])
        sid = a["session_id"]
        self.assertEqual(S.sql(f"SELECT kind FROM sessions WHERE id = '{sid}'"), [["interview"]])
        self.assertProblem(answer(iv["id"], qid, "typed meanwhile"), 409, "while processing")

        def announced():
            rows = S.sql(f"SELECT data FROM events WHERE user_id = '{uid('alice')}' AND event = 'interview.turn' "
                         f"AND data->>'interview_id' = '{iv['id']}'")
            if rows:
                return True
            S.ensure_job_worker()
            return False
        S.wait_until(announced, timeout=JOB_S, what="interview.turn for the voice answer")
        data = json.loads(S.sql(f"SELECT data FROM events WHERE event = 'interview.turn' "
                                f"AND data->>'interview_id' = '{iv['id']}'")[0][0])
        self.assertEqual((data["status"], data["question_id"], data["ordinal"]), ("done", qid, 1))
        got = get_iv(iv["id"])
        a = got["turns"][0]["answer"]
        self.assertEqual(a["status"], "done", a)
        self.assertEqual(a["session_id"], sid)
        self.assertTrue(a["text"])
        self.assertGreater(a["duration_s"], 10)
        self.assertTrue(a["over_time"] is (a["duration_s"] > 30))
        self.assertIsNotNone(a["feedback"]["delivery"]["wpm"])
        if data["next_question_id"]:
            self.assertEqual(got["current_question"]["id"], data["next_question_id"])

    # --- the dashboard ----------------------------------------------------------------------------
    def test_dashboard_buckets_after_two_finished_interviews(self):
        a = self.finish_all(started(self, who="carol", question_count=1), who="carol")
        b_iv = started(self, who="carol", question_count=1)
        b = self.finish_all(b_iv, who="carol")
        r = S.get(f"{API}/dashboard/progress?bucket=week", token=tok("carol"))
        self.assertEqual(r.status, 200, r)
        d = r.json()
        self.assertEqual(len(d["buckets"]), 1, d)
        self.assertEqual(d["buckets"][0]["interviews"], 2)
        self.assertAlmostEqual(d["buckets"][0]["overall"], (a["overall"] + b["overall"]) / 2, places=2)
        self.assertEqual(d["best"]["overall"], max(a["overall"], b["overall"]))
        self.assertIsNone(d["trend"]["overall"])
        # One of them two months ago: two month buckets and a trend.
        S.sql(f"UPDATE interviews SET finished_at = now() - interval '62 days', "
              f"created_at = now() - interval '62 days' WHERE id = '{b_iv['id']}'")
        d = S.get(f"{API}/dashboard/progress?bucket=month", token=tok("carol")).json()
        self.assertEqual([x["interviews"] for x in d["buckets"]], [1, 1], d)
        self.assertEqual(d["buckets"][0]["overall"], b["overall"])
        t = d["trend"]["overall"]
        self.assertEqual((t["from"], t["to"]), (b["overall"], a["overall"]))
        self.assertIn(t["direction"], ("up", "down", "flat"))
        # Another user sees none of it.
        d = S.get(f"{API}/dashboard/progress", token=tok("bob")).json()
        self.assertEqual((d["buckets"], d["best"]), ([], None))


if __name__ == "__main__":
    unittest.main(verbosity=2)
