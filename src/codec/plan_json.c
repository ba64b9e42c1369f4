/*
 * plan_json.c — JSON messages into RowBinary, straight from the text: the
 * sink's plan for topics without a schema (plan.h: plan_compile_json).
 *
 * Every insertable column is fed from the message by its name as a path
 * ("user.id" is {"user.id": v} or {"user": {"id": v}}), and so is every
 * field a transform expression reads. Compiling turns those paths into a
 * tree of levels, one per object depth: a level maps a key to the columns
 * and slots it feeds (the whole rest of a path written as one key) and to
 * the level below (a path's prefix up to a separator). Running walks the
 * message once with the streaming reader (json_lex.h): a key found in the
 * level is encoded straight into its column's scratch (ch_encode_json_text),
 * a key that leads deeper is walked into, everything else is skipped
 * (validated). No tree is built.
 *
 * Two spellings of one path in one message ("a.b" and {"a":{"b"}}): the one
 * a lookup would try first wins, whatever order they come in — the literal
 * key, then the prefixes from the left (each way of reaching a path has a
 * rank; a better-ranked value replaces a worse one). That is what the tree
 * lookup the sink ran before did, and tests/unit/test_plan_json.c runs both
 * (the tree one is kept as tests/support/plan_json_tree.c) on the same
 * messages. By design this one also takes an integer literal past int64
 * (as its exact text: a UInt64 column gets it whole) where the tree refused
 * the message.
 *
 * Explode: the exploded array's place is remembered on the way through;
 * after the rest of the message, each element is walked with the element's
 * own level (paths below the exploded one) and a row emitted, the parent's
 * columns staying in their scratch.
 */
#include "codec/plan_int.h"

#include "codec/json_lex.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- compiling: paths into levels ----------------------------------------------------- */

static int resolve_json_path(void *ctx, const char *path);

/* Levels while they are built (heap), then frozen into the plan's arena. */
typedef struct blevel blevel;
typedef struct bentry {
    char *key;
    size_t len;
    jtarget *t;
    size_t nt, ct;
    blevel *nest;
} bentry;
struct blevel {
    bentry *e;
    size_t n, cap;
};

static void bl_free(blevel *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->e[i].key);
        free(l->e[i].t);
        bl_free(l->e[i].nest);
    }
    free(l->e);
    free(l);
}

static bentry *bl_entry(blevel *l, const char *key, size_t len)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->e[i].len == len && memcmp(l->e[i].key, key, len) == 0) return &l->e[i];
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        bentry *e = realloc(l->e, cap * sizeof *e);
        if (!e) return NULL;
        l->e = e;
        l->cap = cap;
    }
    bentry *e = &l->e[l->n];
    *e = (bentry){.key = strndup(key, len), .len = len};
    if (!e->key) return NULL;
    l->n++;
    return e;
}

/* Every way a lookup can reach `path` from level l, ranked in the order
 * the lookup tries them: the path as one key, then for each separator from
 * the left, the prefix as a key leading one level down. */
static int add_ways(blevel *l, const char *path, char sep, jtarget t, int *rank, int depth)
{
    if (depth > 16) return 0; /* the tree lookup gave up at this depth too */
    bentry *e = bl_entry(l, path, strlen(path));
    if (!e) return SLUICE_ENOMEM;
    if (e->nt == e->ct) {
        size_t ct = e->ct ? e->ct * 2 : 2;
        jtarget *nt = realloc(e->t, ct * sizeof *nt);
        if (!nt) return SLUICE_ENOMEM;
        e->t = nt;
        e->ct = ct;
    }
    t.rank = (*rank)++;
    e->t[e->nt++] = t;
    for (const char *s = strchr(path, sep); s; s = strchr(s + 1, sep)) {
        if (s == path) continue;
        bentry *h = bl_entry(l, path, (size_t)(s - path));
        if (!h) return SLUICE_ENOMEM;
        if (!h->nest && !(h->nest = calloc(1, sizeof *h->nest))) return SLUICE_ENOMEM;
        int rc = add_ways(h->nest, s + 1, sep, t, rank, depth + 1);
        if (rc) return rc;
    }
    return 0;
}

static uint32_t key_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* The Array columns below level l (any depth), each with its best rank. */
static void gather_columns(const plan *p, const jlevel *l, jgather *g, size_t *n)
{
    for (size_t i = 0; l && i < l->n; i++) {
        const jentry *e = &l->entries[i];
        for (size_t k = 0; k < e->n_targets; k++) {
            const jtarget *t = &e->targets[k];
            if (t->column < 0 || p->cols[t->column].type->kind != CH_ARRAY) continue;
            size_t j = 0;
            while (j < *n && g[j].column != t->column)
                j++;
            if (j == *n) g[(*n)++] = (jgather){.column = t->column, .rank = t->rank};
            if (t->rank < g[j].rank) g[j].rank = t->rank;
        }
        gather_columns(p, e->nest, g, n);
    }
}

static jlevel *freeze(plan *p, const blevel *b)
{
    if (!b) return NULL;
    jlevel *l = arena_calloc(&p->a, 1, sizeof *l, _Alignof(jlevel));
    if (!l) return NULL;
    l->n = b->n;
    l->entries = arena_calloc(&p->a, b->n ? b->n : 1, sizeof *l->entries, _Alignof(jentry));
    size_t slots = 8;
    while (slots < b->n * 2)
        slots *= 2;
    l->index = arena_calloc(&p->a, slots, sizeof *l->index, _Alignof(uint32_t));
    if (!l->entries || !l->index) return NULL;
    l->mask = slots - 1;
    for (size_t i = 0; i < b->n; i++) {
        jentry *e = &l->entries[i];
        e->key = arena_strndup(&p->a, b->e[i].key, b->e[i].len);
        e->len = b->e[i].len;
        e->hash = key_hash(e->key, e->len);
        e->id = p->n_jentries++;
        e->n_targets = b->e[i].nt;
        e->targets = arena_alloc(&p->a, (e->n_targets ? e->n_targets : 1) * sizeof(jtarget),
                                 _Alignof(jtarget));
        if (!e->key || !e->targets) return NULL;
        if (e->n_targets) memcpy(e->targets, b->e[i].t, e->n_targets * sizeof(jtarget));
        if (b->e[i].nest && !(e->nest = freeze(p, b->e[i].nest))) return NULL;
        if (e->nest) {
            jgather *g =
                arena_alloc(&p->a, (p->n_cols ? p->n_cols : 1) * sizeof *g, _Alignof(jgather));
            if (!g) return NULL;
            gather_columns(p, e->nest, g, &e->n_gather);
            e->gather = g;
        }
        size_t h = e->hash & l->mask;
        while (l->index[h])
            h = (h + 1) & l->mask;
        l->index[h] = (uint32_t)i + 1;
    }
    return l;
}

/* Where a path is read: the element of the exploded array (1, the part
 * below it in *rest, "" for the element itself) or the message (0). */
static int under_explode(const plan *p, const char *path, const char **rest)
{
    if (!p->explode_path) return 0;
    size_t n = strlen(p->explode_path);
    if (strcmp(path, p->explode_path) == 0) {
        *rest = "";
        return 1;
    }
    if (strncmp(path, p->explode_path, n) == 0 && path[n] == p->separator) {
        *rest = path + n + 1;
        return 1;
    }
    return 0;
}

static int add_target(plan *p, blevel *root, blevel *elem, const char *path, jtarget t,
                      jtarget *self, size_t *n_self)
{
    const char *rest;
    int rank = 0;
    if (!under_explode(p, path, &rest)) return add_ways(root, path, p->separator, t, &rank, 0);
    if (!*rest) {
        self[(*n_self)++] = t;
        return 0;
    }
    return add_ways(elem, rest, p->separator, t, &rank, 0);
}

/* Columns, slots and the exploded array, as levels. */
static int build_paths(plan *p)
{
    blevel *root = calloc(1, sizeof *root), *elem = calloc(1, sizeof *elem);
    size_t max_self = p->n_cols + p->n_slots + 1, n_self = 0, ne = 0, ns = 0;
    jtarget *self = calloc(max_self, sizeof *self);
    int *ecols = arena_calloc(&p->a, p->n_cols + 1, sizeof(int), _Alignof(int));
    int *eslots = arena_calloc(&p->a, p->n_slots + 1, sizeof(int), _Alignof(int));
    int rc = root && elem && self && ecols && eslots ? 0 : SLUICE_ENOMEM;
    for (size_t i = 0; rc == 0 && i < p->n_list; i++) {
        int col = p->list[i];
        const char *rest;
        if (under_explode(p, p->cols[col].name, &rest)) ecols[ne++] = col;
        rc = add_target(p, root, elem, p->cols[col].name, (jtarget){.column = col, .slot = -1},
                        self, &n_self);
    }
    for (size_t i = 0; rc == 0 && i < p->n_slots; i++) {
        if ((int)i == p->index_slot) continue;
        const char *rest;
        if (under_explode(p, p->slot_paths[i], &rest)) eslots[ns++] = (int)i;
        rc = add_target(p, root, elem, p->slot_paths[i], (jtarget){.column = -1, .slot = (int)i},
                        self, &n_self);
    }
    if (rc == 0 && p->explode_path) {
        int rank = 0;
        rc = add_ways(root, p->explode_path, p->separator,
                      (jtarget){.column = -1, .slot = -1, .explode = 1}, &rank, 0);
    }
    if (rc == 0) {
        p->jroot = freeze(p, root);
        p->jelem = p->explode_path ? freeze(p, elem) : NULL;
        p->jself = arena_alloc(&p->a, (n_self ? n_self : 1) * sizeof(jtarget), _Alignof(jtarget));
        if (!p->jroot || (p->explode_path && !p->jelem) || !p->jself) rc = SLUICE_ENOMEM;
    }
    if (rc == 0) {
        if (n_self) memcpy((jtarget *)p->jself, self, n_self * sizeof *self);
        p->n_jself = n_self;
        p->elem_columns = ecols;
        p->n_elem_columns = ne;
        p->elem_slots = eslots;
        p->n_elem_slots = ns;
    }
    bl_free(root);
    bl_free(elem);
    free(self);
    return rc;
}

static int resolve_json_path(void *ctx, const char *path)
{
    compiler *c = ctx;
    plan *p = c->p;
    if (strcmp(path, "#index") == 0 && !c->opt->explode) return -1;
    for (size_t i = 0; i < p->n_slots; i++)
        if (strcmp(p->slot_paths[i], path) == 0) return (int)i;
    if (p->n_slots >= MAX_PATHS) return -1;
    p->slot_paths[p->n_slots] = arena_strdup(&p->a, path);
    return p->slot_paths[p->n_slots] ? (int)p->n_slots++ : -1;
}

int plan_compile_json(const plan_column *columns, size_t n_columns, const plan_options *opt,
                      plan **out, sluice_error *err)
{
    *out = NULL;
    plan *p = plan_alloc(opt);
    if (!p) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    p->is_json = 1;
    compiler c = {.p = p, .opt = opt, .err = err};
    char *fed = calloc(n_columns ? n_columns : 1, 1);
    p->slot_paths = arena_calloc(&p->a, MAX_PATHS, sizeof(char *), _Alignof(char *));
    int rc = fed && p->slot_paths ? plan_copy_columns(p, columns, n_columns) : SLUICE_ENOMEM;
    if (rc) {
        sluice_error_set(err, rc, "out of memory");
        goto done;
    }
    c.fed = fed;
    p->explode_path = opt->explode ? arena_strdup(&p->a, opt->explode) : NULL;
    expr_resolver res = {resolve_json_path, &c};
    sluice_error e;
    if (opt->filter && *opt->filter &&
        expr_compile(opt->filter, &res, &p->a, &p->filter, &e) != 0) {
        rc = plan_fail(&c, SLUICE_ECONFIG, "transform.filter: %s", e.msg);
        goto done;
    }
    p->derived = arena_calloc(&p->a, opt->n_derived ? opt->n_derived : 1, sizeof(derived_col),
                              _Alignof(derived_col));
    for (size_t i = 0; p->derived && i < opt->n_derived; i++) {
        int col = plan_find_column(p, opt->derived[i].column);
        if (col < 0) {
            rc = plan_fail(&c, SLUICE_ECONFIG,
                           "transform.columns.%s: the table has no insertable column %s",
                           opt->derived[i].column, opt->derived[i].column);
            goto done;
        }
        if (expr_compile(opt->derived[i].expression, &res, &p->a, &p->derived[i].e, &e) != 0) {
            rc = plan_fail(&c, SLUICE_ECONFIG, "transform.columns.%s: %s", opt->derived[i].column,
                           e.msg);
            goto done;
        }
        p->derived[i].column = col;
        p->derived[i].name = opt->derived[i].column;
        p->n_derived++;
    }
    p->index_slot = opt->explode ? resolve_json_path(&c, "#index") : -1;
    for (size_t i = 0; i < n_columns; i++)
        fed[i] = (char)p->cols[i].insertable;
    if ((rc = plan_finish_list(p, fed)) != 0)
        sluice_error_set(err, rc, "out of memory");
    else if (p->n_list == 0)
        rc = plan_fail(&c, SLUICE_EINVAL, "the table has no insertable column");
    else if ((rc = build_paths(p)) != 0)
        sluice_error_set(err, rc, "out of memory");
done:
    free(fed);
    if (rc) {
        plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* ---- running ------------------------------------------------------------------------------ */

typedef struct jrun {
    run x; /* what plan_emit_row needs */
    json_lex *lx;
    size_t explode_at;
    int explode_rank; /* INT_MAX: no exploded array seen */
    int gathering;    /* walking an item of an array of objects (gather) */
} jrun;

static const jentry *level_find(const jlevel *l, const char *key, size_t len)
{
    uint32_t h = key_hash(key, len);
    for (size_t i = h & l->mask; l->index[i]; i = (i + 1) & l->mask) {
        const jentry *e = &l->entries[l->index[i] - 1];
        if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0) return e;
    }
    return NULL;
}

static int syntax(jrun *j)
{
    json_lex *lx = j->lx;
    size_t line, col;
    json_lex_where(lx, lx->err_at, &line, &col);
    return sluice_error_set(j->x.err, SLUICE_EINVAL,
                            "not JSON: %s at line %zu column %zu (offset %zu)", lx->err_msg, line,
                            col, lx->err_at);
}

/* A slot's value (for expressions): strings stay in the message when they
 * had no escapes, else go to the state's per-message arena. */
static int take_slot(jrun *j, const jtarget *t)
{
    json_lex *lx = j->lx;
    plan_state *st = j->x.st;
    cvalue v = cv_null();
    json_str s;
    json_num n;
    switch (json_lex_peek(lx)) {
    case JSON_V_STRING:
        if (json_lex_string(lx, &s)) return SLUICE_EPARSE;
        if (s.s < lx->base || s.s >= lx->text_end) {
            char *copy = arena_strndup(&st->json_text, s.s, s.len);
            if (!copy) return sluice_error_set(j->x.err, SLUICE_ENOMEM, "out of memory");
            s.s = copy;
        }
        v = cv_string(s.s, s.len);
        break;
    case JSON_V_NUMBER:
        if (json_lex_number(lx, &n)) return SLUICE_EPARSE;
        if (n.int_ok) {
            v = cv_int(n.i, CV_UNIT_NONE);
        } else {
            double d;
            json_num_double(lx, &n, &d);
            v = cv_double(d);
        }
        break;
    case JSON_V_TRUE:
    case JSON_V_FALSE:
        v = cv_bool(json_lex_literal(lx) == JSON_V_TRUE);
        break;
    default: /* null, objects and arrays read as NULL */
        if (json_lex_skip(lx)) return SLUICE_EPARSE;
        break;
    }
    if (lx->err) return SLUICE_EPARSE;
    if (t->rank < st->slot_rank[t->slot]) {
        st->slots[t->slot] = v;
        st->slot_rank[t->slot] = t->rank;
    }
    return 0;
}

/* The value at the reader into the target's column. A failure is kept
 * (a better-ranked spelling may still come) and the value skipped. */
static int take_column(jrun *j, const jtarget *t)
{
    json_lex *lx = j->lx;
    plan_state *st = j->x.st;
    const plan *p = j->x.p;
    int col = t->column;
    if (t->rank >= st->col_rank[col]) return json_lex_skip(lx) ? SLUICE_EPARSE : 0;
    const ch_type *type = p->cols[col].type;
    if (j->gathering) type = type->inner; /* one item's element (take keeps to Array columns) */
    json_vkind k = json_lex_peek(lx);
    const char *at = lx->p;
    int depth = lx->depth;
    buf_reset(&st->scratch[col]);
    sluice_error e;
    int rc = ch_encode_json_text(type, lx, &st->scratch[col], &e);
    if (rc == SLUICE_EPARSE) return rc;
    if (rc && k == JSON_V_NULL && rc != SLUICE_ENOMEM) {
        /* null into a column that cannot hold it: the type's default (the
         * encoder refused it unread, so read it now) */
        buf_reset(&st->scratch[col]);
        lx->p = at;
        lx->depth = depth;
        if (json_lex_literal(lx) != JSON_V_NULL) return SLUICE_EPARSE;
        rc = ch_encode_default(type, &st->scratch[col]);
    }
    st->col_rank[col] = t->rank;
    st->set[col] = rc == 0;
    if (rc) {
        if (rc == SLUICE_ENOMEM) return sluice_error_set(j->x.err, rc, "batch buffer full");
        st->col_error[col] = 1;
        sluice_error_set(&st->col_err, rc, "$.%s: column %s: %s", p->cols[col].name,
                         p->cols[col].name, e.msg);
        lx->p = at; /* skip what the encoder left unread */
        lx->depth = depth;
        return json_lex_skip(lx) ? SLUICE_EPARSE : 0;
    }
    st->col_error[col] = 0;
    return 0;
}

static int take(jrun *j, const jtarget *t)
{
    if (j->gathering && (t->column < 0 || j->x.p->cols[t->column].type->kind != CH_ARRAY))
        return json_lex_skip(j->lx) ? SLUICE_EPARSE
                                    : 0; /* one value per item: Array columns only */
    if (t->column >= 0) return take_column(j, t);
    if (t->slot >= 0) return take_slot(j, t);
    /* the exploded array: its place, for after the message */
    json_lex *lx = j->lx;
    json_lex_ws(lx);
    if (t->rank < j->explode_rank) {
        j->explode_rank = t->rank;
        j->explode_at = json_lex_offset(lx);
    }
    return json_lex_skip(lx) ? SLUICE_EPARSE : 0;
}

/* Several targets read one value: all but the last from a saved place. */
static int take_all(jrun *j, const jtarget *t, size_t n, int consume_last)
{
    json_lex *lx = j->lx;
    for (size_t i = 0; i < n; i++) {
        const char *at = lx->p;
        int depth = lx->depth;
        int rc = take(j, &t[i]);
        if (rc) return rc;
        if (i + 1 < n || !consume_last) {
            lx->p = at;
            lx->depth = depth;
        }
    }
    return 0;
}

/* Duplicate keys: a key the plan knows is its level's entry, so it is a
 * duplicate when its entry was already seen in this object (a stamp per
 * entry, the object's serial); the others can only repeat among
 * themselves, and go to the reader's general check. The page event's 14
 * keys used to all go through that check, whose hash table was a fifth
 * of a writer's decoding time (perf). */
static int seen_before(jrun *j, const jentry *e, uint32_t serial, const json_str *key)
{
    uint32_t *seen = &j->x.st->jseen[e->id];
    if (*seen != serial) {
        *seen = serial;
        return 0;
    }
    json_lex_fail(j->lx, key->at, "duplicate key \"%.*s\" in an object",
                  (int)(key->len > 64 ? 64 : key->len), key->s);
    return 1;
}

static uint32_t next_serial(plan_state *st, size_t n)
{
    if (++st->jserial == 0) { /* wrapped: no stamp may look current */
        memset(st->jseen, 0, (n ? n : 1) * sizeof *st->jseen);
        st->jserial = 1;
    }
    return st->jserial;
}

static int walk(jrun *j, const jlevel *l);

/* Swap a column's row state with what gather set aside. */
static void gather_swap(plan_state *st, int c)
{
    gather_col *g = &st->gather[c];
    buf b = st->scratch[c];
    st->scratch[c] = g->save;
    g->save = b;
    int rank = st->col_rank[c];
    st->col_rank[c] = g->save_rank;
    g->save_rank = rank;
    char set = st->set[c], err = st->col_error[c];
    st->set[c] = g->save_set;
    g->save_set = set;
    st->col_error[c] = g->save_err;
    g->save_err = err;
}

/* An array of objects at an entry whose paths lead to Array columns — the
 * JSON form of a Nested group, {"items": [{"sku": "a", "qty": 1}, ...]}
 * into items.sku Array(String), items.qty Array(UInt32). Each item is
 * walked like an object with the columns' element types, and every such
 * column gets exactly one element per item: the item's value, or the
 * element type's default where the item lacks it (or is null), so the
 * arrays of one Nested group keep the equal lengths ClickHouse requires.
 * An item that is not an object fails those columns. Arrays of objects
 * inside an item are not gathered again (their columns get defaults), and
 * expression paths below the array read nothing from it. The whole array
 * then competes with the column's other spellings by its best rank below
 * the entry, like any value. */
static int gather(jrun *j, const jentry *e)
{
    json_lex *lx = j->lx;
    plan_state *st = j->x.st;
    const plan *p = j->x.p;
    for (size_t i = 0; i < e->n_gather; i++) {
        int c = e->gather[i].column;
        gather_swap(st, c); /* the row's value aside; scratch is the item's */
        buf_reset(&st->gather[c].acc);
        st->gather[c].failed = 0;
    }
    sluice_error before = st->col_err; /* kept unless a failure here stands */
    int failed = 0;
    uint64_t items = 0;
    size_t count = 0;
    int rc = json_lex_open_array(lx) ? SLUICE_EPARSE : 0, r = 0;
    j->gathering = 1;
    while (rc == 0 && (r = json_lex_next_item(lx, &count)) == 1) {
        json_vkind k = json_lex_peek(lx);
        for (size_t i = 0; i < e->n_gather; i++) {
            int c = e->gather[i].column;
            buf_reset(&st->scratch[c]);
            st->col_rank[c] = INT_MAX;
            st->set[c] = 0;
            st->col_error[c] = 0;
        }
        if (k == JSON_V_OBJECT) {
            rc = walk(j, e->nest);
        } else {
            if (k != JSON_V_NULL) {
                int c0 = e->gather[0].column; /* named once: the first column of the group */
                sluice_error_set(&st->col_err, SLUICE_EINVAL,
                                 "$.%s: column %s: item %llu of the array is not an object",
                                 p->cols[c0].name, p->cols[c0].name, (unsigned long long)items);
                for (size_t i = 0; i < e->n_gather; i++)
                    st->col_error[e->gather[i].column] = 1;
            }
            rc = json_lex_skip(lx) ? SLUICE_EPARSE : 0;
        }
        for (size_t i = 0; rc == 0 && i < e->n_gather; i++) {
            int c = e->gather[i].column;
            gather_col *g = &st->gather[c];
            if (st->col_error[c])
                g->failed = 1;
            else if (st->set[c] ? buf_append(&g->acc, st->scratch[c].data, st->scratch[c].len)
                                : ch_encode_default(p->cols[c].type->inner, &g->acc))
                rc = sluice_error_set(j->x.err, SLUICE_ENOMEM, "batch buffer full");
        }
        items++;
    }
    j->gathering = 0;
    if (rc == 0 && r < 0) rc = SLUICE_EPARSE;
    for (size_t i = 0; i < e->n_gather; i++) {
        int c = e->gather[i].column;
        gather_swap(st, c);
        if (rc || e->gather[i].rank >= st->col_rank[c]) continue;
        buf_reset(&st->scratch[c]);
        if (put_varint(&st->scratch[c], items) ||
            buf_append(&st->scratch[c], st->gather[c].acc.data, st->gather[c].acc.len)) {
            rc = sluice_error_set(j->x.err, SLUICE_ENOMEM, "batch buffer full");
            continue;
        }
        st->col_rank[c] = e->gather[i].rank;
        st->set[c] = !st->gather[c].failed;
        st->col_error[c] = st->gather[c].failed;
        failed |= st->gather[c].failed;
    }
    if (!failed) st->col_err = before;
    return rc;
}

static int walk(jrun *j, const jlevel *l)
{
    json_lex *lx = j->lx;
    json_lex_dups dups;
    if (json_lex_open_object(lx, &dups)) return SLUICE_EPARSE;
    uint32_t serial = next_serial(j->x.st, j->x.p->n_jentries);
    size_t count = 0;
    json_str key;
    int r;
    while ((r = json_lex_next_key(lx, &count, &key)) == 1) {
        const jentry *e = level_find(l, key.s, key.len);
        if (e ? seen_before(j, e, serial, &key) : json_lex_key_unique(lx, &dups, &key, NULL) != 1)
            return SLUICE_EPARSE;
        int rc;
        if (!e) {
            rc = json_lex_skip(lx) ? SLUICE_EPARSE : 0;
        } else if (e->nest && json_lex_peek(lx) == JSON_V_OBJECT) {
            rc = take_all(j, e->targets, e->n_targets, 0);
            if (rc == 0) rc = walk(j, e->nest);
        } else if (e->n_gather && !j->gathering && json_lex_peek(lx) == JSON_V_ARRAY) {
            rc = take_all(j, e->targets, e->n_targets, 0);
            if (rc == 0) rc = gather(j, e);
        } else if (e->n_targets) {
            rc = take_all(j, e->targets, e->n_targets, 1);
        } else {
            rc = json_lex_skip(lx) ? SLUICE_EPARSE : 0;
        }
        if (rc) return rc;
    }
    return r < 0 ? SLUICE_EPARSE : 0;
}

/* After a walk: a column whose best spelling did not encode fails the row. */
static int column_errors(jrun *j)
{
    const plan *p = j->x.p;
    for (size_t i = 0; i < p->n_list; i++)
        if (j->x.st->col_error[p->list[i]])
            return sluice_error_set(j->x.err, j->x.st->col_err.code, "%s", j->x.st->col_err.msg);
    return 0;
}

static void reset_ranks(const plan *p, plan_state *st)
{
    for (size_t i = 0; i < p->n_cols; i++) {
        st->col_rank[i] = INT_MAX;
        st->col_error[i] = 0;
    }
    for (size_t i = 0; i < p->n_slots; i++)
        st->slot_rank[i] = INT_MAX;
}

static int explode_rows(jrun *j)
{
    const plan *p = j->x.p;
    plan_state *st = j->x.st;
    json_lex *lx = j->lx;
    json_lex_range(lx, j->explode_at, (size_t)(lx->text_end - lx->base));
    json_vkind k = json_lex_peek(lx);
    if (k == JSON_V_NULL) return 0;
    if (k != JSON_V_ARRAY)
        return sluice_error_set(j->x.err, SLUICE_EINVAL, "$.%s: explode needs an array",
                                p->explode_path);
    if (json_lex_open_array(lx)) return SLUICE_EPARSE;
    size_t count = 0;
    int r;
    while ((r = json_lex_next_item(lx, &count)) == 1) {
        for (size_t i = 0; i < p->n_elem_columns; i++) {
            int col = p->elem_columns[i];
            buf_reset(&st->scratch[col]);
            st->set[col] = 0;
            st->col_rank[col] = INT_MAX;
            st->col_error[col] = 0;
        }
        for (size_t i = 0; i < p->n_elem_slots; i++) {
            st->slots[p->elem_slots[i]] = cv_null();
            st->slot_rank[p->elem_slots[i]] = INT_MAX;
        }
        if (p->index_slot >= 0) st->slots[p->index_slot] = cv_int((int64_t)count - 1, CV_UNIT_NONE);
        int object = json_lex_peek(lx) == JSON_V_OBJECT;
        int rc = take_all(j, p->jself, p->n_jself, !object);
        if (rc == 0 && object)
            rc = walk(j, p->jelem);
        else if (rc == 0 && !p->n_jself)
            rc = json_lex_skip(lx) ? SLUICE_EPARSE : 0;
        if (rc == 0) rc = column_errors(j);
        if (rc == 0) rc = plan_emit_row(&j->x, j->x.now_s, j->x.out, j->x.out->len, j->x.res);
        if (rc) return rc;
    }
    return r < 0 ? SLUICE_EPARSE : 0;
}

int plan_run_json(const plan *p, plan_state *st, const uint8_t *msg, size_t len, int64_t now_s,
                  buf *out, plan_result *res, sluice_error *err)
{
    json_lex *lx = &st->lex;
    json_lex_init(lx, (const char *)msg, len);
    arena_free(&st->json_text);
    arena_init(&st->json_text, 4096, SCRATCH_CAP);
    jrun j = {.x = {.p = p, .st = st, .err = err, .out = out, .now_s = now_s, .res = res},
              .lx = lx,
              .explode_rank = INT_MAX};
    plan_reset_row(p, st);
    reset_ranks(p, st);
    int rc;
    json_vkind k = json_lex_peek(lx);
    if (k == JSON_V_NONE) {
        json_lex_skip(lx);
        rc = SLUICE_EPARSE;
    } else if (k != JSON_V_OBJECT) {
        rc = json_lex_skip(lx) || json_lex_end(lx)
                 ? SLUICE_EPARSE
                 : sluice_error_set(err, SLUICE_EINVAL, "a JSON message must be an object");
    } else {
        rc = walk(&j, p->jroot);
        if (rc == 0 && json_lex_end(lx)) rc = SLUICE_EPARSE;
    }
    /* A bad column fails the row it goes into: with explode, each row
     * checks (a message whose array is empty or absent has none). */
    if (rc == 0 && !p->explode_path) rc = column_errors(&j);
    if (rc == 0) {
        if (!p->explode_path)
            rc = plan_emit_row(&j.x, now_s, out, out->len, res);
        else if (j.explode_rank != INT_MAX)
            rc = explode_rows(&j);
    }
    if (rc == SLUICE_EPARSE) rc = syntax(&j);
    json_lex_free(lx);
    return rc;
}
