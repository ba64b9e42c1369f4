/*
 * proto_compat.h — Confluent Schema Registry's compatibility rules for
 * Protobuf, on the C model of proto_schema.h (implemented in proto_compat.c).
 *
 * The check compares an `original` schema with an `update` the way
 * Confluent's ProtobufSchema does (its diff package): it lists every
 * difference (field added, field number reused with another wire type,
 * message removed, field moved into a oneof, …) and the update is
 * compatible when every difference is one of the kinds Confluent counts as
 * compatible. A registry asks it in the direction each level wants:
 * BACKWARD compares (original = an existing version, update = the new
 * schema), FORWARD the other way round, FULL both.
 *
 * Pure and thread safe: both schemas are read-only.
 */
#ifndef SLUICE_CODEC_PROTO_COMPAT_H
#define SLUICE_CODEC_PROTO_COMPAT_H

#include <stddef.h>

#include <sluice/error.h>

#include "codec/proto_schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 compatible, 0 not (reason gets the incompatible differences, e.g.
 * "FIELD_SCALAR_KIND_CHANGED at #/Order/2: field 2 changed from int64 to
 * string, which is not wire-compatible"), < 0 when the comparison could not
 * run (err: out of memory, or a schema too large to compare). */
int proto_schema_compatible(const proto_schema *original, const proto_schema *update, char *reason,
                            size_t reason_len, sluice_error *err);

#ifdef __cplusplus
}
#endif
#endif
