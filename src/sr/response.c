/*
 * response.c — registry answer parsing (see response.h), on jansson.
 */
#include "sr/response.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *parse_object(const char *what, const char *body, size_t len, sluice_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        sluice_error_set(err, SLUICE_EPARSE,
                         "registry answer to %s is not JSON: %s at line %d column %d", what,
                         je.text, je.line, je.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        sluice_error_set(err, SLUICE_EPARSE, "registry answer to %s: expected a JSON object", what);
        json_decref(root);
        return NULL;
    }
    return root;
}

static int get_int32(const char *what, json_t *root, const char *field, int32_t min, int32_t *out,
                     sluice_error *err)
{
    json_t *v = json_object_get(root, field);
    if (!v)
        return sluice_error_set(err, SLUICE_EPARSE, "registry answer to %s: field '%s' missing",
                                what, field);
    if (!json_is_integer(v))
        return sluice_error_set(err, SLUICE_EPARSE,
                                "registry answer to %s: field '%s' is not an integer", what, field);
    json_int_t n = json_integer_value(v);
    if (n < min || n > INT32_MAX)
        return sluice_error_set(err, SLUICE_EPARSE,
                                "registry answer to %s: field '%s' out of range: %lld", what, field,
                                (long long)n);
    *out = (int32_t)n;
    return 0;
}

/* A string field; NULL with an error if missing or not a string (unless
 * optional, then NULL without error when missing). */
static const char *get_string(const char *what, json_t *root, const char *field, int optional,
                              size_t *len, sluice_error *err)
{
    json_t *v = json_object_get(root, field);
    if (!v) {
        if (!optional)
            sluice_error_set(err, SLUICE_EPARSE, "registry answer to %s: field '%s' missing", what,
                             field);
        return NULL;
    }
    if (!json_is_string(v)) {
        sluice_error_set(err, SLUICE_EPARSE, "registry answer to %s: field '%s' is not a string",
                         what, field);
        return NULL;
    }
    if (len) *len = json_string_length(v);
    return json_string_value(v);
}

/* "references": absent, null, or [{name, subject, version}]. *out points
 * into root's strings (alive while root is); the caller frees the array. */
static int get_references(const char *what, json_t *root, sluice_sr_reference **out, size_t *n,
                          sluice_error *err)
{
    *out = NULL;
    *n = 0;
    json_t *v = json_object_get(root, "references");
    if (!v || json_is_null(v)) return 0;
    if (!json_is_array(v))
        return sluice_error_set(err, SLUICE_EPARSE,
                                "registry answer to %s: field 'references' is not an array", what);
    size_t count = json_array_size(v);
    if (count > SLUICE_SR_MAX_REFERENCES)
        return sluice_error_set(err, SLUICE_EPARSE,
                                "registry answer to %s: more than %d references", what,
                                SLUICE_SR_MAX_REFERENCES);
    sluice_sr_reference *refs = calloc(count + 1, sizeof *refs);
    if (!refs) return sluice_error_set(err, SLUICE_ENOMEM, "registry client: out of memory");
    for (size_t i = 0; i < count; i++) {
        json_t *r = json_array_get(v, i);
        json_t *name = json_object_get(r, "name"), *subject = json_object_get(r, "subject"),
               *version = json_object_get(r, "version");
        json_int_t ver = json_is_integer(version) ? json_integer_value(version) : 0;
        if (!json_is_string(name) || !json_is_string(subject) || !json_string_length(subject) ||
            !json_is_integer(version) || !((ver >= 1 && ver <= INT32_MAX) || ver == -1)) {
            free(refs);
            return sluice_error_set(err, SLUICE_EPARSE,
                                    "registry answer to %s: references[%zu] needs a string name, "
                                    "a subject and a version (an integer >= 1, or -1)",
                                    what, i);
        }
        refs[i] = (sluice_sr_reference){json_string_value(name), json_string_value(subject),
                                        (int32_t)ver};
    }
    *out = refs;
    *n = count;
    return 0;
}

int sr_response_error(const char *what, long status, const char *body, size_t len,
                      sluice_error *err)
{
    long code = status;
    char message[256] = "";
    json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    if (json_is_object(root)) {
        json_t *c = json_object_get(root, "error_code");
        json_t *m = json_object_get(root, "message");
        if (json_is_integer(c) && json_integer_value(c) > 0 && json_integer_value(c) < 1000000)
            code = (long)json_integer_value(c);
        if (json_is_string(m)) snprintf(message, sizeof message, "%s", json_string_value(m));
    } else if (body && len) {
        snprintf(message, sizeof message, "%.*s", (int)(len < 200 ? len : 200), body);
    }
    json_decref(root);

    int kind;
    if (status == 404 || (code >= 40400 && code < 40500))
        kind = SLUICE_ENOTFOUND;
    else if (status == 409 || code == 409)
        kind = SLUICE_ECONFLICT;
    else if (status == 422 || (code >= 42200 && code < 42300))
        kind = SLUICE_EINVAL;
    else if (status == 401 || status == 403)
        kind = SLUICE_EAUTH;
    else
        kind = SLUICE_EREMOTE;
    sluice_error_set(err, kind, "registry answered %s with HTTP %ld (error_code %ld): %s", what,
                     status, code, message[0] ? message : "(no message)");
    if (err) err->remote_code = (int)code;
    return kind;
}

int sr_response_schema_by_id(const char *what, int32_t id, const char *body, size_t len,
                             sr_schema **out, sluice_error *err)
{
    json_t *root = parse_object(what, body, len, err);
    if (!root) return SLUICE_EPARSE;
    int rc = SLUICE_EPARSE;
    size_t slen = 0;
    const char *schema = get_string(what, root, "schema", 0, &slen, err);
    const char *type = schema ? get_string(what, root, "schemaType", 1, NULL, err) : NULL;
    sluice_sr_reference *refs = NULL;
    size_t n_refs = 0;
    if (schema && (type || !json_object_get(root, "schemaType")) &&
        get_references(what, root, &refs, &n_refs, err) == 0) {
        *out = sr_schema_new_refs(id, 0, NULL, type, schema, slen, refs, n_refs);
        rc = *out ? 0 : sluice_error_set(err, SLUICE_ENOMEM, "registry client: out of memory");
    }
    free(refs);
    json_decref(root);
    return rc;
}

int sr_response_subject_version(const char *what, const char *body, size_t len,
                                const char *schema_text, sr_schema **out, sluice_error *err)
{
    json_t *root = parse_object(what, body, len, err);
    if (!root) return SLUICE_EPARSE;
    int rc = SLUICE_EPARSE;
    int32_t id, version;
    size_t slen = 0;
    const char *subject = get_string(what, root, "subject", 0, NULL, err);
    if (!subject || get_int32(what, root, "id", 0, &id, err) ||
        get_int32(what, root, "version", 1, &version, err))
        goto out;
    const char *schema = get_string(what, root, "schema", schema_text != NULL, &slen, err);
    if (!schema) {
        if (!schema_text || json_object_get(root, "schema")) goto out;
        schema = schema_text;
        slen = strlen(schema_text);
    }
    const char *type = get_string(what, root, "schemaType", 1, NULL, err);
    if (!type && json_object_get(root, "schemaType")) goto out;
    sluice_sr_reference *refs = NULL;
    size_t n_refs = 0;
    if (get_references(what, root, &refs, &n_refs, err) != 0) goto out;
    *out = sr_schema_new_refs(id, version, subject, type, schema, slen, refs, n_refs);
    free(refs);
    rc = *out ? 0 : sluice_error_set(err, SLUICE_ENOMEM, "registry client: out of memory");
out:
    json_decref(root);
    return rc;
}

int sr_response_register(const char *what, const char *body, size_t len, int32_t *id,
                         sluice_error *err)
{
    json_t *root = parse_object(what, body, len, err);
    if (!root) return SLUICE_EPARSE;
    int rc = get_int32(what, root, "id", 0, id, err);
    json_decref(root);
    return rc;
}
