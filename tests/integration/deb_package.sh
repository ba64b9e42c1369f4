#!/usr/bin/env bash
# deb_package.sh — the Debian packages (cmake/packaging.cmake), built with
# CPack from the Release build (build-release/, prefix /usr; `make test`
# builds it first) and unpacked with `dpkg -x` into a temporary root —
# never installed into the system:
#   - three packages: sluice, libsluice0, libsluice-dev, with the files each
#     should hold and dependencies from dpkg-shlibdeps (libsluice0 needs
#     libcurl and jansson only; sluice does not need libsluice0, it links the
#     library statically);
#   - the unpacked /usr/bin/sluice runs --help and --version, and serves as
#     the registry for the next step;
#   - the unpacked library is usable: examples/decode_framed.c from the
#     unpacked documentation, compiled with pkg-config against the unpacked
#     sluice.pc, decodes a framed message by schema id from that registry.
set -uo pipefail
SRC=${SLUICE_SOURCE_DIR:?}
REL=${SLUICE_RELEASE_DIR:-$SRC/build-release}
source "$SRC/scripts/lib.sh"
make_tmp deb
[[ -f $REL/CPackConfig.cmake && -x $REL/sluice ]] ||
  { bad "no Release build in $REL: run \`make build-release\` (make test does)"; finish; }
grep -q '^CMAKE_INSTALL_PREFIX:PATH=/usr$' "$REL/CMakeCache.txt" ||
  { bad "$REL is not configured with CMAKE_INSTALL_PREFIX=/usr"; finish; }
(cd "$REL" && cpack -G DEB -B "$tmp/out") >"$tmp/cpack.log" 2>&1 || { bad "cpack: $(tail -20 "$tmp/cpack.log")"; finish; }
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$REL/CMakeCache.txt")
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
for pkg in sluice libsluice0 libsluice-dev; do
  deb=$tmp/out/${pkg}_${version}-1_$arch.deb
  [[ -f $deb ]] && ok "built $(basename "$deb")" || { bad "no $deb: $(ls "$tmp/out")"; finish; }
  dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/$pkg.files"
  dpkg-deb -f "$deb" Depends >"$tmp/$pkg.depends"
done
has() { # has PACKAGE FILE...
  local pkg=$1
  shift
  for f in "$@"; do grep -qx "$f" "$tmp/$pkg.files" && ok "$pkg holds $f" || bad "$pkg lacks $f"; done
}
has sluice /usr/bin/sluice /usr/share/man/man1/sluice.1 /usr/lib/systemd/system/sluice-sink.service \
  /usr/lib/systemd/system/sluice-ingest.service /usr/lib/systemd/system/sluice-registry.service \
  /usr/share/doc/sluice/examples/sink.yaml
has libsluice0 "/usr/lib/$multiarch/libsluice.so.$version" "/usr/lib/$multiarch/libsluice.so.${version%%.*}"
has libsluice-dev /usr/include/sluice/sr.h /usr/include/sluice/avro.h "/usr/lib/$multiarch/libsluice.a" \
  "/usr/lib/$multiarch/libsluice.so" "/usr/lib/$multiarch/pkgconfig/sluice.pc" \
  /usr/share/doc/sluice/examples/decode_framed.c /usr/share/man/man3/libsluice.3
grep -q 'libsluice' "$tmp/libsluice0.files" && ! grep -q 'bin/sluice' "$tmp/libsluice0.files" &&
  ok "libsluice0 holds the library only" || bad "libsluice0: $(tr '\n' ' ' <"$tmp/libsluice0.files")"
libdeps=$(cat "$tmp/libsluice0.depends")
[[ $libdeps == *libcurl* && $libdeps == *libjansson* ]] && ! grep -Eq 'microhttpd|gnutls|yaml|rdkafka|sqlite' <<<"$libdeps" &&
  ok "libsluice0 depends on libcurl and jansson only: $libdeps" || bad "libsluice0 Depends: $libdeps"
clideps=$(cat "$tmp/sluice.depends")
[[ $clideps == *librdkafka* && $clideps == *libmicrohttpd* && $clideps != *libsluice0* ]] &&
  ok "sluice depends on its libraries (from dpkg-shlibdeps), not on libsluice0" || bad "sluice Depends: $clideps"
grep -q "libsluice0 (= $version-1)" "$tmp/libsluice-dev.depends" && ok "libsluice-dev depends on libsluice0 (= $version-1)" ||
  bad "libsluice-dev Depends: $(cat "$tmp/libsluice-dev.depends")"

root=$tmp/root
for pkg in sluice libsluice0 libsluice-dev; do dpkg -x "$tmp/out/${pkg}_${version}-1_$arch.deb" "$root"; done
"$root/usr/bin/sluice" --help >"$tmp/help" 2>&1
st=$?
[[ $st == 0 ]] && grep -q '^  sink ' "$tmp/help" && ok "the unpacked sluice --help lists its commands" || bad "sluice --help: exit $st"
expect "the unpacked sluice --version" "$("$root/usr/bin/sluice" --version)" "sluice $version"
missing=$(ldd "$root/usr/bin/sluice" | grep 'not found')
[[ -z $missing ]] && ok "every library the binary needs resolves" || bad "ldd: $missing"

reg=127.0.0.1:$(free_port)
"$root/usr/bin/sluice" registry --listen "$reg" --db "$tmp/registry.sqlite" 2>"$tmp/registry.log" &
track_pid $!
wait_port "$reg" 30 || { bad "the packaged registry did not start: $(cat "$tmp/registry.log")"; finish; }
answer=$(register_schema "http://$reg" t-value '{"type":"record","name":"T","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"}]}')
id=$(sed -n 's/^{"id":\([0-9]*\)}$/\1/p' <<<"$answer")
[[ -n $id ]] && ok "the packaged registry registers a schema (id $id)" || { bad "register: $answer"; finish; }

export PKG_CONFIG_PATH=$root/usr/lib/$multiarch/pkgconfig
expect "pkg-config finds the unpacked library" "$(pkg-config --modversion sluice)" "$version"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror "$root/usr/share/doc/sluice/examples/decode_framed.c" -o "$tmp/decode_framed" \
  $(pkg-config --cflags --libs sluice) 2>"$tmp/cc.log" && ok "decode_framed builds against the unpacked libsluice-dev" ||
  { bad "cc: $(cat "$tmp/cc.log")"; finish; }
# id, then the record {id: 42, name: "ada"}: zigzag 42 = 0x54, "ada" = length 3 (0x06) and the bytes.
printf '\0\0\0\0'"$(printf '\\x%02x' "$id")"'\x54\x06ada' >"$tmp/msg.bin"
got=$(LD_LIBRARY_PATH=$root/usr/lib/$multiarch "$tmp/decode_framed" --registry "http://$reg" <"$tmp/msg.bin" 2>&1)
expect "the unpacked libsluice.so decodes a framed message" "$got" '{"id":42,"name":"ada"}'
# (ldd's output is kept before grep -q reads it: under pipefail a grep
# that stops early would make ldd's SIGPIPE fail the pipeline.)
linked=$(LD_LIBRARY_PATH=$root/usr/lib/$multiarch ldd "$tmp/decode_framed")
grep -q "$root/usr/lib/$multiarch/libsluice.so.${version%%.*}" <<<"$linked" &&
  ok "... through the unpacked libsluice.so.${version%%.*}" || bad "not linked to the unpacked library"
finish
