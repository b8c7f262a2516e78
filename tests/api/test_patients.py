"""Patients (API.md "Scribe: patients, notes"): CRUD owned by the caller, validation, search by
name, the patient's sessions, and a session's patient_id naming only the caller's own patient
on an upload, a PATCH and a saved live stream (/ws/transcribe?save=1). Deleting a patient
unlinks its sessions, never deletes them.

One stack for the whole file; nothing sleeps to synchronise (waits poll with a deadline).
"""
import asyncio
import base64
import json
import os
import secrets
import subprocess
import sys
import threading
import unittest
import uuid
import wave

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from checks import ApiCase  # noqa: E402
from stack import PG, PSQL, SOURCE, Stack  # noqa: E402

import websockets  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

S = None
API = "/api/v1"
with open(os.path.join(SOURCE, "tests/fixtures/audio/tone440_1s.wav"), "rb") as f:
    WAV = f.read()
CLIP = os.path.join(SOURCE, "..", "shared", "data", "speech", "read", "cmu_arctic_a0024.wav")


def setUpModule():
    global S
    S = Stack("patients")


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


def upload(token, **fields):
    body, ctype = multipart([("file", WAV, "t.wav", "audio/wav")] + [(k, v, None, None) for k, v in fields.items()])
    return S.request("POST", f"{API}/sessions", body=body, token=token, content_type=ctype)


def new_patient(token, **fields):
    body = {"name": "Ada Patient", **fields}
    r = S.post(f"{API}/patients", body, token=token)
    assert r.status == 201, r
    return r.json()


def upgrade(path):
    h = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
         "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()}
    return S.get(path, headers=h)


async def stream_saved(token, midway=None, **params):
    """Streams CLIP to /ws/transcribe?save=1 (calling midway() after the first frame); returns
    the saved session's id."""
    qs = "&".join(f"{k}={v}" for k, v in {"token": token, "save": 1, **params}.items())
    w = wave.open(CLIP)
    rate = w.getframerate()
    async with websockets.connect(f"ws://127.0.0.1:{S.port}/ws/transcribe?{qs}", max_size=None) as ws:
        await ws.send(json.dumps({"config": {"sample_rate": rate}}))
        while True:
            chunk = w.readframes(rate // 2)
            if not chunk:
                break
            await ws.send(chunk)
            await asyncio.wait_for(ws.recv(), 30)
            if midway:
                await asyncio.get_running_loop().run_in_executor(None, midway)
                midway = None
        await ws.send('{"eof": 1}')
        sid = None
        try:
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 30))
                sid = m.get("session_id", sid)
        except ConnectionClosed:
            pass
        return sid


class Patients(ApiCase):
    def test_crud(self):
        _, token, _ = S.new_user()
        r = S.post(f"{API}/patients", {"name": "  Grace Hopper ", "age": 85, "gender": "female",
                                       "phone": "+1 202-555-0143", "notes": "prefers mornings"}, token=token)
        self.assertEqual(r.status, 201, r)
        p = r.json()
        self.assertEqual(r.header("location"), f"{API}/patients/{p['id']}")
        self.assertEqual((p["name"], p["age"], p["gender"], p["phone"], p["notes"]),
                         ("Grace Hopper", 85, "female", "+1 202-555-0143", "prefers mornings"))
        self.assertEqual(S.get(f"{API}/patients/{p['id']}", token=token).json(), p)
        r = S.request("PATCH", f"{API}/patients/{p['id']}", json_body={"age": 86, "phone": None, "notes": None},
                      token=token)
        self.assertEqual(r.status, 200, r)
        q = r.json()
        self.assertEqual((q["name"], q["age"], q["phone"], q["notes"], q["gender"]),
                         ("Grace Hopper", 86, None, None, "female"))
        r = S.request("PATCH", f"{API}/patients/{p['id']}", json_body={"age": None}, token=token)
        self.assertIsNone(r.json()["age"], r)
        self.assertEqual(S.request("DELETE", f"{API}/patients/{p['id']}", token=token).status, 204)
        self.assertProblem(S.get(f"{API}/patients/{p['id']}", token=token), 404)
        self.assertProblem(S.request("DELETE", f"{API}/patients/{p['id']}", token=token), 404)

    def test_validation_refuses_and_stores_nothing(self):
        _, token, _ = S.new_user()
        bad = [
            ({"name": ""}, 422, "name"), ({"name": "x" * 201}, 422, "name"), ({"name": "   "}, 422, "name"),
            ({}, 422, "name"), ({"name": "A", "age": -1}, 422, "age"), ({"name": "A", "age": 151}, 422, "age"),
            ({"name": "A", "age": 1.5}, 400, "age"), ({"name": "A", "age": "40"}, 400, "age"),
            ({"name": "A", "phone": "call me"}, 422, "phone"), ({"name": "A", "phone": "1234"}, 422, "phone"),
            ({"name": "A", "phone": "+1 2345 6789 0123 4567 8901"}, 422, "phone"),
            ({"name": "A", "phone": "++44 20 7946"}, 422, "phone"), ({"name": "A", "phone": "020--7946 0958"}, 422, "phone"),
            ({"name": "A", "phone": "020 7946 0958-"}, 422, "phone"), ({"name": "A", "mrn": "1"}, 400, "mrn"),
            ({"name": 7}, 400, "name"),
        ]
        before = S.fingerprint()
        for body, status, field in bad:
            with self.subTest(body=body):
                r = S.post(f"{API}/patients", body, token=token)
                b = self.assertProblem(r, status)
                self.assertIn(field, [e["field"] for e in b.get("errors", [])], r)
        for raw in (b"{", b"[]", b'{"name":"A","name":"B"}'):
            self.assertProblem(S.request("POST", f"{API}/patients", body=raw, content_type="application/json",
                                         token=token), 400)
        self.assertEqual(S.fingerprint(), before)
        for phone in ("+44 20 7946 0958", "555-0100", "12345", "+12345678901234567890"):
            self.assertEqual(S.post(f"{API}/patients", {"name": "A", "phone": phone}, token=token).status, 201, phone)
        self.assertEqual(S.post(f"{API}/patients", {"name": "x" * 200, "age": 0}, token=token).status, 201)
        self.assertEqual(S.post(f"{API}/patients", {"name": "y", "age": 150}, token=token).status, 201)

    def test_search_by_name_contains_case_insensitive_with_like_characters_literal(self):
        _, token, _ = S.new_user()
        names = ["Alice Smith", "bob SMITHSON", "Carol Jones", "100% Real", "under_score"]
        for n in names:
            new_patient(token, name=n)
        def found(q):
            r = S.get(f"{API}/patients?q={q}", token=token)
            self.assertEqual(r.status, 200, r)
            return sorted(p["name"] for p in r.json()["items"])
        self.assertEqual(found("smith"), ["Alice Smith", "bob SMITHSON"])
        self.assertEqual(found("%25"), ["100% Real"])      # % is literal
        self.assertEqual(found("_"), ["under_score"])      # _ is literal
        self.assertEqual(found("zzz"), [])
        self.assertEqual(len(S.get(f"{API}/patients", token=token).json()["items"]), len(names))
        self.assertProblem(S.get(f"{API}/patients?q={'a' * 201}", token=token), 400)
        # paging walks every patient once
        seen, cursor = [], None
        while True:
            r = S.get(f"{API}/patients?limit=2" + (f"&cursor={cursor}" if cursor else ""), token=token).json()
            seen += [p["id"] for p in r["items"]]
            cursor = r["next_cursor"]
            if not cursor:
                break
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(len(seen), len(names))

    def test_another_users_patient_404_on_every_route_and_422_as_a_sessions_patient(self):
        _, mine, _ = S.new_user()
        _, theirs, _ = S.new_user()
        p = new_patient(theirs)
        pid = p["id"]
        before = S.fingerprint()
        for m, path, body in [("GET", f"{API}/patients/{pid}", None), ("PATCH", f"{API}/patients/{pid}", {"name": "x"}),
                              ("DELETE", f"{API}/patients/{pid}", None), ("GET", f"{API}/patients/{pid}/sessions", None)]:
            with self.subTest(route=f"{m} {path}"):
                r = S.request(m, path, json_body=body, token=mine)
                self.assertProblem(r, 404)
        self.assertNotIn(pid, [x["id"] for x in S.get(f"{API}/patients", token=mine).json()["items"]])
        self.assertEqual(S.fingerprint(), before)
        files = S.audio_files()
        # an upload naming their patient (or an unknown one): 422 naming patient_id, nothing stored
        for bad in (pid, str(uuid.uuid4())):
            b = self.assertProblem(upload(mine, kind="scribe", patient_id=bad), 422)
            self.assertEqual([e["field"] for e in b["errors"]], ["patient_id"])
            r = S.request("POST", f"{API}/sessions?kind=scribe&patient_id={bad}", body=WAV,
                          content_type="audio/wav", token=mine)
            self.assertProblem(r, 422)
        self.assertEqual(S.fingerprint(), before)
        self.assertEqual(S.audio_files(), files)
        # a PATCH naming it: 422, the session unchanged
        r = upload(mine, kind="scribe")
        self.assertEqual(r.status, 202, r)
        sid = r.json()["id"]
        S.quiesce()
        before = S.fingerprint()
        b = self.assertProblem(S.request("PATCH", f"{API}/sessions/{sid}", json_body={"patient_id": pid}, token=mine), 422)
        self.assertEqual(b["errors"][0]["field"], "patient_id")
        self.assertEqual(S.fingerprint(), before)
        # a saved stream naming it: refused before the upgrade, nothing stored
        r = upgrade(f"/ws/transcribe?token={mine}&save=1&kind=scribe&patient_id={pid}")
        b = self.assertProblem(r, 422)
        self.assertEqual(b["errors"][0]["field"], "patient_id")
        self.assertEqual(S.fingerprint(), before)
        self.assertEqual(len(S.audio_files()), len(files) + 1)
        self.assertProblem(upgrade(f"/ws/transcribe?token={mine}&patient_id={pid}"), 400)  # only with save=1
        self.assertProblem(upgrade(f"/ws/transcribe?token={mine}&save=1&consent=maybe"), 422)

    def test_own_patient_on_upload_patch_and_stream_and_the_patients_sessions(self):
        _, token, _ = S.new_user()
        p = new_patient(token)
        other = new_patient(token, name="Other")
        r = upload(token, kind="scribe", patient_id=p["id"], consent="true")
        self.assertEqual(r.status, 202, r)
        first = r.json()
        self.assertEqual((first["patient_id"], first["consent"]), (p["id"], True))
        r = S.request("POST", f"{API}/sessions?kind=scribe&patient_id={p['id']}", body=WAV,
                      content_type="audio/wav", token=token)
        self.assertEqual(r.status, 202, r)
        second = r.json()
        self.assertFalse(second["consent"])
        third = upload(token, kind="scribe").json()
        r = S.request("PATCH", f"{API}/sessions/{third['id']}", json_body={"patient_id": other["id"]}, token=token)
        self.assertEqual(r.json()["patient_id"], other["id"], r)
        sid = asyncio.run(stream_saved(token, kind="scribe", patient_id=p["id"], consent="true"))
        self.assertIsNotNone(sid)
        s = S.get(f"{API}/sessions/{sid}", token=token).json()
        self.assertEqual((s["patient_id"], s["consent"]), (p["id"], True))
        # the patient's sessions: newest first, the sessions list's shape, paged
        r = S.get(f"{API}/patients/{p['id']}/sessions", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([x["id"] for x in r.json()["items"]], [sid, second["id"], first["id"]])
        self.assertIn("audio_format", r.json()["items"][0])
        page = S.get(f"{API}/patients/{p['id']}/sessions?limit=2", token=token).json()
        self.assertEqual(len(page["items"]), 2)
        rest = S.get(f"{API}/patients/{p['id']}/sessions?limit=2&cursor={page['next_cursor']}", token=token).json()
        self.assertEqual([x["id"] for x in rest["items"]], [first["id"]])
        self.assertIsNone(rest["next_cursor"])
        self.assertEqual([x["id"] for x in S.get(f"{API}/patients/{other['id']}/sessions", token=token).json()["items"]],
                         [third["id"]])
        S.quiesce()

    def test_delete_unlinks_the_sessions_and_keeps_them(self):
        _, token, _ = S.new_user()
        # Deleted while the worker is processing its sessions (it deadlocked with the worker
        # before delete_patient locked the sessions first: 503).
        for _ in range(3):
            q = new_patient(token)
            for _ in range(3):
                upload(token, kind="scribe", patient_id=q["id"])
            r = S.request("DELETE", f"{API}/patients/{q['id']}", token=token)
            self.assertEqual(r.status, 204, r)
        p = new_patient(token)
        ids = [upload(token, kind="scribe", patient_id=p["id"]).json()["id"] for _ in range(2)]
        self.assertEqual(S.request("DELETE", f"{API}/patients/{p['id']}", token=token).status, 204)
        for sid in ids:
            r = S.get(f"{API}/sessions/{sid}", token=token)
            self.assertEqual(r.status, 200, r)
            self.assertIsNone(r.json()["patient_id"])
        self.assertEqual(S.get(f"{API}/sessions?patient_id={p['id']}", token=token).json()["items"], [])
        self.assertProblem(S.get(f"{API}/patients/{p['id']}/sessions", token=token), 404)
        S.quiesce()

    def test_delete_waits_for_a_transaction_updating_its_sessions_instead_of_deadlocking(self):
        """A worker's store() updates its session twice in one transaction; the second update
        checks the (patient_id, user_id) key, taking a share lock on the patient. A delete that
        locked the patient first and then waited for the session deadlocked (503). Played here
        deterministically: a transaction updates the session once, the DELETE comes, then the
        second update and the commit."""
        _, token, _ = S.new_user()
        p = new_patient(token)
        sid = upload(token, kind="scribe", patient_id=p["id"]).json()["id"]
        S.quiesce()
        tx = subprocess.Popen([PSQL, "-h", f"{PG}/run", "-d", S.db, "-AtXq", "-v", "ON_ERROR_STOP=1"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            tx.stdin.write(f"BEGIN; UPDATE sessions SET title = 'one' WHERE id = '{sid}'; SELECT 'held';\n")
            tx.stdin.flush()
            self.assertEqual(tx.stdout.readline().strip(), "held")
            result = {}
            t = threading.Thread(target=lambda: result.update(
                r=S.request("DELETE", f"{API}/patients/{p['id']}", token=token)))
            t.start()
            S.wait_until(lambda: S.sql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                       f"AND datname = '{S.db}'") != [["0"]], timeout=10, what="the delete to wait")
            tx.stdin.write(f"UPDATE sessions SET title = 'two' WHERE id = '{sid}'; COMMIT; SELECT 'done';\n")
            tx.stdin.flush()
            self.assertEqual(tx.stdout.readline().strip(), "done", tx.stderr.read() if tx.poll() else "")
            t.join(30)
            self.assertEqual(result["r"].status, 204, result["r"])
        finally:
            tx.stdin.close()
            tx.wait(10)
        s = S.get(f"{API}/sessions/{sid}", token=token).json()
        self.assertEqual((s["title"], s["patient_id"]), ("two", None))

    def test_a_patient_deleted_during_a_saved_stream_leaves_the_session_stored_unlinked(self):
        _, token, _ = S.new_user()
        p = new_patient(token)
        def delete():
            assert S.request("DELETE", f"{API}/patients/{p['id']}", token=token).status == 204
        sid = asyncio.run(stream_saved(token, midway=delete, kind="scribe", patient_id=p["id"]))
        self.assertIsNotNone(sid, "the stream was not stored")
        s = S.get(f"{API}/sessions/{sid}", token=token).json()
        self.assertIsNone(s["patient_id"])
        self.assertTrue(s["transcript"]["words"])
        S.quiesce()

    def test_malformed_requests_change_nothing(self):
        _, token, _ = S.new_user()
        p = new_patient(token)
        before = S.fingerprint()
        cases = [
            ("GET", f"{API}/patients?limit=0", None, 400), ("GET", f"{API}/patients?limit=abc", None, 400),
            ("GET", f"{API}/patients?cursor=garbage", None, 400), ("GET", f"{API}/patients?sort=name", None, 422),
            ("GET", f"{API}/patients/not-a-uuid", None, (404, 422)),
            ("PATCH", f"{API}/patients/{p['id']}", {"age": 200}, 422),
            ("PATCH", f"{API}/patients/{p['id']}", {"name": ""}, 422),
            ("PATCH", f"{API}/patients/{p['id']}", {"id": str(uuid.uuid4())}, 400),
            ("PATCH", f"{API}/patients/{p['id']}", {"phone": "abc"}, 422),
            ("GET", f"{API}/patients/{p['id']}/sessions?limit=101", None, 400),
            ("GET", f"{API}/patients/{p['id']}/sessions?kind=scribe", None, 422),
            ("DELETE", f"{API}/patients/{p['id']}?force=1", None, 422),
        ]
        for m, path, body, status in cases:
            with self.subTest(case=f"{m} {path} {body}"):
                self.assertProblem(S.request(m, path, json_body=body, token=token), status)
        self.assertProblem(S.request("PATCH", f"{API}/patients/{p['id']}", body=b"name=x",
                                     content_type="application/x-www-form-urlencoded", token=token), (400, 415))
        self.assertProblem(S.get(f"{API}/patients"), 401)
        self.assertEqual(S.fingerprint(), before)


if __name__ == "__main__":
    unittest.main(verbosity=2)
