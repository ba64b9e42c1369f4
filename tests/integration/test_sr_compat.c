/*
 * test_sr_compat.c — `sluice registry` and sluice's client with clients
 * no one here wrote: @kafkajs/confluent-schema-registry and avsc (npm),
 * driven by tests/compat/sr_compat.js.
 *
 *  - their client registers and frames through our registry; our client
 *    reads their frame header and fetches the same writer schema;
 *  - avsc's own encoding equals the payload inside their frame;
 *  - they read the schema our client registered (same id as latest, same
 *    canonical form) and frame values with our id;
 *  - the same schema registered by both sides gets one id.
 *
 * Needs node and tests/compat/node_modules (scripts/setup.sh installs them);
 * their absence is a failure, not a skip.
 */
#include "test.h"

#include <sluice/avro.h>
#include <sluice/sr.h>
#include <sluice/wire.h>

#include "support.h"

#include <jansson.h>
#include <signal.h>
#include <unistd.h>

static const char *OURS = "{\"type\":\"record\",\"name\":\"Order\",\"namespace\":\"compat.c\","
                          "\"fields\":[{\"name\":\"id\",\"type\":\"long\"},"
                          "{\"name\":\"total\",\"type\":\"double\"},"
                          "{\"name\":\"state\",\"type\":{\"type\":\"enum\",\"name\":\"State\","
                          "\"symbols\":[\"NEW\",\"PAID\"]}}]}";

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; hex[0] && hex[1] && n < cap; hex += 2) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static char *canonical_of(const char *text)
{
    sluice_avro_schema *s = NULL;
    if (sluice_avro_schema_parse(text, strlen(text), &s, NULL) != 0) return NULL;
    char *c = strdup(sluice_avro_schema_canonical(s));
    sluice_avro_schema_free(s);
    return c;
}

static void test_with_kafkajs_and_avsc(void)
{
    const char *src = getenv("SLUICE_SOURCE_DIR");
    CHECK(src);
    char script[600], modules[600];
    snprintf(script, sizeof script, "%s/tests/compat/sr_compat.js", src);
    snprintf(modules, sizeof modules, "%s/tests/compat/node_modules/avsc", src);
    if (access("/usr/bin/node", X_OK) != 0 || access(modules, F_OK) != 0) {
        fprintf(stderr, "node or tests/compat/node_modules missing: run scripts/setup.sh "
                        "(npm ci --prefix tests/compat)\n");
        CHECK(0);
    }
    char *tmp = test_tmpdir("sluice-sr-compat");
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

    const char *urls[] = {url};
    sluice_sr_config cfg;
    sluice_sr_config_init(&cfg);
    cfg.urls = urls;
    cfg.n_urls = 1;
    sluice_sr *sr = NULL;
    sluice_error err;
    CHECK_EQ(sluice_sr_new(&cfg, &sr, &err), 0);
    int32_t our_id;
    CHECK_EQ(sluice_sr_register(sr, "compat-ours-value", OURS, NULL, &our_id, &err), 0);

    char idbuf[16];
    snprintf(idbuf, sizeof idbuf, "%d", (int)our_id);
    char *argv[] = {"/usr/bin/node", script, url, "compat-ours-value", idbuf, out, NULL};
    test_proc node;
    CHECK_EQ(test_proc_start(&node, argv, nodelog), 0);
    int status = test_proc_wait(&node, 120000);
    if (status != 0) {
        char line[512];
        test_proc_wait_log(&node, "failed", 0, line, sizeof line);
        fprintf(stderr, "node exited %d: %s\n", status, line);
    }
    CHECK_EQ(status, 0);

    json_error_t je;
    json_t *obs = json_load_file(out, 0, &je);
    CHECK(obs);
    json_t *theirs = json_object_get(obs, "theirs");
    json_t *ours = json_object_get(obs, "ours");
    int32_t their_id = (int32_t)json_integer_value(json_object_get(theirs, "id"));
    CHECK(their_id > 0 && their_id != our_id);
    CHECK(json_is_true(json_object_get(theirs, "decoded_back")));

    /* Their frame: our client reads its header and fetches the schema. */
    uint8_t frame[4096], payload_avsc[4096];
    size_t flen =
        unhex(json_string_value(json_object_get(theirs, "frame_hex")), frame, sizeof frame);
    size_t alen = unhex(json_string_value(json_object_get(theirs, "avsc_payload_hex")),
                        payload_avsc, sizeof payload_avsc);
    const sluice_sr_schema *s = NULL;
    const uint8_t *payload;
    size_t plen;
    CHECK_EQ(sluice_sr_get_by_frame(sr, frame, flen, &s, &payload, &plen, &err), 0);
    CHECK_EQ(s->id, their_id);
    CHECK_EQ(plen, alen);
    CHECK(memcmp(payload, payload_avsc, alen) == 0);
    char *c_registered = canonical_of(s->schema);
    char *c_theirs = canonical_of(json_string_value(json_object_get(theirs, "schema")));
    CHECK(c_registered && c_theirs);
    CHECK_STR(c_registered, c_theirs);
    sluice_sr_schema_release(s);

    /* The same schema text registered through our client: the same id. */
    int32_t same_id;
    CHECK_EQ(sluice_sr_register(sr, "compat-theirs-value",
                                json_string_value(json_object_get(theirs, "schema")), NULL,
                                &same_id, &err),
             0);
    CHECK_EQ(same_id, their_id);

    /* What we registered, as they saw it. */
    CHECK_EQ(json_integer_value(json_object_get(ours, "latest_id")), our_id);
    char *c_ours = canonical_of(OURS);
    CHECK_STR(json_string_value(json_object_get(ours, "canonical")), c_ours);
    flen = unhex(json_string_value(json_object_get(ours, "frame_hex")), frame, sizeof frame);
    int32_t framed_id;
    CHECK_EQ(sluice_wire_read(frame, flen, &framed_id, &payload, &plen, &err), 0);
    CHECK_EQ(framed_id, our_id);
    CHECK(plen >= 1 + 8 + 1); /* long (>=1 byte) + double (8) + enum (1) */

    free(c_registered);
    free(c_theirs);
    free(c_ours);
    json_decref(obs);
    sluice_sr_destroy(sr);
    CHECK_EQ(test_proc_stop(&reg, SIGTERM, 10000), 0);
    test_rmtree(tmp);
    free(tmp);
}

TEST_MAIN(T(test_with_kafkajs_and_avsc))
