#!/usr/bin/env bash
# lib_symbols.sh — libsluice.so's surface is exactly its public headers:
#  - the dynamic symbols it defines (nm -D --defined-only) are the functions
#    and variables declared in include/sluice/*.h, every one of them, and
#    nothing else (internal helpers are hidden: -fvisibility=hidden);
#  - it links only what sluice.pc names (readelf -d NEEDED): libcurl and
#    jansson, never libmicrohttpd, GnuTLS, libyaml, librdkafka or SQLite,
#    which belong to the application; its soname is libsluice.so.MAJOR.
# Both the test build's library (sanitized under make test: its sanitizer
# runtimes are allowed there) and the Release build's, the one packaged
# (build-release/, which make test builds), are checked.
set -uo pipefail
SRC=${SLUICE_SOURCE_DIR:?}
BUILD=${SLUICE_BUILD_DIR:?}
REL=${SLUICE_RELEASE_DIR:-$SRC/build-release}
source "$SRC/scripts/lib.sh"
make_tmp symbols
[[ -f $REL/libsluice.so ]] || { bad "no $REL/libsluice.so: run \`make build-release\` (make test does)"; finish; }

# Declared: every external name the preprocessed public headers declare
# (function prototypes and extern objects; typedefs, struct members and
# static inline functions are not symbols of the library).
for h in "$SRC"/include/sluice/*.h; do echo "#include <sluice/$(basename "$h")>"; done >"$tmp/all.h"
cc -E -P -I"$SRC/include" "$tmp/all.h" >"$tmp/all.i" || { bad "the public headers do not preprocess"; finish; }
/usr/bin/python3 - "$tmp/all.i" >"$tmp/declared" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r'__attribute__\s*\(\(.*?\)\)', '', text)
# Drop function bodies (static inline helpers) so calls inside them do not count.
out, depth = [], 0
for ch in text:
    if ch == '{':
        depth += 1
        out.append(';')
    elif ch == '}':
        depth -= 1
        out.append(';')
    elif depth == 0 or ch == '\n':
        out.append(ch)
# A top-level statement that is neither a typedef nor static, and names an
# identifier followed by '(' (not '(*'), declares that function.
names = set()
for stmt in ''.join(out).split(';'):
    s = ' '.join(stmt.split())
    if not s or s.startswith('typedef') or s.startswith('static') or 'inline' in s.split():
        continue
    m = re.search(r'\b([A-Za-z_]\w*)\s*\((?!\s*\*)', s)
    if m and not s.startswith('struct ') and not s.startswith('enum '):
        names.add(m.group(1))
    elif s.startswith('extern ') and '(' not in s:
        names.add(re.findall(r'[A-Za-z_]\w*', s)[-1])
print('\n'.join(sorted(names)))
PY
n_declared=$(wc -l <"$tmp/declared")
((n_declared >= 40)) && ok "the headers declare $n_declared functions" ||
  bad "only $n_declared declarations found in include/sluice/*.h: the parser is broken"

check_library() { # check_library BUILD_DIR
  local dir=$1 lib=$1/libsluice.so sanitized=0
  grep -q '^SLUICE_SANITIZE:BOOL=ON' "$dir/CMakeCache.txt" && sanitized=1
  echo "-- $lib"
  nm -D --defined-only "$lib" | awk '{print $NF}' | sort -u >"$tmp/exported"
  n_exported=$(wc -l <"$tmp/exported")
  extra=$(comm -13 "$tmp/declared" "$tmp/exported" | tr '\n' ' ')
  missing=$(comm -23 "$tmp/declared" "$tmp/exported" | tr '\n' ' ')
  [[ -z $extra ]] && ok "libsluice.so exports nothing the headers do not declare ($n_exported symbols)" ||
    bad "exported but not in include/sluice/*.h: $extra"
  [[ -z $missing ]] && ok "every declared function is exported" || bad "declared but not exported: $missing"
  others=$(grep -v '^sluice_' "$tmp/exported" | tr '\n' ' ')
  [[ -z $others ]] && ok "every exported symbol is sluice_*" || bad "exported without the sluice_ prefix: $others"

  readelf -d "$lib" >"$tmp/dynamic"
  needed=$(grep -o 'NEEDED.*\[[^]]*\]' "$tmp/dynamic" | sed 's/.*\[\(.*\)\]/\1/' | tr '\n' ' ')
  forbidden=$(echo "$needed" | tr ' ' '\n' | grep -E 'microhttpd|gnutls|yaml|rdkafka|sqlite|avro' | tr '\n' ' ')
  [[ -z $forbidden ]] && ok "links no application library (NEEDED: $needed)" || bad "libsluice.so links $forbidden"
  # Everything it needs is what sluice.pc's Requires.private provides, or libc.
  pcdeps=$(sed -n 's/^Requires.private: *//p' "$dir/sluice.pc")
  expect "sluice.pc Requires.private" "$pcdeps" "libcurl jansson"
  provided=$(pkg-config --libs-only-l $pcdeps | tr ' ' '\n' | sed -n 's/^-l//p')
  for so in $needed; do
    base=${so#lib}
    base=${base%%.so*}
    case $base in c | m | pthread | ld-linux-x86-64 | ld-linux-aarch64) continue ;; esac
    [[ $sanitized == 1 && $base =~ ^(asan|ubsan)$ ]] && continue # the instrumented build's runtime
    grep -qx "$base" <<<"$provided" && ok "NEEDED $so comes from sluice.pc" || bad "NEEDED $so is not named by sluice.pc"
  done
  soname=$(grep -o 'SONAME.*\[[^]]*\]' "$tmp/dynamic" | sed 's/.*\[\(.*\)\]/\1/')
  [[ $soname =~ ^libsluice\.so\.[0-9]+$ ]] && ok "soname $soname" || bad "soname '$soname'"
}
check_library "$BUILD"
[[ $REL -ef $BUILD ]] || check_library "$REL"
finish
