/*
 * json_schema_compat.h — Confluent Schema Registry's compatibility rules for
 * JSON Schema, on the node graph of json_schema.h (implemented in
 * json_schema_compat.c).
 *
 * Like Confluent's JsonSchema, the check lists the differences between an
 * `original` and an `update` (a property added to a closed or open content
 * model, a required property added without a default, a type narrowed, an
 * enum narrowed, a maximum lowered, …) and the update is compatible when
 * every difference is of a kind Confluent counts as compatible. The
 * registry asks BACKWARD as (original = existing version, update = new
 * schema), FORWARD the other way round, FULL both.
 *
 * Pure and thread safe: both schemas are read-only.
 */
#ifndef SLUICE_CODEC_JSON_SCHEMA_COMPAT_H
#define SLUICE_CODEC_JSON_SCHEMA_COMPAT_H

#include <stddef.h>

#include <sluice/error.h>

#include "codec/json_schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 compatible, 0 not (reason gets the incompatible differences, e.g.
 * "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL at #/properties/b: ..."),
 * < 0 when the comparison could not run (err). */
int json_schema_compatible(const json_schema *original, const json_schema *update, char *reason,
                           size_t reason_len, sluice_error *err);

#ifdef __cplusplus
}
#endif
#endif
