/*
 * avro_to_json.c — the public face of the Avro → JSON decoder
 * (sluice_avro_to_json in include/sluice/avro.h) for programs that link
 * libsluice: a bounded buffer around avro_json_decode (avro_json_decode.c), whose
 * result is handed over as a malloc'd string. Kept apart from avro_json_decode.c
 * so the decoder's internal interface (buf, avro_json_style) can change
 * without touching the library's API. Pure; any thread.
 */
#include <sluice/avro.h>

#include "codec/avro_json.h"
#include "common/buf.h"

int sluice_avro_to_json(const sluice_avro_node *writer, const void *data, size_t len,
                        sluice_avro_json_style style, char **json, size_t *json_len,
                        sluice_error *err)
{
    if (!writer || (!data && len) || !json ||
        (style != SLUICE_AVRO_JSON_PLAIN && style != SLUICE_AVRO_JSON_AVRO))
        return sluice_error_set(err, SLUICE_EINVAL, "sluice_avro_to_json: bad arguments");
    *json = NULL;
    buf out;
    buf_init(&out, SLUICE_AVRO_JSON_MAX_BYTES);
    int rc = avro_json_decode(writer, data, len,
                              style == SLUICE_AVRO_JSON_AVRO ? AVRO_JSON_AVRO : AVRO_JSON_PLAIN,
                              &out, err);
    size_t n = 0;
    if (rc == 0 && !(*json = buf_detach(&out, &n))) rc = SLUICE_ENOMEM;
    if (rc == SLUICE_ENOMEM)
        sluice_error_set(err, SLUICE_ENOMEM, "the JSON text would pass %zu bytes",
                         (size_t)SLUICE_AVRO_JSON_MAX_BYTES);
    buf_free(&out);
    if (rc != 0) return rc;
    if (json_len) *json_len = n;
    return 0;
}
