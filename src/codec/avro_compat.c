/*
 * avro_compat.c — can data written with one Avro schema be read with another?
 * The rules are the Avro 1.11 spec's "Schema Resolution" section:
 *
 *   - same primitive type, or a promotion: int → long/float/double,
 *     long → float/double, float → double, string ↔ bytes;
 *   - records, enums and fixed match when their unqualified names are equal
 *     (so a namespace change alone is compatible), or when a reader alias
 *     names the writer type; an alias is a fullname (a short alias is in the
 *     reader type's namespace) and must equal the writer's fullname, as in
 *     Java's SchemaCompatibility, which Confluent's registry uses; fixed
 *     sizes must be equal;
 *   - record fields match by name or by a reader field alias; a reader field
 *     missing from the writer needs a default; writer-only fields are skipped;
 *   - an enum writer symbol missing from the reader needs a reader default;
 *   - arrays and maps resolve their items / values;
 *   - a writer union must have every branch readable; a reader union reads a
 *     writer type with the first branch that matches it.
 *
 * "First branch that matches" is refined as Java's resolver does, so that a
 * schema can always read itself: first a branch of exactly the same type
 * (same fullname for named types), then a named branch of the same kind whose
 * name or alias matches, then the first branch the writer type promotes to.
 * The branch is chosen by this shallow match and then resolved in depth; if
 * that fails, the pair fails (the spec does not try the next branch).
 *
 * Because every rule is a conjunction of independent obligations (the branch
 * choice is shallow), the check runs from an explicit work stack instead of
 * recursion: no schema, however deep or cyclic, can exhaust the C stack. Each
 * (reader record, writer record) pair is expanded once; meeting it again
 * (recursive types) adds nothing. Errors at a record (names, missing fields)
 * are found before errors inside its fields; otherwise the order is
 * depth-first in field order.
 *
 * Error paths: "$" is the top; ".name" a record field (reader's name);
 * "[*]" array items; ".*" map values. Union branches add nothing: the
 * message names the branch type.
 *
 * Reads the schemas only; allocates its scratch per call; any thread.
 */
#include <sluice/avro.h>

#include "common/buf.h"
#include "common/name_index.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bound on the work one check may do; far beyond real schemas, but it keeps a
 * pathological pair (thousands of same-named records) from eating memory. */
#define COMPAT_MAX_STEPS (1u << 22)

typedef enum seg_kind { SEG_NONE, SEG_FIELD, SEG_ITEMS, SEG_VALUES } seg_kind;

typedef struct step {
    const sluice_avro_node *reader, *writer;
    size_t parent; /* index of the step this one came from; SIZE_MAX at the top */
    seg_kind kind;
    const char *field; /* SEG_FIELD: the reader field's name */
} step;

typedef struct pair_set {
    const void **keys; /* 2 pointers per slot: reader, writer; NULL reader = empty */
    size_t n, cap;     /* cap: slots, a power of two */
} pair_set;

typedef struct checker {
    step *steps;
    size_t n_steps, steps_alloc;
    size_t *stack;
    size_t n_stack, stack_alloc;
    pair_set seen;
    sluice_error *err;
} checker;

/* ---- the visited set of record pairs ---------------------------------------- */

static size_t pair_hash(const void *r, const void *w, size_t mask)
{
    uint64_t h = (uint64_t)(uintptr_t)r * 0x9E3779B97F4A7C15ULL;
    h ^= (uint64_t)(uintptr_t)w + 0x632BE59BD9B4E019ULL + (h << 6) + (h >> 2);
    h ^= h >> 29;
    return (size_t)h & mask;
}

static void pair_set_place(const void **keys, size_t cap, const void *r, const void *w)
{
    size_t i = pair_hash(r, w, cap - 1);
    while (keys[2 * i])
        i = (i + 1) & (cap - 1);
    keys[2 * i] = r;
    keys[2 * i + 1] = w;
}

/* 1 if the pair was added, 0 if it was there, negative on ENOMEM. */
static int pair_set_add(pair_set *s, const void *r, const void *w)
{
    if (s->cap) {
        for (size_t i = pair_hash(r, w, s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
            if (!s->keys[2 * i]) break;
            if (s->keys[2 * i] == r && s->keys[2 * i + 1] == w) return 0;
        }
    }
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        const void **keys = calloc(2 * cap, sizeof *keys);
        if (!keys) return SLUICE_ENOMEM;
        for (size_t i = 0; i < s->cap; i++)
            if (s->keys[2 * i]) pair_set_place(keys, cap, s->keys[2 * i], s->keys[2 * i + 1]);
        free(s->keys);
        s->keys = keys;
        s->cap = cap;
    }
    pair_set_place(s->keys, s->cap, r, w);
    s->n++;
    return 1;
}

/* ---- steps and paths ------------------------------------------------------------ */

static int push_step(checker *c, const sluice_avro_node *r, const sluice_avro_node *w,
                     size_t parent, seg_kind kind, const char *field)
{
    if (c->n_steps >= COMPAT_MAX_STEPS)
        return sluice_error_set(c->err, SLUICE_ENOMEM,
                                "schemas too complex to compare (more than %u steps)",
                                COMPAT_MAX_STEPS);
    if (c->n_steps == c->steps_alloc) {
        size_t cap = c->steps_alloc ? c->steps_alloc * 2 : 64;
        step *grown = realloc(c->steps, cap * sizeof *grown);
        if (!grown)
            return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory comparing schemas");
        c->steps = grown;
        c->steps_alloc = cap;
    }
    if (c->n_stack == c->stack_alloc) {
        size_t cap = c->stack_alloc ? c->stack_alloc * 2 : 64;
        size_t *grown = realloc(c->stack, cap * sizeof *grown);
        if (!grown)
            return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory comparing schemas");
        c->stack = grown;
        c->stack_alloc = cap;
    }
    c->steps[c->n_steps] = (step){r, w, parent, kind, field};
    c->stack[c->n_stack++] = c->n_steps++;
    return 0;
}

/* Writes the path of step i ("$.a.b[*]") into out. */
static void step_path(const checker *c, size_t i, char *out, size_t cap)
{
    /* Collect the chain leaf → root, then print it root → leaf. */
    size_t chain[256];
    size_t depth = 0;
    bool clipped = false;
    for (size_t at = i; at != SIZE_MAX; at = c->steps[at].parent) {
        if (c->steps[at].kind == SEG_NONE) continue;
        if (depth == sizeof chain / sizeof chain[0]) {
            clipped = true;
            break;
        }
        chain[depth++] = at;
    }
    buf b;
    buf_init(&b, cap);
    int rc = buf_append_str(&b, clipped ? "$..." : "$");
    while (depth-- > 0 && rc == 0) {
        const step *s = &c->steps[chain[depth]];
        if (s->kind == SEG_FIELD)
            rc = buf_printf(&b, ".%s", s->field);
        else if (s->kind == SEG_ITEMS)
            rc = buf_append_str(&b, "[*]");
        else
            rc = buf_append_str(&b, ".*");
    }
    snprintf(out, cap, "%.*s", (int)b.len, b.data ? (const char *)b.data : "$");
    buf_free(&b);
}

static int conflict(checker *c, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int conflict(checker *c, size_t i, const char *fmt, ...)
{
    char path[256];
    char what[SLUICE_ERROR_MSG_MAX];
    step_path(c, i, path, sizeof path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return sluice_error_set(c->err, SLUICE_ECONFLICT, "%s: %s", path, what);
}

/* ---- matching ------------------------------------------------------------------ */

static bool is_named(const sluice_avro_node *n)
{
    return n->type == SLUICE_AVRO_RECORD || n->type == SLUICE_AVRO_ENUM ||
           n->type == SLUICE_AVRO_FIXED;
}

/* Reader and writer named types of the same kind denote the same type. */
static bool names_match(const sluice_avro_node *r, const sluice_avro_node *w)
{
    if (strcmp(r->fullname, w->fullname) == 0 || strcmp(r->name, w->name) == 0) return true;
    for (size_t i = 0; i < r->n_aliases; i++)
        if (strcmp(r->aliases[i], w->fullname) == 0) return true;
    return false;
}

static bool promotes(sluice_avro_type writer, sluice_avro_type reader)
{
    switch (writer) {
    case SLUICE_AVRO_INT:
        return reader == SLUICE_AVRO_LONG || reader == SLUICE_AVRO_FLOAT ||
               reader == SLUICE_AVRO_DOUBLE;
    case SLUICE_AVRO_LONG:
        return reader == SLUICE_AVRO_FLOAT || reader == SLUICE_AVRO_DOUBLE;
    case SLUICE_AVRO_FLOAT:
        return reader == SLUICE_AVRO_DOUBLE;
    case SLUICE_AVRO_STRING:
        return reader == SLUICE_AVRO_BYTES;
    case SLUICE_AVRO_BYTES:
        return reader == SLUICE_AVRO_STRING;
    default:
        return false;
    }
}

/* The reader union branch that reads a (non-union) writer type, or NULL. */
static const sluice_avro_node *reader_branch(const sluice_avro_node *u, const sluice_avro_node *w)
{
    /* The writer type itself (a schema read with itself): a pointer scan
     * first, so huge unions of named types stay cheap. */
    for (size_t i = 0; i < u->n_branches; i++)
        if (u->branches[i] == w) return w;
    for (size_t i = 0; i < u->n_branches; i++) {
        const sluice_avro_node *b = u->branches[i];
        if (b->type == w->type && (!is_named(w) || strcmp(b->fullname, w->fullname) == 0)) return b;
    }
    if (is_named(w))
        for (size_t i = 0; i < u->n_branches; i++) {
            const sluice_avro_node *b = u->branches[i];
            if (b->type == w->type && names_match(b, w)) return b;
        }
    for (size_t i = 0; i < u->n_branches; i++)
        if (promotes(w->type, u->branches[i]->type)) return u->branches[i];
    return NULL;
}

/* "int", "record 'a.B'", for messages. */
static const char *describe(const sluice_avro_node *n, char *out, size_t cap)
{
    if (is_named(n))
        snprintf(out, cap, "%s '%s'", sluice_avro_type_name(n->type), n->fullname);
    else
        snprintf(out, cap, "%s", sluice_avro_type_name(n->type));
    return out;
}

/* ---- one step ------------------------------------------------------------------- */

/* Name lookups in a record's fields or an enum's symbols: a scan for short
 * lists, a hash index for long ones, so checking two large schemas stays
 * linear. The parser guarantees the names are unique. */
#define LOOKUP_SCAN_MAX 16

typedef struct name_lookup {
    const char *const *names; /* enum symbols; NULL for record fields */
    const sluice_avro_field *fields;
    size_t n;
    name_index ix;
    bool indexed;
} name_lookup;

static const char *lookup_name(const name_lookup *l, size_t i)
{
    return l->names ? l->names[i] : l->fields[i].name;
}

static int lookup_init(name_lookup *l, const char *const *names, const sluice_avro_field *fields,
                       size_t n)
{
    *l = (name_lookup){.names = names, .fields = fields, .n = n};
    if (n <= LOOKUP_SCAN_MAX) return 0;
    if (name_index_init(&l->ix, n)) return SLUICE_ENOMEM;
    for (size_t i = 0; i < n; i++)
        name_index_add(&l->ix, lookup_name(l, i), i, NULL);
    l->indexed = true;
    return 0;
}

static void lookup_free(name_lookup *l)
{
    if (l->indexed) name_index_free(&l->ix);
}

static bool lookup_find(const name_lookup *l, const char *name, size_t *at)
{
    if (l->indexed) return name_index_find(&l->ix, name, at);
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(lookup_name(l, i), name) == 0) {
            *at = i;
            return true;
        }
    }
    return false;
}

/* The writer field a reader field reads: same name, else a reader alias. */
static const sluice_avro_field *writer_field(const name_lookup *wl, const sluice_avro_field *rf)
{
    size_t at;
    if (lookup_find(wl, rf->name, &at)) return &wl->fields[at];
    for (size_t a = 0; a < rf->n_aliases; a++)
        if (lookup_find(wl, rf->aliases[a], &at)) return &wl->fields[at];
    return NULL;
}

static int nomem(checker *c)
{
    return sluice_error_set(c->err, SLUICE_ENOMEM, "out of memory comparing schemas");
}

static int check_records(checker *c, size_t i)
{
    const sluice_avro_node *r = c->steps[i].reader, *w = c->steps[i].writer;
    int added = pair_set_add(&c->seen, r, w);
    if (added < 0) return nomem(c);
    if (added == 0) return 0; /* expanded already, or being expanded higher up (recursion) */
    name_lookup wl;
    if (lookup_init(&wl, NULL, w->fields, w->n_fields)) return nomem(c);
    int rc = 0;
    for (size_t k = 0; k < r->n_fields && rc == 0; k++) {
        const sluice_avro_field *rf = &r->fields[k];
        if (!writer_field(&wl, rf) && !rf->default_json)
            rc = conflict(c, i, "reader field '%s' has no default and is missing from writer",
                          rf->name);
    }
    /* Pushed in reverse so they are checked in field order. */
    for (size_t k = r->n_fields; k-- > 0 && rc == 0;) {
        const sluice_avro_field *rf = &r->fields[k];
        const sluice_avro_field *wf = writer_field(&wl, rf);
        if (wf) rc = push_step(c, rf->type, wf->type, i, SEG_FIELD, rf->name);
    }
    lookup_free(&wl);
    return rc;
}

static int check_enums(checker *c, size_t i)
{
    const sluice_avro_node *r = c->steps[i].reader, *w = c->steps[i].writer;
    if (r->enum_default) return 0;
    name_lookup rl;
    if (lookup_init(&rl, r->symbols, NULL, r->n_symbols)) return nomem(c);
    int rc = 0;
    for (size_t k = 0; k < w->n_symbols && rc == 0; k++) {
        size_t at;
        if (!lookup_find(&rl, w->symbols[k], &at))
            rc = conflict(c, i, "writer symbol '%s' not in reader enum and reader has no default",
                          w->symbols[k]);
    }
    lookup_free(&rl);
    return rc;
}

static int check_step(checker *c, size_t i)
{
    const sluice_avro_node *r = c->steps[i].reader, *w = c->steps[i].writer;
    char rd[300], wd[300];

    if (w->type == SLUICE_AVRO_UNION) {
        for (size_t k = w->n_branches; k-- > 0;) {
            int rc = push_step(c, r, w->branches[k], i, SEG_NONE, NULL);
            if (rc) return rc;
        }
        return 0;
    }
    if (r->type == SLUICE_AVRO_UNION) {
        const sluice_avro_node *b = reader_branch(r, w);
        if (!b)
            return conflict(c, i, "no branch of reader union can read writer type %s",
                            describe(w, wd, sizeof wd));
        return push_step(c, b, w, i, SEG_NONE, NULL);
    }
    if (r->type != w->type) {
        if (promotes(w->type, r->type)) return 0;
        return conflict(c, i, "reader type %s cannot read writer type %s",
                        describe(r, rd, sizeof rd), describe(w, wd, sizeof wd));
    }
    if (is_named(r) && !names_match(r, w))
        return conflict(c, i,
                        "reader %s cannot read writer %s: names differ and no reader alias "
                        "matches",
                        describe(r, rd, sizeof rd), describe(w, wd, sizeof wd));
    switch (r->type) {
    case SLUICE_AVRO_RECORD:
        return check_records(c, i);
    case SLUICE_AVRO_ENUM:
        return check_enums(c, i);
    case SLUICE_AVRO_FIXED:
        if (r->size != w->size)
            return conflict(c, i, "reader fixed '%s' has size %zu, writer fixed '%s' has size %zu",
                            r->fullname, r->size, w->fullname, w->size);
        return 0;
    case SLUICE_AVRO_ARRAY:
        return push_step(c, r->items, w->items, i, SEG_ITEMS, NULL);
    case SLUICE_AVRO_MAP:
        return push_step(c, r->values, w->values, i, SEG_VALUES, NULL);
    default:
        return 0; /* same primitive type */
    }
}

int sluice_avro_can_read(const sluice_avro_node *reader, const sluice_avro_node *writer,
                         sluice_error *err)
{
    if (!reader || !writer)
        return sluice_error_set(err, SLUICE_EINVAL, "sluice_avro_can_read: missing schema");
    checker c = {.err = err};
    int rc = push_step(&c, reader, writer, SIZE_MAX, SEG_NONE, NULL);
    while (rc == 0 && c.n_stack > 0)
        rc = check_step(&c, c.stack[--c.n_stack]);
    free(c.steps);
    free(c.stack);
    free(c.seen.keys);
    return rc;
}
