/*
 * test_avro_compat.c — sluice_avro_can_read (src/codec/avro_compat.c): the
 * Avro spec's "Schema Resolution" rules, one table row per rule, plus the
 * schema-evolution cases a registry checks under BACKWARD compatibility and
 * recursive schemas (which must terminate).
 *
 * Each row is (reader, writer, expected): NULL means readable, otherwise the
 * exact error message.
 *
 * The readable/unreadable column was cross-checked against avsc 5.7.9 (npm,
 * `readerType.createResolver(writerType)`, run outside this repo): it agrees
 * on every row but four, where avsc departs from the spec or Java and we
 * follow them: avsc calls a reader field with an alias that also matches
 * another writer field ambiguous (Java takes the exact name); avsc wants
 * equal fullnames where the spec compares unqualified names (a.R reads b.R);
 * avsc does not put a short alias in the type's namespace; avsc rejects the
 * empty union.
 */
#include <sluice/avro.h>

#include "test.h"

#include <stdbool.h>

struct compat_case {
    const char *reader, *writer, *expect;
};

#define REC(name, fields) "{\"type\":\"record\",\"name\":\"" name "\",\"fields\":[" fields "]}"
#define F(name, type) "{\"name\":\"" name "\",\"type\":" type "}"
#define FD(name, type, dflt) "{\"name\":\"" name "\",\"type\":" type ",\"default\":" dflt "}"
#define ENUM(name, syms) "{\"type\":\"enum\",\"name\":\"" name "\",\"symbols\":[" syms "]}"

#define LIST(value_type, extra)                                                                    \
    REC("LongList", F("value", value_type) "," FD("next", "[\"null\",\"LongList\"]", "null") extra)

static const struct compat_case compat_cases[] = {
    /* identical primitives */
    {"\"null\"", "\"null\"", NULL},
    {"\"boolean\"", "\"boolean\"", NULL},
    {"\"int\"", "\"int\"", NULL},
    {"\"string\"", "\"string\"", NULL},
    /* promotions */
    {"\"long\"", "\"int\"", NULL},
    {"\"float\"", "\"int\"", NULL},
    {"\"double\"", "\"int\"", NULL},
    {"\"float\"", "\"long\"", NULL},
    {"\"double\"", "\"long\"", NULL},
    {"\"double\"", "\"float\"", NULL},
    {"\"bytes\"", "\"string\"", NULL},
    {"\"string\"", "\"bytes\"", NULL},
    /* no demotions, no other conversions */
    {"\"int\"", "\"long\"", "$: reader type int cannot read writer type long"},
    {"\"long\"", "\"float\"", "$: reader type long cannot read writer type float"},
    {"\"float\"", "\"double\"", "$: reader type float cannot read writer type double"},
    {"\"int\"", "\"float\"", "$: reader type int cannot read writer type float"},
    {"\"string\"", "\"int\"", "$: reader type string cannot read writer type int"},
    {"\"boolean\"", "\"null\"", "$: reader type boolean cannot read writer type null"},
    {"\"bytes\"", "{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}",
     "$: reader type bytes cannot read writer type fixed 'F'"},
    /* logical types resolve as their underlying types */
    {"{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}", "\"long\"", NULL},
    {"\"int\"", "{\"type\":\"int\",\"logicalType\":\"date\"}", NULL},
    {"{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}",
     "{\"type\":\"int\",\"logicalType\":\"date\"}", NULL},

    /* records: BACKWARD evolution */
    {REC("R", F("a", "\"int\"") "," FD("b", "\"string\"", "\"x\"")), REC("R", F("a", "\"int\"")),
     NULL},
    {REC("R", F("a", "\"int\"") "," F("email", "\"string\"")), REC("R", F("a", "\"int\"")),
     "$: reader field 'email' has no default and is missing from writer"},
    {REC("R", F("a", "\"int\"")), REC("R", F("a", "\"int\"") "," F("gone", "\"bytes\"")), NULL},
    {REC("R", F("a", "\"long\"")), REC("R", F("a", "\"int\"")), NULL},
    {REC("R", F("a", "\"int\"")), REC("R", F("a", "\"long\"")),
     "$.a: reader type int cannot read writer type long"},
    {REC("R", F("b", "\"int\"") "," F("a", "\"string\"")),
     REC("R", F("a", "\"string\"") "," F("b", "\"int\"")), NULL},
    /* field renamed through a reader alias; without it the field is missing */
    {REC("R", "{\"name\":\"new_name\",\"type\":\"int\",\"aliases\":[\"old_name\"]}"),
     REC("R", F("old_name", "\"int\"")), NULL},
    {REC("R", F("new_name", "\"int\"")), REC("R", F("old_name", "\"int\"")),
     "$: reader field 'new_name' has no default and is missing from writer"},
    /* an exact name wins over an alias */
    {REC("R", "{\"name\":\"a\",\"type\":\"int\",\"aliases\":[\"b\"]}"),
     REC("R", F("b", "\"string\"") "," F("a", "\"int\"")), NULL},
    /* nested paths */
    {REC("User", F("user", REC("Info", F("age", "\"int\"")))),
     REC("User", F("user", REC("Info", F("age", "\"long\"")))),
     "$.user.age: reader type int cannot read writer type long"},
    {REC("R", F("tags", "{\"type\":\"array\",\"items\":" REC("T", F("n", "\"int\"")) "}")),
     REC("R", F("tags", "{\"type\":\"array\",\"items\":" REC("T", F("n", "\"string\"")) "}")),
     "$.tags[*].n: reader type int cannot read writer type string"},
    {REC("R", F("m", "{\"type\":\"map\",\"values\":[\"null\",\"int\"]}")),
     REC("R", F("m", "{\"type\":\"map\",\"values\":[\"null\",\"long\"]}")),
     "$.m.*: no branch of reader union can read writer type long"},
    /* record names: unqualified names, fullnames and reader aliases */
    {REC("A", ""), REC("B", ""),
     "$: reader record 'A' cannot read writer record 'B': names differ and no reader alias "
     "matches"},
    {"{\"type\":\"record\",\"name\":\"a.R\",\"fields\":[]}",
     "{\"type\":\"record\",\"name\":\"b.R\",\"fields\":[]}", NULL},
    {"{\"type\":\"record\",\"name\":\"New\",\"aliases\":[\"Old\"],\"fields\":[]}", REC("Old", ""),
     NULL},
    {"{\"type\":\"record\",\"name\":\"n.New\",\"aliases\":[\"o.Old\"],\"fields\":[]}",
     "{\"type\":\"record\",\"name\":\"o.Old\",\"fields\":[]}", NULL},
    {"{\"type\":\"record\",\"name\":\"New\",\"aliases\":[\"Older\"],\"fields\":[]}", REC("Old", ""),
     "$: reader record 'New' cannot read writer record 'Old': names differ and no reader alias "
     "matches"},
    {REC("X", ""), ENUM("X", "\"A\""),
     "$: reader type record 'X' cannot read writer type enum 'X'"},

    /* enums */
    {ENUM("E", "\"A\",\"B\",\"C\""), ENUM("E", "\"A\",\"B\""), NULL},
    {ENUM("E", "\"B\",\"A\""), ENUM("E", "\"A\",\"B\""), NULL},
    {ENUM("Status", "\"ACTIVE\",\"DONE\""), ENUM("Status", "\"ACTIVE\",\"PAUSED\",\"DONE\""),
     "$: writer symbol 'PAUSED' not in reader enum and reader has no default"},
    {"{\"type\":\"enum\",\"name\":\"Status\",\"symbols\":[\"ACTIVE\",\"UNKNOWN\"],"
     "\"default\":\"UNKNOWN\"}",
     ENUM("Status", "\"ACTIVE\",\"PAUSED\""), NULL},
    {REC("R", F("status", ENUM("S", "\"A\""))), REC("R", F("status", ENUM("S", "\"A\",\"Z\""))),
     "$.status: writer symbol 'Z' not in reader enum and reader has no default"},
    {ENUM("E", "\"A\""), ENUM("F", "\"A\""),
     "$: reader enum 'E' cannot read writer enum 'F': names differ and no reader alias matches"},
    {"{\"type\":\"enum\",\"name\":\"E\",\"aliases\":[\"F\"],\"symbols\":[\"A\"]}",
     ENUM("F", "\"A\""), NULL},

    /* fixed */
    {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":16}",
     "{\"type\":\"fixed\",\"name\":\"F\","
     "\"size\":16}",
     NULL},
    {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":16}",
     "{\"type\":\"fixed\",\"name\":\"F\",\"size\":8}",
     "$: reader fixed 'F' has size 16, writer fixed 'F' has size 8"},
    {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}",
     "{\"type\":\"fixed\",\"name\":\"G\","
     "\"size\":4}",
     "$: reader fixed 'F' cannot read writer fixed 'G': names differ and no reader alias matches"},
    /* an alias is a fullname: a short one is in the reader's namespace */
    {"{\"type\":\"fixed\",\"name\":\"x.F\",\"aliases\":[\"y.G\"],\"size\":4}",
     "{\"type\":\"fixed\",\"name\":\"y.G\",\"size\":4}", NULL},
    {"{\"type\":\"fixed\",\"name\":\"x.F\",\"aliases\":[\"G\"],\"size\":4}",
     "{\"type\":\"fixed\",\"name\":\"x.G\",\"size\":4}", NULL},
    {"{\"type\":\"fixed\",\"name\":\"x.F\",\"aliases\":[\"G\"],\"size\":4}",
     "{\"type\":\"fixed\",\"name\":\"y.G\",\"size\":4}",
     "$: reader fixed 'x.F' cannot read writer fixed 'y.G': names differ and no reader alias "
     "matches"},

    /* arrays and maps */
    {"{\"type\":\"array\",\"items\":\"long\"}", "{\"type\":\"array\",\"items\":\"int\"}", NULL},
    {"{\"type\":\"array\",\"items\":\"int\"}", "{\"type\":\"array\",\"items\":\"long\"}",
     "$[*]: reader type int cannot read writer type long"},
    {"{\"type\":\"map\",\"values\":\"double\"}", "{\"type\":\"map\",\"values\":\"float\"}", NULL},
    {"{\"type\":\"map\",\"values\":\"int\"}", "{\"type\":\"map\",\"values\":\"string\"}",
     "$.*: reader type int cannot read writer type string"},
    {"{\"type\":\"array\",\"items\":\"int\"}", "{\"type\":\"map\",\"values\":\"int\"}",
     "$: reader type array cannot read writer type map"},
    {"{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":\"double\"}}",
     "{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":\"int\"}}", NULL},

    /* reader union, writer not */
    {"[\"null\",\"string\"]", "\"string\"", NULL},
    {"[\"null\",\"long\"]", "\"int\"", NULL},
    {"[\"null\",\"bytes\"]", "\"string\"", NULL},
    {"[\"null\",\"string\"]", "\"int\"", "$: no branch of reader union can read writer type int"},
    {"[\"null\"," REC("A", "") "]", REC("B", ""),
     "$: no branch of reader union can read writer type record 'B'"},
    {"[]", "\"int\"", "$: no branch of reader union can read writer type int"},
    /* the branch is chosen by name, then resolved in depth */
    {"[\"null\"," REC("R", F("a", "\"int\"")) "]", REC("R", F("a", "\"long\"")),
     "$.a: reader type int cannot read writer type long"},
    {"[\"null\",{\"type\":\"record\",\"name\":\"New\",\"aliases\":[\"Old\"],\"fields\":[" F(
         "a", "\"long\"") "]}]",
     REC("Old", F("a", "\"int\"")), NULL},
    /* an exact fullname match wins over an earlier same-short-name branch */
    {"[{\"type\":\"record\",\"name\":\"a.R\",\"fields\":[" F(
         "f", "\"string\"") "]},"
                            "{\"type\":\"record\",\"name\":\"b.R\",\"fields\":[" F("f",
                                                                                   "\"int\"") "]}]",
     "{\"type\":\"record\",\"name\":\"b.R\",\"fields\":[" F("f", "\"int\"") "]}", NULL},
    /* an exact type wins over a promotion, a named match over a promotion */
    {"[\"double\",\"int\"]", "\"int\"", NULL},
    {"[\"long\"," ENUM("E", "\"A\"") "]", ENUM("E", "\"A\",\"B\""),
     "$: writer symbol 'B' not in reader enum and reader has no default"},

    /* writer union: every branch must be readable */
    {"\"string\"", "[\"null\",\"string\"]", "$: reader type string cannot read writer type null"},
    {"\"long\"", "[\"int\",\"long\"]", NULL},
    {"[\"null\",\"string\"]", "[\"null\",\"string\"]", NULL},
    {"[\"string\",\"null\"]", "[\"null\",\"string\"]", NULL},
    {"[\"null\",\"int\",\"string\"]", "[\"null\",\"int\"]", NULL},
    {"[\"null\",\"string\"]", "[\"null\",\"int\",\"string\"]",
     "$: no branch of reader union can read writer type int"},
    {"[\"null\",\"double\"]", "[\"null\",\"int\",\"long\",\"float\"]", NULL},
    {"\"int\"", "[]", NULL},
    {REC("R", FD("u", "[\"null\",\"string\"]", "null")), REC("R", F("u", "[\"null\",\"bytes\"]")),
     NULL},

    /* recursion terminates, and failures inside it are found */
    {LIST("\"long\"", ""), LIST("\"long\"", ""), NULL},
    {LIST("\"long\"", ""), LIST("\"int\"", "," F("extra", "\"string\"")), NULL},
    {LIST("\"long\"", "," FD("label", "\"string\"", "\"\"")), LIST("\"int\"", ""), NULL},
    {LIST("\"int\"", ""), LIST("\"long\"", ""),
     "$.value: reader type int cannot read writer type long"},
    {LIST("\"long\"", "," F("label", "\"string\"")), LIST("\"long\"", ""),
     "$: reader field 'label' has no default and is missing from writer"},
    /* mutual recursion A -> B -> A; the failure is only reachable through B */
    {REC("A",
         FD("b",
            "[\"null\"," REC("B", FD("a", "[\"null\",\"A\"]", "null") "," F("x", "\"int\"")) "]",
            "null")),
     REC("A",
         FD("b",
            "[\"null\"," REC("B", FD("a", "[\"null\",\"A\"]", "null") "," F("x", "\"long\"")) "]",
            "null")),
     "$.b.x: reader type int cannot read writer type long"},
    {REC("Tree", F("kids", "{\"type\":\"array\",\"items\":\"Tree\"}") "," F(
                     "attrs", "{\"type\":\"map\",\"values\":[\"null\",\"Tree\"]}")),
     REC("Tree", F("kids", "{\"type\":\"array\",\"items\":\"Tree\"}") "," F(
                     "attrs", "{\"type\":\"map\",\"values\":[\"null\",\"Tree\"]}")),
     NULL},
    {REC("Tree", F("kids", "{\"type\":\"array\",\"items\":\"Tree\"}") "," FD("n", "\"long\"", "0")),
     REC("Tree", F("kids", "{\"type\":\"array\",\"items\":\"Tree\"}") "," F("n", "\"string\"")),
     "$.n: reader type long cannot read writer type string"},
};

static sluice_avro_schema *parse(const char *text)
{
    sluice_avro_schema *s = NULL;
    sluice_error err = {0};
    if (sluice_avro_schema_parse(text, strlen(text), &s, &err) != 0)
        fprintf(stderr, "test schema does not parse: %s\n  %s\n", err.msg, text);
    return s;
}

static void test_resolution_table(void)
{
    for (size_t i = 0; i < sizeof compat_cases / sizeof compat_cases[0]; i++) {
        const struct compat_case *c = &compat_cases[i];
        sluice_avro_schema *r = parse(c->reader), *w = parse(c->writer);
        CHECK(r && w);
        sluice_error err = {0};
        int rc = sluice_avro_can_read(sluice_avro_schema_root(r), sluice_avro_schema_root(w), &err);
        if ((rc == 0) != (c->expect == NULL) || (c->expect && strcmp(err.msg, c->expect) != 0))
            fprintf(stderr, "case %zu:\n  reader %s\n  writer %s\n  got %d '%s'\n", i, c->reader,
                    c->writer, rc, err.msg);
        if (c->expect) {
            CHECK_EQ(rc, SLUICE_ECONFLICT);
            CHECK_EQ(err.code, SLUICE_ECONFLICT);
            CHECK_STR(err.msg, c->expect);
        } else {
            CHECK_EQ(rc, 0);
        }
        /* Every schema reads itself. */
        CHECK_EQ(sluice_avro_can_read(sluice_avro_schema_root(r), sluice_avro_schema_root(r), NULL),
                 0);
        CHECK_EQ(sluice_avro_can_read(sluice_avro_schema_root(w), sluice_avro_schema_root(w), NULL),
                 0);
        sluice_avro_schema_free(r);
        sluice_avro_schema_free(w);
    }
}

/* Compatibility in both directions (what FULL compatibility asks). */
static void test_directions(void)
{
    sluice_avro_schema *v1 = parse(REC("R", F("a", "\"int\"")));
    sluice_avro_schema *v2 = parse(REC("R", F("a", "\"long\"") "," FD("b", "\"string\"", "\"\"")));
    CHECK(v1 && v2);
    const sluice_avro_node *n1 = sluice_avro_schema_root(v1), *n2 = sluice_avro_schema_root(v2);
    sluice_error err = {0};
    CHECK_EQ(sluice_avro_can_read(n2, n1, &err), 0);                /* new reads old: BACKWARD */
    CHECK_EQ(sluice_avro_can_read(n1, n2, &err), SLUICE_ECONFLICT); /* old cannot read long */
    CHECK_STR(err.msg, "$.a: reader type int cannot read writer type long");
    sluice_avro_schema_free(v1);
    sluice_avro_schema_free(v2);
}

static void test_bad_arguments(void)
{
    sluice_avro_schema *s = parse("\"int\"");
    CHECK(s);
    sluice_error err = {0};
    CHECK_EQ(sluice_avro_can_read(NULL, sluice_avro_schema_root(s), &err), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "missing schema");
    CHECK_EQ(sluice_avro_can_read(sluice_avro_schema_root(s), NULL, NULL), SLUICE_EINVAL);
    /* Without an error struct, the code still comes back. */
    sluice_avro_schema *t = parse("\"string\"");
    CHECK_EQ(sluice_avro_can_read(sluice_avro_schema_root(s), sluice_avro_schema_root(t), NULL),
             SLUICE_ECONFLICT);
    sluice_avro_schema_free(t);
    sluice_avro_schema_free(s);
}

/* A long chain of distinct records (each holding the next) is checked
 * without recursion in C, so it cannot exhaust the stack; the parser's own
 * depth bound does not limit it because every record is defined at the top
 * of a union. */
static void test_long_chain(void)
{
    enum { N = 20000 };
    size_t cap = (size_t)N * 160 + 64;
    char *text = malloc(cap);
    size_t at = 0;
    text[at++] = '[';
    for (int i = 0; i < N; i++) {
        at += (size_t)snprintf(text + at, cap - at,
                               "%s{\"type\":\"record\",\"name\":\"R%d\",\"fields\":["
                               "{\"name\":\"v\",\"type\":\"int\"}",
                               i ? "," : "", i);
        if (i > 0)
            at +=
                (size_t)snprintf(text + at, cap - at, ",{\"name\":\"p\",\"type\":\"R%d\"}", i - 1);
        at += (size_t)snprintf(text + at, cap - at, "]}");
    }
    text[at++] = ']';
    text[at] = '\0';
    sluice_avro_schema *s = parse(text);
    free(text);
    CHECK(s);
    const sluice_avro_node *root = sluice_avro_schema_root(s);
    CHECK_EQ(root->n_branches, N);
    CHECK_EQ(sluice_avro_can_read(root, root, NULL), 0);
    /* From the last record the check walks all N records, one inside the other. */
    CHECK_EQ(sluice_avro_can_read(root->branches[N - 1], root->branches[N - 1], NULL), 0);
    /* Reading the last record with the first one's reader fails at the top. */
    sluice_error err = {0};
    CHECK_EQ(sluice_avro_can_read(root->branches[0], root->branches[N - 1], &err),
             SLUICE_ECONFLICT);
    CHECK_STR(err.msg,
              "$: reader record 'R0' cannot read writer record 'R19999': names differ and no "
              "reader alias matches");
    sluice_avro_schema_free(s);
}

/* Records and enums long enough that the check indexes names instead of
 * scanning them. */
static char *wide_record(int n_fields, int skip, int long_at, const char *alias_for)
{
    size_t cap = (size_t)n_fields * 96 + 128;
    char *text = malloc(cap);
    size_t at = (size_t)snprintf(text, cap, "{\"type\":\"record\",\"name\":\"W\",\"fields\":[");
    bool first = true;
    for (int i = 0; i < n_fields; i++) {
        if (i == skip) continue;
        at += (size_t)snprintf(text + at, cap - at, "%s{\"name\":\"f%d\",\"type\":\"%s\"",
                               first ? "" : ",", i, i == long_at ? "long" : "int");
        if (alias_for && i == 0)
            at += (size_t)snprintf(text + at, cap - at, ",\"aliases\":[\"%s\"]", alias_for);
        at += (size_t)snprintf(text + at, cap - at, "}");
        first = false;
    }
    snprintf(text + at, cap - at, "]}");
    return text;
}

static char *wide_enum(int n_symbols, const char *extra)
{
    size_t cap = (size_t)n_symbols * 16 + 128;
    char *text = malloc(cap);
    size_t at = (size_t)snprintf(text, cap, "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[");
    for (int i = 0; i < n_symbols; i++)
        at += (size_t)snprintf(text + at, cap - at, "%s\"S%d\"", i ? "," : "", i);
    if (extra) at += (size_t)snprintf(text + at, cap - at, ",\"%s\"", extra);
    snprintf(text + at, cap - at, "]}");
    return text;
}

static int can_read_texts(char *reader, char *writer, sluice_error *err)
{
    sluice_avro_schema *r = parse(reader), *w = parse(writer);
    free(reader);
    free(writer);
    int rc = r && w
                 ? sluice_avro_can_read(sluice_avro_schema_root(r), sluice_avro_schema_root(w), err)
                 : SLUICE_EINTERNAL;
    sluice_avro_schema_free(r);
    sluice_avro_schema_free(w);
    return rc;
}

static void test_wide_schemas(void)
{
    sluice_error err = {0};
    CHECK_EQ(can_read_texts(wide_record(40, -1, -1, NULL), wide_record(40, -1, -1, NULL), &err), 0);
    CHECK_EQ(can_read_texts(wide_record(40, -1, -1, NULL), wide_record(40, 17, -1, NULL), &err),
             SLUICE_ECONFLICT);
    CHECK_STR(err.msg, "$: reader field 'f17' has no default and is missing from writer");
    CHECK_EQ(can_read_texts(wide_record(40, -1, -1, NULL), wide_record(40, -1, 25, NULL), &err),
             SLUICE_ECONFLICT);
    CHECK_STR(err.msg, "$.f25: reader type int cannot read writer type long");
    CHECK_EQ(can_read_texts(wide_record(40, -1, 25, NULL), wide_record(40, -1, -1, NULL), &err), 0);
    CHECK_EQ(can_read_texts(wide_record(40, -1, -1, NULL), wide_record(39, -1, -1, NULL), &err),
             SLUICE_ECONFLICT);
    CHECK_STR(err.msg, "$: reader field 'f39' has no default and is missing from writer");
    /* Reader field f0 renamed from the writer's f40 by alias, writer has no f0. */
    CHECK_EQ(can_read_texts(wide_record(40, -1, -1, "f40"), wide_record(41, 0, -1, NULL), &err), 0);

    CHECK_EQ(can_read_texts(wide_enum(30, NULL), wide_enum(30, NULL), &err), 0);
    CHECK_EQ(can_read_texts(wide_enum(30, "NEW"), wide_enum(30, NULL), &err), 0);
    CHECK_EQ(can_read_texts(wide_enum(30, NULL), wide_enum(30, "NEW"), &err), SLUICE_ECONFLICT);
    CHECK_STR(err.msg, "$: writer symbol 'NEW' not in reader enum and reader has no default");
}

TEST_MAIN(T(test_resolution_table), T(test_directions), T(test_bad_arguments), T(test_long_chain),
          T(test_wide_schemas))
