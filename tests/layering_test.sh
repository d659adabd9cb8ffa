#!/usr/bin/env bash
# Fails on any #include "qfscale/<module>/…" edge that docs/CONVENTIONS.md §5.2 does not allow,
# and on third-party includes in public headers.
set -euo pipefail
root=${1:-$(dirname "$0")/..}
cd "$root"

declare -A allowed=(
  [util]="util"
  [model]="util model"
  [policy]="util model policy"
  [capacity]="util model policy capacity"
  [bce]="util bce"
  [http]="util http"
  [qianfan]="util model bce http qianfan"
  [metrics]="util model bce http qianfan metrics"
  [telemetry]="util model http telemetry"
  [sim]="util model policy capacity metrics sim"
  [fake]="util model bce http qianfan fake"
  [coordination]="util http coordination"
  [controller]="util model bce http qianfan metrics policy capacity telemetry coordination controller"
)

status=0
for module in "${!allowed[@]}"; do
  for dir in "include/qfscale/$module" "src/$module"; do
    [ -d "$dir" ] || continue
    while IFS= read -r line; do
      file=${line%%:*}
      used=$(sed -E 's/.*#include "qfscale\/([a-z_]+)\/.*/\1/' <<<"$line")
      if [[ " ${allowed[$module]} " != *" $used "* ]]; then
        echo "layering: $file includes qfscale/$used (module '$module' may use: ${allowed[$module]})"
        status=1
      fi
    done < <(grep -rHE '#include "qfscale/[a-z_]+/' "$dir" || true)
  done
done

# fake may use qianfan only in the in-memory QianfanApi: the HTTP fake stays independent of the
# client it is there to check.
if grep -rlE '#include "qfscale/qianfan/' include/qfscale/fake src/fake 2>/dev/null |
    grep -vE '/memory_qianfan_api\.(h|cc)$'; then
  echo "layering: fake may use qfscale/qianfan/ only in memory_qianfan_api.{h,cc}"
  status=1
fi

# sim may use only the trace part of metrics.
if grep -rhE '#include "qfscale/metrics/' include/qfscale/sim src/sim 2>/dev/null |
    grep -vE 'metrics/trace' ; then
  echo "layering: sim may use only qfscale/metrics/trace*"
  status=1
fi

# Public headers carry no heavy third-party includes.
if grep -rnE '#include <(boost|openssl|simdjson|prometheus|yaml-cpp|CLI)' include/; then
  echo "layering: public headers must not include Boost/OpenSSL/simdjson/prometheus/yaml-cpp/CLI11"
  status=1
fi

[ $status -eq 0 ] && echo "layering: ok"
exit $status
