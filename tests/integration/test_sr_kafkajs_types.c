/*
 * test_sr_kafkajs_types.c — `sluice registry` with the npm client
 * @kafkajs/confluent-schema-registry for PROTOBUF and JSON schemas with
 * references, driven by tests/compat/sr_types.js: it registers (subjects
 * with '/'), looks up, and — in fresh clients that fetch the schema and its
 * references from our registry and parse them with protobufjs and ajv —
 * encodes and decodes; an incompatible change comes back as a 409 naming
 * the rule. Its look-up by schema sends no references (a limitation of that
 * client), so for a schema with references the registry's answer is the
 * parser's "import not found", which is checked too.
 *
 * Needs node and tests/compat/node_modules (scripts/setup.sh); their
 * absence is a failure, not a skip.
 */
#include "test.h"

#include <sluice/sr.h>
#include <sluice/wire.h>

#include "support.h"

#include <jansson.h>
#include <signal.h>
#include <unistd.h>

static void test_with_kafkajs_registry_client(void)
{
    const char *src = getenv("SLUICE_SOURCE_DIR");
    CHECK(src);
    char script[600], modules[600];
    snprintf(script, sizeof script, "%s/tests/compat/sr_types.js", src);
    snprintf(modules, sizeof modules, "%s/tests/compat/node_modules/@kafkajs", src);
    if (access("/usr/bin/node", X_OK) != 0 || access(modules, F_OK) != 0) {
        fprintf(stderr, "node or tests/compat/node_modules missing: run scripts/setup.sh\n");
        CHECK(0);
    }
    char *tmp = test_tmpdir("sluice-sr-kafkajs-types");
    char db[600], log[600], out[600], nodelog[600];
    snprintf(db, sizeof db, "%s/registry.sqlite", tmp);
    snprintf(log, sizeof log, "%s/registry.log", tmp);
    snprintf(out, sizeof out, "%s/observed.json", tmp);
    snprintf(nodelog, sizeof nodelog, "%s/node.log", tmp);
    test_proc reg;
    uint16_t port;
    CHECK_EQ(test_registry_start(&reg, db, 0, &port, log), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)port);

    char *argv[] = {"/usr/bin/node", script, url, out, NULL};
    test_proc node;
    CHECK_EQ(test_proc_start(&node, argv, nodelog), 0);
    int status = test_proc_wait(&node, 120000);
    if (status != 0) {
        char line[512] = "";
        test_proc_wait_log(&node, "failed", 0, line, sizeof line);
        fprintf(stderr, "node exited %d: %s\n", status, line);
    }
    CHECK_EQ(status, 0);
    json_error_t je;
    json_t *obs = json_load_file(out, 0, &je);
    CHECK(obs);
    int32_t money = (int32_t)json_integer_value(json_object_get(obs, "money_id"));
    int32_t order = (int32_t)json_integer_value(json_object_get(obs, "order_id"));
    CHECK(money > 0 && order > 0 && money != order);
    CHECK_EQ(json_integer_value(json_object_get(obs, "money_lookup_id")), money);
    CHECK_EQ(json_integer_value(json_object_get(obs, "money_version_id")), money);
    CHECK_EQ(json_integer_value(json_object_get(obs, "order_latest_id")), order);
    CHECK_CONTAINS(json_string_value(json_object_get(obs, "order_lookup")),
                   "import \"common/money.proto\" not found");
    CHECK(json_is_true(json_object_get(obs, "order_roundtrip")));
    CHECK_EQ(json_integer_value(json_object_get(obs, "address_lookup_id")),
             json_integer_value(json_object_get(obs, "address_id")));
    CHECK(json_is_true(json_object_get(obs, "customer_roundtrip")));
    CHECK(json_is_true(json_object_get(obs, "customer_invalid_refused")));
    CHECK(json_is_true(json_object_get(obs, "breaking_refused")));
    CHECK_CONTAINS(json_string_value(json_object_get(obs, "breaking_message")),
                   "FIELD_SCALAR_KIND_CHANGED at #/Order/1");

    /* What they registered, through sluice's client. */
    const char *urls[] = {url};
    sluice_sr_config cfg;
    sluice_sr_config_init(&cfg);
    cfg.urls = urls;
    cfg.n_urls = 1;
    sluice_sr *sr = NULL;
    sluice_error err;
    CHECK_EQ(sluice_sr_new(&cfg, &sr, &err), 0);
    const sluice_sr_schema *s = NULL;
    CHECK_EQ(sluice_sr_get_by_id(sr, order, &s, &err), 0);
    CHECK_STR(s->schema_type, "PROTOBUF");
    CHECK_EQ(s->n_references, 1);
    CHECK_STR(s->references[0].subject, "common/money.proto");
    sluice_sr_resolved *res = NULL;
    CHECK_EQ(sluice_sr_resolve_references(sr, s, &res, &err), 0);
    CHECK_EQ(res->n, 1);
    CHECK_EQ(res->schemas[0]->id, money);
    sluice_sr_resolved_free(res);
    sluice_sr_schema_release(s);
    int32_t customer = (int32_t)json_integer_value(json_object_get(obs, "customer_id"));
    CHECK_EQ(sluice_sr_get_by_id(sr, customer, &s, &err), 0);
    CHECK_STR(s->schema_type, "JSON");
    CHECK_EQ(s->n_references, 1);
    CHECK_STR(s->references[0].name, "https://example.com/schemas/address.json");
    sluice_sr_schema_release(s);
    /* their JSON frame: magic 0, the customer id, JSON */
    const char *hex = json_string_value(json_object_get(obs, "customer_frame_hex"));
    uint8_t frame[512];
    size_t n = 0;
    for (; hex && hex[0] && hex[1] && n < sizeof frame; hex += 2) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        frame[n++] = (uint8_t)v;
    }
    int32_t id;
    const uint8_t *payload;
    size_t plen;
    CHECK_EQ(sluice_wire_read(frame, n, &id, &payload, &plen, &err), 0);
    CHECK_EQ(id, customer);
    CHECK(plen > 0 && payload[0] == '{');

    sluice_sr_destroy(sr);
    json_decref(obs);
    CHECK_EQ(test_proc_stop(&reg, SIGTERM, 10000), 0);
    test_rmtree(tmp);
    free(tmp);
}

TEST_MAIN(T(test_with_kafkajs_registry_client))
