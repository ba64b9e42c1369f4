/*
 * response.h — parsing what a Schema Registry answers.
 *
 * Pure functions over (status, body) so they can be fuzzed without a
 * network. Every check names the request and the field: a registry (ours,
 * Confluent's, Karapace, Redpanda) that answers something unexpected gets a
 * clear error, never a crash or a half-filled schema.
 */
#ifndef SLUICE_SR_RESPONSE_H
#define SLUICE_SR_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

#include "sr/schema_obj.h"

/* An error answer (status >= 400) to the request `what` (e.g. "GET
 * /schemas/ids/7"): maps Confluent's error_code to a sluice_err (404xx ->
 * SLUICE_ENOTFOUND, 409 -> SLUICE_ECONFLICT, 422xx -> SLUICE_EINVAL, 401/403
 * -> SLUICE_EAUTH, else SLUICE_EREMOTE), remote_code = error_code (or the
 * status when the body has none). Always returns the (negative) code. */
int sr_response_error(const char *what, long status, const char *body, size_t len,
                      sluice_error *err);

/* {"schema": "...", "schemaType"?: "...", "references"?: [...]} for
 * GET /schemas/ids/{id}. */
int sr_response_schema_by_id(const char *what, int32_t id, const char *body, size_t len,
                             sr_schema **out, sluice_error *err);

/* {"subject","version","id","schema","schemaType"?,"references"?} for
 * GET /subjects/{s}/versions/{v} and POST /subjects/{s} (lookup). When
 * `schema_text` is given (lookup), a missing "schema" field is filled from it. */
int sr_response_subject_version(const char *what, const char *body, size_t len,
                                const char *schema_text, sr_schema **out, sluice_error *err);

/* {"id": N} for POST /subjects/{s}/versions. */
int sr_response_register(const char *what, const char *body, size_t len, int32_t *id,
                         sluice_error *err);

#endif
