/*
 * test_json_schema_validate.c — JSON Schema validation on the streaming
 * reader (json_schema_validate.c): every keyword of the subset accepting
 * and refusing values with the path and message promised, $ref within a
 * document and into references, recursive schemas, every keyword outside
 * the subset refused at compile time by name and place, malformed JSON,
 * the error bound; and a table of (schema, value) pairs whose verdicts are
 * compared with Debian's python3-jsonschema (Draft7Validator), a validator
 * no one here wrote.
 */
#include "test.h"

#include "codec/json_schema.h"
#include "codec/json_schema_validate.h"

#include <unistd.h>

typedef struct vfix {
    json_schema *s;
    json_validator *v;
    sluice_error err;
    avro_json_errors errs;
} vfix;

static int vcompile(vfix *f, const char *schema, const json_schema_source *deps, size_t n_deps)
{
    memset(f, 0, sizeof *f);
    if (json_schema_parse(schema, strlen(schema), deps, n_deps, &f->s, &f->err) != 0) {
        fprintf(stderr, "schema: %s\n", f->err.msg);
        return -1;
    }
    return json_validator_compile(f->s, &f->v, &f->err);
}

static void vfree(vfix *f)
{
    json_validator_free(f->v);
    json_schema_free(f->s);
}

/* Validate text; the reader must end right after the value. */
static int vrun(vfix *f, const char *text)
{
    json_lex lx;
    json_lex_init(&lx, text, strlen(text));
    int rc = json_validator_run(f->v, &lx, &f->errs);
    if (rc != SLUICE_EPARSE && json_lex_end(&lx) != 0) rc = -1000;
    json_lex_free(&lx);
    return rc;
}

/* "path: message" of error i */
static const char *err_at(vfix *f, int i)
{
    static char line[600];
    if (i >= f->errs.n) return "(none)";
    snprintf(line, sizeof line, "%s: %s", f->errs.items[i].path, f->errs.items[i].message);
    return line;
}

#define ORDER_SCHEMA                                                                               \
    "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"title\":\"Order\","                \
    "\"type\":\"object\",\"additionalProperties\":false,"                                          \
    "\"required\":[\"id\",\"at\",\"lines\"],"                                                      \
    "\"properties\":{"                                                                             \
    "\"id\":{\"type\":\"integer\",\"minimum\":1},"                                                 \
    "\"at\":{\"type\":\"string\",\"format\":\"date-time\"},"                                       \
    "\"day\":{\"type\":\"string\",\"format\":\"date\"},"                                           \
    "\"ref\":{\"type\":\"string\",\"format\":\"uuid\"},"                                           \
    "\"status\":{\"enum\":[\"NEW\",\"PAID\",null,7]},"                                             \
    "\"kind\":{\"const\":\"order\"},"                                                              \
    "\"note\":{\"type\":[\"string\",\"null\"],\"maxLength\":5,\"minLength\":1},"                   \
    "\"code\":{\"type\":\"string\",\"pattern\":\"^[A-Z]{2}-[0-9]+$\"},"                            \
    "\"ratio\":{\"type\":\"number\",\"exclusiveMinimum\":0,\"maximum\":1},"                        \
    "\"lines\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":3,\"items\":{\"$ref\":"             \
    "\"#/definitions/line\"}},"                                                                    \
    "\"meta\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"               \
    "\"pair\":{\"type\":\"array\",\"items\":[{\"type\":\"string\"},{\"type\":\"integer\"}]},"      \
    "\"box\":{\"enum\":[{\"a\":[1,2]},[true]]}"                                                    \
    "},"                                                                                           \
    "\"definitions\":{\"line\":{\"type\":\"object\",\"required\":[\"sku\"],\"properties\":{"       \
    "\"sku\":{\"type\":\"string\"},\"qty\":{\"type\":\"integer\",\"maximum\":100}}}}}"

static void test_valid_values_pass(void)
{
    vfix f;
    CHECK_EQ(vcompile(&f, ORDER_SCHEMA, NULL, 0), 0);
    static const char *ok[] = {
        "{\"id\":1,\"at\":\"2026-11-22T20:12:01Z\",\"lines\":[{\"sku\":\"a\"}]}",
        ("{\"lines\":[{\"sku\":\"a\",\"qty\":100,\"extra\":true},{\"sku\":\"\"}],"
         "\"at\":\"2026-11-22T20:12:01.123456+01:00\",\"id\":9007199254740993,"
         "\"day\":\"2024-02-29\",\"ref\":\"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\","
         "\"status\":null,\"kind\":\"order\",\"note\":\"héllo\",\"code\":\"AB-12\","
         "\"ratio\":1,\"meta\":{\"x\":\"y\"},\"pair\":[\"p\",2,{\"anything\":1}],"
         "\"box\":{\"a\":[1,2]}}"),
        ("{\"id\":2.0,\"at\":\"2026-01-01T00:00:00Z\",\"lines\":[{\"sku\":\"s\"}],\"status\":7.0,"
         "\"note\":null,\"box\":[true]}"),
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc = vrun(&f, ok[i]);
        if (rc) fprintf(stderr, "value %zu: %s\n", i, err_at(&f, 0));
        CHECK_EQ(rc, 0);
    }
    vfree(&f);
}

static void test_every_problem_is_named(void)
{
    vfix f;
    CHECK_EQ(vcompile(&f, ORDER_SCHEMA, NULL, 0), 0);
    CHECK_EQ(vrun(&f, "{\"id\":0.5,\"at\":\"2026-11-22\",\"lines\":[],\"status\":\"GONE\","
                      "\"kind\":\"x\",\"note\":\"toolong\",\"code\":\"ab-1\",\"ratio\":0,"
                      "\"meta\":{\"k\":1},\"pair\":[1,\"2\"],\"bogus\":{},"
                      "\"ref\":\"not-a-uuid\",\"box\":{\"a\":[2,1]}}"),
             SLUICE_EINVAL);
    static const char *want[] = {
        "$.id: expected integer, got number 0.5",
        "$.at: '2026-11-22' is not a date-time (RFC 3339): a date-time needs a time and a zone",
        "$.lines: 0 items, fewer than minItems 1",
        "$.status: 'GONE' is not one of the enum values",
        "$.kind: is not the const value \"order\"",
        "$.note: 7 characters, more than maxLength 5",
        "$.code: 'ab-1' does not match the pattern '^[A-Z]{2}-[0-9]+$'",
        "$.ratio: 0 is not greater than the exclusiveMinimum 0",
        "$.meta.k: expected string, got number 1",
        "$.pair[0]: expected string, got number 1",
        "$.pair[1]: expected integer, got string",
        "$.bogus: property 'bogus' is not allowed (additionalProperties is false)",
        "$.ref: 'not-a-uuid' is not a uuid",
        "$.box: is not one of the enum values",
    };
    CHECK_EQ(f.errs.n, (int)(sizeof want / sizeof want[0]));
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK_STR(err_at(&f, (int)i), want[i]);
    /* Missing required properties, nested through $ref; a bad item. */
    CHECK_EQ(vrun(&f, "{\"lines\":[{\"qty\":101},{\"sku\":1}],\"id\":-3}"), SLUICE_EINVAL);
    CHECK_EQ(f.errs.n, 5);
    CHECK_STR(err_at(&f, 0), "$.lines[0].qty: 101 is greater than the maximum 100");
    CHECK_STR(err_at(&f, 1), "$.lines[0]: missing required property 'sku'");
    CHECK_STR(err_at(&f, 2), "$.lines[1].sku: expected string, got number 1");
    CHECK_STR(err_at(&f, 3), "$.id: -3 is less than the minimum 1");
    CHECK_STR(err_at(&f, 4), "$: missing required property 'at'");
    CHECK_EQ(vrun(&f, "[1]"), SLUICE_EINVAL);
    CHECK_STR(err_at(&f, 0), "$: expected object, got array");
    CHECK_EQ(vrun(&f, "{\"id\":1,\"at\":\"2026-11-22T20:12:01Z\",\"lines\":[{\"sku\":\"a\"}],"
                      "\"note\":5}"),
             SLUICE_EINVAL);
    CHECK_STR(err_at(&f, 0), "$.note: expected string or null, got number 5");
    vfree(&f);
}

static void test_malformed_json_and_the_error_bound(void)
{
    vfix f;
    CHECK_EQ(vcompile(&f, ORDER_SCHEMA, NULL, 0), 0);
    CHECK_EQ(vrun(&f, "{\"id\":1,\"id\":2}"), SLUICE_EPARSE);
    /* Duplicates: among the schema's properties (a bit per property), one
     * spelled with an escape, among other keys (the reader's check, past
     * its small set of 8 too), and the same key in two objects is none. */
    CHECK_EQ(vrun(&f, "{\"id\":1,\"\\u0069d\":2}"), SLUICE_EPARSE);
    CHECK_EQ(vrun(&f, "{\"\\u0069d\":1,\"id\":2}"), SLUICE_EPARSE);
    CHECK_EQ(vrun(&f, "{\"meta\":{\"x\":\"a\",\"x\":\"b\"}}"), SLUICE_EPARSE);
    CHECK_EQ(vrun(&f, "{\"meta\":{\"k1\":\"1\",\"k2\":\"1\",\"k3\":\"1\",\"k4\":\"1\",\"k5\":\"1\","
                      "\"k6\":\"1\",\"k7\":\"1\",\"k8\":\"1\",\"k9\":\"1\",\"k2\":\"1\"}}"),
             SLUICE_EPARSE);
    CHECK_EQ(vrun(&f, "{\"id\":1,\"at\":\"2026-11-22T20:12:01Z\",\"lines\":[{\"sku\":\"a\"},"
                      "{\"sku\":\"b\"}]}"),
             0);
    CHECK_EQ(vrun(&f, "{\"id\":1,\"at\":\"2026-11-22T20:12:01Z\",\"lines\":[{\"sku\":\"a\","
                      "\"sku\":\"b\"}]}"),
             SLUICE_EPARSE);
    CHECK_EQ(vrun(&f, "{\"id\":1,"), SLUICE_EPARSE);
    CHECK_EQ(vrun(&f, "{\"lines\":[{\"sku\":\"\\ud800\"}]}"), SLUICE_EPARSE);
    /* A syntax error after value errors is still a syntax error. */
    CHECK_EQ(vrun(&f, "{\"id\":\"x\",\"at\":tru}"), SLUICE_EPARSE);
    /* Past the bound: truncated, and the reader is still after the value. */
    char big[8192] = "{\"meta\":{";
    for (int i = 0; i < 40; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big), "%s\"k%d\":%d", i ? "," : "", i, i);
    strcat(big, "},\"id\":1,\"at\":\"2026-11-22T20:12:01Z\",\"lines\":[{\"sku\":\"a\"}]}");
    CHECK_EQ(vrun(&f, big), SLUICE_EINVAL);
    CHECK_EQ(f.errs.n, AVRO_JSON_MAX_ERRORS);
    CHECK_EQ(f.errs.truncated, 1);
    vfree(&f);
}

static void test_refs_recursion_and_boolean_schemas(void)
{
    const char *address = "{\"$id\":\"https://example.com/address.json\",\"type\":\"object\","
                          "\"required\":[\"zip\"],\"properties\":{\"zip\":{\"type\":\"string\","
                          "\"minLength\":5}}}";
    json_schema_source deps[] = {{"address.json", address, strlen(address)}};
    vfix f;
    CHECK_EQ(vcompile(&f,
                      "{\"type\":\"object\",\"properties\":{"
                      "\"home\":{\"$ref\":\"address.json\"},"
                      "\"tree\":{\"$ref\":\"#/definitions/node\"},"
                      "\"any\":true,\"none\":false}, \"definitions\":{\"node\":{"
                      "\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\"},"
                      "\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/definitions/node\"}}"
                      "}}}}",
                      deps, 1),
             0);
    CHECK_EQ(vrun(&f, "{\"home\":{\"zip\":\"12345\"},\"any\":[{\"x\":null}],"
                      "\"tree\":{\"v\":1,\"kids\":[{\"v\":2,\"kids\":[{\"v\":3}]}]}}"),
             0);
    CHECK_EQ(vrun(&f, "{\"home\":{\"zip\":\"123\"},\"none\":1,"
                      "\"tree\":{\"kids\":[{\"kids\":[{\"v\":\"deep\"}]}]}}"),
             SLUICE_EINVAL);
    CHECK_EQ(f.errs.n, 3);
    CHECK_STR(err_at(&f, 0), "$.home.zip: 3 characters, fewer than minLength 5");
    CHECK_STR(err_at(&f, 1), "$.none: no value is allowed here (the schema is false)");
    CHECK_STR(err_at(&f, 2), "$.tree.kids[0].kids[0].v: expected integer, got string");
    vfree(&f);
    CHECK_EQ(vcompile(&f, "true", NULL, 0), 0);
    CHECK_EQ(vrun(&f, "{\"a\":[1,{\"b\":null}]}"), 0);
    vfree(&f);
    CHECK_EQ(vcompile(&f, "false", NULL, 0), 0);
    CHECK_EQ(vrun(&f, "{}"), SLUICE_EINVAL);
    CHECK_STR(err_at(&f, 0), "$: no value is allowed here (the schema is false)");
    vfree(&f);
}

static void test_keywords_outside_the_subset_are_refused(void)
{
    static const struct {
        const char *schema;
        const char *msg;
    } cases[] = {
        {"{\"properties\":{\"tags\":{\"type\":\"array\",\"uniqueItems\":true}}}",
         "#/properties/tags/uniqueItems: keyword uniqueItems is not supported by sluice's JSON "
         "Schema validator"},
        {"{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}",
         "#/anyOf: keyword anyOf is not supported"},
        {"{\"allOf\":[true]}", "#/allOf: keyword allOf"},
        {"{\"oneOf\":[true]}", "#/oneOf: keyword oneOf"},
        {"{\"not\":false}", "#/not: keyword not"},
        {"{\"if\":true,\"then\":true}", "#/if: keyword if"},
        {"{\"patternProperties\":{\"^x\":true}}", "#/patternProperties: keyword patternProperties"},
        {"{\"propertyNames\":{\"maxLength\":3}}", "#/propertyNames"},
        {"{\"dependencies\":{\"a\":[\"b\"]}}", "#/dependencies"},
        {"{\"minProperties\":1}", "#/minProperties"},
        {"{\"items\":{\"multipleOf\":2}}", "#/items/multipleOf: keyword multipleOf"},
        {"{\"contains\":true}", "#/contains"},
        {"{\"items\":[true],\"additionalItems\":false}", "#/additionalItems"},
        {"{\"prefixItems\":[true]}",
         "#/prefixItems: keyword prefixItems (JSON Schema 2019-09 and later) is not supported"},
        {"{\"properties\":{\"e\":{\"format\":\"email\"}}}",
         "#/properties/e/format: format 'email' is not supported by sluice's JSON Schema "
         "validator (date-time, date and uuid are)"},
        {"{\"pattern\":\"^\\\\d+$\"}",
         "#/pattern: pattern '^\\d+$' has a backslash before a letter or digit"},
        {"{\"pattern\":\"(?=x)\"}", "#/pattern: pattern '(?=x)' has \"(?\""},
        {"{\"pattern\":\"a(\"}",
         "#/pattern: pattern 'a(' is not a POSIX extended regular expression: "},
        {"{\"definitions\":{\"d\":{\"uniqueItems\":true}},\"items\":{\"$ref\":\"#/definitions/"
         "d\"}}",
         "#/definitions/d/uniqueItems"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vfix f;
        int rc = vcompile(&f, cases[i].schema, NULL, 0);
        if (rc != SLUICE_EUNSUPPORTED) fprintf(stderr, "case %zu: rc %d %s\n", i, rc, f.err.msg);
        CHECK_EQ(rc, SLUICE_EUNSUPPORTED);
        CHECK_CONTAINS(f.err.msg, cases[i].msg);
        vfree(&f);
    }
    /* In a referenced document: its name leads the place. */
    const char *dep = "{\"type\":\"object\",\"properties\":{\"zip\":{\"anyOf\":[true]}}}";
    json_schema_source deps[] = {{"refs/address.json", dep, strlen(dep)}};
    vfix f;
    CHECK_EQ(vcompile(&f, "{\"properties\":{\"a\":{\"$ref\":\"refs/address.json\"}}}", deps, 1),
             SLUICE_EUNSUPPORTED);
    CHECK_CONTAINS(f.err.msg, "refs/address.json#/properties/zip/anyOf: keyword anyOf");
    vfree(&f);
    /* Unreachable definitions do not matter; annotations are fine. */
    CHECK_EQ(vcompile(&f,
                      "{\"definitions\":{\"unused\":{\"anyOf\":[true]}},\"description\":\"d\","
                      "\"examples\":[1],\"default\":{},\"$comment\":\"c\",\"readOnly\":true}",
                      NULL, 0),
             0);
    vfree(&f);
}

/* ---- the same verdicts as python3-jsonschema ---- */

static const struct {
    const char *schema, *value;
} pairs[] = {
    {"{\"type\":\"integer\"}", "1"},
    {"{\"type\":\"integer\"}", "1.0"},
    {"{\"type\":\"integer\"}", "1e2"},
    {"{\"type\":\"integer\"}", "1.5"},
    {"{\"type\":\"integer\"}", "\"1\""},
    {"{\"type\":\"integer\"}", "123456789012345678901234567890"},
    {"{\"type\":\"number\"}", "true"},
    {"{\"type\":[\"string\",\"null\"]}", "null"},
    {"{\"type\":[\"string\",\"null\"]}", "0"},
    {"{\"type\":\"boolean\"}", "false"},
    {"{\"type\":\"boolean\"}", "0"},
    {"{\"enum\":[1,\"1\",null]}", "1.0"},
    {"{\"enum\":[1,\"1\",null]}", "\"1\""},
    {"{\"enum\":[1,\"1\",null]}", "2"},
    {"{\"enum\":[[1,{\"a\":null}]]}", "[1,{\"a\":null}]"},
    {"{\"enum\":[[1,{\"a\":null}]]}", "[1,{\"a\":0}]"},
    {"{\"const\":{\"x\":[]}}", "{\"x\":[]}"},
    {"{\"const\":false}", "0"},
    {"{\"minimum\":2,\"maximum\":3}", "2"},
    {"{\"minimum\":2,\"maximum\":3}", "3.0001"},
    {"{\"minimum\":2,\"maximum\":3}", "\"not a number\""},
    {"{\"exclusiveMaximum\":3}", "3"},
    {"{\"exclusiveMaximum\":3}", "2.999"},
    {"{\"minLength\":2,\"maxLength\":3}", "\"é\""},
    {"{\"minLength\":2,\"maxLength\":3}", "\"éé\""},
    {"{\"minLength\":2,\"maxLength\":3}", "\"\\ud83d\\ude00\\ud83d\\ude00\""},
    {"{\"minLength\":2,\"maxLength\":3}", "\"abcd\""},
    {"{\"pattern\":\"b+c\"}", "\"abbbcd\""},
    {"{\"pattern\":\"^b+c$\"}", "\"abbbcd\""},
    {"{\"pattern\":\"^[a-z]{2,3}[.]x$\"}", "\"ab.x\""},
    {"{\"required\":[\"a\",\"b\"]}", "{\"a\":1}"},
    {"{\"required\":[\"a\",\"b\"]}", "{\"b\":null,\"a\":1}"},
    {"{\"required\":[\"a\"]}", "[]"},
    {"{\"properties\":{\"a\":{\"type\":\"string\"}},\"additionalProperties\":false}",
     "{\"a\":\"x\"}"},
    {"{\"properties\":{\"a\":{\"type\":\"string\"}},\"additionalProperties\":false}",
     "{\"a\":\"x\",\"b\":1}"},
    {"{\"properties\":{\"a\":{\"type\":\"string\"}},\"additionalProperties\":{\"type\":"
     "\"integer\"}}",
     "{\"a\":\"x\",\"b\":1,\"c\":2}"},
    {"{\"properties\":{\"a\":{\"type\":\"string\"}},\"additionalProperties\":{\"type\":"
     "\"integer\"}}",
     "{\"b\":\"y\"}"},
    {"{\"required\":[\"z\"],\"properties\":{\"a\":true},\"additionalProperties\":false}",
     "{\"z\":1}"},
    {"{\"items\":{\"type\":\"string\"},\"minItems\":1}", "[]"},
    {"{\"items\":{\"type\":\"string\"},\"minItems\":1}", "[\"a\",\"b\"]"},
    {"{\"items\":{\"type\":\"string\"},\"maxItems\":1}", "[\"a\",\"b\"]"},
    {"{\"items\":[{\"type\":\"string\"},{\"type\":\"number\"}]}", "[\"a\",1,null]"},
    {"{\"items\":[{\"type\":\"string\"},{\"type\":\"number\"}]}", "[1]"},
    {"{\"items\":[{\"type\":\"string\"},{\"type\":\"number\"}]}", "{\"not\":\"an array\"}"},
    {"{\"$ref\":\"#/definitions/a\",\"definitions\":{\"a\":{\"type\":\"string\"}}}", "\"x\""},
    {"{\"$ref\":\"#/definitions/a\",\"definitions\":{\"a\":{\"type\":\"string\"}}}", "2"},
    {"{\"properties\":{\"n\":{\"$ref\":\"#\"},\"v\":{\"type\":\"integer\"}}}",
     "{\"n\":{\"n\":{\"v\":1}}}"},
    {"{\"properties\":{\"n\":{\"$ref\":\"#\"},\"v\":{\"type\":\"integer\"}}}",
     "{\"n\":{\"n\":{\"v\":\"1\"}}}"},
    {"{\"type\":\"object\",\"properties\":{\"a\":false}}", "{\"a\":null}"},
    {"{\"type\":\"object\",\"properties\":{\"a\":false}}", "{\"b\":null}"},
    {"{\"type\":\"string\",\"maxLength\":1,\"title\":\"t\"}", "\"\""},
};

static void test_same_verdicts_as_python_jsonschema(void)
{
    if (access("/usr/bin/python3", X_OK) != 0) {
        fprintf(stderr, "/usr/bin/python3 missing: run scripts/setup.sh\n");
        CHECK(0);
    }
    char *in = NULL;
    size_t in_len = 0;
    FILE *mem = open_memstream(&in, &in_len);
    CHECK(mem);
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        fprintf(mem, "%s\n%s\n", pairs[i].schema, pairs[i].value);
    fclose(mem);
    char path[] = "/tmp/sluice-jsv-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, in, in_len), (long long)in_len);
    close(fd);
    free(in);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import json, sys, jsonschema\n"
             "lines = open(sys.argv[1]).read().split(\"\\n\")\n"
             "for i in range(0, len(lines) - 1, 2):\n"
             "    v = jsonschema.Draft7Validator(json.loads(lines[i]))\n"
             "    print(1 if v.is_valid(json.loads(lines[i + 1])) else 0)\n' %s",
             path);
    FILE *py = popen(cmd, "r");
    CHECK(py);
    char verdicts[256] = "";
    size_t n = fread(verdicts, 1, sizeof verdicts - 1, py);
    int status = pclose(py);
    unlink(path);
    CHECK_EQ(status, 0);
    verdicts[n] = '\0';
    size_t k = 0;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++, k += 2) {
        CHECK(k + 1 < n && verdicts[k + 1] == '\n');
        int theirs = verdicts[k] == '1';
        vfix f;
        CHECK_EQ(vcompile(&f, pairs[i].schema, NULL, 0), 0);
        int ours = vrun(&f, pairs[i].value);
        if ((ours == 0) != theirs)
            fprintf(stderr, "pair %zu: %s on %s: python says %s, sluice %d (%s)\n", i,
                    pairs[i].schema, pairs[i].value, theirs ? "valid" : "invalid", ours,
                    err_at(&f, 0));
        CHECK(ours == 0 || ours == SLUICE_EINVAL);
        CHECK_EQ(ours == 0, theirs);
        vfree(&f);
    }
}

TEST_MAIN(T(test_valid_values_pass), T(test_every_problem_is_named),
          T(test_malformed_json_and_the_error_bound), T(test_refs_recursion_and_boolean_schemas),
          T(test_keywords_outside_the_subset_are_refused),
          T(test_same_verdicts_as_python_jsonschema))
