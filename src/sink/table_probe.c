/*
 * table_probe.c — ask ClickHouse what a route's table supports
 * (table_probe.h). Every question is a plain SELECT on system tables that
 * 18.16 has; a setting a server does not know reads as absent.
 */
#include "sink/table_probe.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t table_probe_engine_setting(const char *engine_full, const char *name)
{
    if (!engine_full) return -1;
    const char *s = strstr(engine_full, " SETTINGS ");
    size_t n = strlen(name);
    for (const char *p = s; p && (p = strstr(p, name)) != NULL; p += n) {
        char before = p[-1];
        if (isalnum((unsigned char)before) || before == '_') continue;
        const char *q = p + n;
        while (*q == ' ')
            q++;
        if (*q != '=') continue;
        q++;
        while (*q == ' ')
            q++;
        if (!isdigit((unsigned char)*q)) return -1;
        return strtoll(q, NULL, 10);
    }
    return -1;
}

/* Copy one argument of a function call, without quotes around it. */
static const char *copy_arg(const char *p, char *out, size_t n)
{
    while (*p == ' ')
        p++;
    size_t k = 0;
    char quote = (*p == '\'' || *p == '`' || *p == '"') ? *p++ : 0;
    while (*p && (quote ? *p != quote : (*p != ',' && *p != ')' && *p != ' '))) {
        if (quote && *p == '\\' && p[1]) p++;
        if (k + 1 < n) out[k++] = *p;
        p++;
    }
    out[k] = '\0';
    if (quote && *p == quote) p++;
    while (*p == ' ')
        p++;
    return p;
}

int table_probe_distributed_local(const char *engine_full, char *out, size_t n)
{
    const char *p = engine_full ? strstr(engine_full, "Distributed(") : NULL;
    if (!p) return -1;
    p += strlen("Distributed(");
    char cluster[256], db[256], table[256];
    p = copy_arg(p, cluster, sizeof cluster);
    if (*p != ',') return -1;
    p = copy_arg(p + 1, db, sizeof db);
    if (*p != ',') return -1;
    p = copy_arg(p + 1, table, sizeof table);
    if (*p != ',' && *p != ')') return -1;
    if (!db[0] || !table[0]) return -1;
    int w = snprintf(out, n, "%s.%s", db, table);
    return w > 0 && (size_t)w < n ? 0 : -1;
}

static int one_value(ch_http *c, const char *sql, arena *a, char **out, sluice_error *err)
{
    char **f;
    size_t rows;
    int rc = ch_http_rows(c, sql, 1, a, &f, &rows, err);
    if (rc) return rc;
    *out = rows ? f[0] : NULL;
    return 0;
}

static int engine_of(ch_http *c, const char *table, arena *a, char **engine, char **full,
                     sluice_error *err)
{
    buf sql;
    buf_init(&sql, 8192);
    int rc = buf_append_str(&sql, "SELECT engine, engine_full FROM system.tables WHERE ");
    rc = rc ? rc : ch_sql_table_where(&sql, table, "name");
    rc = rc ? rc : buf_append_str(&sql, " FORMAT TabSeparated");
    rc = rc ? rc : buf_append_byte(&sql, 0);
    char **f = NULL;
    size_t rows = 0;
    if (rc)
        rc = sluice_error_set(err, SLUICE_EINVAL, "table name too long: %s", table);
    else
        rc = ch_http_rows(c, (const char *)sql.data, 2, a, &f, &rows, err);
    buf_free(&sql);
    if (rc) return rc;
    if (!rows) return sluice_error_set(err, SLUICE_ENOTFOUND, "clickhouse: no table %s", table);
    *engine = f[0];
    *full = f[1];
    return 0;
}

/* The deduplication window that applies to an engine: the table's own
 * SETTINGS, else the server's default; 0 when the server has no such
 * setting (a non-replicated table before 21.5). */
static int window_of(ch_http *c, const char *engine, const char *full, arena *a, int64_t *out,
                     sluice_error *err)
{
    const char *name = strncmp(engine, "Replicated", 10) == 0
                           ? "replicated_deduplication_window"
                           : "non_replicated_deduplication_window";
    int64_t v = table_probe_engine_setting(full, name);
    if (v >= 0) {
        *out = v;
        return 0;
    }
    char sql[200], *value = NULL;
    snprintf(sql, sizeof sql,
             "SELECT value FROM system.merge_tree_settings WHERE name = '%s' FORMAT TabSeparated",
             name);
    int rc = one_value(c, sql, a, &value, err);
    if (rc) return rc;
    *out = value ? strtoll(value, NULL, 10) : 0;
    return 0;
}

static int server_defaults(ch_http *c, const char *table, table_probe *p, sluice_error *err)
{
    buf sql;
    buf_init(&sql, 8192);
    int rc = buf_append_str(&sql, "SELECT name, default_kind, default_expression FROM "
                                  "system.columns WHERE default_kind IN ('DEFAULT', "
                                  "'MATERIALIZED') AND ");
    rc = rc ? rc : ch_sql_table_where(&sql, table, "table");
    rc = rc ? rc : buf_append_str(&sql, " FORMAT TabSeparated");
    rc = rc ? rc : buf_append_byte(&sql, 0);
    char **f = NULL;
    size_t rows = 0;
    if (rc)
        rc = sluice_error_set(err, SLUICE_EINVAL, "table name too long: %s", table);
    else
        rc = ch_http_rows(c, (const char *)sql.data, 3, &p->a, &f, &rows, err);
    buf_free(&sql);
    if (rc) return rc;
    const char **names = arena_alloc(&p->a, (rows + 1) * sizeof *names, _Alignof(char *));
    const char **exprs = arena_alloc(&p->a, (rows + 1) * sizeof *exprs, _Alignof(char *));
    int *mat = arena_alloc(&p->a, (rows + 1) * sizeof *mat, _Alignof(int));
    if (!names || !exprs || !mat) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    for (size_t i = 0; i < rows; i++) {
        names[i] = f[3 * i];
        mat[i] = strcmp(f[3 * i + 1], "MATERIALIZED") == 0;
        exprs[i] = f[3 * i + 2];
    }
    p->facts.default_names = names;
    p->facts.default_exprs = exprs;
    p->facts.default_materialized = mat;
    p->facts.n_defaults = rows;
    return 0;
}

int table_probe_run(ch_http *c, const app_route_config *rc, table_probe *p, sluice_error *err)
{
    memset(p, 0, sizeof *p);
    arena_init(&p->a, 8192, 16u << 20);
    eo_table_facts *f = &p->facts;
    char version[64];
    int r = ch_http_version(c, version, sizeof version, err);
    if (r == 0) f->version = arena_strdup(&p->a, version);
    char *engine = NULL, *full = NULL;
    if (r == 0) r = engine_of(c, rc->table, &p->a, &engine, &full, err);
    f->engine = engine;
    f->engine_full = full;
    const char *data_table = rc->table, *data_engine = engine, *data_full = full;
    char local[600];
    if (r == 0 && strcmp(engine, "Distributed") == 0) {
        char *le = NULL, *lf = NULL;
        if (table_probe_distributed_local(full, local, sizeof local) == 0 &&
            engine_of(c, local, &p->a, &le, &lf, err) == 0) {
            f->local_engine = le;
            data_table = local;
            data_engine = le;
            data_full = lf;
        } else {
            data_engine = NULL; /* eo_decide says why it cannot tell */
        }
    }
    char *dedup = NULL;
    if (r == 0)
        r = one_value(c,
                      "SELECT value FROM system.settings WHERE name = 'insert_deduplicate' "
                      "FORMAT TabSeparated",
                      &p->a, &dedup, err);
    f->insert_deduplicate = dedup ? strcmp(dedup, "0") != 0 : 1;
    f->dedup_window = -1;
    if (r == 0 && data_engine && strstr(data_engine, "MergeTree"))
        r = window_of(c, data_engine, data_full, &p->a, &f->dedup_window, err);
    if (r == 0) r = server_defaults(c, data_table, p, err);
    const cfg_map *cols = &rc->transform.columns;
    if (r == 0 && cols->n) {
        f->derived = (const char *const *)cols->keys;
        f->n_derived = cols->n;
    }
    if (r) table_probe_free(p);
    return r;
}

void table_probe_free(table_probe *p)
{
    arena_free(&p->a);
    memset(p, 0, sizeof *p);
}
