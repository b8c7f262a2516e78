#!/bin/sh
# Runs one libFuzzer target for SECONDS on a scratch corpus seeded from the committed one.
# usage: run_fuzz.sh TARGET SEED_DIR WORK_DIR SECONDS
set -eu
target=$1 seeds=$2 work=$3 seconds=$4
rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
[ -d "$seeds" ] || mkdir -p "$seeds"
dict=$(dirname "$seeds")/../$(basename "$target").dict
set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/"
[ -f "$dict" ] && set -- "$@" -dict="$dict"
"$target" "$@" "$work/corpus" "$seeds"
