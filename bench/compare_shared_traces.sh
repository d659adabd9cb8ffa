#!/usr/bin/env bash
# The policy comparison of README.md and bench/RESULTS.md: balanced, latency-first, hpa-default
# and kpa-default against the oracle on every trace in examples/traces, startup delay 90 s,
# GPU-I-2, 15 s tick, unlimited capacity, a 5 s SLO wait and abandonment after 30 s. Usage: bench/compare_shared_traces.sh [QFSCALE] [OUT]
# (QFSCALE defaults to build/release/qfscale; with OUT, each trace's report goes to OUT/<trace>).
#
# --replica-qps is one rule for every trace, not a fit: the trace's peak one-minute mean QPS
# divided by 10 (so the busiest minute needs about 10 replicas at their rated QPS), rounded to the
# nearest 1-2-5 value: azure-code 12.1 -> 1, azure-conv 8.5 -> 1, mooncake 4.0 -> 0.5,
# servegen m-mid 2328 -> 200, m-small 1968 -> 200.
set -euo pipefail
cd "$(dirname "$0")/.."
qfscale=${1:-build/release/qfscale}
out=${2:-}
traces=examples/traces
declare -A replica_qps=(
  [azure-code-2023-first30m]=1 [azure-conv-2023-first30m]=1 [mooncake-conv-fast25-first30m]=0.5
  [servegen-language-mmid-2d]=200 [servegen-language-msmall-2d]=200)
for name in azure-code-2023-first30m azure-conv-2023-first30m mooncake-conv-fast25-first30m \
  servegen-language-mmid-2d servegen-language-msmall-2d; do
  [ -f "$traces/$name.csv" ] || { echo "missing $traces/$name.csv" >&2; exit 1; }
  echo "== $name (replica qps ${replica_qps[$name]})"
  "$qfscale" simulate --trace "$traces/$name.csv" --policy balanced --policy latency-first \
    --policy hpa-default --policy kpa-default --replica-qps "${replica_qps[$name]}" \
    --type GPU-I-2 --startup-delay 90s --tick 15s --slo-wait 5s --abandon-after 30s ${out:+--out "$out/$name"} | grep -v '^wrote '
done
