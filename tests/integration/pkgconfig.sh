#!/usr/bin/env bash
# pkgconfig.sh — libsluice as another C program sees it: install the build
# into a temporary prefix, compile a program against the public headers with
# `pkg-config --cflags --libs sluice` (shared) and `--static`, run both.
set -euo pipefail
build=${SLUICE_BUILD_DIR:?}
source "${SLUICE_SOURCE_DIR:?}/scripts/lib.sh"
make_tmp pkgconfig
prefix=$tmp
cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig"
extra=()
if grep -q '^SLUICE_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
  extra=(-fsanitize=address,undefined)   # the library was built instrumented
fi
cat >"$prefix/user.c" <<'C'
#include <sluice/avro.h>
#include <sluice/sr.h>
#include <sluice/wire.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    const char *text = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"long\"}]}";
    sluice_avro_schema *s = NULL;
    sluice_error err;
    if (sluice_avro_schema_parse(text, strlen(text), &s, &err) != 0) {
        printf("parse: %s\n", err.msg);
        return 1;
    }
    unsigned char frame[6];
    sluice_wire_write_header(frame, 42);
    frame[5] = 2;
    int id = 0;
    const unsigned char *payload;
    size_t len;
    if (sluice_wire_read(frame, 6, &id, &payload, &len, &err) != 0 || id != 42 || len != 1)
        return 1;
    sluice_sr_config cfg;
    sluice_sr_config_init(&cfg);
    const char *urls[] = {"http://127.0.0.1:1"};
    cfg.urls = urls;
    cfg.n_urls = 1;
    sluice_sr *sr = NULL;
    if (sluice_sr_new(&cfg, &sr, &err) != 0)
        return 1;
    sluice_sr_destroy(sr);
    printf("%s %016llx\n", sluice_avro_schema_canonical(s),
           (unsigned long long)sluice_avro_schema_fingerprint(s));
    sluice_avro_schema_free(s);
    return 0;
}
C
cc -std=c11 -Wall -Werror "${extra[@]}" "$prefix/user.c" -o "$prefix/user_shared" $(pkg-config --cflags --libs sluice)
LD_LIBRARY_PATH="$prefix/lib:$prefix/lib/x86_64-linux-gnu" "$prefix/user_shared" | tee "$prefix/out.txt"
grep -q '^{"name":"R","type":"record","fields":\[{"name":"a","type":"long"}\]} ' "$prefix/out.txt"
# libsluice.a with the system libraries it needs linked as shared objects
# (what a user does; --static would also want every transitive .a).
deps=$(pkg-config --print-requires-private sluice | awk '{print $1}')
cc -std=c11 -Wall -Werror "${extra[@]}" "$prefix/user.c" -o "$prefix/user_static" \
  $(pkg-config --cflags sluice) "$(find "$prefix" -name libsluice.a | head -1)" \
  $(pkg-config --libs $deps) -lpthread -lm
"$prefix/user_static" >/dev/null
echo "ok   libsluice via pkg-config (shared and static)"
