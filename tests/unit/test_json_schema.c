/*
 * test_json_schema.c — the JSON Schema parser (src/codec/json_schema.c):
 * the node model of a draft-07 document (types, properties in order with
 * their required flag, additionalProperties, items and tuples, bounds,
 * enum/const/default, combinators), `$ref` inside the document (pointers,
 * escapes, plain-name anchors, recursion) and into references (by name and
 * by `$id`), the normalised form, and one error case per check, each naming
 * the keyword's JSON pointer (or line and column for JSON syntax).
 */
#include "codec/json_schema.h"

#include "test.h"

static json_schema *parse(const char *text, const json_schema_source *deps, size_t n,
                          sluice_error *err)
{
    json_schema *s = NULL;
    if (json_schema_parse(text, strlen(text), deps, n, &s, err) != 0) return NULL;
    return s;
}

static const json_schema_prop *prop(const json_schema_node *n, const char *name)
{
    for (size_t i = 0; i < n->n_props; i++)
        if (strcmp(n->props[i].name, name) == 0) return &n->props[i];
    return NULL;
}

static const char *ORDER =
    "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"title\":\"Order\","
    "\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"id\",\"lines\"],"
    "\"properties\":{"
    "\"id\":{\"type\":\"integer\",\"minimum\":1},"
    "\"note\":{\"type\":[\"string\",\"null\"],\"maxLength\":200,\"default\":null},"
    "\"at\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"state\":{\"enum\":[\"NEW\",\"PAID\"]},"
    "\"lines\":{\"type\":\"array\",\"minItems\":1,\"items\":{\"$ref\":\"#/definitions/line\"}},"
    "\"pair\":{\"type\":\"array\",\"items\":[{\"type\":\"string\"},{\"type\":\"number\"}],"
    "\"additionalItems\":false},"
    "\"kind\":{\"const\":\"order\"},"
    "\"price\":{\"type\":\"number\",\"exclusiveMinimum\":0,\"multipleOf\":0.01}"
    "},"
    "\"definitions\":{\"line\":{\"type\":\"object\",\"properties\":{\"sku\":{\"type\":"
    "\"string\"},\"qty\":{\"type\":\"integer\"}},\"required\":[\"sku\"]}}}";

static void test_model(void)
{
    sluice_error err;
    json_schema *s = parse(ORDER, NULL, 0, &err);
    if (!s) fprintf(stderr, "%s\n", err.msg);
    CHECK(s);
    const json_schema_node *r = json_schema_root(s);
    CHECK_EQ(r->boolean, -1);
    CHECK_EQ(r->types, JSON_SCHEMA_OBJECT);
    CHECK_STR(r->title, "Order");
    CHECK_STR(r->path, "#");
    CHECK(r->additional_properties && r->additional_properties->boolean == 0);
    CHECK_EQ(r->n_props, 8);
    /* document order */
    CHECK_STR(r->props[0].name, "id");
    CHECK_STR(r->props[7].name, "price");
    CHECK(prop(r, "id")->required && prop(r, "lines")->required && !prop(r, "note")->required);
    const json_schema_node *id = prop(r, "id")->schema;
    CHECK_EQ(id->types, JSON_SCHEMA_INTEGER);
    CHECK(id->minimum.has && id->minimum.value == 1);
    CHECK_STR(id->path, "#/properties/id");
    const json_schema_node *note = prop(r, "note")->schema;
    CHECK_EQ(note->types, JSON_SCHEMA_STRING | JSON_SCHEMA_NULL);
    CHECK(note->type_is_list);
    CHECK(note->max_length.has && note->max_length.value == 200);
    CHECK_STR(note->default_value, "null");
    CHECK_STR(prop(r, "at")->schema->format, "date-time");
    const json_schema_node *state = prop(r, "state")->schema;
    CHECK(state->has_enum && state->n_enum == 2);
    CHECK_STR(state->enum_values[1], "\"PAID\"");
    CHECK_EQ(state->types, 0);
    const json_schema_node *lines = prop(r, "lines")->schema;
    CHECK(lines->items && lines->items->ref);
    const json_schema_node *line = json_schema_deref(lines->items);
    CHECK_STR(line->path, "#/definitions/line");
    CHECK(prop(line, "sku")->required && !prop(line, "qty")->required);
    const json_schema_node *pair = prop(r, "pair")->schema;
    CHECK(pair->items_is_tuple && pair->n_tuple_items == 2);
    CHECK_EQ(pair->tuple_items[1]->types, JSON_SCHEMA_NUMBER);
    CHECK(pair->additional_items && pair->additional_items->boolean == 0);
    CHECK_STR(prop(r, "kind")->schema->const_value, "\"order\"");
    const json_schema_node *price = prop(r, "price")->schema;
    CHECK(price->exclusive_minimum.has && price->exclusive_minimum.value == 0);
    CHECK(!price->minimum.has);
    CHECK(price->multiple_of.has);
    json_schema_free(s);
}

static void test_normalized(void)
{
    sluice_error err;
    json_schema *a =
        parse("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}", NULL, 0, &err);
    json_schema *b = parse("{ \"properties\" : { \"a\" : { \"type\" : \"string\" } },\n"
                           "  \"type\" : \"object\" }",
                           NULL, 0, &err);
    CHECK(a && b);
    CHECK_STR(json_schema_normalized(a), json_schema_normalized(b));
    CHECK_STR(json_schema_normalized(a),
              "{\"properties\":{\"a\":{\"type\":\"string\"}},\"type\":\"object\"}");
    json_schema_free(a);
    json_schema_free(b);
    /* boolean schemas are schemas */
    json_schema *t = parse("true", NULL, 0, &err);
    CHECK(t && json_schema_root(t)->boolean == 1);
    CHECK_STR(json_schema_normalized(t), "true");
    json_schema_free(t);
}

static void test_refs_inside(void)
{
    sluice_error err;
    /* recursion, $defs, escaped pointers, plain-name anchors, draft-04 */
    const char *tree =
        "{\"$id\":\"http://example.com/tree.json\",\"type\":\"object\",\"properties\":{"
        "\"value\":{\"type\":\"integer\"},"
        "\"children\":{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}},"
        "\"odd\":{\"$ref\":\"#/$defs/a~1b~0c\"},"
        "\"pct\":{\"$ref\":\"#/$defs/sp%20ace\"},"
        "\"named\":{\"$ref\":\"#leaf\"},"
        "\"abs\":{\"$ref\":\"http://example.com/tree.json#/properties/value\"},"
        "\"deep\":{\"$ref\":\"#/x-vendor/thing\"}},"
        "\"$defs\":{\"a/b~c\":{\"type\":\"boolean\"},\"sp ace\":{\"type\":\"null\"},"
        "\"leaf\":{\"$id\":\"#leaf\",\"type\":\"string\"}},"
        "\"x-vendor\":{\"thing\":{\"type\":\"number\"}}}";
    json_schema *s = parse(tree, NULL, 0, &err);
    if (!s) fprintf(stderr, "%s\n", err.msg);
    CHECK(s);
    const json_schema_node *r = json_schema_root(s);
    CHECK(prop(r, "children")->schema->items->ref == r);
    CHECK_EQ(json_schema_deref(prop(r, "odd")->schema)->types, JSON_SCHEMA_BOOLEAN);
    CHECK_EQ(json_schema_deref(prop(r, "pct")->schema)->types, JSON_SCHEMA_NULL);
    CHECK_EQ(json_schema_deref(prop(r, "named")->schema)->types, JSON_SCHEMA_STRING);
    CHECK(json_schema_deref(prop(r, "abs")->schema) == prop(r, "value")->schema);
    const json_schema_node *deep = json_schema_deref(prop(r, "deep")->schema);
    CHECK_EQ(deep->types, JSON_SCHEMA_NUMBER);
    CHECK_STR(deep->path, "#/x-vendor/thing");
    json_schema_free(s);

    s = parse("{\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"type\":\"number\","
              "\"maximum\":10,\"exclusiveMaximum\":true}",
              NULL, 0, &err);
    CHECK(s);
    CHECK(json_schema_root(s)->exclusive_maximum.has);
    CHECK(!json_schema_root(s)->maximum.has);
    json_schema_free(s);
}

static void test_refs_to_references(void)
{
    const char *address =
        "{\"$id\":\"http://example.com/address.json\",\"type\":\"object\","
        "\"properties\":{\"city\":{\"type\":\"string\"}},"
        "\"definitions\":{\"zip\":{\"type\":\"string\",\"pattern\":\"^[0-9]+$\"}}}";
    const char *root = "{\"$id\":\"http://example.com/customer.json\",\"type\":\"object\","
                       "\"properties\":{"
                       "\"home\":{\"$ref\":\"address.json\"},"
                       "\"zip\":{\"$ref\":\"address.json#/definitions/zip\"},"
                       "\"work\":{\"$ref\":\"http://example.com/address.json\"}}}";
    json_schema_source deps[] = {{"address.json", address, strlen(address)}};
    sluice_error err;
    json_schema *s = parse(root, deps, 1, &err);
    if (!s) fprintf(stderr, "%s\n", err.msg);
    CHECK(s);
    const json_schema_node *r = json_schema_root(s);
    const json_schema_node *home = json_schema_deref(prop(r, "home")->schema);
    CHECK_STR(home->document, "address.json");
    CHECK(prop(home, "city") != NULL);
    CHECK(json_schema_deref(prop(r, "work")->schema) == home);
    CHECK_STR(json_schema_deref(prop(r, "zip")->schema)->pattern, "^[0-9]+$");
    json_schema_free(s);

    /* the reference named by its full URI, used with a relative $ref */
    json_schema_source by_uri[] = {{"http://example.com/address.json", address, strlen(address)}};
    s = parse(root, by_uri, 1, &err);
    CHECK(s);
    json_schema_free(s);
}

struct error_case {
    const char *text, *expect;
};

static void test_errors_name_the_place(void)
{
    static const struct error_case errs[] = {
        {"{\"type\":\"object\",\n \"properties\": {,}}", "line 2 column 17:"},
        {"[1,2]", "#: a schema must be an object or a boolean, got array"},
        {"{\"type\":\"strin\"}", "#/type: unknown type 'strin'"},
        {"{\"type\":[\"string\",\"string\"]}", "#/type/1: type 'string' is listed twice"},
        {"{\"type\":[]}", "#/type: expected a type name or a non-empty array"},
        {"{\"properties\":{\"a\":{\"type\":\"object\",\"properties\":[]}}}",
         "#/properties/a/properties: expected an object of schemas, got array"},
        {"{\"properties\":{\"a\":5}}",
         "#/properties/a: a schema must be an object or a boolean, got number"},
        {"{\"required\":[\"a\",\"a\"]}", "#/required/1: 'a' is listed twice"},
        {"{\"required\":\"a\"}", "#/required: expected an array of property names, got string"},
        {"{\"minLength\":-1}", "#/minLength: expected a non-negative integer"},
        {"{\"maxItems\":1.5}", "#/maxItems: expected a non-negative integer"},
        {"{\"minimum\":\"0\"}", "#/minimum: expected a number, got string"},
        {"{\"multipleOf\":0}", "#/multipleOf: expected a number greater than 0"},
        {"{\"enum\":\"a\"}", "#/enum: expected an array, got string"},
        {"{\"allOf\":[]}", "#/allOf: expected a non-empty array of schemas, got an empty array"},
        {"{\"anyOf\":[{\"type\":1}]}", "#/anyOf/0/type: expected a type name"},
        {"{\"items\":{\"additionalProperties\":7}}",
         "#/items/additionalProperties: a schema must be an object or a boolean, got number"},
        {"{\"uniqueItems\":\"yes\"}", "#/uniqueItems: expected a boolean, got string"},
        {"{\"$ref\":\"#/definitions/nope\"}",
         "#/$ref: cannot resolve '#/definitions/nope': nothing at #/definitions/nope"},
        {"{\"$ref\":\"other.json\"}",
         "#/$ref: cannot resolve 'other.json': no reference is named 'other.json'"},
        {"{\"$ref\":\"#missing\"}",
         "cannot resolve '#missing': no schema has \"$id\": \"#missing\""},
        {"{\"definitions\":{\"a\":{\"$ref\":\"#/definitions/b\"},\"b\":{\"$ref\":\"#/definitions/"
         "a\"}},\"$ref\":\"#/definitions/a\"}",
         "'$ref' loops without reaching a schema"},
        {"{\"$schema\":\"http://example.com/my-meta\"}",
         "#/$schema: unsupported meta-schema 'http://example.com/my-meta'"},
        {"{\"title\":5}", "#/title: expected a string, got number"},
        {"{\"dependencies\":{\"a\":[1]}}", "#/dependencies/a: expected an array of property names"},
    };
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        sluice_error err;
        json_schema *s = parse(errs[i].text, NULL, 0, &err);
        if (s || !strstr(err.msg, errs[i].expect))
            fprintf(stderr, "case %zu: got \"%s\"\n", i, s ? "(parsed)" : err.msg);
        CHECK(s == NULL);
        CHECK_EQ(err.code, SLUICE_EINVAL);
        CHECK_CONTAINS(err.msg, errs[i].expect);
    }
    /* errors inside a reference name it */
    json_schema_source bad[] = {{"addr.json", "{\"type\":\"nope\"}", 15}};
    sluice_error err;
    CHECK(parse("{\"$ref\":\"addr.json\"}", bad, 1, &err) == NULL);
    CHECK_CONTAINS(err.msg, "reference 'addr.json': #/type: unknown type 'nope'");
    json_schema_source broken[] = {{"addr.json", "{\"type\":", 8}};
    CHECK(parse("{\"$ref\":\"addr.json\"}", broken, 1, &err) == NULL);
    CHECK_CONTAINS(err.msg, "reference 'addr.json': line 1 column");
}

static void test_depth_bound(void)
{
    char deep[8192];
    size_t n = 0;
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(deep + n, sizeof deep - n, "{\"items\":");
    n += (size_t)snprintf(deep + n, sizeof deep - n, "true");
    for (int i = 0; i < 200; i++)
        deep[n++] = '}';
    deep[n] = '\0';
    sluice_error err;
    CHECK(parse(deep, NULL, 0, &err) == NULL);
    CHECK_CONTAINS(err.msg, "schemas nested deeper than 128 levels");
}

TEST_MAIN(T(test_model), T(test_normalized), T(test_refs_inside), T(test_refs_to_references),
          T(test_errors_name_the_place), T(test_depth_bound))
