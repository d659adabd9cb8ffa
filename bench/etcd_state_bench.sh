#!/usr/bin/env bash
# Runs bench/etcd_state_bench.cc (etcd writes and bytes per tick at 10,000 services) against a
# single etcd member (Debian etcd-server) on a free loopback port, data in a temp dir.
# Usage: bench/etcd_state_bench.sh BUILD_DIR   (e.g. build/ci or build/release)
set -euo pipefail
bench=$(realpath "$1/bench/qfscale_bench")
# shellcheck source=../tests/e2e/lib.sh
. "$(dirname "$0")/../tests/e2e/lib.sh"
# shellcheck source=../tests/e2e/etcd_lib.sh
. "$(dirname "$0")/../tests/e2e/etcd_lib.sh"
fail_logs=(etcd1.err)
etcd_start_cluster 1
QFSCALE_BENCH_ETCD=${etcd_endpoints[0]} "$bench" --benchmark_filter=EtcdState
echo "etcd data dir after the run: $(du -sh "$tmp/etcd1" | cut -f1)"
