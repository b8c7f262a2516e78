#!/usr/bin/env python3
"""Practice reports benchmark: GET /progress (week and month buckets, in UTC and in
Europe/Helsinki) and GET /recommendations for a user with 5,000 done sessions, among 20 other
users with 1,000 each, through nginx (p50/p95/max over --runs requests each); then the same
with the partial index sessions_user_done_created_idx dropped, side by side in one run; and
EXPLAIN (ANALYZE, BUFFERS) of the report statement (the SQL of db/progress.cpp kReport, read
from the source).

usage: bench/progress_bench.py [--runs N] [--sessions N]
Needs a built tree (build/rostrum) and a throwaway PostgreSQL:
  scripts/pg.sh start /tmp/rostrum-bench-pg
  ROSTRUM_TEST_PG=/tmp/rostrum-bench-pg bench/progress_bench.py
Prints the RESULTS.md section.
"""
import argparse
import http.client
import os
import platform
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "harness"))
from stack import Stack  # noqa: E402

# Deterministic, varied metrics from the row number i: a practising speaker over ~2 years.
FILL = """
INSERT INTO sessions (id, user_id, kind, title, status, progress, audio_path, audio_format,
                      audio_mime, audio_bytes, duration_s, created_at, updated_at)
SELECT md5('{tag}:' || i)::uuid, '{user}', CASE WHEN i % 10 = 0 THEN 'interview' ELSE 'practice' END,
       'Session ' || i, CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'done' END, 1,
       md5('{tag}:' || i) || '.wav', 'wav', 'audio/wav', 0, 30 + (i * 37) % 900,
       now() - make_interval(mins => i * 211), now() - make_interval(mins => i * 211)
FROM generate_series(1, {n}) AS i;
INSERT INTO analyses (session_id, metrics, wpm, fillers_per_min, overall)
SELECT md5('{tag}:' || i)::uuid,
       jsonb_build_object('duration_s', 30 + (i * 37) % 900, 'wpm', 90 + (i * 7) % 120,
         'articulation_wpm', 110 + (i * 7) % 130,
         'pace_band', CASE WHEN 90 + (i * 7) % 120 BETWEEN 120 AND 165 THEN 'good' ELSE 'fast' END,
         'fillers', jsonb_build_object('per_min', ((i * 13) % 80) / 10.0),
         'pauses', jsonb_build_object('per_min', 5 + (i * 3) % 20),
         'pitch', jsonb_build_object('range_semitones', ((i * 11) % 120) / 10.0),
         'scores', jsonb_build_object('pace', 40 + i % 60, 'fluency', 30 + (i * 3) % 70,
                                      'clarity', 50 + i % 50, 'confidence', 45 + (i * 5) % 55,
                                      'overall', 40 + (i * 7) % 60)),
       90 + (i * 7) % 120, ((i * 13) % 80) / 10.0, 40 + (i * 7) % 60
FROM generate_series(1, {n}) AS i;
"""

def report_sql():
    """The SQL of db/progress.cpp's kReport, read from the source (its macros expanded and its
    string literals joined), so that the plan shown is the statement's, not a copy."""
    src = open(os.path.join(HERE, "..", "db", "progress.cpp")).read()
    lit = re.compile(r'R"sql\((.*?)\)sql"|"((?:[^"\\]|\\.)*)"|([A-Z_]{4,})', re.S)

    def join(text):
        out = []
        for raw, plain, name in lit.findall(text):
            if name:
                out.append(macros.get(name, ""))
            else:
                out.append(raw or plain.replace('\\"', '"'))
        return "".join(out)

    macros = {}
    for m in re.finditer(r"#define (\w+)((?:.*\\\n)*.*)", src):
        macros[m.group(1)] = join(m.group(2))
    body = re.search(r'constexpr Statement kReport\{"progress_report",(.*?),\s*kIdempotent\};', src, re.S)
    return join(body.group(1))


def explain(S, user):
    params = f"'{user}', 'Europe/Helsinki', NULL, NULL, NULL, '30', 'week'"
    sql = (f"PREPARE report AS {report_sql()}; "
           f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE report({params});")
    return "\n".join(r[0] for r in S.sql(sql))


def timed(S, path, token, runs):
    conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=30)
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        r = conn.getresponse()
        body = r.read()
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status == 200, (r.status, body[:300])
    conn.close()
    return out


def cpu_ms(pids):
    """utime + stime of the processes, in ms (from /proc: the figure load does not inflate)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except FileNotFoundError:
            pass
    return total * 1000 / tick


def server_pids(S):
    """The API workers and the application role's PostgreSQL backends."""
    backends = [int(p) for (p,) in S.sql(
        "SELECT pid FROM pg_stat_activity WHERE usename = 'rostrum_app'")]
    return S.worker_pids() + backends


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


PATHS = [
    ("/progress?bucket=month", "/api/v1/progress?bucket=month"),
    ("/progress?bucket=week", "/api/v1/progress?bucket=week"),
    ("/progress?bucket=week&tz=Europe/Helsinki", "/api/v1/progress?bucket=week&tz=Europe/Helsinki"),
    ("/recommendations", "/api/v1/recommendations"),
]


def measure(S, token, runs):
    """{route: (latencies in ms, server CPU ms per request)}."""
    res = {}
    for name, path in PATHS:
        timed(S, path, token, 10)  # warm: prepared statements, caches, every worker connected
        pids = server_pids(S)
        before = cpu_ms(pids)
        lat = timed(S, path, token, runs)
        res[name] = (lat, (cpu_ms(pids) - before) / runs)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--sessions", type=int, default=5000)
    a = ap.parse_args()
    S = Stack("progress-bench")
    try:
        _, token, _ = S.new_user()  # the admin, unused
        me, token, _ = S.new_user()
        S.sql(FILL.format(tag="me", user=me["id"], n=a.sessions))
        for k in range(20):
            other, _, _ = S.new_user()
            S.sql(FILL.format(tag=f"o{k}", user=other["id"], n=1000))
        S.request("PUT", "/api/v1/me/goals", token=token, json_body=[
            {"metric": "fillers_per_min", "target": 3, "direction": "at_most"},
            {"metric": "overall", "target": 80, "direction": "at_least"},
            {"metric": "sessions", "target": 5, "direction": "at_least"}])
        S.sql("VACUUM ANALYZE")
        total = S.sql("SELECT count(*) FROM sessions")[0][0]
        with_idx = measure(S, token, a.runs)
        plan = explain(S, me["id"])
        S.sql("DROP INDEX sessions_user_done_created_idx; ANALYZE sessions")
        without = measure(S, token, a.runs)
        plan_without = explain(S, me["id"])
        S.sql("CREATE INDEX sessions_user_done_created_idx ON sessions (user_id, created_at) "
              "INCLUDE (id, kind, duration_s) WHERE status = 'done'")
        size = len(S.get("/api/v1/progress?bucket=week", token=token).body)
    finally:
        S.stop()

    print(f"## Practice reports: /progress and /recommendations "
          f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
    print(f"Machine: {platform.node()}, {os.cpu_count()} vCPUs, {platform.platform()}; "
          f"command `ROSTRUM_TEST_PG=/tmp/rostrum-bench-pg bench/progress_bench.py --runs {a.runs}`. "
          f"One user with {a.sessions} sessions (2% failed, 10% interviews, ~2 years, one every "
          f"3.5 h) among 20 users with 1,000 each ({total} sessions in all); {a.runs} sequential "
          f"requests per route on one keep-alive connection through nginx, after 10 warm-up "
          f"requests. Client-side latency in ms.\n")
    print(f"Load average during the run: {os.getloadavg()[0]:.1f} (other work on the machine); "
          f"server CPU is utime+stime of the API workers and the app's PostgreSQL backends per "
          f"request, which the load does not inflate.\n")
    print("| route | p50 | p95 | max | server CPU ms/req | p50 without the index | p95 without | "
          "CPU ms/req without | p95 ratio (without / with) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, _ in PATHS:
        (w, c), (wo, co) = with_idx[name], without[name]
        print(f"| `{name}` | {statistics.median(w):.1f} | {pct(w, 95):.1f} | {max(w):.1f} | {c:.1f} | "
              f"{statistics.median(wo):.1f} | {pct(wo, 95):.1f} | {co:.1f} | {pct(wo, 95) / pct(w, 95):.2f} |")
    print(f"\nThe weekly answer is {size / 1024:.0f} KiB. EXPLAIN (ANALYZE, BUFFERS) of the "
          f"report statement (weekly, Europe/Helsinki), with the index:\n")
    print("```\n" + plan + "\n```\n")
    print("Without it:\n")
    print("```\n" + plan_without + "\n```")


if __name__ == "__main__":
    main()
