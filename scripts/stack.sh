#!/usr/bin/env bash
# The embedded stack: a private PostgreSQL cluster, `rostrum api`, `rostrum worker`,
# `rostrum live` (WebSockets) and nginx on a local port,
# all under one data directory. `make run` / `make stop` call this; so do the tests (with a
# temp data directory, a free port and their own database).
#
#   scripts/stack.sh up | down | status
#   scripts/stack.sh render-production OUT_DIR   (nginx site for a real host; see nginx/)
#
# Environment: ROSTRUM_PORT (8080), ROSTRUM_DATA_DIR (./var), ROSTRUM_BIN (build/rostrum),
# ROSTRUM_DB_URL (unset: the embedded cluster in <data>/pg), ROSTRUM_AUTH_RATE (10r/s),
# ROSTRUM_AUTH_BURST (20), ROSTRUM_UPLOAD_RATE (1r/s), ROSTRUM_UPLOAD_BURST (10),
# ROSTRUM_UPLOAD_CONN (8), ROSTRUM_WS_RATE (10r/s), ROSTRUM_WS_BURST (40), ROSTRUM_WS_CONN (256),
# ROSTRUM_NGINX_WORKERS (auto), and any ROSTRUM_* config key
# (`rostrum check-config` lists them).
set -euo pipefail
# Nothing the stack writes (logs, pid files, rendered configs) is for other local users.
umask 027
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${ROSTRUM_PORT:-8080}
DATA=${ROSTRUM_DATA_DIR:-$ROOT/var}
mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
BIN=${ROSTRUM_BIN:-$ROOT/build/rostrum}
NGX=$DATA/nginx
RUN=$DATA/run
LOG=$DATA/log
export ROSTRUM_DATA_DIR=$DATA
export ROSTRUM_API_SOCKET=${ROSTRUM_API_SOCKET:-$RUN/api.sock}
export ROSTRUM_LIVE_SOCKET=${ROSTRUM_LIVE_SOCKET:-$RUN/live.sock}
EMBEDDED_PG=0
if [ -z "${ROSTRUM_DB_URL:-}" ] && [ -z "${ROSTRUM_DATABASE_URL:-}" ]; then EMBEDDED_PG=1; fi
# Under root, nginx's workers drop root for www-data and the daemons become the service user
# (service.user); both must reach the sockets, and nginx the audio (X-Accel-Redirect).
NGINX_USER=""
SVC=""
if [ "$(id -u)" -eq 0 ]; then
    NGINX_USER=www-data
    SVC=${ROSTRUM_SERVICE_USER:-rostrum}
    export ROSTRUM_API_SOCKET_GROUP=${ROSTRUM_API_SOCKET_GROUP:-www-data}
fi

# ROSTRUM_TLS=1: HTTPS on the port, on every interface, with a certificate made here for this
# machine's names and addresses (or ROSTRUM_TLS_CERT/KEY): browsers give the microphone only to
# a secure origin, and to another machine of the LAN this one is not localhost.
TLS=${ROSTRUM_TLS:-0}
SCHEME=http
LISTEN="127.0.0.1:$PORT"
if [ "$TLS" = 1 ]; then
    SCHEME=https
    LISTEN="$PORT ssl http2"
    export ROSTRUM_AUTH_COOKIE_SECURE=${ROSTRUM_AUTH_COOKIE_SECURE:-true}
    LAN_IPS=$(hostname -I 2>/dev/null || true)
    if [ -z "${ROSTRUM_SITE_HOSTS:-}" ]; then
        ROSTRUM_SITE_HOSTS="127.0.0.1,localhost,[::1],$(hostname)"
        for ip in $LAN_IPS; do
            case $ip in *:*) ROSTRUM_SITE_HOSTS="$ROSTRUM_SITE_HOSTS,[$ip]" ;; *) ROSTRUM_SITE_HOSTS="$ROSTRUM_SITE_HOSTS,$ip" ;; esac
        done
        export ROSTRUM_SITE_HOSTS
    fi
fi
URL="$SCHEME://127.0.0.1:$PORT"

say() { printf '%s\n' "$*"; }
# The pid in a pid file, only when it is a plain number above 1: `kill 0`, `kill -1` or an
# empty argument would signal the whole process group or every process (as root, the host).
pid_in() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 1
    [[ $pid =~ ^[1-9][0-9]*$ ]] && [ "$pid" -gt 1 ] && printf '%s\n' "$pid"
}
# A process killed with -9 whose parent has gone stays a zombie where PID 1 does not reap:
# kill -0 still succeeds on it, so a zombie counts as dead.
alive() {
    local pid
    pid=$(pid_in "$1") && kill -0 "$pid" 2>/dev/null &&
        ! ps -o stat= -p "$pid" 2>/dev/null | grep -q '^Z'
}

# Waits up to $2 tenths of a second for command $1 to succeed (polling, never a blind sleep).
wait_for() {
    local tries=$2
    while ! eval "$1" >/dev/null 2>&1; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.1
    done
}

# site.hosts as nginx's map lines ("127.0.0.1 1; localhost 1; [::1] 1; name 1;"): the same
# default and variables as the binary's config (ROSTRUM_SITE_HOSTS, ROSTRUM_SERVER_NAME);
# ports are dropped ($host has none; the API checks an entry's port).
site_hosts() {
    printf '%s' "${ROSTRUM_SITE_HOSTS:-127.0.0.1,localhost,[::1],${ROSTRUM_SITE_SERVER_NAME:-${ROSTRUM_SERVER_NAME:-localhost}}}" |
        tr -d ' ' | tr 'A-Z' 'a-z'
}
site_hosts_map() {
    local h out=""
    for h in $(site_hosts | tr ',' ' '); do
        case $h in
        \[*) h="${h%%]*}]" ;;
        *) h=${h%%:*} ;;
        esac
        case $h in *[!a-z0-9.:\[\]-]*) say "stack: bad host '$h' in ROSTRUM_SITE_HOSTS" >&2; exit 1 ;; esac
        case " $out" in *" $h 1;"*) continue ;; esac  # nginx warns about duplicate keys
        out="$out$h 1; "
    done
    printf '%s' "$out"
}

render() {  # render TEMPLATE OUT
    sed -e "s|@PORT@|$PORT|g" -e "s|@LISTEN@|$LISTEN|g" -e "s|@PREFIX@|$NGX|g" -e "s|@API_SOCKET@|$ROSTRUM_API_SOCKET|g" \
        -e "s|@LIVE_SOCKET@|$ROSTRUM_LIVE_SOCKET|g" \
        -e "s|@WEB_ROOT@|$ROOT/web|g" -e "s|@DOCS_ROOT@|$ROOT/web/docs|g" \
        -e "s|@SWAGGER_ROOT@|$ROOT/web/node_modules/swagger-ui-dist|g" \
        -e "s|@AUTH_RATE@|${ROSTRUM_AUTH_RATE:-10r/s}|g" \
        -e "s|@AUTH_BURST@|${ROSTRUM_AUTH_BURST:-20}|g" \
        -e "s|@NGINX_WORKERS@|${ROSTRUM_NGINX_WORKERS:-auto}|g" \
        -e "s|@DATA_DIR@|$DATA|g" \
        -e "s|@OPENAI_READ_TIMEOUT@|$(( ${ROSTRUM_OPENAI_MAX_WAIT_S:-100} + 15 ))|g" \
        -e "s|@UPLOAD_BODY_MAX@|$(( ${ROSTRUM_UPLOAD_MAX_BYTES:-209715200} + 1048576 ))|g" \
        -e "s|@USER_LINE@|${NGINX_USER:+user $NGINX_USER;}|g" \
        -e "s|@SERVER_NAME@|${ROSTRUM_SERVER_NAME:-localhost}|g" \
        -e "s|@TLS_CERT@|${ROSTRUM_TLS_CERT:-/etc/ssl/certs/rostrum.pem}|g" \
        -e "s|@TLS_KEY@|${ROSTRUM_TLS_KEY:-/etc/ssl/private/rostrum.key}|g" \
        -e "s|@SITE_HOSTS@|$(site_hosts)|g" -e "s|@SITE_HOSTS_MAP@|$(site_hosts_map)|g" \
        -e "s|@UPLOAD_RATE@|${ROSTRUM_UPLOAD_RATE:-1r/s}|g" \
        -e "s|@UPLOAD_BURST@|${ROSTRUM_UPLOAD_BURST:-10}|g" \
        -e "s|@UPLOAD_CONN@|${ROSTRUM_UPLOAD_CONN:-8}|g" \
        -e "s|@WS_RATE@|${ROSTRUM_WS_RATE:-10r/s}|g" \
        -e "s|@WS_BURST@|${ROSTRUM_WS_BURST:-40}|g" \
        -e "s|@WS_CONN@|${ROSTRUM_WS_CONN:-256}|g" \
        "$1" >"$2"
}

# The embedded stack's certificate: self-signed (ECDSA P-256, 825 days, the longest browsers
# accept), for localhost, this host's name and its addresses; made once, kept in the data dir.
make_tls_cert() {
    local dir=$DATA/tls san ip
    [ -n "${ROSTRUM_TLS_CERT:-}" ] && return 0
    export ROSTRUM_TLS_CERT=$dir/cert.pem ROSTRUM_TLS_KEY=$dir/key.pem
    [ -s "$ROSTRUM_TLS_CERT" ] && [ -s "$ROSTRUM_TLS_KEY" ] && return 0
    mkdir -p "$dir"
    chmod 0700 "$dir"
    san="DNS:localhost,IP:127.0.0.1,IP:::1,DNS:$(hostname)"
    for ip in $LAN_IPS; do san="$san,IP:$ip"; done
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
        -subj "/CN=Rostrum on $(hostname)" -addext "subjectAltName=$san" \
        -addext "extendedKeyUsage=serverAuth" -keyout "$ROSTRUM_TLS_KEY" -out "$ROSTRUM_TLS_CERT" \
        >/dev/null 2>&1 || { say "stack: cannot make a TLS certificate with openssl" >&2; exit 1; }
    chmod 0600 "$ROSTRUM_TLS_KEY"
    chmod 0644 "$ROSTRUM_TLS_CERT"
}

render_common() {
    mkdir -p "$NGX/logs" "$NGX/tmp"
    render "$ROOT/nginx/tls.conf.in" "$NGX/rostrum_tls.conf"
    render "$ROOT/nginx/http.conf.in" "$NGX/rostrum_http.conf"
    render "$ROOT/nginx/headers.conf.in" "$NGX/rostrum_headers.conf"
    render "$ROOT/nginx/fastcgi.conf.in" "$NGX/rostrum_fastcgi.conf"
    render "$ROOT/nginx/locations.conf.in" "$NGX/rostrum_locations.conf"
}

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

# own OWNER:GROUP MODE DIR...: creates the directories with that owner and mode.
own() {
    local who=$1 mode=$2
    shift 2
    mkdir -p "$@"
    chown "$who" "$@"
    chmod "$mode" "$@"
}

# Who may touch what. Under root: the data dir can be crossed (not listed) by the three users
# that need a way in (postgres to pg/, the service user, www-data); audio/ and its files are the
# service user's, readable by nginx's group (the setgid bit gives new files that group); run/
# is the service user's with nginx's group inherited by the sockets it creates; secrets/ is the
# service user's alone; logs are root's (0640; the daemons write to the descriptors this script
# opens). As a normal user everything is the caller's (nginx runs as the caller too).
prepare_dirs() {
    mkdir -p "$RUN" "$LOG" "$DATA/audio/tmp" "$DATA/secrets" "$NGX/tmp"
    if [ -z "$SVC" ]; then
        chmod 0750 "$DATA/audio" "$DATA/audio/tmp" "$LOG"
        chmod 0700 "$DATA/secrets"
        chmod -f 0640 "$LOG"/*.log "$NGX"/logs/*.log || true
        return 0
    fi
    id -u "$SVC" >/dev/null 2>&1 ||
        { say "stack: the service user $SVC does not exist; run scripts/deps.sh (make deps)" >&2; exit 1; }
    chmod 0711 "$DATA"
    own "$SVC:$NGINX_USER" 2750 "$RUN" "$DATA/audio" "$DATA/audio/tmp"
    own "$SVC:$SVC" 0700 "$DATA/secrets"
    own "root:$NGINX_USER" 0750 "$NGX" "$NGX/tmp"
    own root:root 0750 "$LOG"
    # What an older version (or a run as another user) left behind.
    find "$DATA/audio" \( \! -user "$SVC" -o \! -group "$NGINX_USER" \) -exec chown "$SVC:$NGINX_USER" {} +
    find "$DATA/audio" -type f \! -perm 0640 -exec chmod 0640 {} +
    find "$DATA/audio" -mindepth 1 -type d \! -perm 2750 -exec chmod 2750 {} +
    find "$DATA/secrets" \! -user "$SVC" -exec chown "$SVC:$SVC" {} +
    chmod -f 0640 "$LOG"/*.log "$NGX"/logs/*.log || true
    runuser -u "$SVC" -- test -w "$DATA/audio/tmp" -a -w "$RUN" &&
        runuser -u "$NGINX_USER" -- test -x "$DATA/audio" ||
        { say "stack: $SVC or $NGINX_USER cannot reach $DATA (a parent directory is closed to them)" >&2; exit 1; }
}

up() {
    [ -x "$BIN" ] || { say "stack: $BIN is missing; run 'make build' first" >&2; exit 1; }
    prepare_dirs
    if alive "$RUN/api.pid" && alive "$RUN/worker.pid" && alive "$RUN/live.pid" &&
        alive "$NGX/nginx.pid"; then
        say "Rostrum is already running at $URL/ (stop it with: make stop)"
        return 0
    fi
    if [ "$EMBEDDED_PG" = 1 ]; then
        "$ROOT/scripts/pg.sh" start "$DATA/pg" rostrum
    fi
    "$BIN" migrate >>"$LOG/migrate.log" 2>&1 || { tail -n 20 "$LOG/migrate.log" >&2; exit 1; }
    if ! alive "$RUN/api.pid"; then
        rm -f "$ROSTRUM_API_SOCKET"
        nohup "$BIN" api >>"$LOG/api.log" 2>&1 </dev/null &
        echo $! >"$RUN/api.pid"
        wait_for "[ -S '$ROSTRUM_API_SOCKET' ]" 100 ||
            { say "stack: rostrum api did not start; see $LOG/api.log" >&2; tail -n 20 "$LOG/api.log" >&2; exit 1; }
    fi
    if ! alive "$RUN/worker.pid"; then
        local before
        before=$(grep -c ': ready' "$LOG/worker.log" 2>/dev/null || true)
        nohup "$BIN" worker >>"$LOG/worker.log" 2>&1 </dev/null &
        echo $! >"$RUN/worker.pid"
        # The worker announces itself in the database before it logs "ready" (readyz needs it).
        wait_for "[ \$(grep -c ': ready' '$LOG/worker.log') -gt ${before:-0} ]" 300 ||
            { say "stack: rostrum worker did not start; see $LOG/worker.log" >&2; tail -n 20 "$LOG/worker.log" >&2; exit 1; }
    fi
    if ! alive "$RUN/live.pid"; then
        rm -f "$ROSTRUM_LIVE_SOCKET"
        nohup "$BIN" live >>"$LOG/live.log" 2>&1 </dev/null &
        echo $! >"$RUN/live.pid"
        # Ready once it answers on its socket with its database connection up.
        wait_for "curl -fsS -o /dev/null --unix-socket '$ROSTRUM_LIVE_SOCKET' http://live/readyz" 300 ||
            { say "stack: rostrum live did not start; see $LOG/live.log" >&2; tail -n 20 "$LOG/live.log" >&2; exit 1; }
    fi
    if ! alive "$NGX/nginx.pid"; then
        port_free || { say "stack: port $PORT is in use; choose another with ROSTRUM_PORT" >&2; exit 1; }
        if [ "$TLS" = 1 ]; then
            make_tls_cert
            # Plain HTTP to the TLS port (nginx's 497) is sent to the same URL over HTTPS.
            printf '%s\n' "include $NGX/rostrum_tls.conf;" \
                'error_page 497 =301 https://$host:$server_port$request_uri;' >"$NGX/rostrum_embedded_tls.conf"
        else
            : >"$NGX/rostrum_embedded_tls.conf"
        fi
        render_common
        render "$ROOT/nginx/embedded.conf.in" "$NGX/nginx.conf"
        nginx -p "$NGX" -e "$NGX/logs/error.log" -c "$NGX/nginx.conf"
    fi
    # -k: the embedded certificate is self-signed (this only asks whether the stack is up).
    wait_for "curl -kfsS -o /dev/null $URL/readyz" 300 ||
        { say "stack: not ready; see $LOG/api.log and $NGX/logs/error.log" >&2; exit 1; }
    say "Rostrum is running at $URL/  (API docs: $URL/docs/)"
    if [ "$TLS" = 1 ]; then
        for ip in $LAN_IPS; do case $ip in *:*) ;; *) say "  from the LAN: https://$ip:$PORT/" ;; esac; done
        say "  the certificate is self-signed: ${ROSTRUM_TLS_CERT} (import it, or accept the warning once)"
    fi
    say "Data in $DATA; logs in $LOG and $NGX/logs. Stop it with: make stop"
}

stop_pidfile() {  # stop_pidfile FILE SIGNAL
    local f=$1 pid
    alive "$f" || { rm -f "$f"; return 0; }
    pid=$(pid_in "$f") || { rm -f "$f"; return 0; }
    kill "-$2" "$pid" 2>/dev/null || true
    wait_for "! kill -0 $pid" 400 || kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
}

down() {
    stop_pidfile "$NGX/nginx.pid" QUIT
    stop_pidfile "$RUN/api.pid" TERM
    stop_pidfile "$RUN/worker.pid" TERM
    stop_pidfile "$RUN/live.pid" TERM
    if [ "$EMBEDDED_PG" = 1 ] && [ -d "$DATA/pg" ]; then "$ROOT/scripts/pg.sh" stop "$DATA/pg"; fi
    say "Rostrum stopped ($DATA)"
}

status() {
    local ok=0
    alive "$RUN/api.pid" && say "api: running (pid $(cat "$RUN/api.pid"))" || { say "api: stopped"; ok=1; }
    alive "$RUN/worker.pid" && say "worker: running (pid $(cat "$RUN/worker.pid"))" || { say "worker: stopped"; ok=1; }
    alive "$RUN/live.pid" && say "live: running (pid $(cat "$RUN/live.pid"))" || { say "live: stopped"; ok=1; }
    alive "$NGX/nginx.pid" && say "nginx: running on 127.0.0.1:$PORT" || { say "nginx: stopped"; ok=1; }
    return $ok
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
render-production)
    out=${2:?usage: stack.sh render-production OUT_DIR}
    mkdir -p "$out"
    NGX=$(cd "$out" && pwd)
    render_common
    render "$ROOT/nginx/rostrum.conf.in" "$NGX/rostrum.conf"
    render "$ROOT/nginx/rostrum.env.in" "$NGX/rostrum.env"
    say "rendered $NGX/rostrum.conf (include it from nginx's http block) and $NGX/rostrum.env (the services' environment)"
    ;;
*) say "usage: stack.sh up|down|status|render-production OUT_DIR" >&2; exit 2 ;;
esac
