/*
 * cmd_ddl.c — `sluice ddl`: print a CREATE TABLE for a registry subject's
 * schema (its latest version or a given one; Avro, Protobuf or JSON
 * Schema), with the columns the sink maps that schema onto (src/codec/ddl_columns.h:
 * the mapping is proved against the sink's own plan before anything is
 * printed), so a table starts from the schema instead of hand-written DDL.
 *
 * One registry request, plus one per referenced schema (Protobuf imports,
 * JSON Schema $refs into other subjects); nothing is sent to ClickHouse: the
 * statement goes to stdout for review or a pipe
 * (`sluice ddl ... | clickhouse-client`). Main thread only.
 */
#include "cli/cli.h"
#include "codec/ddl.h"

#include <sluice/sr.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CLICKHOUSE_VERSION "23.8"
#define MAX_SCHEMA_FILE ((size_t)16 << 20)

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: sluice ddl --registry URL --subject SUBJECT [--version N] [--table [DB.]TABLE]\n"
        "                  [--message NAME] [--engine ENGINE] [--order-by EXPR]\n"
        "                  [--partition-by EXPR] [--flatten .|_] [--clickhouse-version V]\n"
        "                  [--if-not-exists]\n"
        "       sluice ddl --schema FILE [--schema-type TYPE] --table [DB.]TABLE [options]\n\n"
        "Print a CREATE TABLE for a Schema Registry subject's schema (Avro, Protobuf or\n"
        "JSON Schema), with the columns `sluice sink` maps its fields onto: records,\n"
        "messages and objects flattened into `a.b` (or a_b), arrays of records and\n"
        "repeated messages as Nested, maps as keys/values arrays (Map from 21.1),\n"
        "nullable values as Nullable(T), enums as Enum8/Enum16, timestamps as DateTime64\n"
        "(DateTime before 20.1), UUID, Date and Decimal (man sluice, DDL MAPPING).\n"
        "Fields no column can take are listed in comments above the statement.\n\n"
        "  -r, --registry URL          Schema Registry base URL (user:password@ for basic auth)\n"
        "  -s, --subject SUBJECT       subject, e.g. events-value\n"
        "  -v, --version N             a version of the subject (default: latest)\n"
        "  -m, --message NAME          Protobuf: the message type the topic carries, by full\n"
        "                              name (shop.Order); default the file's first message\n"
        "      --schema FILE           a schema from a file instead of the registry (no\n"
        "                              references; Protobuf may import google/protobuf/*)\n"
        "      --schema-type TYPE      AVRO, PROTOBUF or JSON (default: PROTOBUF for a\n"
        "                              .proto file, else AVRO)\n"
        "  -t, --table [DB.]TABLE      table name (default: the subject without -value)\n"
        "  -e, --engine ENGINE         table engine (default MergeTree), e.g.\n"
        "                              \"ReplicatedMergeTree('/clickhouse/tables/{shard}/t', "
        "'{replica}')\"\n"
        "  -o, --order-by EXPR         ORDER BY of a MergeTree engine (default tuple())\n"
        "  -p, --partition-by EXPR     PARTITION BY of a MergeTree engine (default none)\n"
        "  -f, --flatten SEP           nested field separator, as the route's `flatten`:\n"
        "                              . (default) or _\n"
        "      --clickhouse-version V  the server the table is for (default %s): before\n"
        "                              20.1 timestamps are DateTime (whole seconds), before\n"
        "                              21.1 maps are keys/values arrays, before 21.12\n"
        "                              booleans are UInt8\n"
        "      --if-not-exists         CREATE TABLE IF NOT EXISTS\n"
        "  -h, --help                  this help\n\n"
        "Exit codes: 0 printed, 1 the registry or the schema failed, 2 bad usage.\n",
        DEFAULT_CLICKHOUSE_VERSION);
}

typedef struct ddl_args {
    const char *registry, *subject, *schema_file, *table, *engine, *order_by, *partition_by;
    const char *clickhouse_version, *message, *schema_type;
    int32_t version; /* 0: latest */
    char separator;
    int if_not_exists;
} ddl_args;

static int parse_args(int argc, char **argv, ddl_args *a)
{
    static const struct option opts[] = {{"registry", required_argument, NULL, 'r'},
                                         {"subject", required_argument, NULL, 's'},
                                         {"version", required_argument, NULL, 'v'},
                                         {"schema", required_argument, NULL, 'S'},
                                         {"schema-type", required_argument, NULL, 'T'},
                                         {"message", required_argument, NULL, 'm'},
                                         {"table", required_argument, NULL, 't'},
                                         {"engine", required_argument, NULL, 'e'},
                                         {"order-by", required_argument, NULL, 'o'},
                                         {"partition-by", required_argument, NULL, 'p'},
                                         {"flatten", required_argument, NULL, 'f'},
                                         {"clickhouse-version", required_argument, NULL, 'C'},
                                         {"if-not-exists", no_argument, NULL, 'I'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    *a = (ddl_args){.separator = '.', .clickhouse_version = DEFAULT_CLICKHOUSE_VERSION};
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "r:s:v:m:t:e:o:p:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            a->registry = optarg;
            break;
        case 's':
            a->subject = optarg;
            break;
        case 'v': {
            if (strcmp(optarg, "latest") == 0) break;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > INT32_MAX) {
                fprintf(stderr,
                        "sluice ddl: --version must be a positive number or latest, "
                        "got '%s'\n",
                        optarg);
                return CLI_EXIT_USAGE;
            }
            a->version = (int32_t)v;
            break;
        }
        case 'S':
            a->schema_file = optarg;
            break;
        case 'T':
            if (strcmp(optarg, "AVRO") != 0 && strcmp(optarg, "PROTOBUF") != 0 &&
                strcmp(optarg, "JSON") != 0) {
                fprintf(stderr,
                        "sluice ddl: --schema-type must be AVRO, PROTOBUF or JSON, got '%s'\n",
                        optarg);
                return CLI_EXIT_USAGE;
            }
            a->schema_type = optarg;
            break;
        case 'm':
            a->message = optarg;
            break;
        case 't':
            a->table = optarg;
            break;
        case 'e':
            a->engine = optarg;
            break;
        case 'o':
            a->order_by = optarg;
            break;
        case 'p':
            a->partition_by = optarg;
            break;
        case 'f':
            if (strcmp(optarg, ".") != 0 && strcmp(optarg, "_") != 0) {
                fprintf(stderr, "sluice ddl: --flatten must be . or _, got '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            a->separator = optarg[0];
            break;
        case 'C':
            a->clickhouse_version = optarg;
            break;
        case 'I':
            a->if_not_exists = 1;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "sluice ddl: unexpected argument '%s'\n", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    if (a->schema_file ? (a->registry || a->subject || !a->table) : (!a->registry || !a->subject)) {
        fprintf(stderr, "sluice ddl: give --registry and --subject, or --schema and --table\n");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (a->schema_type && !a->schema_file) {
        fprintf(stderr, "sluice ddl: --schema-type is for --schema (the registry says the type)\n");
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/* The table name when --table is absent: the subject without -value/-key
 * (TopicNameStrategy's subject of topic T is T-value). */
static void default_table(const char *subject, char *dst, size_t n)
{
    snprintf(dst, n, "%s", subject);
    size_t len = strlen(dst);
    const char *suffixes[] = {"-value", "-key"};
    for (size_t i = 0; i < 2; i++) {
        size_t sl = strlen(suffixes[i]);
        if (len > sl && strcmp(dst + len - sl, suffixes[i]) == 0) {
            dst[len - sl] = '\0';
            return;
        }
    }
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *data = malloc(MAX_SCHEMA_FILE + 1);
    size_t n = data ? fread(data, 1, MAX_SCHEMA_FILE + 1, f) : 0;
    int bad = !data || ferror(f) || n > MAX_SCHEMA_FILE;
    fclose(f);
    if (bad) {
        free(data);
        return NULL;
    }
    data[n] = '\0';
    *len = n;
    return data;
}

/* Print the statement for schema text of schema_type; 0 or an exit code. */
static int print_ddl(const ddl_args *a, const char *schema_type, const char *text, size_t len,
                     const ddl_reference *refs, size_t n_refs, const char *what, const char *table)
{
    ddl_options opt = {.separator = a->separator, .message = a->message};
    sluice_error err = {0};
    if (ch_server_features(a->clickhouse_version, &opt.features, &err) != 0) {
        fprintf(stderr, "sluice ddl: --clickhouse-version: %s\n", err.msg);
        return CLI_EXIT_USAGE;
    }
    ddl_columns cols;
    ddl_columns_init(&cols);
    int rc = ddl_columns_for_schema(schema_type, text, len, refs, n_refs, &opt, &cols, &err);
    if (rc) {
        fprintf(stderr, "sluice ddl: %s: %s\n", what, err.msg);
        ddl_columns_free(&cols);
        return CLI_EXIT_RUNTIME;
    }
    char header[512];
    snprintf(header, sizeof header,
             "sluice ddl: %s%s%s, columns as `sluice sink` maps them (flatten: \"%c\"), "
             "for ClickHouse %s",
             what, cols.root ? ", " : "", cols.root ? cols.root : "", a->separator,
             a->clickhouse_version);
    ddl_table_options t = {.table = table,
                           .engine = a->engine,
                           .order_by = a->order_by,
                           .partition_by = a->partition_by,
                           .header = header,
                           .if_not_exists = a->if_not_exists};
    buf out;
    buf_init(&out, SIZE_MAX);
    rc = ddl_create_table(&cols, &t, &out, &err);
    if (rc == 0) {
        fwrite(out.data, 1, out.len, stdout);
        rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_RUNTIME;
    } else {
        fprintf(stderr, "sluice ddl: %s\n", err.msg);
        rc = err.code == SLUICE_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
    }
    buf_free(&out);
    ddl_columns_free(&cols);
    return rc;
}

int cmd_ddl(int argc, char **argv)
{
    ddl_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;

    if (a.schema_file) {
        size_t len = 0;
        char *text = read_file(a.schema_file, &len);
        if (!text) {
            fprintf(stderr, "sluice ddl: cannot read %s (or it is over 16 MiB)\n", a.schema_file);
            return CLI_EXIT_RUNTIME;
        }
        char what[600];
        snprintf(what, sizeof what, "schema file %s", a.schema_file);
        const char *type = a.schema_type;
        size_t n = strlen(a.schema_file);
        if (!type)
            type = n > 6 && strcmp(a.schema_file + n - 6, ".proto") == 0 ? "PROTOBUF" : "AVRO";
        rc = print_ddl(&a, type, text, len, NULL, 0, what, a.table);
        free(text);
        return rc;
    }

    sluice_sr_config cfg;
    sluice_sr_config_init(&cfg);
    cfg.urls = &a.registry;
    cfg.n_urls = 1;
    cfg.max_retries = 2;
    sluice_sr *sr = NULL;
    sluice_error err = {0};
    if (sluice_sr_new(&cfg, &sr, &err) != 0) {
        fprintf(stderr, "sluice ddl: registry client: %s\n", err.msg);
        return CLI_EXIT_USAGE;
    }
    const sluice_sr_schema *s = NULL;
    rc = a.version ? sluice_sr_get_version(sr, a.subject, a.version, &s, &err)
                   : sluice_sr_get_latest(sr, a.subject, &s, &err);
    if (rc) {
        fprintf(stderr, "sluice ddl: subject %s: %s\n", a.subject, err.msg);
        sluice_sr_destroy(sr);
        return CLI_EXIT_RUNTIME;
    }
    char table[256], what[600];
    if (a.table)
        snprintf(table, sizeof table, "%s", a.table);
    else
        default_table(a.subject, table, sizeof table);
    snprintf(what, sizeof what, "subject %s version %d (schema id %d)", a.subject, (int)s->version,
             (int)s->id);
    /* Imports and $refs into other subjects, as the sink resolves them. */
    sluice_sr_resolved *res = NULL;
    ddl_reference *refs = NULL;
    if (sluice_sr_resolve_references(sr, s, &res, &err) != 0) {
        fprintf(stderr, "sluice ddl: %s: references: %s\n", what, err.msg);
        rc = CLI_EXIT_RUNTIME;
    } else if (!(refs = calloc(res->n ? res->n : 1, sizeof *refs))) {
        fprintf(stderr, "sluice ddl: out of memory\n");
        rc = CLI_EXIT_RUNTIME;
    } else {
        for (size_t i = 0; i < res->n; i++)
            refs[i] = (ddl_reference){res->names[i], res->schemas[i]->schema,
                                      res->schemas[i]->schema_len};
        rc = print_ddl(&a, s->schema_type, s->schema, s->schema_len, refs, res->n, what, table);
    }
    free(refs);
    sluice_sr_resolved_free(res);
    sluice_sr_schema_release(s);
    sluice_sr_destroy(sr);
    return rc;
}
