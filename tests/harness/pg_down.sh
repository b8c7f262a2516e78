#!/bin/sh
# ctest fixture cleanup: stop the throwaway cluster and remove it (ROSTRUM_TEST_KEEP=1 keeps it).
set -eu
dir=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
"$here/scripts/pg.sh" stop "$dir"
[ "${ROSTRUM_TEST_KEEP:-0}" = 1 ] || rm -rf "$dir"
