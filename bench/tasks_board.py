#!/usr/bin/env python3
"""The Kanban routes under load, on one stack: GET /projects/{id}/board with 500 tasks (p50/p95
of sequential requests), and 20 clients moving tasks of one board at once for --duration
seconds (moves/s, errors, and the positions still a permutation 0..n-1 per column afterwards).
Prints the EXPLAIN (ANALYZE) of the board's task query: an index scan of tasks_position_key
(board_id, status, position), no sort.

usage: scripts/pg.sh start /tmp/rostrum-bench-pg
       ROSTRUM_TEST_PG=/tmp/rostrum-bench-pg bench/tasks_board.py [--tasks 500] [--duration 60]
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
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "harness"))
from stack import Stack  # noqa: E402

STATUSES = ["todo", "in_progress", "review", "done"]


def seed(S, owner_id, n):
    pid = str(uuid.uuid4())
    S.sql(f"INSERT INTO projects (id, owner_id, name) VALUES ('{pid}', '{owner_id}', 'Bench')")
    # n tasks spread over the four columns, each column numbered 0..k-1.
    S.sql(f"""INSERT INTO tasks (project_id, created_by, title, status, position, labels)
              SELECT '{pid}', '{owner_id}', 'task ' || g, s.status,
                     (g - 1) / 4, ARRAY['bench']
              FROM generate_series(1, {n}) g,
                   LATERAL (SELECT (ARRAY{STATUSES})[1 + (g - 1) % 4] AS status) s""")
    S.sql("ANALYZE tasks")
    return pid


def timed_gets(S, path, token, count):
    conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=30)
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        r = conn.getresponse()
        r.read()
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status == 200, r.status
    conn.close()
    return out


def movers(S, token, ids, duration, clients=20):
    stop = time.monotonic() + duration
    counts, errors = [0] * clients, []

    def run(k):
        conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=30)
        rnd = random.Random(k)
        while time.monotonic() < stop:
            body = json.dumps({"status": rnd.choice(STATUSES), "position": rnd.randrange(0, 150),
                               "force": True})
            conn.request("POST", f"/api/v1/tasks/{rnd.choice(ids)}/move", body=body,
                         headers={"Authorization": f"Bearer {token}",
                                  "Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors.append(r.status)
            counts[k] += 1
        conn.close()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts), errors


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=500)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--duration", type=float, default=60)
    a = ap.parse_args()
    S = Stack("bench-board")
    try:
        user, token, _ = S.new_user()
        pid = seed(S, user["id"], a.tasks)
        path = f"/api/v1/projects/{pid}/board"
        timed_gets(S, path, token, 20)  # warm the prepared statements of every worker
        ms = timed_gets(S, path, token, a.requests)
        print(f"GET board, {a.tasks} tasks: p50 {statistics.median(ms):.2f} ms, "
              f"p95 {pct(ms, 95):.2f} ms, max {max(ms):.2f} ms over {a.requests} requests")
        plan = S.sql(f"""EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)
            SELECT t.id FROM tasks t WHERE t.board_id = '{pid}'
            ORDER BY t.board_id, t.status, t.position""")
        print("board query plan:\n  " + "\n  ".join(row[0] for row in plan))
        ids = [r[0] for r in S.sql(f"SELECT id FROM tasks WHERE project_id = '{pid}'")]
        n, errors = movers(S, token, ids, a.duration)
        print(f"20 concurrent movers, {a.duration:.0f} s: {n} moves, {n / a.duration:.1f} moves/s, "
              f"{len(errors)} errors {sorted(set(errors))}")
        bad = S.sql(f"""SELECT status, count(*), min(position), max(position),
                               count(DISTINCT position) FROM tasks WHERE project_id = '{pid}'
                        GROUP BY status HAVING min(position) <> 0
                            OR max(position) <> count(*) - 1 OR count(DISTINCT position) <> count(*)""")
        print("positions a permutation 0..n-1 in every column:", "yes" if not bad else f"NO {bad}")
    finally:
        S.stop()


if __name__ == "__main__":
    main()
