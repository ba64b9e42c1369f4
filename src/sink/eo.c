/*
 * eo.c — exactly-once intents and the per-table decision (eo.h).
 */
#include "sink/eo.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/ch_type.h"

#define PREFIX "sluice-eo1 "

/* ---- intents ---------------------------------------------------------------- */

int eo_intent_format(const eo_intent *in, char *out, size_t cap, size_t *len, sluice_error *err)
{
    size_t at = 0;
    int n = snprintf(out, cap,
                     PREFIX "b=%016" PRIx64 " t=%" PRId64 " r=%" PRId32 " h=%016" PRIx64
                            " m=%" PRIu64 " p=",
                     in->block, in->now_s, in->reader_id, in->cols_hash, in->max_insert_bytes);
    if (n < 0 || (size_t)n >= cap) goto too_long;
    at = (size_t)n;
    for (size_t i = 0; i < in->n_members; i++) {
        const eo_member *m = &in->members[i];
        n = snprintf(out + at, cap - at, "%s%" PRId32 ":%" PRId64 "+%" PRId64, i ? "," : "",
                     m->partition, m->first, m->end - m->first);
        if (n < 0 || (size_t)n >= cap - at) goto too_long;
        at += (size_t)n;
    }
    *len = at;
    return 0;
too_long:
    return sluice_error_set(err, SLUICE_ERANGE,
                            "exactly-once intent of %zu partitions does not fit in %zu bytes",
                            in->n_members, cap);
}

typedef struct reader {
    const char *s;
    size_t at, len;
    sluice_error *err;
} reader;

static int fail(reader *r, const char *what)
{
    return sluice_error_set(r->err, SLUICE_EPARSE, "exactly-once intent, byte %zu: %s", r->at,
                            what);
}

static int expect(reader *r, const char *lit)
{
    size_t n = strlen(lit);
    if (r->len - r->at < n || memcmp(r->s + r->at, lit, n) != 0) {
        char what[64];
        snprintf(what, sizeof what, "expected '%s'", lit);
        return fail(r, what);
    }
    r->at += n;
    return 0;
}

/* Unsigned decimal or hex number, no sign, no leading spaces; at most max. */
static int number(reader *r, int hex, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t start = r->at;
    while (r->at < r->len) {
        int c = (unsigned char)r->s[r->at], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (hex && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            break;
        uint64_t base = hex ? 16 : 10;
        if ((uint64_t)d > max || v > (max - (uint64_t)d) / base)
            return fail(r, "number out of range");
        v = v * base + (uint64_t)d;
        r->at++;
    }
    if (r->at == start) return fail(r, hex ? "expected a hex number" : "expected a number");
    *out = v;
    return 0;
}

static int signed_number(reader *r, int64_t min, int64_t max, int64_t *out)
{
    int neg = r->at < r->len && r->s[r->at] == '-';
    if (neg) r->at++;
    uint64_t v;
    if (number(r, 0, neg ? (uint64_t)(-(min + 1)) + 1 : (uint64_t)max, &v)) return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int eo_intent_parse(const char *text, size_t len, eo_intent *out, eo_member *members, size_t cap,
                    sluice_error *err)
{
    memset(out, 0, sizeof *out);
    out->members = members;
    if (len < strlen(PREFIX) || memcmp(text, PREFIX, strlen(PREFIX)) != 0)
        return sluice_error_set(err, SLUICE_ENOTFOUND, "not an exactly-once intent");
    reader r = {text, strlen(PREFIX), len, err};
    uint64_t u;
    int64_t v;
    if (expect(&r, "b=") || number(&r, 1, UINT64_MAX, &out->block)) return SLUICE_EPARSE;
    if (expect(&r, " t=") || signed_number(&r, INT64_MIN, INT64_MAX, &out->now_s))
        return SLUICE_EPARSE;
    if (expect(&r, " r=") || signed_number(&r, -1, INT32_MAX, &v)) return SLUICE_EPARSE;
    out->reader_id = (int32_t)v;
    if (expect(&r, " h=") || number(&r, 1, UINT64_MAX, &out->cols_hash)) return SLUICE_EPARSE;
    if (expect(&r, " m=") || number(&r, 0, UINT64_MAX, &out->max_insert_bytes))
        return SLUICE_EPARSE;
    if (expect(&r, " p=")) return SLUICE_EPARSE;
    for (;;) {
        if (out->n_members == cap) return fail(&r, "too many partitions");
        eo_member *m = &members[out->n_members];
        if (number(&r, 0, INT32_MAX, &u)) return SLUICE_EPARSE;
        m->partition = (int32_t)u;
        if (out->n_members && m->partition <= members[out->n_members - 1].partition)
            return fail(&r, "partitions out of order");
        if (expect(&r, ":") || number(&r, 0, INT64_MAX, &u)) return SLUICE_EPARSE;
        m->first = (int64_t)u;
        if (expect(&r, "+") || number(&r, 0, (uint64_t)(INT64_MAX - m->first), &u))
            return SLUICE_EPARSE;
        if (u == 0) return fail(&r, "empty offset range");
        m->end = m->first + (int64_t)u;
        out->n_members++;
        if (r.at == r.len) break;
        if (expect(&r, ",")) return SLUICE_EPARSE;
    }
    return 0;
}

const eo_member *eo_intent_member(const eo_intent *in, int32_t partition)
{
    size_t lo = 0, hi = in->n_members;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (in->members[mid].partition < partition)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < in->n_members && in->members[lo].partition == partition ? &in->members[lo] : NULL;
}

static size_t digits(uint64_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

size_t eo_member_bytes_max(int32_t partition, int64_t first)
{
    /* ",P:F+C" with C up to 19 digits */
    return 1 + digits((uint64_t)partition) + 1 + digits((uint64_t)first) + 1 + 19;
}

uint64_t eo_columns_hash(const plan_column *cols, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        if (!cols[i].insertable) continue;
        const char *parts[3] = {cols[i].name, cols[i].type ? cols[i].type->text : "",
                                cols[i].has_default_expression ? "D" : ""};
        for (int k = 0; k < 3; k++) {
            for (const unsigned char *p = (const unsigned char *)parts[k]; *p; p++) {
                h ^= *p;
                h *= 0x100000001b3ULL;
            }
            h ^= 0xff; /* separator no name or type contains */
            h *= 0x100000001b3ULL;
        }
    }
    return h;
}

/* ---- can this table have it? -------------------------------------------------- */

const char *eo_nondeterministic(const char *expr)
{
    /* Functions whose value depends on when, where or how often they run:
     * a second INSERT of the same rows computes something else, so the
     * block differs and the server stores it again. */
    static const char *const names[] = {"now",
                                        "now64",
                                        "today",
                                        "yesterday",
                                        "rand",
                                        "rand32",
                                        "rand64",
                                        "randConstant",
                                        "generateUUIDv4",
                                        "randomString",
                                        "randomFixedString",
                                        "randomPrintableASCII",
                                        "randomStringUTF8",
                                        "hostName",
                                        "hostname",
                                        "fqdn",
                                        "FQDN",
                                        "uptime",
                                        "serverUUID",
                                        "rowNumberInBlock",
                                        "rowNumberInAllBlocks",
                                        "blockNumber",
                                        "queryID",
                                        "initialQueryID",
                                        "currentUser",
                                        "timezone",
                                        "runningAccumulate",
                                        "runningDifference",
                                        "neighbor",
                                        "generateULID",
                                        "nowInBlock"};
    if (!expr) return NULL;
    for (const char *p = expr; *p; p++) {
        if (!(isalpha((unsigned char)*p) || *p == '_')) continue;
        if (p > expr && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) continue;
        size_t n = 0;
        while (isalnum((unsigned char)p[n]) || p[n] == '_')
            n++;
        const char *q = p + n;
        while (*q == ' ' || *q == '\t' || *q == '\n')
            q++;
        if (*q == '(') {
            for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (strlen(names[i]) == n && strncasecmp(names[i], p, n) == 0) return names[i];
        }
        p += n - 1;
    }
    return NULL;
}

static int version_at_least(const char *v, int major, int minor)
{
    int a = 0, b = 0;
    if (!v || sscanf(v, "%d.%d", &a, &b) < 1) return 0;
    return a > major || (a == major && b >= minor);
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

static int replicated(const char *engine)
{
    return engine && strncmp(engine, "Replicated", 10) == 0 && ends_with(engine, "MergeTree");
}

/* The fourth argument of Distributed(cluster, db, table, sharding_key). */
static const char *sharding_key(const char *engine_full)
{
    const char *p = engine_full ? strchr(engine_full, '(') : NULL;
    int depth = 0, commas = 0;
    for (; p && *p; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth--;
        else if (*p == ',' && depth == 1 && ++commas == 3)
            return p + 1;
        if (depth == 0) break;
    }
    return NULL;
}

void eo_decide(const eo_table_facts *f, eo_verdict *out)
{
    out->exactly_once = 0;
    const char *engine = f->engine ? f->engine : "?";
#define NO(...) (snprintf(out->reason, sizeof out->reason, __VA_ARGS__), (void)0)
    if (!f->insert_deduplicate) {
        NO("insert_deduplicate is 0 for the sink's connections (clickhouse.settings or the "
           "user's profile), so the server stores a repeated block again");
        return;
    }
    const char *how;
    if (replicated(engine)) {
        how = "the server ignores a repeated block (its hash is remembered in ZooKeeper)";
    } else if (strcmp(engine, "Distributed") == 0) {
        if (!replicated(f->local_engine)) {
            NO("the Distributed table's local table is %s, not a Replicated*MergeTree: a "
               "repeated block would be stored again",
               f->local_engine ? f->local_engine : "unknown");
            return;
        }
        const char *key = sharding_key(f->engine_full);
        const char *fn = eo_nondeterministic(key);
        if (fn) {
            NO("the Distributed table shards by %s(), so a repeated block is split differently "
               "and stored again",
               fn);
            return;
        }
        how = "its local Replicated tables ignore a repeated block";
    } else if (ends_with(engine, "MergeTree")) {
        if (!version_at_least(f->version, 21, 5)) {
            NO("%s on ClickHouse %s forgets inserted blocks (a non-replicated table deduplicates "
               "from 21.5 with non_replicated_deduplication_window); use a ReplicatedMergeTree",
               engine, f->version ? f->version : "?");
            return;
        }
        if (f->dedup_window <= 0) {
            NO("%s has non_replicated_deduplication_window = 0: set it (e.g. 100) for the server "
               "to ignore a repeated block",
               engine);
            return;
        }
        how = "the server remembers the last non_replicated_deduplication_window blocks";
    } else {
        NO("engine %s does not deduplicate INSERTs", engine);
        return;
    }
    if (f->dedup_window == 0) {
        NO("the table's deduplication window is 0, so the server stores a repeated block again");
        return;
    }
    for (size_t i = 0; i < f->n_defaults; i++) {
        const char *fn = eo_nondeterministic(f->default_exprs[i]);
        if (!fn) continue;
        int derived = 0;
        for (size_t k = 0; k < f->n_derived; k++)
            if (strcmp(f->derived[k], f->default_names[i]) == 0) derived = 1;
        if (derived && !f->default_materialized[i]) continue;
        if (f->default_materialized[i]) {
            NO("column %s is MATERIALIZED %s: the server computes %s() at each INSERT, so a "
               "repeated block differs and is stored again",
               f->default_names[i], f->default_exprs[i], fn);
        } else {
            NO("column %s DEFAULT %s is filled by the server at each INSERT (%s()), so a "
               "repeated block differs and is stored again; fill it in the route "
               "(transform.columns: {%s: \"now()\"} uses the batch's own time)",
               f->default_names[i], f->default_exprs[i], fn, f->default_names[i]);
        }
        return;
    }
    out->exactly_once = 1;
    if (f->dedup_window > 0)
        snprintf(out->reason, sizeof out->reason, "%s: %s (window %" PRId64 " blocks)", engine, how,
                 f->dedup_window);
    else
        snprintf(out->reason, sizeof out->reason, "%s: %s", engine, how);
#undef NO
}
