#!/usr/bin/env bash
# example_decode.sh — examples/decode_framed.c, as a user of the INSTALLED
# libsluice builds it: `cmake --install` into a temporary prefix, the
# example copied from the installed documentation, compiled with
# `pkg-config --cflags --libs sluice` and run against a real `sluice
# registry`. The framed Avro messages are encoded by avsc (an implementation
# we did not write), so this also checks that the library reads what other
# producers write: a record with a long, a nullable string, an enum, an
# array, a map, a timestamp-millis and a nested record.
#   - by schema id from the registry, plain JSON and Avro's JSON encoding;
#   - with the schema from a file (--schema);
#   - a cut message: exit 1 naming offset and field; an unknown id: exit 1
#     naming the id; not framed: exit 1 naming the magic byte.
# The Debian packages get the same program in deb_package.sh.
set -uo pipefail
SRC=${SLUICE_SOURCE_DIR:?}
BIN=${SLUICE_BIN:?}
BUILD=${SLUICE_BUILD_DIR:?}
source "$SRC/scripts/lib.sh"
make_tmp example-decode
[[ -f $SRC/tests/compat/node_modules/avsc/package.json ]] ||
  { bad "avsc is missing: run scripts/setup.sh (npm ci in tests/compat)"; finish; }

prefix=$tmp/prefix
cmake --install "$BUILD" --prefix "$prefix" >/dev/null || { bad "cmake --install"; finish; }
example=$(find "$prefix/share/doc" -name decode_framed.c | head -1)
[[ -n $example ]] && ok "the example is installed ($example)" || { bad "decode_framed.c not installed"; finish; }
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig"
extra=()
grep -q '^SLUICE_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" && extra=(-fsanitize=address,undefined)
# shellcheck disable=SC2046
if cc -std=c11 -Wall -Wextra -Werror "${extra[@]}" "$example" -o "$tmp/decode_framed" \
  $(pkg-config --cflags --libs sluice) 2>"$tmp/cc.log"; then
  ok "built with pkg-config against the installed library"
else
  bad "the example does not build: $(cat "$tmp/cc.log")"
  finish
fi
export LD_LIBRARY_PATH="$prefix/lib:$prefix/lib/x86_64-linux-gnu"
linked=$(ldd "$tmp/decode_framed") # not piped into grep -q: pipefail and SIGPIPE
grep -q "$prefix/lib.*libsluice.so" <<<"$linked" && ok "it runs on the installed libsluice.so" ||
  bad "not linked to the installed libsluice.so: $(grep sluice <<<"$linked")"

reg=127.0.0.1:$(free_port)
"$BIN" registry --listen "$reg" --db "$tmp/registry.sqlite" 2>"$tmp/registry.log" &
track_pid $!
wait_port "$reg" 30 || { bad "the registry did not start: $(cat "$tmp/registry.log")"; finish; }

schema='{"type":"record","name":"Event","namespace":"ex","fields":[
 {"name":"id","type":"long"},
 {"name":"user","type":["null","string"],"default":null},
 {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["CLICK","VIEW"]}},
 {"name":"tags","type":{"type":"array","items":"string"}},
 {"name":"counts","type":{"type":"map","values":"long"}},
 {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"geo","type":{"type":"record","name":"Geo","fields":[{"name":"lat","type":"double"},{"name":"lon","type":"double"}]}}]}'
answer=$(register_schema "http://$reg" events-value "$schema")
id=$(sed -n 's/^{"id":\([0-9]*\)}$/\1/p' <<<"$answer")
[[ -n $id ]] && ok "schema registered as id $id" || { bad "register: $answer"; finish; }
printf '%s' "$schema" >"$tmp/schema.avsc"

# avsc writes the frame: magic 0, the id big-endian, the Avro binary.
NODE_PATH=$SRC/tests/compat/node_modules node -e '
const avro = require("avsc"), fs = require("fs");
const type = avro.Type.forSchema(JSON.parse(fs.readFileSync(process.argv[1], "utf8")));
const value = {id: 42, user: "ada", kind: "VIEW", tags: ["a", "b"], counts: {x: 1},
               at: 1795400000123, geo: {lat: 52.5, lon: -0.125}};
const header = Buffer.alloc(5);
header.writeInt32BE(Number(process.argv[2]), 1);
fs.writeFileSync(process.argv[3], Buffer.concat([header, type.toBuffer(value)]));
' "$tmp/schema.avsc" "$id" "$tmp/msg.bin" || { bad "avsc could not encode"; finish; }

want='{"id":42,"user":"ada","kind":"VIEW","tags":["a","b"],"counts":{"x":1},"at":1795400000123,"geo":{"lat":52.5,"lon":-0.125}}'
got=$("$tmp/decode_framed" --registry "http://$reg" <"$tmp/msg.bin" 2>"$tmp/err")
expect "decoded by schema id from the registry" "$got" "$want"
got=$("$tmp/decode_framed" --registry "http://$reg" --avro-json <"$tmp/msg.bin" 2>"$tmp/err")
want_avro='{"id":42,"user":{"string":"ada"},"kind":"VIEW","tags":["a","b"],"counts":{"x":1},"at":1795400000123,"geo":{"lat":52.5,"lon":-0.125}}'
expect "Avro's JSON encoding" "$got" "$want_avro"
got=$("$tmp/decode_framed" --schema "$tmp/schema.avsc" <"$tmp/msg.bin" 2>"$tmp/err")
expect "decoded with the schema from a file" "$got" "$want"

size=$(stat -c %s "$tmp/msg.bin")
head -c $((size - 3)) "$tmp/msg.bin" >"$tmp/cut.bin"
"$tmp/decode_framed" --registry "http://$reg" <"$tmp/cut.bin" >/dev/null 2>"$tmp/err"
st=$?
[[ $st == 1 ]] && grep -q 'offset [0-9]*, \$\.geo' "$tmp/err" && ok "a cut message: exit 1, '$(cat "$tmp/err")'" ||
  bad "a cut message: exit $st, '$(cat "$tmp/err")'"
{ printf '\0\0\0\x03\xe7'; tail -c +6 "$tmp/msg.bin"; } >"$tmp/unknown.bin"
"$tmp/decode_framed" --registry "http://$reg" <"$tmp/unknown.bin" >/dev/null 2>"$tmp/err"
st=$?
[[ $st == 1 ]] && grep -q 'schema id 999' "$tmp/err" && ok "an unknown id: exit 1, '$(cat "$tmp/err")'" ||
  bad "an unknown id: exit $st, '$(cat "$tmp/err")'"
printf '{"id":42}' | "$tmp/decode_framed" --registry "http://$reg" >/dev/null 2>"$tmp/err"
st=$?
[[ $st == 1 ]] && grep -q 'bad magic byte 0x7b' "$tmp/err" && ok "not framed: exit 1, '$(cat "$tmp/err")'" ||
  bad "not framed: exit $st, '$(cat "$tmp/err")'"
"$tmp/decode_framed" >/dev/null 2>&1
expect "no schema source: usage, exit 2" "$?" 2
finish
