/*
 * test_json_schema_compat.c — json_schema_compatible
 * (src/codec/json_schema_compat.c): Confluent Schema Registry's JSON Schema
 * rules, one table row per difference kind of its diff package that sluice
 * implements (properties against open, closed and partially open content
 * models, required, types, additionalProperties, bounds, enums, unions and
 * combinators, arrays and tuples, not), compatible and incompatible, plus
 * `$ref`s, recursion and references.
 *
 * The rows are in json_schema_compat_rules.h: (original, update, expected,
 * reverse) — expected NULL means compatible, otherwise a piece of the
 * reason (the difference kind and its path); reverse is the verdict with
 * the two swapped. The registry asks BACKWARD as (original = old, update =
 * new); the seven levels over these rules are in test_registry_compat.c.
 */
#include "codec/json_schema_compat.h"

#include "test.h"

#include "json_schema_compat_rules.h"

static json_schema *parse(const char *text, const json_schema_source *deps, size_t n)
{
    json_schema *s = NULL;
    sluice_error err;
    if (json_schema_parse(text, strlen(text), deps, n, &s, &err) != 0) {
        fprintf(stderr, "does not parse: %s\n  %s\n", err.msg, text);
        return NULL;
    }
    return s;
}

static void test_rules_table(void)
{
    const struct json_compat_case *rules = json_schema_rules;
    for (size_t i = 0; i < sizeof json_schema_rules / sizeof json_schema_rules[0]; i++) {
        json_schema *o = parse(rules[i].original, NULL, 0);
        json_schema *u = parse(rules[i].update, NULL, 0);
        CHECK(o && u);
        char reason[1024];
        sluice_error err;
        int rc = json_schema_compatible(o, u, reason, sizeof reason, &err);
        if (rc != (rules[i].expect == NULL) ||
            (rules[i].expect && !strstr(reason, rules[i].expect)))
            fprintf(stderr, "row %zu: rc %d, reason \"%s\", expected %s\n", i, rc, reason,
                    rules[i].expect ? rules[i].expect : "compatible");
        CHECK_EQ(rc, rules[i].expect == NULL);
        if (rules[i].expect) CHECK_CONTAINS(reason, rules[i].expect);
        /* and the other way round */
        rc = json_schema_compatible(u, o, reason, sizeof reason, &err);
        if (rc != rules[i].reverse)
            fprintf(stderr, "row %zu reversed: rc %d, reason \"%s\"\n", i, rc, reason);
        CHECK_EQ(rc, rules[i].reverse);
        json_schema_free(o);
        json_schema_free(u);
    }
}

/* $refs are followed (inside the document and into references), recursive
 * schemas terminate. */
static void test_refs_and_recursion(void)
{
    const char *a = "{\"type\":\"object\",\"properties\":{\"l\":{\"$ref\":\"#/definitions/l\"}},"
                    "\"definitions\":{\"l\":{\"type\":\"string\"}}}";
    const char *b = "{\"type\":\"object\",\"properties\":{\"l\":{\"$ref\":\"#/definitions/l\"}},"
                    "\"definitions\":{\"l\":{\"type\":\"integer\"}}}";
    json_schema *sa = parse(a, NULL, 0), *sb = parse(b, NULL, 0);
    CHECK(sa && sb);
    char reason[512];
    CHECK_EQ(json_schema_compatible(sa, sb, reason, sizeof reason, NULL), 0);
    CHECK_CONTAINS(reason, "TYPE_CHANGED at #/properties/l");
    json_schema_free(sa);
    json_schema_free(sb);

    const char *tree1 = "{\"type\":\"object\",\"properties\":{\"v\":" INT
                        ",\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}}}";
    const char *tree2 = "{\"type\":\"object\",\"properties\":{\"v\":" NUM
                        ",\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}}}";
    json_schema *t1 = parse(tree1, NULL, 0), *t2 = parse(tree2, NULL, 0);
    CHECK(t1 && t2);
    CHECK_EQ(json_schema_compatible(t1, t2, reason, sizeof reason, NULL), 1);
    CHECK_EQ(json_schema_compatible(t2, t1, reason, sizeof reason, NULL), 0);
    CHECK_CONTAINS(reason, "TYPE_NARROWED at #/properties/v");
    json_schema_free(t1);
    json_schema_free(t2);

    const char *addr1 = "{\"type\":\"object\",\"properties\":{\"city\":" STR "}}";
    const char *addr2 = "{\"type\":\"object\",\"properties\":{\"city\":" INT "}}";
    const char *root = "{\"type\":\"object\",\"properties\":{\"home\":{\"$ref\":\"addr.json\"}}}";
    json_schema_source d1[] = {{"addr.json", addr1, strlen(addr1)}};
    json_schema_source d2[] = {{"addr.json", addr2, strlen(addr2)}};
    json_schema *r1 = parse(root, d1, 1), *r2 = parse(root, d2, 1);
    CHECK(r1 && r2);
    CHECK_EQ(json_schema_compatible(r1, r2, reason, sizeof reason, NULL), 0);
    CHECK_CONTAINS(reason, "TYPE_CHANGED at #/properties/home/properties/city");
    json_schema_free(r1);
    json_schema_free(r2);
}

TEST_MAIN(T(test_rules_table), T(test_refs_and_recursion))
