#!/bin/sh
# `rostrum` under the restrictions of deploy/systemd/sandbox.inc that hold without systemd as
# PID 1 (test machines and containers have none), for tests/api/test_deploy_server.py:
#   ProtectSystem=strict + ReadWritePaths=<data dir>: a private mount namespace in which / is
#     read-only and only the data directory is bound writable;
#   User=rostrum, Group=rostrum, SupplementaryGroups=www-data (the live unit's), and
#   CapabilityBoundingSet= AmbientCapabilities= NoNewPrivileges=yes: setpriv empties every
#     capability set and sets no_new_privs before the binary runs.
#   PrivateTmp=yes: a temporary directory of its own (TMPDIR, which every temp file honours),
#     since / and with it /tmp are read-only here.
# What this cannot reproduce (systemd-analyze verify/security check those lines instead): the
# seccomp filter, PrivateDevices, the Protect{Kernel*,Clock,Hostname} mounts.
# ROSTRUM_REAL_BIN is the binary; ROSTRUM_DATA_DIR the data directory (stack.sh exports it).
set -eu
: "${ROSTRUM_REAL_BIN:?the binary to run}" "${ROSTRUM_DATA_DIR:?the data directory}"
# Migrations are the operator's step (a root shell, the owner role: docs/deploy-server.md), not
# a unit's: they run as they would there.
if [ "${1:-}" = migrate ]; then exec "$ROSTRUM_REAL_BIN" "$@"; fi
export TMPDIR="$ROSTRUM_DATA_DIR/private-tmp"
mkdir -p "$TMPDIR"
chown rostrum:rostrum "$TMPDIR"
chmod 0700 "$TMPDIR"
exec unshare --mount --propagation private -- /bin/sh -c '
    mount --bind "$ROSTRUM_DATA_DIR" "$ROSTRUM_DATA_DIR" &&
    mount -o bind,remount,ro / &&
    exec setpriv --reuid=rostrum --regid=rostrum --groups=www-data --no-new-privs \
        --bounding-set=-all --inh-caps=-all --ambient-caps=-all "$ROSTRUM_REAL_BIN" "$@"' \
    sandboxed-rostrum "$@"
