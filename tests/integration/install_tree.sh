#!/usr/bin/env bash
# install_tree.sh — what `cmake --install` puts where (GNUInstallDirs), in a
# temporary prefix: the binary, libsluice.so with its soname links and
# libsluice.a, every public header, sluice.pc, the man pages, the example
# configuration, and the systemd units for ingest, sink and registry.
# The units are checked by systemd itself:
#   - `systemd-analyze verify` (syntax, keys, executables; it works in this
#     container without a running systemd — PID 1 need not be systemd — once
#     ExecStart points at a binary that exists, so the installed copy's
#     paths are rewritten to the temporary prefix);
#   - `systemd-analyze security --offline=yes`: the sandbox's exposure is at
#     most 2.0 ("OK") for each;
#   - each reloads with SIGHUP and stops with SIGTERM;
#   - the checker itself: a unit with a misspelt key must be reported.
# The example configurations pass `sluice check-config`.
set -uo pipefail
SRC=${SLUICE_SOURCE_DIR:?}
BUILD=${SLUICE_BUILD_DIR:?}
source "$SRC/scripts/lib.sh"
make_tmp install-tree
p=$tmp/prefix
cmake --install "$BUILD" --prefix "$p" >"$tmp/install.log" 2>&1 || { bad "cmake --install: $(cat "$tmp/install.log")"; finish; }
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$BUILD/CMakeCache.txt")
libdir=${libdir:-lib}

present() { # present PATH...: each exists under the prefix
  for f in "$@"; do [[ -e $p/$f ]] && ok "installed $f" || bad "missing $f"; done
}
present bin/sluice "$libdir/libsluice.a" "$libdir/pkgconfig/sluice.pc" \
  share/man/man1/sluice.1 share/man/man3/libsluice.3 \
  share/doc/sluice/examples/sluice.yaml share/doc/sluice/examples/ingest.yaml \
  share/doc/sluice/examples/sink.yaml share/doc/sluice/examples/sluice.env \
  share/doc/sluice/examples/events.avsc share/doc/sluice/examples/decode_framed.c \
  lib/systemd/system/sluice-ingest.service lib/systemd/system/sluice-sink.service \
  lib/systemd/system/sluice-registry.service
for h in "$SRC"/include/sluice/*.h; do present "include/sluice/$(basename "$h")"; done
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")
major=${version%%.*}
[[ -f $p/$libdir/libsluice.so.$version && $(readlink "$p/$libdir/libsluice.so.$major") == "libsluice.so.$version" &&
  $(readlink "$p/$libdir/libsluice.so") == "libsluice.so.$major" ]] &&
  ok "libsluice.so -> .so.$major -> .so.$version" || bad "shared library links: $(ls -l "$p/$libdir" | grep libsluice)"
got=$("$p/bin/sluice" --version)
expect "the installed binary runs" "$got" "sluice $version"
# From the documentation directory: sluice.yaml names its schema file as
# examples/events.avsc, relative to where sluice runs (as `make run` does).
for f in sluice.yaml ingest.yaml sink.yaml; do
  out=$(cd "$p/share/doc/sluice" && "$p/bin/sluice" check-config -c "examples/$f" 2>&1)
  [[ $? == 0 ]] && ok "check-config $f" || bad "check-config $f: $out"
done

# ---- systemd units -----------------------------------------------------------
command -v systemd-analyze >/dev/null || { bad "systemd-analyze is missing (scripts/setup.sh installs systemd)"; finish; }
bindir=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD/CMakeCache.txt")/bin
mkdir "$tmp/units"
# verify_unit FILE: systemd-analyze verify, failing on any message at all.
verify_unit() {
  local out
  out=$(cd "$tmp/units" && systemd-analyze verify --man=no "$1" 2>&1)
  local st=$?
  [[ $st == 0 && -z $out ]] || { echo "exit $st: $out"; return 1; }
}
for unit in sluice-ingest sluice-sink sluice-registry; do
  src=$p/lib/systemd/system/$unit.service
  sed "s|$bindir/sluice|$p/bin/sluice|g" "$src" >"$tmp/units/$unit.service"
  grep -q "^ExecStart=$p/bin/sluice ${unit#sluice-} " "$tmp/units/$unit.service" &&
    ok "$unit: ExecStart runs sluice ${unit#sluice-}" || bad "$unit: ExecStart: $(grep ExecStart= "$src")"
  if msg=$(verify_unit "$unit.service"); then ok "$unit: systemd-analyze verify"; else bad "$unit: verify: $msg"; fi
  exposure=$(cd "$tmp/units" && systemd-analyze security --offline=yes --no-pager "$unit.service" 2>&1 |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  if [[ -n $exposure ]] && awk -v e="$exposure" 'BEGIN {exit !(e <= 2.0)}'; then
    ok "$unit: exposure $exposure (at most 2.0)"
  else
    bad "$unit: exposure '$exposure' (systemd-analyze security --offline=yes)"
  fi
  grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$src" && ok "$unit: ExecReload sends SIGHUP" || bad "$unit: no ExecReload"
  grep -qx 'KillSignal=SIGTERM' "$src" && ok "$unit: stops with SIGTERM (drains)" || bad "$unit: KillSignal"
done
# The checker must see a broken unit.
sed 's/^ProtectSystem=strict/ProtectSytem=strict/' "$tmp/units/sluice-sink.service" >"$tmp/units/broken.service"
if msg=$(verify_unit broken.service); then bad "a misspelt key passed verify"; else ok "a misspelt key is caught: ${msg//$'\n'/ }"; fi
finish
