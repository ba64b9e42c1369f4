/*
 * api.c — the Confluent Schema Registry REST API (the subset clients use)
 * over the SQLite store.
 *
 * Each request: route by method and path segments, borrow a store
 * connection, answer, count the request by route and status. Writes
 * (register, delete, config) run in one BEGIN IMMEDIATE transaction, so
 * concurrent registrations — from this process or another sharing the file —
 * never assign one id or version twice.
 *
 * Confluent behaviour kept on purpose (clients rely on it): the same schema
 * under a subject keeps its id and version; the same schema under another
 * subject gets the same id; versions and ids are never reused; soft deletes
 * come before permanent ones; errors are {"error_code","message"} with
 * Confluent's codes. Known differences, documented in docs/REGISTRY.md: only
 * AVRO schemas; schema references are refused; a subject containing '/'
 * cannot be addressed (paths are decoded before routing).
 */
#include "registry/api.h"

#include <sluice/avro.h>

#include "common/buf.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CT_REGISTRY "application/vnd.schemaregistry.v1+json"
#define MAX_SEGMENTS 8

/* ---- compatibility levels -------------------------------------------- */

enum level {
    LVL_NONE,
    LVL_BACKWARD,
    LVL_BACKWARD_T,
    LVL_FORWARD,
    LVL_FORWARD_T,
    LVL_FULL,
    LVL_FULL_T
};
static const char *const level_names[] = {
    "NONE", "BACKWARD",       "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE",
    "FULL", "FULL_TRANSITIVE"};
#define N_LEVELS 7

static int level_parse(const char *s)
{
    for (int i = 0; i < N_LEVELS; i++)
        if (strcasecmp(s, level_names[i]) == 0) return i;
    return -1;
}

static int level_transitive(int l)
{
    return l == LVL_BACKWARD_T || l == LVL_FORWARD_T || l == LVL_FULL_T;
}

static int level_to_transitive(int l)
{
    return l == LVL_BACKWARD  ? LVL_BACKWARD_T
           : l == LVL_FORWARD ? LVL_FORWARD_T
           : l == LVL_FULL    ? LVL_FULL_T
                              : l;
}

static int level_backward(int l)
{
    return l == LVL_BACKWARD || l == LVL_BACKWARD_T || l == LVL_FULL || l == LVL_FULL_T;
}

static int level_forward(int l)
{
    return l == LVL_FORWARD || l == LVL_FORWARD_T || l == LVL_FULL || l == LVL_FULL_T;
}

/* ---- responses --------------------------------------------------------- */

struct reply {
    httpd_response *resp;
    const char *endpoint;
};

static void reply_json(struct reply *r, int status, json_t *body)
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

static void reply_error(struct reply *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_error(struct reply *r, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int status = code >= 1000 ? code / 100 : code;
    reply_json(r, status, json_pack("{s:i,s:s}", "error_code", code, "message", msg));
}

static void reply_store_error(struct reply *r, const sluice_error *err)
{
    reply_error(r, 50001, "Error in the backend data store: %s", err->msg);
}

/* ---- request parsing ----------------------------------------------------- */

/* Split the decoded path into segments (no empty ones). */
static int split_path(const char *path, char *copy, size_t copy_len, char *seg[MAX_SEGMENTS + 1])
{
    snprintf(copy, copy_len, "%s", path);
    int n = 0;
    for (char *save = NULL, *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (n == MAX_SEGMENTS) return -1;
        seg[n++] = t;
    }
    return n;
}

static int query_true(const httpd_request *req, const char *name)
{
    const char *v = httpd_request_query(req, name);
    return v && strcasecmp(v, "true") == 0;
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

/* parse_version, answering 42202 (and returning 0) when it is not one. */
static int64_t version_or_reply(struct reply *r, const char *s)
{
    int64_t v = parse_version(s);
    if (v == 0)
        reply_error(r, 42202,
                    "The specified version '%s' is not a valid version id. Allowed values are "
                    "between [1, 2^31-1] and the string \"latest\"",
                    s);
    return v;
}

static int parse_id(const char *s, int64_t *id)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end || v < 0 || v > INT32_MAX) return -1;
    *id = v;
    return 0;
}

/* The JSON object of a request body; replies 400/422 and returns NULL when
 * it is not one. */
static json_t *body_object(struct reply *r, const httpd_request *req)
{
    json_error_t je;
    json_t *root =
        json_loadb(req->body ? req->body : "", req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        reply_error(r, 400, "Malformed JSON request body: %s at line %d column %d", je.text,
                    je.line, je.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        reply_error(r, 400, "Malformed JSON request body: expected an object");
        return NULL;
    }
    return root;
}

/* A parsed schema from a {"schema": "...", "schemaType"?, "references"?}
 * body; replies 4xx and returns NULL on anything wrong. */
static sluice_avro_schema *body_schema(struct reply *r, const httpd_request *req,
                                       const char **text_out, json_t **root_out)
{
    json_t *root = body_object(r, req);
    if (!root) return NULL;
    json_t *schema = json_object_get(root, "schema");
    json_t *type = json_object_get(root, "schemaType");
    json_t *refs = json_object_get(root, "references");
    if (type && (!json_is_string(type) || strcmp(json_string_value(type), "AVRO") != 0)) {
        reply_error(r, 42201, "Invalid schema type %s: this registry stores AVRO schemas only",
                    json_is_string(type) ? json_string_value(type) : "(not a string)");
        goto fail;
    }
    if (refs && !(json_is_null(refs) || (json_is_array(refs) && json_array_size(refs) == 0))) {
        reply_error(r, 42201,
                    "Invalid schema: schema references are not supported by this registry");
        goto fail;
    }
    if (!json_is_string(schema)) {
        reply_error(r, 42201, "Invalid schema: the request has no \"schema\" string");
        goto fail;
    }
    sluice_avro_schema *parsed = NULL;
    sluice_error err;
    if (sluice_avro_schema_parse(json_string_value(schema), json_string_length(schema), &parsed,
                                 &err) != 0) {
        reply_error(r, 42201, "Invalid schema: %s", err.msg);
        goto fail;
    }
    *text_out = json_string_value(schema);
    *root_out = root;
    return parsed;
fail:
    json_decref(root);
    return NULL;
}

/* ---- compatibility ------------------------------------------------------- */

static int effective_level(reg_conn *c, const char *subject, sluice_error *err)
{
    char level[32];
    int rc = store_get_config(c, subject, level, err);
    if (rc == SLUICE_ENOTFOUND) rc = store_get_config(c, "", level, err);
    if (rc == SLUICE_ENOTFOUND) return LVL_BACKWARD;
    if (rc) return rc;
    int l = level_parse(level);
    return l < 0 ? LVL_BACKWARD : l;
}

/* Check `candidate` against the visible versions of subject up to `upto`
 * (-1: all), following `level`. Returns 1 compatible, 0 not (reason filled),
 * < 0 on a store error. */
static int check_compatibility(reg_conn *c, const char *subject, int level, int64_t upto,
                               const sluice_avro_schema *candidate, char *reason, size_t reason_len,
                               sluice_error *err)
{
    if (level == LVL_NONE) return 1;
    reg_int_list versions = {0};
    int rc = store_list_versions(c, subject, 0, &versions, err);
    if (rc == SLUICE_ENOTFOUND) return 1;
    if (rc) return rc;
    size_t end = versions.n;
    if (upto > 0) {
        end = 0;
        while (end < versions.n && versions.items[end] <= upto)
            end++;
    }
    size_t begin = level_transitive(level) ? 0 : (end ? end - 1 : 0);
    int ok = 1;
    /* Newest first: the most relevant reason is reported. */
    for (size_t i = end; ok == 1 && i-- > begin;) {
        reg_version v = {0};
        rc = store_get_version(c, subject, versions.items[i], 0, &v, err);
        if (rc) {
            ok = rc < 0 ? rc : -1;
            break;
        }
        sluice_avro_schema *old = NULL;
        sluice_error perr;
        if (sluice_avro_schema_parse(v.text, strlen(v.text), &old, &perr) != 0) {
            /* A stored schema that no longer parses (a stricter parser than
             * the one that stored it) cannot be compared: say so. */
            snprintf(reason, reason_len, "stored version %lld does not parse: %s",
                     (long long)v.version, perr.msg);
            ok = 0;
        } else {
            sluice_error cerr;
            const sluice_avro_node *n = sluice_avro_schema_root(candidate);
            const sluice_avro_node *o = sluice_avro_schema_root(old);
            if (level_backward(level) && sluice_avro_can_read(n, o, &cerr) != 0) {
                snprintf(reason, reason_len,
                         "%s: the new schema cannot read data written with version %lld: %s",
                         level_names[level], (long long)v.version, cerr.msg);
                ok = 0;
            } else if (level_forward(level) && sluice_avro_can_read(o, n, &cerr) != 0) {
                snprintf(reason, reason_len,
                         "%s: version %lld cannot read data written with the new schema: %s",
                         level_names[level], (long long)v.version, cerr.msg);
                ok = 0;
            }
            sluice_avro_schema_free(old);
        }
        reg_version_free(&v);
    }
    free(versions.items);
    return ok;
}

/* ---- handlers -------------------------------------------------------------- */

static void not_found_subject_or_version(struct reply *r, reg_conn *c, const char *subject,
                                         int64_t version)
{
    int exists = 0, all_deleted = 1;
    sluice_error err;
    if (store_subject_exists(c, subject, &exists, &all_deleted, &err) != 0)
        reply_store_error(r, &err);
    else if (!exists || all_deleted)
        reply_error(r, 40401, "Subject '%s' not found.", subject);
    else if (version < 0)
        reply_error(r, 40402, "Version latest not found.");
    else
        reply_error(r, 40402, "Version %lld not found.", (long long)version);
}

static json_t *version_json(const char *subject, const reg_version *v)
{
    json_t *o = json_pack("{s:s,s:I,s:I,s:s}", "subject", subject, "version",
                          (json_int_t)v->version, "id", (json_int_t)v->id, "schema", v->text);
    if (o && strcmp(v->type, "AVRO") != 0)
        json_object_set_new(o, "schemaType", json_string(v->type));
    return o;
}

static void get_schema_by_id(struct reply *r, reg_conn *c, const char *id_s, int raw)
{
    int64_t id;
    if (parse_id(id_s, &id) != 0) {
        reply_error(r, 40403, "Schema %s not found", id_s);
        return;
    }
    char *text = NULL, *type = NULL;
    sluice_error err;
    int rc = store_schema_by_id(c, id, &text, &type, &err);
    if (rc == SLUICE_ENOTFOUND) {
        reply_error(r, 40403, "Schema %lld not found", (long long)id);
    } else if (rc) {
        reply_store_error(r, &err);
    } else if (raw) {
        httpd_respond(r->resp, 200, CT_REGISTRY, text, strlen(text));
    } else {
        json_t *o = json_pack("{s:s}", "schema", text);
        if (strcmp(type, "AVRO") != 0) json_object_set_new(o, "schemaType", json_string(type));
        reply_json(r, 200, o);
    }
    free(text);
    free(type);
}

static void get_id_versions(struct reply *r, reg_conn *c, const char *id_s)
{
    int64_t id;
    char *text = NULL, *type = NULL;
    sluice_error err;
    if (parse_id(id_s, &id) != 0 || store_schema_by_id(c, id, &text, &type, &err) != 0) {
        reply_error(r, 40403, "Schema %s not found", id_s);
        return;
    }
    free(text);
    free(type);
    reg_str_list subjects = {0};
    reg_int_list versions = {0};
    if (store_subjects_of_id(c, id, &subjects, &versions, &err) != 0) {
        reply_store_error(r, &err);
    } else {
        json_t *arr = json_array();
        for (size_t i = 0; i < subjects.n; i++)
            json_array_append_new(arr, json_pack("{s:s,s:I}", "subject", subjects.items[i],
                                                 "version", (json_int_t)versions.items[i]));
        reply_json(r, 200, arr);
    }
    reg_str_list_free(&subjects);
    free(versions.items);
}

static void list_subjects(struct reply *r, reg_conn *c, int deleted)
{
    reg_str_list l = {0};
    sluice_error err;
    if (store_list_subjects(c, deleted, &l, &err) != 0) {
        reply_store_error(r, &err);
    } else {
        json_t *arr = json_array();
        for (size_t i = 0; i < l.n; i++)
            json_array_append_new(arr, json_string(l.items[i]));
        reply_json(r, 200, arr);
    }
    reg_str_list_free(&l);
}

static void list_versions(struct reply *r, reg_conn *c, const char *subject, int deleted)
{
    reg_int_list l = {0};
    sluice_error err;
    int rc = store_list_versions(c, subject, deleted, &l, &err);
    if (rc == SLUICE_ENOTFOUND) {
        reply_error(r, 40401, "Subject '%s' not found.", subject);
    } else if (rc) {
        reply_store_error(r, &err);
    } else {
        json_t *arr = json_array();
        for (size_t i = 0; i < l.n; i++)
            json_array_append_new(arr, json_integer(l.items[i]));
        reply_json(r, 200, arr);
    }
    free(l.items);
}

static void get_version(struct reply *r, reg_conn *c, const char *subject, const char *ver_s,
                        int raw, int deleted)
{
    int64_t version = version_or_reply(r, ver_s);
    if (version == 0) return;
    reg_version v = {0};
    sluice_error err;
    int rc = store_get_version(c, subject, version, deleted, &v, &err);
    if (rc == SLUICE_ENOTFOUND)
        not_found_subject_or_version(r, c, subject, version);
    else if (rc)
        reply_store_error(r, &err);
    else if (raw)
        httpd_respond(r->resp, 200, CT_REGISTRY, v.text, strlen(v.text));
    else
        reply_json(r, 200, version_json(subject, &v));
    reg_version_free(&v);
}

static void register_schema(struct reply *r, reg_conn *c, const httpd_request *req,
                            const char *subject)
{
    const char *text;
    json_t *root = NULL;
    sluice_avro_schema *schema = body_schema(r, req, &text, &root);
    if (!schema) return;
    const char *normalized = sluice_avro_schema_normalized(schema);
    sluice_error err;
    reg_version found = {0};
    char reason[768] = "";
    int64_t id = 0, version = 0;
    if (store_begin_write(c, &err) != 0) {
        reply_store_error(r, &err);
        goto out;
    }
    int rc = store_find_in_subject(c, subject, normalized, 0, &found, &err);
    if (rc == 0) {
        store_rollback(c);
        reply_json(r, 200, json_pack("{s:I}", "id", (json_int_t)found.id));
        goto out;
    }
    if (rc != SLUICE_ENOTFOUND) goto store_error;
    int level = effective_level(c, subject, &err);
    if (level < 0) goto store_error;
    int ok = check_compatibility(c, subject, level, -1, schema, reason, sizeof reason, &err);
    if (ok < 0) goto store_error;
    if (!ok) {
        store_rollback(c);
        reply_error(r, 409,
                    "Schema being registered is incompatible with an earlier schema for "
                    "subject \"%s\", details: [%s]",
                    subject, reason);
        goto out;
    }
    if (store_insert_version(c, subject, normalized, text, "AVRO", &id, &version, &err) != 0 ||
        store_commit(c, &err) != 0)
        goto store_error;
    reply_json(r, 200, json_pack("{s:I}", "id", (json_int_t)id));
    goto out;
store_error:
    store_rollback(c);
    reply_store_error(r, &err);
out:
    reg_version_free(&found);
    sluice_avro_schema_free(schema);
    json_decref(root);
}

static void lookup_schema(struct reply *r, reg_conn *c, const httpd_request *req,
                          const char *subject)
{
    const char *text;
    json_t *root = NULL;
    sluice_avro_schema *schema = body_schema(r, req, &text, &root);
    if (!schema) return;
    reg_version v = {0};
    sluice_error err;
    int rc = store_find_in_subject(c, subject, sluice_avro_schema_normalized(schema),
                                   query_true(req, "deleted"), &v, &err);
    if (rc == 0) {
        reply_json(r, 200, version_json(subject, &v));
    } else if (rc == SLUICE_ENOTFOUND) {
        int exists = 0, all_deleted = 1;
        if (store_subject_exists(c, subject, &exists, &all_deleted, &err) != 0)
            reply_store_error(r, &err);
        else if (!exists || all_deleted)
            reply_error(r, 40401, "Subject '%s' not found.", subject);
        else
            reply_error(r, 40403, "Schema not found");
    } else {
        reply_store_error(r, &err);
    }
    reg_version_free(&v);
    sluice_avro_schema_free(schema);
    json_decref(root);
}

static void delete_subject(struct reply *r, reg_conn *c, const char *subject, int permanent)
{
    sluice_error err;
    int exists = 0, all_deleted = 1;
    reg_int_list gone = {0};
    if (store_begin_write(c, &err) != 0 ||
        store_subject_exists(c, subject, &exists, &all_deleted, &err) != 0)
        goto store_error;
    if (!exists) {
        store_rollback(c);
        reply_error(r, 40401, "Subject '%s' not found.", subject);
        return;
    }
    if (!permanent && all_deleted) {
        store_rollback(c);
        reply_error(r, 40404,
                    "Subject '%s' was soft deleted. Set permanent=true to delete permanently",
                    subject);
        return;
    }
    if (permanent && !all_deleted) {
        store_rollback(c);
        reply_error(r, 40405, "Subject '%s' was not deleted first before being permanently deleted",
                    subject);
        return;
    }
    int rc = permanent ? store_hard_delete_versions(c, subject, -1, &gone, &err)
                       : store_soft_delete_versions(c, subject, -1, &gone, &err);
    if (rc != 0 || (permanent && store_delete_config(c, subject, &err) != 0) ||
        store_commit(c, &err) != 0)
        goto store_error;
    json_t *arr = json_array();
    for (size_t i = 0; i < gone.n; i++)
        json_array_append_new(arr, json_integer(gone.items[i]));
    reply_json(r, 200, arr);
    free(gone.items);
    return;
store_error:
    free(gone.items);
    store_rollback(c);
    reply_store_error(r, &err);
}

static void delete_version(struct reply *r, reg_conn *c, const char *subject, const char *ver_s,
                           int permanent)
{
    int64_t version = version_or_reply(r, ver_s);
    if (version == 0) return;
    sluice_error err;
    reg_version v = {0};
    reg_int_list gone = {0};
    if (store_begin_write(c, &err) != 0) goto store_error;
    /* Soft deletes see visible versions; permanent ones see every version. */
    int rc = store_get_version(c, subject, version, permanent, &v, &err);
    if (rc == SLUICE_ENOTFOUND) {
        store_rollback(c);
        not_found_subject_or_version(r, c, subject, version);
        return;
    }
    if (rc) goto store_error;
    if (permanent && !v.deleted) {
        store_rollback(c);
        reply_error(r, 40407,
                    "Subject '%s' Version %lld was not deleted first before being permanently "
                    "deleted",
                    subject, (long long)v.version);
        reg_version_free(&v);
        return;
    }
    rc = permanent ? store_hard_delete_versions(c, subject, v.version, &gone, &err)
                   : store_soft_delete_versions(c, subject, v.version, &gone, &err);
    if (rc || store_commit(c, &err) != 0) goto store_error;
    reply_json(r, 200, json_integer(v.version));
    reg_version_free(&v);
    free(gone.items);
    return;
store_error:
    reg_version_free(&v);
    free(gone.items);
    store_rollback(c);
    reply_store_error(r, &err);
}

static void get_config(struct reply *r, reg_conn *c, const char *subject, int default_to_global)
{
    char level[32];
    sluice_error err;
    int rc = store_get_config(c, subject, level, &err);
    if (rc == SLUICE_ENOTFOUND && *subject && !default_to_global) {
        reply_error(r, 40408, "Subject '%s' does not have subject-level compatibility configured",
                    subject);
        return;
    }
    if (rc == SLUICE_ENOTFOUND && *subject) rc = store_get_config(c, "", level, &err);
    if (rc == SLUICE_ENOTFOUND) {
        snprintf(level, sizeof level, "BACKWARD");
        rc = 0;
    }
    if (rc)
        reply_store_error(r, &err);
    else
        reply_json(r, 200, json_pack("{s:s}", "compatibilityLevel", level));
}

static void put_config(struct reply *r, reg_conn *c, const httpd_request *req, const char *subject)
{
    json_t *root = body_object(r, req);
    if (!root) return;
    json_t *l = json_object_get(root, "compatibility");
    int level = json_is_string(l) ? level_parse(json_string_value(l)) : -1;
    sluice_error err;
    if (level < 0)
        reply_error(r, 42203,
                    "Invalid compatibility level. Valid values are none, backward, forward, full, "
                    "backward_transitive, forward_transitive, and full_transitive");
    else if (store_set_config(c, subject, level_names[level], &err) != 0)
        reply_store_error(r, &err);
    else
        reply_json(r, 200, json_pack("{s:s}", "compatibility", level_names[level]));
    json_decref(root);
}

static void delete_config(struct reply *r, reg_conn *c, const char *subject)
{
    char level[32];
    sluice_error err;
    int rc = store_get_config(c, subject, level, &err);
    if (rc == SLUICE_ENOTFOUND)
        reply_error(r, 40408, "Subject '%s' does not have subject-level compatibility configured",
                    subject);
    else if (rc || store_delete_config(c, subject, &err) != 0)
        reply_store_error(r, &err);
    else
        reply_json(r, 200, json_pack("{s:s}", "compatibilityLevel", level));
}

static void test_compatibility(struct reply *r, reg_conn *c, const httpd_request *req,
                               const char *subject, const char *ver_s)
{
    int64_t upto = -1;
    if (ver_s && (upto = version_or_reply(r, ver_s)) == 0) return;
    sluice_error err;
    reg_version v = {0};
    int rc = store_get_version(c, subject, upto, 0, &v, &err);
    if (rc == SLUICE_ENOTFOUND) {
        not_found_subject_or_version(r, c, subject, upto);
        return;
    }
    if (rc) {
        reply_store_error(r, &err);
        return;
    }
    const char *text;
    json_t *root = NULL;
    sluice_avro_schema *schema = body_schema(r, req, &text, &root);
    if (!schema) {
        reg_version_free(&v);
        return;
    }
    int level = effective_level(c, subject, &err);
    char reason[768] = "";
    /* Without a version every version takes part: check transitively. */
    if (!ver_s && level >= 0) level = level_to_transitive(level);
    int ok = level < 0 ? level
                       : check_compatibility(c, subject, level, v.version, schema, reason,
                                             sizeof reason, &err);
    if (ok < 0) {
        reply_store_error(r, &err);
    } else {
        json_t *o = json_pack("{s:b}", "is_compatible", ok);
        if (!ok && query_true(req, "verbose"))
            json_object_set_new(o, "messages", json_pack("[s]", reason));
        reply_json(r, 200, o);
    }
    reg_version_free(&v);
    sluice_avro_schema_free(schema);
    json_decref(root);
}

/* ---- routing ------------------------------------------------------------- */

static void count_request(registry_api *api, const char *endpoint, int status)
{
    if (!api->metrics) return;
    char labels[96];
    snprintf(labels, sizeof labels, "endpoint=\"%s\",status=\"%d\"", endpoint, status);
    sluice_counter_inc(sluice_metrics_counter(api->metrics, "sluice_registry_requests_total",
                                              "Requests the registry answered, by route and status",
                                              labels));
}

/* Is this the shape of a path the API serves (with some method)? */
static int path_known(char *seg[], int n)
{
    if (n >= 1 && strcmp(seg[0], "subjects") == 0)
        return n <= 2 || (strcmp(seg[2], "versions") == 0 &&
                          (n <= 4 || (n == 5 && strcmp(seg[4], "schema") == 0)));
    if (n >= 1 && strcmp(seg[0], "config") == 0) return n <= 2;
    if (n >= 3 && strcmp(seg[0], "schemas") == 0 && strcmp(seg[1], "ids") == 0)
        return n == 3 ||
               (n == 4 && (strcmp(seg[3], "schema") == 0 || strcmp(seg[3], "versions") == 0));
    if (n >= 4 && strcmp(seg[0], "compatibility") == 0)
        return n <= 5 && strcmp(seg[1], "subjects") == 0 && strcmp(seg[3], "versions") == 0;
    return (n == 1 && (strcmp(seg[0], "metrics") == 0 || strcmp(seg[0], "healthz") == 0)) ||
           (n == 2 && strcmp(seg[0], "schemas") == 0 && strcmp(seg[1], "types") == 0);
}

static void route(registry_api *api, const httpd_request *req, struct reply *r)
{
    char copy[2048];
    char *seg[MAX_SEGMENTS + 1];
    const char *m = req->method;
    int n = split_path(req->path, copy, sizeof copy, seg);
    int get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0, put = strcmp(m, "PUT") == 0,
        del = strcmp(m, "DELETE") == 0;

    if (n < 0) {
        r->endpoint = "unknown";
        reply_error(r, 404, "HTTP 404 Not Found");
        return;
    }
    if (n == 0) {
        r->endpoint = "root";
        if (get)
            reply_json(r, 200, json_object());
        else
            reply_error(r, 405, "HTTP 405 Method Not Allowed");
        return;
    }
    if (n == 1 && strcmp(seg[0], "metrics") == 0 && get) {
        r->endpoint = "metrics";
        char *text = NULL;
        size_t len = 0;
        if (api->metrics && sluice_metrics_render(api->metrics, &text, &len) == 0) {
            httpd_respond(r->resp, 200, "text/plain; version=0.0.4", text, len);
            free(text);
        } else {
            reply_error(r, 50001, "metrics unavailable");
        }
        return;
    }
    if (n == 1 && strcmp(seg[0], "healthz") == 0 && get) {
        r->endpoint = "healthz";
        httpd_respond(r->resp, 200, "text/plain", "ok\n", 3);
        return;
    }
    if (n == 2 && strcmp(seg[0], "schemas") == 0 && strcmp(seg[1], "types") == 0 && get) {
        r->endpoint = "schemas_types";
        reply_json(r, 200, json_pack("[s]", "AVRO"));
        return;
    }

    /* Everything below reads or writes the store. */
    reg_conn *c = store_acquire(api->store);
    int matched = 1;
    if (strcmp(seg[0], "schemas") == 0 && n >= 3 && strcmp(seg[1], "ids") == 0 && get) {
        if (n == 3) {
            r->endpoint = "schemas_ids";
            get_schema_by_id(r, c, seg[2], 0);
        } else if (n == 4 && strcmp(seg[3], "schema") == 0) {
            r->endpoint = "schemas_ids_schema";
            get_schema_by_id(r, c, seg[2], 1);
        } else if (n == 4 && strcmp(seg[3], "versions") == 0) {
            r->endpoint = "schemas_ids_versions";
            get_id_versions(r, c, seg[2]);
        } else {
            matched = 0;
        }
    } else if (strcmp(seg[0], "subjects") == 0) {
        const char *subject = n >= 2 ? seg[1] : NULL;
        if (n == 1 && get) {
            r->endpoint = "subjects";
            list_subjects(r, c, query_true(req, "deleted"));
        } else if (n == 2 && post) {
            r->endpoint = "lookup";
            lookup_schema(r, c, req, subject);
        } else if (n == 2 && del) {
            r->endpoint = "delete_subject";
            delete_subject(r, c, subject, query_true(req, "permanent"));
        } else if (n == 3 && strcmp(seg[2], "versions") == 0 && get) {
            r->endpoint = "subjects_versions_list";
            list_versions(r, c, subject, query_true(req, "deleted"));
        } else if (n == 3 && strcmp(seg[2], "versions") == 0 && post) {
            r->endpoint = "register";
            register_schema(r, c, req, subject);
        } else if (n == 4 && strcmp(seg[2], "versions") == 0 && get) {
            r->endpoint = "subjects_versions_get";
            get_version(r, c, subject, seg[3], 0, query_true(req, "deleted"));
        } else if (n == 5 && strcmp(seg[2], "versions") == 0 && strcmp(seg[4], "schema") == 0 &&
                   get) {
            r->endpoint = "subjects_versions_schema";
            get_version(r, c, subject, seg[3], 1, query_true(req, "deleted"));
        } else if (n == 4 && strcmp(seg[2], "versions") == 0 && del) {
            r->endpoint = "delete_version";
            delete_version(r, c, subject, seg[3], query_true(req, "permanent"));
        } else {
            matched = 0;
        }
    } else if (strcmp(seg[0], "config") == 0 && n <= 2) {
        const char *subject = n == 2 ? seg[1] : "";
        if (get) {
            r->endpoint = "config_get";
            get_config(r, c, subject, query_true(req, "defaultToGlobal"));
        } else if (put) {
            r->endpoint = "config_put";
            put_config(r, c, req, subject);
        } else if (del && n == 2) {
            r->endpoint = "config_delete";
            delete_config(r, c, subject);
        } else {
            matched = 0;
        }
    } else if (strcmp(seg[0], "compatibility") == 0 && n >= 4 && n <= 5 &&
               strcmp(seg[1], "subjects") == 0 && strcmp(seg[3], "versions") == 0 && post) {
        r->endpoint = "compatibility";
        test_compatibility(r, c, req, seg[2], n == 5 ? seg[4] : NULL);
    } else {
        matched = 0;
    }
    store_release(api->store, c);
    if (!matched) {
        r->endpoint = "unknown";
        if (path_known(seg, n))
            reply_error(r, 405, "HTTP 405 Method Not Allowed");
        else
            reply_error(r, 404, "HTTP 404 Not Found");
    }
}

void registry_api_handle(void *opaque, const httpd_request *req, httpd_response *resp)
{
    registry_api *api = opaque;
    struct reply r = {.resp = resp, .endpoint = "unknown"};
    route(api, req, &r);
    count_request(api, r.endpoint, resp->status);
}
