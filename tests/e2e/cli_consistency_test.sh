#!/usr/bin/env bash
# One CLI (issue 17, items 4-6): parse errors name the unknown flag or command with a guess and
# exit 2; `help` works; usage lines say `qfscale`; shipped policy names work wherever a policy
# file does and `policy show` prints them; every duration flag takes the same grammar (1m30s);
# every time flag takes RFC 3339 and Unix seconds; `run` exits 2 on a configuration error.
set -euo pipefail
qfscale=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_prefix="cli_consistency_test: FAIL: "

# expect WANT-CODE ARGS...: runs qfscale, stdout to $tmp/out, stderr to $tmp/err, checks the code.
expect() {
  local want=$1 rc=0
  shift
  "$qfscale" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  [ "$rc" -eq "$want" ] || fail "qfscale $*: want exit $want, got $rc: $(cat "$tmp/err")"
}
# first_err_line_is TEXT: stderr's first line, exactly.
first_err_line_is() {
  [ "$(head -n 1 "$tmp/err")" = "$1" ] || fail "want stderr '$1', got '$(cat "$tmp/err")'"
}

printf 't_seconds,qps,current_replicas\n0,10,1\n15,40,1\n30,40,2\n' >"$tmp/steps.csv"
{
  echo "t_seconds,qps"
  for ((t = 0; t < 120; t++)); do echo "$t,10"; done
} >"$tmp/trace.csv"

# --- Parse errors: the command, the unknown word, the closest known one; exit 2.
expect 2 policy eval --polcy balanced --replica-qps 10 --steps "$tmp/steps.csv"
first_err_line_is "qfscale policy eval: unknown flag --polcy; did you mean --policy?"
expect 2 simulate --trace "$tmp/trace.csv" --policy balanced --replica-qps 5 --type GPU-I-2 --tik=15s
first_err_line_is "qfscale simulate: unknown flag --tik; did you mean --tick?"
expect 2 run --frobnicate
first_err_line_is "qfscale run: unknown flag --frobnicate; run 'qfscale run --help' for the flags"
expect 2 simulte
first_err_line_is "qfscale: unknown command 'simulte'; did you mean 'simulate'?"
expect 2 policy chek balanced
first_err_line_is "qfscale policy: unknown command 'chek'; did you mean 'check'?"
expect 2 statuss  # the closest command if one is close, else the list; never an invented one
grep -qE "^qfscale: unknown command 'statuss'(; did you mean '[a-z-]+'\?| \(commands: .*simulate.*\))$" \
  "$tmp/err" || fail "statuss: $(cat "$tmp/err")"
expect 2
grep -q "^qfscale: a command is required (commands: .*policy.*)" "$tmp/err" ||
  fail "no command: $(cat "$tmp/err")"
expect 2 policy eval --replica-qps 10 --steps "$tmp/steps.csv"
first_err_line_is "qfscale policy eval: --policy is required"
echo "ok: parse errors name the command, the unknown flag or command, and the closest one"

# --- help, and usage lines that say qfscale, not the path of the binary.
expect 0 help
grep -q "^Usage: qfscale \[OPTIONS\] SUBCOMMAND" "$tmp/out" || fail "help: $(head -5 "$tmp/out")"
grep -q "^  simulate" "$tmp/out" || fail "help lacks the commands"
expect 0 help policy eval
grep -q "^Usage: qfscale policy eval \[OPTIONS\]" "$tmp/out" || fail "help policy eval: $(cat "$tmp/out")"
grep -q -- "--replica-qps" "$tmp/out" || fail "help policy eval lacks the flags"
expect 2 help nosuch
grep -q "^qfscale: unknown command 'nosuch'" "$tmp/err" || fail "help nosuch: $(cat "$tmp/err")"
for cmd in "" "run" "policy check" "simulate" "loadgen" "describe"; do
  # shellcheck disable=SC2086 # cmd is a list of words
  expect 0 $cmd --help
  grep -q "^Usage: qfscale ${cmd:+$cmd }\[OPTIONS\]" "$tmp/out" ||
    fail "qfscale $cmd --help: $(grep Usage "$tmp/out")"
done
! grep -rq "Usage: /" "$tmp/out" || fail "a usage line shows the binary's path"
echo "ok: help and help COMMAND print the help; usage lines say qfscale"

# --- Shipped policy names: show, check, eval, simulate; an existing file of that name wins.
expect 0 policy show balanced
cmp -s "$tmp/out" "$root/policies/balanced.yaml" || fail "policy show balanced differs from the shipped file"
expect 2 policy show balance
first_err_line_is "qfscale policy show: 'balance' is not a shipped policy; did you mean balanced? Shipped policies: balanced business-hours cost-saver hpa-default kpa-default latency-first scale-to-zero"
expect 0 policy check balanced kpa-default
grep -qx "<shipped>/balanced.yaml: ok (policy balanced)" "$tmp/out" || fail "check balanced: $(cat "$tmp/out")"
grep -qx "<shipped>/kpa-default.yaml: ok (policy kpa-default)" "$tmp/out" || fail "check kpa-default"
expect 2 policy check balancd
grep -q "'balancd' is neither a file nor a shipped policy; did you mean balanced?" "$tmp/err" ||
  fail "check balancd: $(cat "$tmp/err")"
expect 0 policy eval --policy balanced --replica-qps 10 --steps "$tmp/steps.csv"
[ "$(grep -c '"desired_replicas"' "$tmp/out")" -eq 3 ] || fail "eval balanced: $(cat "$tmp/out")"
expect 0 simulate --trace "$tmp/trace.csv" --policy cost-saver --replica-qps 5 --type GPU-I-2
grep -q "cost-saver" "$tmp/out" || fail "simulate cost-saver: $(cat "$tmp/out")"
# A file named like a shipped policy is read as the file (here an invalid one: exit 1).
mkdir "$tmp/cwd"
printf 'apiVersion: qfscale/v1\nkind: ScalingPolicy\nmetadata: {name: mine}\nspec:\n  target: {utilization: 1.5}\n' \
  >"$tmp/cwd/balanced"
(cd "$tmp/cwd" && "$qfscale" policy check balanced >"$tmp/out" 2>&1) && fail "the file balanced was not read"
grep -q "^balanced:5:25: spec.target.utilization" "$tmp/out" || fail "file over name: $(cat "$tmp/out")"
echo "ok: shipped names work in policy show, check, eval and simulate; a file of that name wins"

# --- run: a configuration error exits 2, as the README says.
printf 'qianfan: {}\nservices: []\nbogus: 1\n' >"$tmp/bad.yaml"
expect 2 run --config "$tmp/bad.yaml"
grep -q "qfscale run: invalid config" "$tmp/err" || fail "run bad config: $(cat "$tmp/err")"
echo "ok: run with an invalid config exits 2"

# --- Durations: every duration flag takes 1m30s (and the millisecond ones 1s500ms).
expect 0 simulate --trace "$tmp/trace.csv" --policy balanced --replica-qps 5 --type GPU-I-2 \
  --tick 1m30s --startup-delay 1m30s --metric-span 1m30s
expect 2 simulate --trace "$tmp/trace.csv" --policy balanced --replica-qps 5 --type GPU-I-2 \
  --metric-span 0s
first_err_line_is "qfscale simulate: --metric-span '0s' must be longer than 0s"
# The engine reads burstiness from values averaged over --sample-span, and says so.
expect 0 policy eval --policy balanced --replica-qps 10 --steps "$tmp/steps.csv" --sample-span 1m30s
tail -n 1 "$tmp/out" | grep -q "variance [0-9.]*/s from 90s means" ||
  fail "policy eval --sample-span 1m30s: $(tail -n 1 "$tmp/out")"
expect 2 policy eval --policy balanced --replica-qps 10 --steps "$tmp/steps.csv" --sample-span 0s
first_err_line_is "qfscale policy eval: --sample-span '0s' must be a duration above 0s"
expect 0 run --for 1m30s --ticks 1 -q --listen 127.0.0.1:0
grep -q "stopped after --ticks" "$tmp/err" || fail "run --for 1m30s: $(cat "$tmp/err")"
# loadgen checks its durations before the other options: a bad --concurrency proves they parsed.
expect 2 loadgen --target http://127.0.0.1:1/x --synthetic --duration 1m30s --timeout 1m30s \
  --report-every 1s500ms --max-lag 1m30s --period 1h30m --peak-at 1m30s --burst-duration 1m30s \
  --concurrency 0
! grep -q "duration" "$tmp/err" || fail "loadgen refused a duration: $(cat "$tmp/err")"
grep -q "concurrency" "$tmp/err" || fail "loadgen: $(cat "$tmp/err")"
expect 2 loadgen --target http://127.0.0.1:1/x --synthetic --timeout 1.5s
grep -q "^qfscale loadgen: --timeout: '1.5s' is fractional, must be a duration such as 500ms" "$tmp/err" ||
  fail "loadgen 1.5s: $(cat "$tmp/err")"
(
  unset QIANFAN_ACCESS_KEY QIANFAN_SECRET_KEY
  expect 2 describe svco-x --timeout 1m30s --endpoint http://127.0.0.1:1
  ! grep -q -- "--timeout" "$tmp/err" || fail "describe --timeout 1m30s: $(cat "$tmp/err")"
  grep -q "QIANFAN_ACCESS_KEY" "$tmp/err" || fail "describe: $(cat "$tmp/err")"
)
export QIANFAN_ACCESS_KEY=ak-test-0123456789abcdef QIANFAN_SECRET_KEY=sk-test-fedcba9876543210
expect 0 sign --url https://h/ --timestamp 1735787045 --expiration 1m30s
grep -q "^Authorization: bce-auth-v1/ak-test-0123456789abcdef/2025-01-02T03:04:05Z/90/" "$tmp/out" ||
  fail "sign --expiration 1m30s: $(cat "$tmp/out")"
echo "ok: every duration flag takes 1m30s"

# --- Times: RFC 3339 (Z or an offset) and Unix seconds, for every time flag.
expect 0 policy eval --policy business-hours --replica-qps 10 --steps "$tmp/steps.csv" --start 1735787045
cp "$tmp/out" "$tmp/eval-unix"
expect 0 policy eval --policy business-hours --replica-qps 10 --steps "$tmp/steps.csv" \
  --start 2025-01-02T11:04:05+08:00
cmp -s "$tmp/out" "$tmp/eval-unix" || fail "eval --start: RFC 3339 and Unix seconds differ"
expect 0 policy eval --policy business-hours --replica-qps 10 --steps "$tmp/steps.csv" \
  --start 2025-01-02T03:04:05Z
cmp -s "$tmp/out" "$tmp/eval-unix" || fail "eval --start: Z and offset differ"
expect 2 policy eval --policy balanced --replica-qps 10 --steps "$tmp/steps.csv" --start 2025-01-02
first_err_line_is "qfscale policy eval: --start '2025-01-02' must be RFC 3339 like 2025-01-02T03:04:05Z (or with an offset, 2025-01-02T11:04:05+08:00) or Unix seconds like 1735787045"
expect 0 simulate --trace "$tmp/trace.csv" --policy balanced --replica-qps 5 --type GPU-I-2 \
  --start 1714521600 --out "$tmp/sim"
grep -q '"start_unix_s": 1714521600' "$tmp/sim/summary.json" || fail "simulate --start Unix seconds"
expect 0 sign --url https://h/ --timestamp 2025-01-02T11:04:05+08:00
grep -q "^x-bce-date: 2025-01-02T03:04:05Z" "$tmp/out" || fail "sign --timestamp offset: $(cat "$tmp/out")"
for cmd in "policy eval" "simulate" "sign"; do
  # shellcheck disable=SC2086 # cmd is a list of words
  expect 0 $cmd --help
  grep -q "Unix seconds" "$tmp/out" || fail "$cmd --help does not document the time format"
done
echo "ok: every time flag takes RFC 3339 and Unix seconds"
