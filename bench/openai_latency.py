#!/usr/bin/env python3
"""OpenAI-compatible transcription latency: POST /v1/audio/transcriptions end to end (request
sent -> transcript received) against the recorded pipeline's upload-to-done time (POST
/api/v1/sessions -> the session's done commit) for the same 10 s clip, interleaved in one run
(the order alternates per pair), on one stack with an idle queue.

The recorded pipeline's "done" is the session's updated_at, stamped by the worker's store
transaction (PostgreSQL's now(): the transaction's start, a little before its commit), read on
the same clock as the client's: no polling delay is counted against it, which makes the
measured overhead conservative. The route's own share is also split out: its session's done
stamp -> the answer in hand (LISTEN wake-up, re-reading the session and words, rendering,
nginx).

usage: bench/openai_latency.py [--pairs N] [--format json|verbose_json]
Needs a built tree (build/rostrum) and a throwaway PostgreSQL for the stack it starts:
  scripts/pg.sh start /tmp/rostrum-bench-pg
  ROSTRUM_TEST_PG=/tmp/rostrum-bench-pg bench/openai_latency.py
Prints one line per figure; copy them into bench/RESULTS.md with the date and machine.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "harness"))
from stack import Stack  # noqa: E402

SPEECH = os.path.join(HERE, "..", "..", "shared", "data", "speech")


def clip(seconds, out):
    """The first `seconds` s of the Harvard sentences (real read speech, 18.4 s in all)."""
    src = os.path.join(SPEECH, "read", "harvard_sentences.wav")
    with wave.open(src) as r, wave.open(out, "wb") as w:
        w.setparams(r.getparams())
        w.writeframes(r.readframes(int(seconds * r.getframerate())))
    return out


def form(data, fields=()):
    boundary = "benchboundary1234"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.wav\"\r\n"
            f"Content-Type: audio/wav\r\n\r\n").encode() + data + b"\r\n"
    for k, v in fields:
        body += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode()
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def done_at(S, sid):
    (status, t), = S.sql(f"SELECT status, extract(epoch FROM updated_at) FROM sessions WHERE id='{sid}'")
    assert status == "done", status
    return float(t)


def openai_once(S, token, data, fmt):
    body, ctype = form(data, (("model", "whisper-1"), ("response_format", fmt)))
    t0 = time.time()
    r = S.request("POST", "/v1/audio/transcriptions", body=body, token=token, content_type=ctype, timeout=300)
    t1 = time.time()
    assert r.status == 200, r
    return t1 - t0, t1 - done_at(S, r.header("x-rostrum-session-id"))


def recorded_once(S, token, data):
    body, ctype = form(data)
    t0 = time.time()
    r = S.request("POST", "/api/v1/sessions", body=body, token=token, content_type=ctype, timeout=300)
    assert r.status == 202, r
    sid = r.json()["id"]
    deadline = time.monotonic() + 300
    while S.get(f"/api/v1/sessions/{sid}", token=token).json()["status"] != "done":
        if time.monotonic() > deadline:
            raise RuntimeError("timeout")
        # Slow polling on purpose: the done time is the stored stamp, so the interval adds no
        # bias, and fast polling would take CPU from the worker on a small machine.
        time.sleep(0.25)
    return done_at(S, sid) - t0


def ms(v):
    return f"{v * 1000:.0f} ms"


def p95(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--format", default="verbose_json", choices=("json", "verbose_json"))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="rostrum-bench-openai-")
    with open(clip(10, os.path.join(tmp, "clip10.wav")), "rb") as f:
        data = f.read()
    S = Stack("benchopenai", ROSTRUM_WORKER_THREADS="1")
    try:
        _, token, _ = S.new_user()
        openai_once(S, token, data, args.format)  # warm-up: models loaded, statements prepared
        recorded_once(S, token, data)
        e2e, own, rec = [], [], []
        for i in range(args.pairs):
            runs = [lambda: rec.append(recorded_once(S, token, data)),
                    lambda: (lambda a, b: (e2e.append(a), own.append(b)))(*openai_once(S, token, data, args.format))]
            for run in (runs if i % 2 == 0 else runs[::-1]):
                S.quiesce()
                run()
        diff = [a - b for a, b in zip(e2e, rec)]
        print(f"clip: 10.0 s of harvard_sentences.wav, {args.pairs} interleaved pairs, response_format={args.format}, "
              f"worker.threads=1")
        print(f"/v1/audio/transcriptions end to end: median {ms(statistics.median(e2e))}, p95 {ms(p95(e2e))}")
        print(f"recorded pipeline upload-to-done:    median {ms(statistics.median(rec))}, p95 {ms(p95(rec))}")
        print(f"overhead (pairwise e2e - upload-to-done): median {ms(statistics.median(diff))}, "
              f"mean {ms(statistics.mean(diff))}, max {ms(max(diff))}")
        print(f"the route's own share (its session done -> answer received): median {ms(statistics.median(own))}, "
              f"p95 {ms(p95(own))}, max {ms(max(own))}")
        print(f"ratio e2e / upload-to-done (medians): {statistics.median(e2e) / statistics.median(rec):.3f}")
    finally:
        S.stop()


if __name__ == "__main__":
    main()
