/*
 * fuzz_prom_text.c — libFuzzer target for the /metrics text parser of
 * `sluice top` (src/app/prom_text.c): any input parses or is refused with a
 * message, never read past its end; label lookup on whatever was parsed.
 */
#include "app/prom_text.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static prom_sample out[256];
    char err[128], v[64];
    long n = prom_parse((const char *)data, size, out, 256, err, sizeof err);
    for (long i = 0; i < n; i++) {
        prom_label(out[i].labels, "le", v, sizeof v);
        prom_label(out[i].labels, "topic", v, sizeof v);
    }
    return 0;
}
