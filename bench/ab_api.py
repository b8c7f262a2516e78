#!/usr/bin/env python3
"""Two builds of `rostrum api` side by side, in one run: `GET /auth/me` and `GET /sessions`
(a page of 20 of the caller's sessions) on two stacks that share one PostgreSQL cluster and
this tree's nginx/scripts, interleaved A, B, A, B… so that the box's noise lands on both.

usage: bench/ab_api.py --a OLD_BINARY --b NEW_BINARY [--rounds 3] [--duration 10]
                       [--scenarios me,sessions]
  scripts/pg.sh start /tmp/rostrum-bench-pg
  ROSTRUM_TEST_PG=/tmp/rostrum-bench-pg bench/ab_api.py --a /tmp/rostrum-old --b build/rostrum
Needs wrk (Debian package) and ../shared/bench/wrk-get.lua. Prints one row per scenario and
build: median requests/s over the rounds, median p50/p99 latency, and the ratio B/A.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "harness"))
from stack import Stack  # noqa: E402

LUA_DIR = os.path.join(HERE, "..", "..", "shared", "bench")
SESSIONS = 40  # enough for two full pages of the default limit


def seed_sessions(S, user_id):
    """Rows only (status done, no audio read): the list route reads rows, not files."""
    values = ",".join(
        f"('{uuid.uuid4()}','{user_id}','practice','bench {i}','done',1,'x.wav','wav','audio/wav',"
        f"1000,1.5,'hello world','pocketsphinx',now() - interval '{i} minutes')"
        for i in range(SESSIONS))
    S.sql("INSERT INTO sessions (id,user_id,kind,title,status,progress,audio_path,audio_format,"
          "audio_mime,audio_bytes,duration_s,transcript_text,engine,created_at) VALUES " + values)


def wrk(url, token, duration, connections=32):
    env = dict(os.environ, BENCH_LUA_DIR=LUA_DIR, BENCH_TOKEN=token)
    out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency",
                          "-s", os.path.join(LUA_DIR, "wrk-get.lua"), url],
                         env=env, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise RuntimeError(f"{url}: {bad.group(1)} non-2xx answers:\n{out}")
    return rps, to_ms(lat["50"]), to_ms(lat["99"])


def to_ms(text):
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True, help="the baseline binary")
    ap.add_argument("--b", required=True, help="the candidate binary")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--scenarios", default="me,sessions", help="comma-separated: me, sessions")
    args = ap.parse_args()
    stacks = {}
    try:
        for label, binary in (("A", args.a), ("B", args.b)):
            S = Stack(f"ab{label.lower()}", ROSTRUM_BIN=os.path.abspath(binary))
            user, token, _ = S.new_user()
            seed_sessions(S, user["id"])
            r = S.get("/api/v1/sessions", token=token)
            assert r.status == 200 and len(r.json()["items"]) == 20, r
            stacks[label] = (S, token)
        paths = {"me": "/api/v1/auth/me", "sessions": "/api/v1/sessions"}
        scenarios = [(name, paths[name]) for name in args.scenarios.split(",")]
        figures = {}
        for _ in range(args.rounds):
            for scenario, path in scenarios:
                for label in ("A", "B"):
                    S, token = stacks[label]
                    figures.setdefault((scenario, label), []).append(
                        wrk(S.base + path, token, args.duration))
        print(f"{'scenario':10} {'build':5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  ratio B/A")
        for scenario, _ in scenarios:
            med = {}
            for label in ("A", "B"):
                runs = figures[(scenario, label)]
                med[label] = [statistics.median(r[i] for r in runs) for i in range(3)]
                rps, p50, p99 = med[label]
                ratio = f"{med['B'][0] / med['A'][0]:.3f}" if label == "B" else ""
                print(f"{scenario:10} {label:5} {rps:9.0f} {p50:8.2f} {p99:8.2f}  {ratio}")
            print(f"{'':10} runs (req/s): A {[round(r[0]) for r in figures[(scenario, 'A')]]}"
                  f" B {[round(r[0]) for r in figures[(scenario, 'B')]]}")
    finally:
        for S, _ in stacks.values():
            S.stop()


if __name__ == "__main__":
    main()
