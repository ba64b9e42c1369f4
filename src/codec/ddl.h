/*
 * ddl.h — `sluice ddl`'s mapping from a registry schema: the schema as the
 * registry answers it (its schemaType, its text, the schemas it references,
 * resolved) to the columns the sink maps it onto (ddl_columns.h), by the
 * front end of its type.
 *
 * Pure functions over caller-owned data; any thread; not on a hot path.
 */
#ifndef SLUICE_CODEC_DDL_H
#define SLUICE_CODEC_DDL_H

#include <stddef.h>

#include <sluice/error.h>

#include "codec/ddl_columns.h"

/* A schema the mapped one references (Protobuf imports, JSON Schema $refs),
 * as sluice_sr_resolve_references lists them: the name it is referenced by
 * and its text. */
typedef struct ddl_reference {
    const char *name;
    const char *text;
    size_t len;
} ddl_reference;

/* The columns for a schema as the registry returns it: schema_type "AVRO"
 * (or NULL/"", which the registry means as Avro), "PROTOBUF" or "JSON",
 * its text and the schemas it references (already resolved; NULL/0 when
 * none). An unknown type is SLUICE_EUNSUPPORTED, naming it and the ones
 * known. */
int ddl_columns_for_schema(const char *schema_type, const char *text, size_t len,
                           const ddl_reference *refs, size_t n_refs, const ddl_options *opt,
                           ddl_columns *out, sluice_error *err);

#endif
