#!/usr/bin/env bash
# `qfscale simulate`: the table and the three files; the same inputs give the same bytes; bad
# traces exit 1 with file:line:col, bad options exit 2; the progress bar only on a terminal; and
# the short example traces (examples/traces).
set -euo pipefail
qfscale=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_prefix="simulate_test: FAIL: "

# A step trace: 10 QPS, 30 QPS from 200 s to 400 s, then 10 again (600 s).
{
  echo "t_seconds,qps"
  for ((t = 0; t < 600; t++)); do echo "$t,$((t >= 200 && t < 400 ? 30 : 10))"; done
} >"$tmp/step.csv"
mkdir "$tmp/other" && cp "$tmp/step.csv" "$tmp/other/step.csv"

sim() { "$qfscale" simulate --replica-qps 5 --type GPU-I-2 "$@"; }
run() { # OUT-DIR: two services (same stem: ids step and step-2) sharing 40 units, two policies
  sim --trace "$tmp/step.csv" --trace "$tmp/other/step.csv" --policy balanced \
    --policy hpa-default --capacity-units 40 --startup-delay 60s --out "$1" >"$1.stdout" 2>"$1.stderr"
}
run "$tmp/a" || fail "simulate exited $?: $(cat "$tmp/a.stderr")"
run "$tmp/b" || fail "second run failed"
for f in summary.json timeline.csv report.html; do
  [ -s "$tmp/a/$f" ] || fail "$f missing or empty"
  cmp -s "$tmp/a/$f" "$tmp/b/$f" || fail "$f differs between two identical runs"
done
cmp -s <(grep -v '^wrote ' "$tmp/a.stdout") <(grep -v '^wrote ' "$tmp/b.stdout") ||
  fail "the table differs between two identical runs"
echo "ok: two runs give identical summary.json, timeline.csv, report.html and table"

[ ! -s "$tmp/a.stderr" ] || fail "stderr is not a terminal, yet got: $(cat "$tmp/a.stderr")"
grep -q '^policy ' "$tmp/a.stdout" || fail "no table header"
grep -q '^balanced ' "$tmp/a.stdout" || fail "no balanced row"
grep -q '^hpa-default ' "$tmp/a.stdout" || fail "no hpa-default row"
grep -q '^oracle ' "$tmp/a.stdout" || fail "no oracle row"
grep -q "^wrote $tmp/a/report.html$" "$tmp/a.stdout" || fail "no 'wrote' line"
grep -q '"service": "step-2"' "$tmp/a/summary.json" || fail "repeated stems are not made unique"
grep -q '"capacity_units": 40,' "$tmp/a/summary.json" || fail "inputs lack the capacity"
grep -q '"cost_ratio_to_oracle": ' "$tmp/a/summary.json" || fail "no cost ratio"
grep -q '"cost_ratio_to_no_queue_oracle": ' "$tmp/a/summary.json" || fail "no no-queue cost ratio"
grep -q '^    "99": {"lower_bound_cu_hours": [0-9]' "$tmp/a/summary.json" || fail "no SLO oracle total at 99%"
grep -q '^        "99.9": {"lower_bound_cu_hours": [0-9]' "$tmp/a/summary.json" ||
  fail "no SLO oracle per service at 99.9%"
grep -q '^SLO oracle (wait <= 5s, abandon 30s, same ticks)' "$tmp/a.stdout" || fail "no SLO oracle rows"
grep -q '^  100% ' "$tmp/a.stdout" || fail "no SLO oracle row at 100%"
grep -q '"requests_over_capacity_floor_pct": [0-9]' "$tmp/a/summary.json" || fail "no floor"
grep -q '"requests_over_capacity_floor": null' "$tmp/a/summary.json" || fail "oracle floor not null"
grep -q '"slo_wait_s": 5,' "$tmp/a/summary.json" || fail "inputs lack the default --slo-wait"
grep -q '"abandon_after_s": 30,' "$tmp/a/summary.json" || fail "inputs lack the default --abandon-after"
for k in slo_attainment_pct requests_late requests_abandoned wait_p50_seconds wait_p99_seconds \
  wait_max_seconds backlog_max requests_over_capacity_pct; do
  # Per policy and per service: 2 policies x (1 + 2 services) + the oracle x (1 + 2).
  [ "$(grep -c "\"$k\": [0-9]" "$tmp/a/summary.json")" -eq 9 ] || fail "summary.json: $k not in every row"
done
grep -qE '^policy +SLO attain +wait p99 ' "$tmp/a.stdout" || fail "table lacks SLO attain / wait p99"
head -1 "$tmp/a/timeline.csv" |
  grep -qx 'policy,service,t_seconds,demand_qps,ready_capacity_qps,replicas,ready_replicas,desired,granted,reason' ||
  fail "timeline header"
# Ticks at 15, 30, … 585: 39 per service, 2 services, 2 policies and the oracle.
rows=$(($(wc -l <"$tmp/a/timeline.csv") - 1))
[ "$rows" -eq $((39 * 2 * 3)) ] || fail "timeline has $rows rows, want 234"
[ "$(grep -c '^oracle,step-2,' "$tmp/a/timeline.csv")" -eq 39 ] || fail "oracle rows for step-2"
echo "ok: table, summary and timeline contents"

# The same two services under 16 units: their peaks coincide (30 QPS / 5 = 6 replicas x 2 units
# each, 24 together), so the oracle is capacity-bound and must stay within 16 units at every tick.
sim --trace "$tmp/step.csv" --trace "$tmp/other/step.csv" --policy balanced --capacity-units 16 \
  --startup-delay 60s --out "$tmp/cap" >"$tmp/cap.stdout" 2>"$tmp/cap.stderr" ||
  fail "simulate --capacity-units 16 exited $?: $(cat "$tmp/cap.stderr")"
peak=$(awk -F, '$1 == "oracle" { units[$3] += 2 * $6 } END { m = 0; for (t in units) if (units[t] > m) m = units[t]; print m }' "$tmp/cap/timeline.csv")
[ "$peak" -eq 16 ] || fail "the oracle uses $peak units at its peak under --capacity-units 16"
grep -q '^oracle: capacity-bound; .* even the oracle leaves [0-9]* requests over capacity\.$' "$tmp/cap.stdout" ||
  fail "no capacity-bound line under the table: $(cat "$tmp/cap.stdout")"
grep -q '"oracle_capacity_bound_seconds": [1-9]' "$tmp/cap/summary.json" ||
  fail "summary.json lacks the capacity-bound seconds"
echo "ok: under a shared capacity the oracle stays within it and says what it leaves unserved"

# The queue by hand: 15 requests in second 0, then 9 s of silence. balanced starts with one
# replica of 5 QPS and no tick falls within the 10 s, so 5 are served at each of waits 0, 1 and
# 2: with --slo-wait 1s the last 5 are late (66.667%);
# with --abandon-after 2s they are abandoned instead, counted at a wait of 2 s.
{
  echo "t_seconds,qps"
  echo "0,15"
  for ((t = 1; t < 10; t++)); do echo "$t,0"; done
} >"$tmp/burst.csv"
sim --trace "$tmp/burst.csv" --policy balanced --slo-wait 1s --out "$tmp/q" >"$tmp/q.stdout" ||
  fail "simulate --slo-wait 1s"
row=$(grep '^balanced ' "$tmp/q.stdout")
[[ $row =~ ^balanced\ +66\.667%\ +2s\  ]] || fail "burst row: $row"
grep -q '"requests_late": 5,' "$tmp/q/summary.json" || fail "burst: not 5 late"
grep -q '"requests_abandoned": 0,' "$tmp/q/summary.json" || fail "burst: abandoned"
sim --trace "$tmp/burst.csv" --policy balanced --slo-wait 1s --abandon-after 2s --out "$tmp/q2" \
  >/dev/null || fail "simulate --abandon-after 2s"
grep -q '"requests_abandoned": 5,' "$tmp/q2/summary.json" || fail "burst: not 5 abandoned"
grep -q '"wait_max_seconds": 2,' "$tmp/q2/summary.json" || fail "burst: abandoned not at 2 s"
echo "ok: the queue's late and abandoned requests, by hand"

# Without --out only the table; nothing written to the working directory.
(cd "$tmp" && sim --trace step.csv --policy balanced >"$tmp/noout.stdout") || fail "no --out run"
grep -q '^oracle ' "$tmp/noout.stdout" || fail "no table without --out"
! grep -q '^wrote' "$tmp/noout.stdout" || fail "files written without --out"
[ ! -e "$tmp/summary.json" ] || fail "summary.json written without --out"

# Bad traces: exit 1, every problem as file:line:col.
expect_exit() { # WANT-CODE PATTERN ARGS...: exit code and a line of stderr matching PATTERN
  local want=$1 pattern=$2 rc=0
  shift 2
  "$qfscale" simulate "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  [ "$rc" -eq "$want" ] || fail "$*: want exit $want, got $rc: $(cat "$tmp/err")"
  grep -qE -- "$pattern" "$tmp/err" || fail "$*: stderr lacks /$pattern/: $(cat "$tmp/err")"
}
printf 't_seconds,qps\n0,1\n1,2\n3,4\n' >"$tmp/gap.csv"
printf 't_seconds,qps\n0,1\n1,abc\n' >"$tmp/nan.csv"
printf 't_seconds,qps\n0,1\n1,-2\n' >"$tmp/neg.csv"
printf '0,1\n1,2\n' >"$tmp/nohdr.csv"
ok=(--policy balanced --replica-qps 5 --type GPU-I-2)
expect_exit 1 "^$tmp/gap.csv:4:1: .*gap" --trace "$tmp/gap.csv" "${ok[@]}"
expect_exit 1 "^$tmp/nan.csv:3:3: .*not a number" --trace "$tmp/nan.csv" "${ok[@]}"
expect_exit 1 "^$tmp/neg.csv:3:3: .*negative" --trace "$tmp/neg.csv" "${ok[@]}"
expect_exit 1 "^$tmp/nohdr.csv:1:1: .*header" --trace "$tmp/nohdr.csv" "${ok[@]}"
# Every bad file is reported, not only the first.
expect_exit 1 "^$tmp/neg.csv:3:3: " --trace "$tmp/gap.csv" --trace "$tmp/neg.csv" "${ok[@]}"
grep -q "^$tmp/gap.csv:4:1: " "$tmp/err" || fail "the first bad trace is not reported with the second"
expect_exit 1 "missing.csv" --trace "$tmp/missing.csv" "${ok[@]}"
printf 'apiVersion: qfscale/v1\nkind: ScalingPolicy\nmetadata: {name: bad}\nspec:\n  target: {utilization: 1.5}\n' >"$tmp/bad.yaml"
expect_exit 1 "^$tmp/bad.yaml:5:25: spec.target.utilization" --trace "$tmp/step.csv" \
  --policy "$tmp/bad.yaml" --replica-qps 5 --type GPU-I-2
expect_exit 1 "cannot open" --trace "$tmp/step.csv" --policy "$tmp/none.yaml" --replica-qps 5 --type GPU-I-2
echo "ok: bad traces and policy files exit 1 with file:line:col"

# Bad options: exit 2 with a message naming the option.
t=(--trace "$tmp/step.csv")
expect_exit 2 "trace" --policy balanced --replica-qps 5 --type GPU-I-2
expect_exit 2 "policy" "${t[@]}" --replica-qps 5 --type GPU-I-2
expect_exit 2 "'balance' is neither a file nor a shipped policy; did you mean balanced\? Shipped policies: .*balanced" "${t[@]}" --policy balance --replica-qps 5 --type GPU-I-2
expect_exit 2 "--replica-qps 0 must be" "${t[@]}" --policy balanced --replica-qps 0 --type GPU-I-2
expect_exit 2 "--replica-qps" "${t[@]}" --policy balanced --replica-qps fast --type GPU-I-2
expect_exit 2 "--type 'GPU' must end" "${t[@]}" --policy balanced --replica-qps 5 --type GPU
expect_exit 2 "--tick '15' has no unit" "${t[@]}" "${ok[@]}" --tick 15
expect_exit 2 "--tick '0s' must be longer" "${t[@]}" "${ok[@]}" --tick 0s
expect_exit 2 "--startup-delay '-5s'" "${t[@]}" "${ok[@]}" --startup-delay=-5s
expect_exit 2 "--capacity-units -1 is out of range" "${t[@]}" "${ok[@]}" --capacity-units=-1
expect_exit 2 "--start '2024-02-30T00:00:00Z' must be RFC 3339 like 2025-01-02T03:04:05Z .* or Unix seconds" "${t[@]}" "${ok[@]}" \
  --start 2024-02-30T00:00:00Z
expect_exit 2 "unknown|extra|The following argument" "${t[@]}" "${ok[@]}" --frobnicate
expect_exit 2 "--slo-wait '0s' must be longer than 0s" "${t[@]}" "${ok[@]}" --slo-wait 0s
expect_exit 2 "--slo-wait '5' has no unit" "${t[@]}" "${ok[@]}" --slo-wait 5
expect_exit 2 "--abandon-after '5s' must be longer than --slo-wait '5s'" "${t[@]}" "${ok[@]}" \
  --abandon-after 5s
expect_exit 2 "--abandon-after '10s' must be longer than --slo-wait '1m'" "${t[@]}" "${ok[@]}" \
  --slo-wait 1m --abandon-after 10s
expect_exit 2 "--abandon-after '2h' must be at most 1h" "${t[@]}" "${ok[@]}" --abandon-after 2h
echo "ok: bad options exit 2"

# --start with an offset is accepted and echoed as Unix seconds (08:00+08:00 = 00:00Z).
sim --trace "$tmp/step.csv" --policy balanced --start 2024-05-01T08:00:00+08:00 --out "$tmp/s" >/dev/null
grep -q '"start_unix_s": 1714521600' "$tmp/s/summary.json" || fail "--start not applied"

# The progress bar: drawn on a terminal, absent otherwise (checked above: empty stderr).
if command -v script >/dev/null; then
  script -qec "$qfscale simulate --trace $tmp/step.csv --policy balanced --replica-qps 5 --type GPU-I-2" \
    /dev/null >"$tmp/tty.out" || fail "simulate under script failed"
  grep -q 'simulating \[#' "$tmp/tty.out" || fail "no progress bar on a terminal: $(cat -A "$tmp/tty.out")"
  echo "ok: progress bar on a terminal only"
else
  echo "skip: util-linux script not found; progress bar on a terminal not checked"
fi

# The short example traces: the four policies against the oracle.
for f in "$root"/examples/traces/*first30m.csv; do
  [ -f "$f" ] || fail "no example traces in $root/examples/traces"
  sim --trace "$f" --policy balanced --policy latency-first --policy hpa-default \
    --policy kpa-default --startup-delay 90s >"$tmp/example.out" || fail "simulate on $f"
  [ "$(grep -cE '^(balanced|latency-first|hpa-default|kpa-default|oracle) ' "$tmp/example.out")" -eq 5 ] ||
    fail "$f: table lacks a row: $(cat "$tmp/example.out")"
done
echo "ok: example traces"
echo "simulate_test: ok"
