/*
 * ddl.c — the schema-type-neutral half of `sluice ddl` (contract in ddl.h):
 * the column list, the front-end table that picks a mapping by the
 * registry's schemaType, and the CREATE TABLE text.
 *
 * The text is written for the oldest server the project supports (18.16):
 * `ENGINE = MergeTree PARTITION BY ... ORDER BY ...` (the post-2017 syntax),
 * Nested(...) for groups, backticks around every name.
 */
#include "codec/ddl.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* ---- front ends ------------------------------------------------------------- */

static int avro_front_end(const char *text, size_t len, const ddl_options *opt, ddl_columns *out,
                          sluice_error *err)
{
    sluice_avro_schema *schema = NULL;
    int rc = sluice_avro_schema_parse(text, len, &schema, err);
    if (rc) return rc;
    rc = ddl_columns_for_avro(sluice_avro_schema_root(schema), opt, out, err);
    sluice_avro_schema_free(schema);
    return rc;
}

/* One entry per schema type the registry may answer with ("schemaType";
 * absent means AVRO). Protobuf and JSON Schema add theirs here. */
static const struct {
    const char *schema_type;
    int (*columns)(const char *text, size_t len, const ddl_options *opt, ddl_columns *out,
                   sluice_error *err);
} front_ends[] = {
    {"AVRO", avro_front_end},
};

int ddl_columns_for_schema(const char *schema_type, const char *text, size_t len,
                           const ddl_options *opt, ddl_columns *out, sluice_error *err)
{
    if (!schema_type || !*schema_type) schema_type = "AVRO";
    char known[128] = "";
    for (size_t i = 0; i < sizeof front_ends / sizeof front_ends[0]; i++) {
        if (strcasecmp(front_ends[i].schema_type, schema_type) == 0)
            return front_ends[i].columns(text, len, opt, out, err);
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                 front_ends[i].schema_type);
    }
    return sluice_error_set(err, SLUICE_EUNSUPPORTED,
                            "schema type %.40s has no table mapping yet (known: %s)", schema_type,
                            known);
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
