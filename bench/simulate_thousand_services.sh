#!/usr/bin/env bash
# End-to-end `qfscale simulate` at fleet size: N services (default 1,000) of one day of per-second
# traffic each, read from CSV files, sharing nothing (unlimited capacity): one policy, five
# policies, and one policy writing --out; prints wall, CPU and peak memory (with /usr/bin/time) of
# each run. BM_SimulateDayThousandServices times the simulation alone; this adds what a user
# waits for: reading the files, the oracles and the floors, and writing the reports.
# Usage: bench/simulate_thousand_services.sh [QFSCALE] [N]   (QFSCALE: build/release/qfscale)
#
# The traces are generated here (a diurnal sine plus Poisson-like noise, 5-24 QPS mean, fixed
# seed) into a temporary directory under $TMPDIR (default /tmp; keep it off tmpfs, or the files
# count against memory): about 1.8 GB for 1,000 services with the reports, removed afterwards.
# The seed gives the same traces with the same awk (the figures in RESULTS.md: Debian's mawk).
set -euo pipefail
qfscale=$(realpath "${1:-$(dirname "$0")/../build/release/qfscale}")
services=${2:-1000}
[[ "$services" =~ ^[1-9][0-9]*$ ]] || { echo "N must be a whole number >= 1, not '$services'" >&2; exit 2; }
[ -x "$qfscale" ] || { echo "no qfscale at $qfscale (build the release preset first)" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

echo "generating $services one-day traces in $dir ($(readlink -f "$(command -v awk)"))"
awk -v n="$services" -v dir="$dir" 'BEGIN {
  srand(1)
  for (i = 0; i < n; i++) {
    f = sprintf("%s/day%04d.csv", dir, i)
    base = 5 + i % 20
    print "t_seconds,qps" > f
    for (t = 0; t < 86400; t++) {
      level = base * (1 + 0.6 * sin(2 * 3.14159265 * t / 86400))
      # Sum of 12 uniforms - 6 is close to a standard normal; sd sqrt(level) as for Poisson.
      z = -6; for (k = 0; k < 12; k++) z += rand()
      q = level + z * sqrt(level); if (q < 0) q = 0
      printf "%d,%.3f\n", t, q > f
    }
    close(f)
  }
}'

args=()
for f in "$dir"/day*.csv; do args+=(--trace "$f"); done
measure() {
  local label=$1
  shift
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "$label: %e s wall, %U s user, %S s sys, %M KiB peak RSS" \
      "$qfscale" simulate "${args[@]}" --replica-qps 5 --type GPU-I-2 "$@" 2>&1 >/dev/null
  else
    TIMEFORMAT="$label: %R s wall, %U s user, %S s sys"
    time "$qfscale" simulate "${args[@]}" --replica-qps 5 --type GPU-I-2 "$@" 2>&1 >/dev/null
  fi
}
echo "machine: $(nproc) cores, $(uname -m), load $(cut -d' ' -f1-3 /proc/loadavg)"
measure "$services services x 1 day, balanced" --policy balanced
measure "$services services x 1 day, 5 policies" --policy balanced --policy latency-first \
  --policy hpa-default --policy kpa-default --policy cost-saver
measure "$services services x 1 day, balanced, --out (summary, timeline, report)" \
  --policy balanced --out "$dir/out"
