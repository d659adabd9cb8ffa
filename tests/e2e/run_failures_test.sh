#!/usr/bin/env bash
# `qfscale run` failing in front of an operator, with real processes and the fake's
# /admin/faults: what stderr, stdout, the audit log, /metrics and /readyz say.
#   1. a state file or audit log in a missing directory stops `config check` and the start;
#   2. a second controller on the same state file and audit log is refused (exit 2);
#   3. DescribeService failing (InternalError, a wrong secret key) is on stderr, in the audit
#      log, in /readyz and in qfscale_tick_errors_total; the replica gauges are absent, not 0;
#   4. a state save that fails (its directory replaced by a file) makes /readyz 503 until a
#      save succeeds again;
#   5. SIGHUP that changes a restart-only key says so;
#   6. SIGTERM during a slow tick (the fake holds DescribeService for 30 s) exits at once.
# Usage: run_failures_test.sh path/to/qfscale
set -euo pipefail
qfscale=$(realpath "$1")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_logs=('*.err' '*.out')

start_fake
service=svco-chatsmall001
instance=unit-gpua0001
write_config() { # FILE DIR [BASE-URL]: state file and audit log in DIR
  cat >"$1" <<YAML
apiVersion: qfscale/v1
kind: ControllerConfig
qianfan: {baseUrl: "${3:-$fake_url}", timeout: 20s, maxAttempts: 2}
metrics: {synthetic: {seed: 3, baseQps: 5}}
instances: [{id: $instance}]
services: [{id: $service, instances: [$instance]}]
loop: {interval: 1s, listen: "127.0.0.1:0", stateFile: $2/state.json, auditLog: $2/audit.jsonl}
YAML
}
# start_run NAME CONFIG: `qfscale run` in the background, output in $tmp/NAME.{out,err}; sets
# run_pid and url once it listens.
start_run() {
  "$qfscale" run --config "$2" >"$tmp/$1.out" 2>"$tmp/$1.err" &
  run_pid=$!
  pids+=("$run_pid")
  wait_until 30 "$1's address" grep -q "^listening on" "$tmp/$1.out"
  url=$(sed -n 's/^listening on //p' "$tmp/$1.out" | head -n1)
}
metrics_of() { curl -sf "$1/metrics"; }
value() { metrics_of "$1" | awk -v n="$2" '$1 == n { print $2 }'; }
positive() { [ "$(value "$1" "$2")" != "" ] && awk -v v="$(value "$1" "$2")" 'BEGIN { exit !(v > 0) }'; }
faults() { curl -sf -X "$1" "$fake_url/admin/faults" ${2:+-d "$2"} >/dev/null; }

# 1. A missing directory: refused by config check and by run, at the key's line.
write_config "$tmp/missing.yaml" "$tmp/nodir"
set +e
"$qfscale" config check "$tmp/missing.yaml" >"$tmp/check.out" 2>"$tmp/check.err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "config check with a missing directory: want exit 1, got $rc"
grep -q "^$tmp/missing.yaml:7:[0-9]*: loop.stateFile: $tmp/nodir/state.json cannot be written: directory $tmp/nodir does not exist" "$tmp/check.err" ||
  fail "config check does not name the state file's missing directory"
grep -q "^$tmp/missing.yaml:7:[0-9]*: loop.auditLog: .* directory $tmp/nodir does not exist" "$tmp/check.err" ||
  fail "config check does not name the audit log's missing directory"
set +e
timeout 30 "$qfscale" run --config "$tmp/missing.yaml" >/dev/null 2>"$tmp/missing-run.err"; rc=$?
set -e
[ $rc -eq 2 ] || fail "run with a missing directory: want exit 2 (a configuration error), got $rc"
grep -q "loop.stateFile: .* does not exist" "$tmp/missing-run.err" || fail "run does not say why"
echo "ok: a state file or audit log in a missing directory is refused at its line"

# 2. Two controllers on one state file and audit log: the second is refused.
mkdir "$tmp/a"
write_config "$tmp/a.yaml" "$tmp/a"
start_run a "$tmp/a.yaml"
a_pid=$run_pid
a_url=$url
set +e
timeout 30 "$qfscale" run --config "$tmp/a.yaml" >"$tmp/second.out" 2>"$tmp/second.err"; rc=$?
set -e
[ $rc -eq 2 ] || fail "second controller: want exit 2, got $rc"
grep -q "another qfscale (pid $a_pid) holds $tmp/a/state.json.lock" "$tmp/second.err" ||
  fail "the refusal does not name the holder and the file"
grep -q "^listening" "$tmp/second.out" && fail "the second controller started serving"
kill -0 "$a_pid" || fail "the first controller died"
echo "ok: a second controller on the same files exits 2 naming the first one's pid"

# 3a. DescribeService fails with InternalError: every place an operator looks says so.
ready_a() { curl -sf "$a_url/readyz" >/dev/null; }
wait_until 30 "the first successful tick" ready_a
faults POST '{"DescribeService":{"errors":{"InternalError":1}}}'
# stderr is written after the metrics and the audit log: once it shows, they must too.
wait_until 30 "the cause on stderr" grep -q "tick error: observe InternalError: DescribeService $service.*InternalError.*not scaled this tick" "$tmp/a.err"
positive "$a_url" 'qfscale_tick_errors_total{code="InternalError",stage="observe"}' ||
  fail "the error is not counted in /metrics"
grep -q "$service .*replicas   ? -> ?" "$tmp/a.out" || fail "stdout does not print unknown replicas"
metrics_of "$a_url" | grep -q "^qfscale_service_current_replicas{service=\"$service\"}" &&
  fail "an unobserved service still has a replica gauge"
grep -q "\"type\":\"decision\",\"service\":\"$service\".*\"errors\":\\[\"DescribeService $service.*InternalError" "$tmp/a/audit.jsonl" ||
  fail "the audit log's decision does not carry the cause"
grep -q '"type":"tick",.*"stage":"observe","code":"InternalError"' "$tmp/a/audit.jsonl" ||
  fail "the audit log has no tick line with the error"
curl -s "$a_url/readyz" | grep -q "^observe InternalError: DescribeService $service" ||
  fail "/readyz does not list the error"
curl -s "$a_url/api/v1/decisions/$service" | grep -q '"errors":\["DescribeService' ||
  fail "the decision JSON does not carry the cause"
faults DELETE
has_replicas() { metrics_of "$a_url" | grep -q "^qfscale_service_current_replicas{service=\"$service\"}"; }
wait_until 30 "the replica gauge back once observed" has_replicas
echo "ok: a failing DescribeService is on stderr, stdout, the audit log, /readyz and /metrics"

# 3b. A wrong secret key: SignatureDoesNotMatch, and the key itself is printed nowhere.
mkdir "$tmp/b"
write_config "$tmp/b.yaml" "$tmp/b"
real_secret=$QIANFAN_SECRET_KEY
QIANFAN_SECRET_KEY=wrong-secret-0123456789abcdef start_run b "$tmp/b.yaml"
b_pid=$run_pid
wait_until 30 "SignatureDoesNotMatch on stderr" grep -q "tick error: observe SignatureDoesNotMatch: DescribeService $service" "$tmp/b.err"
positive "$url" 'qfscale_tick_errors_total{code="SignatureDoesNotMatch",stage="observe"}' ||
  fail "SignatureDoesNotMatch is not counted"
curl -s "$url/readyz" | grep -q "^observe SignatureDoesNotMatch" || fail "/readyz does not show it"
kill -TERM "$b_pid"
wait "$b_pid" || fail "b: exit status $? on SIGTERM"
for f in "$tmp"/b.* "$tmp"/b/*; do
  if grep -q -e "$real_secret" -e wrong-secret-0123456789abcdef "$f"; then fail "a secret key in $f"; fi
done
echo "ok: a wrong secret key shows as SignatureDoesNotMatch, the key nowhere"

# 4. The state directory is replaced by a file: saves fail, /readyz is 503 with the cause.
mv "$tmp/a" "$tmp/a.moved"
touch "$tmp/a"
wait_until 30 "the failed save on stderr" grep -q "tick error: save io: saving the controller state to $tmp/a/state.json failed" "$tmp/a.err"
curl -s -w '%{http_code}\n' "$a_url/readyz" >"$tmp/readyz.txt"
[ "$(tail -n1 "$tmp/readyz.txt")" = 503 ] || fail "/readyz is not 503 after a failed save"
grep -q "^the last tick could not save the controller state" "$tmp/readyz.txt" || fail "/readyz: $(cat "$tmp/readyz.txt")"
grep -q "^save io: saving the controller state to $tmp/a/state.json failed" "$tmp/readyz.txt" ||
  fail "/readyz does not give the cause: $(cat "$tmp/readyz.txt")"
positive "$a_url" 'qfscale_tick_errors_total{code="io",stage="save"}' || fail "the failed save is not counted"
rm "$tmp/a"
mv "$tmp/a.moved" "$tmp/a"
wait_until 30 "/readyz 200 once a save succeeds" ready_a
echo "ok: a failed state save fails readiness with its cause until a save succeeds"

# 5. SIGHUP: a new baseUrl is not applied, and the log says so.
write_config "$tmp/a.yaml" "$tmp/a" "http://127.0.0.1:9"
kill -HUP "$a_pid"
wait_until 20 "the reload" grep -q "reloaded $tmp/a.yaml" "$tmp/a.err"
grep -q "qianfan.baseUrl changed: takes effect on restart" "$tmp/a.err" ||
  fail "no restart-only notice for qianfan.baseUrl"
[ "$(grep -c "changed: takes effect on restart" "$tmp/a.err")" -eq 1 ] || fail "notices for unchanged keys"
echo "ok: SIGHUP says which changes wait for a restart"

# 6. SIGTERM while DescribeService is held for 30 s: acknowledged and done within 3 s.
fake_describes() {
  curl -sf "$fake_url/metrics" | awk '$1 ~ /^qfscale_fake_api_requests_total\{action="DescribeService"/ { n += $2 } END { print n + 0 }'
}
faults POST '{"DescribeService":{"latency":"30s"}}'
before=$(fake_describes)
in_flight() { [ "$(fake_describes)" -gt "$before" ]; }
wait_until 20 "a DescribeService held by the fake" in_flight
started=$(date +%s%N)
kill -TERM "$a_pid"
wait "$a_pid" || fail "exit status $? on SIGTERM during a tick"
took_ms=$((($(date +%s%N) - started) / 1000000))
[ "$took_ms" -lt 3000 ] || fail "SIGTERM during a slow tick took $took_ms ms"
grep -q "stopping on SIGTERM" "$tmp/a.err" || fail "SIGTERM not acknowledged"
grep -q "cancelled, qfscale is stopping" "$tmp/a.err" || fail "the cancelled calls are not reported"
grep -q "\"$service\"" "$tmp/a/state.json" || fail "state not saved"
faults DELETE
echo "ok: SIGTERM during a slow tick exits in $took_ms ms with the state saved"
