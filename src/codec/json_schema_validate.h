/*
 * json_schema_validate.h — a JSON Schema (json_schema.h, already parsed and
 * its $refs resolved) compiled into a validator that runs on the streaming
 * JSON reader (json_lex.h): one pass over the text, no tree, every problem
 * of a value collected with its $.path, as the Avro encoder does. Ingest
 * validates JSON-Schema subjects' events with it; the sink's JSON plan is
 * meant to run it on Confluent-framed JSON messages.
 *
 * The subset (documented in docs/ARCHITECTURE.md, "JSON Schema"): type
 * (one or a list, null included; "integer" is any number with no fraction,
 * 1.0 included), properties, required, additionalProperties (true, false
 * or a schema), enum, const, items (one schema, or a list of positions
 * with anything allowed past them), minItems/maxItems, minimum/maximum and
 * exclusiveMinimum/exclusiveMaximum, minLength/maxLength (in code points),
 * pattern (read as a POSIX extended regular expression, regcomp(3), over
 * bytes: ECMA-262, which JSON Schema names, differs in its escapes, so a
 * pattern with a backslash before a letter or digit (\d, \w, \u00e9, \1)
 * or with "(?" is refused rather than read otherwise — write [0-9] for
 * \d — and '.' matches one byte, not one character), format
 * date-time (RFC 3339: a date, 'T', a time and a zone), date and uuid, $ref
 * within the document and into referenced documents, boolean schemas.
 * Annotations (title, description, default, examples, $comment, ...) are
 * ignored. Any other keyword that validates — allOf/anyOf/oneOf/not,
 * if/then/else, patternProperties, propertyNames, dependencies,
 * min/maxProperties, contains, uniqueItems, additionalItems, multipleOf,
 * another format, the 2019-09/2020-12 keywords — is refused when the
 * validator is compiled, naming the keyword and where it is
 * ("#/properties/tags/uniqueItems: keyword uniqueItems is not supported"),
 * so that no schema is ever checked only in part.
 *
 * Ownership: a validator is immutable once compiled and may be shared by
 * threads (POSIX regexec is thread-safe on a compiled regex_t); it points
 * into the json_schema, which must outlive it. A run uses only its
 * arguments.
 */
#ifndef SLUICE_CODEC_JSON_SCHEMA_VALIDATE_H
#define SLUICE_CODEC_JSON_SCHEMA_VALIDATE_H

#include <sluice/error.h>

#include "codec/avro_json.h"
#include "codec/json_lex.h"
#include "codec/json_schema.h"

typedef struct json_validator json_validator;

/* Compile the schema's root. SLUICE_EUNSUPPORTED names a keyword outside
 * the subset and its place ("refs/address.json#/properties/zip/pattern:
 * ..."); SLUICE_ENOMEM. */
int json_validator_compile(const json_schema *schema, json_validator **out, sluice_error *err);
void json_validator_free(json_validator *v);

/* Validate the one JSON value at lx's position. 0: valid, lx after the
 * value. SLUICE_EINVAL: every problem found (up to AVRO_JSON_MAX_ERRORS,
 * then `truncated`) in *errs (may be NULL), each as "$.a.b[2]" and a
 * message; lx after the value. SLUICE_EPARSE: not JSON (lx->err, err_at,
 * err_msg say where). */
int json_validator_run(const json_validator *v, json_lex *lx, avro_json_errors *errs);

#endif
