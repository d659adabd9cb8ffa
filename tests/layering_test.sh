#!/usr/bin/env bash
# Fails on any include edge that docs/CONVENTIONS.md §5.2 does not allow:
# - a public edge `#include "qfscale/<module>/…"` outside the module's row of the table;
# - a private edge `#include "<module>/…"` (a header under src/<module>/) from another module's
#   src/, or from any public header, except util's src-only adapters over a third-party library
#   (listed below with the modules whose row allows that library);
# - a heavy third-party include in a public header.
# `layering_test.sh --self-test` plants bad edges in a scratch tree and checks that each fails.
set -euo pipefail

declare -A allowed=(
  [util]="util"
  [model]="util model"
  [policy]="util model policy"
  [capacity]="util model policy capacity"
  [bce]="util bce"
  [http]="util http"
  [qianfan]="util model bce http qianfan"
  [trace]="util trace"
  [demand]="util model bce http qianfan trace demand"
  [loadgen]="util http trace loadgen"
  [telemetry]="util model http telemetry"
  [sim]="util model policy capacity trace sim"
  [fake]="util model bce http qianfan fake"
  [coordination]="util http coordination"
  [controller]="util model bce http qianfan trace demand policy capacity telemetry coordination controller"
)

# util's private headers that wrap a library public headers may not include, and who may use them.
declare -A shared_private=(
  [util/yaml_reader.h]="policy fake controller"
  [util/simdjson_names.h]="qianfan demand fake coordination controller"
)

# Prints every violation under the tree at $1; returns 1 if there was one.
check_tree() {
  local root=$1 status=0 module dir line file used header owner
  for module in "${!allowed[@]}"; do
    for dir in "$root/include/qfscale/$module" "$root/src/$module"; do
      [ -d "$dir" ] || continue
      while IFS= read -r line; do
        file=${line%%:*}
        used=$(sed -E 's/.*#include "qfscale\/([a-z_]+)\/.*/\1/' <<<"$line")
        if [[ " ${allowed[$module]} " != *" $used "* ]]; then
          echo "layering: ${file#"$root"/} includes qfscale/$used (module '$module' may use: ${allowed[$module]})"
          status=1
        fi
      done < <(grep -rHE '#include "qfscale/[a-z_]+/' "$dir" || true)
    done
  done

  # fake may use qianfan only in the in-memory QianfanApi: the HTTP fake stays independent of
  # the client it is there to check.
  if { grep -rlE '#include "qfscale/qianfan/' "$root/include/qfscale/fake" "$root/src/fake" 2>/dev/null || true; } |
      grep -vE '/memory_qianfan_api\.(h|cc)$'; then
    echo "layering: fake may use qfscale/qianfan/ only in memory_qianfan_api.{h,cc}"
    status=1
  fi


  # Private edges: src/<module>/ includes only its own private headers (and util's adapters).
  if [ -d "$root/src" ]; then
    while IFS= read -r line; do
      file=${line%%:*}
      module=${file#"$root"/src/}
      module=${module%%/*}
      header=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$line")
      owner=${header%%/*}
      [ "$owner" = "$module" ] && continue
      if [[ -n ${shared_private[$header]+set} && " ${shared_private[$header]} " == *" $module "* ]]; then
        continue
      fi
      echo "layering: ${file#"$root"/} includes $header, a private header of module '$owner'" \
        "(move what is shared to include/qfscale/$owner/ or go through its public API)"
      status=1
    done < <(grep -rHE '#include "[a-z_]+/' "$root/src" | grep -vE '#include "qfscale/' || true)
  fi

  # Public headers include no private header at all.
  if [ -d "$root/include" ]; then
    while IFS= read -r line; do
      echo "layering: public header ${line%%:*} includes a private header: ${line#*:}" |
        sed "s|$root/||"
      status=1
    done < <(grep -rHE '#include "[a-z_]+/' "$root/include" | grep -vE '#include "qfscale/' || true)
  fi

  # Public headers carry no heavy third-party includes.
  if grep -rnE '#include <(boost|openssl|simdjson|prometheus|yaml-cpp|CLI)' "$root/include" 2>/dev/null; then
    echo "layering: public headers must not include Boost/OpenSSL/simdjson/prometheus/yaml-cpp/CLI11"
    status=1
  fi
  return $status
}

# Plants one file in a scratch tree and requires check_tree to refuse it with `want` in its
# output (or, when `want` is "ok", to accept it).
self_test_case() {
  local name=$1 path=$2 text=$3 want=$4 scratch out
  scratch=$(mktemp -d)
  mkdir -p "$scratch/$(dirname "$path")"
  printf '%s\n' "$text" >"$scratch/$path"
  if out=$(check_tree "$scratch"); then
    if [ "$want" != ok ]; then
      echo "self-test '$name': a planted bad edge passed"
      self_status=1
    fi
  elif [ "$want" = ok ] || [[ "$out" != *"$want"* ]]; then
    echo "self-test '$name': want '$want', got: $out"
    self_status=1
  fi
  rm -rf "$scratch"
}

if [ "${1:-}" = --self-test ]; then
  self_status=0
  self_test_case "private edge between modules" src/controller/audit_log.cc \
    '#include "telemetry/json.h"' "a private header of module 'telemetry'"
  self_test_case "cli into a module's private header" src/cli/api_commands.cc \
    '#include "qianfan/json_writer.h"' "a private header of module 'qianfan'"
  self_test_case "util adapter outside its users" src/sim/x.cc \
    '#include "util/yaml_reader.h"' "a private header of module 'util'"
  self_test_case "private header in a public one" include/qfscale/policy/x.h \
    '#include "policy/engine_detail.h"' "public header"
  self_test_case "upward public edge" include/qfscale/policy/x.h \
    '#include "qfscale/controller/config.h"' "includes qfscale/controller"
  self_test_case "sim on a live QPS source" include/qfscale/sim/x.h \
    '#include "qfscale/demand/qps_source.h"' "includes qfscale/demand"
  self_test_case "heavy include in a public header" include/qfscale/http/x.h \
    '#include <boost/beast.hpp>' "must not include Boost"
  self_test_case "HTTP fake on the client it checks" src/fake/fake_qianfan.cc \
    '#include "qfscale/qianfan/api.h"' "fake may use qfscale/qianfan/ only"
  self_test_case "own private header" src/capacity/allocator.cc \
    '#include "capacity/detail/id_index.h"' ok
  self_test_case "util adapter used by its users" src/policy/loader.cc \
    '#include "util/yaml_reader.h"' ok
  [ $self_status -eq 0 ] && echo "layering self-test: ok"
  exit $self_status
fi

root=${1:-$(dirname "$0")/..}
root=$(cd "$root" && pwd)
if check_tree "$root"; then
  echo "layering: ok"
else
  exit 1
fi
