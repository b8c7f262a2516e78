#!/usr/bin/python3
"""Benchmark of `rostrum live` through nginx, against the API contract (API.md, WebSocket).

1. /ws/transcribe: 1, 2, 4, 8 ... concurrent vosk clients, each sending a recording in 200 ms
   frames at real-time rate (a frame is sent at its real-time instant, or when the previous
   reply came if that is later, as vosk's clients wait for one reply per frame). Reply latency
   = reply received - frame sent; final latency = final received - eof sent. Levels go up
   until the p95 reply latency passes 300 ms: the capacity is the last level under it.
2. /ws/events: N sockets of one user (spread over several client processes, so that the
   Python clients' own work stays small), then events inserted and announced exactly as
   db::publish_event does, each carrying PostgreSQL's clock_timestamp(); latency = receipt
   time - that timestamp. Gaps = events a socket did not receive.
3. RSS of the daemon (/proc/<pid>/status VmRSS): before and after the idle event sockets
   connected, and its peak during each transcription level.
4. The engine's speed on this box at this moment: CPU seconds per audio second of `rostrum
   transcribe` (the recorded pipeline, one thread) on the clip, less a short clip's (model
   loading), and the issue's capacity estimate from it: cores / RTF x 0.7. Measured in the
   same run as the levels, because on a shared box it moves by tens of percent.

Starts its own stack with tests/harness/stack.py (nginx + api + worker + live, private
PostgreSQL). Needs python3-websockets (Debian) and a built binary:
    ROSTRUM_BIN=/path/to/rostrum bench/live/ws_bench.py [--levels 1,2,4,8] [--sockets 1000]
"""
import argparse
import asyncio
import json
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import time
import wave

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "harness"))
from stack import BIN, Stack  # noqa: E402

import websockets  # noqa: E402

READ = os.environ.get("ROSTRUM_SPEECH_READ", "/work/shared/data/speech/read")
FRAME_MS = 200
TARGET_P95_S = 0.300


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(p * len(v)))]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_pcm(clips):
    pcm, rate = b"", None
    for c in clips:
        with wave.open(os.path.join(READ, c)) as w:
            assert w.getnchannels() == 1 and w.getsampwidth() == 2, c
            rate = rate or w.getframerate()
            assert w.getframerate() == rate, c
            pcm += w.readframes(w.getnframes())
    return pcm, rate


def child_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def transcribe_cpu_s(binary, clip):
    before = child_cpu_s()
    subprocess.run([binary, "transcribe", clip], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return child_cpu_s() - before


def wav_seconds(path):
    with wave.open(path) as w:
        return w.getnframes() / w.getframerate()


def engine_rtf(binary, clips, short="ps_goforward.wav", rounds=2):
    """CPU per audio second of the recorded pipeline, model loading taken out."""
    long_s = sum(wav_seconds(os.path.join(READ, c)) for c in clips)
    short_path = os.path.join(READ, short)
    long_cpu = sum(min(transcribe_cpu_s(binary, os.path.join(READ, c)) for _ in range(rounds))
                   for c in clips)
    short_cpu = min(transcribe_cpu_s(binary, short_path) for _ in range(rounds))
    return (long_cpu - len(clips) * short_cpu) / (long_s - len(clips) * wav_seconds(short_path))


# --- /ws/transcribe ---------------------------------------------------------------------

async def one_stream(url, pcm, rate, start_delay, replies, finals, errors):
    loop = asyncio.get_running_loop()
    await asyncio.sleep(start_delay)  # staggered starts, as real clients are (pacing, not sync)
    try:
        async with websockets.connect(url, max_size=None) as ws:
            await ws.send(json.dumps({"config": {"sample_rate": rate}}))
            step = rate * 2 * FRAME_MS // 1000
            start = loop.time()
            for k, off in enumerate(range(0, len(pcm), step)):
                delay = start + k * FRAME_MS / 1000 - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)  # real-time rate of the input
                t0 = loop.time()
                await ws.send(pcm[off:off + step])
                json.loads(await asyncio.wait_for(ws.recv(), 60))
                replies.append(loop.time() - t0)
            t0 = loop.time()
            await ws.send('{"eof" : 1}')
            final = json.loads(await asyncio.wait_for(ws.recv(), 60))
            finals.append(loop.time() - t0)
            assert "text" in final, final
    except Exception as e:  # noqa: BLE001 - counted and reported
        errors.append(repr(e))


async def sample_rss(pid, out, stop):
    while not stop.is_set():
        out.append(rss_kib(pid))
        try:
            await asyncio.wait_for(stop.wait(), 0.25)
        except asyncio.TimeoutError:
            pass


async def transcribe_level(st, token, pid, n, pcm, rate):
    url = f"ws://127.0.0.1:{st.port}/ws/transcribe?token={token}"
    replies, finals, errors, rss = [], [], [], []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(pid, rss, stop))
    cpu0, t0 = cpu_s(pid), time.monotonic()
    await asyncio.gather(*(one_stream(url, pcm, rate, FRAME_MS / 1000 * i / n, replies, finals,
                                      errors) for i in range(n)))
    cpu = (cpu_s(pid) - cpu0) / (time.monotonic() - t0)
    stop.set()
    await sampler
    return {"streams": n, "frames": len(replies), "errors": len(errors),
            "error_sample": errors[:3],
            "reply_p50_ms": 1000 * pct(replies, 0.5), "reply_p95_ms": 1000 * pct(replies, 0.95),
            "reply_p99_ms": 1000 * pct(replies, 0.99), "reply_max_ms": 1000 * max(replies or [0]),
            "final_p50_ms": 1000 * pct(finals, 0.5), "final_max_ms": 1000 * max(finals or [0]),
            "daemon_cores": cpu, "rss_peak_kib": max(rss or [0])}


# --- /ws/events -------------------------------------------------------------------------

def event_client(url, n_sockets, n_events, ready, results, deadline_s):
    """A process holding n_sockets; reports (latencies, per-socket counts) when every socket
    has every event or the deadline passes."""
    async def main():
        socks = []
        for _ in range(n_sockets):
            socks.append(await websockets.connect(url, max_size=None, ping_interval=None))
        ready.put(len(socks))
        lat, counts = [], []

        async def drain(ws):
            seen = 0
            while seen < n_events:
                msg = json.loads(await ws.recv())
                got = time.time()
                if msg.get("event") != "bench.tick":
                    continue
                lat.append(got - float(msg["data"]["t"]))
                seen += 1
            return seen

        done = await asyncio.wait_for(asyncio.gather(*(drain(ws) for ws in socks),
                                                     return_exceptions=True), deadline_s)
        counts = [d if isinstance(d, int) else 0 for d in done]
        for ws in socks:
            await ws.close()
        return lat, counts

    try:
        results.put(asyncio.run(main()))
    except Exception as e:  # noqa: BLE001 - reported by the parent
        results.put(([], [repr(e)]))


def events_bench(st, token, user_id, pid, n_sockets, n_events, procs):
    url = f"ws://127.0.0.1:{st.port}/ws/events?token={token}"
    ctx = mp.get_context("fork")
    ready, results = ctx.Queue(), ctx.Queue()
    rss_before = rss_kib(pid)
    per = [n_sockets // procs + (i < n_sockets % procs) for i in range(procs)]
    workers = [ctx.Process(target=event_client, args=(url, k, n_events, ready, results, 300))
               for k in per]
    for w in workers:
        w.start()
    connected = sum(ready.get(timeout=300) for _ in workers)
    rss_idle = rss_kib(pid)
    for i in range(n_events):
        st.sql("WITH e AS (INSERT INTO events (user_id, event, data) VALUES "
               f"('{user_id}', 'bench.tick', jsonb_build_object('n', {i}, 't', "
               "extract(epoch from clock_timestamp()))) RETURNING seq, user_id, event, data) "
               "SELECT pg_notify('rostrum_events', json_build_object('seq', seq, 'user_id', "
               "user_id, 'event', event, 'data', data)::text) FROM e")
        time.sleep(0.25)  # spacing between events (load shape, not synchronisation)
    lat, counts = [], []
    for _ in workers:
        latencies, c = results.get(timeout=400)
        lat += latencies
        counts += c
    for w in workers:
        w.join()
    received = sum(c for c in counts if isinstance(c, int))
    return {"sockets": connected, "events": n_events, "deliveries": len(lat),
            "gaps": connected * n_events - received,
            "p50_ms": 1000 * pct(lat, 0.5), "p99_ms": 1000 * pct(lat, 0.99),
            "max_ms": 1000 * max(lat or [0]),
            "rss_before_kib": rss_before, "rss_idle_kib": rss_idle,
            "rss_per_idle_socket_kib": (rss_idle - rss_before) / max(1, connected)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--levels", default="1,2,4,8,16")
    ap.add_argument("--clips", default="harvard_sentences.wav")
    ap.add_argument("--sockets", type=int, default=1000)
    ap.add_argument("--events", type=int, default=20)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--decoders", type=int, default=0, help="live.decoders (0: the default)")
    ap.add_argument("--skip-events", action="store_true")
    ap.add_argument("--keep-going", action="store_true",
                    help="run every level even after p95 passed 300 ms (the degradation curve)")
    ap.add_argument("--out", default="")
    args = ap.parse_args()

    env = {"ROSTRUM_LIVE_MAX_SOCKETS_PER_USER": args.sockets + 64}
    if args.decoders:
        env["ROSTRUM_LIVE_DECODERS"] = args.decoders
    st = Stack("wsbench", embedded_pg=True, **env)
    report = {"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
              "loadavg_start": os.getloadavg(), "clips": args.clips}
    try:
        user, token, _ = st.new_user()
        with open(os.path.join(st.dir, "run", "live.pid")) as f:
            pid = int(f.read())
        report["rss_start_kib"] = rss_kib(pid)
        pcm, rate = load_pcm(args.clips.split(","))
        report["stream_s"] = len(pcm) / 2 / rate
        rtf = engine_rtf(BIN, args.clips.split(","))
        report["engine_rtf"] = rtf
        report["capacity_estimate"] = (os.cpu_count() or 1) / rtf * 0.7
        print(json.dumps({"engine_rtf": rtf, "capacity_estimate": report["capacity_estimate"]}),
              flush=True)
        levels = []
        for n in (int(x) for x in args.levels.split(",")):
            r = asyncio.run(transcribe_level(st, token, pid, n, pcm, rate))
            levels.append(r)
            print(json.dumps(r), flush=True)
            if (r["reply_p95_ms"] > TARGET_P95_S * 1000 or r["errors"]) and not args.keep_going:
                break
        report["transcribe"] = levels
        ok = [r["streams"] for r in levels if r["reply_p95_ms"] <= 300 and not r["errors"]]
        report["capacity_streams"] = max(ok) if ok else 0
        report["rss_after_streams_kib"] = rss_kib(pid)
        if not args.skip_events:
            report["events"] = events_bench(st, token, user["id"], pid, args.sockets,
                                            args.events, args.procs)
            print(json.dumps(report["events"]), flush=True)
        report["loadavg_end"] = os.getloadavg()
    finally:
        st.stop()
    out = json.dumps(report, indent=2)
    print(out)
    if args.out:
        with open(args.out, "w") as f:
            f.write(out + "\n")


if __name__ == "__main__":
    main()
