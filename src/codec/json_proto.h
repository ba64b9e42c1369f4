/*
 * json_proto.h — JSON text → Protobuf binary in one pass, with no tree:
 * what ingest runs on each event of a topic whose subject is PROTOBUF.
 *
 * The JSON is read as proto3's JSON mapping (protobuf.dev, "ProtoJSON"):
 * a field by its json_name ("userId") or its proto name ("user_id"), null
 * for "absent", 64-bit integers as numbers or strings, floats also as
 * "NaN"/"Infinity"/"-Infinity" or numeric strings, bytes as base64
 * (standard or URL-safe, padding optional), enums by name or number,
 * repeated fields as arrays, maps as objects (keys as strings),
 * google.protobuf.Timestamp as an RFC 3339 string, Duration as "1.5s",
 * the wrapper types (Int64Value, StringValue, ...) as their bare value.
 * Fields not in the message are errors (nothing is silently dropped), as
 * are two members of one oneof, a proto2 required field left out, and a
 * field given under both of its names (python's json_format keeps the
 * last; an event that says two things about one field is refused here).
 * Struct, Value, ListValue, Any and FieldMask fields are refused per value
 * ("not supported by sluice's encoder").
 *
 * The bytes are what libprotobuf would write for the same message except
 * for field order: fields are written as the JSON gives them (any order is
 * valid Protobuf and every decoder reads them the same). Fields without
 * presence holding their default (0, "", false, the enum's zero) are left
 * out, as proto3 serializers do; repeated scalars are packed unless the
 * field says otherwise; a nested message's length is reserved as one byte
 * and the message moved only when it passes 127 bytes.
 *
 * Errors are collected with their $.path like the Avro encoder's
 * (json_avro.h): the walk goes on past a bad value, so one call reports
 * every problem of an event (up to AVRO_JSON_MAX_ERRORS).
 *
 * Threads: a compiled json_proto is immutable and shared; it points into
 * the proto_schema, which must outlive it. A call uses only its
 * arguments.
 */
#ifndef SLUICE_CODEC_JSON_PROTO_H
#define SLUICE_CODEC_JSON_PROTO_H

#include <sluice/error.h>

#include "codec/avro_json.h"
#include "codec/json_lex.h"
#include "codec/proto_schema.h"
#include "common/buf.h"

typedef struct json_proto json_proto;

/* Messages nested deeper than this are refused (libprotobuf's own
 * recursion limit is 100). */
#define JSON_PROTO_MAX_DEPTH 100

/* Compile the encoder for message m (and every message it reaches). */
int json_proto_compile(const proto_message *m, json_proto **out, sluice_error *err);
void json_proto_free(json_proto *p);

/* Encode the one JSON value at lx's position (an object) as Protobuf,
 * appending to out. Returns 0 (lx after the value); SLUICE_EINVAL with
 * every error in *errs (may be NULL), out rolled back, lx after the value;
 * SLUICE_EPARSE when the text is not JSON (lx->err, err_at, err_msg say
 * where), out rolled back; SLUICE_ENOMEM when out's cap is reached. */
int json_proto_encode(const json_proto *p, json_lex *lx, buf *out, avro_json_errors *errs);

#endif
