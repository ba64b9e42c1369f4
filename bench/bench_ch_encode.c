/*
 * bench_ch_encode.c — nanoseconds per value of ch_encode_value, the sink's
 * per-field hot path, for the conversions a typical Avro topic exercises:
 * long → Int64, string (20 bytes) → String and Nullable(String),
 * timestamp-millis → DateTime, Avro decimal (8 bytes) → Decimal64, enum
 * symbol → Enum8 (by name among 8 symbols).
 *
 * Each figure is the best of 5 runs of N values into one buffer that is
 * reset (not freed) every 4096 values, as a batch buffer would be reused:
 * the cost of buf growth is amortised away and what remains is the
 * conversion itself. A checksum of the output is printed so the compiler
 * cannot drop the work. Single-threaded; prints "key: value" lines.
 */
#include "codec/ch_type.h"
#include "common/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 2000000
#define RUNS 5

static uint64_t checksum;

static double ns_per_value(const char *type_text, const cvalue *vals, size_t n_vals)
{
    arena a;
    arena_init(&a, ARENA_DEFAULT_CHUNK, 1 << 20);
    const ch_type *t;
    sluice_error err;
    if (ch_type_parse(type_text, &a, &t, &err) != 0) {
        fprintf(stderr, "bench_ch_encode: %s\n", err.msg);
        exit(1);
    }
    buf out;
    buf_init(&out, 1 << 24);
    double best = 1e30;
    for (int r = 0; r < RUNS; r++) {
        int64_t t0 = clock_mono_ns();
        for (size_t i = 0; i < N; i++) {
            if ((i & 4095) == 0) {
                if (out.len) checksum += out.data[out.len - 1];
                buf_reset(&out);
            }
            if (ch_encode_value(t, &vals[i % n_vals], &out, &err) != 0) {
                fprintf(stderr, "bench_ch_encode: %s: %s\n", type_text, err.msg);
                exit(1);
            }
        }
        double ns = (double)(clock_mono_ns() - t0) / N;
        if (ns < best) best = ns;
    }
    buf_free(&out);
    arena_free(&a);
    return best;
}

int main(void)
{
    enum { K = 64 };
    static cvalue ints[K], strs[K], nstrs[K], ts[K], decs[K], enums[K];
    static char text[K][21];
    static uint8_t dec_bytes[K][8];
    static const char *const symbols[] = {"CREATED",   "PAID",     "PACKED",    "SHIPPED",
                                          "DELIVERED", "RETURNED", "CANCELLED", "LOST"};
    for (int i = 0; i < K; i++) {
        ints[i] = cv_int((int64_t)i * 1000003 - 31000000, CV_UNIT_NONE);
        snprintf(text[i], sizeof text[i], "user-%015d", i * 7919);
        strs[i] = cv_string(text[i], 20);
        nstrs[i] = i % 8 == 0 ? cv_null() : strs[i];
        ts[i] = cv_int(1795378321123LL + (int64_t)i * 60013, CV_UNIT_TS_MS);
        int64_t unscaled = (int64_t)i * 123456789 - 987654321; /* scale 4 */
        for (int b = 0; b < 8; b++)
            dec_bytes[i][b] = (uint8_t)((uint64_t)unscaled >> (56 - 8 * b));
        decs[i] =
            (cvalue){.kind = CV_DECIMAL, .s = (const char *)dec_bytes[i], .len = 8, .scale = 4};
        const char *sym = symbols[i % 8];
        enums[i] = (cvalue){.kind = CV_ENUM, .s = sym, .len = strlen(sym), .i = i % 8};
    }
    printf("values_per_run: %d\n", N);
    printf("int64_from_long.ns_per_value: %.1f\n", ns_per_value("Int64", ints, K));
    printf("string20_from_string.ns_per_value: %.1f\n", ns_per_value("String", strs, K));
    printf("nullable_string20_from_string.ns_per_value: %.1f\n",
           ns_per_value("Nullable(String)", nstrs, K));
    printf("datetime_from_ts_ms.ns_per_value: %.1f\n", ns_per_value("DateTime", ts, K));
    printf("decimal64_from_avro_decimal.ns_per_value: %.1f\n",
           ns_per_value("Decimal(18, 4)", decs, K));
    printf("enum8_from_enum_symbol.ns_per_value: %.1f\n",
           ns_per_value("Enum8('CREATED' = 1, 'PAID' = 2, 'PACKED' = 3, 'SHIPPED' = 4, "
                        "'DELIVERED' = 5, 'RETURNED' = 6, 'CANCELLED' = 7, 'LOST' = 8)",
                        enums, K));
    printf("checksum: %llu\n", (unsigned long long)checksum);
    return 0;
}
