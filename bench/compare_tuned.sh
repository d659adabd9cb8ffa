#!/usr/bin/env bash
# Is a policy cheaper than hpa-default and kpa-default tuned at their best, at the same service
# level, on traffic it was not tuned on? (issue 19). Usage:
#   bench/compare_tuned.sh [POLICY...]        (default: balanced; a shipped name or a file)
# QFSCALE selects the binary (default build/release/qfscale, else build/ci/qfscale). METRIC_SPAN
# (e.g. 60s) feeds every policy means over that span instead of the tick's, as a live rate(x[1m])
# does (simulate --metric-span).
#
# Every trace in examples/traces is split in time at its middle: the first half (the first day of
# the two-day traces, the first 15 minutes of the others) is the tuning part, the second half the
# held-out part. The held-out figures come from a run over the whole trace minus a run over the
# first half: the simulator is causal, so the first half of the whole run is the first-half run,
# and the policy meets the held-out half with the history a live controller would have (its
# engine state, the previous day). CU-hours subtract exactly; late requests too, except for the
# few still queued at the split (the first-half run drains them, at most --abandon-after worth).
# The whole trace is reported too ("whole"): a held-out trace is judged whole, bursty parts and all.
#
# Each emulation runs at target.utilization 0.30, 0.35, ... 0.95 (its other fields as shipped).
# Its cost at the candidate's attainment A on a part is the cheapest of: any sweep point with
# attainment >= A, and the linear interpolation between neighbouring points (in utilization
# order) whose attainments bracket A. "saving" = 1 - candidate CU-h / that cost. "SLO oracle" is the
# simulator's proven lower bound on the CU-hours any controller needs for the candidate's attainment
# on that part (include/qfscale/sim/slo_oracle.h: same ticks, startup delay and queue, demand known
# in advance), read from summary.json as CU-h / cost_ratio_to_oracle; the held-out part has none
# (a bound of the whole minus a bound of the first half bounds nothing). "gap closed" = (better
# emulation - candidate) / (better emulation - SLO oracle): the share of the way from the best-tuned
# emulation to the best any controller could do.
#
# Simulation settings as bench/compare_shared_traces.sh: 90 s startup, 15 s tick, GPU-I-2, 5 s
# SLO wait, 30 s abandon, unlimited capacity, --replica-qps from the same rule (peak one-minute
# mean / 10, rounded to 1-2-5: the busiest minute needs about 10 replicas).
set -euo pipefail
cd "$(dirname "$0")/.."
qfscale=${QFSCALE:-build/release/qfscale}
[ -x "$qfscale" ] || qfscale=build/ci/qfscale
[ $# -gt 0 ] || set -- balanced
traces=examples/traces
declare -A replica_qps=(
  [azure-code-2023-first30m]=1 [azure-conv-2023-first30m]=1 [mooncake-conv-fast25-first30m]=0.5
  [servegen-language-mmid-2d]=200 [servegen-language-msmall-2d]=200)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sweep=()
for emulation in hpa-default kpa-default; do
  for u in 30 35 40 45 50 55 60 65 70 75 80 85 90 95; do
    file="$work/$emulation-u$u.yaml"
    sed -e "s/utilization: [0-9.]*/utilization: 0.$u/" \
      -e "s/name: $emulation}/name: $emulation-u$u}/" "policies/$emulation.yaml" >"$file"
    sweep+=(--policy "$file")
  done
done
candidates=()
for p in "$@"; do candidates+=(--policy "$p"); done

for name in azure-code-2023-first30m azure-conv-2023-first30m mooncake-conv-fast25-first30m \
  servegen-language-mmid-2d servegen-language-msmall-2d; do
  csv="$traces/$name.csv"
  [ -f "$csv" ] || { echo "missing $csv" >&2; exit 1; }
  rows=$(($(wc -l <"$csv") - 1))
  head -n $((1 + rows / 2)) "$csv" >"$work/$name-first.csv"
  for part in first whole; do
    trace="$work/$name-first.csv"
    [ $part = whole ] && trace=$csv
    "$qfscale" simulate --trace "$trace" "${candidates[@]}" "${sweep[@]}" \
      --replica-qps "${replica_qps[$name]}" --type GPU-I-2 --startup-delay 90s --tick 15s \
      --slo-wait 5s --abandon-after 30s ${METRIC_SPAN:+--metric-span "$METRIC_SPAN"} \
      --out "$work/$name-$part" >/dev/null
  done
  echo "== $name (replica qps ${replica_qps[$name]}, split at ${rows}/2 s)"
  node - "$work/$name-first/summary.json" "$work/$name-whole/summary.json" "$#" <<'EOF'
const [first, whole] = process.argv.slice(2, 4).map((f) => require(f));
const candidates = Number(process.argv[4]);
const figures = (p) => ({req: p.requests_total, late: p.requests_late, cuh: p.compute_unit_hours});
const minus = (a, b) => ({req: a.req - b.req, late: a.late - b.late, cuh: a.cuh - b.cuh});
const att = (f) => (f.req > 0 ? (100 * (f.req - f.late)) / f.req : 100);
const parts = {
  tune: (i) => figures(first.policies[i]),
  held: (i) => minus(figures(whole.policies[i]), figures(first.policies[i])),
  whole: (i) => figures(whole.policies[i]),
};
// The SLO oracle's lower bound at candidate i's own attainment (the simulator solves it there).
const sloOracle = (run, i) => {
  const p = run.policies[i];
  return p.cost_ratio_to_oracle > 0 ? p.compute_unit_hours / p.cost_ratio_to_oracle : null;
};
const oracle = {tune: (i) => sloOracle(first, i), held: () => null, whole: (i) => sloOracle(whole, i)};
// The cheapest cost reaching attainment a on one emulation's sweep (points in utilization order).
function costAt(points, a) {
  let best = null;
  const take = (c) => { if (best === null || c < best) best = c; };
  points.forEach((p) => { if (p.att >= a) take(p.cuh); });
  for (let i = 0; i + 1 < points.length; ++i) {
    const [p, q] = [points[i], points[i + 1]];
    if ((p.att - a) * (q.att - a) < 0) take(p.cuh + ((a - p.att) * (q.cuh - p.cuh)) / (q.att - p.att));
  }
  return best;
}
const fmt = (x, d = 2) => (x === null ? "unreachable" : x.toFixed(d));
for (const part of ["tune", "held", "whole"]) {
  const sweep = {};
  whole.policies.slice(candidates).forEach((p, k) => {
    const m = /^(.*)-u(\d+)$/.exec(p.policy);
    const f = parts[part](candidates + k);
    (sweep[m[1]] ??= []).push({u: Number(m[2]) / 100, att: att(f), cuh: f.cuh});
  });
  for (let i = 0; i < candidates; ++i) {
    const f = parts[part](i);
    const a = att(f);
    const costs = Object.fromEntries(Object.entries(sweep).map(([e, pts]) => [e, costAt(pts, a)]));
    const reachable = Object.values(costs).filter((c) => c !== null);
    const better = reachable.length ? Math.min(...reachable) : null;
    const save = (c) => (c === null ? "-" : `${(100 * (1 - f.cuh / c)).toFixed(1)}%`);
    const bound = oracle[part](i);
    const gap = better !== null && bound !== null && bound < better
      ? `${((100 * (better - f.cuh)) / (better - bound)).toFixed(0)}%` : "-";
    console.log(`${part} ${whole.policies[i].policy}: attainment ${a.toFixed(3)}% CU-h ${fmt(f.cuh)}` +
      Object.entries(costs).map(([e, c]) => ` | ${e} ${fmt(c)} (saving ${save(c)})`).join("") +
      ` | SLO oracle ${bound === null ? "-" : fmt(bound)} gap closed ${gap}`);
  }
  if (process.env.SHOW_CURVES) {
    for (const [e, pts] of Object.entries(sweep)) {
      console.log(`  ${part} ${e}: ` + pts.map((p) => `${p.u}:${p.att.toFixed(3)}@${p.cuh.toFixed(1)}`).join(" "));
    }
  }
}
EOF
done
