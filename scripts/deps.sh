#!/bin/sh
# Installs the Debian 12 packages that building, running and testing Rostrum need.
# Idempotent and quiet when everything is present; runs `apt-get update` before installing.
set -eu
PKGS="build-essential cmake pkg-config clang-14 libclang-rt-14-dev
 libfcgi-dev libpq-dev libsodium-dev libcjson-dev libjwt-dev libgtest-dev
 libsndfile1-dev libsoxr-dev libavformat-dev libavcodec-dev libavutil-dev
 libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us libboost-dev python3-websockets
 libstemmer-dev libhunspell-dev hunspell-en-us espeak-ng flite
 sox flac lame opus-tools vorbis-tools ffmpeg
 postgresql-15 postgresql-contrib nginx-light curl wrk python3 openssl ca-certificates
 procps iproute2 util-linux chromium systemd lintian"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
# Node.js and npm may come from Debian or from the machine image (nodesource); either serves.
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
        exit 1
    fi
    echo "deps: installing$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The service user the daemons become when started as root (service.user, default rostrum):
# a system account with no login shell and no home, in no other group.
svc=${ROSTRUM_SERVICE_USER:-rostrum}
if ! id -u "$svc" >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: no user $svc (as root: useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin $svc)" >&2
    else
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin --comment "Rostrum daemons" "$svc"
        echo "deps: created the service user $svc"
    fi
fi
# nginx-light's package starts a system nginx on port 80 where an init system runs; Rostrum
# runs its own nginx and never needs that one.
# libjwt0 before 1.10.2-1+deb12u1 compares HMACs with strcmp (CVE-2024-25189).
v=$(dpkg-query -W -f='${Version}' libjwt0)
dpkg --compare-versions "$v" ge 1.10.2-1+deb12u1 || { echo "deps: libjwt0 $v lacks the CVE-2024-25189 fix" >&2; exit 1; }
# libfcgi0ldbl (the libfcgi.so.0 that `rostrum api` links) before 2.4.2-2+deb12u1 overflows the
# heap on crafted FastCGI parameter lengths (CVE-2025-23016, fixed in 2.4.5 upstream). Only
# nginx reaches our socket (a unix socket, mode 0660, group api.socket_group), but a fixed
# library is required all the same.
# A machine that had an older build installed gets the fixed one (as root) before the check.
v=$(dpkg-query -W -f='${Version}' libfcgi0ldbl)
if ! dpkg --compare-versions "$v" ge 2.4.2-2+deb12u1 && [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --only-upgrade libfcgi0ldbl libfcgi-bin libfcgi-dev >/dev/null || true
    v=$(dpkg-query -W -f='${Version}' libfcgi0ldbl)
fi
dpkg --compare-versions "$v" ge 2.4.2-2+deb12u1 || { echo "deps: libfcgi0ldbl $v lacks the CVE-2025-23016 fix" >&2; exit 1; }
# Swagger UI for /docs (swagger-ui-dist) and the browser-test driver (playwright-core, which
# drives Debian's chromium; it downloads no browser) come from npm, pinned by web/package-lock.json.
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$here/web/package.json" ] && { [ ! -f "$here/web/node_modules/swagger-ui-dist/swagger-ui-bundle.js" ] || [ ! -d "$here/web/node_modules/playwright-core" ]; }; then
    (cd "$here/web" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
# OpenAI's own client library, which tests/api/test_openai.py drives against /v1/ (a test
# dependency only, pinned by tests/clients/package-lock.json; it runs no install scripts).
if [ -f "$here/tests/clients/package.json" ] && [ ! -f "$here/tests/clients/node_modules/openai/package.json" ]; then
    (cd "$here/tests/clients" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
