#!/usr/bin/env bash
# `qfscale status` against a running controller (itself against `qfscale fake-qianfan`): the
# table row with its numbers, -o json as received, -o wide's extra columns, a bounded --watch,
# exit 2 for an unreachable controller; and `run --changes-only` prints fewer lines than the
# default over the same number of ticks while still printing each change.
# Usage: status_test.sh path/to/qfscale
set -euo pipefail
qfscale=$(realpath "$1")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_logs=('*.err' '*.out')

start_fake
# The fake's built-in scenario (src/fake): svco-chatsmall001 runs on unit-gpua0001.
service=svco-chatsmall001
instance=unit-gpua0001
cat >"$tmp/qfscale.yaml" <<YAML
apiVersion: qfscale/v1
kind: ControllerConfig
qianfan: {baseUrl: "$fake_url"}
metrics: {synthetic: {seed: 3, baseQps: 5}}
instances: [{id: $instance}]
services: [{id: $service, instances: [$instance]}]
loop: {interval: 1s, listen: "127.0.0.1:0", stateFile: state.json, dryRun: false}
YAML
cd "$tmp"
"$qfscale" run --config "$tmp/qfscale.yaml" -q >"$tmp/run.out" 2>"$tmp/run.err" &
run_pid=$!
pids+=("$run_pid")
wait_until 30 "the controller's address" grep -q "^listening on" "$tmp/run.out"
url=$(sed -n 's/^listening on //p' "$tmp/run.out" | head -n1)
decided() { curl -s "$url/api/v1/decisions" | grep -q "\"$service\""; }
wait_until 30 "a first decision" decided

# 1. The table: a header and the service's row with its numbers.
"$qfscale" status --controller "$url" >"$tmp/status.out" 2>"$tmp/status.err" ||
  fail "status exited $?"
head -n1 "$tmp/status.out" | grep -q "^SERVICE *CURRENT *RECOMMENDED *DESIRED *REASON *LAST-SCALE *CONDITIONS" ||
  fail "status: no header"
grep -Eq "^$service +[0-9]+ +[0-9]+ +[0-9]+ +[a-z_]+ +[^ ]+ +[^ ]+$" "$tmp/status.out" ||
  fail "status: no row with numbers for $service"
echo "ok: status prints the service row with current/recommended/desired"

# 2. -o json: the decisions as received, valid JSON with the service.
"$qfscale" status --controller "$url" -o json >"$tmp/status.json" 2>"$tmp/json.err" ||
  fail "status -o json exited $?"
node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  process.exit(d.decisions.some((x) => x.service === process.argv[2]) ? 0 : 1)' \
  "$tmp/status.json" "$service" || fail "status -o json: not JSON with $service"
echo "ok: status -o json is valid JSON with the service"

# 3. -o wide: the extra columns.
"$qfscale" status --controller "$url" -o wide >"$tmp/wide.out" 2>"$tmp/wide.err" ||
  fail "status -o wide exited $?"
head -n1 "$tmp/wide.out" | grep -q "QPS/REPLICA *ERROR" || fail "status -o wide: no extra columns"
grep -q "^$service " "$tmp/wide.out" || fail "status -o wide: no row"
echo "ok: status -o wide adds QPS, QPS/REPLICA and ERROR"

# 4. --watch ends after --count polls; the first poll prints the row.
timeout 30 "$qfscale" status --controller "$url" --watch --count 2 --interval 1s \
  >"$tmp/watch.out" 2>"$tmp/watch.err" || fail "status --watch --count 2 exited $?"
grep -q "^$service " "$tmp/watch.out" || fail "status --watch: no row"
[ "$(grep -c '^SERVICE' "$tmp/watch.out")" -eq 1 ] || fail "status --watch: header not printed once"
echo "ok: status --watch --count 2 terminates"

kill -TERM "$run_pid"
wait "$run_pid" || fail "controller exit status $? on SIGTERM"

# 5. Nobody listens any more: exit 2 with the message.
set +e
"$qfscale" status --controller "$url" >"$tmp/down.out" 2>"$tmp/down.err"
code=$?
set -e
[ "$code" -eq 2 ] || fail "unreachable controller: exit $code, not 2"
grep -q "cannot reach the controller at $url: " "$tmp/down.err" || fail "unreachable: no message"
echo "ok: an unreachable controller exits 2 with the message"

# 6. run --changes-only: fewer lines over the same ticks, each line a change for its service.
# Each run starts from 1 replica, so it scales up (applied) and then settles: changes to print.
ticks=6
to_one() { "$qfscale" scale "$service" --instance "$instance" --replicas 1 >/dev/null; }
to_one || fail "scale to 1 replica failed"
timeout 60 "$qfscale" run --config "$tmp/qfscale.yaml" --ticks $ticks >"$tmp/all.out" 2>"$tmp/all.err" ||
  fail "run exited $?"
to_one || fail "scale to 1 replica failed"
timeout 60 "$qfscale" run --config "$tmp/qfscale.yaml" --ticks $ticks --changes-only \
  >"$tmp/changes.out" 2>"$tmp/changes.err" || fail "run --changes-only exited $?"
all=$(grep -c " $service " "$tmp/all.out" || true)
changes=$(grep -c " $service " "$tmp/changes.out" || true)
[ "$all" -eq "$ticks" ] || fail "default run: $all lines for $ticks ticks"
[ "$changes" -ge 2 ] || fail "run --changes-only printed $changes line(s) for $service, not the scale-up and after"
grep " $service " "$tmp/changes.out" | grep -q " applied$" ||
  fail "run --changes-only: no line for the applied scale-up"
[ "$changes" -lt "$all" ] || fail "run --changes-only printed $changes lines, the default $all"
# Consecutive lines of the service differ in replicas, reason or outcome (fields after "replicas").
dups=$(grep " $service " "$tmp/changes.out" | sed 's/.* replicas //' | uniq -d | wc -l)
[ "$dups" -eq 0 ] || fail "run --changes-only repeated an unchanged line"
echo "ok: run --changes-only printed $changes lines where the default printed $all"
