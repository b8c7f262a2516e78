"""Clinical notes (API.md "Scribe: patients, notes"): a scribe session recorded from real speech
reaches a draft note (summary and SOAP sections) when it is done; the draft is edited, approved
(frozen: 409 on edits), reopened as a new version, every state kept in an append-only history;
note.updated events reach the owner. Consent (scribe.require_consent=true on this stack) and
audio retention (scribe.retention_days=30, a sweep every second): an old scribe session's audio
is deleted, its note kept.

One stack for the whole file; waits poll with a deadline.
"""
import base64
import json
import os
import secrets
import subprocess
import sys
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from checks import ApiCase  # noqa: E402
from stack import SOURCE, Stack  # noqa: E402

S = None
API = "/api/v1"
SPEECH = os.path.join(SOURCE, "..", "shared", "data", "speech", "read")
RECORDING = os.path.join(SPEECH, "harvard_sentences.wav")  # several sentences with pauses
with open(os.path.join(SOURCE, "tests/fixtures/audio/tone440_1s.wav"), "rb") as f:
    TONE = f.read()


def setUpModule():
    global S
    S = Stack("notes", ROSTRUM_SCRIBE_REQUIRE_CONSENT="true", ROSTRUM_SCRIBE_RETENTION_DAYS=30,
              ROSTRUM_WORKER_SWEEP_INTERVAL_S=1)


def tearDownModule():
    S.stop()


def multipart(parts):
    boundary = "rostrum" + secrets.token_hex(12)
    out = []
    for name, value, filename, ctype in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        head = f"--{boundary}\r\nContent-Disposition: {disp}\r\n" + (f"Content-Type: {ctype}\r\n" if ctype else "")
        out.append(head.encode() + b"\r\n" + (value.encode() if isinstance(value, str) else value) + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def upload(token, data=TONE, **fields):
    body, ctype = multipart([("file", data, "c.wav", "audio/wav")] + [(k, v, None, None) for k, v in fields.items()])
    return S.request("POST", f"{API}/sessions", body=body, token=token, content_type=ctype)


def superuser_sql(query):
    """As the cluster's superuser (the test harness's own connection): what the app role may not."""
    return S.sql(query)


def done_session(token, data=TONE, **fields):
    r = upload(token, data, kind="scribe", consent="true", **fields)
    assert r.status == 202, r
    sid = r.json()["id"]
    S.wait_until(lambda: S.get(f"{API}/sessions/{sid}", token=token).json()["status"] in ("done", "failed"),
                 timeout=120, what="the scribe session to be done")
    assert S.get(f"{API}/sessions/{sid}", token=token).json()["status"] == "done"
    return sid


def events(token, name="note.updated"):
    """The caller's stored events of that name, oldest first (what /ws/events replays)."""
    me = S.get(f"{API}/auth/me", token=token).json()["id"]
    rows = S.sql(f"SELECT data::text FROM events WHERE user_id = '{me}' AND event = '{name}' ORDER BY seq")
    return [{"event": name, "data": json.loads(d)} for (d,) in rows]


class Notes(ApiCase):
    @classmethod
    def setUpClass(cls):
        # One real consultation-length recording, transcribed once, shared by the cases.
        _, cls.token, _ = S.new_user()
        with open(RECORDING, "rb") as f:
            cls.sid = done_session(cls.token, f.read(), title="visit")

    def note(self, sid=None, token=None):
        r = S.get(f"{API}/sessions/{sid or self.sid}/note", token=token or self.token)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def test_a_real_recording_reaches_a_draft_with_summary_and_sections(self):
        n = self.note()
        self.assertEqual(n["status"], "draft")
        self.assertEqual(n["version"], 1)
        self.assertIsNone(n["approved_at"])
        self.assertTrue(n["summary"].strip(), n)
        self.assertEqual(set(n["sections"]), {"subjective", "objective", "assessment", "plan"})
        # every summary sentence is the recording's own words (extractive: nothing invented)
        words = S.get(f"{API}/sessions/{self.sid}", token=self.token).json()["transcript"]["words"]
        transcript = " ".join(w["word"] for w in words if not w["filler"])  # the draft drops fillers
        for sentence in n["summary"].rstrip(".").split(". "):
            self.assertIn(sentence.lower().rstrip("."), transcript.lower(), n["summary"])
        ev = [e for e in events(self.token) if e["data"]["session_id"] == self.sid]
        self.assertEqual(ev[0]["data"], {"session_id": self.sid, "status": "draft", "version": 1,
                                         "action": "drafted"})

    def test_review_edit_approve_409_reopen_history(self):
        sid = done_session(self.token)
        n = self.note(sid)
        text = {"summary": "Sore throat for three days.",
                "sections": {"subjective": "Sore throat, fever.", "objective": "T 38.5 C.",
                             "assessment": "Likely strep.", "plan": "Penicillin 10 days."}}
        r = S.request("PUT", f"{API}/sessions/{sid}/note", json_body=text, token=self.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["summary"], r.json()["sections"]), (text["summary"], text["sections"]))
        r = S.post(f"{API}/sessions/{sid}/note/approve", token=self.token)
        self.assertEqual(r.status, 200, r)
        approved = r.json()
        self.assertEqual(approved["status"], "approved")
        self.assertIsNotNone(approved["approved_at"])
        before = S.fingerprint()
        edit = dict(text, summary="changed after approval")
        self.assertProblem(S.request("PUT", f"{API}/sessions/{sid}/note", json_body=edit, token=self.token), 409)
        self.assertProblem(S.post(f"{API}/sessions/{sid}/note/approve", token=self.token), 409)
        self.assertEqual(S.fingerprint(), before)
        # the app role cannot rewrite an approved note behind the API either (the freeze trigger)
        with self.assertRaises(subprocess.CalledProcessError):
            superuser_sql(f"UPDATE clinical_notes SET summary = 'x' WHERE session_id = '{sid}'")
        r = S.post(f"{API}/sessions/{sid}/note/reopen", token=self.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["status"], r.json()["version"], r.json()["summary"]),
                         ("draft", 2, text["summary"]))
        self.assertProblem(S.post(f"{API}/sessions/{sid}/note/reopen", token=self.token), 409)
        r = S.request("PUT", f"{API}/sessions/{sid}/note", json_body=edit, token=self.token)
        self.assertEqual(r.status, 200, r)
        h = S.get(f"{API}/sessions/{sid}/note/history", token=self.token)
        self.assertEqual(h.status, 200, h)
        items = h.json()["items"]
        self.assertEqual([(v["version"], v["status"], v["action"]) for v in items],
                         [(2, "draft", "edited"), (2, "draft", "reopened"), (1, "approved", "approved"),
                          (1, "draft", "edited"), (1, "draft", "drafted")])
        me = S.get(f"{API}/auth/me", token=self.token).json()["id"]
        self.assertEqual([v["actor_id"] for v in items], [me, me, me, me, None])
        self.assertEqual(items[-1]["summary"], n["summary"])       # the worker's draft, kept
        self.assertEqual(items[2]["sections"], text["sections"])  # what was approved, kept
        for v in items:
            self.assertEqual(set(v), {"version", "at", "actor_id", "action", "status", "summary", "sections"})
        # paged, newest first
        p1 = S.get(f"{API}/sessions/{sid}/note/history?limit=2", token=self.token).json()
        p2 = S.get(f"{API}/sessions/{sid}/note/history?limit=2&cursor={p1['next_cursor']}", token=self.token).json()
        self.assertEqual(p1["items"] + p2["items"], items[:4])
        # append-only: the app role reads the history and nothing else (its versions are written
        # by the notes' trigger, as the owner, so the app cannot forge one's actor or time)
        grants = superuser_sql("SELECT privilege_type FROM information_schema.role_table_grants "
                               "WHERE table_name = 'clinical_note_versions' AND grantee = 'rostrum_app' ORDER BY 1")
        self.assertEqual([g[0] for g in grants], ["SELECT"])
        with self.assertRaises(subprocess.CalledProcessError):
            superuser_sql(f"UPDATE clinical_note_versions SET summary = 'x' WHERE session_id = '{sid}'")
        # events to the owner for each change
        actions = [e["data"]["action"] for e in events(self.token) if e["data"]["session_id"] == sid]
        self.assertEqual(actions, ["drafted", "edited", "approved", "reopened", "edited"])

    def test_notes_are_the_owners_and_only_of_scribe_sessions(self):
        _, other, _ = S.new_user()
        before = S.fingerprint()
        body = {"summary": "", "sections": {"subjective": "", "objective": "", "assessment": "", "plan": ""}}
        for m, suffix, b in [("GET", "", None), ("PUT", "", body), ("POST", "/approve", None),
                             ("POST", "/reopen", None), ("GET", "/history", None)]:
            with self.subTest(route=f"{m} note{suffix}"):
                self.assertProblem(S.request(m, f"{API}/sessions/{self.sid}/note{suffix}", json_body=b, token=other), 404)
                self.assertProblem(S.request(m, f"{API}/sessions/{uuid.uuid4()}/note{suffix}", json_body=b,
                                             token=self.token), 404)
        self.assertEqual(S.fingerprint(), before)
        self.assertEqual(events(other), [])
        # a practice session has no note: 404; a scribe session not done yet: 409
        r = S.request("POST", f"{API}/sessions?kind=practice", body=TONE, content_type="audio/wav", token=self.token)
        self.assertProblem(S.get(f"{API}/sessions/{r.json()['id']}/note", token=self.token), 404)
        r = upload(self.token, kind="scribe", consent="true")
        sid = r.json()["id"]
        early = S.get(f"{API}/sessions/{sid}/note", token=self.token)
        if early.status != 200:  # the worker may be that fast
            self.assertProblem(early, 409)
        S.quiesce()

    def test_consent_required_for_scribe_uploads_and_streams(self):
        _, token, _ = S.new_user()
        before = S.fingerprint()
        files = S.audio_files()
        for fields in ({"kind": "scribe"}, {"kind": "scribe", "consent": "false"}):
            b = self.assertProblem(upload(token, **fields), 422)
            self.assertEqual(b["errors"][0]["field"], "consent")
        self.assertProblem(upload(token, kind="scribe", consent="yes please"), 422)
        self.assertProblem(S.request("POST", f"{API}/sessions?kind=scribe", body=TONE, content_type="audio/wav",
                                     token=token), 422)
        h = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
             "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()}
        b = self.assertProblem(S.get(f"/ws/transcribe?token={token}&save=1&kind=scribe", headers=h), 422)
        self.assertEqual(b["errors"][0]["field"], "consent")
        self.assertEqual(S.fingerprint(), before)
        self.assertEqual(S.audio_files(), files)
        # other kinds need none; a scribe upload with consent=true is stored with it
        self.assertEqual(upload(token, kind="memo").status, 202)
        r = S.request("POST", f"{API}/sessions?kind=scribe&consent=true", body=TONE, content_type="audio/wav",
                      token=token)
        self.assertEqual(r.status, 202, r)
        self.assertTrue(r.json()["consent"])
        S.quiesce()

    def test_retention_deletes_old_scribe_audio_and_keeps_the_note(self):
        _, token, _ = S.new_user()
        old = done_session(token)
        S.post(f"{API}/sessions/{old}/note/approve", token=token)
        recent = done_session(token)
        practice = S.request("POST", f"{API}/sessions?kind=practice", body=TONE, content_type="audio/wav",
                             token=token).json()["id"]
        S.quiesce()
        path = S.sql(f"SELECT audio_path FROM sessions WHERE id = '{old}'")[0][0]
        note = self.note(old, token)
        # 31 days old, as the superuser (the API never moves created_at)
        superuser_sql(f"UPDATE sessions SET created_at = now() - interval '31 days' "
                      f"WHERE id IN ('{old}', '{practice}')")
        S.wait_until(lambda: S.sql(f"SELECT audio_deleted_at IS NOT NULL FROM sessions WHERE id = '{old}'") == [["t"]],
                     timeout=30, what="the retention sweep")
        self.assertNotIn(path, S.audio_files())
        r = S.get(f"{API}/sessions/{old}/audio", token=token)
        self.assertProblem(r, 410)
        s = S.get(f"{API}/sessions/{old}", token=token).json()
        self.assertIsNotNone(s["audio_deleted_at"])
        self.assertTrue(s["transcript"] is not None and s["status"] == "done", s)
        self.assertEqual(self.note(old, token), note)
        self.assertProblem(S.post(f"{API}/sessions/{old}/reanalyze", token=token), 409)
        # a recent scribe session and an old practice one keep their audio
        self.assertEqual(S.get(f"{API}/sessions/{recent}/audio", token=token).status, 200)
        self.assertEqual(S.get(f"{API}/sessions/{practice}/audio", token=token).status, 200)

    def test_malformed_note_requests_change_nothing(self):
        sid = self.sid
        url = f"{API}/sessions/{sid}/note"
        good = {"subjective": "", "objective": "", "assessment": "", "plan": ""}
        before = S.fingerprint()
        cases = [
            ({}, 422), ({"summary": "x"}, 422), ({"sections": good}, 422),
            ({"summary": "x", "sections": "text"}, 422), ({"summary": "x", "sections": []}, 422),
            ({"summary": 1, "sections": good}, 400), ({"summary": "x", "sections": dict(good, plan=None)}, (400, 422)),
            ({"summary": "x", "sections": {"subjective": ""}}, 422),
            ({"summary": "x", "sections": dict(good, extra="")}, 400),
            ({"summary": "x", "sections": good, "status": "approved"}, 400),
            ({"summary": "x" * 20001, "sections": good}, 422),
            ({"summary": "x", "sections": dict(good, plan="p" * 20001)}, 422),
        ]
        for body, status in cases:
            with self.subTest(body=str(body)[:80]):
                self.assertProblem(S.request("PUT", url, json_body=body, token=self.token), status)
        for raw in (b"{", b"null", b'{"summary":"a","summary":"b","sections":{}}'):
            self.assertProblem(S.request("PUT", url, body=raw, content_type="application/json", token=self.token), 400)
        self.assertProblem(S.get(f"{url}/history?limit=0", token=self.token), 400)
        self.assertProblem(S.get(f"{url}/history?cursor=zzz", token=self.token), 400)
        self.assertProblem(S.get(f"{url}?format=txt", token=self.token), 422)
        self.assertProblem(S.post(f"{url}/approve?now=1", token=self.token), 422)
        self.assertProblem(S.request("DELETE", url, token=self.token), 405)
        self.assertProblem(S.get(url), 401)
        self.assertEqual(S.fingerprint(), before)


if __name__ == "__main__":
    unittest.main(verbosity=2)
