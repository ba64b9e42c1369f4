/*
 * api.c — the Confluent Schema Registry REST API (the subset clients use)
 * over the SQLite store: routing, the read endpoints, deletes, config and
 * mode. The handlers that take a schema in the body (register, look up,
 * test compatibility) are in api_schemas.c; what both use (answers, request
 * bodies, levels and modes, stored schemas) is in api_reply.c, declared in
 * api_int.h.
 *
 * Each request: split the path as sent into segments and percent-decode
 * each one (so a subject "a/b", sent as a%2Fb, is one segment), route by
 * method and segments, borrow a store connection, answer, count the request
 * by route and status. Writes (register, delete, config, mode) run in one
 * BEGIN IMMEDIATE transaction or one statement, so concurrent registrations
 * — from this process or another sharing the file — never assign one id or
 * version twice.
 *
 * Confluent behaviour kept on purpose (clients rely on it): the same schema
 * under a subject keeps its id and version; the same schema under another
 * subject gets the same id; versions and ids are never reused; soft deletes
 * come before permanent ones; a version other schemas reference cannot be
 * deleted (42206); errors are {"error_code","message"} with Confluent's
 * codes; schemaType is left out of answers for AVRO and references when
 * there are none. Known differences are listed in docs/REGISTRY.md.
 */
#include "registry/api_int.h"
#include "registry/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SEGMENTS 8

/* ---- responses ----------------------------------------------------------- */

/* ---- request parsing ----------------------------------------------------- */

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decode %XX in place; false on a bad escape or an encoded NUL. */
static bool percent_decode(char *s)
{
    char *w = s;
    for (const char *p = s; *p; p++) {
        if (*p != '%') {
            *w++ = *p;
            continue;
        }
        int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
        *w++ = (char)(hi * 16 + lo);
        p += 2;
    }
    *w = '\0';
    return true;
}

/* Split the path as sent into decoded segments (no empty ones). A request
 * built by hand may have no raw path: its decoded path is split instead.
 * -1: too many segments or a bad escape. */
static int split_path(const httpd_request *req, char *copy, size_t copy_len,
                      char *seg[MAX_SEGMENTS + 1])
{
    snprintf(copy, copy_len, "%s", req->raw_path ? req->raw_path : req->path);
    int n = 0;
    for (char *save = NULL, *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (n == MAX_SEGMENTS) return -1;
        if (req->raw_path && !percent_decode(t)) return -1;
        seg[n++] = t;
    }
    return n;
}

static int parse_id(const char *s, int64_t *id)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end || v < 0 || v > INT32_MAX) return -1;
    *id = v;
    return 0;
}

/* ---- shared lookups ------------------------------------------------------- */

static char *schema_text_for(struct reply *r, reg_conn *c, const httpd_request *req,
                             const reg_version *v)
{
    const char *format = httpd_request_query(req, "format");
    if (!format || strcmp(format, "serialized") != 0 || strcmp(v->type, "PROTOBUF") != 0)
        return strdup(v->text);
    reg_schema *s = NULL;
    sluice_error err;
    if (api_parse_stored(c, v, &s, &err) != 0) {
        api_reply_error(r, 50001, "Stored schema %lld does not parse: %s", (long long)v->id,
                        err.msg);
        return NULL;
    }
    char *text = strdup(proto_schema_serialized_base64(s->proto));
    reg_schema_free(s);
    return text;
}

/* ---- read handlers -------------------------------------------------------- */

static void get_schema_by_id(struct reply *r, reg_conn *c, const httpd_request *req,
                             const char *id_s, int raw)
{
    int64_t id;
    if (parse_id(id_s, &id) != 0) {
        api_reply_error(r, 40403, "Schema %s not found", id_s);
        return;
    }
    reg_version v = {0};
    sluice_error err;
    int rc = store_schema_by_id(c, id, &v, &err);
    if (rc == SLUICE_ENOTFOUND) {
        api_reply_error(r, 40403, "Schema %lld not found", (long long)id);
    } else if (rc) {
        api_reply_store_error(r, &err);
    } else {
        char *text = schema_text_for(r, c, req, &v);
        if (text && raw) {
            httpd_respond(r->resp, 200, CT_REGISTRY, text, strlen(text));
        } else if (text) {
            json_t *o = json_pack("{s:s}", "schema", text);
            api_add_type_and_refs(o, &v);
            api_reply_json(r, 200, o);
        }
        free(text);
    }
    reg_version_free(&v);
}

static void get_id_versions(struct reply *r, reg_conn *c, const char *id_s)
{
    int64_t id;
    reg_version v = {0};
    sluice_error err;
    if (parse_id(id_s, &id) != 0 || store_schema_by_id(c, id, &v, &err) != 0) {
        api_reply_error(r, 40403, "Schema %s not found", id_s);
        reg_version_free(&v);
        return;
    }
    reg_version_free(&v);
    reg_str_list subjects = {0};
    reg_int_list versions = {0};
    if (store_subjects_of_id(c, id, &subjects, &versions, &err) != 0) {
        api_reply_store_error(r, &err);
    } else {
        json_t *arr = json_array();
        for (size_t i = 0; i < subjects.n; i++)
            json_array_append_new(arr, json_pack("{s:s,s:I}", "subject", subjects.items[i],
                                                 "version", (json_int_t)versions.items[i]));
        api_reply_json(r, 200, arr);
    }
    reg_str_list_free(&subjects);
    free(versions.items);
}

static void list_subjects(struct reply *r, reg_conn *c, int deleted)
{
    reg_str_list l = {0};
    sluice_error err;
    if (store_list_subjects(c, deleted, &l, &err) != 0) {
        api_reply_store_error(r, &err);
    } else {
        json_t *arr = json_array();
        for (size_t i = 0; i < l.n; i++)
            json_array_append_new(arr, json_string(l.items[i]));
        api_reply_json(r, 200, arr);
    }
    reg_str_list_free(&l);
}

static json_t *int_array(const reg_int_list *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(arr, json_integer(l->items[i]));
    return arr;
}

static void list_versions(struct reply *r, reg_conn *c, const char *subject, int deleted)
{
    reg_int_list l = {0};
    sluice_error err;
    int rc = store_list_versions(c, subject, deleted, &l, &err);
    if (rc == SLUICE_ENOTFOUND)
        api_reply_error(r, 40401, "Subject '%s' not found.", subject);
    else if (rc)
        api_reply_store_error(r, &err);
    else
        api_reply_json(r, 200, int_array(&l));
    free(l.items);
}

static void get_version(struct reply *r, reg_conn *c, const httpd_request *req, const char *subject,
                        const char *ver_s, int raw)
{
    int64_t version = api_version_or_reply(r, ver_s);
    if (version == 0) return;
    reg_version v = {0};
    sluice_error err;
    int rc = store_get_version(c, subject, version, api_query_true(req, "deleted"), &v, &err);
    if (rc == SLUICE_ENOTFOUND) {
        api_not_found_subject_or_version(r, c, subject, version);
    } else if (rc) {
        api_reply_store_error(r, &err);
    } else {
        char *text = schema_text_for(r, c, req, &v);
        if (text && raw) {
            httpd_respond(r->resp, 200, CT_REGISTRY, text, strlen(text));
        } else if (text) {
            free(v.text);
            v.text = text;
            text = NULL;
            api_reply_json(r, 200, api_version_json(subject, &v));
        }
        free(text);
    }
    reg_version_free(&v);
}

static void get_referenced_by(struct reply *r, reg_conn *c, const char *subject, const char *ver_s)
{
    int64_t version = api_version_or_reply(r, ver_s);
    if (version == 0) return;
    reg_version v = {0};
    reg_int_list ids = {0};
    sluice_error err;
    int rc = store_get_version(c, subject, version, 0, &v, &err);
    if (rc == SLUICE_ENOTFOUND)
        api_not_found_subject_or_version(r, c, subject, version);
    else if (rc || store_referenced_by(c, subject, v.version, &ids, &err) != 0)
        api_reply_store_error(r, &err);
    else
        api_reply_json(r, 200, int_array(&ids));
    reg_version_free(&v);
    free(ids.items);
}

/* ---- deletes ---------------------------------------------------------------- */

/* Refuse (42206) to delete versions other schemas reference; 1 when it
 * answered. Versions: `only` (> 0) or every visible or soft-deleted one. */
static int refuse_if_referenced(struct reply *r, reg_conn *c, const char *subject, int64_t only,
                                sluice_error *err, int *failed)
{
    reg_int_list versions = {0};
    int rc = 0, answered = 0;
    if (only > 0) {
        versions.items = malloc(sizeof *versions.items);
        if (versions.items) versions.items[versions.n++] = only;
    } else {
        rc = store_list_versions(c, subject, 1, &versions, err);
        if (rc == SLUICE_ENOTFOUND) rc = 0;
    }
    for (size_t i = 0; rc == 0 && !answered && i < versions.n; i++) {
        reg_int_list ids = {0};
        rc = store_referenced_by(c, subject, versions.items[i], &ids, err);
        if (rc == 0 && ids.n > 0) {
            store_rollback(c);
            api_reply_error(r, 42206,
                            "One or more references exist to the schema {subject=%s, "
                            "version=%lld}: it is referenced by schema id %lld%s",
                            subject, (long long)versions.items[i], (long long)ids.items[0],
                            ids.n > 1 ? " and others" : "");
            answered = 1;
        }
        free(ids.items);
    }
    free(versions.items);
    *failed = rc != 0;
    return answered;
}

static int refuse_if_read_only(struct reply *r, reg_conn *c, const char *subject, sluice_error *err,
                               int *failed)
{
    char mode[32];
    *failed = api_effective_mode(c, subject, mode, err) != 0;
    if (*failed || strcmp(mode, "READONLY") != 0) return 0;
    store_rollback(c);
    api_reply_error(r, 42205, "Subject '%s' is in read-only mode", subject);
    return 1;
}

static void delete_subject(struct reply *r, reg_conn *c, const char *subject, int permanent)
{
    sluice_error err;
    int exists = 0, all_deleted = 1, failed = 0;
    reg_int_list gone = {0};
    if (store_begin_write(c, &err) != 0) goto store_error;
    if (refuse_if_read_only(r, c, subject, &err, &failed)) return;
    if (failed || store_subject_exists(c, subject, &exists, &all_deleted, &err) != 0)
        goto store_error;
    if (!exists) {
        store_rollback(c);
        api_reply_error(r, 40401, "Subject '%s' not found.", subject);
        return;
    }
    if (!permanent && all_deleted) {
        store_rollback(c);
        api_reply_error(r, 40404,
                        "Subject '%s' was soft deleted. Set permanent=true to delete permanently",
                        subject);
        return;
    }
    if (permanent && !all_deleted) {
        store_rollback(c);
        api_reply_error(r, 40405,
                        "Subject '%s' was not deleted first before being permanently deleted",
                        subject);
        return;
    }
    if (refuse_if_referenced(r, c, subject, -1, &err, &failed)) return;
    if (failed) goto store_error;
    int rc = permanent ? store_hard_delete_versions(c, subject, -1, &gone, &err)
                       : store_soft_delete_versions(c, subject, -1, &gone, &err);
    if (rc != 0 || (permanent && store_delete_config(c, subject, &err) != 0) ||
        (permanent && store_delete_mode(c, subject, &err) != 0) || store_commit(c, &err) != 0)
        goto store_error;
    api_reply_json(r, 200, int_array(&gone));
    free(gone.items);
    return;
store_error:
    free(gone.items);
    store_rollback(c);
    api_reply_store_error(r, &err);
}

static void delete_version(struct reply *r, reg_conn *c, const char *subject, const char *ver_s,
                           int permanent)
{
    int64_t version = api_version_or_reply(r, ver_s);
    if (version == 0) return;
    sluice_error err;
    reg_version v = {0};
    reg_int_list gone = {0};
    int failed = 0;
    if (store_begin_write(c, &err) != 0) goto store_error;
    if (refuse_if_read_only(r, c, subject, &err, &failed)) return;
    if (failed) goto store_error;
    /* Soft deletes see visible versions; permanent ones see every version. */
    int rc = store_get_version(c, subject, version, permanent, &v, &err);
    if (rc == SLUICE_ENOTFOUND) {
        store_rollback(c);
        api_not_found_subject_or_version(r, c, subject, version);
        return;
    }
    if (rc) goto store_error;
    if (permanent && !v.deleted) {
        store_rollback(c);
        api_reply_error(r, 40407,
                        "Subject '%s' Version %lld was not deleted first before being permanently "
                        "deleted",
                        subject, (long long)v.version);
        reg_version_free(&v);
        return;
    }
    if (refuse_if_referenced(r, c, subject, v.version, &err, &failed)) {
        reg_version_free(&v);
        return;
    }
    if (failed) goto store_error;
    rc = permanent ? store_hard_delete_versions(c, subject, v.version, &gone, &err)
                   : store_soft_delete_versions(c, subject, v.version, &gone, &err);
    if (rc || store_commit(c, &err) != 0) goto store_error;
    api_reply_json(r, 200, json_integer(v.version));
    reg_version_free(&v);
    free(gone.items);
    return;
store_error:
    reg_version_free(&v);
    free(gone.items);
    store_rollback(c);
    api_reply_store_error(r, &err);
}

/* ---- config and mode -------------------------------------------------------- */

static void get_config(struct reply *r, reg_conn *c, const char *subject, int default_to_global)
{
    char level[32];
    sluice_error err;
    int rc = store_get_config(c, subject, level, &err);
    if (rc == SLUICE_ENOTFOUND && *subject && !default_to_global) {
        api_reply_error(
            r, 40408, "Subject '%s' does not have subject-level compatibility configured", subject);
        return;
    }
    if (rc == SLUICE_ENOTFOUND && *subject) rc = store_get_config(c, "", level, &err);
    if (rc == SLUICE_ENOTFOUND) {
        snprintf(level, sizeof level, "BACKWARD");
        rc = 0;
    }
    if (rc)
        api_reply_store_error(r, &err);
    else
        api_reply_json(r, 200, json_pack("{s:s}", "compatibilityLevel", level));
}

static void put_config(struct reply *r, reg_conn *c, const httpd_request *req, const char *subject)
{
    json_t *root = api_body_object(r, req);
    if (!root) return;
    json_t *l = json_object_get(root, "compatibility");
    int level = json_is_string(l) ? reg_level_parse(json_string_value(l)) : -1;
    sluice_error err;
    if (level < 0)
        api_reply_error(r, 42203,
                        "Invalid compatibility level. Valid values are none, backward, forward, "
                        "full, backward_transitive, forward_transitive, and full_transitive");
    else if (store_set_config(c, subject, reg_level_name(level), &err) != 0)
        api_reply_store_error(r, &err);
    else
        api_reply_json(r, 200, json_pack("{s:s}", "compatibility", reg_level_name(level)));
    json_decref(root);
}

static void delete_config(struct reply *r, reg_conn *c, const char *subject)
{
    char level[32];
    sluice_error err;
    int rc = store_get_config(c, subject, level, &err);
    if (rc == SLUICE_ENOTFOUND)
        api_reply_error(
            r, 40408, "Subject '%s' does not have subject-level compatibility configured", subject);
    else if (rc || store_delete_config(c, subject, &err) != 0)
        api_reply_store_error(r, &err);
    else
        api_reply_json(r, 200, json_pack("{s:s}", "compatibilityLevel", level));
}

static void get_mode(struct reply *r, reg_conn *c, const char *subject, int default_to_global)
{
    char mode[32];
    sluice_error err;
    int rc = store_get_mode(c, subject, mode, &err);
    if (rc == SLUICE_ENOTFOUND && *subject && !default_to_global) {
        api_reply_error(r, 40409, "Subject '%s' does not have subject-level mode configured",
                        subject);
        return;
    }
    if (rc == SLUICE_ENOTFOUND) rc = api_effective_mode(c, subject, mode, &err);
    if (rc)
        api_reply_store_error(r, &err);
    else
        api_reply_json(r, 200, json_pack("{s:s}", "mode", mode));
}

static void put_mode(struct reply *r, reg_conn *c, const httpd_request *req, const char *subject)
{
    json_t *root = api_body_object(r, req);
    if (!root) return;
    json_t *m = json_object_get(root, "mode");
    const char *mode = json_is_string(m) ? json_string_value(m) : "";
    sluice_error err;
    int exists = 0, all_deleted = 1;
    if (strcmp(mode, "READWRITE") != 0 && strcmp(mode, "READONLY") != 0 &&
        strcmp(mode, "IMPORT") != 0) {
        api_reply_error(r, 42204, "Invalid mode. Valid values are READWRITE, READONLY, IMPORT");
    } else if (strcmp(mode, "IMPORT") == 0 && !api_query_true(req, "force") &&
               (*subject
                    ? store_subject_exists(c, subject, &exists, &all_deleted, &err) == 0 && exists
                    : store_count_schemas(c) > 0)) {
        /* importing next to schemas this registry assigned could collide */
        api_reply_error(r, 42205,
                        "Cannot import since found existing subjects (set force=true to import "
                        "anyway)");
    } else if (store_set_mode(c, subject, mode, &err) != 0) {
        api_reply_store_error(r, &err);
    } else {
        api_reply_json(r, 200, json_pack("{s:s}", "mode", mode));
    }
    json_decref(root);
}

static void delete_mode(struct reply *r, reg_conn *c, const char *subject)
{
    char mode[32];
    sluice_error err;
    int rc = store_get_mode(c, subject, mode, &err);
    if (rc == SLUICE_ENOTFOUND)
        api_reply_error(r, 40409, "Subject '%s' does not have subject-level mode configured",
                        subject);
    else if (rc || store_delete_mode(c, subject, &err) != 0)
        api_reply_store_error(r, &err);
    else
        api_reply_json(r, 200, json_pack("{s:s}", "mode", mode));
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

static int is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

/* Is this the shape of a path the API serves (with some method)? */
static int path_known(char *seg[], int n)
{
    if (n >= 1 && is(seg[0], "subjects"))
        return n <= 2 ||
               (is(seg[2], "versions") &&
                (n <= 4 || (n == 5 && (is(seg[4], "schema") || is(seg[4], "referencedby")))));
    if (n >= 1 && (is(seg[0], "config") || is(seg[0], "mode"))) return n <= 2;
    if (n >= 3 && is(seg[0], "schemas") && is(seg[1], "ids"))
        return n == 3 || (n == 4 && (is(seg[3], "schema") || is(seg[3], "versions")));
    if (n >= 4 && is(seg[0], "compatibility"))
        return n <= 5 && is(seg[1], "subjects") && is(seg[3], "versions");
    return (n == 1 && (is(seg[0], "metrics") || is(seg[0], "healthz"))) ||
           (n == 2 && is(seg[0], "schemas") && is(seg[1], "types"));
}

/* Routes that need no store. 1 when answered. */
static int route_static(registry_api *api, const char *m, char *seg[], int n, struct reply *r)
{
    int get = is(m, "GET");
    if (n == 0) {
        r->endpoint = "root";
        if (get)
            api_reply_json(r, 200, json_object());
        else
            api_reply_error(r, 405, "HTTP 405 Method Not Allowed");
        return 1;
    }
    if (n == 1 && is(seg[0], "metrics") && get) {
        r->endpoint = "metrics";
        char *text = NULL;
        size_t len = 0;
        if (api->metrics && sluice_metrics_render(api->metrics, &text, &len) == 0) {
            httpd_respond(r->resp, 200, "text/plain; version=0.0.4", text, len);
            free(text);
        } else {
            api_reply_error(r, 50001, "metrics unavailable");
        }
        return 1;
    }
    if (n == 1 && is(seg[0], "healthz") && get) {
        r->endpoint = "healthz";
        httpd_respond(r->resp, 200, "text/plain", "ok\n", 3);
        return 1;
    }
    if (n == 2 && is(seg[0], "schemas") && is(seg[1], "types") && get) {
        r->endpoint = "schemas_types";
        api_reply_json(r, 200, json_pack("[sss]", "JSON", "PROTOBUF", "AVRO"));
        return 1;
    }
    return 0;
}

static int route_subjects(reg_conn *c, const httpd_request *req, char *seg[], int n,
                          struct reply *r)
{
    const char *m = req->method, *subject = n >= 2 ? seg[1] : NULL;
    int get = is(m, "GET"), post = is(m, "POST"), del = is(m, "DELETE");
    int versions = n >= 3 && is(seg[2], "versions");
    if (n == 1 && get) {
        r->endpoint = "subjects";
        list_subjects(r, c, api_query_true(req, "deleted"));
    } else if (n == 2 && post) {
        r->endpoint = "lookup";
        api_lookup(r, c, req, subject);
    } else if (n == 2 && del) {
        r->endpoint = "delete_subject";
        delete_subject(r, c, subject, api_query_true(req, "permanent"));
    } else if (n == 3 && versions && get) {
        r->endpoint = "subjects_versions_list";
        list_versions(r, c, subject, api_query_true(req, "deleted"));
    } else if (n == 3 && versions && post) {
        r->endpoint = "register";
        api_register(r, c, req, subject);
    } else if (n == 4 && versions && get) {
        r->endpoint = "subjects_versions_get";
        get_version(r, c, req, subject, seg[3], 0);
    } else if (n == 5 && versions && is(seg[4], "schema") && get) {
        r->endpoint = "subjects_versions_schema";
        get_version(r, c, req, subject, seg[3], 1);
    } else if (n == 5 && versions && is(seg[4], "referencedby") && get) {
        r->endpoint = "subjects_versions_referencedby";
        get_referenced_by(r, c, subject, seg[3]);
    } else if (n == 4 && versions && del) {
        r->endpoint = "delete_version";
        delete_version(r, c, subject, seg[3], api_query_true(req, "permanent"));
    } else {
        return 0;
    }
    return 1;
}

static int route_settings(reg_conn *c, const httpd_request *req, char *seg[], int n,
                          struct reply *r)
{
    const char *m = req->method, *subject = n == 2 ? seg[1] : "";
    int get = is(m, "GET"), put = is(m, "PUT"), del = is(m, "DELETE") && n == 2;
    int dflt = api_query_true(req, "defaultToGlobal");
    int config = is(seg[0], "config");
    if (get) {
        r->endpoint = config ? "config_get" : "mode_get";
        (config ? get_config : get_mode)(r, c, subject, dflt);
    } else if (put) {
        r->endpoint = config ? "config_put" : "mode_put";
        (config ? put_config : put_mode)(r, c, req, subject);
    } else if (del) {
        r->endpoint = config ? "config_delete" : "mode_delete";
        (config ? delete_config : delete_mode)(r, c, subject);
    } else {
        return 0;
    }
    return 1;
}

static void route(registry_api *api, const httpd_request *req, struct reply *r)
{
    char copy[2048];
    char *seg[MAX_SEGMENTS + 1];
    const char *m = req->method;
    int n = split_path(req, copy, sizeof copy, seg);
    if (n < 0) {
        r->endpoint = "unknown";
        api_reply_error(r, 404, "HTTP 404 Not Found");
        return;
    }
    if (route_static(api, m, seg, n, r)) return;

    /* Everything below reads or writes the store. */
    reg_conn *c = store_acquire(api->store);
    int matched = 0;
    if (is(seg[0], "schemas") && n >= 3 && is(seg[1], "ids") && is(m, "GET")) {
        matched = 1;
        if (n == 3) {
            r->endpoint = "schemas_ids";
            get_schema_by_id(r, c, req, seg[2], 0);
        } else if (n == 4 && is(seg[3], "schema")) {
            r->endpoint = "schemas_ids_schema";
            get_schema_by_id(r, c, req, seg[2], 1);
        } else if (n == 4 && is(seg[3], "versions")) {
            r->endpoint = "schemas_ids_versions";
            get_id_versions(r, c, seg[2]);
        } else {
            matched = 0;
        }
    } else if (is(seg[0], "subjects")) {
        matched = route_subjects(c, req, seg, n, r);
    } else if ((is(seg[0], "config") || is(seg[0], "mode")) && n <= 2) {
        matched = route_settings(c, req, seg, n, r);
    } else if (is(seg[0], "compatibility") && n >= 4 && n <= 5 && is(seg[1], "subjects") &&
               is(seg[3], "versions") && is(m, "POST")) {
        matched = 1;
        r->endpoint = "compatibility";
        api_test_compatibility(r, c, req, seg[2], n == 5 ? seg[4] : NULL);
    }
    store_release(api->store, c);
    if (!matched) {
        r->endpoint = "unknown";
        if (path_known(seg, n))
            api_reply_error(r, 405, "HTTP 405 Method Not Allowed");
        else
            api_reply_error(r, 404, "HTTP 404 Not Found");
    }
}

void registry_api_handle(void *opaque, const httpd_request *req, httpd_response *resp)
{
    registry_api *api = opaque;
    struct reply r = {.resp = resp, .endpoint = "unknown"};
    route(api, req, &r);
    count_request(api, r.endpoint, resp->status);
}
