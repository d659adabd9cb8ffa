#!/usr/bin/env bash
# Issue 14, "a secret-leak test that plants a secret and greps every output path, error paths
# included". Plants a random AK/SK in a credentials file, a second (wrong) SK, and a password in
# the Prometheus URL; drives every output an operator or a log collector sees: config check (valid,
# and with the config, a policy, a trace, a scenario, a state file or eval steps pointing at the
# credentials file), config check --show, a controller run against the fake and a basic-auth
# Prometheus (stdout, stderr, audit log, state, /metrics, /healthz, /readyz, /api/v1/decisions),
# SIGHUP with a config whose policy is the credentials file, a run with the wrong secret, and the
# API commands with bad endpoints. Then greps everything captured for the planted values; a hit
# prints only the file name and line number, never the secret. Last, the controller must be
# non-dumpable (no core dump holds the key): a process that dropped dumpability has its
# /proc/<pid> files owned by root even when it runs as another user.
# Usage: secret_leak_test.sh path/to/qfscale
set -euo pipefail
qfscale=$(realpath "$1")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# No log tails on failure: the captured files are what may hold the secret.
fail_logs=()

random_hex() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
ak=$(random_hex)
sk=$(random_hex)
wrong_sk=$(random_hex)
password="pw$(random_hex)"
out="$tmp/out" # every captured output goes here, and only here
mkdir -p "$out" "$tmp/secrets"
cd "$tmp"
printf 'QIANFAN_ACCESS_KEY=%s\nQIANFAN_SECRET_KEY=%s\n' "$ak" "$sk" >secrets/ak-sk
printf 'QIANFAN_ACCESS_KEY=%s\nQIANFAN_SECRET_KEY=%s\n' "$ak" "$wrong_sk" >secrets/wrong
chmod 600 secrets/ak-sk secrets/wrong
cp secrets/ak-sk secrets/ak-sk.yaml
chmod 600 secrets/ak-sk.yaml

# The fake with the planted keys (given in the environment, so it prints none).
QIANFAN_ACCESS_KEY=$ak QIANFAN_SECRET_KEY=$sk \
  "$qfscale" fake-qianfan --listen 127.0.0.1:0 >"$out/fake.out" 2>"$out/fake.err" &
pids+=($!)
wait_until 30 "the fake's address" grep -q "^listening on" "$out/fake.out"
fake_url=$(sed -n 's/^listening on //p' "$out/fake.out" | head -n1)
service=svco-chatsmall001
instance=unit-gpua0001

# A Prometheus stand-in that answers only with the right basic-auth header, and counts.
want_auth="Basic $(printf 'reader:%s' "$password" | base64 -w0)"
cat >prometheus.js <<'JS'
const http = require("http");
const counts = { authorized: 0, refused: 0 };
const server = http.createServer((req, res) => {
  if (req.url === "/counts") return res.end(JSON.stringify(counts));
  if (req.headers.authorization !== process.env.WANT_AUTH) {
    counts.refused++;
    res.statusCode = 401;
    return res.end("unauthorized");
  }
  counts.authorized++;
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({ status: "success", data: { resultType: "vector", result: [
    { metric: { service: process.env.SERVICE }, value: [Date.now() / 1000, "3"] }] } }));
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
JS
WANT_AUTH=$want_auth SERVICE=$service node prometheus.js >"$tmp/prometheus.port" 2>"$out/prometheus.err" &
pids+=($!)
wait_until 30 "the Prometheus stand-in" test -s "$tmp/prometheus.port"
prom_url="http://127.0.0.1:$(cat "$tmp/prometheus.port")"

# write_config FILE CREDENTIALS POLICY [LOOP]: a controller config against the fake.
write_config() {
  cat >"$1" <<YAML
apiVersion: qfscale/v1
kind: ControllerConfig
qianfan: {baseUrl: "$fake_url", credentialsFile: $2, timeout: 2s, maxAttempts: 1}
metrics: {prometheus: {url: "http://reader:$password@${prom_url#http://}", query: q}}
instances: [{id: $instance}]
services: [{id: $service, instances: [$instance], policy: $3}]
loop: {interval: 1s, listen: "127.0.0.1:0", ${4:-stateFile: state.json, auditLog: audit.jsonl}}
YAML
}
# capture NAME COMMAND...: runs COMMAND with stdout and stderr in $out; any exit status is fine
# (error paths are the point), but not hanging: each gets 60 s.
capture() {
  local name=$1
  shift
  timeout 60 "$@" >"$out/$name.out" 2>"$out/$name.err" || true
}

# 1. Config checks, valid and with paths at the credentials file.
write_config good.yaml secrets/ak-sk balanced
capture check-good "$qfscale" config check good.yaml
grep -q "ok" "$out/check-good.out" || fail "the valid config did not check ok"
capture check-show "$qfscale" config check good.yaml --show
grep -q "url: \"http://reader:\*\*\*@" "$out/check-show.out" || fail "--show does not mask the password"
write_config policy-at-secret.yaml secrets/ak-sk secrets/ak-sk
capture check-policy "$qfscale" config check policy-at-secret.yaml
grep -q "ak-sk:1:1: <hidden: looks like a secret>" "$out/check-policy.out" "$out/check-policy.err" ||
  fail "config check did not report the policy file"
write_config policy-yaml-at-secret.yaml secrets/ak-sk secrets/ak-sk.yaml
capture check-policy-yaml "$qfscale" config check policy-yaml-at-secret.yaml
capture check-config-is-secret "$qfscale" config check secrets/ak-sk
capture policy-check "$qfscale" policy check secrets/ak-sk
capture policy-eval "$qfscale" policy eval --policy "$root/policies/balanced.yaml" --replica-qps 1 --steps secrets/ak-sk
capture simulate "$qfscale" simulate --trace secrets/ak-sk --policy balanced --replica-qps 1 --type GPU-I-2
capture fake-scenario "$qfscale" fake-qianfan --listen 127.0.0.1:0 --scenario secrets/ak-sk
write_config state-at-secret.yaml secrets/ak-sk balanced "stateFile: secrets/ak-sk"
capture run-state "$qfscale" run --config state-at-secret.yaml --ticks 1
cat >trace-at-secret.yaml <<YAML
apiVersion: qfscale/v1
kind: ControllerConfig
qianfan: {baseUrl: "$fake_url", credentialsFile: secrets/ak-sk}
metrics: {trace: {file: secrets/ak-sk}}
instances: [{id: $instance}]
services: [{id: $service, instances: [$instance]}]
loop: {listen: "127.0.0.1:0"}
YAML
capture run-trace "$qfscale" run --config trace-at-secret.yaml --ticks 1
echo "ok: config, policy, trace, steps, scenario and state paths at the credentials file ran"

# 2. The controller against the fake and the basic-auth Prometheus; then SIGHUP with the policy
# at the credentials file; then SIGTERM.
"$qfscale" run --config good.yaml >"$out/run.out" 2>"$out/run.err" &
run_pid=$!
pids+=("$run_pid")
wait_until 30 "the controller's address" grep -q "^listening on" "$out/run.out"
url=$(sed -n 's/^listening on //p' "$out/run.out" | head -n1)
ready() { curl -sf "$url/readyz" >/dev/null; }
wait_until 30 "/readyz after the first tick" ready
authorized() { curl -sf "$prom_url/counts" | grep -q '"authorized":[1-9]'; }
wait_until 30 "a Prometheus query with basic auth" authorized
curl -sf "$prom_url/counts" | grep -q '"refused":0' || fail "a Prometheus query came without the right basic auth"
echo "ok: the Prometheus URL's user info arrives as basic auth"
scrape() {
  local path
  for path in /metrics /healthz /readyz /api/v1/decisions "/api/v1/decisions/$service"; do
    curl -s "$url$path" >"$out/http-$1${path//\//_}.body" || true
  done
}
scrape before
cp good.yaml good.yaml.bak
write_config good.yaml secrets/ak-sk secrets/ak-sk
kill -HUP "$run_pid"
wait_until 20 "the failed reload in the log" grep -q "reload of .* failed" "$out/run.err"
wait_until 20 "the failed reload in the audit log" grep -q '"success":false' audit.jsonl
scrape after
kill -TERM "$run_pid"
wait "$run_pid" || fail "the controller exited $? on SIGTERM"
cp audit.jsonl state.json "$out/"
echo "ok: run, scrape, SIGHUP with the policy at the credentials file, SIGTERM"

# 3. The wrong secret: the fake refuses every call.
write_config wrong.yaml secrets/wrong balanced "stateFile: wrong-state.json, auditLog: wrong-audit.jsonl"
capture run-wrong "$qfscale" run --config wrong.yaml --ticks 2
cp wrong-audit.jsonl "$out/" 2>/dev/null || true
grep -q "SignatureDoesNotMatch" "$out/fake.err" "$out/run-wrong.err" "$out/wrong-audit.jsonl" 2>/dev/null ||
  grep -q "observe_failed" "$out/run-wrong.out" || fail "the wrong-secret run was not refused"

# 4. API commands: a password in the endpoint, a closed port, the wrong secret, the right one.
closed=$(free_port)
export QIANFAN_ACCESS_KEY=$ak QIANFAN_SECRET_KEY=$sk
capture describe-userinfo "$qfscale" describe "$service" --endpoint "http://user:$password@127.0.0.1:$closed"
grep -q "user:\*\*\*@" "$out/describe-userinfo.err" || fail "describe did not refuse the user info"
capture describe-closed "$qfscale" describe "$service" --endpoint "http://127.0.0.1:$closed"
capture describe-ok "$qfscale" describe "$service" --endpoint "$fake_url" -o json
grep -q "$service" "$out/describe-ok.out" || fail "describe with the right keys failed"
QIANFAN_SECRET_KEY=$wrong_sk capture scale-wrong "$qfscale" scale "$service" --instance "$instance" \
  --replicas 2 --endpoint "$fake_url"
capture compute-unit-closed "$qfscale" compute-unit "$instance" --endpoint "http://127.0.0.1:$closed"
unset QIANFAN_ACCESS_KEY QIANFAN_SECRET_KEY
echo "ok: API commands with bad endpoints and the wrong secret ran"

# 5. Grep every captured output for every planted value, and for its first and last 12
# characters (a message that quotes a cut prefix leaks too). A hit names file and line only.
pieces=()
for planted in "$sk" "$wrong_sk" "$ak" "${password#pw}"; do
  pieces+=("${planted:0:12}" "${planted: -12}")
done
leaks=0
for f in "$out"/*; do
  for planted in "${pieces[@]}"; do
    while IFS= read -r line; do
      echo "LEAK: ${f#"$tmp"/} line $line holds a planted secret" >&2
      leaks=$((leaks + 1))
    done < <(grep -n -F -e "$planted" "$f" | cut -d: -f1)
  done
done
[ "$leaks" -eq 0 ] || fail "$leaks planted secret(s) found in the outputs above"
echo "ok: $(find "$out" -type f | wc -l) captured outputs hold none of the planted keys or password"

# 6. Non-dumpable: run the demo as another user; /proc/<pid> then belongs to root.
if [ "$(id -u)" -eq 0 ]; then
  runner=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  uid=65534
else
  runner=()
  uid=$(id -u)
fi
"${runner[@]}" "$qfscale" run -q --listen 127.0.0.1:0 --for 60s >"$tmp/demo.out" 2>"$tmp/demo.err" &
demo_pid=$!
pids+=("$demo_pid")
wait_until 30 "the demo's address" grep -q "^listening on" "$tmp/demo.out"
real_uid=$(awk '/^Uid:/ { print $2 }' "/proc/$demo_pid/status")
[ "$real_uid" = "$uid" ] || fail "the demo runs as uid $real_uid, not $uid"
owner=$(stat -c %u "/proc/$demo_pid/status")
[ "$owner" = 0 ] || fail "the controller is dumpable: /proc/<pid> belongs to uid $owner, not root"
kill "$demo_pid"
echo "ok: the controller is not dumpable (no core dump or ptrace holds the key)"
