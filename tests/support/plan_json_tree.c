/*
 * plan_json_tree.c — the tests' oracle for JSON messages: the jansson-tree
 * implementation the sink ran before the streaming one (src/codec/
 * plan_json.c). It runs a compiled JSON plan (plan_compile_json) by parsing
 * the message into a tree and looking each column's path up in it; the
 * streaming plan must give the same RowBinary, or fail where this fails
 * (tests/unit/test_plan_json.c), except where plan_json.c says it differs
 * by design.
 */
#include "plan_json_tree.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* obj[path], where path may also walk nested objects at separators:
 * "a.b" finds {"a.b": v} or {"a": {"b": v}}. With items given (an Array
 * column), a prefix of the path that leads to an array instead (the JSON
 * form of a Nested group, plan_json.c gather) puts that array in *items and
 * the rest of the path in *rest, and NULL is returned. */
static json_t *json_lookup(json_t *obj, const char *path, char sep, int depth, json_t **items,
                           const char **rest)
{
    if (!json_is_object(obj) || depth > 16) return NULL;
    json_t *v = json_object_get(obj, path);
    if (v) return v;
    for (const char *dot = strchr(path, sep); dot; dot = strchr(dot + 1, sep)) {
        char head[512];
        size_t n = (size_t)(dot - path);
        if (n >= sizeof head) break;
        memcpy(head, path, n);
        head[n] = '\0';
        json_t *sub = json_object_get(obj, head);
        if (json_is_object(sub) &&
            ((v = json_lookup(sub, dot + 1, sep, depth + 1, items, rest)) != NULL ||
             (items && *items)))
            return v;
        if (items && json_is_array(sub) && depth < 16) {
            *items = sub;
            *rest = dot + 1;
            return NULL;
        }
    }
    return NULL;
}

/* One value into a column's type: null (or nothing) as its default where
 * the type cannot hold null. */
static int encode_or_default(const ch_type *t, json_t *v, buf *out, sluice_error *e)
{
    size_t mark = out->len;
    int rc = ch_encode_json(t, v ? v : json_null(), out, e);
    if (rc && (!v || json_is_null(v)) && rc != SLUICE_ENOMEM) {
        out->len = mark;
        rc = ch_encode_default(t, out);
    }
    return rc;
}

/* An array of objects into an Array column: one element per item, the
 * item's value at rest or the element type's default. */
static int encode_gathered(const ch_type *t, json_t *items, const char *rest, char sep, buf *out,
                           sluice_error *e)
{
    size_t n = json_array_size(items);
    if (put_varint(out, n)) return SLUICE_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(items, i);
        if (!json_is_object(item) && !json_is_null(item))
            return sluice_error_set(e, SLUICE_EINVAL, "item %zu of the array is not an object", i);
        json_t *w = json_is_object(item) ? json_lookup(item, rest, sep, 0, NULL, NULL) : NULL;
        int rc = w ? encode_or_default(t->inner, w, out, e) : ch_encode_default(t->inner, out);
        if (rc) return rc;
    }
    return 0;
}

/* A field of the row: under explode, names below the exploded path are
 * read from the current element. items and rest as json_lookup's. */
static json_t *row_lookup(const plan *p, json_t *root, json_t *elem, const char *path,
                          json_t **items, const char **rest)
{
    if (elem && p->explode_path) {
        size_t n = strlen(p->explode_path);
        if (strcmp(path, p->explode_path) == 0) return elem;
        if (strncmp(path, p->explode_path, n) == 0 && path[n] == p->separator)
            return json_lookup(elem, path + n + 1, p->separator, 0, items, rest);
    }
    return json_lookup(root, path, p->separator, 0, items, rest);
}

static cvalue json_to_cvalue(json_t *v)
{
    if (json_is_string(v)) return cv_string(json_string_value(v), json_string_length(v));
    if (json_is_integer(v)) return cv_int(json_integer_value(v), CV_UNIT_NONE);
    if (json_is_real(v)) return cv_double(json_real_value(v));
    if (json_is_boolean(v)) return cv_bool(json_is_true(v));
    return cv_null(); /* null, absent, objects and arrays */
}

static int json_row(run *x, json_t *root, json_t *elem, int64_t index, int64_t now_s, buf *out,
                    plan_result *res)
{
    const plan *p = x->p;
    plan_state *st = x->st;
    plan_reset_row(p, st);
    for (size_t i = 0; i < p->n_slots; i++)
        st->slots[i] = json_to_cvalue(row_lookup(p, root, elem, p->slot_paths[i], NULL, NULL));
    if (p->index_slot >= 0) st->slots[p->index_slot] = cv_int(index, CV_UNIT_NONE);
    for (size_t i = 0; i < p->n_list; i++) {
        int col = p->list[i];
        const ch_type *type = p->cols[col].type;
        sluice_error e;
        int rc;
        json_t *items = NULL;
        const char *rest = NULL;
        json_t *v = row_lookup(p, root, elem, p->cols[col].name,
                               type->kind == CH_ARRAY ? &items : NULL, &rest);
        if (items)
            rc = encode_gathered(type, items, rest, p->separator, &st->scratch[col], &e);
        else
            rc = encode_or_default(type, v, &st->scratch[col], &e);
        if (rc)
            return sluice_error_set(x->err, rc, "$.%s: column %s: %s", p->cols[col].name,
                                    p->cols[col].name, e.msg);
        st->set[col] = 1;
    }
    return plan_emit_row(x, now_s, out, out->len, res);
}

int plan_run_json_tree(const plan *p, plan_state *st, const uint8_t *msg, size_t len, int64_t now_s,
                       buf *out, plan_result *res, sluice_error *err)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)msg, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return sluice_error_set(err, SLUICE_EINVAL, "not JSON: %s at line %d column %d (offset %d)",
                                je.text, je.line, je.column, je.position);
    run x = {.p = p, .st = st, .err = err, .out = out};
    int rc = 0;
    if (!json_is_object(root)) {
        rc = sluice_error_set(err, SLUICE_EINVAL, "a JSON message must be an object");
    } else if (p->explode_path) {
        json_t *arr = json_lookup(root, p->explode_path, p->separator, 0, NULL, NULL);
        if (arr && !json_is_array(arr) && !json_is_null(arr))
            rc = sluice_error_set(err, SLUICE_EINVAL, "$.%s: explode needs an array",
                                  p->explode_path);
        for (size_t i = 0; rc == 0 && json_is_array(arr) && i < json_array_size(arr); i++)
            rc = json_row(&x, root, json_array_get(arr, i), (int64_t)i, now_s, out, res);
    } else {
        rc = json_row(&x, root, NULL, 0, now_s, out, res);
    }
    json_decref(root);
    return rc;
}

int plan_run_tree(const plan *p, plan_state *st, const uint8_t *msg, size_t len, int64_t now_s,
                  buf *out, plan_result *res, sluice_error *err)
{
    size_t mark = out->len;
    res->rows = res->filtered = 0;
    int rc = plan_run_json_tree(p, st, msg, len, now_s, out, res, err);
    if (rc) {
        out->len = mark;
        res->rows = res->filtered = 0;
    }
    return rc;
}
