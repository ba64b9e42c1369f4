/*
 * schema_types.h — the registry's view of a schema of any of Confluent's
 * three types (AVRO, PROTOBUF, JSON): parse with its references, the
 * normalised text that is its dedupe key, the text GET returns, and the
 * compatibility of two schemas of one type.
 *
 * Each type's real work is in the codec (avro_schema.c / avro_compat.c,
 * proto_schema.cc / proto_compat.c, json_schema.c / json_schema_compat.c);
 * this file only dispatches, so that api.c and compat.c handle the three
 * alike. Pure: no store access (references arrive already loaded, see
 * refs.h). Called on httpd worker threads; a reg_schema has one owner.
 */
#ifndef SLUICE_REGISTRY_SCHEMA_TYPES_H
#define SLUICE_REGISTRY_SCHEMA_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/avro.h>
#include <sluice/error.h>

#include "codec/json_schema.h"
#include "codec/proto_schema.h"

typedef enum reg_type { REG_AVRO, REG_PROTOBUF, REG_JSON } reg_type;

/* "AVRO", "PROTOBUF", "JSON" (case-sensitive, as Confluent); NULL = AVRO.
 * 0, or -1 for anything else. */
int reg_type_parse(const char *name, reg_type *out);
const char *reg_type_name(reg_type t);

/* A referenced schema, loaded: what a parser needs to resolve an import or
 * a `$ref` named `name`. */
typedef struct reg_dep {
    char *name;
    char *subject;
    int64_t version;
    reg_type type;
    char *text;
} reg_dep;

typedef struct reg_schema {
    reg_type type;
    sluice_avro_schema *avro;
    const sluice_avro_node *avro_root; /* the root's node (a wrapper holds references) */
    proto_schema *proto;
    json_schema *json;
    char *normalized; /* malloc'd dedupe key */
} reg_schema;

/* Parse and validate. deps are every schema the references reach (refs.c
 * loads them), dependencies before dependents. Errors are the parser's,
 * naming the place (they become 42201 answers). */
int reg_schema_parse(reg_type type, const char *text, size_t len, const reg_dep *deps,
                     size_t n_deps, reg_schema **out, sluice_error *err);
void reg_schema_free(reg_schema *s);

/* The text to store and serve for a schema registered as `submitted`:
 * itself, except a Protobuf schema sent as a base64 FileDescriptorProto,
 * which is served as the .proto text it renders to (as Confluent does;
 * `?format=serialized` gives the base64 form back). */
const char *reg_schema_stored_text(const reg_schema *s, const char *submitted);

/* Is data that `original` accepts acceptable to `update`? (Confluent's
 * direction: BACKWARD asks (old, new), FORWARD (new, old).) 1 yes, 0 no
 * with reason filled, < 0 on an error (err). Both must be of one type. */
int reg_schema_compatible(const reg_schema *original, const reg_schema *update, char *reason,
                          size_t reason_len, sluice_error *err);

#endif
