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

