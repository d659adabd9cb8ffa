#!/usr/bin/env bash
# The comparison at an equal service level (issue 16): on every example trace, the CU-hours each
# policy needs for 99% and 99.9% of requests within 5 s (abandon 30 s, 90 s startup, 15 s tick),
# read off its sweep curve (`qfscale simulate --sweep`, cost_at_attainment): hpa-default and
# kpa-default over target.utilization 0.30-0.95, balanced over its own knob, the attainment it
# sizes for (target.slo.attainment 90-99.9%). The SLO oracle's lower bound is the floor; "gap
# closed" is the share of the way from the cheaper emulation down to it that balanced goes
# (negative: balanced costs more than the emulation). Prints a Markdown table.
# QFSCALE selects the binary (default build/release/qfscale, else build/ci/qfscale).
set -euo pipefail
cd "$(dirname "$0")/.."
qfscale=${QFSCALE:-build/release/qfscale}
[ -x "$qfscale" ] || qfscale=build/ci/qfscale
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Replica QPS as bench/compare_tuned.sh: the busiest minute needs about 10 replicas.
declare -A replica_qps=(
  [azure-code-2023-first30m]=1 [azure-conv-2023-first30m]=1 [mooncake-conv-fast25-first30m]=0.5
  [servegen-language-mmid-2d]=200 [servegen-language-msmall-2d]=200)

echo "| trace | target | balanced | hpa-default | kpa-default | SLO oracle (lower bound) | balanced saving vs the cheaper | gap closed |"
echo "|---|---|---|---|---|---|---|---|"
for name in azure-code-2023-first30m azure-conv-2023-first30m mooncake-conv-fast25-first30m \
  servegen-language-mmid-2d servegen-language-msmall-2d; do
  sim() {
    "$qfscale" simulate --trace "examples/traces/$name.csv" --replica-qps "${replica_qps[$name]}" \
      --type GPU-I-2 --startup-delay 90s --tick 15s --slo-wait 5s --abandon-after 30s -q "$@" \
      >/dev/null 2>&1
  }
  sim --policy hpa-default --policy kpa-default --sweep target.utilization=0.30:0.95:0.05 \
    --out "$work/$name-emulations"
  sim --policy balanced --sweep target.slo.attainment=90:99.9:0.9 --out "$work/$name-balanced"
  node - "$name" "$work/$name-emulations/summary.json" "$work/$name-balanced/summary.json" <<'JS'
const [name, emu, bal] = [process.argv[2], require(process.argv[3]), require(process.argv[4])];
const fmt = (x) => (x === null || x === undefined ? "-" : x.toFixed(2));
for (const key of ["99", "99.9"]) {
  const b = bal.cost_at_attainment.balanced[key];
  const h = emu.cost_at_attainment["hpa-default"][key];
  const k = emu.cost_at_attainment["kpa-default"][key];
  const o = emu.cost_at_attainment.oracle[key];
  const reached = [h, k].filter((c) => c !== null);
  const better = reached.length ? Math.min(...reached) : null;
  const saving = b !== null && better !== null ? `${(100 * (1 - b / better)).toFixed(1)}%` : "-";
  const gap = b !== null && better !== null && o !== null && better > o
    ? `${((100 * (better - b)) / (better - o)).toFixed(0)}%` : "-";
  console.log(`| ${name} | ${key}% | ${fmt(b)} | ${fmt(h)} | ${fmt(k)} | ${fmt(o)} | ${saving} | ${gap} |`);
}
JS
done
