/*
 * avro_binary.h — bounds-checked readers for Avro's binary encoding, shared
 * by every decoder in the codec (the RowBinary plan, Avro → JSON).
 *
 * A reader is a cursor over caller-owned bytes. Every read checks the bytes
 * left before touching them and returns 0 or a negative AVRO_E* code; the
 * caller turns the code and avro_reader_offset() into a message naming the
 * byte offset and the field. Inline because the plan calls them once per
 * field of every message.
 */
#ifndef SLUICE_CODEC_AVRO_BINARY_H
#define SLUICE_CODEC_AVRO_BINARY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct avro_reader {
    const uint8_t *start;
    const uint8_t *p;
    const uint8_t *end;
} avro_reader;

enum {
    AVRO_ETRUNCATED = -1, /* the value runs past the end of the input */
    AVRO_EVARINT = -2,    /* a varint longer than 10 bytes */
    AVRO_ERANGE = -3,     /* an int that does not fit 32 bits, a bad boolean byte */
    AVRO_ENEGATIVE = -4,  /* a negative length */
};

static inline void avro_reader_init(avro_reader *r, const void *data, size_t len)
{
    r->start = r->p = data;
    r->end = r->start + len;
}

static inline size_t avro_reader_offset(const avro_reader *r)
{
    return (size_t)(r->p - r->start);
}

static inline size_t avro_reader_left(const avro_reader *r)
{
    return (size_t)(r->end - r->p);
}

static inline const char *avro_strerror(int code)
{
    switch (code) {
    case AVRO_ETRUNCATED:
        return "truncated input";
    case AVRO_EVARINT:
        return "varint longer than 10 bytes";
    case AVRO_ERANGE:
        return "value out of range";
    case AVRO_ENEGATIVE:
        return "negative length";
    default:
        return "invalid input";
    }
}

/* zigzag varint, up to 10 bytes. */
static inline int avro_read_long(avro_reader *r, int64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end) return AVRO_ETRUNCATED;
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    return AVRO_EVARINT;
}

static inline int avro_read_int(avro_reader *r, int32_t *out)
{
    int64_t v;
    int rc = avro_read_long(r, &v);
    if (rc) return rc;
    if (v < INT32_MIN || v > INT32_MAX) return AVRO_ERANGE;
    *out = (int32_t)v;
    return 0;
}

static inline int avro_read_boolean(avro_reader *r, int *out)
{
    if (r->p >= r->end) return AVRO_ETRUNCATED;
    uint8_t b = *r->p++;
    if (b > 1) return AVRO_ERANGE;
    *out = b;
    return 0;
}

static inline int avro_read_float(avro_reader *r, float *out)
{
    if (avro_reader_left(r) < 4) return AVRO_ETRUNCATED;
    uint32_t bits = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
                    (uint32_t)r->p[3] << 24;
    memcpy(out, &bits, 4);
    r->p += 4;
    return 0;
}

static inline int avro_read_double(avro_reader *r, double *out)
{
    if (avro_reader_left(r) < 8) return AVRO_ETRUNCATED;
    uint64_t bits = 0;
    for (int i = 7; i >= 0; i--)
        bits = bits << 8 | r->p[i];
    memcpy(out, &bits, 8);
    r->p += 8;
    return 0;
}

/* Length-prefixed bytes or string: a pointer into the input. */
static inline int avro_read_bytes(avro_reader *r, const uint8_t **p, size_t *len)
{
    int64_t n;
    int rc = avro_read_long(r, &n);
    if (rc) return rc;
    if (n < 0) return AVRO_ENEGATIVE;
    if ((uint64_t)n > avro_reader_left(r)) return AVRO_ETRUNCATED;
    *p = r->p;
    *len = (size_t)n;
    r->p += n;
    return 0;
}

static inline int avro_read_fixed(avro_reader *r, size_t size, const uint8_t **p)
{
    if (size > avro_reader_left(r)) return AVRO_ETRUNCATED;
    *p = r->p;
    r->p += size;
    return 0;
}

/* The count of the next array/map block. A negative count is followed by
 * the block's size in bytes (which lets skippers jump over it); *count is
 * returned positive and *block_bytes set (-1 when not given). 0 ends. */
static inline int avro_read_block_count(avro_reader *r, int64_t *count, int64_t *block_bytes)
{
    int64_t n;
    int rc = avro_read_long(r, &n);
    if (rc) return rc;
    *block_bytes = -1;
    if (n < 0) {
        if (n == INT64_MIN) return AVRO_ERANGE;
        n = -n;
        rc = avro_read_long(r, block_bytes);
        if (rc) return rc;
        if (*block_bytes < 0) return AVRO_ENEGATIVE;
        if ((uint64_t)*block_bytes > avro_reader_left(r)) return AVRO_ETRUNCATED;
    }
    /* Every item takes at least one byte... except null and empty records,
     * so the count cannot be checked against the bytes left here; callers
     * bound the work by their own limits. */
    *count = n;
    return 0;
}

#endif
