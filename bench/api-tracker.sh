#!/usr/bin/env bash
# Rostrum vs the FastAPI peer, side by side, on the two task scenarios of the shared harness
# (../shared/bench/api-bench.sh, issue 11):
#   task_create  POST /api/v1/tasks {title, description, priority:"medium"} -> 201 (one personal
#                task of the bench user per request), CONNECTIONS (64)
#   task_get     GET  /api/v1/tasks/{id}  (one task of the bench user), CONNECTIONS (64)
# Built like bench/api-foundation.sh (which it follows line for line where it can): the shared
# harness's pieces unchanged -- wrk-get.lua / wrk-post-json.lua / wrk-common.lua (BENCH_LUA_DIR),
# procmon.py, api-bench-row.py -- with the same defaults, quiet/idle waits and the same "repeat
# a noisy run" rule, and both servers in ONE invocation, interleaved:
#   peer task_create, ours task_create, peer task_get, ours task_get.
# Before the runs the same smoke test as api-bench.sh's task part, on both servers: create
# (201), get (200), PUT {title, description, priority:"high", status:"in_progress"} (200, the
# fields changed), delete (204), get again (404).
#
#   bench/api-tracker.sh            # full run (DURATION=15)
#   DURATION=5 WARMUP=1 QUIET_WAIT=30 RETRY_NOISY=0 bench/api-tracker.sh
#
# What it starts and stops (also on error or timeout), the process accounting (procmon.py
# --server-pids / --server-match, per-tree CPU split) and the database (the peer's cluster;
# ours in database rostrum_bench of the SAME cluster): exactly as bench/api-foundation.sh.
#
# Environment (defaults in brackets):
#   DURATION [15]  CONNECTIONS [64]  THREADS [2]  WARMUP [3]  WRK_TIMEOUT [30]
#   QUIET_WAIT [180]  QUIET_BELOW [0.15]  RETRY_NOISY [2]  NOISY_OTHER [0.2]
#   BENCH_EMAIL [bench@example.com]  BENCH_PASSWORD [bench-password-123]
#   SCENARIOS ["task_create task_get"]  interleaved per scenario: peer first, then ours
#   ROSTRUM_API_WORKERS [unset = number of cores]
#   PEER_PORT, ROSTRUM_PORT [free ports]   SPEECHBENCH_DIR [/tmp/speechbench]  PGPORT [55432]
#   ROSTRUM_BIN [build/rostrum]  RESULTS_DIR [$SPEECHBENCH_DIR/results/<date>-tracker]
#   MAX_SECONDS [2400]           hard bound on the whole run (timeout; cleanup still runs)
# Only 127.0.0.1 is contacted (PostgreSQL over its unix socket).
set -euo pipefail

SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
MAX_SECONDS=${MAX_SECONDS:-2400}
if [[ -z ${API_TRACKER_BOUNDED:-} ]]; then
    # Every step below is bounded on its own; this caps the sum. timeout signals our whole
    # process group, the EXIT trap below then stops what this run started.
    export API_TRACKER_BOUNDED=1
    exec timeout -k 180 "$MAX_SECONDS" "$SELF" "$@"
fi

HERE=$(dirname "$SELF")
ROOT=$(cd "$HERE/.." && pwd)
SHARED=$(cd "$ROOT/../shared" && pwd)
SB=$SHARED/bench
PEER_DIR=$SHARED/peers/fastapi
export BENCH_LUA_DIR=$SB

DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-64}
LOGIN_CONNECTIONS=${LOGIN_CONNECTIONS:-8}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-3}
WRK_TIMEOUT=${WRK_TIMEOUT:-30}
QUIET_WAIT=${QUIET_WAIT:-180}
QUIET_BELOW=${QUIET_BELOW:-0.15}
RETRY_NOISY=${RETRY_NOISY:-2}
NOISY_OTHER=${NOISY_OTHER:-0.2}
SCENARIOS=${SCENARIOS:-"task_create task_get"}
BENCH_EMAIL=${BENCH_EMAIL:-bench@example.com}
BENCH_PASSWORD=${BENCH_PASSWORD:-bench-password-123}
BENCH_NAME=${BENCH_NAME:-Bench User}
export SPEECHBENCH_DIR=${SPEECHBENCH_DIR:-/tmp/speechbench}
export PGPORT=${PGPORT:-55432}
PGSOCK=$SPEECHBENCH_DIR/pg/run
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
MAIN_WORKERS=${ROSTRUM_API_WORKERS:-}
unset ROSTRUM_API_WORKERS            # passed explicitly per start below
export ROSTRUM_AUTH_RATE=${ROSTRUM_AUTH_RATE:-100000r/s}
export ROSTRUM_AUTH_BURST=${ROSTRUM_AUTH_BURST:-100000}
BIN_SRC=${ROSTRUM_BIN:-$ROOT/build/rostrum}
unset ROSTRUM_BIN ROSTRUM_DATA_DIR ROSTRUM_PORT_UNUSED
PY=$(command -v python3)
RESULTS_DIR=${RESULTS_DIR:-$SPEECHBENCH_DIR/results/$(date +%Y%m%d-%H%M%S)-tracker}

log() { echo "api-tracker: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for tool in wrk curl "$PY" timeout; do
    command -v "$tool" >/dev/null || die "'$tool' not found (Debian: apt-get install wrk curl gcc python3)"
done
[[ -x $BIN_SRC ]] || die "$BIN_SRC is missing: build first (cmake --build build -j2)"
[[ -x $PG_BIN/psql ]] || PG_BIN=$(dirname "$(command -v psql)")

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PEER_PORT=${PEER_PORT:-$(free_port)}
OUR_PORT=${ROSTRUM_PORT:-$(free_port)}
unset ROSTRUM_PORT
port_in_use "$PEER_PORT" && die "PEER_PORT $PEER_PORT is in use"
port_in_use "$OUR_PORT" && die "ROSTRUM_PORT $OUR_PORT is in use"
[[ $PEER_PORT != "$OUR_PORT" ]] || die "PEER_PORT and ROSTRUM_PORT are the same"

mkdir -p "$RESULTS_DIR"
RESULTS_DIR=$(cd "$RESULTS_DIR" && pwd)
TMP=$(mktemp -d /tmp/api-tracker.XXXXXX)
DATA=$(mktemp -d /tmp/rostrum-bench.XXXXXX)
chmod 0755 "$DATA"                  # nginx's workers (www-data) must reach run/api.sock
OUR_BIN=$DATA/bin/rostrum
mkdir -p "$DATA/bin"
cp "$BIN_SRC" "$OUR_BIN"
OUR_MATCH="^$(printf '%s' "$OUR_BIN" | sed 's/[][\.*^$()+?{}|]/\\&/g') api"
OUR_DB_URL="host=$PGSOCK port=$PGPORT user=speech dbname=rostrum_bench"
PEER_API=http://127.0.0.1:$PEER_PORT/api/v1
OUR_API=http://127.0.0.1:$OUR_PORT/api/v1

# ------------------------------------------------------------------ cleanup (always)
PEER_RUN=0
PG_WAS_UP=0
OURS_UP=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if ((OURS_UP)); then
        ours_stack down >>"$RESULTS_DIR/stack.log" 2>&1 || log "stack.sh down failed (see stack.log)"
    fi
    for f in log/api.log log/migrate.log nginx/logs/error.log; do
        [[ -f $DATA/$f ]] && cp "$DATA/$f" "$RESULTS_DIR/ours-$(basename "$f")" 2>/dev/null || true
    done
    if [[ -s $RESULTS_DIR/best.txt && ! -s $RESULTS_DIR/report.md && -f $TMP/helper.py ]]; then
        log "run did not finish (exit $rc): partial report from the runs that completed"
        { echo "(partial: the run stopped early, exit $rc)"; "$PY" "$TMP/helper.py" report "$RESULTS_DIR"; } \
            >"$RESULTS_DIR/report.md" 2>&1 || true
    fi
    if ((PEER_RUN)); then
        KEEP_DB=$PG_WAS_UP "$PEER_DIR/stop.sh" >>"$RESULTS_DIR/peer.log" 2>&1 || log "peer stop.sh failed (see peer.log)"
    fi
    rm -rf -- "$TMP" "$DATA"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ------------------------------------------------------------------ helpers (python / C)
cat >"$TMP/helper.py" <<'EOF'
"""api-tracker.sh helpers: CPU snapshots per process tree, worker RSS, the report."""
import json, os, sys, time, glob, statistics

HZ = os.sysconf("SC_CLK_TCK")


def procs():
    d = {}
    for n in os.listdir("/proc"):
        if not n.isdigit():
            continue
        try:
            with open(f"/proc/{n}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        r = data[data.rfind(b")") + 2:].split()
        # utime stime cutime cstime: a process tree's total CPU so far = the sum over its live
        # members of (own + reaped children's) time, so recycled workers and ended backends
        # still count once they are reaped
        d[int(n)] = (int(r[1]), int(r[11]) + int(r[12]) + int(r[13]) + int(r[14]), int(r[12]) + int(r[14]))
    return d


def tree(roots, ps):
    kids = {}
    for p, (pp, *_) in ps.items():
        kids.setdefault(pp, []).append(p)
    out, st = set(), [r for r in roots if r in ps]
    while st:
        p = st.pop()
        if p not in out:
            out.add(p)
            st.extend(kids.get(p, ()))
    return out


def snap(out, groups):
    ps = procs()
    res = {"t": time.monotonic(), "cpu_s": {}, "sys_s": {}}
    for g in groups:
        name, pids = g.split("=", 1)
        roots = {int(x) for x in pids.split(",") if x}
        members = tree(roots, ps)
        res["cpu_s"][name] = sum(ps[p][1] for p in members) / HZ
        res["sys_s"][name] = sum(ps[p][2] for p in members) / HZ
    json.dump(res, open(out, "w"))


def split(a, b, out):
    a, b = json.load(open(a)), json.load(open(b))
    wall = b["t"] - a["t"]
    json.dump({"wall_s": round(wall, 3),
               "cpu_s": {k: round(b["cpu_s"][k] - a["cpu_s"].get(k, 0), 3) for k in b["cpu_s"]},
               "sys_s": {k: round(b["sys_s"][k] - a["sys_s"].get(k, 0), 3) for k in b["sys_s"]}},
              open(out, "w"))


def rss(label, master):
    master = int(master)
    ps = procs()
    for p in sorted(tree({master}, ps)):
        f = {}
        try:
            for line in open(f"/proc/{p}/status"):
                k, _, v = line.partition(":")
                f[k] = v.split()[0] if v.split() else ""
            for line in open(f"/proc/{p}/smaps_rollup"):
                k, _, v = line.partition(":")
                if k == "Pss":
                    f["Pss"] = v.split()[0]
        except OSError:
            continue
        role = "master" if p == master else "worker"
        print("\t".join([label, str(p), role] + [f.get(k, "") for k in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "Pss")]))


def rows(d):
    out = {}
    lines = open(f"{d}/results.tsv").read().splitlines()
    hdr = lines[0].split("\t")
    for line in lines[1:]:
        v = line.split("\t")
        if len(v) == len(hdr):
            out[v[0]] = dict(zip(hdr, v))
    return out


def fnum(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def report(d):
    R = rows(d)
    best = dict(line.split() for line in open(f"{d}/best.txt").read().splitlines() if line.strip())
    out = []
    w = out.append
    w("## Ratios (ours / peer)\n")
    w("| scenario | req/s | p50 | p99 | peak RSS | req per server CPU-s |")
    w("| --- | ---: | ---: | ---: | ---: | ---: |")
    for s in ("task_create", "task_get", "me"):
        p, o = R.get(f"peer-{s}"), R.get(f"ours-{s}")
        if not (p and o):
            continue
        def ratio(k):
            a, b = fnum(o[k]), fnum(p[k])
            return f"{a / b:.2f}x" if b else "n/a"
        w(f"| {s} | {ratio('rps')} | {ratio('p50_ms')} | {ratio('p99_ms')} | {ratio('peak_rss_mb')} | {ratio('req_per_server_cpu_s')} |")
    w("")
    for s in ("task_create", "task_get"):
        p, o = R.get(f"peer-{s}"), R.get(f"ours-{s}")
        if not (p and o):
            continue
        r = fnum(o["rps"]) / fnum(p["rps"])
        w(f"Targets, {s}: >= 5x the peer's req/s at {o['connections']} connections: {r:.1f}x -> "
          f"{'met' if r >= 5 else 'NOT met'}; our p99 ({fnum(o['p99_ms']):.2f} ms) below the peer's p50 "
          f"({fnum(p['p50_ms']):.2f} ms): {'met' if fnum(o['p99_ms']) < fnum(p['p50_ms']) else 'NOT met'}.  ")
    # CPU split per run
    w("\n## CPU split per run (cores on average; us of CPU per request)\n")
    w("| run | req/s | nginx | rostrum api | uvicorn | PostgreSQL | wrk | other | busy % | us/req nginx | us/req api/uvicorn | us/req pg | us/req wrk | kernel share (srv+pg) |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, tag in best.items():
        r = R.get(label)
        try:
            sp = json.load(open(f"{d}/{tag}.split.json"))
            mon = json.load(open(f"{d}/{tag}.mon.json"))
        except OSError:
            continue
        wall = sp["wall_s"] or 1
        c = sp["cpu_s"]
        reqs = fnum(r["requests"]) if r else float("nan")
        wrk = mon["client_cpu_s"]
        busy = mon["machine_busy_frac"]
        known = sum(c.values()) + wrk
        other = max(0.0, busy * mon["ncpu"] - known / wall)
        app = c.get("api", c.get("uvicorn", 0.0))
        kshare = f"{100 * sum(sp['sys_s'].values()) / max(1e-9, sum(c.values())):.0f} %" if "sys_s" in sp else "-"
        def us(x):
            return f"{1e6 * x / reqs:.0f}" if reqs else "-"
        w(f"| {label} | {fnum(r['rps']) if r else float('nan'):.1f} | {c.get('nginx', 0) / wall:.2f} | {c.get('api', 0) / wall:.2f} | "
          f"{c.get('uvicorn', 0) / wall:.2f} | {c.get('pg', 0) / wall:.2f} | {wrk / wall:.2f} | {other:.2f} | {100 * busy:.0f} | "
          f"{us(c.get('nginx', 0)) if 'nginx' in c else '-'} | {us(app)} | {us(c.get('pg', 0))} | {us(wrk)} | "
          f"{kshare} |")
    # worker RSS
    try:
        lines = [l.split("\t") for l in open(f"{d}/worker-rss.tsv").read().splitlines() if l.strip()]
    except OSError:
        lines = []
    if lines:
        w("\n## `rostrum api` RSS (kB, from /proc/<pid>/status and smaps_rollup)\n")
        w("| when | pid | role | VmRSS | RssAnon | RssFile | RssShmem | Pss |")
        w("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
        for l in lines:
            w("| " + " | ".join(l) + " |")
        ws = [int(l[3]) for l in lines if l[2] == "worker" and l[3].isdigit()]
        if ws:
            w(f"\nWorkers: VmRSS max {max(ws) / 1024:.1f} MB, median {statistics.median(ws) / 1024:.1f} MB.")
    print("\n".join(out))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "snap":
        snap(sys.argv[2], sys.argv[3:])
    elif cmd == "split":
        split(*sys.argv[2:5])
    elif cmd == "rss":
        rss(sys.argv[2], sys.argv[3])
    elif cmd == "report":
        report(sys.argv[2])
EOF

H=("$PY" "$TMP/helper.py")

# ------------------------------------------------------------------ http helpers
http() {  # http METHOD URL [JSON_BODY] [TOKEN] -> CODE, body in $TMP/body
    local args=(-sS -o "$TMP/body" -w '%{http_code}' -X "$1" --max-time 60)
    [[ -n "${3:-}" ]] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
    [[ -n "${4:-}" ]] && args+=(-H "Authorization: Bearer $4")
    CODE=$(curl "${args[@]}" "$2") || CODE=000
}
json_get() {
    "$PY" -c 'import json,sys; v=json.load(open(sys.argv[1])); print(v[sys.argv[2]] if isinstance(v, dict) else "")' "$TMP/body" "$1" 2>/dev/null
}
expect() {
    local what=$1; shift
    for c in "$@"; do [[ $CODE == "$c" ]] && return 0; done
    die "$what: HTTP $CODE (expected $*): $(head -c 300 "$TMP/body" 2>/dev/null)"
}
get_token() {  # get_token API -> access token of the bench user (registered if needed)
    http POST "$1/auth/register" "{\"email\":\"$BENCH_EMAIL\",\"password\":\"$BENCH_PASSWORD\",\"name\":\"$BENCH_NAME\"}"
    expect "register at $1" 201 409 400 422
    http POST "$1/auth/login" "{\"email\":\"$BENCH_EMAIL\",\"password\":\"$BENCH_PASSWORD\"}"
    expect "login at $1" 200
    local t; t=$(json_get access_token)
    [[ -n $t ]] || die "login at $1: no access_token: $(head -c 300 "$TMP/body")"
    echo "$t"
}
smoke() {  # smoke API: login + GET /auth/me answers the bench user
    local t; t=$(get_token "$1")
    http GET "$1/auth/me" "" "$t"; expect "GET $1/auth/me" 200
    [[ $(json_get email) == "$BENCH_EMAIL" ]] || die "GET $1/auth/me: not the bench user: $(head -c 300 "$TMP/body")"
    http POST "$1/auth/login" "{\"email\":\"$BENCH_EMAIL\",\"password\":\"wrong-password-123\"}"
    expect "login with a wrong password at $1" 401
    # the task routes, as api-bench.sh checks them (only when they are benchmarked)
    [[ " $SCENARIOS " == *" task_"* ]] || return 0
    local id
    http POST "$1/tasks" "$TASK_BODY" "$t";                  expect "POST $1/tasks" 201
    id=$(json_get id); [[ -n $id ]] || die "POST $1/tasks: no id"
    http GET "$1/tasks/$id" "" "$t";                         expect "GET $1/tasks/{id}" 200
    http PUT "$1/tasks/$id" '{"title":"Practise the opening","description":"updated","priority":"high","status":"in_progress"}' "$t"
    expect "PUT $1/tasks/{id}" 200
    [[ $(json_get priority) == high && $(json_get status) == in_progress ]] \
        || die "PUT $1/tasks/{id}: priority/status not updated: $(head -c 300 "$TMP/body")"
    http DELETE "$1/tasks/$id" "" "$t";                      expect "DELETE $1/tasks/{id}" 204 200
    http GET "$1/tasks/$id" "" "$t";                         expect "GET $1/tasks/{deleted}" 404
}
TASK_BODY='{"title":"Practise the opening of the keynote","description":"Slow down in the first minute, pause after the hook, and keep filler words under five.","priority":"medium"}'
new_task() {  # new_task API TOKEN -> the id of a fresh task of the bench user
    http POST "$1/tasks" "$TASK_BODY" "$2"; expect "POST $1/tasks" 201
    json_get id
}

# ------------------------------------------------------------------ our stack
ours_stack() {  # ours_stack up|down [WORKERS]
    env ROSTRUM_BIN="$OUR_BIN" ROSTRUM_PORT="$OUR_PORT" ROSTRUM_DATA_DIR="$DATA" ROSTRUM_DB_URL="$OUR_DB_URL" \
        ${2:+ROSTRUM_API_WORKERS=$2} "$ROOT/scripts/stack.sh" "$1"
}
ours_up() {  # ours_up [WORKERS]
    log "starting ours: stack.sh up (port $OUR_PORT, workers ${1:-default})"
    OURS_UP=1
    ours_stack up "${1:-}" >>"$RESULTS_DIR/stack.log" 2>&1 || { tail -20 "$RESULTS_DIR/stack.log" >&2; die "stack.sh up failed"; }
    API_MASTER=$(cat "$DATA/run/api.pid")
    NGINX_MASTER=$(cat "$DATA/nginx/nginx.pid")
    local want=${1:-$(nproc)} n=0
    for _ in $(seq 100); do   # workers are forked right after the socket appears
        n=$(ps -o pid= --ppid "$API_MASTER" | wc -l)
        ((n >= want)) && break
        sleep 0.1
    done
    log "ours up: api master $API_MASTER with $n workers, nginx master $NGINX_MASTER"
}
ours_down() { ours_stack down >>"$RESULTS_DIR/stack.log" 2>&1 || true; OURS_UP=0; }
worker_rss() { "${H[@]}" rss "$1" "$API_MASTER" >>"$RESULTS_DIR/worker-rss.tsv"; }
metrics_line() {  # worker counters from /metrics
    curl -sS --max-time 10 "http://127.0.0.1:$OUR_PORT/metrics" 2>/dev/null | grep -E '^rostrum_worker' | tr '\n' ' ' || true
}

# ------------------------------------------------------------------ start both
log "results in $RESULTS_DIR"
if [[ -s $SPEECHBENCH_DIR/fastapi/server.pid ]] && kill -0 "$(cat "$SPEECHBENCH_DIR/fastapi/server.pid")" 2>/dev/null; then
    die "a FastAPI peer is already running (pid $(cat "$SPEECHBENCH_DIR/fastapi/server.pid")); stop it first ($PEER_DIR/stop.sh)"
fi
if [[ -s $SPEECHBENCH_DIR/pg/data/postmaster.pid ]] && kill -0 "$(head -1 "$SPEECHBENCH_DIR/pg/data/postmaster.pid")" 2>/dev/null; then
    PG_WAS_UP=1
fi
log "starting the peer: $PEER_DIR/run.sh (port $PEER_PORT)"
PEER_RUN=1
PEER_PORT=$PEER_PORT "$PEER_DIR/run.sh" >>"$RESULTS_DIR/peer.log" 2>&1 || { tail -20 "$RESULTS_DIR/peer.log" >&2; die "peer run.sh failed"; }
PEER_PID=$(cat "$SPEECHBENCH_DIR/fastapi/server.pid")
PG_PID=$(head -1 "$SPEECHBENCH_DIR/pg/data/postmaster.pid")
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGSOCK" -p "$PGPORT" -U speech)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rostrum_bench WITH (FORCE)" -c "CREATE DATABASE rostrum_bench" \
    >>"$RESULTS_DIR/stack.log" 2>&1 || die "cannot create database rostrum_bench"
ours_up "$MAIN_WORKERS"
worker_rss "after start"

smoke "$PEER_API"
smoke "$OUR_API"
worker_rss "after smoke test"
log "smoke test ok on both"

{
    echo "# api-tracker $(date -Is)"
    echo "# duration=${DURATION}s connections=$CONNECTIONS threads=$THREADS warmup=${WARMUP}s wrk_timeout=${WRK_TIMEOUT}s quiet_wait=${QUIET_WAIT}s retry_noisy=$RETRY_NOISY"
    echo "# host: $(nproc) cpus ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r), loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# tools: $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), $(nginx -v 2>&1 | cut -d' ' -f3), $("${PSQL[@]}" -d postgres -tAc 'SHOW server_version' | cut -d' ' -f1 | sed 's/^/postgresql /')"
    echo "# peer: $PEER_API  uvicorn pid $PEER_PID ($(ps -o pid= --ppid "$PEER_PID" | wc -l) children), db speech"
    echo "# ours: $OUR_API  binary sha256 $(sha256sum "$OUR_BIN" | cut -c1-16) (copy of $BIN_SRC, $(stat -c %y "$BIN_SRC" | cut -d. -f1)), api workers ${MAIN_WORKERS:-default ($(nproc))}, db rostrum_bench"
    echo "# both: PostgreSQL postmaster pid $PG_PID ($PGSOCK, port $PGPORT)"
} | tee "$RESULTS_DIR/summary.txt"
HDR=$(printf '%-12s %4s %9s %9s %9s %7s %7s %10s %7s %6s %7s %6s %5s %9s' \
      scenario conn req/s p50_ms p99_ms non2xx sockerr peakRSS_MB srv_cpu db_cpu wrk_cpu other busy% req/srvCPUs)
echo "$HDR" | tee -a "$RESULTS_DIR/summary.txt"
printf 'scenario\tconnections\trequests\tduration_s\trps\tp50_ms\tp90_ms\tp99_ms\tmax_ms\tnon2xx\tconnect_err\tread_err\twrite_err\ttimeouts\tpeak_rss_mb\tpeak_rss_nprocs\tserver_cpu_cores\tdb_cpu_cores\twrk_cpu_cores\tother_cpu_cores\tmachine_busy_pct\treq_per_server_cpu_s\tquiet_wait\n' >"$RESULTS_DIR/results.tsv"
: >"$RESULTS_DIR/best.txt"

# ------------------------------------------------------------------ the harness's run logic
QUIET_INFO="0 0"
wait_quiet() {
    ((QUIET_WAIT > 0)) || return 0
    QUIET_INFO=$("$PY" "$SB/procmon.py" --wait-quiet "$QUIET_WAIT" --quiet-below "$QUIET_BELOW")
    local busy=${QUIET_INFO#* }
    if "$PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$busy" "$QUIET_BELOW"; then
        log "WARNING: machine still ${busy} busy after ${QUIET_WAIT}s: other jobs are running; figures will be skewed (see 'other')"
    fi
}
conns_for() { if [[ $1 == login ]]; then echo "$LOGIN_CONNECTIONS"; else echo "$CONNECTIONS"; fi; }
mon_for() {  # mon_for SIDE -> MON array (procmon.py with the side's process selection)
    MON=("$PY" "$SB/procmon.py" --db-pids "$PG_PID")
    if [[ $1 == peer ]]; then MON+=(--port "$PEER_PORT" --server-pids "$PEER_PID")
    else MON+=(--port "$OUR_PORT" --server-match "$OUR_MATCH"); fi
}
groups_for() {
    if [[ $1 == peer ]]; then echo "uvicorn=$PEER_PID pg=$PG_PID"
    else echo "nginx=$NGINX_MASTER api=$API_MASTER pg=$PG_PID"; fi
}

scenario() {  # scenario SIDE NAME LABEL LUA URL   (BENCH_TOKEN / BENCH_BODY exported by the caller)
    local side=$1 name=$2 label=$3 lua=$4 url=$5 c t attempt tag other best='' best_other=''
    c=$(conns_for "$name")
    t=$((THREADS < c ? THREADS : c))
    mon_for "$side"
    for ((attempt = 1; attempt <= 1 + RETRY_NOISY; attempt++)); do
        tag=$label; ((attempt > 1)) && tag=$label.try$attempt
        "${MON[@]}" --wait-idle 60 >/dev/null
        if ((WARMUP > 0)) && [[ $name != login ]]; then
            wrk -t "$t" -c "$c" -d "${WARMUP}s" --timeout "${WRK_TIMEOUT}s" -s "$SB/$lua" "$url" >"$RESULTS_DIR/$tag.warmup.txt" 2>&1 || true
            "${MON[@]}" --wait-idle 60 >/dev/null
        fi
        wait_quiet
        [[ $side == ours ]] && echo "$tag before: $(metrics_line)" >>"$RESULTS_DIR/ours-workers.txt"
        # shellcheck disable=SC2046
        "${H[@]}" snap "$TMP/a.json" $(groups_for "$side")
        "${MON[@]}" --out "$RESULTS_DIR/$tag.mon.json" -- \
            wrk -t "$t" -c "$c" -d "${DURATION}s" --timeout "${WRK_TIMEOUT}s" -s "$SB/$lua" "$url" \
            >"$RESULTS_DIR/$tag.wrk.txt" 2>&1 || log "wrk exited non-zero for $label (see $RESULTS_DIR/$tag.wrk.txt)"
        # shellcheck disable=SC2046
        "${H[@]}" snap "$TMP/b.json" $(groups_for "$side")
        "${H[@]}" split "$TMP/a.json" "$TMP/b.json" "$RESULTS_DIR/$tag.split.json"
        [[ $side == ours ]] && echo "$tag after:  $(metrics_line)" >>"$RESULTS_DIR/ours-workers.txt"
        other=$("$PY" "$SB/api-bench-row.py" "$label" "$tag" "$RESULTS_DIR" "$QUIET_INFO" "$c")
        if [[ -z $best ]] || "$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$other" "$best_other"; then
            best=$tag best_other=$other
        fi
        "$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' "$other" "$NOISY_OTHER" && break
        ((attempt <= RETRY_NOISY)) && log "$label: other jobs took $other cores during the run (> $NOISY_OTHER): trying again ($((attempt + 1))/$((1 + RETRY_NOISY)))"
    done
    tee -a "$RESULTS_DIR/summary.txt" <"$RESULTS_DIR/$best.row"
    cat "$RESULTS_DIR/$best.tsv" >>"$RESULTS_DIR/results.tsv"
    echo "$label $best" >>"$RESULTS_DIR/best.txt"
}

run_one() {  # run_one SIDE SCENARIO [LABEL]: fresh token, then the scenario
    local side=$1 s=$2 label=${3:-$1-$2} api tok
    if [[ $side == peer ]]; then api=$PEER_API; else api=$OUR_API; fi
    # a fresh token for every run: a quiet-wait can outlast a 15-minute access token
    tok=$(get_token "$api")
    case $s in
    task_create) BENCH_TOKEN=$tok BENCH_BODY=$TASK_BODY scenario "$side" task_create "$label" wrk-post-json.lua "$api/tasks" ;;
    task_get)    local id; id=$(new_task "$api" "$tok")
                 BENCH_TOKEN=$tok BENCH_BODY='' scenario "$side" task_get "$label" wrk-get.lua "$api/tasks/$id" ;;
    me)          BENCH_TOKEN=$tok BENCH_BODY='' scenario "$side" me "$label" wrk-get.lua "$api/auth/me" ;;
    *) die "unknown scenario '$s' (known: task_create task_get me)" ;;
    esac
}
export BENCH_TOKEN BENCH_BODY

# ------------------------------------------------------------------ the interleaved runs
for s in $SCENARIOS; do
    run_one peer "$s"
    run_one ours "$s"
    "${MON[@]}" --wait-idle 60 >/dev/null
    worker_rss "after $s run"
done

mon_for ours
"${MON[@]}" --wait-idle 60 >/dev/null || true

{
    echo "# columns: req/s and latency from wrk (p50/p99 of completed requests); non2xx = wrk's count of HTTP status >= 400;"
    echo "#   sockerr = connect+read+write errors + timeouts (> ${WRK_TIMEOUT}s); peakRSS_MB = peak of the summed RSS of the server's processes (sampled every 0.2 s);"
    echo "#   srv_cpu/db_cpu/wrk_cpu = CPU cores used on average by server / database / wrk; other = cores used by"
    echo "#   anything else; busy% = whole machine ($(nproc) cpus); req/srvCPUs = requests per CPU-second of the server's processes"
    echo "#   peer = FastAPI (uvicorn, 2 workers) on :$PEER_PORT; ours = nginx + rostrum api on :$OUR_PORT"
} | tee -a "$RESULTS_DIR/summary.txt"
"${H[@]}" report "$RESULTS_DIR" | tee "$RESULTS_DIR/report.md"
log "done: $RESULTS_DIR (summary.txt, report.md, results.tsv, *.wrk.txt, *.mon.json, *.split.json, worker-rss.tsv)"
