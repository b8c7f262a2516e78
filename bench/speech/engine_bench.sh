#!/bin/sh
# Speech engine benchmark: our recognizer (bench/speech/rec_bench.cpp over the real
# speech::Recognizer, with fillers and without) side by side with the reference engine
# ../shared/bench/engine/ps_bench.c (whole buffer, -remove_silence no), file by file, so that
# each pair of timings is taken under the same load. Prints the figures for bench/RESULTS.md.
#
# Usage: bench/speech/engine_bench.sh [BUILD_DIR] [OUT_DIR]
#   BUILD_DIR holds librostrum_speech.a and librostrum_core.a (cmake --build BUILD_DIR
#   --target rostrum_speech);
#   default /tmp/build-speech.  OUT_DIR (default /tmp/speech-engine-bench) gets the TSVs.
# Needs: gcc/g++, pkg-config, /usr/bin/time, python3.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${1:-/tmp/build-speech}
OUT=${2:-/tmp/speech-engine-bench}
SHARED=${ROSTRUM_SHARED:-$ROOT/../shared}
DATA=$SHARED/data/speech
mkdir -p "$OUT"
rm -f "$OUT"/*.tsv "$OUT"/*.rss

PKGS="pocketsphinx sphinxbase sndfile soxr libavformat libavcodec libavutil libsodium libcjson"
gcc -O2 -o "$OUT/ps_bench" "$SHARED/bench/engine/ps_bench.c" \
    $(pkg-config --cflags --libs pocketsphinx sphinxbase sndfile) -lpthread 2>/dev/null
g++ -std=c++20 -O2 -Wall -Wextra -Werror -I"$ROOT" $(pkg-config --cflags $PKGS) \
    -o "$OUT/rec_bench" "$HERE/rec_bench.cpp" "$BUILD/librostrum_speech.a" "$BUILD/librostrum_core.a" \
    $(pkg-config --libs $PKGS) -lpthread

# Peak RSS in kB of one command, from /usr/bin/time -v.
peak_rss() { grep "Maximum resident" "$1" | awk '{print $NF}'; }

# One file through the three engines in turn; rows appended to <engine>.tsv, RSS to .rss.
run_one() {
    f=$1
    /usr/bin/time -v -o "$OUT/t.txt" "$OUT/ps_bench" -remove_silence no -- "$f" \
        >>"$OUT/ps_bench.tsv" 2>/dev/null
    echo "$(basename "$f" .wav) $(peak_rss "$OUT/t.txt")" >>"$OUT/ps_bench.rss"
    /usr/bin/time -v -o "$OUT/t.txt" "$OUT/rec_bench" -seg "$OUT/seg.tsv" -- "$f" \
        >>"$OUT/ours.tsv" 2>/dev/null
    echo "$(basename "$f" .wav) $(peak_rss "$OUT/t.txt")" >>"$OUT/ours.rss"
    /usr/bin/time -v -o "$OUT/t.txt" "$OUT/rec_bench" -nofillers -- "$f" \
        >>"$OUT/ours_nofillers.tsv" 2>/dev/null
    echo "$(basename "$f" .wav) $(peak_rss "$OUT/t.txt")" >>"$OUT/ours_nofillers.rss"
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC')  nproc=$(nproc)  load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for f in "$DATA"/read/*.wav "$DATA"/long/*.wav; do run_one "$f"; done
# Fillers: ours only (the engine has no filler step to compare with).
for f in "$DATA"/fillers/*.wav; do
    "$OUT/rec_bench" -seg "$OUT/seg.tsv" -- "$f" >>"$OUT/ours_fillers.tsv" 2>/dev/null
done
echo "# load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$HERE/engine_report.py" "$OUT" "$DATA" "$SHARED/bench/engine/wer.py"
