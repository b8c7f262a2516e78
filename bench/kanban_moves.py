#!/usr/bin/env python3
"""Kanban moves under concurrency (issue 11): 20 concurrent POST /tasks/{id}/move per second for
60 s through nginx, on one project's board, then the check that every column's positions are
still 0..n-1 (no gap, no duplicate). Prints latency p50/p95/p99/max, the errors (any answer but
200, or no answer), the moves per second reached, and the machine's load before and after.

Every second, 20 threads (one HTTP connection per move, as independent clients) fire at the
same moment (a barrier): each moves a random task of the board to a random column and position
(positions past the end included: "past the end = last"), as one of the project's owner and two
members. The board holds TASKS tasks (default 60), all columns in play, no WIP limits.

usage: bench/kanban_moves.py [--seconds 60] [--rate 20] [--tasks 60] [--workers N]
Needs a built tree (build/rostrum) and a throwaway PostgreSQL for the stack it starts
(tests/harness/stack.py, as the API tests):
  scripts/pg.sh start /tmp/rostrum-bench-pg
  ROSTRUM_TEST_PG=/tmp/rostrum-bench-pg bench/kanban_moves.py
Exit status 1 when there was an error or a column is not a permutation.
"""
import argparse
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "harness"))
from stack import Stack  # noqa: E402

API = "/api/v1"
STATUSES = ("todo", "in_progress", "review", "done")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def move(port, token, task_id, status, position):
    """One move on a fresh connection: (status or None, seconds)."""
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", f"{API}/tasks/{task_id}/move",
                     body=json.dumps({"status": status, "position": position}),
                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        return r.status, time.perf_counter() - t0
    except OSError:
        return None, time.perf_counter() - t0
    finally:
        conn.close()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--rate", type=int, default=20, help="concurrent moves fired each second")
    ap.add_argument("--tasks", type=int, default=60)
    ap.add_argument("--workers", type=int, default=None, help="ROSTRUM_API_WORKERS (default: cores)")
    a = ap.parse_args()

    env = {"ROSTRUM_API_WORKERS": a.workers or os.cpu_count()}
    S = Stack("kanban_bench", **env)
    try:
        users = [S.new_user(name=f"Kanban {i}") for i in range(4)]  # the first is the admin
        owner, members = users[1], users[2:]
        tokens = [owner[1]] + [m[1] for m in members]
        r = S.post(f"{API}/projects", {"name": "Kanban bench", "member_ids": [m[0]["id"] for m in members]},
                   token=owner[1])
        assert r.status == 201, r
        pid = r.json()["id"]
        rng = random.Random(20)
        ids = []
        for i in range(a.tasks):
            r = S.post(f"{API}/tasks", {"title": f"Card {i}", "project_id": pid, "status": STATUSES[i % 4]},
                       token=tokens[i % len(tokens)])
            assert r.status == 201, r
            ids.append(r.json()["id"])

        lat, errors, answers = [], [], {}
        lock = threading.Lock()
        print(f"kanban_moves: {a.rate} concurrent moves/s for {a.seconds} s, {a.tasks} tasks on one board, "
              f"api workers {env['ROSTRUM_API_WORKERS']}, {os.cpu_count()} cpus; loadavg before {loadavg()}",
              flush=True)
        start = time.monotonic()
        for second in range(a.seconds):
            plan = [(rng.choice(ids), rng.choice(STATUSES), rng.randrange(a.tasks // 4 + 3),
                     tokens[k % len(tokens)]) for k in range(a.rate)]
            barrier = threading.Barrier(a.rate)

            def one(t, st, pos, tok):
                barrier.wait()
                code, s = move(S.port, tok, t, st, pos)
                with lock:
                    lat.append(s)
                    answers[code] = answers.get(code, 0) + 1
                    if code != 200:
                        errors.append((code, t, st, pos))

            threads = [threading.Thread(target=one, args=p) for p in plan]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            # open loop at one burst per second: wait for the next second's mark
            delay = start + second + 1 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        wall = time.monotonic() - start

        rows = S.sql(f"SELECT status, position FROM tasks WHERE project_id = '{pid}' ORDER BY status, position")
        cols = {}
        for st, pos in rows:
            cols.setdefault(st, []).append(int(pos))
        perm = all(v == list(range(len(v))) for v in cols.values()) and sum(map(len, cols.values())) == a.tasks
        r = S.get(f"{API}/projects/{pid}/board", token=tokens[0])
        board_ok = r.status == 200 and all(
            [t["position"] for t in c["tasks"]] == list(range(len(c["tasks"]))) for c in r.json()["columns"])
        ms = [x * 1000 for x in lat]
        print(f"moves {len(lat)} in {wall:.1f} s ({len(lat) / wall:.1f}/s), answers {answers}, errors {len(errors)}")
        print(f"latency ms: p50 {pct(ms, 50):.1f}  p95 {pct(ms, 95):.1f}  p99 {pct(ms, 99):.1f}  "
              f"max {max(ms):.1f}  mean {statistics.mean(ms):.1f}")
        print(f"columns after: { {k: len(v) for k, v in sorted(cols.items())} }, positions a permutation: {perm}, "
              f"board 0..n-1: {board_ok}")
        print(f"loadavg after {loadavg()}")
        if errors:
            print(f"first errors: {errors[:5]}")
        return 0 if (not errors and perm and board_ok) else 1
    finally:
        S.stop()


if __name__ == "__main__":
    sys.exit(main())
