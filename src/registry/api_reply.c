/*
 * api_reply.c — what every endpoint of the registry API shares (declared
 * in api_int.h): answers and errors in Confluent's shape, the request's
 * query flags and JSON body, versions by number or "latest", the effective
 * compatibility level and mode of a subject, stored schemas parsed, and a
 * version as JSON. api.c (routing, reads, deletes, config) and
 * api_schemas.c (register, look up, test) both call down into it.
 */
#include "registry/api_int.h"
#include "registry/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- responses ----------------------------------------------------------- */

void api_reply_json(struct reply *r, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(body);
    if (!text) {
        httpd_respond_printf(r->resp, 500, CT_REGISTRY,
                             "{\"error_code\":50001,\"message\":\"out of memory\"}");
        return;
    }
    httpd_respond(r->resp, status, CT_REGISTRY, text, strlen(text));
    free(text);
}

void api_reply_error(struct reply *r, int code, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int status = code >= 1000 ? code / 100 : code;
    api_reply_json(r, status, json_pack("{s:i,s:s}", "error_code", code, "message", msg));
}

void api_reply_store_error(struct reply *r, const sluice_error *err)
{
    api_reply_error(r, 50001, "Error in the backend data store: %s", err->msg);
}

/* ---- requests ------------------------------------------------------------ */

int api_query_true(const httpd_request *req, const char *name)
{
    const char *v = httpd_request_query(req, name);
    return v && strcasecmp(v, "true") == 0;
}

json_t *api_body_object(struct reply *r, const httpd_request *req)
{
    json_error_t je;
    json_t *root =
        json_loadb(req->body ? req->body : "", req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        api_reply_error(r, 400, "Malformed JSON request body: %s at line %d column %d", je.text,
                        je.line, je.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        api_reply_error(r, 400, "Malformed JSON request body: expected an object");
        return NULL;
    }
    return root;
}

/* "latest" / "-1" -> -1; 1..INT32_MAX -> itself; else 0 (invalid). */
static int64_t parse_version(const char *s)
{
    if (strcmp(s, "latest") == 0 || strcmp(s, "-1") == 0) return -1;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end || v < 1 || v > INT32_MAX) return 0;
    return v;
}

int64_t api_version_or_reply(struct reply *r, const char *s)
{
    int64_t v = parse_version(s);
    if (v == 0)
        api_reply_error(r, 42202,
                        "The specified version '%s' is not a valid version id. Allowed values are "
                        "between [1, 2^31-1] and the string \"latest\"",
                        s);
    return v;
}

/* ---- the store, as endpoints need it ---------------------------------------- */

int api_effective_level(reg_conn *c, const char *subject, sluice_error *err)
{
    char level[32];
    int rc = store_get_config(c, subject, level, err);
    if (rc == SLUICE_ENOTFOUND) rc = store_get_config(c, "", level, err);
    if (rc == SLUICE_ENOTFOUND) return REG_LEVEL_BACKWARD;
    if (rc) return rc;
    int l = reg_level_parse(level);
    return l < 0 ? REG_LEVEL_BACKWARD : l;
}

int api_effective_mode(reg_conn *c, const char *subject, char mode[32], sluice_error *err)
{
    int rc = store_get_mode(c, subject, mode, err);
    if (rc == SLUICE_ENOTFOUND && *subject) rc = store_get_mode(c, "", mode, err);
    if (rc == SLUICE_ENOTFOUND) {
        snprintf(mode, 32, "READWRITE");
        rc = 0;
    }
    return rc;
}

int api_parse_stored(reg_conn *c, const reg_version *v, reg_schema **out, sluice_error *err)
{
    reg_ref_list refs = {0};
    reg_deps deps = {0};
    reg_type type;
    int rc = reg_refs_parse_text(v->refs, &refs, err);
    if (rc == 0 && reg_type_parse(v->type, &type) != 0)
        rc = sluice_error_set(err, SLUICE_EIO, "registry database: unknown schema type '%s'",
                              v->type);
    if (rc == 0) rc = reg_deps_load(c, &refs, &deps, err);
    if (rc == 0)
        rc = reg_schema_parse(type, v->text, strlen(v->text), deps.items, deps.n, out, err);
    reg_deps_free(&deps);
    reg_ref_list_free(&refs);
    return rc;
}

void api_not_found_subject_or_version(struct reply *r, reg_conn *c, const char *subject,
                                      int64_t version)
{
    int exists = 0, all_deleted = 1;
    sluice_error err;
    if (store_subject_exists(c, subject, &exists, &all_deleted, &err) != 0)
        api_reply_store_error(r, &err);
    else if (!exists || all_deleted)
        api_reply_error(r, 40401, "Subject '%s' not found.", subject);
    else if (version < 0)
        api_reply_error(r, 40402, "Version latest not found.");
    else
        api_reply_error(r, 40402, "Version %lld not found.", (long long)version);
}

/* schemaType (not for AVRO) and references (when there are any). */
void api_add_type_and_refs(json_t *o, const reg_version *v)
{
    if (strcmp(v->type, "AVRO") != 0) json_object_set_new(o, "schemaType", json_string(v->type));
    json_t *refs = v->refs ? json_loads(v->refs, 0, NULL) : NULL;
    if (json_is_array(refs) && json_array_size(refs) > 0)
        json_object_set_new(o, "references", refs);
    else
        json_decref(refs);
}

json_t *api_version_json(const char *subject, const reg_version *v)
{
    json_t *o = json_pack("{s:s,s:I,s:I,s:s}", "subject", subject, "version",
                          (json_int_t)v->version, "id", (json_int_t)v->id, "schema", v->text);
    if (o) api_add_type_and_refs(o, v);
    return o;
}

/* The schema text an answer carries: as stored, or for PROTOBUF with
 * ?format=serialized the base64 FileDescriptorProto (newer Confluent
 * clients ask for it). NULL after answering an error. */
