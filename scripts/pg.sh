#!/usr/bin/env bash
# A private PostgreSQL cluster in a directory: no system service, no TCP, a unix socket in
# DIR/run. Used by the embedded stack (DIR = <data dir>/pg) and by the tests.
#   scripts/pg.sh start DIR [DBNAME]   initdb if needed, start, create DBNAME if missing
#   scripts/pg.sh stop DIR
#   scripts/pg.sh status DIR
# PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user
# (created by Debian's package). Nobody else on the machine can reach it: the socket directory
# is the cluster owner's, open only to the service user's group under root (0750) and to nobody
# under a normal user (0700); and every connection is `peer`-authenticated through the map
# below: the calling user may log in as the bootstrap superuser named after it (for migrate,
# createdb and psql), and the user the daemons run as (the service user under root, the
# caller otherwise) only as the application role (ROSTRUM_DB_APP_ROLE, default rostrum_app).
set -euo pipefail
cmd=${1:?usage: pg.sh start|stop|status DIR [DBNAME]}
dir=${2:?usage: pg.sh start|stop|status DIR [DBNAME]}
dbname=${3:-}
mkdir -p "$dir"  # its parents with the caller's umask: other users may need to cross them
dir=$(cd "$dir" && pwd)
umask 077
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/pg_ctl" ] || { echo "pg.sh: PostgreSQL server binaries not found (apt-get install postgresql-15)" >&2; exit 1; }
me=$(id -un)
app_role=${ROSTRUM_DB_APP_ROLE:-rostrum_app}
svc=${ROSTRUM_SERVICE_USER:-rostrum}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

status() { [ -f "$dir/data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; }

# Who may reach the socket: the cluster's owner, and under root the service user's group.
protect_dirs() {
    mkdir -p "$dir/run"
    if [ "$(id -u)" -eq 0 ]; then
        id -u "$svc" >/dev/null 2>&1 ||
            { echo "pg.sh: service user $svc does not exist (scripts/deps.sh creates it)" >&2; exit 1; }
        chown postgres:"$(id -gn "$svc")" "$dir" "$dir/run"
        chmod 0710 "$dir"
        chmod 0750 "$dir/run"
    else
        chmod 0700 "$dir" "$dir/run"
    fi
}

# put FILE CONTENT: replaces FILE atomically (temp + rename) when CONTENT differs, so that
# concurrent starts (the tests share one cluster) never let the server read a half-written
# file; sets changed=1 when it did.
changed=0
put() {
    if [ "$(as_owner cat "$1" 2>/dev/null)" != "$2" ]; then
        printf '%s\n' "$2" | as_owner tee "$1.tmp.$$" >/dev/null
        as_owner mv -f "$1.tmp.$$" "$1"
        changed=1
    fi
}

# Checked on every start (upgrading a cluster made by an older pg.sh with trust).
write_auth() {
    local data=$dir/data daemons=$me perms=0700
    # Under root the socket's own mode is open: the directory above is the gate (the service
    # user is not in the cluster owner's group).
    if [ "$(id -u)" -eq 0 ]; then daemons=$svc perms=0777; fi
    put "$data/pg_hba.conf" "# Written by scripts/pg.sh: unix socket only, the OS user proven by the kernel (peer).
local all all peer map=rostrum"
    put "$data/pg_ident.conf" "# Written by scripts/pg.sh. MAP SYSTEM-USER DATABASE-ROLE
rostrum $me $me
rostrum $daemons $app_role"
    put "$data/rostrum.conf" "listen_addresses = ''
unix_socket_directories = '$dir/run'
unix_socket_permissions = $perms"
    grep -q "^include_if_exists 'rostrum.conf'" "$data/postgresql.conf" ||
        echo "include_if_exists 'rostrum.conf'" | as_owner tee -a "$data/postgresql.conf" >/dev/null
}

case $cmd in
start)
    protect_dirs
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bindir/initdb" -D "$dir/data" -U "$me" --auth-local=peer --auth-host=reject \
            --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
        as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
max_connections = 200
shared_buffers = 128MB
fsync = on
log_min_messages = warning
log_line_prefix = '%m [%p] %a '
CONF
    fi
    write_auth
    if ! status; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null
    elif [ "$changed" = 1 ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" reload >/dev/null
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
