/*
 * proto_wire.c — the parts of the Protobuf wire reader that are not inline
 * (proto_wire.h has the design): skipping values, spelling errors, and
 * resolving a Confluent frame's message-index array against a schema.
 *
 * Only the C model of proto_schema.h is read here (no call into the C++
 * side), so this file and the plan built on it stay in libsluice's C
 * objects.
 */
#include "codec/proto_wire.h"

#include <stdio.h>
#include <string.h>

const char *proto_strerror(int code)
{
    switch (code) {
    case PROTO_OK:
        return "ok";
    case PROTO_ETRUNCATED:
        return "truncated input";
    case PROTO_EVARINT:
        return "varint longer than 10 bytes";
    case PROTO_ELENGTH:
        return "length runs past the end of the message";
    case PROTO_EWIRETYPE:
        return "invalid wire type (6 or 7)";
    case PROTO_EFIELD:
        return "invalid field number (0, or above 536870911)";
    case PROTO_EGROUP:
        return "end-group tag without its start group";
    case PROTO_EDEPTH:
        return "groups nested too deeply";
    default:
        return "malformed Protobuf";
    }
}

const char *proto_wire_name(int wire)
{
    static const char *const names[] = {"VARINT", "I64", "LEN", "SGROUP", "EGROUP", "I32"};
    return wire >= 0 && wire <= 5 ? names[wire] : "invalid";
}

/* One value of a wire type other than a group. */
static int skip_plain(proto_reader *r, int wire)
{
    uint64_t v;
    const uint8_t *d;
    size_t n;
    switch (wire) {
    case PROTO_WIRE_VARINT:
        return proto_read_varint(r, &v);
    case PROTO_WIRE_I64:
        if (proto_reader_left(r) < 8) return PROTO_ETRUNCATED;
        r->p += 8;
        return PROTO_OK;
    case PROTO_WIRE_LEN:
        return proto_read_len(r, &d, &n);
    case PROTO_WIRE_I32:
        if (proto_reader_left(r) < 4) return PROTO_ETRUNCATED;
        r->p += 4;
        return PROTO_OK;
    case PROTO_WIRE_EGROUP:
        return PROTO_EGROUP;
    default:
        return PROTO_EWIRETYPE;
    }
}

int proto_skip_value(proto_reader *r, uint32_t number, int wire)
{
    if (wire != PROTO_WIRE_SGROUP) return skip_plain(r, wire);
    /* A group: fields up to the end tag of the same number; groups inside
     * it nest on a small explicit stack (no recursion on input depth). */
    uint32_t open[PROTO_MAX_GROUP_DEPTH];
    int depth = 0;
    open[depth++] = number;
    while (depth > 0) {
        uint32_t n;
        int w, rc = proto_read_tag(r, &n, &w);
        if (rc) return rc;
        if (w == PROTO_WIRE_SGROUP) {
            if (depth == PROTO_MAX_GROUP_DEPTH) return PROTO_EDEPTH;
            open[depth++] = n;
        } else if (w == PROTO_WIRE_EGROUP) {
            if (open[depth - 1] != n) return PROTO_EGROUP;
            depth--;
        } else if ((rc = skip_plain(r, w)) != 0) {
            return rc;
        }
    }
    return PROTO_OK;
}

const proto_message *proto_message_at_path(const proto_file *root, const int32_t *path, size_t n)
{
    if (!root || n == 0) return root && root->n_messages ? &root->messages[0] : NULL;
    if (path[0] < 0 || (size_t)path[0] >= root->n_messages) return NULL;
    const proto_message *m = &root->messages[path[0]];
    for (size_t i = 1; i < n; i++) {
        if (path[i] < 0 || (size_t)path[i] >= m->n_nested) return NULL;
        m = &m->nested[path[i]];
    }
    return m;
}

int proto_index_mode_parse(const char *text)
{
    if (!text) return -1;
    if (strcmp(text, "auto") == 0) return PROTO_INDEX_AUTO;
    if (strcmp(text, "zigzag") == 0) return PROTO_INDEX_ZIGZAG;
    if (strcmp(text, "plain") == 0) return PROTO_INDEX_PLAIN;
    return -1;
}

static void path_text(const int32_t *path, size_t n, char *out, size_t cap)
{
    size_t w = (size_t)snprintf(out, cap, "[");
    for (size_t i = 0; i < n && w < cap; i++)
        w += (size_t)snprintf(out + w, cap - w, "%s%d", i ? ", " : "", (int)path[i]);
    if (w < cap) snprintf(out + w, cap - w, "]");
}

/* Why a path names no message, for the error. */
static void path_miss(const proto_file *root, const int32_t *path, size_t n, char *out, size_t cap)
{
    char p[256];
    path_text(path, n, p, sizeof p);
    if (path[0] < 0 || (size_t)path[0] >= root->n_messages) {
        snprintf(out, cap,
                 "message-index path %s names no message of %s (it has %zu top-level "
                 "message%s)",
                 p, root->name ? root->name : "the schema", root->n_messages,
                 root->n_messages == 1 ? "" : "s");
        return;
    }
    const proto_message *m = &root->messages[path[0]];
    size_t i = 1;
    while (i < n && path[i] >= 0 && (size_t)path[i] < m->n_nested)
        m = &m->nested[path[i++]];
    snprintf(out, cap, "message-index path %s names no message: %s has %zu nested message%s", p,
             m->full_name, m->n_nested, m->n_nested == 1 ? "" : "s");
}

typedef struct reading {
    int ok; /* 0: the bytes do not read this way; 1: read, names a message */
    int32_t path[SLUICE_WIRE_MAX_INDEXES];
    size_t n;
    size_t payload_at;
    const proto_message *m;
    sluice_error err;
} reading;

static void read_as(const proto_file *root, const uint8_t *msg, size_t len,
                    sluice_wire_index_encoding enc, reading *out)
{
    int32_t id;
    const uint8_t *payload;
    size_t payload_len;
    out->ok = 0;
    if (sluice_wire_read_protobuf(msg, len, enc, &id, out->path, &out->n, &payload, &payload_len,
                                  &out->err) != 0)
        return;
    out->payload_at = (size_t)(payload - msg);
    out->m = proto_message_at_path(root, out->path, out->n);
    if (!out->m) {
        char why[400];
        path_miss(root, out->path, out->n, why, sizeof why);
        sluice_error_set(&out->err, SLUICE_EINVAL, "offset %d: %s (%s message indexes)",
                         SLUICE_WIRE_HEADER_SIZE, why,
                         enc == SLUICE_WIRE_INDEX_ZIGZAG ? "zig-zag" : "plain");
        return;
    }
    out->ok = 1;
}

static int take(const reading *r, int32_t *path, size_t *n_path, const proto_message **message,
                size_t *payload_at)
{
    memcpy(path, r->path, r->n * sizeof *path);
    *n_path = r->n;
    *message = r->m;
    *payload_at = r->payload_at;
    return 0;
}

int proto_frame_resolve(const proto_file *root, const uint8_t *msg, size_t len,
                        proto_index_mode mode, int32_t *path, size_t *n_path,
                        const proto_message **message, size_t *payload_at, sluice_error *err)
{
    *message = NULL;
    if (!root || root->n_messages == 0)
        return sluice_error_set(err, SLUICE_EINVAL, "the schema has no message types");
    reading *z = &(reading){0}, *p = &(reading){0};
    if (mode != PROTO_INDEX_PLAIN) read_as(root, msg, len, SLUICE_WIRE_INDEX_ZIGZAG, z);
    if (mode != PROTO_INDEX_ZIGZAG) read_as(root, msg, len, SLUICE_WIRE_INDEX_PLAIN, p);
    if (mode == PROTO_INDEX_ZIGZAG || mode == PROTO_INDEX_PLAIN) {
        reading *r = mode == PROTO_INDEX_ZIGZAG ? z : p;
        if (!r->ok) return sluice_error_set(err, r->err.code, "%s", r->err.msg);
        return take(r, path, n_path, message, payload_at);
    }
    /* AUTO. [0] spelled in more than one byte is written by neither kind
     * of client; the other reading is then the real one. */
    if (z->ok && z->n == 1 && z->path[0] == 0 && z->payload_at > SLUICE_WIRE_HEADER_SIZE + 1 &&
        p->ok)
        z->ok = 0;
    if (p->ok && p->n == 1 && p->path[0] == 0 && p->payload_at > SLUICE_WIRE_HEADER_SIZE + 1 &&
        z->ok)
        p->ok = 0;
    if (z->ok && p->ok) {
        if (z->payload_at == p->payload_at && z->m == p->m)
            return take(z, path, n_path, message, payload_at); /* 0x00: [0] in both */
        char zt[256], pt[256];
        path_text(z->path, z->n, zt, sizeof zt);
        path_text(p->path, p->n, pt, sizeof pt);
        return sluice_error_set(err, SLUICE_EINVAL,
                                "offset %d: the message-index array reads as %s (%s) in zig-zag "
                                "varints and as %s (%s) in plain varints; set the route's "
                                "message-index encoding (zigzag or plain)",
                                SLUICE_WIRE_HEADER_SIZE, zt, z->m->full_name, pt, p->m->full_name);
    }
    if (z->ok) return take(z, path, n_path, message, payload_at);
    if (p->ok) return take(p, path, n_path, message, payload_at);
    /* Neither: the zig-zag reading's reason, unless only the plain one
     * read at all (then its path is what is wrong). */
    const reading *why = z;
    if (strstr(z->err.msg, "names no message") == NULL &&
        strstr(p->err.msg, "names no message") != NULL)
        why = p;
    return sluice_error_set(err, why->err.code ? why->err.code : SLUICE_EINVAL, "%s", why->err.msg);
}

int proto_wrapper_type(const proto_message *m)
{
    static const struct {
        const char *name;
        proto_type type;
    } wrappers[] = {{"google.protobuf.DoubleValue", PROTO_DOUBLE},
                    {"google.protobuf.FloatValue", PROTO_FLOAT},
                    {"google.protobuf.Int64Value", PROTO_INT64},
                    {"google.protobuf.UInt64Value", PROTO_UINT64},
                    {"google.protobuf.Int32Value", PROTO_INT32},
                    {"google.protobuf.UInt32Value", PROTO_UINT32},
                    {"google.protobuf.BoolValue", PROTO_BOOL},
                    {"google.protobuf.StringValue", PROTO_STRING},
                    {"google.protobuf.BytesValue", PROTO_BYTES}};
    if (!m || !m->full_name) return 0;
    for (size_t i = 0; i < sizeof wrappers / sizeof wrappers[0]; i++)
        if (strcmp(m->full_name, wrappers[i].name) == 0) return wrappers[i].type;
    return 0;
}

int proto_is_timestamp(const proto_message *m)
{
    return m && m->full_name && strcmp(m->full_name, "google.protobuf.Timestamp") == 0;
}
