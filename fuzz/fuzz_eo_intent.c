/*
 * fuzz_eo_intent.c — exactly-once intents as Kafka hands them back: commit
 * metadata is whatever anyone committed, so eo_intent_parse must refuse
 * garbage with a place and never read past the end. What it accepts must
 * write back and read again to the same intent (the replayer trusts it).
 */
#include "sink/eo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1); /* exactly size bytes: ASan sees overreads */
    if (!text) return 0;
    if (size) memcpy(text, data, size);
    eo_member m[64], m2[64];
    eo_intent in, again;
    sluice_error err;
    int rc = eo_intent_parse(text, size, &in, m, 64, &err);
    if (rc == 0) {
        if (in.n_members == 0) abort();
        for (size_t i = 0; i < in.n_members; i++)
            if (m[i].end <= m[i].first || (i && m[i].partition <= m[i - 1].partition)) abort();
        char out[16384];
        size_t len;
        if (eo_intent_format(&in, out, sizeof out, &len, &err) != 0) abort();
        if (eo_intent_parse(out, len, &again, m2, 64, &err) != 0) abort();
        if (again.block != in.block || again.now_s != in.now_s || again.reader_id != in.reader_id ||
            again.cols_hash != in.cols_hash || again.max_insert_bytes != in.max_insert_bytes ||
            again.n_members != in.n_members)
            abort();
        for (size_t i = 0; i < in.n_members; i++)
            if (m[i].partition != m2[i].partition || m[i].first != m2[i].first ||
                m[i].end != m2[i].end)
                abort();
    } else if (rc != SLUICE_EPARSE && rc != SLUICE_ENOTFOUND) {
        abort();
    } else if (rc == SLUICE_EPARSE && !strstr(err.msg, "byte ")) {
        abort(); /* refusals name the place */
    }
    free(text);
    return 0;
}
