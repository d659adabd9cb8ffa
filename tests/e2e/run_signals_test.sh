#!/usr/bin/env bash
# `qfscale run` as a process: the built-in demo runs a few ticks and exits 0; with a config,
# SIGHUP with a broken file keeps the running config (logged with file:line:col, counted in
# /metrics), SIGHUP with a fixed file switches to it (here: dry-run on), and SIGTERM exits 0
# with the state saved. Waits poll the process's own output with a deadline.
# Usage: run_signals_test.sh path/to/qfscale
set -euo pipefail
qfscale=$(realpath "$1")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_logs=('*.err' '*.out')

# 1. The demo: three ticks, one line per service and instance each, exit 0.
timeout 60 "$qfscale" run --ticks 3 >"$tmp/demo.out" 2>"$tmp/demo.err" || fail "demo exited $?"
head -n1 "$tmp/demo.out" | grep -q "^listening on http://127.0.0.1:" || fail "demo printed no address"
[ "$(grep -c "svco-demochat0001" "$tmp/demo.out")" -eq 3 ] || fail "demo: not one line per tick"
grep -q "built-in demo" "$tmp/demo.err" || fail "demo did not explain itself"
echo "ok: the built-in demo ran 3 ticks and exited 0"

# 2. A config run against the fake, with synthetic QPS so no Prometheus is needed.
start_fake
# The fake's built-in scenario (src/fake): svco-chatsmall001 runs on unit-gpua0001.
service=svco-chatsmall001
instance=unit-gpua0001
"$qfscale" compute-unit "$instance" -o json | grep -q "\"serviceId\":\"$service\"" ||
  fail "the built-in scenario changed: $service is not on $instance"
write_config() {
  cat >"$tmp/qfscale.yaml" <<YAML
apiVersion: qfscale/v1
kind: ControllerConfig
qianfan: {baseUrl: "$fake_url"}
metrics: {synthetic: {seed: 3, baseQps: 5}}
instances: [{id: $instance}]
services: [{id: $service, instances: [$instance]}]
loop: {interval: 1s, listen: "127.0.0.1:0", stateFile: state.json, dryRun: $1}
YAML
}
write_config false
"$qfscale" run --config "$tmp/qfscale.yaml" -q >"$tmp/run.out" 2>"$tmp/run.err" &
run_pid=$!
pids+=($run_pid)
wait_until 30 "the controller's address" grep -q "^listening on" "$tmp/run.out"
url=$(sed -n 's/^listening on //p' "$tmp/run.out" | head -n1)
metric() { curl -sf "$url/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
ready() { curl -sf "$url/readyz" >/dev/null; }
wait_until 30 "/readyz after the first tick" ready

# Broken file: an unknown key. The old config stays; the error names file:line:col.
printf 'bogus: 1\n' >>"$tmp/qfscale.yaml"
kill -HUP "$run_pid"
wait_until 20 "the failed reload in the log" grep -q "reload of .* failed" "$tmp/run.err"
grep -q "qfscale.yaml:[0-9]*:[0-9]*: bogus" "$tmp/run.err" || fail "no file:line:col for the bad key"
[ "$(metric qfscale_config_last_reload_successful)" = "0" ] || fail "metric does not show the failed reload"
kill -0 "$run_pid" || fail "the controller died on a bad reload"
ticks() { curl -sf "$url/metrics" | awk '$1 ~ /^qfscale_reconcile_runs_total/ { n += $2 } END { print n + 0 }'; }
ticks_before=$(ticks)
more_ticks() { [ "$(ticks)" -gt "$ticks_before" ]; }
wait_until 20 "ticks to go on after the failed reload" more_ticks
echo "ok: a broken config on SIGHUP is reported and the running config stays"

# Fixed file with dry-run on: taken.
write_config true
kill -HUP "$run_pid"
wait_until 20 "the successful reload" grep -q "reloaded .*qfscale.yaml" "$tmp/run.err"
[ "$(metric qfscale_config_last_reload_successful)" = "1" ] || fail "metric does not show the good reload"
echo "ok: a fixed config on SIGHUP is taken"

kill -TERM "$run_pid"
wait "$run_pid" || fail "exit status $? on SIGTERM"
grep -q "stopping on SIGTERM" "$tmp/run.err" || fail "no stop message"
grep -q "\"$service\"" "$tmp/state.json" || fail "state not saved"
echo "ok: SIGTERM exits 0 with the state saved"
