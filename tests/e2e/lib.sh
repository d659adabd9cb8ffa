# shellcheck shell=bash
# Shared preamble of the e2e scripts; source it with `. "$(dirname "$0")/lib.sh"` right after
# `set -euo pipefail`. CTest runs each script as `bash /abs/path/tests/e2e/NAME_test.sh QFSCALE`,
# so $0 names the script's own directory in the build tree and in .ci/run alike.
#
# It gives every script:
#   root        the repository root (absolute)
#   tmp         a fresh temporary directory, removed on exit
#   pids        background processes to stop on exit: `cmd & pids+=($!)`
#   fail MSG    prints "${fail_prefix}MSG" and the tail of each log in fail_logs to stderr,
#               then exits 1
#   wait_until SECONDS WHAT COMMAND...   polls COMMAND until it succeeds, or fails on the deadline
#   free_port   a TCP port that was free a moment ago (for servers that cannot report port 0)
#   start_fake ARGS...   starts `qfscale fake-qianfan` and takes its address and credentials

# shellcheck disable=SC2034 # root, fake_url: for the sourcing script
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# What `fail` prints: the message after fail_prefix, then the last fail_tail lines of each file
# matching a pattern in fail_logs (globs relative to $tmp; missing files are skipped).
fail_prefix="FAIL: "
fail_logs=()
fail_tail=25
fail() {
  local pattern f
  {
    echo "${fail_prefix}$*"
    for pattern in "${fail_logs[@]}"; do
      for f in "$tmp"/$pattern; do
        if [ -f "$f" ]; then
          echo "--- ${f#"$tmp"/} (tail)"
          tail -n "$fail_tail" "$f"
        fi
      done
    done
  } >&2
  exit 1
}

# Polls rather than sleeping a fixed time: the wait ends as soon as COMMAND succeeds.
wait_until() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out waiting for: $what"
    sleep 0.2
  done
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# start_fake ARGS...: `$qfscale fake-qianfan --listen 127.0.0.1:0 ARGS...` in the background,
# stdout through the FIFO $tmp/fake.fifo (kept open on fd 3), stderr to $tmp/fake.err. Waits
# (bounded) for its first line, "listening on URL", sets fake_url, and evals the three export
# lines that follow, which carry the fake's throwaway credentials.
# qfscale is set by the sourcing script; ARGS are optional (SC2120).
# shellcheck disable=SC2154,SC2120
start_fake() {
  mkfifo "$tmp/fake.fifo"
  "$qfscale" fake-qianfan --listen 127.0.0.1:0 "$@" >"$tmp/fake.fifo" 2>"$tmp/fake.err" &
  pids+=("$!")
  exec 3<"$tmp/fake.fifo"
  local first line
  IFS= read -r -t 30 first <&3 || fail "the fake did not start"
  # shellcheck disable=SC2034
  fake_url=${first#listening on }
  for _ in 1 2 3; do
    IFS= read -r -t 10 line <&3 || fail "the fake printed no credentials"
    case $line in export\ *) eval "$line" ;; esac
  done
  [ -n "${QIANFAN_ACCESS_KEY:-}" ] || fail "no credentials from the fake"
}
