#!/usr/bin/env bash
# `qfscale simulate --sweep FIELD=FROM:TO:STEP`: summary.json gains `curves` (every policy at
# every value; the `policies` rows stay the policies as written) and `cost_at_attainment` (read
# off the curve, checked here by an independent reading in node); a refused value is skipped
# with a note naming the policy, field, value and the loader's reason; progress lines on stderr,
# none with -q; bad FIELD or range syntax and a second --sweep exit 2 naming the flag.
set -euo pipefail
qfscale=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_prefix="simulate_sweep_test: FAIL: "

# An hour: 10 QPS, 30 QPS from 1200 s to 2400 s, then 10 again.
{
  echo "t_seconds,qps"
  for ((t = 0; t < 3600; t++)); do echo "$t,$((t >= 1200 && t < 2400 ? 30 : 10))"; done
} >"$tmp/step.csv"

sim() { "$qfscale" simulate --trace "$tmp/step.csv" --replica-qps 5 --type GPU-I-2 "$@"; }

sim --policy cost-saver --policy hpa-default --sweep target.utilization=0.30:1.05:0.05 \
  --out "$tmp/a" >"$tmp/a.out" 2>"$tmp/a.err" || fail "simulate --sweep exited $?: $(cat "$tmp/a.err")"

# Progress: one line per run (15 values x 2 policies; 1.05 is refused by both), and the notes.
[ "$(grep -c '^sweep: [0-9]*/30 ' "$tmp/a.err")" -eq 30 ] || fail "want 30 progress lines: $(cat "$tmp/a.err")"
grep -q '^sweep: 30/30 ' "$tmp/a.err" || fail "no final progress line"
grep -qx "qfscale simulate: --sweep: skipped cost-saver at target.utilization=1.05: spec.target.utilization: 1.05 is out of range, must be in (0, 1]" \
  "$tmp/a.err" || fail "no note for the refused value: $(cat "$tmp/a.err")"
grep -qE '^cost-saver +target.utilization +15 +[0-9.]+ +[0-9.]+$' "$tmp/a.out" ||
  fail "no cost-at-attainment row: $(cat "$tmp/a.out")"
echo "ok: progress per run on stderr, refused value skipped with a note, cost table printed"

# report.html gains the cost-versus-attainment chart: a dot per point shown, per policy.
grep -q '<svg class="chart" data-chart="cost-attainment"' "$tmp/a/report.html" || fail "no cost chart"
for p in cost-saver hpa-default; do
  grep -q "<circle class=\"point\" data-series=\"$p\"" "$tmp/a/report.html" || fail "no points for $p"
done
echo "ok: report.html has the cost-versus-attainment chart"

# A policy the field does not apply to (balanced sizes for an SLO, without a utilization) keeps
# its row and gets one note and an empty curve; the others are swept as usual.
sim --policy balanced --policy hpa-default --sweep target.utilization=0.5:0.9:0.1 -q \
  --out "$tmp/mixed" >"$tmp/mixed.out" 2>"$tmp/mixed.err" || fail "mixed sweep: $(cat "$tmp/mixed.err")"
[ "$(wc -l <"$tmp/mixed.err")" -eq 1 ] && grep -q "^qfscale simulate: --sweep: policy balanced refuses every value of target.utilization, so it has no curve: spec.target.slo: is set together" "$tmp/mixed.err" ||
  fail "mixed sweep notes: $(cat "$tmp/mixed.err")"
node -e '
const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
if (s.policies.length !== 2 || s.curves[0].points.length !== 0 || s.curves[1].points.length !== 5) process.exit(1);
' "$tmp/mixed/summary.json" || fail "mixed sweep: want balanced without points, hpa-default with 5"
echo "ok: a policy without the field keeps its row and gets no curve"

node - "$tmp/a/summary.json" <<'JS' || fail "summary.json: see above"
const s = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const fail = (m) => { console.error("summary.json: " + m); process.exit(1); };
if (s.policies.length !== 2) fail("policies rows changed");
if (!Array.isArray(s.curves) || s.curves.length !== 2) fail("want 2 curves");
const want = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1];
// The cost at an attainment, read independently: every point meeting it, and the linear
// crossing between adjacent points that straddle it; the least of those.
const costAt = (points, target) => {
  let best = null;
  const take = (c) => { if (best === null || c < best) best = c; };
  points.forEach((p, i) => {
    if (p.slo_attainment_pct >= target) take(p.compute_unit_hours);
    const q = points[i + 1];
    if (q && (p.slo_attainment_pct >= target) !== (q.slo_attainment_pct >= target)) {
      const f = (target - p.slo_attainment_pct) / (q.slo_attainment_pct - p.slo_attainment_pct);
      take(p.compute_unit_hours + f * (q.compute_unit_hours - p.compute_unit_hours));
    }
  });
  return best;
};
const shipped = { "cost-saver": 0.85, "hpa-default": 0.8 };
s.curves.forEach((c, i) => {
  const row = s.policies[i];
  if (c.policy !== row.policy) fail(`curve ${i} is ${c.policy}, want ${row.policy}`);
  if (c.field !== "target.utilization") fail(`field ${c.field}`);
  const values = c.points.map((p) => p.value);
  if (JSON.stringify(values) !== JSON.stringify(want)) fail(`${c.policy} values ${values}`);
  for (const p of c.points) {
    if (!(p.slo_attainment_pct >= 0 && p.slo_attainment_pct <= 100)) fail("attainment range");
    if (!(p.compute_unit_hours > 0)) fail("cost");
  }
  // The point at the shipped value is the policy as written: the same figures as its row.
  const same = c.points.find((p) => p.value === shipped[c.policy]);
  if (same.compute_unit_hours !== row.compute_unit_hours ||
      same.slo_attainment_pct !== row.slo_attainment_pct) {
    fail(`${c.policy} at ${shipped[c.policy]}: ${JSON.stringify(same)} vs its row`);
  }
  // Lower targets cost more CU-hours here, and reach 99.9% (the table has both costs).
  if (c.points[0].compute_unit_hours <= c.points[c.points.length - 1].compute_unit_hours) {
    fail(`${c.policy}: 0.3 is not dearer than 1.0`);
  }
  if (c.points[0].slo_attainment_pct < 99.9) fail(`${c.policy}: 0.3 attains under 99.9%`);
  if (c.skipped.length !== 1 || c.skipped[0].value !== 1.05 ||
      !c.skipped[0].reason.includes("1.05 is out of range")) {
    fail(`${c.policy} skipped ${JSON.stringify(c.skipped)}`);
  }
  const costs = s.cost_at_attainment[c.policy];
  if (!costs) fail(`no cost_at_attainment for ${c.policy}`);
  for (const key of ["99", "99.9"]) {
    const mine = costAt(c.points, Number(key));
    const got = costs[key];
    if (mine === null ? got !== null : Math.abs(got - mine) > 1e-9 * mine) {
      fail(`${c.policy} at ${key}%: ${got}, want ${mine}`);
    }
  }
});
if (Object.keys(s.cost_at_attainment).join() !== "cost-saver,hpa-default,oracle") fail("cost keys");
// The oracle's entry is the SLO oracle's lower bound at each attainment.
for (const key of ["99", "99.9"]) {
  const want = s.slo_oracle[key].lower_bound_cu_hours;
  if (!(Math.abs(s.cost_at_attainment.oracle[key] - want) <= 1e-9 * want)) {
    fail(`oracle at ${key}%: ${s.cost_at_attainment.oracle[key]}, want ${want}`);
  }
}
console.log("summary.json: curves and cost_at_attainment check out");
JS
echo "ok: summary.json curves (points at the shipped value equal the rows) and cost_at_attainment"

# -q: nothing on stderr; without --sweep, summary.json has neither member.
sim --policy cost-saver --sweep target.utilization=0.6:0.8:0.1 -q >"$tmp/q.out" 2>"$tmp/q.err" ||
  fail "-q run failed"
[ ! -s "$tmp/q.err" ] || fail "-q printed: $(cat "$tmp/q.err")"
sim --policy cost-saver --out "$tmp/plain" >/dev/null 2>&1 || fail "plain run failed"
! grep -qE '"curves"|"cost_at_attainment"' "$tmp/plain/summary.json" ||
  fail "summary.json has sweep members without --sweep"
! grep -q 'data-chart="cost-attainment"' "$tmp/plain/report.html" || fail "cost chart without --sweep"
echo "ok: -q is quiet; no sweep members without --sweep"

# Usage errors: exit 2, naming --sweep.
expect_usage() { # WANT-LINE ARGS...
  local want=$1 rc=0
  shift
  sim --policy cost-saver "$@" >/dev/null 2>"$tmp/err" || rc=$?
  [ "$rc" -eq 2 ] || fail "$*: want exit 2, got $rc"
  grep -qxF "$want" "$tmp/err" || fail "$*: want '$want', got '$(cat "$tmp/err")'"
}
expect_usage "qfscale simulate: --sweep 'target.utilisation' is not a numeric policy field; did you mean target.utilization?" \
  --sweep target.utilisation=0.3:0.9:0.1
expect_usage "qfscale simulate: --sweep 'target.utilization=0.3:0.9' must be FIELD=FROM:TO:STEP, e.g. target.utilization=0.30:0.95:0.05" \
  --sweep target.utilization=0.3:0.9
expect_usage "qfscale simulate: --sweep 'target.utilization=0.9:0.3:0.1' TO 0.3 is below FROM 0.9" \
  --sweep target.utilization=0.9:0.3:0.1
expect_usage "qfscale simulate: --sweep is given 2 times; one field is swept per run (run once per field)" \
  --sweep target.utilization=0.3:0.9:0.1 --sweep replicas.max=5:10:1
expect_usage "qfscale simulate: --sweep: policy cost-saver refuses every value of target.utilization, so it has no curve: spec.target.utilization: 1.1 is out of range, must be in (0, 1]" \
  --sweep target.utilization=1.1:1.3:0.1
echo "ok: bad --sweep values exit 2 with the flag named"
