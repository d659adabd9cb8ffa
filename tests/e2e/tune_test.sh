#!/usr/bin/env bash
# `qfscale tune` on CSV traces: the cheapest target.utilization (the default sweep) holding the
# SLO on every trace, with its cost and margin, as a table and as JSON (read with node, checked
# against `qfscale simulate --sweep` over the same traces); --write saves a policy that passes
# `policy check` and is the policy at that value; no value meeting the SLO exits 1 saying the
# best attainment reached; bad --slo and history flags exit 2; --help explains every flag.
set -euo pipefail
qfscale=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_prefix="tune_test: FAIL: "

# Two traces of an hour, one step each: 10 QPS with 20 QPS for 20 minutes, and the same with
# 25 QPS (the busier one decides how high the target may go).
for peak in 20 25; do
  {
    echo "t_seconds,qps"
    for ((t = 0; t < 3600; t++)); do echo "$t,$((t >= 1200 && t < 2400 ? peak : 10))"; done
  } >"$tmp/peak$peak.csv"
done
tune() { "$qfscale" tune --trace "$tmp/peak20.csv" --trace "$tmp/peak25.csv" --policy cost-saver \
  --replica-qps 5 --type GPU-I-2 "$@"; }

tune --slo 99%@5s -o json -q >"$tmp/tune.json" 2>"$tmp/tune.err" || fail "tune exited $?: $(cat "$tmp/tune.err")"
[ ! -s "$tmp/tune.err" ] || fail "-q printed: $(cat "$tmp/tune.err")"
"$qfscale" simulate --trace "$tmp/peak20.csv" --trace "$tmp/peak25.csv" --policy cost-saver \
  --replica-qps 5 --type GPU-I-2 --sweep target.utilization=0.30:0.95:0.05 -q --out "$tmp/sim" \
  >/dev/null || fail "simulate --sweep failed"
node - "$tmp/tune.json" "$tmp/sim/summary.json" >"$tmp/best.txt" <<'JS' || fail "tune JSON: see above"
const fs = require("fs");
const t = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const s = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const fail = (m) => { console.error("tune JSON: " + m); process.exit(1); };
if (t.policy !== "cost-saver" || t.field !== "target.utilization") fail("policy/field");
if (t.slo.attainment_pct !== 99 || t.slo.wait_s !== 5) fail("slo " + JSON.stringify(t.slo));
if (t.traces.length !== 2 || t.traces[0].requests !== 48000 || t.traces[1].requests !== 54000) {
  fail("traces " + JSON.stringify(t.traces));
}
// The default sweep: 0.30 .. 0.95 by 0.05.
if (t.points.length !== 14 || t.points[0].value !== 0.3 || t.points[13].value !== 0.95) fail("sweep");
const curve = s.curves[0].points;
t.points.forEach((p, i) => {
  // Per trace as simulate's per-service rows would give; the point's attainment is the worst.
  const worst = Math.min(...p.traces.map((x) => x.slo_attainment_pct));
  if (p.slo_attainment_pct !== worst) fail(`point ${p.value}: not the worst trace`);
  if (Math.abs(p.margin_pct - (worst - 99)) > 1e-9) fail(`margin at ${p.value}`);
  if (p.meets !== (worst >= 99)) fail(`meets at ${p.value}`);
  if (p.compute_unit_hours !== curve[i].compute_unit_hours) fail(`cost at ${p.value} differs from simulate`);
});
const meeting = t.points.filter((p) => p.meets);
if (meeting.length === 0 || meeting.length === t.points.length) fail("the SLO should split the sweep");
const cheapest = meeting.reduce((a, b) => (b.compute_unit_hours < a.compute_unit_hours ? b : a));
if (!t.best || t.best.value !== cheapest.value) fail(`best ${JSON.stringify(t.best)}, want ${cheapest.value}`);
if (!(t.best.margin_pct >= 0)) fail("best has a negative margin");
console.log(t.best.value);
JS
best=$(cat "$tmp/best.txt")
echo "ok: tune -o json picks the cheapest value meeting 99%@5s on both traces ($best), figures as simulate's"

tune --slo 99%@5s --write "$tmp/tuned.yaml" >"$tmp/table.out" 2>"$tmp/table.err" || fail "tune --write failed"
grep -qE '^ *target.utilization +SLO attain +CU-hours +margin +meets$' "$tmp/table.out" ||
  fail "no table header: $(cat "$tmp/table.out")"
grep -qE "^ *$best +[0-9.]+% +[0-9.]+ +\+[0-9.]+ +cheapest$" "$tmp/table.out" || fail "no cheapest row"
grep -qE "^cheapest: target.utilization=$best at [0-9.]+ CU-hours, attainment [0-9.]+% \(margin \+[0-9.]+ points\)$" \
  "$tmp/table.out" || fail "no cheapest line: $(cat "$tmp/table.out")"
grep -qx "wrote $tmp/tuned.yaml" "$tmp/table.out" || fail "no 'wrote' line"
[ "$(grep -c '^sweep: [0-9]*/14 ' "$tmp/table.err")" -eq 14 ] || fail "want 14 progress lines"
"$qfscale" policy check "$tmp/tuned.yaml" >"$tmp/check.out" 2>&1 || fail "policy check: $(cat "$tmp/check.out")"
grep -qx "$tmp/tuned.yaml: ok (policy cost-saver)" "$tmp/check.out" || fail "check: $(cat "$tmp/check.out")"
# The written policy is cost-saver at that value: simulating it gives the tuned point's cost.
"$qfscale" simulate --trace "$tmp/peak20.csv" --trace "$tmp/peak25.csv" --policy "$tmp/tuned.yaml" \
  --replica-qps 5 --type GPU-I-2 --out "$tmp/check" >/dev/null || fail "simulate tuned.yaml"
node -e '
const fs = require("fs");
const t = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const s = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
if (s.policies[0].compute_unit_hours !== t.best.compute_unit_hours) {
  console.error(`tuned.yaml costs ${s.policies[0].compute_unit_hours}, want ${t.best.compute_unit_hours}`);
  process.exit(1);
}' "$tmp/tune.json" "$tmp/check/summary.json" || fail "tuned.yaml is not the tuned point"
grep -qE "^  target:$" "$tmp/tuned.yaml" && grep -qE "^    utilization: $best$" "$tmp/tuned.yaml" ||
  fail "tuned.yaml lacks utilization $best: $(cat "$tmp/tuned.yaml")"
echo "ok: table with the cheapest row; --write gives a policy that passes policy check and costs the same"

# A policy that sizes for a service level (balanced) is tuned on its own knob by default: the
# attainment it sizes for, 90% to 99.9%, written back as a percentage that passes policy check.
# On a slow wave: no policy holds 99% through the steps above without utilization headroom.
awk 'BEGIN { print "t_seconds,qps"; for (t = 0; t < 7200; t++) printf "%d,%.3f\n", t, 20 + 15 * sin(t / 7200 * 6.2832) }' \
  >"$tmp/wave.csv"
"$qfscale" tune --trace "$tmp/wave.csv" --policy balanced \
  --replica-qps 5 --type GPU-I-2 --slo 99%@5s -o json -q --write "$tmp/slo.yaml" \
  >"$tmp/slo.json" 2>"$tmp/slo.err" || fail "tune balanced: $(cat "$tmp/slo.err")"
node -e '
const t = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const fail = (m) => { console.error("tune balanced: " + m); process.exit(1); };
if (t.field !== "target.slo.attainment") fail("field " + t.field);
if (t.points.length !== 12 || t.points[0].value !== 90 || t.points[11].value !== 99.9) fail("sweep");
if (!t.best || !(t.best.margin_pct >= 0)) fail("no best point");
console.log(t.best.value);' "$tmp/slo.json" >"$tmp/slo_best.txt" || fail "tune balanced JSON"
grep -qE "^      attainment: $(cat "$tmp/slo_best.txt")%$" "$tmp/slo.yaml" ||
  fail "slo.yaml lacks attainment $(cat "$tmp/slo_best.txt")%: $(cat "$tmp/slo.yaml")"
"$qfscale" policy check "$tmp/slo.yaml" >/dev/null 2>&1 || fail "policy check slo.yaml"
echo "ok: balanced is tuned on target.slo.attainment by default ($(cat "$tmp/slo_best.txt")%)"

# No value holds the SLO: exit 1, the best attainment reached named, no file written.
rc=0
tune --slo 99.99%@1s --sweep target.utilization=0.6:0.9:0.1 --write "$tmp/none.yaml" -q \
  >/dev/null 2>"$tmp/none.err" || rc=$?
[ "$rc" -eq 1 ] || fail "no value meets: want exit 1, got $rc"
grep -qE "^qfscale tune: no target.utilization from 0.6 to 0.9 holds 99.99% of requests within 1s on every trace; the best attainment reached was [0-9.]+% at target.utilization=0.6$" \
  "$tmp/none.err" || fail "no-value message: $(cat "$tmp/none.err")"
[ ! -e "$tmp/none.yaml" ] || fail "--write wrote a file although nothing met the SLO"
echo "ok: when nothing holds the SLO, exit 1 with the best attainment reached"

# Usage errors: exit 2.
expect_usage() { # WANT-LINE ARGS...
  local want=$1 rc=0
  shift
  "$qfscale" tune --policy cost-saver --replica-qps 5 --type GPU-I-2 "$@" >/dev/null 2>"$tmp/err" || rc=$?
  [ "$rc" -eq 2 ] || fail "$*: want exit 2, got $rc"
  grep -qxF "$want" "$tmp/err" || fail "$*: want '$want', got '$(cat "$tmp/err")'"
}
expect_usage "qfscale tune: --slo '99' must be ATTAINMENT%@WAIT, e.g. 99%@5s" --trace "$tmp/peak20.csv" --slo 99
expect_usage "qfscale tune: --slo '120%@5s' attainment 120% must be in (0, 100]" --trace "$tmp/peak20.csv" --slo 120%@5s
expect_usage "qfscale tune: --slo wait '5' has no unit, must be a duration such as 90s, 5m or 1h30m" \
  --trace "$tmp/peak20.csv" --slo 99%@5
expect_usage "qfscale tune: give the history as --trace FILE... or as --prometheus URL --query Q --range D" --slo 99%@5s
expect_usage "qfscale tune: --prometheus needs --query and --range" --prometheus http://127.0.0.1:1 --slo 99%@5s
expect_usage "qfscale tune: --sweep 'replicas.maxx' is not a numeric policy field; did you mean replicas.max?" \
  --trace "$tmp/peak20.csv" --slo 99%@5s --sweep replicas.maxx=1:5:1
echo "ok: bad --slo, history and --sweep flags exit 2"

"$qfscale" tune --help >"$tmp/help.txt" || fail "tune --help"
for flag in --trace --prometheus --query --range --step --end --ca-file --policy --slo --replica-qps \
  --type --startup-delay --tick --abandon-after --start --sweep --write --output --quiet; do
  grep -q -- "$flag" "$tmp/help.txt" || fail "tune --help does not explain $flag"
done
grep -q "qfscale tune --trace week.csv --policy balanced --slo 99%@5s" "$tmp/help.txt" ||
  fail "tune --help has no example"
echo "ok: tune --help explains every flag, with examples"
