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
 * "a.b" finds {"a.b": v} or {"a": {"b": v}}. */
static json_t *json_lookup(json_t *obj, const char *path, char sep, int depth)
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
        if (json_is_object(sub) && (v = json_lookup(sub, dot + 1, sep, depth + 1)) != NULL)
            return v;
    }
    return NULL;
}

/* A field of the row: under explode, names below the exploded path are
 * read from the current element. */
static json_t *row_lookup(const plan *p, json_t *root, json_t *elem, const char *path)
{
    if (elem && p->explode_path) {
        size_t n = strlen(p->explode_path);
        if (strcmp(path, p->explode_path) == 0) return elem;
        if (strncmp(path, p->explode_path, n) == 0 && path[n] == p->separator)
            return json_lookup(elem, path + n + 1, p->separator, 0);
    }
    return json_lookup(root, path, p->separator, 0);
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
        st->slots[i] = json_to_cvalue(row_lookup(p, root, elem, p->slot_paths[i]));
    if (p->index_slot >= 0) st->slots[p->index_slot] = cv_int(index, CV_UNIT_NONE);
    for (size_t i = 0; i < p->n_list; i++) {
        int col = p->list[i];
        json_t *v = row_lookup(p, root, elem, p->cols[col].name);
        sluice_error e;
        int rc = ch_encode_json(p->cols[col].type, v ? v : json_null(), &st->scratch[col], &e);
        if (rc && (!v || json_is_null(v)) && rc != SLUICE_ENOMEM) {
            buf_reset(&st->scratch[col]);
            rc = ch_encode_default(p->cols[col].type, &st->scratch[col]);
        }
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
        json_t *arr = json_lookup(root, p->explode_path, p->separator, 0);
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
