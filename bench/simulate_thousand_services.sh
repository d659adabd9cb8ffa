#!/usr/bin/env bash
# End-to-end `qfscale simulate` at fleet size: N services (default 1,000) of one day of per-second
# traffic each, read from CSV files, sharing nothing (unlimited capacity), under one and then five
# policies; prints wall, CPU and peak memory of each run. BM_SimulateDayThousandServices times the
# simulation alone; this adds what a user waits for: reading the files, the oracles and floors.
# Usage: bench/simulate_thousand_services.sh [QFSCALE] [N]   (QFSCALE: build/release/qfscale)
#
# The traces are generated here (a diurnal sine plus Poisson-like noise, 5-24 QPS mean, fixed
# seed) into a temporary directory, about 1.1 GB for 1,000 services, and removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
qfscale=$(realpath "${1:-build/release/qfscale}")
services=${2:-1000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

echo "generating $services one-day traces in $dir"
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
