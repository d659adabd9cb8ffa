#!/usr/bin/env bash
# The example configs in examples/ and the README's quick path:
#  1. `qfscale config check` passes on every example (in a temp copy whose state and log
#     directories exist, as config check requires);
#  2. `qfscale fake-qianfan` prints its instances and services after the address and the export
#     lines;
#  3. the README's "Try it against the fake": the fake's export lines in the environment,
#     `mkdir -p run`, `qfscale run --config fake.yaml` unedited, and it scales.
set -euo pipefail
qfscale=$1
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_prefix="examples_test: "
fail_logs=(fake.err run.out run.err)

# 1. Every example checks clean, each in its own temp copy.
examples=("$root"/examples/*.yaml)
[ "${#examples[@]}" -ge 3 ] || fail "expected at least 3 examples, found ${#examples[@]}"
for example in "${examples[@]}"; do
  name=${example##*/}
  dir=$tmp/check/${name%.yaml}
  mkdir -p "$dir"
  sed "s#/var/lib/qfscale/#$dir/var/lib/#; s#/var/log/qfscale/#$dir/var/log/#" "$example" >"$dir/$name"
  for key in stateFile auditLog; do
    path=$(sed -n "s/^ *$key: *\([^ #]*\).*/\1/p" "$dir/$name")
    [ -z "$path" ] || case $path in /*) mkdir -p "$(dirname "$path")" ;; *) mkdir -p "$dir/$(dirname "$path")" ;; esac
  done
  "$qfscale" config check "$dir/$name" >"$dir/out" 2>"$dir/err" || fail "$name: $(cat "$dir/err")"
  grep -q "$name: ok" "$dir/out" || fail "$name: no ok line: $(cat "$dir/out")"
done
grep -q "metrics from synthetic" "$tmp/check/fake/out" || fail "fake.yaml: $(cat "$tmp/check/fake/out")"
grep -q "metrics from qianfan" "$tmp/check/qianfan-metrics/out" ||
  fail "qianfan-metrics.yaml: $(cat "$tmp/check/qianfan-metrics/out")"
grep -q "metrics from prometheus" "$tmp/check/qfscale/out" || fail "qfscale.yaml: $(cat "$tmp/check/qfscale/out")"
echo "ok: config check passes on ${#examples[@]} examples"

# 2. The fake's start lines: address, exports (read by start_fake), then its world.
start_fake
inventory=()
while [ "${#inventory[@]}" -lt 8 ] && IFS= read -r -t 10 line <&3; do inventory+=("$line"); done
printf '%s\n' "${inventory[@]}" >"$tmp/inventory"
expected="instance unit-cpua0003 type cpu-1 capacity 8 used 4
instance unit-gpua0001 type gpu-1 capacity 16 used 12
instance unit-gpub0002 type gpu-1 capacity 16 used 12
service svco-chatlarge001 type GPU-I-4 replicas unit-gpua0001=2
service svco-chatsmall001 type GPU-I-2 replicas unit-gpua0001=2 unit-gpub0002=1
service svco-codegen00001 type GPU-I-2 replicas unit-gpub0002=2
service svco-embedcpu0001 type CPU-I-2 replicas unit-cpua0003=2
service svco-imagegen0001 type GPU-I-4 replicas unit-gpub0002=1"
[ "$(cat "$tmp/inventory")" = "$expected" ] ||
  fail "the fake's start lines: $(diff <(echo "$expected") "$tmp/inventory")"
echo "ok: the fake prints its instances and services at start"

# 3. The quick path, on the unedited example: the URL and keys come from the environment.
[ -n "${QIANFAN_CONSOLE_API_BASE_URL:-}" ] || fail "the fake printed no QIANFAN_CONSOLE_API_BASE_URL"
mkdir -p "$tmp/quick"
cp "$root/examples/fake.yaml" "$tmp/quick/fake.yaml"
cmp -s "$root/examples/fake.yaml" "$tmp/quick/fake.yaml" || fail "copy differs"
(cd "$tmp/quick" && mkdir -p run)
# --listen: the example's fixed port may be taken on a CI host.
"$qfscale" run --config "$tmp/quick/fake.yaml" --listen 127.0.0.1:0 --ticks 3 \
  >"$tmp/run.out" 2>"$tmp/run.err" &
run_pid=$!
pids+=("$run_pid")
status=0
wait "$run_pid" || status=$?
[ "$status" -eq 0 ] || fail "qfscale run exited $status"
grep -q "tick error" "$tmp/run.err" && fail "tick errors: $(grep "tick error" "$tmp/run.err")"
grep -qE "svco-chatsmall001 +qps .* replicas +3 -> +([4-9]|[1-9][0-9]) .* applied" "$tmp/run.out" ||
  fail "chat-small did not scale up: $(grep svco-chatsmall001 "$tmp/run.out")"
# The fake saw it: more chat-small replicas than at start.
replicas=$(curl -sf "$fake_url/metrics" | awk '$1 == "qfscale_fake_replicas{service=\"svco-chatsmall001\"}" { print $2 }')
[ "${replicas:-0}" -gt 3 ] || fail "the fake has $replicas chat-small replicas, not more than 3"
[ -s "$tmp/quick/run/audit.jsonl" ] || fail "no audit log in run/"
[ -s "$tmp/quick/run/state.json" ] || fail "no state file in run/"
echo "ok: the quick path scales chat-small from 3 to $replicas replicas against the fake"
