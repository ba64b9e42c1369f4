/*
 * config.c — the YAML configuration loader behind src/common/config.h.
 *
 * The story of a load: libyaml parses the whole text into a node tree
 * (yaml_parser_load), so every node still knows its line and column; then
 * one walk matches the tree against the cfg_key table, converting scalars
 * into the struct at each key's offset. Absent keys get their default, which
 * is itself a small YAML text run through the very same walk, so a default
 * can never be read differently from the same text in a file.
 *
 * Errors never stop the walk (up to CFG_MAX_ERRORS): each one is formatted
 * as file:line:col: key.path: what, handed to on_error, and the first is
 * kept in the caller's sluice_error. A failed load frees whatever it had
 * filled in, so the caller's struct holds no allocations afterwards.
 *
 * Ownership: every string, list and map in the filled struct is malloc'd by
 * this file and released by cfg_free(). The libyaml document lives only for
 * the duration of a load.
 *
 * Threads: none of its own; called on the main thread at start-up (and by
 * `sluice check-config`). getenv() is read during substitution, so the
 * environment must not change concurrently.
 *
 * Bounds: YAML aliases can make a small text name the same big subtree many
 * times over ("billion laughs"), so the walk charges every node it visits and
 * every byte it copies against a budget proportional to the input; lists and
 * maps are also capped at CFG_MAX_ITEMS entries.
 */
#include "common/config.h"

#include <yaml.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CFG_MAX_ITEMS 4096
#define CFG_MAX_FILE_BYTES (16u << 20)
#define PATH_MAX_LEN 384
/* Budget charged per node visited, plus the bytes copied. */
#define NODE_COST 32
#define BASE_BUDGET (1u << 20)

typedef struct load_ctx {
    const char *name;       /* file name for messages */
    yaml_document_t *doc;   /* the document nodes are looked up in */
    const char *default_of; /* non-NULL while applying a built-in default: its text */
    sluice_error *err;
    cfg_error_fn on_error;
    void *opaque;
    int n_errors;
    int rc; /* first failure code */
    bool stop;
    size_t budget;
    char path[PATH_MAX_LEN];
    size_t path_len;
} load_ctx;

/* ---- messages ------------------------------------------------------------- */

/* A user-supplied text as it may appear inside a message: bounded, and with
 * control bytes shown as \xNN so a message stays one line. */
static void quote_text(char *out, size_t out_len, const char *s, size_t len)
{
    size_t w = 0;
    const size_t limit = 80;
    for (size_t i = 0; i < len && w + 8 < out_len; i++) {
        if (i == limit) {
            memcpy(out + w, "...", 3);
            w += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            w += (size_t)snprintf(out + w, out_len - w, "\\x%02x", c);
        else
            out[w++] = (char)c;
    }
    out[w] = '\0';
}

static void report(load_ctx *c, yaml_mark_t mark, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void report(load_ctx *c, yaml_mark_t mark, int code, const char *fmt, ...)
{
    if (!c->rc) c->rc = code;
    if (c->stop) return;
    char what[640], msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *sep = c->path_len ? ": " : "";
    if (c->default_of) {
        char def[128];
        quote_text(def, sizeof def, c->default_of, strlen(c->default_of));
        snprintf(msg, sizeof msg, "%.200s: %s%sbuilt-in default '%s' is invalid: %s", c->name,
                 c->path, sep, def, what);
    } else {
        snprintf(msg, sizeof msg, "%.200s:%zu:%zu: %s%s%s", c->name, mark.line + 1, mark.column + 1,
                 c->path, sep, what);
    }
    if (c->n_errors == 0) sluice_error_set(c->err, SLUICE_ECONFIG, "%s", msg);
    if (c->on_error) c->on_error(c->opaque, msg);
    if (++c->n_errors >= CFG_MAX_ERRORS) c->stop = true;
}

static void report_oom(load_ctx *c, yaml_mark_t mark)
{
    report(c, mark, SLUICE_ENOMEM, "out of memory");
    c->rc = SLUICE_ENOMEM;
    c->stop = true;
}

/* Charge work against the alias budget; false once it is spent. */
static bool charge(load_ctx *c, yaml_mark_t mark, size_t cost)
{
    if (c->stop) return false;
    if (cost <= c->budget) {
        c->budget -= cost;
        return true;
    }
    c->budget = 0;
    report(c, mark, SLUICE_ECONFIG, "document too large once its aliases are expanded");
    c->stop = true;
    return false;
}

/* ---- key paths ------------------------------------------------------------ */

static size_t path_push(load_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends a segment; returns the old length for path_pop. A path that does
 * not fit is cut, which only shortens messages. */
static size_t path_push(load_ctx *c, const char *fmt, ...)
{
    size_t old = c->path_len;
    if (old < sizeof c->path - 1) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(c->path + old, sizeof c->path - old, fmt, ap);
        va_end(ap);
        if (n > 0)
            c->path_len = old + (size_t)n < sizeof c->path ? old + (size_t)n : sizeof c->path - 1;
    }
    return old;
}

static void path_push_key(load_ctx *c, const char *key, size_t len, size_t *old)
{
    char q[128];
    quote_text(q, sizeof q, key, len);
    *old = path_push(c, "%s%s", c->path_len ? "." : "", q);
}

static void path_pop(load_ctx *c, size_t old)
{
    c->path_len = old;
    c->path[old] = '\0';
}

/* ---- nodes ---------------------------------------------------------------- */

static yaml_node_t *node_at(load_ctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return n->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static const char *node_kind_text(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a scalar";
    }
}

static const char *expected_text(const cfg_key *k, char *buf, size_t len)
{
    switch (k->kind) {
    case CFG_STRING:
        return "a string";
    case CFG_BOOL:
        return "true or false";
    case CFG_INT:
        return "an integer";
    case CFG_SIZE:
        return "a size such as 64MiB";
    case CFG_DURATION:
        return "a duration such as 250ms, 1s or 2m";
    case CFG_ENUM: {
        size_t w = (size_t)snprintf(buf, len, "one of ");
        for (size_t i = 0; k->enum_values && k->enum_values[i] && w < len; i++)
            w += (size_t)snprintf(buf + w, len - w, "%s%s", i ? ", " : "", k->enum_values[i]);
        return buf;
    }
    case CFG_STRING_LIST:
        return "a string or a list of strings";
    case CFG_STRING_MAP:
        return "a mapping of names to values";
    case CFG_SECTION:
        return "a mapping";
    case CFG_SECTION_LIST:
        return "a list of mappings";
    }
    return "a value";
}

static void report_type(load_ctx *c, const cfg_key *k, const yaml_node_t *n)
{
    char exp[256];
    if (n->type == YAML_SCALAR_NODE) {
        char got[128];
        quote_text(got, sizeof got, (const char *)n->data.scalar.value, n->data.scalar.length);
        report(c, n->start_mark, SLUICE_ECONFIG, "expected %s, got '%s'",
               expected_text(k, exp, sizeof exp), got);
    } else {
        report(c, n->start_mark, SLUICE_ECONFIG, "expected %s, got %s",
               expected_text(k, exp, sizeof exp), node_kind_text(n));
    }
}

/* ---- ${VAR} substitution -------------------------------------------------- */

static bool env_name_char(char ch, bool first)
{
    return ch == '_' || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (!first && ch >= '0' && ch <= '9');
}

/* The scalar's text with ${VAR}, ${VAR:-fallback} and $$ replaced, malloc'd;
 * NULL after reporting an error. A `$` followed by anything else stays. */
static char *scalar_text(load_ctx *c, const yaml_node_t *n)
{
    const char *s = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    if (memchr(s, '\0', len)) {
        report(c, n->start_mark, SLUICE_ECONFIG, "value contains a NUL character");
        return NULL;
    }
    if (!memchr(s, '$', len)) {
        if (!charge(c, n->start_mark, len + 1)) return NULL;
        char *copy = strndup(s, len);
        if (!copy) report_oom(c, n->start_mark);
        return copy;
    }
    size_t cap = len + 1, w = 0;
    char *out = malloc(cap);
    for (size_t i = 0; out && i < len;) {
        const char *piece = s + i;
        size_t piece_len = 1, skip = 1;
        if (s[i] == '$' && i + 1 < len && s[i + 1] == '$') {
            skip = 2;
        } else if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
            const char *close = memchr(s + i + 2, '}', len - i - 2);
            const char *name = s + i + 2;
            size_t name_len = 0;
            while (name + name_len < s + len && env_name_char(name[name_len], name_len == 0))
                name_len++;
            const char *after = name + name_len;
            bool has_fallback = close && after + 1 < close && after[0] == ':' && after[1] == '-';
            if (!close || name_len == 0 || (after != close && !has_fallback)) {
                char q[128];
                quote_text(q, sizeof q, s, len);
                report(c, n->start_mark, SLUICE_ECONFIG,
                       "bad variable reference in '%s' (write ${NAME}, ${NAME:-fallback} or $$ "
                       "for a literal $)",
                       q);
                free(out);
                return NULL;
            }
            char var[128];
            if (name_len >= sizeof var) {
                report(c, n->start_mark, SLUICE_ECONFIG, "variable name too long");
                free(out);
                return NULL;
            }
            memcpy(var, name, name_len);
            var[name_len] = '\0';
            const char *val = getenv(var);
            if (has_fallback && (!val || !*val)) {
                piece = after + 2;
                piece_len = (size_t)(close - piece);
            } else if (!val) {
                report(c, n->start_mark, SLUICE_ECONFIG,
                       "environment variable %s is not set (write ${%s:-fallback} for a default)",
                       var, var);
                free(out);
                return NULL;
            } else {
                piece = val;
                piece_len = strlen(val);
            }
            skip = (size_t)(close - (s + i)) + 1;
        }
        if (piece_len > CFG_MAX_FILE_BYTES || w + piece_len + 1 > CFG_MAX_FILE_BYTES) {
            report(c, n->start_mark, SLUICE_ECONFIG, "value too long after substitution");
            free(out);
            return NULL;
        }
        if (w + piece_len + 1 > cap) {
            cap = (w + piece_len + 1) * 2;
            char *grown = realloc(out, cap);
            if (!grown) {
                free(out);
                out = NULL;
                break;
            }
            out = grown;
        }
        memcpy(out + w, piece, piece_len);
        w += piece_len;
        i += skip;
    }
    if (!out) {
        report_oom(c, n->start_mark);
        return NULL;
    }
    out[w] = '\0';
    if (!charge(c, n->start_mark, w + 1)) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- numbers, sizes, durations -------------------------------------------- */

/* "<digits>[.<digits>]" scaled by mult. Fractions of the unit are allowed
 * ("1.5MiB") and truncated to whole units of the result; a fraction of the
 * smallest unit ("1.5" bytes) is not. Returns 0, SLUICE_EINVAL or
 * SLUICE_ERANGE; *end is where the number stopped. */
static int parse_scaled(const char *s, const char **end, uint64_t *ip_out, uint64_t *fnum_out,
                        uint64_t *fden_out)
{
    const char *p = s;
    uint64_t ip = 0, fnum = 0, fden = 1;
    bool overflow = false;
    if (!isdigit((unsigned char)*p)) return SLUICE_EINVAL;
    for (; isdigit((unsigned char)*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (ip > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            ip = ip * 10 + d;
    }
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) return SLUICE_EINVAL;
        const char *digits = p;
        while (isdigit((unsigned char)*p))
            p++;
        const char *last = p;
        while (last > digits && last[-1] == '0')
            last--; /* "1.50" is "1.5" */
        for (const char *q = digits; q < last; q++) {
            if (fden > UINT64_MAX / 10) {
                overflow = true;
                break;
            }
            fnum = fnum * 10 + (uint64_t)(*q - '0');
            fden *= 10;
        }
    }
    *end = p;
    *ip_out = ip;
    *fnum_out = fnum;
    *fden_out = fden;
    return overflow ? SLUICE_ERANGE : 0;
}

static int scale(uint64_t ip, uint64_t fnum, uint64_t fden, uint64_t mult, uint64_t limit,
                 uint64_t *out)
{
    if (mult == 1 && fnum != 0) return SLUICE_EINVAL; /* no fractions of a byte or a millisecond */
    if (ip > limit / mult) return SLUICE_ERANGE;
    if (fnum != 0 && fnum > UINT64_MAX / mult)
        return SLUICE_ERANGE; /* more decimals than we can scale exactly */
    uint64_t v = ip * mult, frac = fnum * mult / fden;
    if (frac > limit - v) return SLUICE_ERANGE;
    *out = v + frac;
    return 0;
}

int cfg_parse_size(const char *s, uint64_t *bytes)
{
    static const struct {
        const char *suffix;
        uint64_t mult;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"k", 1000ull},
        {"kb", 1000ull},
        {"kib", 1ull << 10},
        {"m", 1000000ull},
        {"mb", 1000000ull},
        {"mib", 1ull << 20},
        {"g", 1000000000ull},
        {"gb", 1000000000ull},
        {"gib", 1ull << 30},
        {"t", 1000000000000ull},
        {"tb", 1000000000000ull},
        {"tib", 1ull << 40},
    };
    if (!s) return SLUICE_EINVAL;
    const char *end;
    uint64_t ip, fnum, fden;
    int rc = parse_scaled(s, &end, &ip, &fnum, &fden);
    if (rc == SLUICE_EINVAL) return rc;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(end, units[i].suffix) == 0) {
            if (rc) return rc;
            if (*end == '\0' && end > s && end[-1] == ' ')
                return SLUICE_EINVAL; /* trailing space without a unit */
            return scale(ip, fnum, fden, units[i].mult, UINT64_MAX, bytes);
        }
    }
    return SLUICE_EINVAL;
}

int cfg_parse_duration_ms(const char *s, int64_t *ms)
{
    static const struct {
        const char *suffix;
        uint64_t mult;
    } units[] = {{"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    if (!s) return SLUICE_EINVAL;
    const char *end;
    uint64_t ip, fnum, fden, v;
    int rc = parse_scaled(s, &end, &ip, &fnum, &fden);
    if (rc == SLUICE_EINVAL) return rc;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].suffix) == 0) {
            if (rc) return rc;
            if (*end == '\0' && end > s && end[-1] == ' ') return SLUICE_EINVAL;
            rc = scale(ip, fnum, fden, units[i].mult, (uint64_t)INT64_MAX, &v);
            if (rc == 0) *ms = (int64_t)v;
            return rc;
        }
    }
    return SLUICE_EINVAL;
}

static int parse_int(const char *s, int64_t *out)
{
    if (!*s || isspace((unsigned char)*s)) return SLUICE_EINVAL;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || end == s) return SLUICE_EINVAL;
    if (errno == ERANGE) return SLUICE_ERANGE;
    *out = (int64_t)v;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return SLUICE_EINVAL;
}

/* ---- applying values ------------------------------------------------------ */

static void apply_table(load_ctx *c, const cfg_key *keys, yaml_node_t *map, char *base,
                        yaml_mark_t enclosing);

static bool has_range(const cfg_key *k)
{
    return k->min < k->max;
}

/* The text a value came from, for messages: the file's text, plus what it
 * expanded to when substitution changed it. */
static void value_text(char *out, size_t len, const yaml_node_t *n, const char *expanded)
{
    char raw[128], exp[128];
    quote_text(raw, sizeof raw, (const char *)n->data.scalar.value, n->data.scalar.length);
    quote_text(exp, sizeof exp, expanded, strlen(expanded));
    if (strcmp(raw, exp) == 0)
        snprintf(out, len, "'%s'", raw);
    else
        snprintf(out, len, "'%s' (from '%s')", exp, raw);
}

static void apply_scalar(load_ctx *c, const cfg_key *k, yaml_node_t *n, char *field)
{
    if (n->type != YAML_SCALAR_NODE) {
        report_type(c, k, n);
        return;
    }
    char *text = scalar_text(c, n);
    if (!text) return;
    char got[300], exp[256];
    int rc = 0;
    switch (k->kind) {
    case CFG_STRING:
        *(char **)field = text;
        return;
    case CFG_BOOL:
        rc = parse_bool(text, (int *)field);
        break;
    case CFG_ENUM: {
        int idx = -1;
        for (int i = 0; k->enum_values && k->enum_values[i]; i++)
            if (strcasecmp(text, k->enum_values[i]) == 0) idx = i;
        if (idx < 0)
            rc = SLUICE_EINVAL;
        else
            *(int *)field = idx;
        break;
    }
    case CFG_INT: {
        int64_t v = 0;
        rc = parse_int(text, &v);
        if (rc == 0 && has_range(k) && (v < k->min || v > k->max)) {
            value_text(got, sizeof got, n, text);
            report(c, n->start_mark, SLUICE_ECONFIG,
                   "must be between %" PRId64 " and %" PRId64 ", got %s", k->min, k->max, got);
            free(text);
            return;
        }
        if (rc == 0) *(int64_t *)field = v;
        break;
    }
    case CFG_SIZE: {
        uint64_t v = 0;
        rc = cfg_parse_size(text, &v);
        uint64_t lo = k->min > 0 ? (uint64_t)k->min : 0, hi = k->max > 0 ? (uint64_t)k->max : 0;
        if (rc == 0 && has_range(k) && (v < lo || v > hi)) {
            value_text(got, sizeof got, n, text);
            report(c, n->start_mark, SLUICE_ECONFIG,
                   "must be between %" PRIu64 " and %" PRIu64 " bytes, got %s", lo, hi, got);
            free(text);
            return;
        }
        if (rc == 0) *(uint64_t *)field = v;
        break;
    }
    case CFG_DURATION: {
        int64_t v = 0;
        rc = cfg_parse_duration_ms(text, &v);
        if (rc == 0 && has_range(k) && (v < k->min || v > k->max)) {
            value_text(got, sizeof got, n, text);
            report(c, n->start_mark, SLUICE_ECONFIG,
                   "must be between %" PRId64 "ms and %" PRId64 "ms, got %s", k->min, k->max, got);
            free(text);
            return;
        }
        if (rc == 0) *(int64_t *)field = v;
        break;
    }
    default:
        break;
    }
    if (rc) {
        value_text(got, sizeof got, n, text);
        if (rc == SLUICE_ERANGE)
            report(c, n->start_mark, SLUICE_ECONFIG, "value out of range, got %s", got);
        else
            report(c, n->start_mark, SLUICE_ECONFIG, "expected %s, got %s",
                   expected_text(k, exp, sizeof exp), got);
    }
    free(text);
}

static void apply_string_list(load_ctx *c, const cfg_key *k, yaml_node_t *n, cfg_strings *out)
{
    if (n->type == YAML_MAPPING_NODE) {
        report_type(c, k, n);
        return;
    }
    size_t count = n->type == YAML_SCALAR_NODE
                       ? 1
                       : (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count > CFG_MAX_ITEMS) {
        report(c, n->start_mark, SLUICE_ECONFIG, "too many items (at most %d)", CFG_MAX_ITEMS);
        return;
    }
    if (count == 0) return;
    out->items = calloc(count, sizeof *out->items);
    if (!out->items) {
        report_oom(c, n->start_mark);
        return;
    }
    if (n->type == YAML_SCALAR_NODE) {
        out->items[0] = scalar_text(c, n);
        out->n = out->items[0] ? 1 : 0;
        return;
    }
    for (size_t i = 0; i < count && !c->stop; i++) {
        yaml_node_t *item = node_at(c, n->data.sequence.items.start[i]);
        if (!item || !charge(c, n->start_mark, NODE_COST)) break;
        size_t old = path_push(c, "[%zu]", i);
        if (item->type != YAML_SCALAR_NODE || is_null(item)) {
            if (item->type == YAML_SCALAR_NODE)
                report(c, item->start_mark, SLUICE_ECONFIG, "expected a string, got null");
            else
                report(c, item->start_mark, SLUICE_ECONFIG, "expected a string, got %s",
                       node_kind_text(item));
        } else {
            char *s = scalar_text(c, item);
            if (s) out->items[out->n++] = s;
        }
        path_pop(c, old);
    }
}

static void apply_string_map(load_ctx *c, const cfg_key *k, yaml_node_t *n, cfg_map *out)
{
    if (n->type != YAML_MAPPING_NODE) {
        report_type(c, k, n);
        return;
    }
    yaml_node_pair_t *pairs = n->data.mapping.pairs.start;
    size_t count = (size_t)(n->data.mapping.pairs.top - pairs);
    if (count > CFG_MAX_ITEMS) {
        report(c, n->start_mark, SLUICE_ECONFIG, "too many entries (at most %d)", CFG_MAX_ITEMS);
        return;
    }
    if (count == 0) return;
    out->keys = calloc(count, sizeof *out->keys);
    out->values = calloc(count, sizeof *out->values);
    if (!out->keys || !out->values) {
        report_oom(c, n->start_mark);
        return;
    }
    for (size_t i = 0; i < count && !c->stop; i++) {
        yaml_node_t *key = node_at(c, pairs[i].key), *val = node_at(c, pairs[i].value);
        if (!key || !val || !charge(c, key->start_mark, 2 * NODE_COST)) break;
        if (key->type != YAML_SCALAR_NODE) {
            report(c, key->start_mark, SLUICE_ECONFIG, "expected a name as key, got %s",
                   node_kind_text(key));
            continue;
        }
        const char *name = (const char *)key->data.scalar.value;
        size_t name_len = key->data.scalar.length, old;
        path_push_key(c, name, name_len, &old);
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++) {
            yaml_node_t *prev = node_at(c, pairs[j].key);
            if (prev && prev->type == YAML_SCALAR_NODE && prev->data.scalar.length == name_len &&
                memcmp(prev->data.scalar.value, name, name_len) == 0) {
                report(c, key->start_mark, SLUICE_ECONFIG,
                       "duplicate key (first at line %zu, column %zu)", prev->start_mark.line + 1,
                       prev->start_mark.column + 1);
                dup = true;
            }
        }
        if (!dup && memchr(name, '\0', name_len)) {
            report(c, key->start_mark, SLUICE_ECONFIG, "key contains a NUL character");
            dup = true;
        }
        if (!dup && (val->type != YAML_SCALAR_NODE || is_null(val))) {
            report(c, val->start_mark, SLUICE_ECONFIG, "expected a scalar value, got %s",
                   val->type == YAML_SCALAR_NODE ? "null" : node_kind_text(val));
            dup = true;
        }
        if (!dup) {
            char *v = scalar_text(c, val);
            char *kcopy =
                v && charge(c, key->start_mark, name_len + 1) ? strndup(name, name_len) : NULL;
            if (v && kcopy) {
                out->keys[out->n] = kcopy;
                out->values[out->n++] = v;
            } else {
                if (v && !c->stop) report_oom(c, key->start_mark);
                free(v);
            }
        }
        path_pop(c, old);
    }
}

static void apply_section_list(load_ctx *c, const cfg_key *k, yaml_node_t *n, cfg_list *out)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        report_type(c, k, n);
        return;
    }
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count > CFG_MAX_ITEMS) {
        report(c, n->start_mark, SLUICE_ECONFIG, "too many items (at most %d)", CFG_MAX_ITEMS);
        return;
    }
    if (count == 0 || k->elem_size == 0) return;
    if (!charge(c, n->start_mark, count * k->elem_size)) return;
    out->items = calloc(count, k->elem_size);
    if (!out->items) {
        report_oom(c, n->start_mark);
        return;
    }
    out->n = count; /* all zeroed, so cfg_free can walk every element */
    for (size_t i = 0; i < count && !c->stop; i++) {
        yaml_node_t *item = node_at(c, n->data.sequence.items.start[i]);
        if (!item || !charge(c, n->start_mark, NODE_COST)) break;
        size_t old = path_push(c, "[%zu]", i);
        char *elem = (char *)out->items + i * k->elem_size;
        if (item->type != YAML_MAPPING_NODE)
            report_type(c, &(cfg_key){.kind = CFG_SECTION}, item);
        else
            apply_table(c, k->children, item, elem, item->start_mark);
        path_pop(c, old);
    }
}

/* Apply a present value of key k (path already names k). */
static void apply_value(load_ctx *c, const cfg_key *k, yaml_node_t *n, char *base)
{
    char *field = base + k->offset;
    switch (k->kind) {
    case CFG_STRING:
    case CFG_BOOL:
    case CFG_INT:
    case CFG_SIZE:
    case CFG_DURATION:
    case CFG_ENUM:
        apply_scalar(c, k, n, field);
        break;
    case CFG_STRING_LIST:
        apply_string_list(c, k, n, (cfg_strings *)field);
        break;
    case CFG_STRING_MAP:
        apply_string_map(c, k, n, (cfg_map *)field);
        break;
    case CFG_SECTION:
        if (n->type != YAML_MAPPING_NODE)
            report_type(c, k, n);
        else
            apply_table(c, k->children, n, field, n->start_mark);
        break;
    case CFG_SECTION_LIST:
        apply_section_list(c, k, n, (cfg_list *)field);
        break;
    }
}

/* Parse `text` as a one-document YAML stream; 0, or an error after reporting. */
static int load_document(load_ctx *c, const char *text, size_t len, yaml_document_t *doc);

/* Returns whether the default held a value (an empty or null default text
 * leaves the key as if it had none). */
static bool apply_default(load_ctx *c, const cfg_key *k, char *base)
{
    yaml_document_t doc;
    yaml_document_t *saved_doc = c->doc;
    const char *saved_default = c->default_of;
    bool applied = false;
    c->default_of = k->default_value;
    if (load_document(c, k->default_value, strlen(k->default_value), &doc) == 0) {
        c->doc = &doc;
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (root && !is_null(root)) {
            apply_value(c, k, root, base);
            applied = true;
        }
        yaml_document_delete(&doc);
    } else {
        applied = true; /* reported; do not pile more errors on top */
    }
    c->doc = saved_doc;
    c->default_of = saved_default;
    return applied;
}

/* Key k is absent (or null) in a mapping at `enclosing`. */
static void apply_absent(load_ctx *c, const cfg_key *k, char *base, yaml_mark_t enclosing)
{
    if (k->required) {
        report(c, enclosing, SLUICE_ECONFIG, "missing required key '%s'", k->name);
        return;
    }
    size_t old = path_push(c, "%s%s", c->path_len ? "." : "", k->name);
    bool applied = k->default_value && apply_default(c, k, base);
    if (!applied && k->kind == CFG_SECTION)
        apply_table(c, k->children, NULL, base + k->offset, enclosing);
    path_pop(c, old);
}

static void report_unknown(load_ctx *c, const cfg_key *keys, yaml_node_t *key)
{
    char known[512];
    size_t w = 0;
    known[0] = '\0';
    for (const cfg_key *k = keys; k->name && w < sizeof known; k++)
        w += (size_t)snprintf(known + w, sizeof known - w, "%s%s", k == keys ? "" : ", ", k->name);
    report(c, key->start_mark, SLUICE_ECONFIG, "unknown key (known here: %s)", known);
}

/* Match the pairs of mapping `map` (NULL: absent) against `keys`, filling the
 * struct at base. `enclosing` locates missing-key errors. */
static void apply_table(load_ctx *c, const cfg_key *keys, yaml_node_t *map, char *base,
                        yaml_mark_t enclosing)
{
    size_t n_keys = 0;
    while (keys[n_keys].name)
        n_keys++;
    /* Which pair set each key: for duplicates and for the defaults pass. */
    yaml_node_t *first_seen[64];
    yaml_node_t **seen = n_keys <= 64 ? first_seen : calloc(n_keys, sizeof *seen);
    if (!seen) {
        report_oom(c, enclosing);
        return;
    }
    memset(seen, 0, n_keys * sizeof *seen);

    if (map) {
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
             p < map->data.mapping.pairs.top && !c->stop; p++) {
            yaml_node_t *key = node_at(c, p->key), *val = node_at(c, p->value);
            if (!key || !val || !charge(c, map->start_mark, 2 * NODE_COST)) break;
            if (key->type != YAML_SCALAR_NODE) {
                report(c, key->start_mark, SLUICE_ECONFIG, "expected a key name, got %s",
                       node_kind_text(key));
                continue;
            }
            const char *name = (const char *)key->data.scalar.value;
            size_t name_len = key->data.scalar.length, old;
            size_t i = 0;
            while (i < n_keys &&
                   !(strlen(keys[i].name) == name_len && memcmp(keys[i].name, name, name_len) == 0))
                i++;
            path_push_key(c, name, name_len, &old);
            if (i == n_keys) {
                report_unknown(c, keys, key);
            } else if (seen[i]) {
                report(c, key->start_mark, SLUICE_ECONFIG,
                       "duplicate key (first at line %zu, column %zu)",
                       seen[i]->start_mark.line + 1, seen[i]->start_mark.column + 1);
            } else {
                seen[i] = key;
                if (is_null(val)) {
                    path_pop(c, old);
                    if (keys[i].required)
                        report(c, val->start_mark, SLUICE_ECONFIG,
                               "missing required key '%s' (it has no value)", keys[i].name);
                    else
                        apply_absent(c, &keys[i], base, map->start_mark);
                    continue;
                }
                apply_value(c, &keys[i], val, base);
            }
            path_pop(c, old);
        }
    }
    for (size_t i = 0; i < n_keys && !c->stop; i++)
        if (!seen[i]) apply_absent(c, &keys[i], base, map ? map->start_mark : enclosing);
    if (seen != first_seen) free(seen);
}

/* ---- documents ------------------------------------------------------------ */

/* libyaml's reader errors carry a byte offset but no mark. */
static yaml_mark_t mark_at_offset(const char *text, size_t len, size_t offset)
{
    yaml_mark_t m = {0, 0, 0};
    for (size_t i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            m.line++;
            m.column = 0;
        } else if (((unsigned char)text[i] & 0xc0) != 0x80) {
            m.column++;
        }
    }
    m.index = offset;
    return m;
}

/* Where a syntax error happened, as a key path. yaml_parser_load gives only
 * a position, so the text is parsed again event by event up to the same
 * failure, keeping a stack of the open mappings (and the key each is at)
 * and lists (and how many items each has). The innermost open one decides:
 *   a mapping waiting for a key's value    -> "a.b.key"
 *   a mapping or list after an entry       -> "a.b.key" / "a.b[3]", after = true
 *   a mapping or list before its first entry -> "a.b"
 * Nesting deeper than SYNTAX_MAX_DEPTH is followed but not named. */
#define SYNTAX_MAX_DEPTH 64
#define SYNTAX_KEY_LEN 96

typedef struct syntax_frame {
    bool is_map;
    bool want_value; /* mapping: a key was read, its value has not been */
    size_t entries;  /* complete entries (pairs or items) */
    char key[SYNTAX_KEY_LEN];
} syntax_frame;

/* The node that just started (or, for a scalar or alias, also ended) in the
 * innermost frame: a key, a value or an item. */
static void syntax_node_started(syntax_frame *f, const yaml_event_t *ev)
{
    if (!f->is_map || f->want_value) return;
    if (ev->type == YAML_SCALAR_EVENT)
        quote_text(f->key, sizeof f->key, (const char *)ev->data.scalar.value,
                   ev->data.scalar.length);
    else if (ev->type == YAML_ALIAS_EVENT)
        snprintf(f->key, sizeof f->key, "*%.80s", (const char *)ev->data.alias.anchor);
    else
        snprintf(f->key, sizeof f->key, "?"); /* a complex key */
}

static void syntax_node_ended(syntax_frame *f)
{
    if (f->is_map && !f->want_value) {
        f->want_value = true; /* that was a key */
        return;
    }
    f->want_value = false;
    f->entries++;
}

/* limit: events that reach this byte offset are cut off there (a reader
 * error's text is replayed only up to the bad byte, which libyaml would
 * otherwise refuse before the first event). */
static void syntax_error_path(const char *text, size_t len, size_t limit, char *path,
                              size_t path_len, bool *after)
{
    syntax_frame frames[SYNTAX_MAX_DEPTH];
    size_t depth = 0, hidden = 0; /* hidden: open collections deeper than the stack */
    yaml_parser_t p;
    yaml_event_t ev;
    path[0] = '\0';
    *after = false;
    if (!yaml_parser_initialize(&p)) return;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, limit < len ? limit : len);
    bool failed = false;
    /* An empty value (`key:` and nothing) ends only when the next event comes:
     * if that is the cut, the text merely stopped there. */
    syntax_frame *empty_value = NULL;
    for (;;) {
        if (!yaml_parser_parse(&p, &ev)) {
            failed = true;
            if (empty_value) syntax_node_ended(empty_value);
            break;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT || ev.start_mark.index >= limit) {
            yaml_event_delete(&ev);
            failed = limit < len; /* the cut is where the reader failed */
            break;
        }
        if (empty_value) syntax_node_ended(empty_value);
        empty_value = NULL;
        syntax_frame *top = depth && !hidden ? &frames[depth - 1] : NULL;
        switch (t) {
        case YAML_DOCUMENT_START_EVENT:
            depth = hidden = 0;
            break;
        case YAML_SCALAR_EVENT:
        case YAML_ALIAS_EVENT:
            if (top) {
                syntax_node_started(top, &ev);
                if (t == YAML_SCALAR_EVENT && !ev.data.scalar.length &&
                    ev.start_mark.index == ev.end_mark.index)
                    empty_value = top;
                else if (ev.end_mark.index < limit) /* else: cut inside it */
                    syntax_node_ended(top);
            }
            break;
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            if (hidden || depth == SYNTAX_MAX_DEPTH) {
                hidden++;
                break;
            }
            if (top) syntax_node_started(top, &ev);
            frames[depth++] = (syntax_frame){.is_map = t == YAML_MAPPING_START_EVENT};
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            if (hidden) {
                hidden--;
                break;
            }
            if (depth) depth--;
            if (depth) syntax_node_ended(&frames[depth - 1]);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (!failed) return; /* not the same failure (out of memory): no path */

    size_t w = 0;
    for (size_t i = 0; i < depth && w + 1 < path_len; i++) {
        const syntax_frame *f = &frames[i];
        bool inner = i + 1 == depth;
        if (inner && !hidden && !f->want_value) {
            if (!f->entries) break; /* before its first entry: the path so far */
            *after = true;          /* after an entry: name the last one */
        }
        int n;
        if (f->is_map)
            n = snprintf(path + w, path_len - w, "%s%s", w ? "." : "", f->key);
        else
            n = snprintf(path + w, path_len - w, "[%zu]",
                         inner && !hidden && *after ? f->entries - 1 : f->entries);
        if (n < 0) break;
        w = w + (size_t)n < path_len ? w + (size_t)n : path_len - 1;
    }
}

static void report_yaml_error(load_ctx *c, yaml_parser_t *p, const char *text, size_t len)
{
    const char *problem = p->problem ? p->problem : "unknown error";
    if (p->error == YAML_MEMORY_ERROR) {
        report_oom(c, p->problem_mark);
        return;
    }
    size_t at = len, limit = SIZE_MAX; /* a reader error: the start of the bad character */
    if (p->error == YAML_READER_ERROR) {
        at = p->problem_offset < len ? p->problem_offset : len;
        if (p->problem && strcmp(p->problem, "invalid trailing UTF-8 octet") == 0) {
            while (at > 0 && ((unsigned char)text[at - 1] & 0xc0) == 0x80)
                at--;
            if (at > 0 && (unsigned char)text[at - 1] >= 0xc0) at--;
        }
        limit = at;
    }
    char where[PATH_MAX_LEN];
    bool after = false;
    syntax_error_path(text, len, limit, where, sizeof where, &after);
    size_t old = c->path_len;
    if (*where) old = path_push(c, "%s%s", c->path_len ? "." : "", where);
    const char *what = after ? "invalid YAML after this entry" : "invalid YAML";
    if (p->error == YAML_READER_ERROR) {
        yaml_mark_t m = mark_at_offset(text, len, at);
        report(c, m, SLUICE_ECONFIG, "%s: %s", what, problem);
    } else if (p->context) {
        report(c, p->problem_mark, SLUICE_ECONFIG, "%s: %s (%s at line %zu, column %zu)", what,
               problem, p->context, p->context_mark.line + 1, p->context_mark.column + 1);
    } else {
        report(c, p->problem_mark, SLUICE_ECONFIG, "%s: %s", what, problem);
    }
    path_pop(c, old);
}

static int load_document(load_ctx *c, const char *text, size_t len, yaml_document_t *doc)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        report_oom(c, (yaml_mark_t){0, 0, 0});
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, doc)) {
        report_yaml_error(c, &parser, text, len);
        yaml_parser_delete(&parser);
        return -1;
    }
    /* A second document would be silently ignored: say so instead. */
    yaml_document_t extra;
    if (!yaml_parser_load(&parser, &extra)) {
        report_yaml_error(c, &parser, text, len);
        yaml_document_delete(doc);
        yaml_parser_delete(&parser);
        return -1;
    }
    yaml_node_t *extra_root = yaml_document_get_root_node(&extra);
    if (extra_root) {
        report(c, extra.start_mark, SLUICE_ECONFIG,
               "only one YAML document is allowed (found a second one)");
        yaml_document_delete(&extra);
        yaml_document_delete(doc);
        yaml_parser_delete(&parser);
        return -1;
    }
    yaml_document_delete(&extra);
    yaml_parser_delete(&parser);
    return 0;
}

int cfg_load_string(const char *text, size_t len, const char *name, const cfg_key *root, void *out,
                    sluice_error *err, cfg_error_fn on_error, void *opaque)
{
    load_ctx c = {
        .name = name ? name : "(config)",
        .err = err,
        .on_error = on_error,
        .opaque = opaque,
        .budget = BASE_BUDGET + (len > SIZE_MAX / 64 ? SIZE_MAX / 2 : len * 32),
    };
    sluice_error_clear(err);
    yaml_document_t doc;
    if (load_document(&c, text ? text : "", text ? len : 0, &doc) == 0) {
        c.doc = &doc;
        yaml_node_t *top = yaml_document_get_root_node(&doc);
        yaml_mark_t start = {0, 0, 0};
        if (top && top->type != YAML_MAPPING_NODE && !is_null(top))
            report(&c, top->start_mark, SLUICE_ECONFIG,
                   "expected a mapping of sections at the top level, got %s", node_kind_text(top));
        else
            apply_table(&c, root, top && !is_null(top) ? top : NULL, out, start);
        yaml_document_delete(&doc);
    }
    if (c.rc) {
        cfg_free(root, out);
        return c.rc == SLUICE_ENOMEM ? SLUICE_ENOMEM : SLUICE_ECONFIG;
    }
    return 0;
}

int cfg_read_file(const char *path, char **text_out, size_t *len_out, sluice_error *err,
                  cfg_error_fn on_error, void *opaque)
{
    *text_out = NULL;
    *len_out = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s: cannot open: %s", path, strerror(errno));
        sluice_error_set(err, SLUICE_ECONFIG, "%s", msg);
        if (on_error) on_error(opaque, msg);
        return SLUICE_ECONFIG;
    }
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    while (text) {
        if (len == cap) {
            if (cap >= CFG_MAX_FILE_BYTES) {
                free(text);
                fclose(f);
                char msg[600];
                snprintf(msg, sizeof msg, "%s: file larger than %u bytes", path,
                         CFG_MAX_FILE_BYTES);
                sluice_error_set(err, SLUICE_ECONFIG, "%s", msg);
                if (on_error) on_error(opaque, msg);
                return SLUICE_ECONFIG;
            }
            char *grown = realloc(text, cap * 2);
            if (!grown) {
                free(text);
                text = NULL;
                break;
            }
            text = grown;
            cap *= 2;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    int read_error = ferror(f);
    fclose(f);
    if (!text) return sluice_error_set(err, SLUICE_ENOMEM, "%s: out of memory reading it", path);
    if (read_error) {
        free(text);
        char msg[600];
        snprintf(msg, sizeof msg, "%s: read error", path);
        sluice_error_set(err, SLUICE_ECONFIG, "%s", msg);
        if (on_error) on_error(opaque, msg);
        return SLUICE_ECONFIG;
    }
    *text_out = text;
    *len_out = len;
    return 0;
}

int cfg_load_file(const char *path, const cfg_key *root, void *out, sluice_error *err,
                  cfg_error_fn on_error, void *opaque)
{
    char *text;
    size_t len;
    int rc = cfg_read_file(path, &text, &len, err, on_error, opaque);
    if (rc) return rc;
    rc = cfg_load_string(text, len, path, root, out, err, on_error, opaque);
    free(text);
    return rc;
}

int cfg_load_defaults(const cfg_key *root, void *out, sluice_error *err)
{
    return cfg_load_string("", 0, "(defaults)", root, out, err, NULL, NULL);
}

/* ---- comparing -------------------------------------------------------------- */

static bool same_string(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_strings(char *const *a, char *const *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!same_string(a[i], b[i])) return false;
    return true;
}

static bool same_key(const cfg_key *k, const char *fa, const char *fb)
{
    switch (k->kind) {
    case CFG_STRING:
        return same_string(*(char *const *)fa, *(char *const *)fb);
    case CFG_BOOL:
    case CFG_ENUM:
        return *(const int *)fa == *(const int *)fb;
    case CFG_INT:
    case CFG_DURATION:
        return *(const int64_t *)fa == *(const int64_t *)fb;
    case CFG_SIZE:
        return *(const uint64_t *)fa == *(const uint64_t *)fb;
    case CFG_STRING_LIST: {
        const cfg_strings *x = (const cfg_strings *)fa, *y = (const cfg_strings *)fb;
        return x->n == y->n && same_strings(x->items, y->items, x->n);
    }
    case CFG_STRING_MAP: {
        /* In file order: a reordered map is a change, which costs at most
         * a restart of what uses it. */
        const cfg_map *x = (const cfg_map *)fa, *y = (const cfg_map *)fb;
        return x->n == y->n && same_strings(x->keys, y->keys, x->n) &&
               same_strings(x->values, y->values, x->n);
    }
    case CFG_SECTION:
        return cfg_equal(k->children, fa, fb);
    case CFG_SECTION_LIST: {
        const cfg_list *x = (const cfg_list *)fa, *y = (const cfg_list *)fb;
        if (x->n != y->n) return false;
        for (size_t i = 0; i < x->n; i++)
            if (!cfg_equal(k->children, (const char *)x->items + i * k->elem_size,
                           (const char *)y->items + i * k->elem_size))
                return false;
        return true;
    }
    }
    return false;
}

bool cfg_equal(const cfg_key *table, const void *a, const void *b)
{
    for (const cfg_key *k = table; k->name; k++)
        if (!same_key(k, (const char *)a + k->offset, (const char *)b + k->offset)) return false;
    return true;
}

bool cfg_equal_at(const cfg_key *root, const void *a, const void *b, const char *path)
{
    const char *fa = a, *fb = b;
    const cfg_key *table = root;
    while (table) {
        size_t n = strcspn(path, ".");
        const cfg_key *k = table;
        while (k->name && (strlen(k->name) != n || strncmp(k->name, path, n) != 0))
            k++;
        if (!k->name) return false; /* no such key: a caller's typo, never "equal" */
        fa += k->offset;
        fb += k->offset;
        if (path[n] == '\0') return same_key(k, fa, fb);
        path += n + 1;
        table = k->kind == CFG_SECTION ? k->children : NULL;
    }
    return false;
}

/* ---- freeing -------------------------------------------------------------- */

static void free_strings(char **items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        free(items[i]);
    free(items);
}

void cfg_free(const cfg_key *root, void *out)
{
    if (!root || !out) return;
    for (const cfg_key *k = root; k->name; k++) {
        char *field = (char *)out + k->offset;
        switch (k->kind) {
        case CFG_STRING:
            free(*(char **)field);
            *(char **)field = NULL;
            break;
        case CFG_STRING_LIST: {
            cfg_strings *s = (cfg_strings *)field;
            free_strings(s->items, s->n);
            s->items = NULL;
            s->n = 0;
            break;
        }
        case CFG_STRING_MAP: {
            cfg_map *m = (cfg_map *)field;
            free_strings(m->keys, m->n);
            free_strings(m->values, m->n);
            m->keys = m->values = NULL;
            m->n = 0;
            break;
        }
        case CFG_SECTION:
            cfg_free(k->children, field);
            break;
        case CFG_SECTION_LIST: {
            cfg_list *l = (cfg_list *)field;
            for (size_t i = 0; l->items && i < l->n; i++)
                cfg_free(k->children, (char *)l->items + i * k->elem_size);
            free(l->items);
            l->items = NULL;
            l->n = 0;
            break;
        }
        default:
            break;
        }
    }
}

/* ---- key reference -------------------------------------------------------- */

/* Markdown cell text: a `|` would end the cell. */
static void put_cell(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

static void describe_type(FILE *f, const cfg_key *k)
{
    static const char *const names[] = {
        [CFG_STRING] = "string",
        [CFG_BOOL] = "bool",
        [CFG_INT] = "int",
        [CFG_SIZE] = "size",
        [CFG_DURATION] = "duration",
        [CFG_ENUM] = "enum",
        [CFG_STRING_LIST] = "string list",
        [CFG_STRING_MAP] = "string map",
        [CFG_SECTION] = "section",
        [CFG_SECTION_LIST] = "section list",
    };
    fputs(names[k->kind], f);
    if (k->kind == CFG_ENUM) {
        fputs(": ", f);
        for (size_t i = 0; k->enum_values && k->enum_values[i]; i++) {
            fputs(i ? ", " : "", f);
            put_cell(f, k->enum_values[i]);
        }
    } else if (has_range(k) && k->kind == CFG_INT) {
        fprintf(f, " (%" PRId64 "..%" PRId64 ")", k->min, k->max);
    } else if (has_range(k) && k->kind == CFG_SIZE) {
        fprintf(f, " (%" PRId64 "..%" PRId64 " bytes)", k->min, k->max);
    } else if (has_range(k) && k->kind == CFG_DURATION) {
        fprintf(f, " (%" PRId64 "..%" PRId64 " ms)", k->min, k->max);
    }
}

static void describe_keys(FILE *f, const cfg_key *keys, const char *prefix)
{
    for (const cfg_key *k = keys; k->name; k++) {
        char path[PATH_MAX_LEN];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", k->name);
        fputs("| `", f);
        put_cell(f, path);
        fputs("` | ", f);
        describe_type(f, k);
        fputs(" | ", f);
        if (k->required) {
            fputs("required", f);
        } else if (k->default_value) {
            fputs("`", f);
            put_cell(f, k->default_value);
            fputs("`", f);
        }
        fputs(" | ", f);
        put_cell(f, k->doc);
        fputs(" |\n", f);
        if (k->kind == CFG_SECTION && k->children) {
            describe_keys(f, k->children, path);
        } else if (k->kind == CFG_SECTION_LIST && k->children) {
            char list_path[PATH_MAX_LEN + 2];
            snprintf(list_path, sizeof list_path, "%s[]", path);
            describe_keys(f, k->children, list_path);
        }
    }
}

void cfg_describe(FILE *f, const cfg_key *root)
{
    fputs("| key | type | default | description |\n", f);
    fputs("| --- | --- | --- | --- |\n", f);
    describe_keys(f, root, "");
}
