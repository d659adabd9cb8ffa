#!/usr/bin/env bash
# Grows the committed seed corpora: runs each libFuzzer target for SECONDS from its corpus in
# tests/fuzz/corpus/<parser>/, then merges into that directory only the inputs that reach new
# coverage (-merge=1 keeps the corpus minimal: an input that adds nothing is not copied). Commit
# what it adds. CI runs every target from these seeds (.ci/test), so a grown corpus makes each
# CI run start deeper. Needs the asan preset (it builds the fuzz targets).
# Usage: tests/fuzz/grow_corpus.sh [SECONDS per target, default 60] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
shift || true
bin=build/asan/tests/fuzz
[ -d "$bin" ] || { echo "grow_corpus: build the asan preset first (cmake --build --preset asan)"; exit 2; }
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for t in "$bin"/*_fuzz; do targets+=("$(basename "$t" _fuzz)"); done
fi
for name in "${targets[@]}"; do
  seeds="tests/fuzz/corpus/$name"
  mkdir -p "$seeds"
  found=$(mktemp -d)
  before=$(find "$seeds" -type f | wc -l)
  log=$(mktemp)
  if ! "$bin/${name}_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=0 \
      -artifact_prefix="$found/" "$found" "$seeds" >"$log" 2>&1; then
    tail -n 30 "$log"
    echo "grow_corpus: $name failed; the input is in $found (crash-*, timeout-* or oom-*)"
    exit 1
  fi
  rm -f "$log"
  "$bin/${name}_fuzz" -merge=1 "$seeds" "$found" >/dev/null 2>&1
  rm -rf "$found"
  echo "$name: $before -> $(find "$seeds" -type f | wc -l) inputs"
done
