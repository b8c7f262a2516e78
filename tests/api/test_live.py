"""`rostrum live` through nginx: the vosk conversation on /ws/transcribe (with save=1), auth
and Origin refused before the upgrade, bad frames closed with the documented codes while other
sockets keep working, and /ws/events: owner only, ?since= replay, PostgreSQL restarted and the
daemon killed with -9 without losing an event. Uses Debian's python3-websockets; nothing sleeps
to synchronise (every wait is a receive or a poll with a deadline)."""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import secrets
import subprocess
import sys
import time
import unittest
import urllib.parse
import wave

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from stack import BIN, SOURCE, Stack  # noqa: E402

import websockets  # noqa: E402
from websockets.exceptions import ConnectionClosed, InvalidStatusCode  # noqa: E402

READ = "/work/shared/data/speech/read"
CLIP = os.path.join(READ, "cmu_arctic_a0024.wav")  # 4 s, 16 kHz mono
MAX_MESSAGE = 65536
RECV_TIMEOUT = 30


def word_error_rate(ref, hyp):
    r, h = ref.split(), hyp.split()
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(h)] / max(1, len(r))


def process_gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


async def recv_json(ws, timeout=RECV_TIMEOUT):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def send_until_closed(ws, messages):
    """Sends each message. The server may close while a later one is still on its way (that is
    what the test provokes): websockets then raises from send, and the close code still tells."""
    try:
        for m in messages:
            await ws.send(m)
    except ConnectionClosed:
        pass


async def closed_with(ws, timeout=RECV_TIMEOUT):
    """Reads until the server closes; returns (code, reason)."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except ConnectionClosed:
        pass
    return ws.close_code, ws.close_reason


def publish(st, user_id, event, n):
    """Stores and announces an event exactly as db::publish_event does; returns its seq."""
    rows = st.sql(
        "WITH e AS (INSERT INTO events (user_id, event, data) VALUES "
        f"('{user_id}', '{event}', '{{\"n\": {int(n)}}}'::jsonb) RETURNING seq, user_id, event, data) "
        "SELECT seq, pg_notify('rostrum_events', json_build_object('seq', seq, 'user_id', user_id, "
        "'event', event, 'data', data)::text) FROM e")
    return int(rows[0][0])


class LiveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A private cluster (embedded_pg) so that one test can restart PostgreSQL.
        # languages: en-test is one more name for the en-us model (tests/harness/stack.py).
        cls.st = Stack("live", embedded_pg=True, languages=("en-test",),
                       ROSTRUM_LIVE_MAX_MESSAGE_BYTES=MAX_MESSAGE,
                       ROSTRUM_LIVE_RECHECK_S=1, ROSTRUM_LIVE_DECODERS=2,
                       ROSTRUM_LIVE_MAX_SOCKETS_PER_USER=4,
                       ROSTRUM_LIVE_SEND_QUEUE_BYTES=65536, ROSTRUM_LIVE_MAX_STREAM_S=5)
        cls.admin, cls.admin_token, _ = cls.st.new_user()  # the first account is the admin

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()

    # --- helpers ------------------------------------------------------------------------
    def url(self, path, token=None, **params):
        if token:
            params["token"] = token
        qs = "&".join(f"{k}={v}" for k, v in params.items())
        return f"ws://127.0.0.1:{self.st.port}{path}" + (f"?{qs}" if qs else "")

    def publish(self, user_id, event, n):
        return publish(self.st, user_id, event, n)

    def mint(self, user_id, exp_offset, tv=0):
        with open(os.path.join(self.st.dir, "secrets/jwt.key")) as f:
            key = f.read().strip().encode()
        now = int(time.time())
        header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {"iss": "rostrum", "aud": "rostrum-api", "sub": user_id, "iat": now - 3600,
                  "nbf": now - 3600, "exp": now + exp_offset, "jti": secrets.token_hex(8),
                  "tt": "access", "tv": tv}
        body = b64url(json.dumps(claims).encode())
        sig = hmac.new(key, f"{header}.{body}".encode(), hashlib.sha256).digest()
        return f"{header}.{body}.{b64url(sig)}"

    def upgrade_status(self, path, headers=None):
        """A raw upgrade request: the refusal's status and body (never a socket)."""
        h = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
             "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()}
        h.update(headers or {})
        return self.st.get(path, headers=h)

    # --- /ws/transcribe -----------------------------------------------------------------
    async def converse(self, token, frames_ms=200, **params):
        w = wave.open(CLIP)
        rate = w.getframerate()
        replies, partials_before_eof = [], 0
        async with websockets.connect(self.url("/ws/transcribe", token, **params),
                                      max_size=None) as ws:
            await ws.send(json.dumps({"config": {"sample_rate": rate}}))
            frames = 0
            while True:
                chunk = w.readframes(rate * frames_ms // 1000)
                if not chunk:
                    break
                await ws.send(chunk)
                frames += 1
                # vosk's own clients wait for exactly one reply per frame
                reply = await recv_json(ws)
                replies.append(reply)
                if reply.get("partial"):
                    partials_before_eof += 1
            await ws.send('{"eof" : 1}')
            final = await recv_json(ws)
            rest = []
            try:
                while True:
                    rest.append(json.loads(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT)))
            except ConnectionClosed:
                pass
            return frames, replies, partials_before_eof, final, rest, ws.close_code

    def test_vosk_conversation_partials_one_reply_per_frame_and_final_text(self):
        _, token, _ = self.st.new_user()
        frames, replies, partials, final, rest, code = asyncio.run(self.converse(token))
        self.assertEqual(len(replies), frames)
        for r in replies:
            self.assertTrue(set(r) in ({"partial"}, {"result", "text"}, {"text"}), r)
        self.assertGreater(partials, 0, "no partial before eof")
        self.assertIn("text", final)
        self.assertEqual(rest, [])
        self.assertEqual(code, 1000)
        for w in final.get("result", []):
            self.assertEqual(set(w), {"conf", "end", "start", "word"})
        live_text = " ".join([r["text"] for r in replies if "result" in r and r["text"]] +
                             [final["text"]]).strip()
        ref = subprocess.run([BIN, "transcribe", CLIP], capture_output=True, text=True, check=True,
                             env=self.st.env).stdout.strip().lower()
        self.assertLessEqual(word_error_rate(ref, live_text), 0.35, (ref, live_text))

    def test_large_messages_get_one_reply_each_and_the_same_text(self):
        """The daemon decodes a message in 0.25 s slices (other streams' frames run between
        them): a client sending 2 s messages still gets one reply per message and the text."""
        _, token, _ = self.st.new_user()
        with wave.open(CLIP) as w:
            clip = w.readframes(w.getnframes())
        half = len(clip) // 4 * 2

        async def main():
            async with websockets.connect(self.url("/ws/transcribe", token)) as ws:
                replies = []
                for part in (clip[:half], clip[half:]):
                    await ws.send(part)
                    replies.append(await recv_json(ws))
                await ws.send('{"eof": 1}')
                final = await recv_json(ws)
                rest = []
                try:
                    while True:
                        rest.append(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT))
                except ConnectionClosed:
                    pass
                return replies, final, rest, ws.close_code

        replies, final, rest, code = asyncio.run(main())
        self.assertEqual((rest, code), ([], 1000))  # one reply per message, the final, close
        text = " ".join([r["text"] for r in replies if "result" in r and r["text"]] +
                        [final["text"]]).strip()
        ref = subprocess.run([BIN, "transcribe", CLIP], capture_output=True, text=True, check=True,
                             env=self.st.env).stdout.strip().lower()
        self.assertLessEqual(word_error_rate(ref, text), 0.35, (ref, text))

    def test_save_stores_a_session_with_audio_and_transcript(self):
        _, token, _ = self.st.new_user()
        frames, replies, _, final, rest, code = asyncio.run(
            self.converse(token, save=1, kind="memo", title="standup"))
        self.assertEqual(len(rest), 1, rest)
        sid = rest[0]["session_id"]
        self.assertEqual(code, 1000)
        r = self.st.get(f"/api/v1/sessions/{sid}", token=token)
        self.assertEqual(r.status, 200, r)
        s = r.json()
        self.assertEqual((s["kind"], s["title"], s["audio_format"]), ("memo", "standup", "wav"))
        self.assertAlmostEqual(s["duration_s"], 3.955, delta=0.01)
        audio = self.st.get(f"/api/v1/sessions/{sid}/audio", token=token)
        self.assertEqual(audio.status, 200)
        self.assertEqual(audio.body[:4], b"RIFF")
        with open(CLIP, "rb") as f:
            original = f.read()
        self.assertEqual(len(audio.body) - 44, len(original) - 44)
        # the analysis job runs on the stored audio and the live transcript
        self.st.wait_until(lambda: self.st.get(f"/api/v1/sessions/{sid}", token=token)
                           .json()["status"] == "done", timeout=90, what="analysis done")
        done = self.st.get(f"/api/v1/sessions/{sid}", token=token).json()
        self.assertTrue(done["transcript"]["words"])
        self.assertIn("wpm", done["analysis"])
        # another user does not see it
        _, other, _ = self.st.new_user()
        self.assertEqual(self.st.get(f"/api/v1/sessions/{sid}", token=other).status, 404)

    def test_lang_picks_the_model_and_is_the_saved_sessions_language(self):
        _, token, _ = self.st.new_user()
        saved = {}
        for lang in ("en-test", None):
            params = {"save": 1} if lang is None else {"save": 1, "lang": lang}
            _, _, _, final, rest, code = asyncio.run(self.converse(token, **params))
            self.assertEqual((code, len(rest)), (1000, 1), rest)
            sid = rest[0]["session_id"]
            saved[lang] = self.st.sql(f"SELECT language, engine, transcript_text FROM sessions "
                                      f"WHERE id = '{sid}'")[0]
        self.assertEqual(saved["en-test"][:2], ["en-test", "pocketsphinx-5prealpha en-test (live)"])
        self.assertEqual(saved[None][:2], ["en-us", "pocketsphinx-5prealpha en-us (live)"])
        self.assertEqual(saved["en-test"][2], saved[None][2])  # the same model under two names
        # Not installed, or not a name: refused before the upgrade, as an upload would be.
        for lang in ("xx", "..%2Fen-us", "en-us%2F"):
            r = self.upgrade_status(f"/ws/transcribe?token={token}&lang={lang}&save=1")
            self.assertEqual(r.status, 422, (lang, r))
            self.assertEqual(r.json()["errors"][0]["field"], "language", r.json())
        self.assertEqual(self.upgrade_status(f"/ws/events?token={token}&lang=en-us").status, 422)

    # The grammar search's null transitions ("(null)" segments) once reached the finals.
    def test_phrase_list_restricts_words(self):
        _, token, _ = self.st.new_user()
        phrases = ["it was", "people to buy", "when our"]
        allowed = {w for p in phrases for w in p.split()}
        w = wave.open(CLIP)

        async def main():
            async with websockets.connect(self.url("/ws/transcribe", token)) as ws:
                await ws.send(json.dumps({"config": {"sample_rate": 16000, "phrase_list": phrases}}))
                texts = []
                while chunk := w.readframes(3200):
                    await ws.send(chunk)
                    r = await recv_json(ws)
                    texts.append(r.get("partial", r.get("text", "")))
                await ws.send('{"eof": 1}')
                texts.append((await recv_json(ws))["text"])
                return texts

        texts = asyncio.run(main())
        words = {x for t in texts for x in t.split()}
        self.assertTrue(words, texts)
        self.assertLessEqual(words, allowed, texts)

    def test_phrase_list_with_unknown_words_closes_1003(self):
        _, token, _ = self.st.new_user()

        async def main():
            async with websockets.connect(self.url("/ws/transcribe", token)) as ws:
                await send_until_closed(ws, [json.dumps({"config": {"phrase_list": ["zzqxv blorft"]}}),
                                             b"\x00\x00" * 1600])
                return await closed_with(ws)

        code, reason = asyncio.run(main())
        self.assertEqual(code, 1003, reason)
        self.assertIn("zzqxv", reason)

    def test_stream_longer_than_max_stream_s_closed_1008(self):
        _, token, _ = self.st.new_user()
        w = wave.open(os.path.join(READ, "harvard_sentences.wav"))  # 18 s; the stack allows 5

        async def main():
            async with websockets.connect(self.url("/ws/transcribe", token)) as ws:
                for _ in range(25):  # exactly 5 s: all answered
                    await ws.send(w.readframes(3200))
                    await recv_json(ws)
                await ws.send(w.readframes(3200))
                return await closed_with(ws)

        code, reason = asyncio.run(main())
        self.assertEqual(code, 1008, reason)

    def test_dropped_socket_with_save_keeps_what_was_received(self):
        _, token, _ = self.st.new_user()
        w = wave.open(CLIP)

        async def main():
            ws = await websockets.connect(self.url("/ws/transcribe", token, save=1))
            for _ in range(10):  # 2 s of the clip, then the client vanishes without eof
                await ws.send(w.readframes(3200))
                await recv_json(ws)
            ws.transport.abort()

        asyncio.run(main())

        def listed():
            items = self.st.get("/api/v1/sessions", token=token).json()["items"]
            return items[0] if items else None
        self.st.wait_until(listed, timeout=30, what="the dropped stream's session")
        s = listed()
        self.assertAlmostEqual(s["duration_s"], 2.0, delta=0.01)
        audio = self.st.get(f"/api/v1/sessions/{s['id']}/audio", token=token)
        self.assertEqual(len(audio.body), 44 + 10 * 3200 * 2)

    def test_save_title_counts_characters_like_the_api(self):
        """A title's limit is 200 characters on every way in (db/session_rules.h): 150 'é' (300
        bytes) are stored whole from a live stream, and 201 are refused before the upgrade with
        the API upload's own 422."""
        _, token, _ = self.st.new_user()
        title = "\u00e9" * 150
        w = wave.open(CLIP)

        async def main():
            async with websockets.connect(self.url("/ws/transcribe", token, save=1,
                                                   title=urllib.parse.quote(title))) as ws:
                for _ in range(5):
                    await ws.send(w.readframes(3200))
                    await recv_json(ws)
                await ws.send('{"eof" : 1}')
                await recv_json(ws)  # the final result
                return (await recv_json(ws))["session_id"]

        sid = asyncio.run(main())
        r = self.st.get(f"/api/v1/sessions/{sid}", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["title"], title)

        too_long = urllib.parse.quote("\u00e9" * 201)
        live = self.upgrade_status(f"/ws/transcribe?token={token}&save=1&title={too_long}")
        with open(CLIP, "rb") as f:
            api = self.st.post(f"/api/v1/sessions?title={too_long}", body=f.read(),
                               content_type="audio/wav", token=token)
        self.assertEqual((live.status, api.status), (422, 422), (live, api))
        self.assertEqual(live.json()["errors"], api.json()["errors"])
        self.assertEqual(live.json()["errors"], [{"field": "title",
                                                  "message": "must be at most 200 characters"}])

    def test_sockets_per_user_limited_429(self):
        _, token, _ = self.st.new_user()

        async def main():
            socks = [await websockets.connect(self.url("/ws/events", token)) for _ in range(4)]
            try:
                with self.assertRaises(InvalidStatusCode) as e:
                    await websockets.connect(self.url("/ws/events", token))
                self.assertEqual(e.exception.status_code, 429)
            finally:
                for s in socks:
                    await s.close()
            # a closed socket gives its slot back
            self.st.wait_until(lambda: self.upgrade_status(
                f"/ws/events?token={token}").status == 101, timeout=10, what="a free slot")

        asyncio.run(main())

    def test_bad_frames_get_documented_close_codes_while_others_keep_working(self):
        user, token, _ = self.st.new_user()
        pcm = b"\x00\x00" * 1600

        async def case(messages):
            async with websockets.connect(self.url("/ws/transcribe", token), max_size=None) as ws:
                await send_until_closed(ws, messages)
                return await closed_with(ws)

        async def main():
            async with websockets.connect(self.url("/ws/events", token)) as events:
                cases = {
                    "oversize": ([b"\x00" * (MAX_MESSAGE + 2)], 1009),
                    "invalid json": (["{not json"], 1007),
                    "text instead of audio": (['{"hello": 1}'], 1003),
                    "odd byte count": ([b"\x00\x00\x00"], 1003),
                    "sample rate 0": ([json.dumps({"config": {"sample_rate": 0}})], 1003),
                    "sample rate 10 MHz": ([json.dumps({"config": {"sample_rate": 10_000_000}})], 1003),
                    "config after audio": ([pcm, json.dumps({"config": {"sample_rate": 8000}})], 1002),
                }
                for name, (messages, want) in cases.items():
                    code, reason = await case(messages)
                    self.assertEqual(code, want, (name, reason))
                    self.assertTrue(reason, name)  # every close says why
                seq = self.publish(user["id"], "test.still_here", 1)
                msg = await recv_json(events)
                self.assertEqual((msg["seq"], msg["event"]), (seq, "test.still_here"))

        asyncio.run(main())

    # --- auth ---------------------------------------------------------------------------
    def test_refused_before_upgrade(self):
        user, token, _ = self.st.new_user()
        expired = self.mint(user["id"], exp_offset=-120)
        cases = [
            ("/ws/events", {}, 401),
            ("/ws/events?token=not-a-token", {}, 401),
            (f"/ws/events?token={expired}", {}, 401),
            (f"/ws/transcribe?token={token}", {"Origin": "https://evil.example"}, 403),
            (f"/ws/events?token={token}&since=abc", {}, 400),
            (f"/ws/transcribe?token={token}&save=1&kind=poem", {}, 422),
        ]
        for path, headers, want in cases:
            r = self.upgrade_status(path, headers)
            self.assertEqual(r.status, want, (path, r))
            self.assertTrue(r.header("content-type").startswith("application/problem+json"))
            self.assertEqual(r.json()["status"], want)
        self.assertEqual(self.upgrade_status("/ws/events").header("www-authenticate"), "Bearer")
        # the site's own origin, and the cookie instead of ?token=
        ok = self.upgrade_status("/ws/events", {"Origin": f"http://127.0.0.1:{self.st.port}",
                                                "Cookie": f"rostrum_access={token}"})
        self.assertEqual(ok.status, 101, ok)

        async def refused():
            with self.assertRaises(InvalidStatusCode) as e:
                async with websockets.connect(self.url("/ws/transcribe", "garbage")):
                    pass
            return e.exception.status_code
        self.assertEqual(asyncio.run(refused()), 401)

    def test_refusals_carry_the_request_id_like_the_api(self):
        # The live daemon renders problem+json with the API's one renderer, so a user can quote
        # the request id of a refused upgrade too (nginx's $request_id: 32 hex digits).
        user, token, _ = self.st.new_user()
        cases = [
            (self.st.get("/ws/transcribe"), 426),  # no upgrade at all
            (self.upgrade_status("/ws/transcribe?token=garbage"), 401),
            (self.upgrade_status(f"/ws/events?token={token}&since=abc"), 400),
            (self.upgrade_status(f"/ws/events?token={token}&colour=red"), 422),
        ]
        for r, want in cases:
            self.assertEqual(r.status, want, r)
            self.assertRegex(r.json().get("request_id", ""), "^[0-9a-f]{32}$", r)

    def test_socket_closed_4001_when_its_token_expires(self):
        user, _, _ = self.st.new_user()
        # Expired 27 s ago: still inside the 30 s clock-skew leeway, out of it in 3 s.
        token = self.mint(user["id"], exp_offset=-27)

        async def main():
            async with websockets.connect(self.url("/ws/events", token)) as ws:
                return await closed_with(ws, timeout=15)

        code, reason = asyncio.run(main())
        self.assertEqual(code, 4001, reason)

    def test_deactivated_user_socket_closed_4003(self):
        user, token, _ = self.st.new_user()

        async def main():
            async with websockets.connect(self.url("/ws/events", token)) as ws:
                r = self.st.request("PATCH", f"/api/v1/users/{user['id']}",
                                    json_body={"is_active": False}, token=self.admin_token)
                self.assertEqual(r.status, 200, r)
                return await closed_with(ws, timeout=15)

        code, reason = asyncio.run(main())
        self.assertEqual(code, 4003, reason)

    # --- /ws/events ---------------------------------------------------------------------
    def test_upload_events_reach_the_owner_only(self):
        owner, token, _ = self.st.new_user()
        other, other_token, _ = self.st.new_user()
        with open(CLIP, "rb") as f:
            audio = f.read()

        async def main():
            async with websockets.connect(self.url("/ws/events", token)) as mine, \
                    websockets.connect(self.url("/ws/events", other_token)) as theirs:
                r = self.st.post("/api/v1/sessions?title=live", body=audio,
                                 content_type="audio/wav", token=token)
                self.assertEqual(r.status, 202, r)
                sid = r.json()["id"]
                seen = []
                while not seen or seen[-1]["event"] != "session.done":
                    m = await recv_json(mine, timeout=90)
                    self.assertEqual(m["data"]["id"], sid)
                    seen.append(m)
                names = [m["event"] for m in seen]
                self.assertIn("session.progress", names)
                seqs = [m["seq"] for m in seen]
                self.assertEqual(seqs, sorted(seqs))
                # the other user's first message is its own marker: nothing of ours came before
                marker = self.publish(other["id"], "test.marker", 1)
                m = await recv_json(theirs)
                self.assertEqual((m["seq"], m["event"]), (marker, "test.marker"))

        asyncio.run(main())

    def test_reconnect_with_since_replays_missed_events_in_order(self):
        user, token, _ = self.st.new_user()

        async def main():
            async with websockets.connect(self.url("/ws/events", token)) as ws:
                first = self.publish(user["id"], "test.n", 0)
                self.assertEqual((await recv_json(ws))["seq"], first)
            missed = [self.publish(user["id"], "test.n", i) for i in range(1, 6)]
            async with websockets.connect(self.url("/ws/events", token, since=first)) as ws:
                live = self.publish(user["id"], "test.n", 6)
                got = [(await recv_json(ws))["seq"] for _ in range(6)]
                self.assertEqual(got, missed + [live])

        asyncio.run(main())

    def test_postgres_restart_events_resume_without_gaps(self):
        user, token, _ = self.st.new_user()
        pg = os.path.join(SOURCE, "scripts/pg.sh")

        async def main():
            async with websockets.connect(self.url("/ws/events", token)) as ws:
                before = self.publish(user["id"], "test.n", 0)
                self.assertEqual((await recv_json(ws))["seq"], before)
                subprocess.run([pg, "stop", os.path.join(self.st.dir, "pg")], check=True,
                               capture_output=True)
                subprocess.run([pg, "start", os.path.join(self.st.dir, "pg"), "rostrum"],
                               check=True, capture_output=True)
                # published at once: some NOTIFYs reach no listener; the table has them all
                sent = [self.publish(user["id"], "test.n", i) for i in range(1, 11)]
                got = [(await recv_json(ws, timeout=60))["seq"] for _ in sent]
                self.assertEqual(got, sent)

        asyncio.run(main())
        self.st.wait_until(lambda: self.st.get("/readyz").status == 200, timeout=30, what="readyz")

    def test_kill_9_clients_reconnect_and_resume(self):
        user, token, _ = self.st.new_user()
        with open(os.path.join(self.st.dir, "run/live.pid")) as f:
            pid = int(f.read())

        async def main():
            async with websockets.connect(self.url("/ws/events", token)) as ws:
                last = self.publish(user["id"], "test.n", 0)
                self.assertEqual((await recv_json(ws))["seq"], last)
                os.kill(pid, 9)
                code, _ = await closed_with(ws)
                self.assertEqual(code, 1006)
            # Gone for good (a zombie at most) before the stack is asked to restart it.
            self.st.wait_until(lambda: process_gone(pid), timeout=10, what="the daemon's exit")
            missed = [self.publish(user["id"], "test.n", i) for i in range(1, 4)]
            # nginx answers 502 while the daemon is down, and its logs must not keep the token
            # that vosk clients carry in the query string.
            with self.assertRaises(Exception):
                async with websockets.connect(self.url("/ws/events", token)):
                    pass
            self.assertNotIn(token, self.st.log_text("nginx/logs/error.log", "nginx/logs/access.log"))
            self.st.script("up")  # the stack restarts what is not running
            async with websockets.connect(self.url("/ws/events", token, since=last)) as ws:
                got = [(await recv_json(ws))["seq"] for _ in missed]
                self.assertEqual(got, missed)

        asyncio.run(main())

    def test_slow_consumer_closed_1008_others_unaffected(self):
        user, token, _ = self.st.new_user()
        other, other_token, _ = self.st.new_user()

        def slow_counter():
            for line in self.st.get("/ws/metrics").body.decode().splitlines():
                if line.startswith("rostrum_live_slow_consumers_closed_total "):
                    return int(line.split()[1])
            return None

        before = slow_counter()
        # A client that upgrades and then never reads, with a small receive buffer.
        import socket
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", self.st.port))
        key = base64.b64encode(os.urandom(16)).decode()
        raw.sendall((f"GET /ws/events?token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.assertEqual(raw.recv(12), b"HTTP/1.1 101")
        try:
            async def main():
                async with websockets.connect(self.url("/ws/events", other_token)) as theirs:
                    # 4 KiB events until the daemon gives up on the reader that never reads
                    batch = 0
                    while slow_counter() == before:
                        self.assertLess(batch, 40, "the slow reader was never closed")
                        self.st.sql(
                            "WITH e AS (INSERT INTO events (user_id, event, data) SELECT "
                            f"'{user['id']}', 'test.big', jsonb_build_object('pad', repeat('x', 4096)) "
                            "FROM generate_series(1, 500) RETURNING seq, user_id, event, data) "
                            "SELECT count(pg_notify('rostrum_events', json_build_object('seq', seq, "
                            "'user_id', user_id, 'event', event, 'data', data)::text)) FROM e")
                        batch += 1
                    seq = self.publish(other["id"], "test.fine", 1)
                    self.assertEqual((await recv_json(theirs))["seq"], seq)
            asyncio.run(main())
        finally:
            raw.close()

    def test_metrics_show_the_counters(self):
        r = self.st.get("/ws/metrics")
        self.assertEqual(r.status, 200)
        text = r.body.decode()
        for name in ("rostrum_live_open_sockets", "rostrum_live_streams",
                     "rostrum_live_events_delivered_total",
                     "rostrum_live_slow_consumers_closed_total",
                     "rostrum_live_partial_latency_seconds_bucket"):
            self.assertIn(name, text)
        self.assertEqual(self.st.get("/ws/readyz").status, 200)


class IdleTimeout(unittest.TestCase):
    """live.idle_timeout_s: the daemon pings a quiet socket and closes it when no pong comes;
    a client that answers pings stays open. A stack of its own: a 2 s idle time would race
    the other tests' deliberately silent raw sockets."""
    IDLE_S = 2

    @classmethod
    def setUpClass(cls):
        cls.st = Stack("live_idle", ROSTRUM_LIVE_IDLE_TIMEOUT_S=cls.IDLE_S)

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()

    def test_silent_socket_closed_answering_socket_kept(self):
        user, token, _ = self.st.new_user()
        url = f"ws://127.0.0.1:{self.st.port}/ws/events?token={token}"

        async def main():
            async with websockets.connect(url) as kept:  # the library answers pings
                reader, writer = await asyncio.open_connection("127.0.0.1", self.st.port)
                key = base64.b64encode(os.urandom(16)).decode()
                writer.write((f"GET /ws/events?token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                              f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
                head = await reader.readuntil(b"\r\n\r\n")
                self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
                received = bytearray()

                async def until_closed():  # reads (never answers) until the daemon hangs up
                    while chunk := await reader.read(4096):
                        received.extend(chunk)

                await asyncio.wait_for(until_closed(), timeout=self.IDLE_S * 10)
                writer.close()
                self.assertIn(0x89, received, "no ping reached the silent socket before the close")
                # The answering socket lived through the same quiet time and still delivers.
                seq = publish(self.st, user["id"], "test.idle", 1)
                self.assertEqual((await recv_json(kept))["seq"], seq)

        asyncio.run(main())


if __name__ == "__main__":
    unittest.main()
