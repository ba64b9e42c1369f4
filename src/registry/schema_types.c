/*
 * schema_types.c — one door to the three schema types (contract in
 * schema_types.h).
 *
 * Avro references have no slot in sluice's Avro parser, whose named types
 * must be defined before use in one document; so a schema with references
 * is parsed as one document that defines them first: a record whose fields'
 * types are the referenced schemas, in order, then the root. Its last
 * field's type is the root node, and the dedupe key is the root text's own
 * normalised JSON (compact, keys sorted — what Avro's normalised form is).
 */
#include "registry/schema_types.h"

#include "codec/json_schema_compat.h"
#include "codec/proto_compat.h"
#include "common/buf.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {"AVRO", "PROTOBUF", "JSON"};

int reg_type_parse(const char *name, reg_type *out)
{
    if (!name) {
        *out = REG_AVRO;
        return 0;
    }
    for (int i = 0; i < 3; i++)
        if (strcmp(name, type_names[i]) == 0) {
            *out = (reg_type)i;
            return 0;
        }
    return -1;
}

const char *reg_type_name(reg_type t)
{
    return type_names[t];
}

/* One JSON value, re-serialised compactly with sorted keys (so that text
 * spliced into the wrapper below can never close it early); NULL with err
 * when it is not a single JSON value. */
static char *one_json_value(const char *what, const char *text, size_t len, sluice_error *err)
{
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        sluice_error_set(err, SLUICE_EINVAL, "%s: line %d column %d: %s", what, je.line, je.column,
                         je.text);
        return NULL;
    }
    char *out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(j);
    if (!out) sluice_error_set(err, SLUICE_ENOMEM, "registry: out of memory");
    return out;
}

/* Avro with references: one document that defines them, then the root. */
static int parse_avro_with_refs(reg_schema *s, const char *text, size_t len, const reg_dep *deps,
                                size_t n_deps, sluice_error *err)
{
    char *root = one_json_value("schema", text, len, err);
    if (!root) return err ? err->code : SLUICE_EINVAL;
    buf doc;
    buf_init(&doc, SIZE_MAX);
    int rc = buf_append_str(&doc, "{\"type\":\"record\",\"name\":\"__sluice_references\","
                                  "\"fields\":[");
    for (size_t i = 0; !rc && i < n_deps; i++) {
        if (deps[i].type != REG_AVRO) {
            rc = sluice_error_set(err, SLUICE_EINVAL,
                                  "reference '%s' is a %s schema; an AVRO schema can reference "
                                  "AVRO schemas only",
                                  deps[i].name, type_names[deps[i].type]);
            break;
        }
        char *dep = one_json_value(deps[i].name, deps[i].text, strlen(deps[i].text), err);
        if (!dep) {
            rc = err ? err->code : SLUICE_EINVAL;
            break;
        }
        rc = buf_printf(&doc, "{\"name\":\"r%zu\",\"type\":%s},", i, dep);
        free(dep);
        if (rc) rc = sluice_error_set(err, SLUICE_ENOMEM, "registry: out of memory");
    }
    if (!rc && buf_printf(&doc, "{\"name\":\"root\",\"type\":%s}]}", root) != 0)
        rc = sluice_error_set(err, SLUICE_ENOMEM, "registry: out of memory");
    if (!rc) {
        rc = sluice_avro_schema_parse((const char *)doc.data, doc.len, &s->avro, err);
        if (rc) sluice_error_prefix(err, "(with its %zu references) ", n_deps);
    }
    buf_free(&doc);
    if (rc) {
        free(root);
        return rc;
    }
    const sluice_avro_node *wrapper = sluice_avro_schema_root(s->avro);
    s->avro_root = wrapper->fields[wrapper->n_fields - 1].type;
    s->normalized = root; /* compact JSON, keys sorted: Avro's normalised form */
    return 0;
}

static int parse_avro(reg_schema *s, const char *text, size_t len, const reg_dep *deps,
                      size_t n_deps, sluice_error *err)
{
    if (n_deps) return parse_avro_with_refs(s, text, len, deps, n_deps, err);
    int rc = sluice_avro_schema_parse(text, len, &s->avro, err);
    if (rc) return rc;
    s->avro_root = sluice_avro_schema_root(s->avro);
    s->normalized = strdup(sluice_avro_schema_normalized(s->avro));
    return s->normalized ? 0 : sluice_error_set(err, SLUICE_ENOMEM, "registry: out of memory");
}

static int parse_protobuf(reg_schema *s, const char *text, size_t len, const reg_dep *deps,
                          size_t n_deps, sluice_error *err)
{
    proto_source *src = calloc(n_deps + 1, sizeof *src);
    if (!src) return sluice_error_set(err, SLUICE_ENOMEM, "registry: out of memory");
    for (size_t i = 0; i < n_deps; i++) {
        if (deps[i].type != REG_PROTOBUF) {
            free(src);
            return sluice_error_set(err, SLUICE_EINVAL,
                                    "reference '%s' is a %s schema; a PROTOBUF schema can "
                                    "reference PROTOBUF schemas only",
                                    deps[i].name, type_names[deps[i].type]);
        }
        src[i] = (proto_source){deps[i].name, deps[i].text, strlen(deps[i].text), deps[i].subject,
                                (int32_t)deps[i].version};
    }
    int rc = proto_schema_parse(text, len, NULL, src, n_deps, &s->proto, err);
    free(src);
    if (rc) return rc;
    s->normalized = strdup(proto_schema_canonical(s->proto));
    return s->normalized ? 0 : sluice_error_set(err, SLUICE_ENOMEM, "registry: out of memory");
}

static int parse_json(reg_schema *s, const char *text, size_t len, const reg_dep *deps,
                      size_t n_deps, sluice_error *err)
{
    json_schema_source *src = calloc(n_deps + 1, sizeof *src);
    if (!src) return sluice_error_set(err, SLUICE_ENOMEM, "registry: out of memory");
    for (size_t i = 0; i < n_deps; i++) {
        if (deps[i].type != REG_JSON) {
            free(src);
            return sluice_error_set(err, SLUICE_EINVAL,
                                    "reference '%s' is a %s schema; a JSON schema can reference "
                                    "JSON schemas only",
                                    deps[i].name, type_names[deps[i].type]);
        }
        src[i] = (json_schema_source){deps[i].name, deps[i].text, strlen(deps[i].text)};
    }
    int rc = json_schema_parse(text, len, src, n_deps, &s->json, err);
    free(src);
    if (rc) return rc;
    s->normalized = strdup(json_schema_normalized(s->json));
    return s->normalized ? 0 : sluice_error_set(err, SLUICE_ENOMEM, "registry: out of memory");
}

int reg_schema_parse(reg_type type, const char *text, size_t len, const reg_dep *deps,
                     size_t n_deps, reg_schema **out, sluice_error *err)
{
    *out = NULL;
    reg_schema *s = calloc(1, sizeof *s);
    if (!s) return sluice_error_set(err, SLUICE_ENOMEM, "registry: out of memory");
    s->type = type;
    int rc = type == REG_AVRO       ? parse_avro(s, text, len, deps, n_deps, err)
             : type == REG_PROTOBUF ? parse_protobuf(s, text, len, deps, n_deps, err)
                                    : parse_json(s, text, len, deps, n_deps, err);
    if (rc) {
        reg_schema_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void reg_schema_free(reg_schema *s)
{
    if (!s) return;
    sluice_avro_schema_free(s->avro);
    proto_schema_free(s->proto);
    json_schema_free(s->json);
    free(s->normalized);
    free(s);
}

const char *reg_schema_stored_text(const reg_schema *s, const char *submitted)
{
    /* A base64 registration renders as a descriptor of its own: the
     * canonical text differs from what was sent in every byte. Text that
     * was .proto already is kept as written (comments and all). */
    if (s->type == REG_PROTOBUF) {
        size_t n = strspn(submitted, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789+/=\r\n\t ");
        if (submitted[n] == '\0' && submitted[0] != '\0') return proto_schema_canonical(s->proto);
    }
    return submitted;
}

int reg_schema_compatible(const reg_schema *original, const reg_schema *update, char *reason,
                          size_t reason_len, sluice_error *err)
{
    if (original->type != update->type) {
        snprintf(reason, reason_len, "the schema type changed from %s to %s",
                 type_names[original->type], type_names[update->type]);
        return 0;
    }
    switch (original->type) {
    case REG_AVRO: {
        sluice_error e;
        if (sluice_avro_can_read(update->avro_root, original->avro_root, &e) == 0) return 1;
        snprintf(reason, reason_len, "%s", e.msg);
        return 0;
    }
    case REG_PROTOBUF:
        return proto_schema_compatible(original->proto, update->proto, reason, reason_len, err);
    case REG_JSON:
        return json_schema_compatible(original->json, update->json, reason, reason_len, err);
    }
    return sluice_error_set(err, SLUICE_EINTERNAL, "registry: unknown schema type");
}
