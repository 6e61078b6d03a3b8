#!/usr/bin/env bash
# Instructions per message of `write` + `take` (64 B by default, poll) for
# each build, from callgrind: ab.js --count runs one build alone (a warm-up,
# then N timed messages) and marks the timed part with two native calls
# that callgrind zeroes and dumps its counters on, so start-up, module
# loading and warm-up compilation are left out. Instruction counts barely
# move with the machine's load, unlike timings.
#
#   bash bench/ab/build.sh f3000e3 5761d3c
#   npx tsc -p tsconfig.bench.json
#   N=20000 bash bench/ab/count.sh .ab/f3000e3/out .ab/5761d3c/out
#   N=20000 ARGS=--context bash bench/ab/count.sh .ab/f3000e3/out .ab/5761d3c/out
#   N=20000 bash bench/ab/count.sh floor     # the 2-op floor of bench/floor.ts, for reference
#
# node runs with --single-threaded (no concurrent compilation or GC
# threads), so that when code is compiled does not depend on thread
# scheduling. The optimizing compiler's own instructions (inclusive cost of
# Runtime_CompileOptimized) are then in the count, and how much it compiles
# in the timed part varies by 10% or more of the total between runs: the
# first figure printed leaves them out. Builds run in parallel, PARALLEL at a time (default 2).
set -euo pipefail
n=${N:-20000}
size=${SIZE:-64}
out=${OUT:-/tmp/ab-count}
parallel=${PARALLEL:-2}
unit=${UNIT:-message}
[ -n "${SCRIPT:-}" ] && [ -z "${UNIT:-}" ] && unit=connection
# Extra arguments for ab.js (e.g. ARGS=--context), and a suffix for the output files.
extra=${ARGS:-}
suffix=${ARGS:+.$(echo "$ARGS" | tr -dc 'a-z')}
mkdir -p "$out"
# SCRIPT=accept-count.js counts per accepted connection instead (N connections; "baseline" for the bare server).
script=$(cd "$(dirname "$0")/../.." && pwd)/.bench-build/bench/ab/${SCRIPT:-ab.js}
count() {
  local dir=$1 tag
  if [ "$dir" = floor ] || [ "$dir" = baseline ]; then tag=$dir$suffix; else tag=$(basename "$(dirname "$(cd "$dir" && pwd)")")$suffix; fi
  rm -f "$out/$tag.$size.$n.cg"*
  valgrind --tool=callgrind --callgrind-out-file="$out/$tag.$size.$n.cg" \
    --zero-before=uv_getrusage --dump-before=uv_resident_set_memory \
    node --single-threaded --expose-gc "$script" --size "$size" --count "$n" $extra "$([ "$dir" = baseline ] && echo --baseline || echo "$dir")" >"$out/$tag.$size.$n.log" 2>&1
  local part
  part=$(ls "$out/$tag.$size.$n.cg".* | head -1)
  local total
  total=$(grep -m1 '^summary:' "$part" | awk '{print $2}')
  # V8's optimizing compiler runs on the main thread here (--single-threaded), inside the counted part: how much
  # it compiles moves from run to run by more than most changes weigh, so its share is given apart.
  local compile
  compile=$(callgrind_annotate --inclusive=yes --threshold=100 "$part" 2>/dev/null |
    grep -F 'v8::internal::Runtime_CompileOptimized(' | head -1 | awk '{gsub(",", "", $1); print $1}')
  compile=${compile:-0}
  echo "$dir$suffix: $(((total - compile) / n)) instructions per $unit without JIT compilation, $((total / n)) with ($total for $n ${unit}s; $(grep -o 'gcs in the timed part.*' "$out/$tag.$size.$n.log"); $part)"
}
running=0
for dir in "$@"; do
  count "$dir" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait
