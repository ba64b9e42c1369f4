/*
 * ddl.c — the front door of `sluice ddl`'s mapping (contract in ddl.h): a
 * registry schema (its schemaType, text and resolved references) parsed as
 * its type says and handed to that type's front end (ddl_avro.c,
 * ddl_protobuf.c, ddl_json.c), which proposes the columns and proves them
 * (ddl_columns.h). Nothing below calls back up here.
 */
#include "codec/ddl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- front ends ------------------------------------------------------------- */

static int avro_front_end(const char *text, size_t len, const ddl_reference *refs, size_t n_refs,
                          const ddl_options *opt, ddl_columns *out, sluice_error *err)
{
    if (n_refs)
        return sluice_error_set(err, SLUICE_EUNSUPPORTED,
                                "an Avro schema with references (%s, ...) has no table mapping "
                                "yet",
                                refs[0].name);
    sluice_avro_schema *schema = NULL;
    int rc = sluice_avro_schema_parse(text, len, &schema, err);
    if (rc) return rc;
    rc = ddl_columns_for_avro(sluice_avro_schema_root(schema), opt, out, err);
    sluice_avro_schema_free(schema);
    return rc;
}

/* The file with its imports; the message opt names, or the file's first. */
static int proto_front_end(const char *text, size_t len, const ddl_reference *refs, size_t n_refs,
                           const ddl_options *opt, ddl_columns *out, sluice_error *err)
{
    proto_source *deps = calloc(n_refs ? n_refs : 1, sizeof *deps);
    if (!deps) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    for (size_t i = 0; i < n_refs; i++)
        deps[i] = (proto_source){.name = refs[i].name, .text = refs[i].text, .len = refs[i].len};
    proto_schema *ps = NULL;
    int rc = proto_schema_parse(text, len, NULL, deps, n_refs, &ps, err);
    free(deps);
    if (rc) return rc;
    const proto_file *root = proto_schema_root(ps);
    const proto_message *m = NULL;
    if (opt->message && *opt->message) {
        m = proto_schema_find_message(ps, opt->message);
        if (!m || m->file != root)
            rc = sluice_error_set(err, SLUICE_ENOTFOUND,
                                  "no message %.200s in %s (frames name a message of the "
                                  "schema's own file)",
                                  opt->message, root->name);
    } else if (root->n_messages == 0) {
        rc = sluice_error_set(err, SLUICE_EINVAL, "%s defines no message", root->name);
    } else {
        m = &root->messages[0];
    }
    if (rc == 0) rc = ddl_columns_for_proto(m, opt, out, err);
    proto_schema_free(ps);
    return rc;
}

static int json_front_end(const char *text, size_t len, const ddl_reference *refs, size_t n_refs,
                          const ddl_options *opt, ddl_columns *out, sluice_error *err)
{
    json_schema_source *deps = calloc(n_refs ? n_refs : 1, sizeof *deps);
    if (!deps) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    for (size_t i = 0; i < n_refs; i++)
        deps[i] = (json_schema_source){refs[i].name, refs[i].text, refs[i].len};
    json_schema *js = NULL;
    int rc = json_schema_parse(text, len, deps, n_refs, &js, err);
    free(deps);
    if (rc) return rc;
    rc = ddl_columns_for_json(js, opt, out, err);
    json_schema_free(js);
    return rc;
}

/* One entry per schema type the registry may answer with ("schemaType";
 * absent means AVRO). */
static const struct {
    const char *schema_type;
    int (*columns)(const char *text, size_t len, const ddl_reference *refs, size_t n_refs,
                   const ddl_options *opt, ddl_columns *out, sluice_error *err);
} front_ends[] = {
    {"AVRO", avro_front_end},
    {"PROTOBUF", proto_front_end},
    {"JSON", json_front_end},
};

int ddl_columns_for_schema(const char *schema_type, const char *text, size_t len,
                           const ddl_reference *refs, size_t n_refs, const ddl_options *opt,
                           ddl_columns *out, sluice_error *err)
{
    if (!schema_type || !*schema_type) schema_type = "AVRO";
    char known[128] = "";
    for (size_t i = 0; i < sizeof front_ends / sizeof front_ends[0]; i++) {
        if (strcasecmp(front_ends[i].schema_type, schema_type) == 0)
            return front_ends[i].columns(text, len, refs, n_refs, opt, out, err);
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                 front_ends[i].schema_type);
    }
    return sluice_error_set(err, SLUICE_EUNSUPPORTED,
                            "schema type %.40s has no table mapping yet (known: %s)", schema_type,
                            known);
}
