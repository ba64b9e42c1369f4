/*
 * refs.c — schema references: parsing, canonical JSON, and the depth-first
 * load of everything they reach (contract in refs.h).
 */
#include "registry/refs.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void reg_ref_list_free(reg_ref_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free((char *)l->items[i].name);
        free((char *)l->items[i].subject);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

int reg_refs_parse(const json_t *value, int allow_latest, reg_ref_list *out, char *msg,
                   size_t msg_len)
{
    out->items = NULL;
    out->n = 0;
    if (!value || json_is_null(value)) return 0;
    if (!json_is_array(value)) {
        snprintf(msg, msg_len, "references: expected an array, got something else");
        return -1;
    }
    size_t n = json_array_size(value);
    if (n > REG_REFS_MAX_SCHEMAS) {
        snprintf(msg, msg_len, "references: more than %d", REG_REFS_MAX_SCHEMAS);
        return -1;
    }
    out->items = calloc(n + 1, sizeof *out->items);
    if (!out->items) {
        snprintf(msg, msg_len, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(value, i);
        json_t *name = json_object_get(r, "name"), *subject = json_object_get(r, "subject"),
               *version = json_object_get(r, "version");
        const char *bad = !json_is_object(r)                                         ? ""
                          : !json_is_string(name) || !json_string_length(name)       ? ".name"
                          : !json_is_string(subject) || !json_string_length(subject) ? ".subject"
                          : !json_is_integer(version)                                ? ".version"
                                                                                     : NULL;
        json_int_t v = json_is_integer(version) ? json_integer_value(version) : 0;
        if (!bad && !(v >= 1 && v <= INT32_MAX) && !(allow_latest && v == -1)) bad = ".version";
        if (bad) {
            snprintf(msg, msg_len, "references[%zu]%s: %s", i, bad,
                     bad[0] == '\0' ? "expected an object with name, subject and version"
                     : strcmp(bad, ".version") == 0 ? "expected an integer >= 1 (or -1, latest)"
                                                    : "expected a non-empty string");
            reg_ref_list_free(out);
            return -1;
        }
        out->items[i].name = strdup(json_string_value(name));
        out->items[i].subject = strdup(json_string_value(subject));
        out->items[i].version = v;
        out->n = i + 1;
        if (!out->items[i].name || !out->items[i].subject) {
            snprintf(msg, msg_len, "out of memory");
            reg_ref_list_free(out);
            return -1;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(out->items[k].name, out->items[i].name) == 0) {
                snprintf(msg, msg_len, "references[%zu].name: '%s' is listed twice", i,
                         out->items[i].name);
                reg_ref_list_free(out);
                return -1;
            }
    }
    return 0;
}

int reg_refs_parse_text(const char *text, reg_ref_list *out, sluice_error *err)
{
    json_t *j = json_loads(text ? text : "[]", 0, NULL);
    char msg[256];
    int rc = j ? reg_refs_parse(j, 0, out, msg, sizeof msg) : -1;
    json_decref(j);
    if (rc)
        return sluice_error_set(err, SLUICE_EIO,
                                "registry database: stored references '%.100s' "
                                "do not parse",
                                text ? text : "");
    return 0;
}

json_t *reg_refs_json(const reg_ref_list *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < l->n; i++)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:I}", "name", l->items[i].name, "subject",
                                             l->items[i].subject, "version",
                                             (json_int_t)l->items[i].version));
    return arr;
}

char *reg_refs_canonical(const reg_ref_list *l)
{
    json_t *arr = reg_refs_json(l);
    /* keys in a fixed order (name, subject, version) as packed above */
    char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return text;
}

/* ---- loading ------------------------------------------------------------------ */

struct loader {
    reg_conn *c;
    reg_deps *out;
    const reg_ref *stack[REG_REFS_MAX_DEPTH];
    size_t depth;
    sluice_error *err;
};

static void free_dep(reg_dep *d)
{
    free(d->name);
    free(d->subject);
    free(d->text);
}

void reg_deps_free(reg_deps *d)
{
    for (size_t i = 0; i < d->n; i++)
        free_dep(&d->items[i]);
    free(d->items);
    d->items = NULL;
    d->n = 0;
}

static int cycle_error(struct loader *l, const reg_ref *r)
{
    char chain[400] = "";
    size_t used = 0;
    for (size_t i = 0; i < l->depth && used < sizeof chain; i++)
        used += (size_t)snprintf(chain + used, sizeof chain - used, "%s version %lld -> ",
                                 l->stack[i]->subject, (long long)l->stack[i]->version);
    return sluice_error_set(l->err, SLUICE_EINVAL, "reference cycle: %s%s version %lld", chain,
                            r->subject, (long long)r->version);
}

static int load(struct loader *l, const reg_ref_list *refs);

static int load_one(struct loader *l, const reg_ref *r)
{
    for (size_t i = 0; i < l->depth; i++)
        if (strcmp(l->stack[i]->subject, r->subject) == 0 && l->stack[i]->version == r->version)
            return cycle_error(l, r);
    for (size_t i = 0; i < l->out->n; i++) {
        reg_dep *d = &l->out->items[i];
        bool same = strcmp(d->subject, r->subject) == 0 && d->version == r->version;
        if (strcmp(d->name, r->name) == 0) {
            if (same) return 0; /* reached twice (a diamond): loaded once */
            return sluice_error_set(l->err, SLUICE_EINVAL,
                                    "reference name '%s' stands for two schemas: subject '%s' "
                                    "version %lld and subject '%s' version %lld",
                                    r->name, d->subject, (long long)d->version, r->subject,
                                    (long long)r->version);
        }
    }
    if (l->depth == REG_REFS_MAX_DEPTH)
        return sluice_error_set(l->err, SLUICE_EINVAL, "references nested deeper than %d",
                                REG_REFS_MAX_DEPTH);
    if (l->out->n == REG_REFS_MAX_SCHEMAS)
        return sluice_error_set(l->err, SLUICE_EINVAL, "more than %d referenced schemas",
                                REG_REFS_MAX_SCHEMAS);
    reg_version v = {0};
    int rc = store_get_version(l->c, r->subject, r->version, 0, &v, l->err);
    if (rc == SLUICE_ENOTFOUND)
        return sluice_error_set(l->err, SLUICE_ENOTFOUND,
                                "reference '%s': subject '%s' has no version %lld", r->name,
                                r->subject, (long long)r->version);
    if (rc) return rc;
    reg_ref_list inner = {0};
    rc = reg_refs_parse_text(v.refs, &inner, l->err);
    if (rc == 0) {
        l->stack[l->depth++] = r;
        rc = load(l, &inner);
        l->depth--;
    }
    reg_ref_list_free(&inner);
    reg_type type = REG_AVRO;
    if (rc == 0 && reg_type_parse(v.type, &type) != 0)
        rc = sluice_error_set(l->err, SLUICE_EIO, "registry database: unknown schema type '%s'",
                              v.type);
    if (rc == 0) {
        reg_dep *items = realloc(l->out->items, (l->out->n + 1) * sizeof *items);
        if (!items) {
            rc = sluice_error_set(l->err, SLUICE_ENOMEM, "registry: out of memory");
        } else {
            l->out->items = items;
            reg_dep *d = &items[l->out->n];
            *d = (reg_dep){strdup(r->name), strdup(r->subject), v.version, type, v.text};
            v.text = NULL;
            if (!d->name || !d->subject) {
                free_dep(d);
                rc = sluice_error_set(l->err, SLUICE_ENOMEM, "registry: out of memory");
            } else {
                l->out->n++;
            }
        }
    }
    reg_version_free(&v);
    return rc;
}

static int load(struct loader *l, const reg_ref_list *refs)
{
    for (size_t i = 0; i < refs->n; i++) {
        int rc = load_one(l, &refs->items[i]);
        if (rc) return rc;
    }
    return 0;
}

int reg_deps_load(reg_conn *c, const reg_ref_list *refs, reg_deps *out, sluice_error *err)
{
    out->items = NULL;
    out->n = 0;
    struct loader l = {.c = c, .out = out, .err = err};
    int rc = load(&l, refs);
    if (rc) reg_deps_free(out);
    return rc;
}
