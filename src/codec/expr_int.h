/*
 * expr_int.h — what the two halves of the transform expression language
 * share, inside src/codec/ only: the compiled tree that expr_parse.c
 * builds (the tokenizer and the parser behind expr_compile) and
 * expr_eval.c walks (expr_eval, expr_eval_bool), and the two helpers
 * both use. The language is in expr.h and docs/TRANSFORMS.md.
 *
 * A tree is immutable once expr_compile returns: any number of threads
 * may evaluate it at once.
 */
#ifndef SLUICE_CODEC_EXPR_INT_H
#define SLUICE_CODEC_EXPR_INT_H

#include "codec/expr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    EXPR_MAX_LEN = 4096, /* bytes of expression text */
    EXPR_MAX_DEPTH = 64, /* parser recursion and tree height */
    SHOWN_MAX = 40,      /* bytes of a name or value quoted in a message */
    TEXT_TMP = 256,      /* a scalar's text: numbers, times, Decimal256 */
    DECIMAL_MAX_BYTES = 32,
};

/* ------------------------------------------------------------------ */
/* The tree                                                            */

typedef enum node_op {
    OP_LITERAL,
    OP_FIELD,
    OP_NEG,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_CMP,
    OP_AND,
    OP_OR,
    OP_NOT,
    OP_IS_NULL,
    OP_IS_NOT_NULL,
    OP_IN,
    OP_NOT_IN,
    OP_COALESCE,
    OP_UPPER,
    OP_LOWER,
    OP_CONCAT,
    OP_LENGTH,
    OP_ABS,
    OP_IF,
    OP_CAST,
    OP_NOW,
    OP_INDEX,
} node_op;

typedef enum cmp_op { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE } cmp_op;

typedef enum cast_type {
    CAST_INT64,
    CAST_INT32,
    CAST_UINT64,
    CAST_FLOAT64,
    CAST_STRING,
    CAST_BOOL,
} cast_type;

/* A point in time (or a time of day) as whole seconds and nanoseconds
 * (0..999999999): every unit and every ISO literal converts to it exactly. */
typedef struct tpoint {
    int64_t sec;
    int32_t nsec;
} tpoint;

struct expr {
    node_op op;
    int sub;    /* cmp_op of OP_CMP, cast_type of OP_CAST */
    int offset; /* where the node is in the text (a binary node: its operator) */
    int height; /* 1 for a leaf */
    int slot;   /* OP_FIELD, OP_INDEX */
    /* Operands. Binary nodes: a, b. OP_IN: a is the value, b the first
     * item. Functions, AND, OR: a is the first argument. Lists continue
     * through `next`. */
    const expr *a, *b;
    const expr *next;
    cvalue lit;       /* OP_LITERAL */
    bool lit_is_time; /* a string literal that reads as an ISO-8601 time */
    tpoint lit_time;
    const char *name; /* a function's name, for messages */
};

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* s (n bytes) is word, ASCII letters compared without case. */
static inline bool ascii_ieq(const char *s, size_t n, const char *word)
{
    size_t i = 0;
    for (; i < n && word[i]; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        char w = word[i];
        if (w >= 'A' && w <= 'Z') w = (char)(w - 'A' + 'a');
        if (c != w) return false;
    }
    return i == n && word[i] == '\0';
}

/* s quoted for a message: printable ASCII as is, other bytes as \xNN, at
 * most SHOWN_MAX bytes of input and then "...". Writes into dst (cap bytes)
 * and returns it. */
const char *expr_show(char *dst, size_t cap, const char *s, size_t n);

/* An ISO-8601 date or time as a point (iso8601.h's lenient form); 0, or -1
 * if s is not one. */
int expr_parse_iso_time(const char *s, size_t n, tpoint *out);

#endif
