#!/usr/bin/env bash
# coordination.etcd over TLS with client certificates: a real etcd started with
# --client-cert-auth (certificates generated here with openssl, valid one day, nothing
# committed). A controller with caFile, certFile and keyFile becomes the leader; one without a
# client certificate is refused by etcd, stays a follower and says why on /api/v1/status.
# Usage: etcd_tls_test.sh path/to/qfscale
set -euo pipefail
qfscale=$(realpath "$1")
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_logs=(good.err bad.err status.json)
command -v etcd >/dev/null || fail "etcd is not installed (Debian package etcd-server; .ci/setup)"

cd "$tmp"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 \
  -subj /CN=qfscale-test-ca 2>/dev/null
for who in server client; do
  openssl req -newkey rsa:2048 -nodes -keyout "$who.key" -out "$who.csr" -subj "/CN=$who" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$who.ext"
  openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$who.pem" \
    -days 1 -extfile "$who.ext" 2>/dev/null
done

client_port=$(free_port)
peer_port=$(free_port)
endpoint="https://127.0.0.1:$client_port"
etcd --name e1 --data-dir "$tmp/etcd" \
  --listen-client-urls "$endpoint" --advertise-client-urls "$endpoint" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "e1=http://127.0.0.1:$peer_port" \
  --cert-file server.pem --key-file server.key --trusted-ca-file ca.pem --client-cert-auth \
  >etcd.out 2>etcd.err &
pids+=("$!")
healthy() {
  ETCDCTL_API=3 etcdctl --endpoints "$endpoint" --cacert ca.pem --cert client.pem \
    --key client.key endpoint health >/dev/null 2>&1
}
wait_until 30 "etcd with client-certificate auth" healthy

start_fake
service=svco-chatsmall001
instance=unit-gpua0001
for name in good bad; do
  tls="caFile: ca.pem, certFile: client.pem, keyFile: client.key"
  [ "$name" = bad ] && tls="caFile: ca.pem"
  cat >"$name.yaml" <<YAML
apiVersion: qfscale/v1
kind: ControllerConfig
qianfan: {baseUrl: "$fake_url"}
metrics: {synthetic: {seed: 3, baseQps: 5}}
instances: [{id: $instance}]
services: [{id: $service, instances: [$instance]}]
loop: {interval: 1s, listen: "127.0.0.1:0", dryRun: true}
coordination: {etcd: {endpoints: ["$endpoint"], prefix: /tls, leaseTtl: 3s, name: $name, $tls}}
YAML
done

# Without a client certificate etcd refuses the connection: the controller cannot even read
# the saved states at start, and says so.
"$qfscale" run --config bad.yaml -q >bad.out 2>bad.err && fail "started without a client certificate"
grep -q "etcd endpoint https://127.0.0.1:$client_port: .*bad certificate" bad.err ||
  fail "stderr does not name the endpoint and the refused certificate"
echo "ok: without a client certificate the controller does not start: $(tail -n1 bad.err | cut -c1-160)"

"$qfscale" run --config good.yaml -q >good.out 2>good.err &
pids+=("$!")
wait_until 20 "the controller's address" grep -qs "^listening on" good.out
url=$(sed -n 's/^listening on //p' good.out | head -n1)
leads() {
  curl -s "$url/api/v1/status" >status.json
  grep -q '"role":"leader"' status.json
}
wait_until 15 "the controller with a client certificate leads" leads
echo "ok: with caFile, certFile and keyFile the controller leads over TLS: $(cat status.json)"
