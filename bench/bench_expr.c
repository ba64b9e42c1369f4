/*
 * bench_expr.c — what a transform expression costs per row, single thread:
 *
 *   1. a typical filter,
 *        status != 'CANCELLED' and qty > 0 and price * qty >= 100.0
 *      through expr_eval_bool, and the same test written by hand in C (the
 *      floor an interpreter is measured against);
 *   2. a derived column,
 *        concat(upper(country), '-', cast(id AS String))
 *      through expr_eval with the scratch buffer reset per row, as the sink
 *      does, and a hand-written equivalent (a loop into a stack buffer);
 *   3. compiling both expressions once (what a route pays at startup).
 *
 * The rows cycle through 16 prepared slot arrays so that branches are not
 * trivially predictable. Each figure is the median of 5 repetitions.
 *
 * usage: bench_expr [--iterations N]   (other arguments are ignored, since
 * bench/run.sh hands every benchmark the same ones)
 * Prints one "key: value" line per figure.
 */
#include "codec/expr.h"
#include "common/clock.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { F_STATUS, F_QTY, F_PRICE, F_COUNTRY, F_ID, N_SLOTS };
enum { N_ROWS = 16, REPS = 5 };

static const char *const SLOT_NAMES[N_SLOTS] = {"status", "qty", "price", "country", "id"};

static int resolve(void *ctx, const char *path)
{
    (void)ctx;
    for (int k = 0; k < N_SLOTS; k++)
        if (strcmp(SLOT_NAMES[k], path) == 0) return k;
    return -1;
}

static const char *const STATUSES[] = {"NEW", "PAID", "CANCELLED", "SHIPPED"};
static const char *const COUNTRIES[] = {"de", "fr", "us", "jp", "br"};

static cvalue rows[N_ROWS][N_SLOTS];

static void make_rows(void)
{
    for (int r = 0; r < N_ROWS; r++) {
        const char *st = STATUSES[(r * 7) % 4];
        const char *co = COUNTRIES[(r * 3) % 5];
        rows[r][F_STATUS] = cv_string(st, strlen(st));
        rows[r][F_QTY] = cv_int((r * 5) % 7, CV_UNIT_NONE);
        rows[r][F_PRICE] = cv_double(12.5 * (r % 5 + 1));
        rows[r][F_COUNTRY] = cv_string(co, strlen(co));
        rows[r][F_ID] = cv_int(1000003 * (r + 1), CV_UNIT_NONE);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static const expr *compile_or_die(const char *text, arena *a)
{
    expr_resolver r = {resolve, NULL};
    const expr *e;
    sluice_error err;
    if (expr_compile(text, &r, a, &e, &err) != 0) {
        fprintf(stderr, "bench_expr: %s: %s\n", text, err.msg);
        exit(1);
    }
    return e;
}

static int handwritten_filter(const cvalue *row)
{
    const cvalue *st = &row[F_STATUS], *q = &row[F_QTY], *p = &row[F_PRICE];
    return !(st->len == 9 && memcmp(st->s, "CANCELLED", 9) == 0) && q->i > 0 &&
           p->d * (double)q->i >= 100.0;
}

static size_t handwritten_derived(const cvalue *row, char *out, size_t cap)
{
    const cvalue *co = &row[F_COUNTRY];
    size_t n = co->len < cap ? co->len : cap;
    for (size_t i = 0; i < n; i++) {
        char c = co->s[i];
        out[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
    /* As fast as it gets: no snprintf (the id is positive here). */
    char rev[20];
    size_t k = 0;
    for (uint64_t u = (uint64_t)row[F_ID].i; u; u /= 10)
        rev[k++] = (char)('0' + u % 10);
    if (n + 1 + k > cap) return n;
    out[n++] = '-';
    while (k)
        out[n++] = rev[--k];
    return n;
}

int main(int argc, char **argv)
{
    long iterations = 5000000;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--iterations") == 0) iterations = atol(argv[++i]);
    if (iterations < REPS) iterations = REPS;
    long per_rep = iterations / REPS;
    make_rows();

    const char *filter_text = "status != 'CANCELLED' and qty > 0 and price * qty >= 100.0";
    const char *derived_text = "concat(upper(country), '-', cast(id AS String))";

    /* 3. compile cost */
    double compile_ns[REPS];
    for (int rep = 0; rep < REPS; rep++) {
        const int n = 2000;
        int64_t t0 = clock_mono_ns();
        for (int k = 0; k < n; k++) {
            arena a;
            arena_init(&a, ARENA_DEFAULT_CHUNK, 1 << 20);
            compile_or_die(filter_text, &a);
            compile_or_die(derived_text, &a);
            arena_free(&a);
        }
        compile_ns[rep] = (double)(clock_mono_ns() - t0) / n;
    }

    arena a;
    arena_init(&a, ARENA_DEFAULT_CHUNK, 1 << 20);
    const expr *filter = compile_or_die(filter_text, &a);
    const expr *derived = compile_or_die(derived_text, &a);
    buf scratch;
    buf_init(&scratch, 1 << 20);
    expr_ctx ctx = {.now_s = 1772600767, .scratch = &scratch};
    sluice_error err;

    /* 1. filter */
    double filter_ns[REPS], filter_hand_ns[REPS];
    long kept = 0, kept_hand = 0;
    for (int rep = 0; rep < REPS; rep++) {
        int64_t t0 = clock_mono_ns();
        for (long k = 0; k < per_rep; k++) {
            ctx.slots = rows[k % N_ROWS];
            int keep;
            if (expr_eval_bool(filter, &ctx, &keep, &err) != 0) {
                fprintf(stderr, "bench_expr: filter: %s\n", err.msg);
                return 1;
            }
            kept += keep;
        }
        filter_ns[rep] = (double)(clock_mono_ns() - t0) / (double)per_rep;
        t0 = clock_mono_ns();
        for (long k = 0; k < per_rep; k++)
            kept_hand += handwritten_filter(rows[k % N_ROWS]);
        filter_hand_ns[rep] = (double)(clock_mono_ns() - t0) / (double)per_rep;
    }
    if (kept != kept_hand) {
        fprintf(stderr, "bench_expr: filter kept %ld rows, the hand-written one %ld\n", kept,
                kept_hand);
        return 1;
    }

    /* 2. derived column */
    double derived_ns[REPS], derived_hand_ns[REPS];
    size_t bytes = 0, bytes_hand = 0;
    char out[64];
    for (int rep = 0; rep < REPS; rep++) {
        int64_t t0 = clock_mono_ns();
        for (long k = 0; k < per_rep; k++) {
            ctx.slots = rows[k % N_ROWS];
            buf_reset(&scratch);
            cvalue v;
            if (expr_eval(derived, &ctx, &v, &err) != 0) {
                fprintf(stderr, "bench_expr: derived: %s\n", err.msg);
                return 1;
            }
            bytes += v.len;
        }
        derived_ns[rep] = (double)(clock_mono_ns() - t0) / (double)per_rep;
        t0 = clock_mono_ns();
        for (long k = 0; k < per_rep; k++)
            bytes_hand += handwritten_derived(rows[k % N_ROWS], out, sizeof out);
        derived_hand_ns[rep] = (double)(clock_mono_ns() - t0) / (double)per_rep;
    }
    if (bytes != bytes_hand) {
        fprintf(stderr, "bench_expr: derived wrote %zu bytes, the hand-written one %zu\n", bytes,
                bytes_hand);
        return 1;
    }

    printf("expr_iterations: %ld\n", per_rep * REPS);
    printf("expr_filter_ns_per_eval: %.1f\n", median(filter_ns, REPS));
    printf("expr_filter_handwritten_ns_per_eval: %.1f\n", median(filter_hand_ns, REPS));
    printf("expr_filter_kept_fraction: %.3f\n", (double)kept / (double)(per_rep * REPS));
    printf("expr_derived_ns_per_eval: %.1f\n", median(derived_ns, REPS));
    printf("expr_derived_handwritten_ns_per_eval: %.1f\n", median(derived_hand_ns, REPS));
    printf("expr_compile_both_us: %.2f\n", median(compile_ns, REPS) / 1000.0);
    buf_free(&scratch);
    arena_free(&a);
    return 0;
}
