/*
 * fuzz_expr.c — libFuzzer target for the transform expression language
 * (src/codec/expr_parse.c and expr_eval.c). The input is expression text (a little over the
 * 4096-byte bound is let through, so the bound is exercised); it is compiled
 * with a resolver that knows a field of every cvalue kind and unit, plus
 * edge values (INT64_MIN/MAX, NaN, infinity, a 32-byte decimal, an
 * out-of-range date and time of day), and evaluated on those fixed values.
 *
 * Besides "no crash, no leak, no UBSan report" (signed overflow included)
 * it checks, and abort()s on: every error names an offset; evaluation is
 * deterministic and does not depend on where in scratch it starts or on
 * scratch moving (a fresh, a pre-filled and a small buffer give the same
 * result, unless one of them is full); what a node leaves in scratch is its
 * result and nothing else; a filter agrees with the plain evaluation. Seeds: fuzz/corpus/expr/;
 * fuzz/expr.dict lists the language's words (pass -dict=fuzz/expr.dict).
 */
#include "codec/expr.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t DEC_SMALL[] = {0x04, 0xe2};
static const uint8_t DEC_NEG[] = {0xfb};
static const uint8_t DEC_WIDE[32] = {0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                     0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t DEC_TOO_WIDE[33] = {0x01};

static const struct {
    const char *name;
    cvalue v;
} FIELDS[] = {
    {"i", {.kind = CV_INT, .i = 42}},
    {"neg", {.kind = CV_INT, .i = -7}},
    {"zero", {.kind = CV_INT, .i = 0}},
    {"big", {.kind = CV_INT, .i = INT64_MAX}},
    {"small", {.kind = CV_INT, .i = INT64_MIN}},
    {"f", {.kind = CV_DOUBLE, .d = 1.5}},
    {"f32", {.kind = CV_DOUBLE, .d = 0.25, .is_float32 = 1}},
    {"nan", {.kind = CV_DOUBLE, .d = NAN}},
    {"inf", {.kind = CV_DOUBLE, .d = -INFINITY}},
    {"huge", {.kind = CV_DOUBLE, .d = 1e308}},
    {"s", {.kind = CV_STRING, .s = "hello", .len = 5}},
    {"empty", {.kind = CV_STRING, .s = "", .len = 0}},
    {"num", {.kind = CV_STRING, .s = "-9223372036854775808", .len = 20}},
    {"iso", {.kind = CV_STRING, .s = "2026-01-01T00:00:00.5+01:00", .len = 27}},
    {"utf8", {.kind = CV_STRING, .s = "\xc3\xa4\xff\x00z", .len = 5}},
    {"e", {.kind = CV_ENUM, .s = "ACTIVE", .len = 6, .i = 1}},
    {"y",
     {.kind = CV_BYTES,
      .s = "\x00\xff"
           "Ab",
      .len = 4}},
    {"d", {.kind = CV_DECIMAL, .s = (const char *)DEC_SMALL, .len = 2, .scale = 2}},
    {"nd", {.kind = CV_DECIMAL, .s = (const char *)DEC_NEG, .len = 1, .scale = 2}},
    {"wide", {.kind = CV_DECIMAL, .s = (const char *)DEC_WIDE, .len = 32, .scale = 76}},
    {"toowide", {.kind = CV_DECIMAL, .s = (const char *)DEC_TOO_WIDE, .len = 33, .scale = 0}},
    {"oddscale", {.kind = CV_DECIMAL, .s = (const char *)DEC_SMALL, .len = 2, .scale = -80}},
    {"t", {.kind = CV_BOOL, .i = 1}},
    {"fl", {.kind = CV_BOOL, .i = 0}},
    {"n", {.kind = CV_NULL}},
    {"ts_s", {.kind = CV_INT, .unit = CV_UNIT_TS_S, .i = 1772600767}},
    {"ts_ms", {.kind = CV_INT, .unit = CV_UNIT_TS_MS, .i = -1}},
    {"ts_us", {.kind = CV_INT, .unit = CV_UNIT_TS_US, .i = INT64_MIN}},
    {"ts_max", {.kind = CV_INT, .unit = CV_UNIT_TS_S, .i = INT64_MAX}},
    {"date", {.kind = CV_INT, .unit = CV_UNIT_DATE_DAYS, .i = 20516}},
    {"date_max", {.kind = CV_INT, .unit = CV_UNIT_DATE_DAYS, .i = INT64_MAX}},
    {"tod_ms", {.kind = CV_INT, .unit = CV_UNIT_TIME_MS, .i = 45296789}},
    {"tod_bad", {.kind = CV_INT, .unit = CV_UNIT_TIME_US, .i = -5}},
    {"items.qty", {.kind = CV_INT, .i = 2}},
    {"odd name", {.kind = CV_STRING, .s = "x", .len = 1}},
    {"#index", {.kind = CV_INT, .i = 3}},
};
#define N_FIELDS (sizeof FIELDS / sizeof FIELDS[0])

static int resolve(void *ctx, const char *path)
{
    for (size_t k = 0; k < N_FIELDS; k++)
        if (strcmp(FIELDS[k].name, path) == 0)
            return ctx || strcmp(path, "#index") != 0 ? (int)k : -1;
    return -1;
}

static int with_index = 1;

static void check_error(int rc, const sluice_error *err)
{
    if (rc >= 0 || err->code != rc || err->msg[0] == '\0') abort();
}

/* Everything about a result, including where its bytes are. */
typedef struct outcome {
    int rc;
    cvalue v;
    char
        text[4096 + 64]; /* a copy of its bytes (results are at most 64 KiB, compared up to here) */
    size_t scratch_len;
} outcome;

static void evaluate(const expr *e, const cvalue *slots, buf *scratch, size_t prefill, outcome *o)
{
    static const char fill[64] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    buf_reset(scratch);
    for (size_t k = 0; k < prefill; k += sizeof fill)
        if (buf_append(scratch, fill, prefill - k < sizeof fill ? prefill - k : sizeof fill))
            abort();
    expr_ctx ctx = {.slots = slots, .now_s = 1772600767, .scratch = scratch};
    sluice_error err = {0};
    memset(o, 0, sizeof *o);
    o->rc = expr_eval(e, &ctx, &o->v, &err);
    if (o->rc) {
        check_error(o->rc, &err);
        if (strncmp(err.msg, "offset ", 7) != 0) abort();
        if (scratch->len != prefill) abort(); /* a failed evaluation leaves nothing */
        return;
    }
    const cvalue *v = &o->v;
    bool bytes =
        v->kind == CV_STRING || v->kind == CV_BYTES || v->kind == CV_ENUM || v->kind == CV_DECIMAL;
    if (bytes && v->len > 0 && !v->s) abort();
    uintptr_t p = (uintptr_t)v->s, base = (uintptr_t)scratch->data;
    bool in_scratch = bytes && v->len > 0 && scratch->data && p >= base && p < base + scratch->len;
    /* Scratch holds what the caller had, then exactly the result. */
    if (in_scratch && (p != base + prefill || scratch->len != prefill + v->len)) abort();
    if (!in_scratch && scratch->len != prefill) abort();
    if (bytes) memcpy(o->text, v->s, v->len < sizeof o->text ? v->len : sizeof o->text);
    o->scratch_len = scratch->len - prefill;
}

static bool same(const outcome *a, const outcome *b)
{
    if (a->rc != b->rc) return false;
    if (a->rc) return true;
    const cvalue *x = &a->v, *y = &b->v;
    if (x->kind != y->kind || x->unit != y->unit || x->i != y->i || x->len != y->len) return false;
    if (x->kind == CV_DOUBLE && !(x->d == y->d || (isnan(x->d) && isnan(y->d)))) return false;
    return memcmp(a->text, b->text, sizeof a->text) == 0 && a->scratch_len == b->scratch_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4200) return 0;
    char text[4201];
    memcpy(text, data, size);
    text[size] = '\0';

    cvalue slots[N_FIELDS];
    for (size_t k = 0; k < N_FIELDS; k++)
        slots[k] = FIELDS[k].v;
    expr_resolver r = {resolve, (size & 1) ? &with_index : NULL};

    /* Every third input gets a small arena, so running out while compiling
     * is exercised too. */
    arena a;
    arena_init(&a, ARENA_DEFAULT_CHUNK, size % 3 == 0 ? 16384 : 1 << 20);
    const expr *e = NULL;
    sluice_error err = {0};
    int rc = expr_compile(text, &r, &a, &e, &err);
    if (rc) {
        check_error(rc, &err);
        if (strncmp(err.msg, "offset ", 7) != 0) abort();
        arena_free(&a);
        return 0;
    }
    if (!e) abort();

    static outcome first, second, third;
    buf scratch;
    buf_init(&scratch, 1 << 16);
    evaluate(e, slots, &scratch, 0, &first);
    evaluate(e, slots, &scratch, 37, &second); /* shifted, and grown from a used buffer */
    buf_free(&scratch);
    buf_init(&scratch, 600);
    evaluate(e, slots, &scratch, 5, &third); /* fresh and small: appends move it, or it fills */
    if (!same(&first, &second) || !same(&first, &third)) {
        /* Only running out of scratch may depend on how much was in use. */
        if (first.rc != SLUICE_ENOMEM && second.rc != SLUICE_ENOMEM && third.rc != SLUICE_ENOMEM)
            abort();
    }

    /* As a filter: agrees with expr_eval on booleans and NULL. */
    expr_ctx ctx = {.slots = slots, .now_s = 1772600767, .scratch = &scratch};
    int keep = -1;
    buf_reset(&scratch);
    rc = expr_eval_bool(e, &ctx, &keep, &err);
    if (rc == 0) {
        if (first.rc != 0) abort();
        if (first.v.kind == CV_BOOL ? keep != (int)first.v.i
                                    : (first.v.kind != CV_NULL || keep != 0))
            abort();
    } else {
        check_error(rc, &err);
    }

    /* Without a scratch buffer: errors or the same value. */
    expr_ctx bare = {.slots = slots, .now_s = 1772600767, .scratch = NULL};
    cvalue v;
    rc = expr_eval(e, &bare, &v, &err);
    if (rc) check_error(rc, &err);
    if (rc == 0 && first.rc == 0 && v.kind != first.v.kind) abort();

    buf_free(&scratch);
    arena_free(&a);
    return 0;
}
