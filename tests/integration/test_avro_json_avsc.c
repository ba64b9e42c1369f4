/*
 * test_avro_json_avsc.c — sluice's JSON <-> Avro codec against avsc, an
 * Avro implementation we did not write (npm, tests/compat/).
 *
 *   1. node tests/compat/avro_corpus.js generate: hundreds of random values
 *      per schema (every type, nested records, arrays of records with inner
 *      string arrays, maps, unions, enums, fixed, recursion, logical types),
 *      each with avsc's bytes and avsc's Avro-JSON rendering;
 *   2. here, for every value:
 *      (a) our decoder on avsc's bytes gives avsc's JSON (compared as
 *          values along the schema: doubles by their bits, floats as
 *          floats, unions by branch name);
 *      (b) our encoder on avsc's JSON gives exactly avsc's bytes;
 *   3. node tests/compat/avro_corpus.js verify: (c) avsc reads our bytes
 *      back to the value it started from.
 *
 * Needs node and tests/compat/node_modules (npm ci --prefix tests/compat,
 * which scripts/setup.sh runs); without them this test fails, it does not
 * skip. The corpus stays in a temporary directory on failure, to replay.
 */
#include "codec/avro_json.h"

#include "test.h"

#include "support.h"

#include <sys/stat.h>
#include <unistd.h>

#define VALUES_PER_SCHEMA 300
#define SHOW_MISMATCHES 10

static char *tmp;
static char source_dir[1024];
static char node_bin[1024];

/* node: /usr/bin/node, else the first on PATH. */
static int find_node(void)
{
    if (access("/usr/bin/node", X_OK) == 0) {
        snprintf(node_bin, sizeof node_bin, "/usr/bin/node");
        return 0;
    }
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        snprintf(node_bin, sizeof node_bin, "%.*s/node", (int)n, path);
        if (n && access(node_bin, X_OK) == 0) return 0;
        path = end ? end + 1 : NULL;
    }
    return -1;
}

/* Runs `node tests/compat/avro_corpus.js args...`; its output goes to
 * tmp/<log>. Returns the exit status; prints the log when it is not 0. */
static int run_corpus_script(const char *log, const char *a1, const char *a2, const char *a3)
{
    char script[1200], log_path[1200];
    snprintf(script, sizeof script, "%s/tests/compat/avro_corpus.js", source_dir);
    snprintf(log_path, sizeof log_path, "%s/%s", tmp, log);
    char *argv[] = {node_bin, script, (char *)a1, (char *)a2, (char *)a3, NULL};
    test_proc p;
    if (test_proc_start(&p, argv, log_path) != 0) return -1;
    int status = test_proc_wait(&p, 300000);
    FILE *f = fopen(log_path, "r");
    char line[2048];
    while (f && fgets(line, sizeof line, f))
        fprintf(stderr, "  node: %s", line);
    if (f) fclose(f);
    return status;
}

/* ---- comparing values along the schema ------------------------------------------- */

static int numbers_same(const json_t *a, const json_t *b, int is_float)
{
    if (!json_is_number(a) || !json_is_number(b)) return 0;
    double x = json_number_value(a), y = json_number_value(b);
    if (is_float) {
        float fx = (float)x, fy = (float)y;
        return memcmp(&fx, &fy, sizeof fx) == 0;
    }
    return memcmp(&x, &y, sizeof x) == 0;
}

/* Equal as values of t in Avro's JSON encoding. */
static int same_value(const sluice_avro_node *t, const json_t *a, const json_t *b, int depth)
{
    if (depth > 200) return 0;
    switch (t->type) {
    case SLUICE_AVRO_INT:
    case SLUICE_AVRO_LONG:
        return json_is_integer(a) && json_is_integer(b) &&
               json_integer_value(a) == json_integer_value(b);
    case SLUICE_AVRO_FLOAT:
    case SLUICE_AVRO_DOUBLE:
        return numbers_same(a, b, t->type == SLUICE_AVRO_FLOAT);
    case SLUICE_AVRO_ARRAY:
        if (!json_is_array(a) || !json_is_array(b) || json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same_value(t->items, json_array_get(a, i), json_array_get(b, i), depth + 1))
                return 0;
        return 1;
    case SLUICE_AVRO_MAP: {
        if (!json_is_object(a) || !json_is_object(b) || json_object_size(a) != json_object_size(b))
            return 0;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)a, k, v)
        {
            json_t *w = json_object_get(b, k);
            if (!w || !same_value(t->values, v, w, depth + 1)) return 0;
        }
        return 1;
    }
    case SLUICE_AVRO_RECORD:
        if (!json_is_object(a) || !json_is_object(b) || json_object_size(a) != t->n_fields ||
            json_object_size(b) != t->n_fields)
            return 0;
        for (size_t i = 0; i < t->n_fields; i++) {
            json_t *x = json_object_get(a, t->fields[i].name);
            json_t *y = json_object_get(b, t->fields[i].name);
            if (!x || !y || !same_value(t->fields[i].type, x, y, depth + 1)) return 0;
        }
        return 1;
    case SLUICE_AVRO_UNION: {
        if (json_is_null(a) || json_is_null(b)) return json_is_null(a) && json_is_null(b);
        if (!json_is_object(a) || !json_is_object(b) || json_object_size(a) != 1 ||
            json_object_size(b) != 1)
            return 0;
        const char *ka = json_object_iter_key(json_object_iter((json_t *)a));
        const char *kb = json_object_iter_key(json_object_iter((json_t *)b));
        if (strcmp(ka, kb) != 0) return 0;
        for (size_t i = 0; i < t->n_branches; i++) {
            const sluice_avro_node *br = t->branches[i];
            const char *name = br->fullname ? br->fullname : sluice_avro_type_name(br->type);
            if (strcmp(name, ka) == 0)
                return same_value(br, json_object_get(a, ka), json_object_get(b, kb), depth + 1);
        }
        return 0;
    }
    default:
        return json_equal(a, b);
    }
}

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void to_hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = '\0';
}

/* ---- the test ------------------------------------------------------------------------ */

static void test_avsc_cross_check(void)
{
    const char *src = getenv("SLUICE_SOURCE_DIR");
    snprintf(source_dir, sizeof source_dir, "%s", src && *src ? src : ".");
    if (find_node() != 0) {
        fprintf(stderr, "node is not installed (it comes with scripts/setup.sh); then run "
                        "`npm ci --prefix tests/compat`\n");
        CHECK(0);
    }
    char probe[1200];
    struct stat st;
    snprintf(probe, sizeof probe, "%s/tests/compat/node_modules/avsc/package.json", source_dir);
    if (stat(probe, &st) != 0) {
        fprintf(stderr,
                "avsc is missing (%s): run `npm ci --prefix tests/compat` "
                "(scripts/setup.sh does)\n",
                probe);
        CHECK(0);
    }
    tmp = test_tmpdir("sluice-avsc");
    CHECK(tmp != NULL);
    fprintf(stderr, "corpus in %s\n", tmp);

    char count[16];
    snprintf(count, sizeof count, "%d", VALUES_PER_SCHEMA);
    CHECK_EQ(run_corpus_script("generate.log", "generate", tmp, count), 0);

    char corpus_path[1200];
    snprintf(corpus_path, sizeof corpus_path, "%s/corpus.json", tmp);
    json_error_t jerr;
    json_t *corpus = json_load_file(corpus_path, JSON_ALLOW_NUL, &jerr);
    if (!corpus) fprintf(stderr, "corpus.json: %s (line %d)\n", jerr.text, jerr.line);
    CHECK(corpus != NULL);
    json_t *entries = json_object_get(corpus, "schemas");
    CHECK(json_array_size(entries) >= 25);

    json_t *ours = json_object();
    json_t *ours_list = json_array();
    json_object_set_new(ours, "schemas", ours_list);
    static uint8_t bytes[1 << 20];
    static char hexbuf[(1 << 21) + 1];
    size_t values = 0, decode_bad = 0, encode_bad = 0;
    buf out;
    buf_init(&out, 1 << 24);

    size_t si;
    json_t *entry;
    json_array_foreach(entries, si, entry)
    {
        const char *name = json_string_value(json_object_get(entry, "name"));
        char *schema_text = json_dumps(json_object_get(entry, "schema"), JSON_ENCODE_ANY);
        sluice_avro_schema *schema = NULL;
        sluice_error err = {0};
        int prc = sluice_avro_schema_parse(schema_text, strlen(schema_text), &schema, &err);
        if (prc != 0) fprintf(stderr, "schema %s does not parse: %s\n", name, err.msg);
        free(schema_text);
        CHECK_EQ(prc, 0);
        const sluice_avro_node *root = sluice_avro_schema_root(schema);
        json_t *hexes = json_array();
        json_array_append_new(ours_list, hexes);

        size_t vi;
        json_t *value;
        json_t *list = json_object_get(entry, "values");
        CHECK(json_array_size(list) == VALUES_PER_SCHEMA);
        json_array_foreach(list, vi, value)
        {
            values++;
            const char *hex = json_string_value(json_object_get(value, "hex"));
            const char *text = json_string_value(json_object_get(value, "json"));
            CHECK(hex && text && strlen(hex) / 2 <= sizeof bytes);
            size_t n = unhex(hex, bytes);
            json_t *want = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
            if (!want)
                fprintf(stderr, "%s[%zu]: avsc's JSON does not parse: %s\n  %s\n", name, vi,
                        jerr.text, text);
            CHECK(want != NULL);

            /* (a) our decoder on avsc's bytes */
            buf_reset(&out);
            int rc = avro_json_decode(root, bytes, n, AVRO_JSON_AVRO, &out, &err);
            json_t *got = NULL;
            if (rc == 0)
                got = json_loadb((const char *)out.data, out.len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                                 &jerr);
            if (!got || !same_value(root, got, want, 0)) {
                if (++decode_bad <= SHOW_MISMATCHES)
                    fprintf(stderr,
                            "(a) %s[%zu]: decode %s\n  bytes: %s\n  avsc:  %s\n  ours:  %.*s\n",
                            name, vi, rc ? err.msg : "differs", hex, text, (int)out.len,
                            out.data ? (char *)out.data : "");
            }
            json_decref(got);

            /* (b) our encoder on avsc's JSON */
            buf_reset(&out);
            avro_json_errors errs;
            rc = avro_json_encode(root, want, &out, &errs);
            if (rc == 0) {
                to_hex(out.data, out.len, hexbuf);
                json_array_append_new(hexes, json_string(hexbuf));
            } else {
                json_array_append_new(hexes, json_null());
            }
            if (rc != 0 || strcmp(hexbuf, hex) != 0) {
                if (++encode_bad <= SHOW_MISMATCHES)
                    fprintf(
                        stderr,
                        "(b) %s[%zu]: encode %s%s%s\n  json:  %s\n  avsc:  %s\n  ours:  %s\n", name,
                        vi, rc ? "failed: " : "differs", rc && errs.n ? errs.items[0].path : "",
                        rc && errs.n ? errs.items[0].message : "", text, hex, rc ? "-" : hexbuf);
            }
            json_decref(want);
        }
        sluice_avro_schema_free(schema);
    }
    buf_free(&out);
    fprintf(stderr, "checked %zu values: %zu decode mismatches, %zu encode mismatches\n", values,
            decode_bad, encode_bad);

    char ours_path[1200];
    snprintf(ours_path, sizeof ours_path, "%s/ours.json", tmp);
    int dumped = json_dump_file(ours, ours_path, JSON_COMPACT);
    json_decref(ours);
    json_decref(corpus);
    CHECK_EQ(dumped, 0);
    CHECK(values >= 25 * VALUES_PER_SCHEMA);
    CHECK_EQ(decode_bad, 0);
    CHECK_EQ(encode_bad, 0);

    /* (c) avsc reads our bytes back */
    CHECK_EQ(run_corpus_script("verify.log", "verify", tmp, NULL), 0);
    test_rmtree(tmp);
}

TEST_MAIN(T(test_avsc_cross_check))
