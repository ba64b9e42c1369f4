/*
 * api_schemas.c — the registry handlers that take a schema in the request
 * body: register (POST /subjects/{s}/versions), look up (POST
 * /subjects/{s}) and test compatibility (POST /compatibility/...).
 *
 * Each reads the body {"schema", "schemaType"?, "references"?, "id"?,
 * "version"?}, loads everything the references reach (refs.c: each must
 * exist, no cycles), and parses the schema with them (schema_types.c); any
 * failure there is 42201 with the parser's message. A schema's identity is
 * (type, normalised text, references). Registration checks the subject's
 * level against its visible versions (compat.c), each parsed with its own
 * references, inside the write transaction, so two registrations racing on
 * one subject are checked one after the other. In IMPORT mode an explicit id
 * and version are honoured and nothing is checked, as Confluent does when
 * migrating registries.
 */
#include "registry/api_int.h"
#include "registry/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A schema request, parsed. */
struct schema_body {
    json_t *root;
    const char *text; /* the "schema" string, in root */
    size_t len;
    reg_type type;
    reg_ref_list refs;
    char *refs_json;     /* canonical */
    int64_t id, version; /* IMPORT: given id / version, else 0 */
    reg_deps deps;
    reg_schema *schema;
};

static void schema_body_free(struct schema_body *b)
{
    reg_schema_free(b->schema);
    reg_deps_free(&b->deps);
    reg_ref_list_free(&b->refs);
    free(b->refs_json);
    json_decref(b->root);
    memset(b, 0, sizeof *b);
}

/* References given as version -1 mean the latest version at this moment. */
static int resolve_latest(struct reply *r, reg_conn *c, reg_ref_list *refs)
{
    for (size_t i = 0; i < refs->n; i++) {
        if (refs->items[i].version != -1) continue;
        reg_version v = {0};
        sluice_error err;
        int rc = store_get_version(c, refs->items[i].subject, -1, 0, &v, &err);
        reg_version_free(&v);
        if (rc == SLUICE_ENOTFOUND) {
            api_reply_error(r, 42201, "Invalid schema: reference '%s': subject '%s' not found",
                            refs->items[i].name, refs->items[i].subject);
            return -1;
        }
        if (rc) {
            api_reply_store_error(r, &err);
            return -1;
        }
        refs->items[i].version = v.version;
    }
    return 0;
}

static int optional_int(struct reply *r, json_t *root, const char *key, int64_t *out)
{
    json_t *v = json_object_get(root, key);
    *out = 0;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > INT32_MAX) {
        api_reply_error(r, 42201, "Invalid schema: \"%s\" must be an integer >= 1", key);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

/* Read and parse the schema of the request; answers and returns -1 on any
 * problem. */
static int read_schema_body(struct reply *r, reg_conn *c, const httpd_request *req,
                            struct schema_body *b)
{
    memset(b, 0, sizeof *b);
    if (!(b->root = api_body_object(r, req))) return -1;
    json_t *schema = json_object_get(b->root, "schema");
    json_t *type = json_object_get(b->root, "schemaType");
    char msg[512];
    if (type && !json_is_null(type) &&
        (!json_is_string(type) || reg_type_parse(json_string_value(type), &b->type) != 0)) {
        api_reply_error(r, 42201, "Invalid schema type %s: expected AVRO, PROTOBUF or JSON",
                        json_is_string(type) ? json_string_value(type) : "(not a string)");
        return -1;
    }
    if (!json_is_string(schema)) {
        api_reply_error(r, 42201, "Invalid schema: the request has no \"schema\" string");
        return -1;
    }
    b->text = json_string_value(schema);
    b->len = json_string_length(schema);
    if (reg_refs_parse(json_object_get(b->root, "references"), 1, &b->refs, msg, sizeof msg)) {
        api_reply_error(r, 42201, "Invalid schema: %s", msg);
        return -1;
    }
    if (optional_int(r, b->root, "id", &b->id) || optional_int(r, b->root, "version", &b->version))
        return -1;
    if (resolve_latest(r, c, &b->refs) != 0) return -1;
    if (!(b->refs_json = reg_refs_canonical(&b->refs))) {
        api_reply_error(r, 50001, "out of memory");
        return -1;
    }
    sluice_error err;
    int rc = reg_deps_load(c, &b->refs, &b->deps, &err);
    if (rc == SLUICE_EIO) {
        api_reply_store_error(r, &err);
        return -1;
    }
    if (rc) {
        api_reply_error(r, 42201, "Invalid schema: %s", err.msg);
        return -1;
    }
    if (reg_schema_parse(b->type, b->text, b->len, b->deps.items, b->deps.n, &b->schema, &err)) {
        api_reply_error(r, 42201, "Invalid %s schema: %s", reg_type_name(b->type), err.msg);
        return -1;
    }
    return 0;
}

/* Check candidate against the subject's visible versions up to `upto`
 * (-1: all) as `level` asks: 1 compatible, 0 not (reason), < 0 store error. */
static int check_versions(reg_conn *c, const char *subject, int level, int64_t upto,
                          const reg_schema *candidate, char *reason, size_t reason_len,
                          sluice_error *err)
{
    reg_int_list versions = {0};
    int rc = store_list_versions(c, subject, 0, &versions, err);
    if (rc == SLUICE_ENOTFOUND) return 1;
    if (rc) return rc;
    size_t n = versions.n;
    if (upto > 0)
        for (n = 0; n < versions.n && versions.items[n] <= upto;)
            n++;
    size_t first = reg_level_first_checked(level, n);
    size_t k = n - first;
    reg_schema **parsed = calloc(k + 1, sizeof *parsed);
    int ok = parsed ? 1 : sluice_error_set(err, SLUICE_ENOMEM, "registry: out of memory");
    for (size_t i = 0; ok == 1 && i < k; i++) {
        reg_version v = {0};
        rc = store_get_version(c, subject, versions.items[first + i], 0, &v, err);
        if (rc) {
            ok = rc < 0 ? rc : SLUICE_EIO;
        } else {
            sluice_error perr;
            rc = api_parse_stored(c, &v, &parsed[i], &perr);
            if (rc == SLUICE_EIO) {
                *err = perr;
                ok = rc;
            } else if (rc) {
                /* A stored schema that no longer parses (a stricter parser
                 * than the one that stored it) cannot be compared: say so. */
                snprintf(reason, reason_len, "stored version %lld does not parse: %s",
                         (long long)v.version, perr.msg);
                ok = 0;
            }
        }
        reg_version_free(&v);
    }
    if (ok == 1)
        ok = reg_check_level(level, candidate, (const reg_schema *const *)parsed,
                             versions.items + first, k, reason, reason_len, err);
    for (size_t i = 0; parsed && i < k; i++)
        reg_schema_free(parsed[i]);
    free(parsed);
    free(versions.items);
    return ok;
}

void api_register(struct reply *r, reg_conn *c, const httpd_request *req, const char *subject)
{
    struct schema_body b;
    sluice_error err;
    char mode[32];
    if (api_effective_mode(c, subject, mode, &err) != 0) {
        api_reply_store_error(r, &err);
        return;
    }
    if (strcmp(mode, "READONLY") == 0) {
        api_reply_error(r, 42205, "Subject '%s' is in read-only mode", subject);
        return;
    }
    if (read_schema_body(r, c, req, &b) != 0) {
        schema_body_free(&b);
        return;
    }
    int import = strcmp(mode, "IMPORT") == 0;
    if ((b.id || b.version) && !import) {
        api_reply_error(r, 42205,
                        "An id or version can be given only in IMPORT mode (subject '%s' is in "
                        "%s mode)",
                        subject, mode);
        schema_body_free(&b);
        return;
    }
    const char *type = reg_type_name(b.type);
    reg_version found = {0};
    char reason[1536] = "";
    int64_t id = 0, version = 0;
    if (store_begin_write(c, &err) != 0) goto store_error;
    int rc =
        store_find_in_subject(c, subject, type, b.schema->normalized, b.refs_json, 0, &found, &err);
    if (rc == 0) {
        store_rollback(c);
        api_reply_json(r, 200, json_pack("{s:I}", "id", (json_int_t)found.id));
        goto out;
    }
    if (rc != SLUICE_ENOTFOUND) goto store_error;
    if (!import) {
        int level = api_effective_level(c, subject, &err);
        if (level < 0) goto store_error;
        int ok = check_versions(c, subject, level, -1, b.schema, reason, sizeof reason, &err);
        if (ok < 0) goto store_error;
        if (!ok) {
            store_rollback(c);
            api_reply_error(r, 409,
                            "Schema being registered is incompatible with an earlier schema for "
                            "subject \"%s\", details: [%s]",
                            subject, reason);
            goto out;
        }
    }
    reg_new_schema ns = {.type = type,
                         .normalized = b.schema->normalized,
                         .refs_json = b.refs_json,
                         .refs = b.refs.items,
                         .n_refs = b.refs.n,
                         .text = reg_schema_stored_text(b.schema, b.text),
                         .forced_id = b.id,
                         .forced_version = b.version};
    rc = store_insert_version(c, subject, &ns, &id, &version, &err);
    if (rc == SLUICE_ECONFLICT) {
        store_rollback(c);
        api_reply_error(r, 42205, "Overwrite not permitted: %s", err.msg);
        goto out;
    }
    if (rc != 0 || store_commit(c, &err) != 0) goto store_error;
    api_reply_json(r, 200, json_pack("{s:I}", "id", (json_int_t)id));
    goto out;
store_error:
    store_rollback(c);
    api_reply_store_error(r, &err);
out:
    reg_version_free(&found);
    schema_body_free(&b);
}

void api_lookup(struct reply *r, reg_conn *c, const httpd_request *req, const char *subject)
{
    struct schema_body b;
    if (read_schema_body(r, c, req, &b) != 0) {
        schema_body_free(&b);
        return;
    }
    reg_version v = {0};
    sluice_error err;
    int rc = store_find_in_subject(c, subject, reg_type_name(b.type), b.schema->normalized,
                                   b.refs_json, api_query_true(req, "deleted"), &v, &err);
    if (rc == 0) {
        api_reply_json(r, 200, api_version_json(subject, &v));
    } else if (rc == SLUICE_ENOTFOUND) {
        int exists = 0, all_deleted = 1;
        if (store_subject_exists(c, subject, &exists, &all_deleted, &err) != 0)
            api_reply_store_error(r, &err);
        else if (!exists || all_deleted)
            api_reply_error(r, 40401, "Subject '%s' not found.", subject);
        else
            api_reply_error(r, 40403, "Schema not found");
    } else {
        api_reply_store_error(r, &err);
    }
    reg_version_free(&v);
    schema_body_free(&b);
}

void api_test_compatibility(struct reply *r, reg_conn *c, const httpd_request *req,
                            const char *subject, const char *ver_s)
{
    int64_t upto = -1;
    if (ver_s && (upto = api_version_or_reply(r, ver_s)) == 0) return;
    sluice_error err;
    reg_version v = {0};
    int rc = store_get_version(c, subject, upto, 0, &v, &err);
    if (rc == SLUICE_ENOTFOUND) {
        api_not_found_subject_or_version(r, c, subject, upto);
        return;
    }
    if (rc) {
        api_reply_store_error(r, &err);
        return;
    }
    struct schema_body b;
    if (read_schema_body(r, c, req, &b) != 0) {
        schema_body_free(&b);
        reg_version_free(&v);
        return;
    }
    int level = api_effective_level(c, subject, &err);
    char reason[1536] = "";
    /* Without a version every version takes part: check transitively. */
    if (!ver_s && level >= 0) level = reg_level_to_transitive(level);
    int ok = level < 0 ? level
                       : check_versions(c, subject, level, v.version, b.schema, reason,
                                        sizeof reason, &err);
    if (ok < 0) {
        api_reply_store_error(r, &err);
    } else {
        json_t *o = json_pack("{s:b}", "is_compatible", ok);
        if (!ok && api_query_true(req, "verbose"))
            json_object_set_new(o, "messages", json_pack("[s]", reason));
        api_reply_json(r, 200, o);
    }
    reg_version_free(&v);
    schema_body_free(&b);
}
