"""`rostrum live` under clients that push: back-pressure on /ws/transcribe (a client sending far
faster than real time keeps the daemon's memory bounded and another stream's replies on the
same lane timely, and is closed 1008 once ahead of real time by more than live.max_ahead_s),
live.max_streams (503 + Retry-After beyond), a ?since= replay of 12,000 stored events paced
by the socket, the documented replay.truncated message, and close reasons that carry fixed
texts (never libc's or libpq's). Nothing sleeps to synchronise: pacing a client at real time
is what the sleeps here are for; every wait is a receive or a poll with a deadline."""
import asyncio
import base64
import json
import os
import statistics
import sys
import time
import unittest
import wave

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from stack import Stack  # noqa: E402

import websockets  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

READ = "/work/shared/data/speech/read"
CLIP = os.path.join(READ, "cmu_arctic_a0024.wav")  # 4 s, 16 kHz mono
LONG = os.path.join(READ, "harvard_sentences.wav")  # 18 s, 16 kHz mono
RECV_TIMEOUT = 30

MAX_QUEUED_S = 2
MAX_AHEAD_S = 5
MAX_STREAMS = 3
MAX_MESSAGE = 262144
SEND_QUEUE = 262144
# What the daemon may grow by while one client floods, beyond what it had after the same
# streams warmed up: the flood's queued audio and messages (derived from the settings, at
# 48 kHz), plus a fixed allowance for the decoders' own buffers (an utterance, the resampler).
DECODER_ALLOWANCE = 32 << 20
RSS_BOUND = MAX_STREAMS * (MAX_QUEUED_S * 48000 * 2 + 2 * MAX_MESSAGE) + DECODER_ALLOWANCE


def pcm16k(path):
    with wave.open(path) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1
        return w.readframes(w.getnframes())


def upsample3(pcm):
    """16 kHz to 48 kHz by repeating samples: the same speech, three times the bytes."""
    out = bytearray()
    for i in range(0, len(pcm), 2):
        out += pcm[i:i + 2] * 3
    return bytes(out)


def vm_rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def recv_json(ws, timeout=RECV_TIMEOUT):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def closed_with(ws, timeout=RECV_TIMEOUT):
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except ConnectionClosed:
        pass
    return ws.close_code, ws.close_reason


class LivePressure(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # One lane: the flooder and the stream it must not stall share it.
        cls.st = Stack("live_pressure", ROSTRUM_LIVE_DECODERS=1, ROSTRUM_LIVE_MAX_STREAM_S=600,
                       ROSTRUM_LIVE_MAX_QUEUED_S=MAX_QUEUED_S, ROSTRUM_LIVE_MAX_AHEAD_S=MAX_AHEAD_S,
                       ROSTRUM_LIVE_MAX_STREAMS=MAX_STREAMS,
                       ROSTRUM_LIVE_MAX_MESSAGE_BYTES=MAX_MESSAGE,
                       ROSTRUM_LIVE_SEND_QUEUE_BYTES=SEND_QUEUE)
        cls.st.new_user()  # the first account is the admin
        with open(os.path.join(cls.st.dir, "run/live.pid")) as f:
            cls.pid = int(f.read())

    @classmethod
    def tearDownClass(cls):
        cls.st.stop()

    def url(self, path, token, **params):
        params["token"] = token
        qs = "&".join(f"{k}={v}" for k, v in params.items())
        return f"ws://127.0.0.1:{self.st.port}{path}?{qs}"

    def metric(self, name):
        for line in self.st.get("/ws/metrics").body.decode().splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[1]))
        raise AssertionError(f"no metric {name}")

    # --- /ws/transcribe ---------------------------------------------------------------
    async def paced_latencies(self, ws, pcm, frames, frame_s=0.2, give_up=10):
        """Sends `frames` frames at real time (vosk's clients wait for each reply); returns
        each reply's latency (`give_up` for a reply that did not come, and no more frames)."""
        step = int(16000 * frame_s) * 2
        out, t0 = [], time.monotonic()
        for i in range(frames):
            chunk = pcm[(i * step) % (len(pcm) - step):][:step]
            sent = time.monotonic()
            await ws.send(chunk)
            try:
                await recv_json(ws, timeout=give_up)
            except asyncio.TimeoutError:
                out.append(give_up)
                break
            out.append(time.monotonic() - sent)
            delay = t0 + (i + 1) * frame_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)  # real time: the pacing a live client has
        return out

    async def flood(self, token, pcm48, stop, outcome):
        """Streams 48 kHz audio as fast as the socket takes it, in 0.1 s frames, reading the
        replies alongside; reconnects after each close until `stop` is set. outcome collects
        (close code, reason) and the bytes sent."""
        frame = MAX_MESSAGE  # the largest message: one frame is 2.7 s of audio
        while not stop.is_set():
            async with websockets.connect(self.url("/ws/transcribe", token), max_size=None) as ws:
                await ws.send(json.dumps({"config": {"sample_rate": 48000}}))

                async def drain():
                    try:
                        async for _ in ws:
                            pass
                    except ConnectionClosed:
                        pass
                reader = asyncio.ensure_future(drain())
                try:
                    pos = 0
                    while not stop.is_set():
                        await ws.send(pcm48[pos:pos + frame])
                        outcome["sent"] += frame
                        pos = (pos + frame) % (len(pcm48) - frame)
                except ConnectionClosed:
                    pass
                if stop.is_set():
                    await ws.close()
                await reader
                outcome["closes"].append((ws.close_code, ws.close_reason))

    def test_flood_keeps_memory_bounded_and_the_lane_fair_then_closed_1008(self):
        _, victim, _ = self.st.new_user()
        _, flooder, _ = self.st.new_user()
        speech = pcm16k(LONG)
        pcm48 = upsample3(speech)

        async def main():
            # Warm-up: two streams at once, so the lane holds both decoders the test uses,
            # and the victim's latency alone (same lane, nothing else on it).
            async with websockets.connect(self.url("/ws/transcribe", victim)) as a, \
                    websockets.connect(self.url("/ws/transcribe", flooder)) as b:
                await b.send(json.dumps({"config": {"sample_rate": 48000}}))
                await asyncio.gather(self.paced_latencies(a, speech, 5),
                                     b.send(pcm48[:96000]))
                await recv_json(b)
            async with websockets.connect(self.url("/ws/transcribe", victim)) as ws:
                alone = await self.paced_latencies(ws, speech, 15)
            baseline = vm_rss(self.pid)

            stop = asyncio.Event()
            outcome = {"sent": 0, "closes": []}
            flood = asyncio.ensure_future(self.flood(flooder, pcm48, stop, outcome))
            peak = baseline

            async def sample_rss():
                nonlocal peak
                while not stop.is_set():
                    peak = max(peak, vm_rss(self.pid))
                    await asyncio.sleep(0.05)
            sampler = asyncio.ensure_future(sample_rss())
            try:
                # The flood is on: more than the daemon may hold for it has been sent.
                deadline = time.monotonic() + 30
                while outcome["sent"] < 2 * MAX_QUEUED_S * 48000 * 2:
                    self.assertLess(time.monotonic(), deadline, "the flooder could not send")
                    self.assertFalse(flood.done(), flood.done() and flood.exception())
                    await asyncio.sleep(0.05)
                async with websockets.connect(self.url("/ws/transcribe", victim)) as ws:
                    during = await self.paced_latencies(ws, speech, 15)
                    ws.transport.abort()  # (its reply may never come on a stalled lane)
                # Long enough for the flooder to be closed for running ahead at least once.
                deadline = time.monotonic() + 60
                while not any(c == 1008 for c, _ in outcome["closes"]):
                    self.assertLess(time.monotonic(), deadline, f"never closed: {outcome}")
                    self.assertFalse(flood.done(), flood.done() and flood.exception())
                    await asyncio.sleep(0.05)
            finally:
                stop.set()
                await asyncio.wait_for(flood, RECV_TIMEOUT)
                await sampler
            return alone, during, baseline, peak, outcome

        alone, during, baseline, peak, outcome = asyncio.run(main())
        grown = peak - baseline
        print(f"flood: sent {outcome['sent'] >> 20} MiB, RSS +{grown / 2**20:.1f} MiB (bound "
              f"{RSS_BOUND >> 20}), partial latency median alone {statistics.median(alone):.3f} s, "
              f"during {statistics.median(during):.3f} s, closes {outcome['closes']}",
              file=sys.stderr)
        self.assertLess(grown, RSS_BOUND,
                        f"RSS grew {grown >> 20} MiB during the flood ({outcome['sent'] >> 20} "
                        f"MiB sent); bound {RSS_BOUND >> 20} MiB")
        a, d = statistics.median(alone), statistics.median(during)
        self.assertLess(d, 5 * a + 0.05, f"partial latency alone {alone}, during the flood {during}")
        self.assertGreater(self.metric("rostrum_live_reads_paused_total"), 0)
        code, reason = next(c for c in outcome["closes"] if c[0] == 1008)
        self.assertIn("ahead of real time", reason)
        self.assertIn("live.max_ahead_s", reason)

    def test_streams_beyond_max_streams_get_503_with_retry_after(self):
        _, token, _ = self.st.new_user()
        h = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13"}

        def upgrade():
            return self.st.get(f"/ws/transcribe?token={token}", headers=dict(
                h, **{"Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()}))

        async def main():
            socks = [await websockets.connect(self.url("/ws/transcribe", token))
                     for _ in range(MAX_STREAMS)]
            try:
                r = upgrade()
                self.assertEqual(r.status, 503, r.body)
                self.assertTrue(r.header("content-type").startswith("application/problem+json"), r)
                self.assertTrue(r.header("retry-after").isdigit(), r.headers)
                self.assertIn("live.max_streams", json.loads(r.body)["detail"])
                # /ws/events is not a stream: still open to the same user
                async with websockets.connect(self.url("/ws/events", token)):
                    pass
            finally:
                await socks[0].close()
            # a closed stream gives its place back
            self.st.wait_until(lambda: upgrade().status == 101, timeout=10, what="a free stream")
            for s in socks[1:]:
                await s.close()

        asyncio.run(main())

    def test_failures_close_with_fixed_reasons_not_library_text(self):
        _, token, _ = self.st.new_user()
        clip = pcm16k(CLIP)

        async def stream_once(**params):
            async with websockets.connect(self.url("/ws/transcribe", token, **params)) as ws:
                try:
                    await ws.send(clip[:6400])
                    await recv_json(ws)
                    await ws.send('{"eof": 1}')
                except ConnectionClosed:
                    pass
                return await closed_with(ws)

        # The audio cannot be written: libc's "Not a directory" stays in the log.
        tmp = os.path.join(self.st.dir, "audio/tmp")
        os.makedirs(tmp, exist_ok=True)
        os.rename(tmp, tmp + ".away")
        try:
            with open(tmp, "w"):
                pass
            code, reason = asyncio.run(stream_once(save=1))
        finally:
            os.unlink(tmp)
            os.rename(tmp + ".away", tmp)
        self.assertEqual(code, 1011, reason)
        self.assertRegex(reason, r"^the stream's audio could not be stored \(request [0-9a-f]+\)$")
        rid = reason.rsplit(" ", 1)[1].rstrip(")")
        self.st.wait_until(lambda: rid in self.st.log_text("log/live.log"), timeout=10,
                           what="the failure's detail in the log under its request id")
        self.assertIn("Not a directory", self.st.log_text("log/live.log"))

        # The rows cannot be written: libpq's message (the trigger's text) stays in the log.
        self.st.sql("CREATE FUNCTION t_fail() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$BEGIN RAISE EXCEPTION 'zz-storage-down-zz'; END$$")
        self.st.sql("CREATE TRIGGER t_fail BEFORE INSERT ON sessions FOR EACH ROW "
                    "EXECUTE FUNCTION t_fail()")
        try:
            code, reason = asyncio.run(stream_once(save=1))
        finally:
            self.st.sql("DROP TRIGGER t_fail ON sessions; DROP FUNCTION t_fail()")
        self.assertEqual(code, 1011, reason)
        self.assertRegex(reason, r"^the stream could not be saved \(request [0-9a-f]+\)$")
        for libpq in ("zz-storage-down-zz", "ERROR", "CONTEXT", "PL/pgSQL"):
            self.assertNotIn(libpq, reason)

    # --- /ws/events ?since= -------------------------------------------------------------
    def insert_events(self, user_id, n, pad=64):
        rows = self.st.sql(
            "INSERT INTO events (user_id, event, data) SELECT "
            f"'{user_id}', 'test.n', jsonb_build_object('n', i, 'pad', repeat('x', {pad})) "
            f"FROM generate_series(1, {n}) i RETURNING seq")
        return [int(r[0]) for r in rows]

    def test_since_replays_12000_events_in_order_without_1008(self):
        user, token, _ = self.st.new_user()
        stored = sorted(self.insert_events(user["id"], 12000))

        def publish(n):
            return [int(r[0]) for r in self.st.sql(
                "WITH e AS (INSERT INTO events (user_id, event, data) SELECT "
                f"'{user['id']}', 'test.live', '{{}}' FROM generate_series(1, {n}) "
                "RETURNING seq, user_id, event, data) "
                "SELECT seq, pg_notify('rostrum_events', json_build_object('seq', seq, "
                "'user_id', user_id, 'event', event, 'data', data)::text) FROM e")]

        async def main():
            got, live = [], []
            async with websockets.connect(self.url("/ws/events", token, since=0),
                                          max_size=None) as ws:
                while len(got) < len(stored) + len(live):
                    m = await recv_json(ws)
                    self.assertIn("seq", m, m)  # no replay.truncated: nothing was pruned
                    got.append(m["seq"])
                    if len(got) == 1000:  # live events while the replay is under way
                        live = publish(20)
                # The socket is still open and live events follow the replay.
                after = publish(1)
                self.assertEqual((await recv_json(ws))["seq"], after[0])
            return got, live

        got, live = asyncio.run(main())
        self.assertEqual(got, sorted(stored + live))  # in order, each once

    def test_since_older_than_the_stored_window_says_replay_truncated(self):
        user, token, _ = self.st.new_user()
        seqs = sorted(self.insert_events(user["id"], 10, pad=1))
        # What the daemon's pruning does after live.events_keep_s: the oldest events go,
        # everyone's alike.
        self.st.sql(f"DELETE FROM events WHERE seq <= {seqs[4]}")

        async def main():
            async with websockets.connect(self.url("/ws/events", token, since=seqs[1])) as ws:
                first = await recv_json(ws)
                rest = [(await recv_json(ws))["seq"] for _ in seqs[5:]]
            return first, rest

        first, rest = asyncio.run(main())
        self.assertEqual(first, {"event": "replay.truncated",
                                 "data": {"since": seqs[1], "first_seq": seqs[5]}})
        self.assertEqual(rest, seqs[5:])


if __name__ == "__main__":
    unittest.main()
