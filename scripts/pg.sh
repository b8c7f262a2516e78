#!/usr/bin/env bash
# A private PostgreSQL cluster in a directory: no system service, no TCP, a unix socket in
# DIR/run. Used by the embedded stack (DIR = <data dir>/pg) and by the tests.
#   scripts/pg.sh start DIR [DBNAME]   initdb if needed, start, create DBNAME if missing
#   scripts/pg.sh stop DIR
#   scripts/pg.sh status DIR
# PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user
# (created by Debian's package); the bootstrap superuser is named after the calling user so
# that `psql -h DIR/run` and libpq work without a password (trust on the private socket only).
set -euo pipefail
cmd=${1:?usage: pg.sh start|stop|status DIR [DBNAME]}
dir=${2:?usage: pg.sh start|stop|status DIR [DBNAME]}
dbname=${3:-}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/pg_ctl" ] || { echo "pg.sh: PostgreSQL server binaries not found (apt-get install postgresql-15)" >&2; exit 1; }
me=$(id -un)

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

status() { [ -f "$dir/data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; }

case $cmd in
start)
    mkdir -p "$dir/run"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir" "$dir/run"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bindir/initdb" -D "$dir/data" -U "$me" --auth=trust --encoding=UTF8 \
            --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
        cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir/run'
unix_socket_permissions = 0777
max_connections = 200
shared_buffers = 128MB
fsync = on
log_min_messages = warning
log_line_prefix = '%m [%p] %a '
CONF
    fi
    if ! status; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null
    fi
    if [ -n "$dbname" ]; then
        exists=$("$bindir/psql" -h "$dir/run" -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$dbname'")
        [ "$exists" = 1 ] || "$bindir/createdb" -h "$dir/run" "$dbname"
    fi
    ;;
stop)
    if status; then as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null; fi
    ;;
status)
    status
    ;;
*)
    echo "pg.sh: unknown command $cmd" >&2; exit 2 ;;
esac
