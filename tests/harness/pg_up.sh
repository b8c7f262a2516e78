#!/bin/sh
# ctest fixture: a throwaway PostgreSQL cluster in DIR (fresh every run).
set -eu
dir=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
"$here/scripts/pg.sh" stop "$dir" 2>/dev/null || true
rm -rf "$dir"
exec "$here/scripts/pg.sh" start "$dir"
