/*
 * test_json_schema_compat.c — json_schema_compatible
 * (src/codec/json_schema_compat.c): Confluent Schema Registry's JSON Schema
 * rules, one table row per difference kind of its diff package that sluice
 * implements (properties against open, closed and partially open content
 * models, required, types, additionalProperties, bounds, enums, unions and
 * combinators, arrays and tuples, not), compatible and incompatible, plus
 * `$ref`s, recursion and references.
 *
 * A row is (original, update, expected): NULL means compatible, otherwise a
 * piece of the reason (the difference kind and its path). The registry asks
 * BACKWARD as (original = old, update = new); the seven levels over these
 * rules are in test_registry_compat.c.
 */
#include "codec/json_schema_compat.h"

#include "test.h"

struct compat_case {
    const char *original, *update, *expect;
};

#define OBJ(props) "{\"type\":\"object\",\"properties\":{" props "}}"
#define OBJ_REQ(props, req)                                                                        \
    "{\"type\":\"object\",\"properties\":{" props "},\"required\":[" req "]}"
#define CLOSED(props)                                                                              \
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" props "}}"
#define CLOSED_REQ(props, req)                                                                     \
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" props                   \
    "},\"required\":[" req "]}"
#define STR "{\"type\":\"string\"}"
#define INT "{\"type\":\"integer\"}"
#define NUM "{\"type\":\"number\"}"

static const struct compat_case rules[] = {
    {OBJ("\"a\":" STR), OBJ("\"a\":" STR), NULL},
    /* annotations: ID/TITLE/DESCRIPTION/DEFAULT_CHANGED are compatible */
    {"{\"type\":\"string\",\"title\":\"a\",\"description\":\"x\",\"default\":\"p\",\"$id\":\"#a\"}",
     "{\"type\":\"string\",\"title\":\"b\",\"description\":\"y\",\"default\":\"q\",\"$id\":\"#b\"}",
     NULL},
    /* TYPE_CHANGED, TYPE_EXTENDED, TYPE_NARROWED */
    {STR, INT, "TYPE_CHANGED at #: the type changed from string to number"},
    {OBJ("\"a\":" STR), OBJ("\"a\":{\"type\":\"boolean\"}"),
     "TYPE_CHANGED at #/properties/a: the type changed from string to boolean"},
    {INT, NUM, NULL},
    {NUM, INT, "TYPE_NARROWED at #: the type was narrowed from number to integer"},
    /* anything goes into `true`; `false` becomes anything */
    {STR, "{}", NULL},
    {STR, "true", NULL},
    {"false", STR, NULL},
    /* strings */
    {"{\"type\":\"string\",\"maxLength\":5}", "{\"type\":\"string\",\"maxLength\":9}", NULL},
    {"{\"type\":\"string\",\"maxLength\":5}", STR, NULL},
    {STR, "{\"type\":\"string\",\"maxLength\":5}", "MAX_LENGTH_ADDED at #/maxLength"},
    {"{\"type\":\"string\",\"maxLength\":9}", "{\"type\":\"string\",\"maxLength\":5}",
     "MAX_LENGTH_DECREASED at #/maxLength: maxLength changed from 9 to 5"},
    {"{\"type\":\"string\",\"minLength\":5}", "{\"type\":\"string\",\"minLength\":1}", NULL},
    {"{\"type\":\"string\",\"minLength\":5}", STR, NULL},
    {STR, "{\"type\":\"string\",\"minLength\":1}", "MIN_LENGTH_ADDED at #/minLength"},
    {"{\"type\":\"string\",\"minLength\":1}", "{\"type\":\"string\",\"minLength\":2}",
     "MIN_LENGTH_INCREASED"},
    {"{\"type\":\"string\",\"pattern\":\"^a\"}", STR, NULL},
    {STR, "{\"type\":\"string\",\"pattern\":\"^a\"}", "PATTERN_ADDED at #/pattern"},
    {"{\"type\":\"string\",\"pattern\":\"^a\"}", "{\"type\":\"string\",\"pattern\":\"^b\"}",
     "PATTERN_CHANGED at #/pattern: pattern changed from '^a' to '^b'"},
    /* numbers */
    {"{\"type\":\"number\",\"maximum\":5}", "{\"type\":\"number\",\"maximum\":9}", NULL},
    {"{\"type\":\"number\",\"maximum\":5}", NUM, NULL},
    {NUM, "{\"type\":\"number\",\"maximum\":5}", "MAXIMUM_ADDED at #/maximum"},
    {"{\"type\":\"number\",\"maximum\":9}", "{\"type\":\"number\",\"maximum\":5}",
     "MAXIMUM_DECREASED"},
    {"{\"type\":\"number\",\"minimum\":5}", "{\"type\":\"number\",\"minimum\":1}", NULL},
    {"{\"type\":\"number\",\"minimum\":5}", NUM, NULL},
    {NUM, "{\"type\":\"number\",\"minimum\":0}", "MINIMUM_ADDED at #/minimum"},
    {"{\"type\":\"number\",\"minimum\":1}", "{\"type\":\"number\",\"minimum\":2}",
     "MINIMUM_INCREASED"},
    {"{\"type\":\"number\",\"exclusiveMaximum\":5}", "{\"type\":\"number\",\"exclusiveMaximum\":9}",
     NULL},
    {"{\"type\":\"number\",\"exclusiveMaximum\":9}", "{\"type\":\"number\",\"exclusiveMaximum\":5}",
     "EXCLUSIVE_MAXIMUM_DECREASED at #/exclusiveMaximum"},
    {NUM, "{\"type\":\"number\",\"exclusiveMinimum\":0}", "EXCLUSIVE_MINIMUM_ADDED"},
    {"{\"type\":\"number\",\"exclusiveMinimum\":1}", "{\"type\":\"number\",\"exclusiveMinimum\":0}",
     NULL},
    {"{\"type\":\"number\",\"multipleOf\":4}", "{\"type\":\"number\",\"multipleOf\":2}", NULL},
    {"{\"type\":\"number\",\"multipleOf\":2}", NUM, NULL},
    {NUM, "{\"type\":\"number\",\"multipleOf\":2}", "MULTIPLE_OF_ADDED at #/multipleOf"},
    {"{\"type\":\"number\",\"multipleOf\":2}", "{\"type\":\"number\",\"multipleOf\":4}",
     "MULTIPLE_OF_EXPANDED"},
    {"{\"type\":\"number\",\"multipleOf\":2}", "{\"type\":\"number\",\"multipleOf\":3}",
     "MULTIPLE_OF_CHANGED"},
    {"{\"type\":\"number\",\"multipleOf\":0.02}", "{\"type\":\"number\",\"multipleOf\":0.01}",
     NULL},
    /* required */
    {OBJ_REQ("\"a\":" STR, "\"a\""), OBJ("\"a\":" STR), NULL},
    {OBJ("\"a\":" STR), OBJ_REQ("\"a\":" STR, "\"a\""),
     "REQUIRED_ATTRIBUTE_ADDED at #/required/a: property 'a' became required without a default"},
    {OBJ("\"a\":" STR), OBJ_REQ("\"a\":{\"type\":\"string\",\"default\":\"x\"}", "\"a\""), NULL},
    /* properties against an open content model */
    {OBJ("\"a\":" STR ","
         "\"b\":" STR),
     OBJ("\"a\":" STR), NULL},
    {OBJ("\"a\":" STR),
     OBJ("\"a\":" STR ","
         "\"b\":" STR),
     "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL at #/properties/b"},
    {OBJ("\"a\":" STR),
     OBJ("\"a\":" STR ","
         "\"b\":{}"),
     NULL},
    /* ... against a closed one */
    {CLOSED("\"a\":" STR),
     CLOSED("\"a\":" STR ","
            "\"b\":" STR),
     NULL},
    {CLOSED("\"a\":" STR),
     CLOSED_REQ("\"a\":" STR ","
                "\"b\":" STR,
                "\"b\""),
     "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL at #/properties/b: required property 'b' "
     "was added without a default"},
    {CLOSED("\"a\":" STR),
     CLOSED_REQ("\"a\":" STR ","
                "\"b\":{\"type\":\"string\",\"default\":\"\"}",
                "\"b\""),
     NULL},
    {CLOSED("\"a\":" STR ","
            "\"b\":" STR),
     CLOSED("\"a\":" STR), "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL at #/properties/b"},
    {CLOSED("\"a\":" STR ","
            "\"b\":false"),
     CLOSED("\"a\":" STR), NULL},
    /* ... against a partially open one (patternProperties / additionalProperties schema) */
    {"{\"type\":\"object\",\"properties\":{\"a\":" STR "},\"additionalProperties\":" STR "}",
     "{\"type\":\"object\",\"properties\":{\"a\":" STR ",\"b\":" STR
     "},\"additionalProperties\":" STR "}",
     NULL},
    {"{\"type\":\"object\",\"properties\":{\"a\":" STR "},\"additionalProperties\":" STR "}",
     "{\"type\":\"object\",\"properties\":{\"a\":" STR ",\"b\":" INT
     "},\"additionalProperties\":" STR "}",
     "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL at #/properties/b"},
    {"{\"type\":\"object\",\"properties\":{\"x_1\":" STR "},\"patternProperties\":{\"^x_\":" STR
     "},\"additionalProperties\":false}",
     "{\"type\":\"object\",\"patternProperties\":{\"^x_\":" STR "},\"additionalProperties\":false}",
     NULL},
    {"{\"type\":\"object\",\"properties\":{\"x_1\":" INT "},\"patternProperties\":{\"^x_\":" STR
     "},\"additionalProperties\":false}",
     "{\"type\":\"object\",\"patternProperties\":{\"^x_\":" STR "},\"additionalProperties\":false}",
     "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL at #/properties/x_1"},
    /* additionalProperties */
    {CLOSED("\"a\":" STR), OBJ("\"a\":" STR), NULL},
    {OBJ("\"a\":" STR), CLOSED("\"a\":" STR),
     "ADDITIONAL_PROPERTIES_REMOVED at #/additionalProperties"},
    {OBJ("\"a\":" STR),
     "{\"type\":\"object\",\"properties\":{\"a\":" STR "},\"additionalProperties\":" STR "}",
     "ADDITIONAL_PROPERTIES_NARROWED at #/additionalProperties"},
    {"{\"type\":\"object\",\"properties\":{\"a\":" STR "},\"additionalProperties\":" STR "}",
     OBJ("\"a\":" STR), NULL},
    {"{\"type\":\"object\",\"additionalProperties\":" STR "}",
     "{\"type\":\"object\",\"additionalProperties\":" INT "}",
     "TYPE_CHANGED at #/additionalProperties"},
    /* dependencies */
    {"{\"type\":\"object\",\"dependencies\":{\"a\":[\"b\",\"c\"]}}",
     "{\"type\":\"object\",\"dependencies\":{\"a\":[\"b\"]}}", NULL},
    {"{\"type\":\"object\",\"dependencies\":{\"a\":[\"b\"]}}",
     "{\"type\":\"object\",\"dependencies\":{\"a\":[\"b\",\"c\"]}}",
     "DEPENDENCY_ARRAY_EXTENDED at #/dependencies/a"},
    {"{\"type\":\"object\"}", "{\"type\":\"object\",\"dependencies\":{\"a\":[\"b\"]}}",
     "DEPENDENCY_ARRAY_ADDED at #/dependencies/a"},
    {"{\"type\":\"object\",\"dependencies\":{\"a\":[\"b\"]}}", "{\"type\":\"object\"}", NULL},
    {"{\"type\":\"object\"}", "{\"type\":\"object\",\"dependencies\":{\"a\":" STR "}}",
     "DEPENDENCY_SCHEMA_ADDED"},
    /* min/maxProperties */
    {"{\"type\":\"object\"}", "{\"type\":\"object\",\"maxProperties\":3}", "MAX_PROPERTIES_ADDED"},
    {"{\"type\":\"object\",\"maxProperties\":3}", "{\"type\":\"object\",\"maxProperties\":5}",
     NULL},
    {"{\"type\":\"object\",\"minProperties\":1}", "{\"type\":\"object\",\"minProperties\":2}",
     "MIN_PROPERTIES_INCREASED"},
    /* enum and const */
    {"{\"enum\":[\"a\",\"b\"]}", "{\"enum\":[\"a\",\"b\",\"c\"]}", NULL},
    {"{\"enum\":[\"a\",\"b\"]}", "{\"enum\":[\"a\"]}",
     "ENUM_ARRAY_NARROWED at #/enum: the enum lost values"},
    {"{\"enum\":[\"a\",\"b\"]}", "{\"enum\":[\"a\",\"c\"]}", "ENUM_ARRAY_CHANGED at #/enum"},
    {"{\"const\":1}", "{\"const\":2}", "ENUM_ARRAY_CHANGED at #/const: const changed from 1 to 2"},
    /* a type plus an enum is an allOf of both, as everit loads it */
    {"{\"type\":\"string\",\"enum\":[\"a\"]}", "{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}",
     NULL},
    {"{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}", "{\"type\":\"string\",\"enum\":[\"a\"]}",
     "COMBINED_TYPE_SUBSCHEMAS_CHANGED at #: only 1 of the allOf subschemas"},
    /* unions */
    {STR, "{\"type\":[\"string\",\"null\"]}", NULL},
    {"{\"type\":[\"string\",\"null\"]}", STR, "TYPE_CHANGED at #: the type changed from combined"},
    {"{\"type\":[\"string\",\"null\",\"integer\"]}", "{\"type\":[\"string\",\"null\"]}",
     "SUM_TYPE_NARROWED at #: anyOf lost subschemas (3 to 2)"},
    {"{\"type\":[\"string\",\"null\"]}", "{\"type\":[\"string\",\"null\",\"integer\"]}", NULL},
    {"{\"oneOf\":[" STR "," INT "]}", "{\"anyOf\":[" STR "," INT "]}", NULL},
    {"{\"anyOf\":[" STR "," INT "]}", "{\"allOf\":[" STR "," INT "]}",
     "COMBINED_TYPE_CHANGED at #: anyOf became allOf"},
    {"{\"oneOf\":[" STR "," INT "]}", "{\"oneOf\":[{\"type\":\"boolean\"},{\"type\":\"null\"}]}",
     "COMBINED_TYPE_SUBSCHEMAS_CHANGED at #: only 0 of the oneOf subschemas"},
    {"{\"allOf\":[" OBJ("\"a\":" STR) "," OBJ("\"b\":" STR) "]}",
     "{\"allOf\":[" OBJ("\"a\":" STR) "]}", NULL},
    {"{\"allOf\":[" OBJ("\"a\":" STR) "]}",
     "{\"allOf\":[" OBJ("\"a\":" STR) "," OBJ("\"b\":" STR) "]}", "PRODUCT_TYPE_EXTENDED"},
    /* not */
    {"{\"not\":" STR "}", "{\"not\":{\"type\":[\"string\",\"null\"]}}",
     "NOT_TYPE_EXTENDED at #/not"},
    {"{\"not\":{\"type\":[\"string\",\"null\"]}}", "{\"not\":" STR "}", NULL},
    /* arrays */
    {"{\"type\":\"array\",\"items\":" STR "}", "{\"type\":\"array\",\"items\":" INT "}",
     "TYPE_CHANGED at #/items"},
    {"{\"type\":\"array\"}", "{\"type\":\"array\",\"items\":" STR "}", "SCHEMA_ADDED at #/items"},
    {"{\"type\":\"array\",\"items\":" STR "}", "{\"type\":\"array\"}", NULL},
    {"{\"type\":\"array\",\"maxItems\":2}", "{\"type\":\"array\",\"maxItems\":4}", NULL},
    {"{\"type\":\"array\"}", "{\"type\":\"array\",\"maxItems\":4}", "MAX_ITEMS_ADDED"},
    {"{\"type\":\"array\",\"minItems\":1}", "{\"type\":\"array\",\"minItems\":2}",
     "MIN_ITEMS_INCREASED"},
    {"{\"type\":\"array\",\"uniqueItems\":true}", "{\"type\":\"array\"}", NULL},
    {"{\"type\":\"array\"}", "{\"type\":\"array\",\"uniqueItems\":true}",
     "UNIQUE_ITEMS_ADDED at #/uniqueItems"},
    /* tuples against closed and open content models */
    {"{\"type\":\"array\",\"items\":[" STR "],\"additionalItems\":false}",
     "{\"type\":\"array\",\"items\":[" STR "," INT "],\"additionalItems\":false}", NULL},
    {"{\"type\":\"array\",\"items\":[" STR "," INT "],\"additionalItems\":false}",
     "{\"type\":\"array\",\"items\":[" STR "],\"additionalItems\":false}",
     "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL at #/items/1"},
    {"{\"type\":\"array\",\"items\":[" STR "]}", "{\"type\":\"array\",\"items\":[" STR "," INT "]}",
     "ITEM_ADDED_TO_OPEN_CONTENT_MODEL at #/items/1"},
    {"{\"type\":\"array\",\"items\":[" STR "," INT "]}", "{\"type\":\"array\",\"items\":[" STR "]}",
     NULL},
    {"{\"type\":\"array\",\"items\":[" STR "],\"additionalItems\":false}",
     "{\"type\":\"array\",\"items\":[" STR "]}", NULL},
    {"{\"type\":\"array\",\"items\":[" STR "]}",
     "{\"type\":\"array\",\"items\":[" STR "],\"additionalItems\":false}",
     "ADDITIONAL_ITEMS_REMOVED at #/additionalItems"},
    {"{\"type\":\"array\",\"items\":[" STR "]}",
     "{\"type\":\"array\",\"items\":[" STR "],\"additionalItems\":" STR "}",
     "ADDITIONAL_ITEMS_NARROWED"},
    /* nested objects report the nested path */
    {OBJ("\"o\":" OBJ("\"x\":" STR)), OBJ("\"o\":" OBJ("\"x\":" INT)),
     "TYPE_CHANGED at #/properties/o/properties/x"},
};

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
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
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
