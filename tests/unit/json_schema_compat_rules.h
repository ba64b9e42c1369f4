/*
 * json_schema_compat_rules.h — the table of Confluent's JSON Schema
 * compatibility rules the tests share: one row per difference kind of
 * Confluent's json.diff package that sluice implements, with the verdict in
 * both directions. test_json_schema_compat.c checks each row's reason and
 * both verdicts; test_registry_compat.c runs every row under all seven
 * levels (BACKWARD asks `expect`, FORWARD asks `reverse`).
 */
#ifndef SLUICE_TEST_JSON_SCHEMA_COMPAT_RULES_H
#define SLUICE_TEST_JSON_SCHEMA_COMPAT_RULES_H

#include <stddef.h>

struct json_compat_case {
    const char *original, *update;
    const char *expect; /* compatible(original, update): NULL yes, else a piece of the reason */
    int reverse;        /* compatible(update, original): 1 yes, 0 no */
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

static const struct json_compat_case json_schema_rules[] = {
    {OBJ("\"a\":" STR), OBJ("\"a\":" STR), NULL, 1},
    /* annotations: ID/TITLE/DESCRIPTION/DEFAULT_CHANGED are compatible */
    {"{\"type\":\"string\",\"title\":\"a\",\"description\":\"x\",\"default\":\"p\",\"$id\":\"#a\"}",
     "{\"type\":\"string\",\"title\":\"b\",\"description\":\"y\",\"default\":\"q\",\"$id\":\"#b\"}",
     NULL, 1},
    /* TYPE_CHANGED, TYPE_EXTENDED, TYPE_NARROWED */
    {STR, INT, "TYPE_CHANGED at #: the type changed from string to number", 0},
    {OBJ("\"a\":" STR), OBJ("\"a\":{\"type\":\"boolean\"}"),
     "TYPE_CHANGED at #/properties/a: the type changed from string to boolean", 0},
    {INT, NUM, NULL, 0},
    {NUM, INT, "TYPE_NARROWED at #: the type was narrowed from number to integer", 1},
    /* anything goes into `true`; `false` becomes anything */
    {STR, "{}", NULL, 0},
    {STR, "true", NULL, 0},
    {"false", STR, NULL, 0},
    /* strings */
    {"{\"type\":\"string\",\"maxLength\":5}", "{\"type\":\"string\",\"maxLength\":9}", NULL, 0},
    {"{\"type\":\"string\",\"maxLength\":5}", STR, NULL, 0},
    {STR, "{\"type\":\"string\",\"maxLength\":5}", "MAX_LENGTH_ADDED at #/maxLength", 1},
    {"{\"type\":\"string\",\"maxLength\":9}", "{\"type\":\"string\",\"maxLength\":5}",
     "MAX_LENGTH_DECREASED at #/maxLength: maxLength changed from 9 to 5", 1},
    {"{\"type\":\"string\",\"minLength\":5}", "{\"type\":\"string\",\"minLength\":1}", NULL, 0},
    {"{\"type\":\"string\",\"minLength\":5}", STR, NULL, 0},
    {STR, "{\"type\":\"string\",\"minLength\":1}", "MIN_LENGTH_ADDED at #/minLength", 1},
    {"{\"type\":\"string\",\"minLength\":1}", "{\"type\":\"string\",\"minLength\":2}",
     "MIN_LENGTH_INCREASED", 1},
    {"{\"type\":\"string\",\"pattern\":\"^a\"}", STR, NULL, 0},
    {STR, "{\"type\":\"string\",\"pattern\":\"^a\"}", "PATTERN_ADDED at #/pattern", 1},
    {"{\"type\":\"string\",\"pattern\":\"^a\"}", "{\"type\":\"string\",\"pattern\":\"^b\"}",
     "PATTERN_CHANGED at #/pattern: pattern changed from '^a' to '^b'", 0},
    /* numbers */
    {"{\"type\":\"number\",\"maximum\":5}", "{\"type\":\"number\",\"maximum\":9}", NULL, 0},
    {"{\"type\":\"number\",\"maximum\":5}", NUM, NULL, 0},
    {NUM, "{\"type\":\"number\",\"maximum\":5}", "MAXIMUM_ADDED at #/maximum", 1},
    {"{\"type\":\"number\",\"maximum\":9}", "{\"type\":\"number\",\"maximum\":5}",
     "MAXIMUM_DECREASED", 1},
    {"{\"type\":\"number\",\"minimum\":5}", "{\"type\":\"number\",\"minimum\":1}", NULL, 0},
    {"{\"type\":\"number\",\"minimum\":5}", NUM, NULL, 0},
    {NUM, "{\"type\":\"number\",\"minimum\":0}", "MINIMUM_ADDED at #/minimum", 1},
    {"{\"type\":\"number\",\"minimum\":1}", "{\"type\":\"number\",\"minimum\":2}",
     "MINIMUM_INCREASED", 1},
    {"{\"type\":\"number\",\"exclusiveMaximum\":5}", "{\"type\":\"number\",\"exclusiveMaximum\":9}",
     NULL, 0},
    {"{\"type\":\"number\",\"exclusiveMaximum\":9}", "{\"type\":\"number\",\"exclusiveMaximum\":5}",
     "EXCLUSIVE_MAXIMUM_DECREASED at #/exclusiveMaximum", 1},
    {NUM, "{\"type\":\"number\",\"exclusiveMinimum\":0}", "EXCLUSIVE_MINIMUM_ADDED", 1},
    {"{\"type\":\"number\",\"exclusiveMinimum\":1}", "{\"type\":\"number\",\"exclusiveMinimum\":0}",
     NULL, 0},
    {"{\"type\":\"number\",\"multipleOf\":4}", "{\"type\":\"number\",\"multipleOf\":2}", NULL, 0},
    {"{\"type\":\"number\",\"multipleOf\":2}", NUM, NULL, 0},
    {NUM, "{\"type\":\"number\",\"multipleOf\":2}", "MULTIPLE_OF_ADDED at #/multipleOf", 1},
    {"{\"type\":\"number\",\"multipleOf\":2}", "{\"type\":\"number\",\"multipleOf\":4}",
     "MULTIPLE_OF_EXPANDED", 1},
    {"{\"type\":\"number\",\"multipleOf\":2}", "{\"type\":\"number\",\"multipleOf\":3}",
     "MULTIPLE_OF_CHANGED", 0},
    {"{\"type\":\"number\",\"multipleOf\":0.02}", "{\"type\":\"number\",\"multipleOf\":0.01}", NULL,
     0},
    /* required */
    {OBJ_REQ("\"a\":" STR, "\"a\""), OBJ("\"a\":" STR), NULL, 0},
    {OBJ("\"a\":" STR), OBJ_REQ("\"a\":" STR, "\"a\""),
     "REQUIRED_ATTRIBUTE_ADDED at #/required/a: property 'a' became required without a default", 1},
    {OBJ("\"a\":" STR), OBJ_REQ("\"a\":{\"type\":\"string\",\"default\":\"x\"}", "\"a\""), NULL, 1},
    /* properties against an open content model */
    {OBJ("\"a\":" STR ","
         "\"b\":" STR),
     OBJ("\"a\":" STR), NULL, 0},
    {OBJ("\"a\":" STR),
     OBJ("\"a\":" STR ","
         "\"b\":" STR),
     "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL at #/properties/b", 1},
    {OBJ("\"a\":" STR),
     OBJ("\"a\":" STR ","
         "\"b\":{}"),
     NULL, 1},
    /* ... against a closed one */
    {CLOSED("\"a\":" STR),
     CLOSED("\"a\":" STR ","
            "\"b\":" STR),
     NULL, 0},
    {CLOSED("\"a\":" STR),
     CLOSED_REQ("\"a\":" STR ","
                "\"b\":" STR,
                "\"b\""),
     "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL at #/properties/b: required property 'b' "
     "was added without a default",
     0},
    {CLOSED("\"a\":" STR),
     CLOSED_REQ("\"a\":" STR ","
                "\"b\":{\"type\":\"string\",\"default\":\"\"}",
                "\"b\""),
     NULL, 0},
    {CLOSED("\"a\":" STR ","
            "\"b\":" STR),
     CLOSED("\"a\":" STR), "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL at #/properties/b", 1},
    {CLOSED("\"a\":" STR ","
            "\"b\":false"),
     CLOSED("\"a\":" STR), NULL, 1},
    /* ... against a partially open one (patternProperties / additionalProperties schema) */
    {"{\"type\":\"object\",\"properties\":{\"a\":" STR "},\"additionalProperties\":" STR "}",
     "{\"type\":\"object\",\"properties\":{\"a\":" STR ",\"b\":" STR
     "},\"additionalProperties\":" STR "}",
     NULL, 1},
    {"{\"type\":\"object\",\"properties\":{\"a\":" STR "},\"additionalProperties\":" STR "}",
     "{\"type\":\"object\",\"properties\":{\"a\":" STR ",\"b\":" INT
     "},\"additionalProperties\":" STR "}",
     "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL at #/properties/b", 0},
    {"{\"type\":\"object\",\"properties\":{\"x_1\":" STR "},\"patternProperties\":{\"^x_\":" STR
     "},\"additionalProperties\":false}",
     "{\"type\":\"object\",\"patternProperties\":{\"^x_\":" STR "},\"additionalProperties\":false}",
     NULL, 1},
    {"{\"type\":\"object\",\"properties\":{\"x_1\":" INT "},\"patternProperties\":{\"^x_\":" STR
     "},\"additionalProperties\":false}",
     "{\"type\":\"object\",\"patternProperties\":{\"^x_\":" STR "},\"additionalProperties\":false}",
     "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL at #/properties/x_1", 0},
    /* additionalProperties */
    {CLOSED("\"a\":" STR), OBJ("\"a\":" STR), NULL, 0},
    {OBJ("\"a\":" STR), CLOSED("\"a\":" STR),
     "ADDITIONAL_PROPERTIES_REMOVED at #/additionalProperties", 1},
    {OBJ("\"a\":" STR),
     "{\"type\":\"object\",\"properties\":{\"a\":" STR "},\"additionalProperties\":" STR "}",
     "ADDITIONAL_PROPERTIES_NARROWED at #/additionalProperties", 1},
    {"{\"type\":\"object\",\"properties\":{\"a\":" STR "},\"additionalProperties\":" STR "}",
     OBJ("\"a\":" STR), NULL, 0},
    {"{\"type\":\"object\",\"additionalProperties\":" STR "}",
     "{\"type\":\"object\",\"additionalProperties\":" INT "}",
     "TYPE_CHANGED at #/additionalProperties", 0},
    /* dependencies */
    {"{\"type\":\"object\",\"dependencies\":{\"a\":[\"b\",\"c\"]}}",
     "{\"type\":\"object\",\"dependencies\":{\"a\":[\"b\"]}}", NULL, 0},
    {"{\"type\":\"object\",\"dependencies\":{\"a\":[\"b\"]}}",
     "{\"type\":\"object\",\"dependencies\":{\"a\":[\"b\",\"c\"]}}",
     "DEPENDENCY_ARRAY_EXTENDED at #/dependencies/a", 1},
    {"{\"type\":\"object\"}", "{\"type\":\"object\",\"dependencies\":{\"a\":[\"b\"]}}",
     "DEPENDENCY_ARRAY_ADDED at #/dependencies/a", 1},
    {"{\"type\":\"object\",\"dependencies\":{\"a\":[\"b\"]}}", "{\"type\":\"object\"}", NULL, 0},
    {"{\"type\":\"object\"}", "{\"type\":\"object\",\"dependencies\":{\"a\":" STR "}}",
     "DEPENDENCY_SCHEMA_ADDED", 1},
    /* min/maxProperties */
    {"{\"type\":\"object\"}", "{\"type\":\"object\",\"maxProperties\":3}", "MAX_PROPERTIES_ADDED",
     1},
    {"{\"type\":\"object\",\"maxProperties\":3}", "{\"type\":\"object\",\"maxProperties\":5}", NULL,
     0},
    {"{\"type\":\"object\",\"minProperties\":1}", "{\"type\":\"object\",\"minProperties\":2}",
     "MIN_PROPERTIES_INCREASED", 1},
    /* enum and const */
    {"{\"enum\":[\"a\",\"b\"]}", "{\"enum\":[\"a\",\"b\",\"c\"]}", NULL, 0},
    {"{\"enum\":[\"a\",\"b\"]}", "{\"enum\":[\"a\"]}",
     "ENUM_ARRAY_NARROWED at #/enum: the enum lost values", 1},
    {"{\"enum\":[\"a\",\"b\"]}", "{\"enum\":[\"a\",\"c\"]}", "ENUM_ARRAY_CHANGED at #/enum", 0},
    {"{\"const\":1}", "{\"const\":2}", "ENUM_ARRAY_CHANGED at #/const: const changed from 1 to 2",
     0},
    /* a type plus an enum is an allOf of both, as everit loads it */
    {"{\"type\":\"string\",\"enum\":[\"a\"]}", "{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}", NULL,
     0},
    {"{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}", "{\"type\":\"string\",\"enum\":[\"a\"]}",
     "COMBINED_TYPE_SUBSCHEMAS_CHANGED at #: only 1 of the allOf subschemas", 1},
    /* unions */
    {STR, "{\"type\":[\"string\",\"null\"]}", NULL, 0},
    {"{\"type\":[\"string\",\"null\"]}", STR, "TYPE_CHANGED at #: the type changed from combined",
     1},
    {"{\"type\":[\"string\",\"null\",\"integer\"]}", "{\"type\":[\"string\",\"null\"]}",
     "SUM_TYPE_NARROWED at #: anyOf lost subschemas (3 to 2)", 1},
    {"{\"type\":[\"string\",\"null\"]}", "{\"type\":[\"string\",\"null\",\"integer\"]}", NULL, 0},
    {"{\"oneOf\":[" STR "," INT "]}", "{\"anyOf\":[" STR "," INT "]}", NULL, 0},
    {"{\"anyOf\":[" STR "," INT "]}", "{\"allOf\":[" STR "," INT "]}",
     "COMBINED_TYPE_CHANGED at #: anyOf became allOf", 1},
    {"{\"oneOf\":[" STR "," INT "]}", "{\"oneOf\":[{\"type\":\"boolean\"},{\"type\":\"null\"}]}",
     "COMBINED_TYPE_SUBSCHEMAS_CHANGED at #: only 0 of the oneOf subschemas", 0},
    {"{\"allOf\":[" OBJ("\"a\":" STR) "," OBJ("\"b\":" STR) "]}",
     "{\"allOf\":[" OBJ("\"a\":" STR) "]}", NULL, 0},
    {"{\"allOf\":[" OBJ("\"a\":" STR) "]}",
     "{\"allOf\":[" OBJ("\"a\":" STR) "," OBJ("\"b\":" STR) "]}", "PRODUCT_TYPE_EXTENDED", 1},
    /* not */
    {"{\"not\":" STR "}", "{\"not\":{\"type\":[\"string\",\"null\"]}}",
     "NOT_TYPE_EXTENDED at #/not", 1},
    {"{\"not\":{\"type\":[\"string\",\"null\"]}}", "{\"not\":" STR "}", NULL, 0},
    /* arrays */
    {"{\"type\":\"array\",\"items\":" STR "}", "{\"type\":\"array\",\"items\":" INT "}",
     "TYPE_CHANGED at #/items", 0},
    {"{\"type\":\"array\"}", "{\"type\":\"array\",\"items\":" STR "}", "SCHEMA_ADDED at #/items",
     1},
    {"{\"type\":\"array\",\"items\":" STR "}", "{\"type\":\"array\"}", NULL, 0},
    {"{\"type\":\"array\",\"maxItems\":2}", "{\"type\":\"array\",\"maxItems\":4}", NULL, 0},
    {"{\"type\":\"array\"}", "{\"type\":\"array\",\"maxItems\":4}", "MAX_ITEMS_ADDED", 1},
    {"{\"type\":\"array\",\"minItems\":1}", "{\"type\":\"array\",\"minItems\":2}",
     "MIN_ITEMS_INCREASED", 1},
    {"{\"type\":\"array\",\"uniqueItems\":true}", "{\"type\":\"array\"}", NULL, 0},
    {"{\"type\":\"array\"}", "{\"type\":\"array\",\"uniqueItems\":true}",
     "UNIQUE_ITEMS_ADDED at #/uniqueItems", 1},
    /* tuples against closed and open content models */
    {"{\"type\":\"array\",\"items\":[" STR "],\"additionalItems\":false}",
     "{\"type\":\"array\",\"items\":[" STR "," INT "],\"additionalItems\":false}", NULL, 0},
    {"{\"type\":\"array\",\"items\":[" STR "," INT "],\"additionalItems\":false}",
     "{\"type\":\"array\",\"items\":[" STR "],\"additionalItems\":false}",
     "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL at #/items/1", 1},
    {"{\"type\":\"array\",\"items\":[" STR "]}", "{\"type\":\"array\",\"items\":[" STR "," INT "]}",
     "ITEM_ADDED_TO_OPEN_CONTENT_MODEL at #/items/1", 1},
    {"{\"type\":\"array\",\"items\":[" STR "," INT "]}", "{\"type\":\"array\",\"items\":[" STR "]}",
     NULL, 0},
    {"{\"type\":\"array\",\"items\":[" STR "],\"additionalItems\":false}",
     "{\"type\":\"array\",\"items\":[" STR "]}", NULL, 0},
    {"{\"type\":\"array\",\"items\":[" STR "]}",
     "{\"type\":\"array\",\"items\":[" STR "],\"additionalItems\":false}",
     "ADDITIONAL_ITEMS_REMOVED at #/additionalItems", 1},
    {"{\"type\":\"array\",\"items\":[" STR "]}",
     "{\"type\":\"array\",\"items\":[" STR "],\"additionalItems\":" STR "}",
     "ADDITIONAL_ITEMS_NARROWED", 1},
    /* nested objects report the nested path */
    {OBJ("\"o\":" OBJ("\"x\":" STR)), OBJ("\"o\":" OBJ("\"x\":" INT)),
     "TYPE_CHANGED at #/properties/o/properties/x", 0},
};

#endif
