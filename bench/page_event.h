/*
 * page_event.h — the realistic event the codec benchmarks share: a web
 * shop's page event of 15 fields (a uuid, an ISO-8601 timestamp, nullable
 * strings, longs, two enums, an array of records with an inner string
 * array, a map, a boolean), its Avro schema, and a deterministic generator
 * of distinct events as JSON text. bench_avro_json (JSON → Avro) and
 * bench_codec (Avro → RowBinary) measure the same messages.
 */
#ifndef SLUICE_BENCH_PAGE_EVENT_H
#define SLUICE_BENCH_PAGE_EVENT_H

#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>

#define DISTINCT 1024

static const char *schema_text =
    "{\"type\":\"record\",\"name\":\"PageEvent\",\"namespace\":\"com.acme.events\",\"fields\":["
    "{\"name\":\"event_id\",\"type\":{\"type\":\"string\",\"logicalType\":\"uuid\"}},"
    "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
    "{\"name\":\"user_id\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"session_id\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"type\",\"type\":{\"type\":\"enum\",\"name\":\"Type\",\"symbols\":[\"VIEW\","
    "\"CLICK\",\"ADD_TO_CART\",\"PURCHASE\"]}},"
    "{\"name\":\"url\",\"type\":\"string\"},"
    "{\"name\":\"referrer\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"duration_ms\",\"type\":\"long\"},"
    "{\"name\":\"count\",\"type\":\"long\"},"
    "{\"name\":\"amount\",\"type\":[\"null\",\"double\"],\"default\":null},"
    "{\"name\":\"currency\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"device\",\"type\":{\"type\":\"enum\",\"name\":\"Device\",\"symbols\":["
    "\"DESKTOP\",\"MOBILE\",\"TABLET\"]}},"
    "{\"name\":\"items\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\","
    "\"name\":\"Item\",\"fields\":[{\"name\":\"sku\",\"type\":\"string\"},"
    "{\"name\":\"qty\",\"type\":\"int\"},{\"name\":\"price\",\"type\":\"double\"},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}}]}}},"
    "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":\"string\"}},"
    "{\"name\":\"consent\",\"type\":\"boolean\"}]}";

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static unsigned next_rand(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* One event as JSON text (malloc'd). */
static char *make_event(int i)
{
    static const char *types[] = {"VIEW", "CLICK", "ADD_TO_CART", "PURCHASE"};
    static const char *devices[] = {"DESKTOP", "MOBILE", "TABLET"};
    static const char *tags[] = {"sale", "new", "eco", "gift", "xl", "blue"};
    buf b;
    buf_init(&b, 1 << 16);
    int rc = buf_printf(&b,
                        "{\"event_id\":\"%08x-%04x-4%03x-a%03x-%012x\","
                        "\"ts\":\"2026-11-%02uT%02u:%02u:%02u.%03uZ\",",
                        (unsigned)i * 2654435761u, next_rand(65536), next_rand(4096),
                        next_rand(4096), next_rand(1u << 30), 1 + next_rand(28), next_rand(24),
                        next_rand(60), next_rand(60), next_rand(1000));
    if (next_rand(4))
        rc |= buf_printf(&b, "\"user_id\":\"user-%u\",", next_rand(1000000));
    else
        rc |= buf_printf(&b, "\"user_id\":null,");
    rc |= buf_printf(&b,
                     "\"session_id\":\"s-%u-%u\",\"type\":\"%s\","
                     "\"url\":\"https://shop.example.com/p/%u?ref=home&utm_source=news\",",
                     next_rand(100000), next_rand(100000), types[next_rand(4)], next_rand(50000));
    if (next_rand(2)) rc |= buf_printf(&b, "\"referrer\":\"https://search.example.org/\",");
    rc |= buf_printf(&b, "\"duration_ms\":%u,\"count\":%u,", next_rand(600000), next_rand(20));
    if (next_rand(3) == 0)
        rc |= buf_printf(&b, "\"amount\":%u.%02u,\"currency\":\"EUR\",", next_rand(1000),
                         next_rand(100));
    rc |= buf_printf(&b, "\"device\":\"%s\",\"items\":[", devices[next_rand(3)]);
    unsigned n_items = next_rand(4);
    for (unsigned k = 0; k < n_items; k++) {
        rc |= buf_printf(&b, "%s{\"sku\":\"SKU-%06u\",\"qty\":%u,\"price\":%u.%02u,\"tags\":[",
                         k ? "," : "", next_rand(1000000), 1 + next_rand(5), next_rand(500),
                         next_rand(100));
        unsigned n_tags = next_rand(4);
        for (unsigned t = 0; t < n_tags; t++)
            rc |= buf_printf(&b, "%s\"%s\"", t ? "," : "", tags[next_rand(6)]);
        rc |= buf_printf(&b, "]}");
    }
    rc |= buf_printf(&b,
                     "],\"attrs\":{\"ab_test\":\"variant-%c\",\"locale\":\"de-DE\","
                     "\"app_version\":\"4.%u.%u\"},\"consent\":%s}",
                     'A' + (char)next_rand(3), next_rand(20), next_rand(10),
                     next_rand(2) ? "true" : "false");
    if (rc) {
        fprintf(stderr, "page_event: building an event failed\n");
        exit(1);
    }
    return buf_detach(&b, NULL);
}

#endif
