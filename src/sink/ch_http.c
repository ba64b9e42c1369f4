/*
 * ch_http.c — ClickHouse over HTTP for the sink (contract in ch_http.h).
 *
 * Statements go in the POST body; an INSERT's statement goes in the
 * `query` URL parameter and its rows in the body, which is how ClickHouse's
 * HTTP interface takes data. Credentials travel as X-ClickHouse-User /
 * X-ClickHouse-Key headers, never in the URL (URLs end up in logs).
 */
#include "sink/ch_http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ch_http {
    CURL *curl;
    struct curl_slist *headers;
    char *base;
    ch_http_config cfg;
    char *ca_file;
    char *settings; /* "" or "k=v&..." */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int ch_http_new(const ch_http_config *cfg, ch_http **out, sluice_error *err)
{
    pthread_once(&curl_once, curl_setup);
    if (!cfg->url ||
        (strncmp(cfg->url, "http://", 7) != 0 && strncmp(cfg->url, "https://", 8) != 0))
        return sluice_error_set(err, SLUICE_ECONFIG,
                                "clickhouse.url must start with http:// or https://, got '%s'",
                                cfg->url ? cfg->url : "");
    ch_http *c = calloc(1, sizeof *c);
    if (!c) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    c->cfg = *cfg;
    size_t n = strlen(cfg->url);
    while (n > 0 && cfg->url[n - 1] == '/')
        n--;
    c->base = strndup(cfg->url, n);
    c->ca_file = cfg->ca_file ? strdup(cfg->ca_file) : NULL;
    c->settings = strdup(cfg->settings ? cfg->settings : "");
    c->curl = curl_easy_init();
    char line[600];
    if (cfg->user) {
        snprintf(line, sizeof line, "X-ClickHouse-User: %s", cfg->user);
        c->headers = curl_slist_append(c->headers, line);
    }
    if (cfg->password && *cfg->password) {
        snprintf(line, sizeof line, "X-ClickHouse-Key: %s", cfg->password);
        c->headers = curl_slist_append(c->headers, line);
    }
    c->headers = curl_slist_append(c->headers, "Content-Type: application/octet-stream");
    if (!c->base || !c->curl || !c->headers || !c->settings) {
        ch_http_free(c);
        return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    }
    if (!c->cfg.max_response_bytes) c->cfg.max_response_bytes = 64u << 20;
    *out = c;
    return 0;
}

void ch_http_free(ch_http *c)
{
    if (!c) return;
    if (c->curl) curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    free(c->base);
    free(c->ca_file);
    free(c->settings);
    free(c);
}

struct sink {
    buf *b;
    int overflow;
};

static size_t on_body(char *p, size_t size, size_t n, void *opaque)
{
    struct sink *s = opaque;
    if (buf_append(s->b, p, size * n) != 0) {
        s->overflow = 1;
        return 0;
    }
    return size * n;
}

/* "Code: 60, e.displayText() = ..." (18.x) or "Code: 60. DB::Exception: ..." */
static int exception_code(const char *body)
{
    const char *q = body ? strstr(body, "Code: ") : NULL;
    return q ? atoi(q + 6) : 0;
}

/* The first words of a statement, for messages (never the data). */
static void describe(const char *sql, char *out, size_t n)
{
    size_t len = strcspn(sql, "\n");
    if (len > 80) len = 80;
    snprintf(out, n, "%.*s%s", (int)len, sql, strlen(sql) > len ? "..." : "");
}

static int perform(ch_http *c, const char *url, const void *body, size_t len, const char *what,
                   buf *out, sluice_error *err)
{
    buf local;
    buf_init(&local, c->cfg.max_response_bytes);
    struct sink s = {.b = out ? out : &local, .overflow = 0};
    size_t mark = s.b->len;
    CURL *h = c->curl;
    curl_easy_reset(h); /* keeps the connection */
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(c->cfg.connect_timeout_ms ? c->cfg.connect_timeout_ms : 5000));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     (long)(c->cfg.request_timeout_ms ? c->cfg.request_timeout_ms : 60000));
    if (c->ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    int rc = 0;
    if (cc != CURLE_OK) {
        rc = sluice_error_set(err,
                              cc == CURLE_OPERATION_TIMEDOUT ? SLUICE_ETIMEDOUT
                              : s.overflow                   ? SLUICE_ENOMEM
                                                             : SLUICE_EIO,
                              "clickhouse %s: %s", what,
                              s.overflow ? "answer too large"
                              : cerr[0]  ? cerr
                                         : curl_easy_strerror(cc));
    } else {
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200) {
            buf_append_byte(s.b, 0);
            const char *text = (const char *)s.b->data + mark;
            int code = exception_code(text);
            size_t tlen = strcspn(text, "\n");
            rc = sluice_error_set(err, SLUICE_EREMOTE, "clickhouse %s: HTTP %ld: %.*s", what,
                                  status, (int)(tlen > 300 ? 300 : tlen), text);
            if (err) err->remote_code = code ? code : (int)status;
        }
    }
    if (rc && out) out->len = mark;
    buf_free(&local);
    return rc;
}

int ch_http_query(ch_http *c, const char *sql, buf *out, sluice_error *err)
{
    char what[128];
    describe(sql, what, sizeof what);
    size_t ulen = strlen(c->base) + strlen(c->settings) + 4;
    char *url = malloc(ulen);
    if (!url) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    snprintf(url, ulen, "%s/%s%s", c->base, *c->settings ? "?" : "", c->settings);
    int rc = perform(c, url, sql, strlen(sql), what, out, err);
    free(url);
    return rc;
}

int ch_http_insert(ch_http *c, const char *table, const char *columns, const uint8_t *rows,
                   size_t len, sluice_error *err)
{
    char sql[8192];
    int n = snprintf(sql, sizeof sql, "INSERT INTO %s %s FORMAT RowBinary", table, columns);
    if (n < 0 || (size_t)n >= sizeof sql)
        return sluice_error_set(err, SLUICE_EINVAL, "INSERT statement for %s too long", table);
    char *esc = curl_easy_escape(c->curl, sql, 0);
    if (!esc) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    size_t ulen = strlen(c->base) + strlen(esc) + strlen(c->settings) + 16;
    char *url = malloc(ulen);
    if (!url) {
        curl_free(esc);
        return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    }
    snprintf(url, ulen, "%s/?query=%s%s%s", c->base, esc, *c->settings ? "&" : "", c->settings);
    curl_free(esc);
    char what[300];
    snprintf(what, sizeof what, "INSERT INTO %s", table);
    int rc = perform(c, url, rows, len, what, NULL, err);
    free(url);
    return rc;
}

int ch_http_version(ch_http *c, char *out, size_t n, sluice_error *err)
{
    buf b;
    buf_init(&b, 4096);
    int rc = ch_http_query(c, "SELECT version()", &b, err);
    if (rc == 0) {
        size_t len = b.len;
        while (len > 0 && (b.data[len - 1] == '\n' || b.data[len - 1] == '\r'))
            len--;
        snprintf(out, n, "%.*s", (int)len, (const char *)b.data);
    }
    buf_free(&b);
    return rc;
}

/* 'text' as a SQL string literal. */
int ch_sql_string(buf *b, const char *s, size_t n)
{
    int rc = buf_append_byte(b, '\'');
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (s[i] == '\'' || s[i] == '\\') rc = buf_append_byte(b, '\\');
        rc = rc ? rc : buf_append_byte(b, (uint8_t)s[i]);
    }
    return rc ? rc : buf_append_byte(b, '\'');
}

int ch_sql_table_where(buf *b, const char *table, const char *name_column)
{
    const char *dot = strchr(table, '.');
    int rc = buf_append_str(b, "database = ");
    rc = rc    ? rc
         : dot ? ch_sql_string(b, table, (size_t)(dot - table))
               : buf_append_str(b, "currentDatabase()");
    rc = rc ? rc : buf_append_str(b, " AND ");
    rc = rc ? rc : buf_append_str(b, name_column);
    rc = rc ? rc : buf_append_str(b, " = ");
    return rc ? rc : ch_sql_string(b, dot ? dot + 1 : table, strlen(dot ? dot + 1 : table));
}

/* Undo TSV escaping in place (\t \n \\ \' and \0). */
static void tsv_unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '\\' && r[1]) {
            r++;
            *w++ = *r == 't' ? '\t' : *r == 'n' ? '\n' : *r == '0' ? '\0' : *r;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

int ch_http_rows(ch_http *c, const char *sql, size_t n_fields, arena *a, char ***fields,
                 size_t *n_rows, sluice_error *err)
{
    buf ans;
    buf_init(&ans, 16u << 20);
    int rc = ch_http_query(c, sql, &ans, err);
    if (rc == 0 && buf_append_byte(&ans, 0) != 0)
        rc = sluice_error_set(err, SLUICE_ENOMEM, "answer too large");
    size_t cap = 16, count = 0;
    char **out = rc ? NULL : arena_alloc(a, cap * n_fields * sizeof *out, _Alignof(char *));
    if (rc == 0 && !out) rc = sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    char *save = NULL;
    for (char *line = rc ? NULL : strtok_r((char *)ans.data, "\n", &save); line && rc == 0;
         line = strtok_r(NULL, "\n", &save)) {
        if (count == cap) {
            char **bigger = arena_alloc(a, 2 * cap * n_fields * sizeof *out, _Alignof(char *));
            if (!bigger) {
                rc = sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
                break;
            }
            memcpy(bigger, out, cap * n_fields * sizeof *out);
            out = bigger;
            cap *= 2;
        }
        char **f = &out[count * n_fields];
        f[0] = line;
        for (size_t i = 1; i < n_fields; i++) {
            char *tab = strchr(f[i - 1], '\t');
            if (!tab) {
                rc = sluice_error_set(err, SLUICE_EPARSE,
                                      "clickhouse answer line %zu: %zu fields, expected %zu",
                                      count + 1, i, n_fields);
                break;
            }
            *tab = '\0';
            f[i] = tab + 1;
        }
        if (rc == 0 && strchr(f[n_fields - 1], '\t'))
            rc = sluice_error_set(err, SLUICE_EPARSE,
                                  "clickhouse answer line %zu: more than %zu fields", count + 1,
                                  n_fields);
        for (size_t i = 0; rc == 0 && i < n_fields; i++) {
            tsv_unescape(f[i]);
            if (!(f[i] = arena_strdup(a, f[i])))
                rc = sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
        }
        count++;
    }
    buf_free(&ans);
    if (rc == 0) {
        *fields = out;
        *n_rows = count;
    }
    return rc;
}

int ch_http_columns(ch_http *c, const char *table, arena *a, plan_column **cols, size_t *n,
                    sluice_error *err)
{
    buf sql;
    buf_init(&sql, 16384);
    int rc = buf_append_str(&sql, "SELECT name, type, default_kind, default_expression FROM "
                                  "system.columns WHERE ");
    rc = rc ? rc : ch_sql_table_where(&sql, table, "table");
    rc = rc ? rc : buf_append_str(&sql, " FORMAT TabSeparated");
    rc = rc ? rc : buf_append_byte(&sql, 0);
    if (rc) {
        buf_free(&sql);
        return sluice_error_set(err, SLUICE_EINVAL, "table name too long: %s", table);
    }
    char **f;
    size_t rows;
    rc = ch_http_rows(c, (const char *)sql.data, 4, a, &f, &rows, err);
    buf_free(&sql);
    if (rc) return rc;
    plan_column *out = arena_alloc(a, (rows ? rows : 1) * sizeof *out, _Alignof(plan_column));
    if (!out) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    for (size_t i = 0; i < rows; i++) {
        char **row = &f[4 * i];
        plan_column *pc = &out[i];
        memset(pc, 0, sizeof *pc);
        pc->name = row[0];
        pc->has_default_expression = strcmp(row[2], "DEFAULT") == 0;
        pc->insertable = strcmp(row[2], "MATERIALIZED") != 0 && strcmp(row[2], "ALIAS") != 0;
        pc->default_kind = row[2];
        pc->default_expression = row[3];
        sluice_error terr;
        if (ch_type_parse(row[1], a, &pc->type, &terr) != 0) {
            if (pc->insertable)
                return sluice_error_set(err, SLUICE_EUNSUPPORTED, "table %s, column %s: %s", table,
                                        row[0], terr.msg);
            pc->type = NULL; /* never written: its type does not matter */
        }
    }
    if (rows == 0)
        return sluice_error_set(err, SLUICE_ENOTFOUND,
                                "clickhouse: table %s does not exist (or has no columns)", table);
    *cols = out;
    *n = rows;
    return 0;
}

/* clickhouse.settings as URL parameters (escaped). */
char *ch_settings_query(const cfg_map *m)
{
    buf b;
    buf_init(&b, 1 << 16);
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < m->n; i++) {
        if (i) buf_append_byte(&b, '&');
        for (int half = 0; half < 2; half++) {
            const char *t = half ? m->values[i] : m->keys[i];
            if (half) buf_append_byte(&b, '=');
            for (const unsigned char *q = (const unsigned char *)t; *q; q++) {
                if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                    (*q >= '0' && *q <= '9') || strchr("-_.~", *q)) {
                    buf_append_byte(&b, *q);
                } else {
                    buf_append_byte(&b, '%');
                    buf_append_byte(&b, (uint8_t)hex[*q >> 4]);
                    buf_append_byte(&b, (uint8_t)hex[*q & 15]);
                }
            }
        }
    }
    return buf_detach(&b, NULL);
}

ch_fail ch_http_classify(const sluice_error *err)
{
    if (err->code != SLUICE_EREMOTE) return CH_FAIL_TRANSIENT; /* transport errors, timeouts */
    switch (err->remote_code) {
    /* The rows themselves: ClickHouse cannot parse or store them. */
    case 6:   /* CANNOT_PARSE_TEXT */
    case 26:  /* CANNOT_PARSE_QUOTED_STRING */
    case 27:  /* CANNOT_PARSE_INPUT_ASSERTION_FAILED */
    case 32:  /* ATTEMPT_TO_READ_AFTER_EOF */
    case 33:  /* CANNOT_READ_ALL_DATA */
    case 38:  /* CANNOT_PARSE_DATE */
    case 41:  /* CANNOT_PARSE_DATETIME */
    case 53:  /* TYPE_MISMATCH */
    case 69:  /* ARGUMENT_OUT_OF_BOUND */
    case 70:  /* CANNOT_CONVERT_TYPE */
    case 72:  /* CANNOT_PARSE_NUMBER */
    case 117: /* INCORRECT_DATA */
    case 131: /* TOO_LARGE_STRING_SIZE */
    case 349: /* CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN */
    case 395: /* FUNCTION_THROW_IF_VALUE_IS_NON_ZERO: a throwIf() check in the table */
    case 469: /* VIOLATED_CONSTRAINT */
        return CH_FAIL_DATA;
    /* The target: wrong table, column, database or credentials. */
    case 16:  /* NO_SUCH_COLUMN_IN_TABLE */
    case 47:  /* UNKNOWN_IDENTIFIER */
    case 60:  /* UNKNOWN_TABLE */
    case 62:  /* SYNTAX_ERROR */
    case 81:  /* UNKNOWN_DATABASE */
    case 192: /* UNKNOWN_USER */
    case 193: /* WRONG_PASSWORD */
    case 401:
    case 403:
    case 497: /* ACCESS_DENIED */
    case 516: /* AUTHENTICATION_FAILED */
        return CH_FAIL_CONFIG;
    default:
        /* TOO_MANY_PARTS (252), MEMORY_LIMIT_EXCEEDED (241), timeouts (159,
         * 209), NETWORK_ERROR (210), TOO_MANY_SIMULTANEOUS_QUERIES (202),
         * TABLE_IS_READ_ONLY (242), keeper/replica trouble, HTTP 5xx... */
        return CH_FAIL_TRANSIENT;
    }
}
