/*
 * wire.c — Confluent framing (see include/sluice/wire.h). Reads are bounds
 * checked before every access; nothing here allocates.
 *
 * The Protobuf message-index array is read in the encoding the caller
 * names: the bytes cannot always say which one was written (zig-zag [1]
 * is 02 02, which also reads as the plain count 2 followed by 2 and
 * whatever byte comes next), so telling them apart needs the schema — a
 * path that names no message is the wrong reading. That decision lives
 * with the schema, in src/codec/proto_wire.c (proto_frame_resolve); here
 * each encoding is read strictly, every varint at most 10 bytes and every
 * value within int32, and errors count bytes from the frame's first byte.
 */
#include <sluice/wire.h>

#include <stdio.h>

int sluice_wire_read(const void *msg, size_t len, int32_t *schema_id, const uint8_t **payload,
                     size_t *payload_len, sluice_error *err)
{
    const uint8_t *p = msg;
    if (!p || len < SLUICE_WIRE_HEADER_SIZE)
        return sluice_error_set(err, SLUICE_EINVAL, "frame too short: %zu bytes, need %d", len,
                                SLUICE_WIRE_HEADER_SIZE);
    if (p[0] != SLUICE_WIRE_MAGIC)
        return sluice_error_set(
            err, SLUICE_EINVAL,
            "bad magic byte 0x%02x at offset 0 (not a Confluent-framed message)", p[0]);
    uint32_t id = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
    if (id > INT32_MAX)
        return sluice_error_set(err, SLUICE_EINVAL, "negative schema id %d at offset 1",
                                (int32_t)id);
    *schema_id = (int32_t)id;
    if (payload) *payload = p + SLUICE_WIRE_HEADER_SIZE;
    if (payload_len) *payload_len = len - SLUICE_WIRE_HEADER_SIZE;
    return 0;
}

void sluice_wire_write_header(uint8_t out[SLUICE_WIRE_HEADER_SIZE], int32_t schema_id)
{
    uint32_t id = (uint32_t)schema_id;
    out[0] = SLUICE_WIRE_MAGIC;
    out[1] = (uint8_t)(id >> 24);
    out[2] = (uint8_t)(id >> 16);
    out[3] = (uint8_t)(id >> 8);
    out[4] = (uint8_t)id;
}

int sluice_wire_is_framed(const void *msg, size_t len)
{
    const uint8_t *p = msg;
    return p && len >= SLUICE_WIRE_HEADER_SIZE && p[0] == SLUICE_WIRE_MAGIC;
}

/* One varint at p[*at], below end; *at moves past it. 0, or -1 when cut
 * short or longer than 10 bytes. */
static int read_varint(const uint8_t *p, size_t len, size_t *at, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0, i = 0; i < 10; i++, shift += 7) {
        if (*at >= len) return -1;
        uint8_t b = p[(*at)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* A varint of the array as a signed value, by the encoding. */
static int64_t decode_index(uint64_t raw, sluice_wire_index_encoding enc)
{
    if (enc == SLUICE_WIRE_INDEX_ZIGZAG) return (int64_t)(raw >> 1) ^ -(int64_t)(raw & 1);
    return raw > INT64_MAX ? -1 : (int64_t)raw;
}

static int index_fail(sluice_error *err, size_t at, const char *what)
{
    return sluice_error_set(err, SLUICE_EINVAL, "offset %zu: %s", at, what);
}

int sluice_wire_read_protobuf(const void *msg, size_t len, sluice_wire_index_encoding encoding,
                              int32_t *schema_id, int32_t *indexes, size_t *n_indexes,
                              const uint8_t **payload, size_t *payload_len, sluice_error *err)
{
    const uint8_t *body;
    size_t body_len;
    int rc = sluice_wire_read(msg, len, schema_id, &body, &body_len, err);
    if (rc) return rc;
    if (encoding != SLUICE_WIRE_INDEX_ZIGZAG && encoding != SLUICE_WIRE_INDEX_PLAIN)
        return sluice_error_set(err, SLUICE_EINVAL, "unknown message-index encoding %d",
                                (int)encoding);
    const uint8_t *p = msg;
    size_t at = SLUICE_WIRE_HEADER_SIZE;
    const char *enc_name = encoding == SLUICE_WIRE_INDEX_ZIGZAG ? "zig-zag" : "plain";
    if (at >= len)
        return index_fail(err, at,
                          "the message-index array is missing (the frame ends after "
                          "the schema id)");
    size_t count_at = at;
    uint64_t raw;
    if (read_varint(p, len, &at, &raw))
        return sluice_error_set(
            err, SLUICE_EINVAL, "offset %zu: the message-index count is %s", count_at,
            at >= len ? "cut short (varint truncated)" : "longer than 10 bytes");
    int64_t count = decode_index(raw, encoding);
    if (count < 0)
        return sluice_error_set(err, SLUICE_EINVAL,
                                "offset %zu: message-index count %lld is negative (%s)", count_at,
                                (long long)count, enc_name);
    if (count == 0) { /* the single byte 0x00: [0] */
        indexes[0] = 0;
        *n_indexes = 1;
    } else {
        if (count > SLUICE_WIRE_MAX_INDEXES)
            return sluice_error_set(err, SLUICE_EINVAL,
                                    "offset %zu: %lld message indexes; at most %d", count_at,
                                    (long long)count, SLUICE_WIRE_MAX_INDEXES);
        for (int64_t i = 0; i < count; i++) {
            size_t idx_at = at;
            if (read_varint(p, len, &at, &raw))
                return sluice_error_set(
                    err, SLUICE_EINVAL, "offset %zu: message index %lld of %lld is %s", idx_at,
                    (long long)i + 1, (long long)count,
                    at >= len ? "cut short (varint truncated)" : "longer than 10 bytes");
            int64_t v = decode_index(raw, encoding);
            if (v < 0 || v > INT32_MAX) {
                char what[96];
                snprintf(what, sizeof what, "message index %lld is out of range (%s)", (long long)v,
                         enc_name);
                return index_fail(err, idx_at, what);
            }
            indexes[i] = (int32_t)v;
        }
        *n_indexes = (size_t)count;
    }
    if (payload) *payload = p + at;
    if (payload_len) *payload_len = len - at;
    return 0;
}

static size_t write_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v > 0x7f) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t sluice_wire_write_message_indexes(uint8_t *out, const int32_t *indexes, size_t n,
                                         sluice_wire_index_encoding encoding)
{
    if (n == 0 || (n == 1 && indexes[0] == 0)) {
        out[0] = 0;
        return 1;
    }
    int zz = encoding == SLUICE_WIRE_INDEX_ZIGZAG;
    size_t w = write_varint(out, zz ? (uint64_t)n << 1 : (uint64_t)n);
    for (size_t i = 0; i < n; i++) {
        uint64_t v = (uint64_t)(uint32_t)indexes[i];
        w += write_varint(out + w, zz ? v << 1 : v);
    }
    return w;
}
