/*
 * proto_wire.h — the Protobuf wire format, read: bounds-checked readers
 * for varints, fixed-width values and length-delimited spans (inline,
 * because the Protobuf plan calls them per field), skipping a value of any
 * wire type (groups included, to a fixed depth), and the framing step that
 * turns a Confluent frame into the message type it was written with.
 *
 * Every reader checks the bytes left before it touches one and moves only
 * on success; a failure is a PROTO_E* code that proto_strerror() spells,
 * and the caller adds the offset (proto_reader_offset) and the field path.
 *
 * Framing (proto_frame_resolve): Confluent writes a message-index array
 * between the schema id and the message, in zig-zag varints (Java, Go,
 * python-confluent-kafka >= 1.8.2) or plain varints (python-confluent-kafka
 * <= 1.8.1, the "deprecated format"). A route says which, or asks for
 * detection (PROTO_INDEX_AUTO): the single byte 0x00 is [0] in both; an odd
 * count, or an odd index varint, cannot be zig-zag (it would be negative);
 * a path that names no message of the schema is not the one written; and
 * a path of [0] spelled with more than one byte is one no writer of either
 * kind produces (both write [0] as 0x00). When both readings survive all
 * of that — e.g. 02 02 00 is zig-zag [1] and plain [2, 0] in a schema that
 * has both — detection refuses the message with both readings named
 * instead of guessing; the route then has to name its encoding.
 *
 * Pure functions over caller-owned bytes; safe from any thread.
 */
#ifndef SLUICE_CODEC_PROTO_WIRE_H
#define SLUICE_CODEC_PROTO_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>
#include <sluice/wire.h>

#include "codec/proto_schema.h"

enum {
    PROTO_OK = 0,
    PROTO_ETRUNCATED = 1, /* the input ends inside a value */
    PROTO_EVARINT = 2,    /* a varint longer than 10 bytes */
    PROTO_ELENGTH = 3,    /* a length past the end of the input (or the enclosing message) */
    PROTO_EWIRETYPE = 4,  /* wire type 6 or 7 */
    PROTO_EFIELD = 5,     /* field number 0 (or past 2^29 - 1) */
    PROTO_EGROUP = 6,     /* an end-group tag without its start, or of another field */
    PROTO_EDEPTH = 7,     /* groups nested deeper than PROTO_MAX_GROUP_DEPTH */
};

#define PROTO_MAX_GROUP_DEPTH 64
#define PROTO_MAX_FIELD_NUMBER 536870911 /* 2^29 - 1 */

const char *proto_strerror(int code);
/* "VARINT", "I64", "LEN", "SGROUP", "EGROUP", "I32". */
const char *proto_wire_name(int wire);

typedef struct proto_reader {
    const uint8_t *base; /* offsets count from here (the frame's or payload's first byte) */
    const uint8_t *p;
    const uint8_t *end; /* end of the current message (nested messages narrow it) */
} proto_reader;

static inline void proto_reader_init(proto_reader *r, const uint8_t *base, const uint8_t *p,
                                     size_t len)
{
    r->base = base;
    r->p = p;
    r->end = p + len;
}

static inline size_t proto_reader_offset(const proto_reader *r)
{
    return (size_t)(r->p - r->base);
}

static inline size_t proto_reader_left(const proto_reader *r)
{
    return (size_t)(r->end - r->p);
}

/* A varint of up to 10 bytes; bits past 64 are dropped, as libprotobuf
 * does. */
static inline int proto_read_varint(proto_reader *r, uint64_t *out)
{
    const uint8_t *p = r->p;
    if (p < r->end && !(*p & 0x80)) { /* one byte: most tags and small values */
        *out = *p;
        r->p = p + 1;
        return PROTO_OK;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (p >= r->end) return PROTO_ETRUNCATED;
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            r->p = p;
            return PROTO_OK;
        }
    }
    return PROTO_EVARINT;
}

static inline int proto_read_fixed32(proto_reader *r, uint32_t *out)
{
    if (proto_reader_left(r) < 4) return PROTO_ETRUNCATED;
    const uint8_t *p = r->p;
    *out = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    r->p += 4;
    return PROTO_OK;
}

static inline int proto_read_fixed64(proto_reader *r, uint64_t *out)
{
    if (proto_reader_left(r) < 8) return PROTO_ETRUNCATED;
    const uint8_t *p = r->p;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    *out = v;
    r->p += 8;
    return PROTO_OK;
}

/* A length-delimited span: its bytes stay in the input. */
static inline int proto_read_len(proto_reader *r, const uint8_t **data, size_t *len)
{
    uint64_t n;
    int rc = proto_read_varint(r, &n);
    if (rc) return rc;
    if (n > proto_reader_left(r)) return PROTO_ELENGTH;
    *data = r->p;
    *len = (size_t)n;
    r->p += n;
    return PROTO_OK;
}

/* A tag: field number and wire type, both checked (number 1 .. 2^29-1,
 * wire type 0 .. 5). */
static inline int proto_read_tag(proto_reader *r, uint32_t *number, int *wire)
{
    uint64_t t;
    int rc = proto_read_varint(r, &t);
    if (rc) return rc;
    *wire = (int)(t & 7);
    if (*wire > 5) return PROTO_EWIRETYPE;
    if (t >> 3 == 0 || t >> 3 > PROTO_MAX_FIELD_NUMBER) return PROTO_EFIELD;
    *number = (uint32_t)(t >> 3);
    return PROTO_OK;
}

/* Skip the value of a field whose tag was just read (a group up to its
 * matching end tag). */
int proto_skip_value(proto_reader *r, uint32_t number, int wire);

/* The message at a Confluent message-index path of the root file
 * (path[0] a top-level message, each next a nested message, map entries
 * counted as protoc lists them); NULL when out of range. */
const proto_message *proto_message_at_path(const proto_file *root, const int32_t *path, size_t n);

typedef enum proto_index_mode {
    PROTO_INDEX_AUTO,   /* detect, where the bytes and the schema make it unambiguous */
    PROTO_INDEX_ZIGZAG, /* Confluent's encoding */
    PROTO_INDEX_PLAIN,  /* python-confluent-kafka <= 1.8.1 */
} proto_index_mode;

/* "auto", "zigzag", "plain" → the mode; -1 for anything else. */
int proto_index_mode_parse(const char *text);

/* A framed Protobuf message (msg, len: the whole frame, header included)
 * written with the schema whose root file is root: the message type its
 * index array names (*message, with the path in path[0 .. *n_path), room
 * for SLUICE_WIRE_MAX_INDEXES) and where the Protobuf bytes start
 * (*payload_at). Errors name the byte offset in the frame and, when the
 * path names nothing, the path: "offset 5: message-index path [3] names no
 * message of schema.proto (it has 2 top-level messages)". */
int proto_frame_resolve(const proto_file *root, const uint8_t *msg, size_t len,
                        proto_index_mode mode, int32_t *path, size_t *n_path,
                        const proto_message **message, size_t *payload_at, sluice_error *err);

/* google.protobuf's well-known messages that are one value, not a record
 * (the plan, ingest's JSON mapping and sluice ddl all read them so): the
 * scalar type a *Value wrapper wraps (Int64Value: PROTO_INT64), 0 for any
 * other message or NULL; and whether m is google.protobuf.Timestamp. */
int proto_wrapper_type(const proto_message *m);
int proto_is_timestamp(const proto_message *m);

#endif
