/*
 * fuzz_ch_type.c — libFuzzer target for the ClickHouse type parser and the
 * RowBinary encoders. The input's first line is the type text; the bytes
 * after it become values: a string, bytes, an enum symbol, a decimal, an
 * integer of every unit, a double, and a JSON value (parsed from them, or
 * the string itself when they are not JSON). Parsing must give a type or an
 * error with a message; every encoder must return 0 or an error with a
 * message, and a failed encoding must leave the buffer as it was (abort()
 * otherwise, so the fuzzer reports it). Seeds: fuzz/corpus/ch_type/.
 */
#include "codec/ch_type.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void encode_checked(const ch_type *t, const cvalue *v, buf *out)
{
    sluice_error err = {0};
    size_t before = out->len;
    int rc = ch_encode_value(t, v, out, &err);
    if (rc != 0 && (out->len != before || err.code != rc || err.msg[0] == '\0')) abort();
    if (rc == 0 && out->len == before) abort(); /* every value writes at least one byte */
}

static void encode_all(const ch_type *t, const uint8_t *rest, size_t n, buf *out)
{
    const char *s = (const char *)rest;
    int64_t i = 0;
    double d = 0;
    memcpy(&i, rest, n < 8 ? n : 8);
    memcpy(&d, rest, n < 8 ? n : 8);
    cvalue vals[16];
    size_t k = 0;
    vals[k++] = cv_null();
    vals[k++] = cv_bool(n & 1);
    vals[k++] = cv_string(s, n);
    vals[k++] = (cvalue){.kind = CV_BYTES, .s = s, .len = n};
    vals[k++] = (cvalue){.kind = CV_ENUM, .s = s, .len = n};
    vals[k++] = (cvalue){.kind = CV_DECIMAL, .s = s, .len = n, .scale = n ? rest[0] % 48 : 0};
    vals[k++] = (cvalue){.kind = CV_DECIMAL, .s = s, .len = n, .scale = (int)i};
    vals[k++] = cv_double(d);
    vals[k] = cv_double(d);
    vals[k++].is_float32 = 1;
    for (int u = CV_UNIT_NONE; u <= CV_UNIT_TS_S; u++)
        vals[k++] = cv_int(i, (cv_unit)u);
    for (size_t j = 0; j < k; j++)
        encode_checked(t, &vals[j], out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t type_len = nl ? (size_t)(nl - data) : size;
    const uint8_t *rest = nl ? nl + 1 : data + size;
    size_t rest_len = nl ? size - type_len - 1 : 0;

    char *text = malloc(type_len + 1);
    if (!text) return 0;
    memcpy(text, data, type_len);
    text[type_len] = '\0';
    arena a;
    arena_init(&a, ARENA_DEFAULT_CHUNK, 1 << 20);
    const ch_type *t = NULL;
    sluice_error err = {0};
    int rc = ch_type_parse(text, &a, &t, &err);
    if (rc != 0) {
        if (t != NULL || err.code != rc || err.msg[0] == '\0') abort();
        goto done;
    }
    if (!t || !t->text) abort();
    /* The canonical spelling parses back to itself. */
    const ch_type *again = NULL;
    if (ch_type_parse(t->text, &a, &again, &err) != 0 || strcmp(again->text, t->text) != 0) abort();

    buf out;
    buf_init(&out, 1 << 20);
    /* Only the buffer's bound can refuse a default (FixedString(16777215)
     * is larger than it), and then nothing may have been written. */
    rc = ch_encode_default(t, &out);
    if (rc != 0 && (rc != SLUICE_ENOMEM || out.len != 0)) abort();
    encode_all(t, rest, rest_len, &out);
    if (t->inner) encode_all(t->inner, rest, rest_len, &out);
    if (t->inner2) encode_all(t->inner2, rest, rest_len, &out);

    json_error_t je;
    json_t *j = json_loadb((const char *)rest, rest_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!j) j = json_stringn((const char *)rest, rest_len);
    if (j) {
        size_t before = out.len;
        rc = ch_encode_json(t, j, &out, &err);
        if (rc != 0 && (out.len != before || err.msg[0] == '\0')) abort();
        json_decref(j);
    }
    buf_free(&out);
done:
    arena_free(&a);
    free(text);
    return 0;
}
