#!/usr/bin/env bash
# Packaging: `cmake --install` lays out the binary, the shipped policies, the Grafana files, the
# example config and the systemd unit; the unit passes `systemd-analyze verify`; the example
# config passes `qfscale config check`; CPack builds a .deb whose Depends covers every library
# the binary loads, and the binary installed from it by dpkg says which commit it was built from.
#
# The .deb goes into a fresh dpkg root (`dpkg --root`, an empty status database), which is what
# dpkg sees on a clean system, with --force-depends: that root has no libc, and a real Debian 12
# chroot needs debootstrap and the network. The Depends are checked against the host instead:
# every library the binary needs must come from a package the .deb depends on.
set -euo pipefail
qfscale=$1
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
fail_prefix="package_test: "
build=$(cd "$(dirname "$qfscale")" && pwd)
[ -f "$build/CPackConfig.cmake" ] || fail "no CPackConfig.cmake in $build"
for tool in cpack dpkg dpkg-deb dpkg-shlibdeps systemd-analyze objdump; do
  command -v "$tool" >/dev/null || fail "$tool is missing (run .ci/setup)"
done

# 1. cmake --install: exactly these files, nothing else (a new file should be a decision).
DESTDIR=$tmp/dest cmake --install "$build" --prefix /usr >/dev/null 2>"$tmp/install.err" \
  || fail "cmake --install: $(cat "$tmp/install.err")"
expected=(usr/bin/qfscale usr/lib/systemd/system/qfscale.service usr/share/doc/qfscale/README.md
  usr/share/qfscale/examples/fake.yaml usr/share/qfscale/examples/qfscale.yaml
  usr/share/qfscale/examples/qianfan-metrics.yaml
  usr/share/qfscale/grafana/METRICS.md usr/share/qfscale/grafana/README.md
  usr/share/qfscale/grafana/provisioning/dashboards/qfscale.yaml
  usr/share/qfscale/grafana/provisioning/datasources/qfscale.yaml
  usr/share/qfscale/grafana/rules/alerts.yaml usr/share/qfscale/grafana/rules/recording.yaml
  usr/share/qfscale/policies/README.md)
for f in "$root"/grafana/dashboards/*.json; do expected+=("usr/share/qfscale/grafana/dashboards/${f##*/}"); done
for f in "$root"/policies/*.yaml; do expected+=("usr/share/qfscale/policies/${f##*/}"); done
printf '%s\n' "${expected[@]}" | sort >"$tmp/expected"
(cd "$tmp/dest" && find . -type f -printf '%P\n' | sort) >"$tmp/installed"
diff -u "$tmp/expected" "$tmp/installed" >"$tmp/diff" || fail "installed files differ: $(cat "$tmp/diff")"
[ -x "$tmp/dest/usr/bin/qfscale" ] || fail "usr/bin/qfscale is not executable"

# 2. The example config checks clean once its state and log directories exist (config check
# refuses a state file in a missing directory); here they are temp directories.
mkdir -p "$tmp/var/lib/qfscale" "$tmp/var/log/qfscale"
sed "s#/var/lib/qfscale/#$tmp/var/lib/qfscale/#; s#/var/log/qfscale/#$tmp/var/log/qfscale/#" \
  "$tmp/dest/usr/share/qfscale/examples/qfscale.yaml" >"$tmp/qfscale.yaml"
grep -q "stateFile: $tmp/var/lib/qfscale/" "$tmp/qfscale.yaml" || fail "example has no stateFile under /var/lib/qfscale"
grep -q "auditLog: $tmp/var/log/qfscale/" "$tmp/qfscale.yaml" || fail "example has no auditLog under /var/log/qfscale"
"$qfscale" config check "$tmp/qfscale.yaml" >"$tmp/check.out" 2>"$tmp/check.err" \
  || fail "example config: $(cat "$tmp/check.err")"
grep -q "ok (2 services, 2 instances, metrics from prometheus)" "$tmp/check.out" \
  || fail "example config: $(cat "$tmp/check.out")"

# 3. The .deb, installed into a fresh dpkg root.
cpack --config "$build/CPackConfig.cmake" -B "$tmp/cpack" >"$tmp/cpack.log" 2>&1 \
  || fail "cpack: $(tail -n 20 "$tmp/cpack.log")"
deb=$(echo "$tmp"/cpack/qfscale_*.deb)
[ -f "$deb" ] || fail "cpack made no qfscale_*.deb: $(ls "$tmp/cpack")"
[ "$(dpkg-deb -f "$deb" Package)" = qfscale ] || fail "package name: $(dpkg-deb -f "$deb" Package)"
depends=$(dpkg-deb -f "$deb" Depends)
mkdir -p "$tmp/root/var/lib/dpkg/info" "$tmp/root/var/lib/dpkg/updates"
touch "$tmp/root/var/lib/dpkg/status"
dpkg --root="$tmp/root" --force-depends --log=/dev/null -i "$deb" >"$tmp/dpkg.log" 2>&1 \
  || fail "dpkg -i: $(cat "$tmp/dpkg.log")"
dpkg --root="$tmp/root" -s qfscale 2>/dev/null | grep -qx "Status: install ok installed" \
  || fail "dpkg does not list qfscale as installed in the fresh root"

# Depends names the package of every library the binary needs (dpkg-shlibdeps did its job).
installed=$tmp/root/usr/bin/qfscale
objdump -p "$installed" | awk '/NEEDED/ {print $2}' >"$tmp/needed"
[ -s "$tmp/needed" ] || fail "objdump found no NEEDED libraries"
ldd "$installed" >"$tmp/ldd" || fail "ldd: $(cat "$tmp/ldd")"
while read -r lib; do
  path=$(awk -v lib="$lib" '$1 == lib && $2 == "=>" {print $3}' "$tmp/ldd")
  [ -n "$path" ] || fail "$lib does not resolve: $(cat "$tmp/ldd")"
  # On a merged-/usr system dpkg may have registered either spelling of the path.
  pkg=$( { dpkg -S "$path" || dpkg -S "/usr$path" || dpkg -S "${path#/usr}"; } 2>/dev/null \
    | head -n 1 | cut -d: -f1) || true
  [ -n "$pkg" ] || fail "no host package provides $path"
  [[ ", $depends," == *", $pkg "* || ", $depends," == *", $pkg,"* ]] \
    || fail "Depends lacks $pkg (for $lib): $depends"
done <"$tmp/needed"

# The installed binary names the commit it was built from.
"$installed" version >"$tmp/version" 2>&1 || fail "installed qfscale version: $(cat "$tmp/version")"
if commit=$(git -C "$root" rev-parse --short=7 HEAD 2>/dev/null); then
  grep -Eq "^qfscale [0-9]+\.[0-9]+\.[0-9]+ \(commit [^)]*${commit}[^)]*\)$" "$tmp/version" \
    || fail "version should name commit $commit: $(cat "$tmp/version")"
else
  grep -q "(commit unknown)" "$tmp/version" || fail "outside git: $(cat "$tmp/version")"
fi

# 4. The unit, as installed by the .deb. systemd-analyze verify needs no running systemd, but it
# resolves ExecStart/ExecReload and the unit's dependencies inside --root, so the root gets
# /bin/kill and the host's targets. It exits 0 on unknown keys and bad values (it only warns),
# so any output is a failure.
mkdir -p "$tmp/root/bin"
cp /bin/kill "$tmp/root/bin/kill"
cp /lib/systemd/system/*.target "$tmp/root/usr/lib/systemd/system/"
SYSTEMD_LOG_COLOR=0 systemd-analyze verify --root="$tmp/root" qfscale.service >"$tmp/verify" 2>&1 \
  || fail "systemd-analyze verify: $(cat "$tmp/verify")"
[ ! -s "$tmp/verify" ] || fail "systemd-analyze verify warned: $(cat "$tmp/verify")"
