/*
 * expr.h — the small expression language of sink transforms (filter
 * predicates and derived columns), documented in docs/TRANSFORMS.md.
 *
 * A route's expressions are compiled once, when the plan is built: field
 * names are resolved to slot numbers through the caller's resolver, so
 * evaluation is a walk over a compiled tree reading slots by index, with no
 * name lookups and no allocation (string results go to a per-row scratch
 * buffer the caller resets). A compiled expr is immutable and may be
 * evaluated by several threads at once, each with its own expr_ctx.
 *
 * The language (SQL-flavoured, case-insensitive keywords):
 *   literals     42, -7, 1.5, 2e3, 'text' ('' escapes a quote), true, false, null
 *   fields       user.id, items.qty (dotted paths as the plan names them),
 *                `odd name` for anything else
 *   arithmetic   + - * / %  (int op int stays int64, overflow is a row error;
 *                any float makes it float; / is always float; % needs ints;
 *                division or modulo by zero is a row error)
 *   comparison   = == != <> < <= > >=, IS NULL, IS NOT NULL,
 *                x IN (a, b, ...), x NOT IN (...)
 *   logic        AND, OR, NOT (three-valued: NULL AND false = false, ...)
 *   functions    coalesce(a, b, ...), upper(s), lower(s) (ASCII only),
 *                concat(a, b, ...), length(s) (bytes), abs(x),
 *                if(cond, a, b), cast(x AS Int64|Int32|UInt64|Float64|
 *                String|Bool), now() (the batch's time, a timestamp in
 *                seconds), index() (the element index under explode, 0-based)
 * NULL propagates through arithmetic, comparisons and most functions
 * (coalesce and IS NULL are how to handle it); a filter whose result is NULL
 * drops the row. Timestamps compare with ISO-8601 string literals
 * (at >= '2026-01-01T00:00:00Z'); enum values compare as their symbols.
 */
#ifndef SLUICE_CODEC_EXPR_H
#define SLUICE_CODEC_EXPR_H

#include <stdint.h>

#include <sluice/error.h>

#include "codec/value.h"
#include "common/arena.h"
#include "common/buf.h"

typedef struct expr expr;

/* The caller's map from names to slots. resolve returns the slot index
 * (>= 0) for a field path, or -1 if the row has no such field. index()
 * resolves the reserved path "#index" (-1 when the route does not explode). */
typedef struct expr_resolver {
    int (*resolve)(void *ctx, const char *path);
    void *ctx;
} expr_resolver;

/* Compile `text`. Errors name the offset and what is wrong:
 *   "offset 7: unknown field 'usr.id'"
 *   "offset 14: expected ')' after the arguments of concat"
 *   "offset 0: upper() takes 1 argument, got 2"
 *   "offset 5: index() is only available on a route with explode"
 *   "offset 9: unknown type 'Int7' in cast (Int64, Int32, UInt64, Float64, String, Bool)"
 * Nesting depth and length are bounded (an expression is config, but it is
 * still parsed without recursion blowing the stack). Nodes live in `a`. */
int expr_compile(const char *text, const expr_resolver *r, arena *a, const expr **out,
                 sluice_error *err);

typedef struct expr_ctx {
    const cvalue *slots; /* the row's values, indexed by resolved slot */
    int64_t now_s;       /* what now() returns */
    buf *scratch;        /* string results; the caller resets it between rows */
} expr_ctx;

/* Evaluate to a value. Runtime errors (overflow, division by zero, a cast
 * that cannot convert, comparing a string with a number) are SLUICE_EINVAL
 * or SLUICE_ERANGE with err naming the operation: the plan turns them into
 * per-row errors (the row goes to the dead-letter topic with the reason). */
int expr_eval(const expr *e, const expr_ctx *ctx, cvalue *out, sluice_error *err);

/* Evaluate a predicate: *keep = 1 for true, 0 for false or NULL. A
 * non-boolean result is an error. */
int expr_eval_bool(const expr *e, const expr_ctx *ctx, int *keep, sluice_error *err);

#endif
