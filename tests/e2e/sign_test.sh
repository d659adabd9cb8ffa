#!/usr/bin/env bash
# `qfscale sign` reproduces the docs/QIANFAN-API.md §3 vectors end to end (URL splitting, body
# length, header handling) and exits 2 on bad input. Usage: sign_test.sh path/to/qfscale
set -euo pipefail
qfscale=$1
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
printf '%s' '{"serviceId":"svco-abc123xyz"}' >"$tmp/body.json"  # 30 bytes, no newline
secret=sk-test-fedcba9876543210
export QIANFAN_ACCESS_KEY=ak-test-0123456789abcdef QIANFAN_SECRET_KEY=$secret
status=0

expect_auth() {  # name, want Authorization suffix, qfscale sign args...
  local name=$1 want=$2
  shift 2
  local got
  got=$("$qfscale" sign "$@" | sed -n 's/^Authorization: //p')
  if [[ $got != *"$want" ]]; then
    echo "FAIL $name: got '$got', want suffix '$want'"
    status=1
  fi
}
expect_exit2() {  # name, qfscale sign args...
  local name=$1
  shift
  local rc=0
  "$qfscale" sign "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  if [[ $rc -ne 2 || ! -s $tmp/err ]]; then
    echo "FAIL $name: exit $rc, stderr '$(cat "$tmp/err")'"
    status=1
  fi
  if grep -qF "$secret" "$tmp/out" "$tmp/err"; then
    echo "FAIL $name: the secret key was printed"
    status=1
  fi
}

expect_auth qianfan-describe-service \
  /1800/content-length\;content-type\;host\;x-bce-date/bff14b27d521b24d248f99246b2a479be58472c1a7a80fdcd362646a6f9c1187 \
  --method POST --url 'https://qianfan.baidubce.com/v2/service?Action=DescribeService' \
  --header 'Content-Type: application/json' --body-file "$tmp/body.json" \
  --timestamp 2025-01-02T03:04:05Z
# Explicit default port dropped (https:443), Unix-seconds timestamp, lower-case method.
expect_auth qianfan-describe-service-default-port \
  /bff14b27d521b24d248f99246b2a479be58472c1a7a80fdcd362646a6f9c1187 \
  --method post --url 'https://qianfan.baidubce.com:443/v2/service?Action=DescribeService#frag' \
  --header 'content-type:application/json' --body-file "$tmp/body.json" --timestamp 1735787045
expect_auth e2e-httpclient-getSignature-describe-loopback \
  /e38f2dace258139bf6408516778935f72d03d345943444a00a8b4908511bc8c2 \
  --url 'http://127.0.0.1:8765/v2/service?Action=DescribeService' \
  --header 'Content-Type: application/json' --body-file "$tmp/body.json" \
  --timestamp 2025-01-02T03:04:05Z
# Percent-encoded query values are decoded, then re-encoded by the signer: same signature.
expect_auth encoded-query-value \
  /bff14b27d521b24d248f99246b2a479be58472c1a7a80fdcd362646a6f9c1187 \
  --url 'https://qianfan.baidubce.com/v2/service?Action=%44escribeService' \
  --header 'Content-Type: application/json' --body-file "$tmp/body.json" \
  --timestamp 2025-01-02T03:04:05Z

out=$("$qfscale" sign --url 'http://127.0.0.1:8765/v2/service?Action=DescribeService' \
  --body-file "$tmp/body.json" --timestamp 2025-01-02T03:04:05Z)
for line in 'x-bce-date: 2025-01-02T03:04:05Z' 'Host: 127.0.0.1:8765' 'Content-Length: 30'; do
  grep -qxF "$line" <<<"$out" || { echo "FAIL header lines: missing '$line' in: $out"; status=1; }
done

expect_exit2 no-url
expect_exit2 bad-scheme --url 'ftp://h/'
expect_exit2 bad-port --url 'https://h:99999/'
expect_exit2 bad-percent --url 'https://h/?a=%zz'
expect_exit2 host-not-dns --url 'https://a%0d%0aX-Injected:1/'   # http::parse_url: not a DNS name
expect_exit2 bad-timestamp --url 'https://h/' --timestamp 2025-01-02
expect_exit2 bad-expiration --url 'https://h/' --expiration 0
expect_exit2 bad-header --url 'https://h/' --header novalue
expect_exit2 reserved-header --url 'https://h/' --header 'Authorization: x'
expect_exit2 missing-body --url 'https://h/' --body-file "$tmp/missing"
QIANFAN_SECRET_KEY= expect_exit2 no-secret --url 'https://h/'
exit $status
