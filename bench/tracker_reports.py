#!/usr/bin/env python3
"""Tracker reports benchmark (issue 11): latency of the reports and of the activity log on a
project with 10,000 tasks and 100,000 status-history rows, and of verifying 100,000 activity
entries, through nginx; plus the EXPLAIN (ANALYZE, BUFFERS) plan of each report's query as the
API ran it (auto_explain, on the bench's own database), and the board's read of 500 tasks.

usage: bench/tracker_reports.py [--requests N] [--no-plans]
Needs a built tree (build/rostrum) and a throwaway PostgreSQL of its own (the plans are read
from its log):
  scripts/pg.sh start /tmp/rostrum-bench-pg
  ROSTRUM_TEST_PG=/tmp/rostrum-bench-pg bench/tracker_reports.py
Prints one line per figure, then the plans.
"""
import argparse
import http.client
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "harness"))
from stack import PG, Stack  # noqa: E402

TASKS, HISTORY, ENTRIES, BOARD = 10_000, 100_000, 100_000, 500
PEOPLE = 10  # the owner and nine members
# What the reports' statements (db/reports.cpp, db/activity.cpp) contain, and nothing else does.
REPORT_SQL = ("FROM projects p", "task_status_history h", "FROM activity a", "activity_project_visible",
              "activity_chain_heads", "board_id")


def generate(S, owner, members, admin):
    """The data, in SQL: project P (10,000 tasks, each with 1-19 history rows, 100,000 in all,
    over the last 180 days), project B (500 tasks, the board), and 100,000 activity entries
    linked by the activity_link trigger (90 % in P's chain, the rest in ten personal chains)."""
    people = [owner] + members
    arr = "ARRAY[" + ",".join(f"'{u}'::uuid" for u in people) + "]"
    member_rows = ",".join(f"((SELECT id FROM p), '{m}')" for m in members)
    S.sql(f"""
SET session_replication_role = replica;
WITH p AS (INSERT INTO projects (owner_id, name) VALUES ('{owner}', 'bench P') RETURNING id)
INSERT INTO project_members (project_id, user_id) VALUES {member_rows};
INSERT INTO projects (owner_id, name) VALUES ('{owner}', 'bench B');
CREATE TEMP TABLE gen AS
  SELECT i, gen_random_uuid() AS id,
         now() - interval '180 days' + (i * interval '175 days') / {TASKS} AS created_at,
         (i % 19) + 1 AS k  -- history rows of the task, creation included: 10 on average
  FROM generate_series(0, {TASKS} - 1) AS i;
INSERT INTO tasks (id, project_id, created_by, title, status, priority, position, assignee_id,
                   due_date, created_at, updated_at, completed_at)
SELECT id, (SELECT id FROM projects WHERE name = 'bench P'), '{owner}', 'task ' || i, st,
       (ARRAY['low','medium','high','urgent'])[i % 4 + 1],
       row_number() OVER (PARTITION BY st ORDER BY i) - 1,
       CASE WHEN i % 11 = 0 THEN NULL ELSE ({arr})[i % {PEOPLE} + 1] END,
       (created_at + (i % 30) * interval '1 day')::date, created_at,
       created_at + (k - 1) * interval '6 hours',
       CASE WHEN st = 'done' THEN created_at + (k - 1) * interval '6 hours' END
FROM (SELECT *, (ARRAY['todo','in_progress','review','done'])[(k - 1) % 4 + 1] AS st FROM gen) g;
INSERT INTO task_status_history (task_id, project_id, from_status, to_status, at)
SELECT g.id, (SELECT id FROM projects WHERE name = 'bench P'),
       CASE WHEN j = 0 THEN NULL ELSE (ARRAY['todo','in_progress','review','done'])[(j - 1) % 4 + 1] END,
       (ARRAY['todo','in_progress','review','done'])[j % 4 + 1],
       g.created_at + j * interval '6 hours'
FROM gen g, generate_series(0, g.k - 1) AS j;
INSERT INTO tasks (project_id, created_by, title, status, position, created_at)
SELECT (SELECT id FROM projects WHERE name = 'bench B'), '{owner}', 'board task ' || i,
       (ARRAY['todo','in_progress','review','done'])[i % 4 + 1], i / 4, now()
FROM generate_series(0, {BOARD} - 1) AS i;
""")
    # In transactions of 1,000: each entry rewrites its chain's head row (activity_link), and
    # one transaction rewriting the same row 90,000 times walks ever longer version chains.
    batch = 1000
    S.sql(";".join(f"""BEGIN; INSERT INTO activity (at, actor_id, project_id, entity, entity_id, action, changes)
SELECT now() - ({ENTRIES} - g) * interval '1 minute', ({arr})[g % {PEOPLE} + 1],
       CASE WHEN g % 10 = 0 THEN NULL ELSE (SELECT id FROM projects WHERE name = 'bench P') END,
       'task', gen_random_uuid(), 'moved', jsonb_build_object('status', jsonb_build_array('todo', 'done'))
FROM generate_series({lo}, {lo + batch - 1}) AS g; COMMIT""" for lo in range(1, ENTRIES + 1, batch)))
    S.sql("VACUUM ANALYZE")  # the visibility map, for the index-only scans
    counts = S.sql("SELECT (SELECT count(*) FROM tasks WHERE project_id = p.id), "
                   "(SELECT count(*) FROM task_status_history WHERE project_id = p.id), "
                   "(SELECT count(*) FROM activity), p.id, (SELECT id FROM projects WHERE name = 'bench B') "
                   "FROM projects p WHERE name = 'bench P'")[0]
    return counts


class Client:
    """One keep-alive connection through nginx, like a browser's."""

    def __init__(self, port, token):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path):
        t = time.perf_counter()
        self.conn.request("GET", path, headers=self.headers)
        r = self.conn.getresponse()
        body = r.read()
        dt = time.perf_counter() - t
        assert r.status == 200, (path, r.status, body[:300])
        return dt, body


def measure(client, path, n, warm=5):
    for _ in range(warm):
        client.get(path)
    times = sorted(client.get(path)[0] * 1000 for _ in range(n))
    return statistics.median(times), times[max(0, int(round(0.95 * n)) - 1)], len(client.get(path)[1])


def board_sql(S, board, n):
    """The board's read (a board's tasks in column and position order, through tasks_position_key,
    rendered as JSON), timed inside PostgreSQL n times: p50, p95 in ms. No HTTP: this branch has
    no board route (--board-route measures GET /projects/{id}/board where it exists)."""
    (p50, p95), = S.sql(f"""
DO $$
DECLARE t0 timestamptz; d float8[] := '{{}}'; r record;
BEGIN
  FOR i IN 1..{n} LOOP
    t0 := clock_timestamp();
    PERFORM json_agg(x) FROM (SELECT * FROM tasks WHERE board_id = '{board}' ORDER BY status, position) x;
    d := d || extract(epoch FROM clock_timestamp() - t0) * 1000;
  END LOOP;
  CREATE TEMP TABLE board_times AS SELECT unnest(d) AS ms;
END $$;
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2),
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 2) FROM board_times""")
    return float(p50), float(p95)


def plans(S, client, paths):
    """Each path once with auto_explain on for the bench's database: the plan PostgreSQL ran."""
    log = os.path.join(PG, "postgres.log")
    S.sql(f"ALTER DATABASE \"{S.db}\" SET session_preload_libraries = 'auto_explain';"
          f"ALTER DATABASE \"{S.db}\" SET auto_explain.log_min_duration = 0;"
          f"ALTER DATABASE \"{S.db}\" SET auto_explain.log_analyze = on;"
          f"ALTER DATABASE \"{S.db}\" SET auto_explain.log_buffers = on;")
    # The API's connections pick the settings up when they reconnect.
    S.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{S.db}' "
          "AND pid <> pg_backend_pid()")
    start = os.path.getsize(log)
    for name, path in paths:
        for _ in range(3):  # the first may meet a terminated connection
            try:
                client.get(path)
                break
            except (AssertionError, http.client.HTTPException, OSError):
                client.conn.close()
        print(f"\n=== plan: {name} ({path})")
        time.sleep(0.3)
        with open(log, errors="replace") as f:
            f.seek(start)
            text = f.read()
        start = os.path.getsize(log)
        for block in text.split("LOG:  duration:")[1:]:
            block = block.split("\n20")[0]  # up to the next log line
            if any(k in block for k in REPORT_SQL):  # not the token check, the worker, the events
                print("duration:" + block.rstrip())
    S.sql(f"ALTER DATABASE \"{S.db}\" RESET ALL")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--no-plans", action="store_true")
    args = ap.parse_args()
    S = Stack("bench_tracker")
    try:
        admin, admin_token, _ = S.new_user(name="Admin")
        owner, owner_token, _ = S.new_user(name="Owner")
        members = [S.new_user(name=f"Member {i}")[0]["id"] for i in range(PEOPLE - 1)]
        t = time.monotonic()
        if os.environ.get("BENCH_GENERATE_ONLY"):
            generate(S, owner["id"], members, admin["id"])
            print(f"generated in {time.monotonic() - t:.1f} s: database {S.db}")
            return
        tasks, history, entries, p, b = generate(S, owner["id"], members, admin["id"])
        print(f"data: {tasks} tasks, {history} history rows in P, {entries} activity entries "
              f"({time.monotonic() - t:.1f} s to generate)")
        own = Client(S.port, owner_token)
        adm = Client(S.port, admin_token)
        paths = [
            ("progress", own, f"/api/v1/projects/{p}/progress"),
            ("flow (30 days, day buckets)", own, f"/api/v1/projects/{p}/flow"),
            ("flow (a year, week buckets)", own, f"/api/v1/projects/{p}/flow?from=2025-12-03&bucket=week"),
            ("team-performance (30 days)", own, f"/api/v1/reports/team-performance?project_id={p}"),
            ("workload", own, f"/api/v1/reports/workload?project_id={p}"),
            ("activity, first page", own, "/api/v1/activity"),
            ("activity, project filter", own, f"/api/v1/activity?project_id={p}&limit=100"),
            ("activity/verify (100k entries)", adm, "/api/v1/activity/verify"),
        ]
        print(f"{'route':34} {'p50 ms':>8} {'p95 ms':>8} {'bytes':>7}   ({args.requests} requests each, keep-alive, through nginx)")
        for name, client, path in paths:
            n = args.requests if "verify" not in name else max(20, args.requests // 5)
            p50, p95, size = measure(client, path, n)
            print(f"{name:34} {p50:8.2f} {p95:8.2f} {size:7}" + ("" if "verify" not in name else f"   ({n} requests)"))
        board = f"/api/v1/projects/{b}/board"
        try:
            own.get(board)
            p50, p95, size = measure(own, board, args.requests)
            print(f"{'board, 500 tasks':34} {p50:8.2f} {p95:8.2f} {size:7}")
            paths.append(("board, 500 tasks", own, board))
        except AssertionError:  # no board route in this tree
            own.conn.close()  # (reopened by the next request)
            bp50, bp95 = board_sql(S, b, args.requests)
            print(f"{'board read, 500 tasks (SQL only)':34} {bp50:8.2f} {bp95:8.2f}")
        ok = json.loads(adm.get("/api/v1/activity/verify")[1])
        print(f"verify: {ok}")
        if not args.no_plans:
            plans(S, Client(S.port, owner_token), [(n, pth) for n, c, pth in paths if c is own])
            plans(S, Client(S.port, admin_token), [(n, pth) for n, c, pth in paths if c is adm])
    finally:
        S.stop()


if __name__ == "__main__":
    main()
