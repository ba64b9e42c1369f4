/*
 * test_sr_python.c — `sluice registry` and sluice's client with Debian's
 * python3-confluent-kafka 1.7.0, driven by tests/compat/sr_python.py:
 *
 *  - their ProtobufSerializer (classes from Debian's protoc, made at test
 *    time) auto-registers a schema that imports
 *    google/protobuf/timestamp.proto and a file of ours, sending each as a
 *    base64 FileDescriptorProto under a subject with '/' in it; their
 *    deserializer reads the message back with the generated class and with
 *    a class built only from what our registry serves;
 *  - their JSONSerializer (draft-07, python3-jsonschema) auto-registers and
 *    their JSONDeserializer, built from the schema our registry returns for
 *    the frame's id, reads the value back;
 *  - their client registers and looks up a JSON schema with references and
 *    asks for a compatibility verdict.
 * Then this side checks what the registry holds through sluice's own client:
 * types and references, the references resolved recursively, the Protobuf
 * model parsed from them (nested message, enum, map, oneof, Timestamp from
 * the registered copy), and the frames (1.7.0 writes the message-index [0]
 * as the single byte 0x00).
 *
 * Needs /usr/bin/python3 with python3-confluent-kafka, python3-protobuf,
 * python3-jsonschema and /usr/bin/protoc (scripts/setup.sh installs them);
 * their absence is a failure, not a skip.
 */
#include "test.h"

#include <sluice/sr.h>
#include <sluice/wire.h>

#include "codec/proto_schema.h"
#include "support.h"

#include <jansson.h>
#include <signal.h>
#include <unistd.h>

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; hex && hex[0] && hex[1] && n < cap; hex += 2) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static const proto_field *field(const proto_message *m, const char *name)
{
    for (size_t i = 0; i < m->n_fields; i++)
        if (strcmp(m->fields[i].name, name) == 0) return &m->fields[i];
    return NULL;
}

static bool has_string(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (json_is_string(v) &&
                                      strcmp(json_string_value(v), s) == 0) return true;
    return false;
}

static void test_with_python_confluent_kafka(void)
{
    const char *src = getenv("SLUICE_SOURCE_DIR");
    CHECK(src);
    char script[600];
    snprintf(script, sizeof script, "%s/tests/compat/sr_python.py", src);
    if (access("/usr/bin/python3", X_OK) != 0 || access("/usr/bin/protoc", X_OK) != 0) {
        fprintf(stderr, "python3 or protoc missing: run scripts/setup.sh\n");
        CHECK(0);
    }
    char *tmp = test_tmpdir("sluice-sr-python");
    char db[600], log[600], out[600], pylog[600], work[600];
    snprintf(db, sizeof db, "%s/registry.sqlite", tmp);
    snprintf(log, sizeof log, "%s/registry.log", tmp);
    snprintf(out, sizeof out, "%s/observed.json", tmp);
    snprintf(pylog, sizeof pylog, "%s/python.log", tmp);
    snprintf(work, sizeof work, "%s/work", tmp);
    test_proc reg;
    uint16_t port;
    CHECK_EQ(test_registry_start(&reg, db, 0, &port, log), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)port);

    char *argv[] = {"/usr/bin/python3", script, url, work, out, NULL};
    test_proc py;
    CHECK_EQ(test_proc_start(&py, argv, pylog), 0);
    int status = test_proc_wait(&py, 180000);
    if (status != 0) {
        char line[512] = "";
        test_proc_wait_log(&py, "Error", 0, line, sizeof line);
        fprintf(stderr, "python exited %d: %s (log: %s)\n", status, line, pylog);
    }
    CHECK_EQ(status, 0);
    json_error_t je;
    json_t *obs = json_load_file(out, 0, &je);
    CHECK(obs);

    /* what they saw */
    CHECK(json_is_true(json_object_get(obs, "proto_generated_roundtrip")));
    CHECK(json_is_true(json_object_get(obs, "proto_registry_roundtrip")));
    CHECK(json_is_true(json_object_get(obs, "proto_descriptor_equal")));
    CHECK(json_is_false(json_object_get(obs, "proto_breaking_compatible")));
    CHECK_STR(json_string_value(json_object_get(obs, "proto_schema_type")), "PROTOBUF");
    CHECK_STR(json_string_value(json_object_get(obs, "proto_client_type")), "PROTOBUF");
    int32_t proto_id = (int32_t)json_integer_value(json_object_get(obs, "proto_id"));
    CHECK(proto_id > 0);
    CHECK_EQ(json_integer_value(json_object_get(obs, "proto_second_id")), proto_id);
    CHECK(json_is_true(json_object_get(obs, "json_roundtrip")));
    CHECK(json_is_true(json_object_get(obs, "json_invalid_refused")));
    CHECK_STR(json_string_value(json_object_get(obs, "json_schema_type")), "JSON");
    json_t *lookup = json_object_get(obs, "json_ref_lookup");
    CHECK_EQ(json_integer_value(json_object_get(lookup, "id")),
             json_integer_value(json_object_get(obs, "json_ref_id")));
    CHECK_EQ(json_integer_value(json_object_get(lookup, "version")), 1);
    CHECK(has_string(json_object_get(lookup, "references"), "address.json"));
    json_t *subjects = json_object_get(obs, "subjects");
    CHECK(has_string(subjects, "google/protobuf/timestamp.proto"));
    CHECK(has_string(subjects, "common/money.proto"));
    CHECK(has_string(subjects, "orders-value"));
    CHECK(has_string(subjects, "refs/address.json"));

    /* what the registry holds, through sluice's client */
    const char *urls[] = {url};
    sluice_sr_config cfg;
    sluice_sr_config_init(&cfg);
    cfg.urls = urls;
    cfg.n_urls = 1;
    sluice_sr *sr = NULL;
    sluice_error err;
    CHECK_EQ(sluice_sr_new(&cfg, &sr, &err), 0);
    uint8_t frame[4096], payload_py[4096];
    size_t flen =
        unhex(json_string_value(json_object_get(obs, "proto_frame_hex")), frame, sizeof frame);
    size_t plen_py = unhex(json_string_value(json_object_get(obs, "proto_payload_hex")), payload_py,
                           sizeof payload_py);
    const sluice_sr_schema *s = NULL;
    const uint8_t *payload;
    size_t plen;
    CHECK_EQ(sluice_sr_get_by_frame(sr, frame, flen, &s, &payload, &plen, &err), 0);
    CHECK_EQ(s->id, proto_id);
    CHECK_STR(s->schema_type, "PROTOBUF");
    CHECK_EQ(s->n_references, 2);
    /* message index [0] as one zero byte, then their serialized message */
    CHECK(plen == plen_py + 1 && payload[0] == 0x00);
    CHECK(memcmp(payload + 1, payload_py, plen_py) == 0);

    sluice_sr_resolved *res = NULL;
    CHECK_EQ(sluice_sr_resolve_references(sr, s, &res, &err), 0);
    CHECK_EQ(res->n, 2);
    proto_source deps[2];
    for (size_t i = 0; i < res->n; i++)
        deps[i] =
            (proto_source){res->names[i], res->schemas[i]->schema, res->schemas[i]->schema_len,
                           res->schemas[i]->subject, res->schemas[i]->version};
    proto_schema *ps = NULL;
    if (proto_schema_parse(s->schema, s->schema_len, NULL, deps, res->n, &ps, &err) != 0)
        fprintf(stderr, "%s\n", err.msg);
    CHECK(ps);
    const proto_message *order = proto_schema_message_at(ps, NULL, 0, &err);
    CHECK(order);
    CHECK_STR(order->full_name, "shop.Order");
    const proto_field *at = field(order, "at"), *lines = field(order, "lines"),
                      *state = field(order, "state"), *tags = field(order, "tags"),
                      *email = field(order, "email"), *deltas = field(order, "deltas");
    CHECK(at && lines && state && tags && email && deltas);
    CHECK_STR(at->message->full_name, "google.protobuf.Timestamp");
    CHECK_STR(at->message->file->ref_subject, "google/protobuf/timestamp.proto");
    CHECK(!at->message->file->builtin); /* the copy they registered, not ours */
    CHECK_STR(field(lines->message, "price")->message->full_name, "common.Money");
    CHECK_EQ(state->enum_type->n_values, 3);
    CHECK(tags->message->map_entry);
    CHECK_EQ(email->oneof_index, 0);
    CHECK_STR(order->oneofs[0].name, "contact");
    CHECK(deltas->packed && deltas->type == PROTO_SINT32);
    proto_schema_free(ps);
    sluice_sr_resolved_free(res);
    sluice_sr_schema_release(s);

    /* their JSON frame: magic, our id, the JSON text */
    flen = unhex(json_string_value(json_object_get(obs, "json_frame_hex")), frame, sizeof frame);
    int32_t json_id;
    CHECK_EQ(sluice_wire_read(frame, flen, &json_id, &payload, &plen, &err), 0);
    CHECK_EQ(json_id, json_integer_value(json_object_get(obs, "json_id")));
    CHECK_EQ(sluice_sr_get_by_id(sr, json_id, &s, &err), 0);
    CHECK_STR(s->schema_type, "JSON");
    CHECK_CONTAINS(s->schema, "\"title\": \"Click\"");
    sluice_sr_schema_release(s);
    json_t *value = json_loadb((const char *)payload, plen, 0, &je);
    CHECK(value);
    CHECK_STR(json_string_value(json_object_get(value, "user")), "ada");
    json_decref(value);

    json_decref(obs);
    sluice_sr_destroy(sr);
    CHECK_EQ(test_proc_stop(&reg, SIGTERM, 10000), 0);
    test_rmtree(tmp);
    free(tmp);
}

TEST_MAIN(T(test_with_python_confluent_kafka))
