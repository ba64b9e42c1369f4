/*
 * api_int.h — what the registry's two handler files share: api.c (routing,
 * reads, deletes, config and mode) and api_schemas.c (the handlers that
 * take a schema in the body: register, look up, test compatibility).
 * Internal to src/registry/.
 */
#ifndef SLUICE_REGISTRY_API_INT_H
#define SLUICE_REGISTRY_API_INT_H

#include <jansson.h>
#include <stdint.h>

#include "common/httpd.h"
#include "registry/api.h"
#include "registry/refs.h"
#include "registry/schema_types.h"
#include "registry/store.h"

#define CT_REGISTRY "application/vnd.schemaregistry.v1+json"

struct reply {
    httpd_response *resp;
    const char *endpoint;
};

/* Answers. reply_json takes body; reply_error's status is the first three
 * digits of a five-digit Confluent code (42201 → 422), else the code. */
void api_reply_json(struct reply *r, int status, json_t *body);
void api_reply_error(struct reply *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void api_reply_store_error(struct reply *r, const sluice_error *err);

int api_query_true(const httpd_request *req, const char *name);
/* The body as a JSON object; answers 400 (naming line and column) and
 * returns NULL when it is not one. */
json_t *api_body_object(struct reply *r, const httpd_request *req);
/* "latest"/"-1" → -1, 1..2^31-1 → itself; otherwise answers 42202 and
 * returns 0. */
int64_t api_version_or_reply(struct reply *r, const char *s);
/* 40401 / 40402 for a (subject, version) the store did not find. */
void api_not_found_subject_or_version(struct reply *r, reg_conn *c, const char *subject,
                                      int64_t version);

/* The subject's effective level and mode (its own, else the global one,
 * else BACKWARD / READWRITE); < 0 on a store error. */
int api_effective_level(reg_conn *c, const char *subject, sluice_error *err);
int api_effective_mode(reg_conn *c, const char *subject, char mode[32], sluice_error *err);

/* A stored schema (by id or a version) parsed with its references. */
int api_parse_stored(reg_conn *c, const reg_version *v, reg_schema **out, sluice_error *err);

/* The JSON answer for a version: subject, version, id, schema and, when not
 * AVRO / not empty, schemaType and references. */
json_t *api_version_json(const char *subject, const reg_version *v);
/* schemaType (unless AVRO) and references (unless none) of v, into o. */
void api_add_type_and_refs(json_t *o, const reg_version *v);

/* api_schemas.c */
void api_register(struct reply *r, reg_conn *c, const httpd_request *req, const char *subject);
void api_lookup(struct reply *r, reg_conn *c, const httpd_request *req, const char *subject);
void api_test_compatibility(struct reply *r, reg_conn *c, const httpd_request *req,
                            const char *subject, const char *version);

#endif
