#!/usr/bin/env python3
"""Recorded-sessions benchmark: upload-to-done latency of a 10 s clip on an idle queue
(p50/p95), `rostrum worker --drain` throughput with 1 vs 2 decoder threads, RSS of a worker
per decoder thread, and the API worker's RSS growth while it receives a 200 MB upload.

usage: bench/sessions_bench.py [--runs N] [--clips N] [--only latency|upload|drain]
Needs a built tree (build/rostrum) and a throwaway PostgreSQL for the stacks it starts:
  scripts/pg.sh start /tmp/rostrum-bench-pg
  ROSTRUM_TEST_PG=/tmp/rostrum-bench-pg bench/sessions_bench.py
Prints one line per figure; copy them into bench/RESULTS.md with the date and machine.
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "harness"))
from stack import BIN, Stack  # noqa: E402

SPEECH = os.path.join(HERE, "..", "..", "shared", "data", "speech")


def clip(seconds, out):
    """A clip of about `seconds` s of real read speech (the long radio address, cut)."""
    src = os.path.join(SPEECH, "long", "gwbush_radio_address_2008-11-01.wav")
    with wave.open(src) as r, wave.open(out, "wb") as w:
        w.setparams(r.getparams())
        w.writeframes(r.readframes(int(seconds * r.getframerate())))
    return out


def upload(S, token, path):
    with open(path, "rb") as f:
        data = f.read()
    boundary = "benchboundary1234"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.wav\"\r\n"
            f"Content-Type: audio/wav\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    r = S.request("POST", "/api/v1/sessions", body=body, token=token,
                  content_type=f"multipart/form-data; boundary={boundary}", timeout=600)
    assert r.status == 202, r
    return r.json()["id"]


def wait_done(S, token, sid, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = S.get(f"/api/v1/sessions/{sid}", token=token).json()
        if s["status"] in ("done", "failed"):
            return s
        time.sleep(0.02)
    raise RuntimeError("timeout")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def children(pid):
    """From /proc, not pgrep: the sampling loop must not spend the CPU it is measuring."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def latency(S, token, tmp, runs):
    path = clip(10, os.path.join(tmp, "ten.wav"))
    wait_done(S, token, upload(S, token, path))  # warm: loads the recognizer
    times = []
    for _ in range(runs):
        t0 = time.monotonic()
        s = wait_done(S, token, upload(S, token, path))
        assert s["status"] == "done", s
        times.append(time.monotonic() - t0)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    print(f"upload-to-done 10 s clip, idle queue: p50 {statistics.median(times):.2f} s, "
          f"p95 {p95:.2f} s (n={runs})")


def drain_throughput(S, token, tmp, clips):
    path = clip(20, os.path.join(tmp, "twenty.wav"))
    os.kill(int(open(os.path.join(S.dir, "run/worker.pid")).read()), signal.SIGTERM)
    S.wait_until(lambda: not os.path.exists(f"/proc/{int(open(os.path.join(S.dir, 'run/worker.pid')).read())}"),
                 what="daemon worker stopped")
    results = {}
    for threads in (1, 2):
        ids = [upload(S, token, path) for _ in range(clips)]
        mine = ", ".join(f"'{i}'" for i in ids)  # server-made UUIDs
        env = dict(S.env, ROSTRUM_WORKER_THREADS=str(threads))  # = decoder processes
        p = subprocess.Popen([BIN, "worker", "--drain"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        # The clock starts when the first job runs, so that loading the model (once per
        # decoder process, in parallel) is not counted as decoding time.
        t0, peak = None, 0
        while p.poll() is None:  # the master and its decoder processes together
            if t0 is None and S.sql(f"SELECT count(*) FROM jobs WHERE status <> 'queued' "
                                    f"AND session_id IN ({mine})") != [["0"]]:
                t0 = time.monotonic()
            tree = [p.pid] + children(p.pid)
            peak = max(peak, sum(rss_kb(x) for x in tree if os.path.exists(f"/proc/{x}")))
            time.sleep(0.05 if t0 is None else 0.25)
        wall = time.monotonic() - t0
        assert all(S.get(f"/api/v1/sessions/{i}", token=token).json()["status"] == "done" for i in ids)
        audio = clips * 20.0
        results[threads] = audio / wall
        print(f"worker --drain, {threads} decoder(s): {clips} × 20 s in {wall:.1f} s = "
              f"{audio / wall:.1f}× real time; peak RSS of the worker's processes "
              f"{peak / 1024:.0f} MB ({peak / 1024 / threads:.0f} MB per decoder)")
    print(f"2 decoders / 1 decoder throughput: {results[2] / results[1]:.2f}×")
    S.script("up")


def upload_memory(S, token, tmp):
    path = os.path.join(tmp, "big.wav")
    with wave.open(path, "wb") as w:  # 200 MB of 16 kHz mono noise-free tone: ~104 min
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        block = bytes(range(256)) * 256
        for _ in range(200 * 1024 * 1024 // len(block) - 1):
            w.writeframesraw(block)
    workers = children(S.api_master_pid())
    before = {p: rss_kb(p) for p in workers}
    sid = upload(S, token, path)
    after = {p: rss_kb(p) for p in workers if os.path.exists(f"/proc/{p}")}
    growth = max(after.get(p, 0) - before[p] for p in before)
    print(f"api worker RSS growth while receiving a {os.path.getsize(path) / 1e6:.0f} MB upload: "
          f"{growth / 1024:.1f} MB (workers before: "
          f"{', '.join(f'{v / 1024:.1f}' for v in before.values())} MB)")
    S.request("DELETE", f"/api/v1/sessions/{sid}", token=token)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--only", choices=("latency", "upload", "drain"))
    args = ap.parse_args()
    S = Stack("bench", ROSTRUM_UPLOAD_MAX_BYTES=250000000, ROSTRUM_UPLOAD_MAX_SECONDS=10000)
    try:
        _, token, _ = S.new_user()
        with tempfile.TemporaryDirectory() as tmp:
            print(f"# sessions bench {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cpus")
            if args.only in (None, "latency"):
                latency(S, token, tmp, args.runs)
            if args.only in (None, "upload"):
                upload_memory(S, token, tmp)
            if args.only in (None, "drain"):
                drain_throughput(S, token, tmp, args.clips)
    finally:
        S.stop()


if __name__ == "__main__":
    main()
