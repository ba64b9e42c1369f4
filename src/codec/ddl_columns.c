/*
 * ddl_columns.c — the type-neutral half of `sluice ddl` (contract in
 * ddl_columns.h): the column list a front end proposes, the fields it
 * leaves out, the helpers its proof shares, and the CREATE TABLE text.
 *
 * The text is written for the oldest server the project supports (18.16):
 * `ENGINE = MergeTree PARTITION BY ... ORDER BY ...` (the post-2017 syntax),
 * Nested(...) for groups, backticks around every name.
 */
#include "codec/ddl_columns.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ddl_columns_init(ddl_columns *c)
{
    memset(c, 0, sizeof *c);
    arena_init(&c->a, 4096, SIZE_MAX);
}

void ddl_columns_free(ddl_columns *c)
{
    arena_free(&c->a);
    memset(c, 0, sizeof *c);
}

static const char *dup_or_null(arena *a, const char *s, int *oom)
{
    if (!s) return NULL;
    const char *d = arena_strdup(a, s);
    if (!d) *oom = 1;
    return d;
}

int ddl_columns_add(ddl_columns *c, const char *name, const char *type, const char *nested,
                    const char *nested_sub, const char *elem_type, const char *source,
                    sluice_error *err)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->items[i].name, name) == 0)
            return sluice_error_set(err, SLUICE_ECONFLICT,
                                    "%s and %s would both be column %s (with '_' flattening, "
                                    "try the '.' separator)",
                                    c->items[i].source, source, name);
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        ddl_column *items = arena_alloc(&c->a, cap * sizeof *items, _Alignof(ddl_column));
        if (!items) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
        if (c->n) memcpy(items, c->items, c->n * sizeof *items);
        c->items = items;
        c->cap = cap;
    }
    int oom = 0;
    ddl_column col = {
        .name = dup_or_null(&c->a, name, &oom),
        .type = dup_or_null(&c->a, type, &oom),
        .nested = dup_or_null(&c->a, nested, &oom),
        .nested_sub = dup_or_null(&c->a, nested_sub, &oom),
        .elem_type = dup_or_null(&c->a, elem_type, &oom),
        .source = dup_or_null(&c->a, source, &oom),
    };
    if (oom) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    c->items[c->n++] = col;
    return 0;
}

int ddl_columns_add_grouped(ddl_columns *c, char sep, const char *name, const char *sub,
                            const char *elem, const char *source, sluice_error *err)
{
    const char *col = ddl_fmt(&c->a, err, "%s%c%s", name, sep, sub);
    const char *type = ddl_fmt(&c->a, err, "Array(%s)", elem);
    if (!col || !type) return SLUICE_ENOMEM;
    int nested = sep == '.';
    return ddl_columns_add(c, col, type, nested ? name : NULL, nested ? sub : NULL,
                           nested ? elem : NULL, source, err);
}

int ddl_columns_skip(ddl_columns *c, const char *source, const char *why, sluice_error *err)
{
    if (c->n_skipped == c->cap_skipped) {
        size_t cap = c->cap_skipped ? c->cap_skipped * 2 : 8;
        ddl_skipped *s = arena_alloc(&c->a, cap * sizeof *s, _Alignof(ddl_skipped));
        if (!s) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
        if (c->n_skipped) memcpy(s, c->skipped, c->n_skipped * sizeof *s);
        c->skipped = s;
        c->cap_skipped = cap;
    }
    int oom = 0;
    ddl_skipped k = {dup_or_null(&c->a, source, &oom), dup_or_null(&c->a, why, &oom)};
    if (oom) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    c->skipped[c->n_skipped++] = k;
    return 0;
}

/* ---- helpers for the front ends ------------------------------------------------ */

const char *ddl_fmt(arena *a, sluice_error *err, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(NULL, 0, format, ap);
    va_end(ap);
    char *s = n >= 0 ? arena_alloc(a, (size_t)n + 1, 1) : NULL;
    if (!s) {
        sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
        return NULL;
    }
    va_start(ap, format);
    vsnprintf(s, (size_t)n + 1, format, ap);
    va_end(ap);
    return s;
}

int ddl_plan_columns(const ddl_columns *cols, arena *a, plan_column **out, sluice_error *err)
{
    plan_column *pc = calloc(cols->n ? cols->n : 1, sizeof *pc);
    if (!pc) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    for (size_t i = 0; i < cols->n; i++) {
        sluice_error te;
        pc[i] = (plan_column){.name = cols->items[i].name, .insertable = 1};
        if (ch_type_parse(cols->items[i].type, a, &pc[i].type, &te) != 0) {
            free(pc);
            return sluice_error_set(err, SLUICE_EINTERNAL, "column %s: type %s: %s",
                                    cols->items[i].name, cols->items[i].type, te.msg);
        }
    }
    *out = pc;
    return 0;
}

int ddl_check_written(const plan *p, const ddl_columns *cols, sluice_error *err)
{
    const char *sql = plan_columns_sql(p);
    for (size_t i = 0; i < cols->n; i++) {
        const char *name = cols->items[i].name, *at = sql;
        size_t n = strlen(name);
        while ((at = strstr(at, name)) && !(at > sql && at[-1] == '`' && at[n] == '`'))
            at++;
        if (!at)
            return sluice_error_set(err, SLUICE_EINTERNAL,
                                    "the sink would not write column %s (a bug in sluice ddl)",
                                    name);
    }
    return 0;
}

/* ---- CREATE TABLE ------------------------------------------------------------- */

/* `name` with backticks and backslashes escaped, as ClickHouse reads it. */
static int put_ident(buf *out, const char *name)
{
    int rc = buf_append_byte(out, '`');
    for (const char *s = name; *s && rc == 0; s++) {
        if (*s == '`' || *s == '\\') rc = buf_append_byte(out, '\\');
        if (rc == 0) rc = buf_append_byte(out, (uint8_t)*s);
    }
    return rc ? rc : buf_append_byte(out, '`');
}

/* db.table: each part quoted; a name without a dot is left to the
 * connection's database. */
static int put_table(buf *out, const char *table)
{
    const char *dot = strchr(table, '.');
    if (!dot) return put_ident(out, table);
    char db[256];
    size_t n = (size_t)(dot - table);
    if (n >= sizeof db) n = sizeof db - 1;
    memcpy(db, table, n);
    db[n] = '\0';
    int rc = put_ident(out, db);
    if (rc == 0) rc = buf_append_byte(out, '.');
    return rc ? rc : put_ident(out, dot + 1);
}

/* Text inside a -- comment: a control character (a newline in a JSON
 * property name) would end it, so it is shown as '?'. */
static int put_comment(buf *out, const char *text)
{
    int rc = 0;
    for (const char *s = text; *s && rc == 0; s++)
        rc = buf_append_byte(out, (unsigned char)*s < 0x20 ? '?' : (uint8_t)*s);
    return rc;
}

static int is_merge_tree(const char *engine)
{
    size_t n = strcspn(engine, "(");
    return n >= 9 && strncmp(engine + n - 9, "MergeTree", 9) == 0;
}

int ddl_create_table(const ddl_columns *cols, const ddl_table_options *opt, buf *out,
                     sluice_error *err)
{
    const char *engine = opt->engine && *opt->engine ? opt->engine : "MergeTree";
    int mt = is_merge_tree(engine);
    if (!opt->table || !*opt->table) return sluice_error_set(err, SLUICE_EINVAL, "no table name");
    if (!mt && opt->partition_by)
        return sluice_error_set(err, SLUICE_EINVAL,
                                "PARTITION BY is for the MergeTree family, not engine %s", engine);
    if (!mt && opt->order_by)
        return sluice_error_set(err, SLUICE_EINVAL,
                                "ORDER BY is for the MergeTree family, not engine %s", engine);
    if (cols->n == 0) return sluice_error_set(err, SLUICE_EINVAL, "no columns");
    size_t start = out->len;
    int rc = 0;
    if (opt->header) rc = buf_printf(out, "-- %s\n", opt->header);
    if (rc == 0 && cols->n_skipped)
        rc = buf_printf(out, "-- %zu field%s no column takes (the sink skips %s):\n",
                        cols->n_skipped, cols->n_skipped == 1 ? "" : "s",
                        cols->n_skipped == 1 ? "it" : "them");
    for (size_t i = 0; i < cols->n_skipped && rc == 0; i++) {
        rc = buf_append_str(out, "--   ");
        if (rc == 0) rc = put_comment(out, cols->skipped[i].source);
        if (rc == 0) rc = buf_append_str(out, ": ");
        if (rc == 0) rc = put_comment(out, cols->skipped[i].why);
        if (rc == 0) rc = buf_append_byte(out, '\n');
    }
    if (rc == 0)
        rc = buf_append_str(out,
                            opt->if_not_exists ? "CREATE TABLE IF NOT EXISTS " : "CREATE TABLE ");
    if (rc == 0) rc = put_table(out, opt->table);
    if (rc == 0) rc = buf_append_str(out, "\n(\n");
    for (size_t i = 0; i < cols->n && rc == 0; i++) {
        const ddl_column *c = &cols->items[i];
        rc = buf_append_str(out, "    ");
        if (c->nested) {
            /* The whole group at its first column; the rest are inside it. */
            int first = 1;
            for (size_t k = 0; k < i && first; k++)
                first = !(cols->items[k].nested && strcmp(cols->items[k].nested, c->nested) == 0);
            if (!first) {
                out->len -= 4;
                continue;
            }
            if (rc == 0) rc = put_ident(out, c->nested);
            if (rc == 0) rc = buf_append_str(out, " Nested(");
            int any = 0;
            for (size_t k = i; k < cols->n && rc == 0; k++) {
                const ddl_column *s = &cols->items[k];
                if (!s->nested || strcmp(s->nested, c->nested) != 0) continue;
                if (any) rc = buf_append_str(out, ", ");
                if (rc == 0) rc = put_ident(out, s->nested_sub);
                if (rc == 0) rc = buf_printf(out, " %s", s->elem_type);
                any = 1;
            }
            if (rc == 0) rc = buf_append_byte(out, ')');
        } else {
            if (rc == 0) rc = put_ident(out, c->name);
            if (rc == 0) rc = buf_printf(out, " %s", c->type);
        }
        if (rc == 0) rc = buf_append_str(out, ",\n");
    }
    if (rc == 0) { /* the last ",\n" becomes "\n" */
        out->len -= 2;
        rc = buf_append_str(out, "\n)\n");
    }
    if (rc == 0) rc = buf_printf(out, "ENGINE = %s\n", engine);
    if (rc == 0 && mt && opt->partition_by && *opt->partition_by)
        rc = buf_printf(out, "PARTITION BY %s\n", opt->partition_by);
    if (rc == 0 && mt)
        rc = buf_printf(out, "ORDER BY %s\n",
                        opt->order_by && *opt->order_by ? opt->order_by : "tuple()");
    if (rc == 0) {
        out->len--; /* the statement ends with ";\n" */
        rc = buf_append_str(out, ";\n");
    }
    if (rc) {
        out->len = start;
        return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    }
    return 0;
}
