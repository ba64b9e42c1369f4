/*
 * plan_proto_compile.c — Protobuf messages into ClickHouse RowBinary: a plan
 * compiled from one message type of a parsed schema (proto_schema.h) and
 * the table's columns, run on the wire bytes with no intermediate tree
 * (plan.h has the contract, plan_int.h the shared parts).
 *
 * Why its own op tables and not plan_compile.c's op tree: Avro bytes come
 * in schema order, so an Avro plan is a walk in that order. Protobuf bytes
 * come as (field number, wire type, value) in any order, a field may be
 * absent (then it takes a default, or NULL), repeated (its values
 * scattered between other fields, packed or not) or even present twice
 * (the last value wins, messages merge). So a compiled message here is a
 * table from field number to what the field feeds (a dense array for
 * numbers up to 1024, binary search above), and running it is a loop over
 * tags that looks each one up. What it shares with the Avro plan is
 * everything after the decode: the table's columns, the INSERT column
 * list, per-column scratch, straight writes into the batch for columns
 * written once and in table order, transforms' slots and plan_emit_row.
 *
 * Compilation decides (per field, along the flattened name "a.b" / "a_b"):
 *   SH_LEAF      one value into a column (and/or a transform slot): a
 *                scalar, an enum, a google.protobuf.Timestamp or a
 *                wrapper (google.protobuf.Int64Value, …), each with its
 *                encoded default and, for fields with presence in Nullable
 *                columns, the NULL that stands for "absent";
 *   SH_REPEATED  a repeated leaf into an Array column, packed or not;
 *   SH_MESSAGE   a singular message flattened into its fields' columns;
 *   SH_NESTED    a repeated message into Nested-style Array columns
 *                "a.b", one element per item in every column it feeds;
 *   SH_MAP       map<K, V> into Map(K, V) or "a.keys" / "a.values";
 *   SH_SKIP      no column: skipped by wire type (so are unknown numbers).
 * A oneof may also feed a column named after it with the name of the
 * member that is set.
 *
 * Running keeps, per field of the compiled tree (numbered depth first, so
 * a message's fields and everything below it are one range): seen (this
 * row or item), where its bytes began in its column (to replace a value
 * seen twice), and how many values a repeated field has had (Array counts
 * are known at the end: one byte is reserved when the first value comes
 * and patched, moving the bytes only past 127 values). After the message,
 * fields never seen are filled from their defaults, top-level arrays get
 * their counts, and the row is emitted. A field seen twice when its first
 * value already went straight into the batch starts the message over with
 * straight writes off (rare: only concatenated messages do that).
 *
 * Wire types are checked against the field's type (a repeated scalar takes
 * both its own wire type and LEN, packed); a mismatch is an error naming
 * both, as is a proto2 required field that is absent. Every error names
 * the byte offset in the Protobuf bytes and the field path.
 *
 * Only the C model is read (no call into proto_schema.cc), so this file is
 * part of libsluice's C objects like the rest of the plan. The plan points
 * into the schema, which must outlive it.
 *
 * Files: this one compiles; plan_proto_run.c runs a plan (and turns values
 * into column bytes, which compilation also needs for defaults);
 * plan_proto_int.h has the types they share.
 */
#include "codec/plan_proto_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- compiling ------------------------------------------------------------------------ */

typedef struct pcomp {
    compiler c;
    int n_ids, n_oneofs;
    const proto_message *stack[PROTO_MAX_FLATTEN];
    size_t depth;
} pcomp;

static const ch_type *core_of(const ch_type *t)
{
    while (t && (t->kind == CH_NULLABLE || t->kind == CH_LOW_CARDINALITY))
        t = t->inner;
    return t;
}

static char *join_name(arena *a, const char *prefix, char sep, const char *name)
{
    if (!prefix || !*prefix) return arena_strdup(a, name);
    size_t n = strlen(prefix) + strlen(name) + 2;
    char *s = arena_alloc(a, n, 1);
    if (s) snprintf(s, n, "%s%c%s", prefix, sep, name);
    return s;
}

static char *join_path(arena *a, const char *parent, const char *name, int item)
{
    size_t n = strlen(parent) + strlen(name) + 4;
    char *s = arena_alloc(a, n, 1);
    if (s) snprintf(s, n, item ? "%s[]" : "%s.%s", parent, name);
    return s;
}

static int is_integer_kind(ch_kind k)
{
    return k >= CH_INT8 && k <= CH_UINT64;
}

static int is_unsigned64(int ptype)
{
    return ptype == PROTO_UINT64 || ptype == PROTO_FIXED64;
}

/* ---- compiling fields ---- */

static int find_column(pcomp *pc, const char *name)
{
    int col = plan_find_column(pc->c.p, name);
    return col >= 0 && !pc->c.fed[col] ? col : -1;
}

/* A field's column: by its name, else by its JSON name. *name is set to
 * the name that matched (or the field name). */
static int field_column(pcomp *pc, const char *prefix, const proto_field *f, const char **name)
{
    arena *a = &pc->c.p->a;
    *name = join_name(a, prefix, pc->c.p->separator, f->name);
    if (!*name) return -1;
    int col = find_column(pc, *name);
    if (col < 0 && f->json_name && strcmp(f->json_name, f->name) != 0) {
        const char *alt = join_name(a, prefix, pc->c.p->separator, f->json_name);
        if (alt && (col = find_column(pc, alt)) >= 0) *name = alt;
    }
    return col;
}

static void choose_fast(pleaf *l)
{
    const ch_type *t = l->enc;
    if (t->kind == CH_LOW_CARDINALITY) t = t->inner;
    if (t->kind == CH_NULLABLE) {
        l->nullable = 1;
        t = t->inner;
    }
    if (t->kind == CH_LOW_CARDINALITY) t = t->inner;
    if (l->kind == LK_TIMESTAMP) {
        if (t->kind == CH_DATETIME) l->fast = PF_DATETIME;
        return;
    }
    switch (l->ptype) {
    case PROTO_STRING:
    case PROTO_BYTES:
        if (t->kind == CH_STRING) l->fast = PF_STRING;
        break;
    case PROTO_INT64:
    case PROTO_SINT64:
    case PROTO_SFIXED64:
        if (t->kind == CH_INT64) l->fast = PF_I64;
        break;
    case PROTO_INT32:
    case PROTO_SINT32:
    case PROTO_SFIXED32:
        if (t->kind == CH_INT64) l->fast = PF_I64;
        if (t->kind == CH_INT32) l->fast = PF_I32;
        break;
    case PROTO_UINT32:
    case PROTO_FIXED32:
        if (t->kind == CH_INT64) l->fast = PF_I64;
        if (t->kind == CH_UINT64) l->fast = PF_U64;
        if (t->kind == CH_UINT32) l->fast = PF_U32;
        break;
    case PROTO_UINT64:
    case PROTO_FIXED64:
        if (t->kind == CH_UINT64) l->fast = PF_U64;
        break;
    case PROTO_BOOL:
        if (t->kind == CH_UINT8) l->fast = PF_BOOL_U8;
        break;
    case PROTO_DOUBLE:
        if (t->kind == CH_FLOAT64) l->fast = PF_F64;
        break;
    case PROTO_FLOAT:
        if (t->kind == CH_FLOAT32) l->fast = PF_F32;
        break;
    case PROTO_ENUM:
        if (t->kind == CH_ENUM8 || t->kind == CH_ENUM16) l->fast = PF_ENUM;
        break;
    default:
        break;
    }
}

/* The enum's numbers 0..255 mapped to the column's values, by name. */
static int enum_table(pcomp *pc, pleaf *l)
{
    const ch_type *t = l->core;
    int16_t *vals = arena_calloc(&pc->c.p->a, 256, sizeof *vals, _Alignof(int16_t));
    uint8_t *known = arena_calloc(&pc->c.p->a, 256, 1, 1);
    if (!vals || !known) return SLUICE_ENOMEM;
    for (size_t i = 0; l->en && i < l->en->n_values; i++) {
        int32_t num = l->en->values[i].number;
        if (num < 0 || num > 255 || known[num]) continue; /* aliases: the first name */
        for (size_t k = 0; k < t->n_enum; k++)
            if (strcmp(t->enum_names[k], l->en->values[i].name) == 0) {
                vals[num] = t->enum_values[k];
                known[num] = 1;
            }
    }
    l->enum_values = vals;
    l->enum_known = known;
    l->enum_width = t->kind == CH_ENUM8 ? 1 : 2;
    return 0;
}

/* C escapes of a proto2 bytes default (\n, \\, \ooo, \xHH). */
static size_t unescape(const char *s, char *out)
{
    size_t n = 0;
    while (*s) {
        if (*s != '\\' || !s[1]) {
            out[n++] = *s++;
            continue;
        }
        s++;
        if (*s >= '0' && *s <= '7') {
            int v = 0;
            for (int k = 0; k < 3 && *s >= '0' && *s <= '7'; k++)
                v = v * 8 + (*s++ - '0');
            out[n++] = (char)v;
        } else if (*s == 'x' && s[1]) {
            int v = 0;
            s++;
            for (int k = 0; k < 2 && *s && strchr("0123456789abcdefABCDEF", *s); k++, s++)
                v = v * 16 + (*s <= '9' ? *s - '0' : (*s | 32) - 'a' + 10);
            out[n++] = (char)v;
        } else {
            const char *from = "ntr\\'\"?abfv", *to = "\n\t\r\\'\"?\a\b\f\v";
            const char *k = strchr(from, *s);
            out[n++] = k ? to[k - from] : *s;
            s++;
        }
    }
    return n;
}

/* The value an absent field reads as: proto2's [default = …], else the
 * type's zero (an enum's first value). */
static int default_value(pcomp *pc, const pleaf *l, const proto_field *f, pval *v)
{
    memset(v, 0, sizeof *v);
    v->s = (const uint8_t *)"";
    if (l->kind == LK_TIMESTAMP || l->kind == LK_WRAPPER) return 0;
    const char *d = f->default_value;
    if (l->ptype == PROTO_ENUM) {
        const proto_enum *e = l->en;
        if (e && e->n_values) v->u = (uint64_t)(uint32_t)e->values[0].number;
        for (size_t i = 0; d && e && i < e->n_values; i++)
            if (strcmp(e->values[i].name, d) == 0) {
                v->u = (uint64_t)(uint32_t)e->values[i].number;
                break;
            }
        return 0;
    }
    if (!d) return 0;
    switch (l->ptype) {
    case PROTO_STRING:
        v->s = (const uint8_t *)d;
        v->n = strlen(d);
        return 0;
    case PROTO_BYTES: {
        char *copy = arena_alloc(&pc->c.p->a, strlen(d) + 1, 1);
        if (!copy) return SLUICE_ENOMEM;
        v->n = unescape(d, copy);
        v->s = (const uint8_t *)copy;
        return 0;
    }
    case PROTO_BOOL:
        v->u = strcmp(d, "true") == 0;
        return 0;
    case PROTO_DOUBLE:
    case PROTO_FLOAT: {
        double x = strcmp(d, "inf") == 0    ? INFINITY
                   : strcmp(d, "-inf") == 0 ? -INFINITY
                   : strcmp(d, "nan") == 0  ? NAN
                                            : strtod(d, NULL);
        if (l->ptype == PROTO_DOUBLE) {
            memcpy(&v->u, &x, 8);
        } else {
            float fl = (float)x;
            uint32_t bits;
            memcpy(&bits, &fl, 4);
            v->u = bits;
        }
        return 0;
    }
    default:
        if (is_unsigned64(l->ptype) || l->ptype == PROTO_UINT32 || l->ptype == PROTO_FIXED32) {
            v->u = strtoull(d, NULL, 0);
        } else {
            int64_t x = strtoll(d, NULL, 0);
            if (l->ptype == PROTO_SINT32 || l->ptype == PROTO_SINT64)
                v->u = ((uint64_t)x << 1) ^ (uint64_t)(x >> 63); /* stored as on the wire */
            else
                v->u = (uint64_t)x;
        }
        return 0;
    }
}

/* One value into a column (enc at this level) and/or a slot: its fast
 * path, its default bytes and its NULL. */
static int compile_leaf(pcomp *pc, pleaf *l, const proto_field *f, int column, const ch_type *enc,
                        int slot, int once, const char *path)
{
    memset(l, 0, sizeof *l);
    l->column = column;
    l->slot = slot;
    l->once = (uint8_t)once;
    l->kind = LK_SCALAR;
    l->ptype = (uint8_t)f->type;
    if (f->type == PROTO_MESSAGE && proto_is_timestamp(f->message)) {
        l->kind = LK_TIMESTAMP;
        l->ptype = PROTO_INT64;
    } else if (f->type == PROTO_MESSAGE) {
        l->kind = LK_WRAPPER;
        l->ptype = (uint8_t)proto_wrapper_type(f->message);
    }
    l->en = f->type == PROTO_ENUM ? f->enum_type : NULL;
    l->wire = (uint8_t)(l->kind == LK_SCALAR ? plan_proto_wire_of(l->ptype) : PROTO_WIRE_LEN);
    if (column < 0) { /* a slot only */
        l->enc = NULL;
        return default_value(pc, l, f, &l->dflt_val)
                   ? plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory")
                   : 0;
    }
    l->enc = enc;
    l->core = core_of(enc);
    const char *cname = pc->c.p->cols[column].name;
    if (l->core->kind == CH_ARRAY || l->core->kind == CH_MAP)
        return plan_fail(&pc->c, SLUICE_EINVAL, "field %s (%s) cannot go into column %s (%s)", path,
                         l->kind == LK_TIMESTAMP ? "google.protobuf.Timestamp"
                                                 : plan_proto_type_name(f->type),
                         cname, enc->text);
    if (l->kind == LK_TIMESTAMP && l->core->kind != CH_DATETIME && l->core->kind != CH_DATETIME64 &&
        l->core->kind != CH_DATE && l->core->kind != CH_STRING && l->core->kind != CH_FIXED_STRING)
        return plan_fail(&pc->c, SLUICE_EINVAL,
                         "field %s (google.protobuf.Timestamp) cannot go into column %s (%s): "
                         "use Date, DateTime, DateTime64 or String",
                         path, cname, enc->text);
    l->enum_as_int = l->ptype == PROTO_ENUM && is_integer_kind(l->core->kind);
    choose_fast(l);
    if (l->fast == PF_ENUM && enum_table(pc, l) != 0)
        return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    int rc = default_value(pc, l, f, &l->dflt_val);
    if (rc) return plan_fail(&pc->c, rc, "out of memory");
    /* The bytes of "absent", encoded once. */
    buf b;
    buf_init(&b, 1 << 20);
    sluice_error e;
    cvalue null = cv_null();
    if (ch_encode_value(enc, &null, &b, &e) == 0) l->has_null = 1;
    buf_reset(&b);
    rc = plan_proto_encode_leaf(l, &l->dflt_val, &b, &e);
    if (rc == SLUICE_ENOMEM) {
        buf_free(&b);
        return plan_fail(&pc->c, rc, "out of memory");
    }
    if (rc) {
        char msg[SLUICE_ERROR_MSG_MAX + 64];
        snprintf(msg, sizeof msg, "absent, and its default cannot go into column %s: %s", cname,
                 e.msg);
        l->dflt_err = arena_strdup(&pc->c.p->a, msg);
    } else {
        uint8_t *copy = arena_alloc(&pc->c.p->a, b.len ? b.len : 1, 1);
        if (copy) memcpy(copy, b.data, b.len);
        l->dflt = copy;
        l->dflt_len = b.len;
    }
    buf_free(&b);
    if (!l->dflt && !l->dflt_err) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    pc->c.fed[column] = 1;
    return 0;
}

static int compile_message(pcomp *pc, pmsg *pm, const proto_message *m, const char *prefix,
                           const char *epath, int in_item);

static int slot_for(pcomp *pc, const char *name)
{
    for (size_t i = 0; i < pc->c.n_paths; i++)
        if (strcmp(pc->c.paths[i], name) == 0) return pc->c.path_slots[i];
    return -1;
}

/* Columns an item's fields write (for the count of a Nested field). */
static void item_columns(const pmsg *m, int *cols, size_t *n, int depth)
{
    if (depth > PROTO_MAX_FLATTEN) return;
    for (size_t i = 0; i < m->n_fields; i++) {
        const pfield *f = &m->fields[i];
        if ((f->shape == SH_LEAF || f->shape == SH_REPEATED) && f->leaf.column >= 0)
            cols[(*n)++] = f->leaf.column;
        else if (f->shape == SH_MESSAGE)
            item_columns(f->msg, cols, n, depth + 1);
    }
    for (size_t i = 0; i < m->n_oneofs; i++)
        if (m->oneofs[i].column >= 0) cols[(*n)++] = m->oneofs[i].column;
}

static int reject_unmapped(pcomp *pc, const char *path, const char *name)
{
    if (pc->c.opt->extra_fields != PLAN_EXTRA_REJECT) return 0;
    return plan_fail(&pc->c, SLUICE_EINVAL, "field %s has no column named %s in the table", path,
                     name);
}

/* A column whose name starts with prefix + separator: something below
 * `prefix` was meant to be mapped. */
static const char *column_below(pcomp *pc, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < pc->c.p->n_cols; i++) {
        const char *c = pc->c.p->cols[i].name;
        if (pc->c.p->cols[i].insertable && strncmp(c, prefix, n) == 0 && c[n] == pc->c.p->separator)
            return c;
    }
    return NULL;
}

static int compile_map(pcomp *pc, pfield *pf, const proto_field *f, const char *name,
                       const char *path)
{
    const proto_message *entry = f->message;
    const proto_field *kf = NULL, *vf = NULL;
    for (size_t i = 0; i < entry->n_fields; i++) {
        if (entry->fields[i].number == 1) kf = &entry->fields[i];
        if (entry->fields[i].number == 2) vf = &entry->fields[i];
    }
    arena *a = &pc->c.p->a;
    char sep = pc->c.p->separator;
    int mc = find_column(pc, name);
    int kc = -1, vc = -1;
    if (mc < 0) {
        kc = find_column(pc, join_name(a, name, sep, "keys"));
        vc = find_column(pc, join_name(a, name, sep, "values"));
    }
    if (mc < 0 && (kc < 0 || vc < 0)) {
        pf->shape = SH_SKIP;
        return reject_unmapped(pc, path, name);
    }
    if (!kf || !vf) return plan_fail(&pc->c, SLUICE_EINVAL, "map %s has no key or value", path);
    if (pf->in_item)
        return plan_fail(&pc->c, SLUICE_EINVAL,
                         "field %s: maps inside repeated messages cannot go into columns", path);
    if (vf->type == PROTO_MESSAGE && !proto_is_timestamp(vf->message) &&
        !proto_wrapper_type(vf->message))
        return plan_fail(&pc->c, SLUICE_EINVAL,
                         "field %s: map values of message type %s cannot go into columns", path,
                         vf->message->full_name);
    const char *vpath = join_path(a, path, "", 1);
    int *cc = arena_alloc(a, 2 * sizeof(int), _Alignof(int));
    if (!cc || !vpath) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    int rc;
    if (mc >= 0) {
        const ch_type *m = core_of(pc->c.p->cols[mc].type);
        if (m->kind != CH_MAP)
            return plan_fail(&pc->c, SLUICE_EINVAL, "field %s (map) cannot go into column %s (%s)",
                             path, name, pc->c.p->cols[mc].type->text);
        rc = compile_leaf(pc, &pf->key, kf, mc, m->inner, -1, 0, vpath);
        rc = rc ? rc : compile_leaf(pc, &pf->leaf, vf, mc, m->inner2, -1, 0, vpath);
        cc[0] = mc;
        pf->n_count_columns = 1;
    } else {
        const ch_type *kt = core_of(pc->c.p->cols[kc].type), *vt = core_of(pc->c.p->cols[vc].type);
        if (kt->kind != CH_ARRAY || vt->kind != CH_ARRAY)
            return plan_fail(&pc->c, SLUICE_EINVAL,
                             "field %s (map) needs Array columns %s%ckeys and %s%cvalues", path,
                             name, sep, name, sep);
        rc = compile_leaf(pc, &pf->key, kf, kc, kt->inner, -1, 0, vpath);
        rc = rc ? rc : compile_leaf(pc, &pf->leaf, vf, vc, vt->inner, -1, 0, vpath);
        cc[0] = kc;
        cc[1] = vc;
        pf->n_count_columns = 2;
    }
    pf->count_columns = cc;
    pf->shape = SH_MAP;
    return rc;
}

static int compile_nested(pcomp *pc, pfield *pf, const proto_field *f, const char *name,
                          const char *path)
{
    if (pf->in_item) {
        if (column_below(pc, name) || find_column(pc, name) >= 0)
            return plan_fail(&pc->c, SLUICE_EINVAL,
                             "field %s: repeated messages inside repeated messages cannot go "
                             "into columns",
                             path);
        pf->shape = SH_SKIP;
        return 0;
    }
    if (pc->depth >= PROTO_MAX_FLATTEN) {
        pf->shape = SH_SKIP;
        return 0;
    }
    pmsg *item = arena_calloc(&pc->c.p->a, 1, sizeof *item, _Alignof(pmsg));
    const char *ipath = join_path(&pc->c.p->a, path, "", 1);
    if (!item || !ipath) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    pc->stack[pc->depth++] = f->message;
    int rc = compile_message(pc, item, f->message, name, ipath, 1);
    pc->depth--;
    if (rc) return rc;
    int *cols = arena_alloc(&pc->c.p->a, (pc->c.p->n_cols + 1) * sizeof(int), _Alignof(int));
    if (!cols) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    size_t n = 0;
    item_columns(item, cols, &n, 0);
    if (n == 0) {
        pf->shape = SH_SKIP;
        return reject_unmapped(pc, path, name);
    }
    pf->shape = SH_NESTED;
    pf->msg = item;
    pf->count_columns = cols;
    pf->n_count_columns = n;
    return 0;
}

static int compile_field(pcomp *pc, pfield *pf, const proto_field *f, const char *prefix,
                         const char *epath, int in_item)
{
    arena *a = &pc->c.p->a;
    pf->number = (uint32_t)f->number;
    pf->name = f->name;
    pf->required = f->label == PROTO_REQUIRED;
    pf->presence = f->has_presence;
    pf->oneof = f->oneof_index;
    pf->in_item = (uint8_t)in_item;
    pf->id = pc->n_ids++;
    pf->wire = (uint8_t)plan_proto_wire_of(f->type);
    pf->path = join_path(a, epath, f->name, 0);
    if (!pf->path) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    const char *name;
    int col = field_column(pc, prefix, f, &name);
    if (!name) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    int repeated = f->label == PROTO_REPEATED;
    int leafish = f->type != PROTO_MESSAGE && f->type != PROTO_GROUP;
    leafish |= f->type == PROTO_MESSAGE &&
               (proto_is_timestamp(f->message) || proto_wrapper_type(f->message));

    if (f->type == PROTO_GROUP) {
        pf->shape = SH_SKIP;
        if (col >= 0)
            return plan_fail(&pc->c, SLUICE_EINVAL,
                             "field %s is a proto2 group, which cannot go into columns", pf->path);
        return 0;
    }
    if (f->type == PROTO_MESSAGE && f->message && f->message->map_entry)
        return compile_map(pc, pf, f, name, pf->path);
    if (!leafish && repeated) return compile_nested(pc, pf, f, name, pf->path);
    if (!leafish) { /* a singular message: flattened */
        if (col >= 0)
            return plan_fail(&pc->c, SLUICE_EINVAL,
                             "field %s (message %s) cannot go into column %s (%s): use columns "
                             "named %s%csub-field",
                             pf->path, f->message->full_name, name, pc->c.p->cols[col].type->text,
                             name, pc->c.p->separator);
        /* A message inside itself flattens only as deep as columns ask. */
        int recursive = 0;
        for (size_t i = 0; i < pc->depth; i++)
            recursive |= pc->stack[i] == f->message;
        if ((recursive && !column_below(pc, name)) || pc->depth >= PROTO_MAX_FLATTEN) {
            pf->shape = SH_SKIP;
            return 0;
        }
        pmsg *sub = arena_calloc(a, 1, sizeof *sub, _Alignof(pmsg));
        if (!sub) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
        pc->stack[pc->depth++] = f->message;
        int rc = compile_message(pc, sub, f->message, name, pf->path, in_item);
        pc->depth--;
        pf->shape = SH_MESSAGE;
        pf->msg = sub;
        return rc;
    }
    /* A leaf, singular or repeated. */
    if (f->type == PROTO_MESSAGE) pf->wire = PROTO_WIRE_LEN;
    int slot = !in_item && !repeated ? slot_for(pc, name) : -1;
    if (col < 0 && slot < 0) {
        pf->shape = SH_SKIP;
        return reject_unmapped(pc, pf->path, name);
    }
    const ch_type *enc = col >= 0 ? pc->c.p->cols[col].type : NULL;
    int levels = in_item + repeated; /* Array levels above the value */
    for (int i = 0; i < levels && enc; i++) {
        const ch_type *core = core_of(enc);
        if (core->kind != CH_ARRAY)
            return plan_fail(
                &pc->c, SLUICE_EINVAL, "field %s%s cannot go into column %s (%s): it needs %s",
                pf->path, repeated ? " (repeated)" : " (in a repeated message)", name,
                pc->c.p->cols[col].type->text, levels == 2 ? "Array(Array(T))" : "an Array(T)");
        enc = core->inner;
    }
    pf->shape = repeated ? SH_REPEATED : SH_LEAF;
    pf->packable = repeated && pf->wire != PROTO_WIRE_LEN;
    return compile_leaf(pc, &pf->leaf, f, col, enc, slot, !in_item && !repeated, pf->path);
}

static int collect_closers(pcomp *pc, pmsg *pm)
{
    size_t cap = 0;
    for (size_t i = 0; i < pm->n_fields; i++) {
        const pfield *f = &pm->fields[i];
        cap += f->shape == SH_MESSAGE ? f->msg->n_closers : 1;
    }
    const pfield **list =
        arena_calloc(&pc->c.p->a, cap ? cap : 1, sizeof *list, _Alignof(const pfield *));
    if (!list) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < pm->n_fields; i++) {
        const pfield *f = &pm->fields[i];
        if (f->shape == SH_REPEATED || f->shape == SH_NESTED || f->shape == SH_MAP)
            list[n++] = f;
        else if (f->shape == SH_MESSAGE)
            for (size_t k = 0; k < f->msg->n_closers; k++)
                list[n++] = f->msg->closers[k];
    }
    pm->closers = list;
    pm->n_closers = n;
    pm->fillers = arena_calloc(&pc->c.p->a, pm->n_fields ? pm->n_fields : 1, sizeof *pm->fillers,
                               _Alignof(const pfield *));
    if (!pm->fillers) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    for (size_t i = 0; i < pm->n_fields; i++) {
        const pfield *f = &pm->fields[i];
        if (f->shape == SH_LEAF || f->shape == SH_MESSAGE || f->required)
            pm->fillers[pm->n_fillers++] = f;
    }
    return 0;
}

static int compile_message(pcomp *pc, pmsg *pm, const proto_message *m, const char *prefix,
                           const char *epath, int in_item)
{
    arena *a = &pc->c.p->a;
    pm->m = m;
    pm->path = epath;
    pm->id_lo = pc->n_ids;
    pm->oneof_lo = pm->oneof_base = pc->n_oneofs;
    pm->n_fields = m->n_fields;
    pm->fields = arena_calloc(a, m->n_fields ? m->n_fields : 1, sizeof(pfield), _Alignof(pfield));
    pm->n_oneofs = m->n_oneofs;
    pm->oneofs = arena_calloc(a, m->n_oneofs ? m->n_oneofs : 1, sizeof(poneof), _Alignof(poneof));
    if (!pm->fields || !pm->oneofs) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    pc->n_oneofs += (int)m->n_oneofs;
    /* A oneof's own column: the name of the member that is set. */
    for (size_t i = 0; i < m->n_oneofs; i++) {
        poneof *o = &pm->oneofs[i];
        const char *name = join_name(a, prefix, pc->c.p->separator, m->oneofs[i].name);
        o->column = name ? find_column(pc, name) : -1;
        if (o->column < 0) continue;
        o->enc = pc->c.p->cols[o->column].type;
        if (in_item) {
            const ch_type *core = core_of(o->enc);
            if (core->kind != CH_ARRAY)
                return plan_fail(&pc->c, SLUICE_EINVAL,
                                 "oneof %s (in a repeated message) cannot go into column %s (%s): "
                                 "it needs an Array(T)",
                                 name, name, o->enc->text);
            o->enc = core->inner;
        }
        o->once = !in_item;
        pc->c.fed[o->column] = 1;
    }
    for (size_t i = 0; i < m->n_fields; i++) {
        pfield *pf = &pm->fields[i];
        pf->index = i;
        int rc = compile_field(pc, pf, m->by_number[i], prefix, epath, in_item);
        if (rc) return rc;
    }
    pm->id_hi = pc->n_ids;
    pm->oneof_hi = pc->n_oneofs;
    /* Numbers below DENSE_MAX: one array lookup. */
    uint32_t top = m->n_fields ? (uint32_t)m->by_number[m->n_fields - 1]->number : 0;
    pm->n_dense = top < DENSE_MAX ? top + 1 : DENSE_MAX;
    pm->dense = arena_calloc(a, pm->n_dense, sizeof(int32_t), _Alignof(int32_t));
    if (!pm->dense) return plan_fail(&pc->c, SLUICE_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n_fields; i++)
        if (pm->fields[i].number < pm->n_dense) pm->dense[pm->fields[i].number] = (int32_t)i + 1;
    return collect_closers(pc, pm);
}

/* ---- transforms ---- */

static int resolve_path(void *ctx, const char *path)
{
    compiler *c = ctx;
    for (size_t i = 0; i < c->n_paths; i++)
        if (strcmp(c->paths[i], path) == 0) {
            if (c->path_slots[i] < 0) c->path_slots[i] = (int)c->p->n_slots++;
            return c->path_slots[i];
        }
    return -1;
}

/* Every name an expression may use: singular values, flattened. */
static void enumerate_paths(pcomp *pc, const proto_message *m, const char *prefix, size_t depth)
{
    compiler *c = &pc->c;
    if (depth >= PROTO_MAX_FLATTEN) return;
    for (size_t i = 0; i < m->n_fields && c->n_paths < MAX_PATHS; i++) {
        const proto_field *f = &m->fields[i];
        if (f->label == PROTO_REPEATED || f->type == PROTO_GROUP) continue;
        char *name = join_name(&c->p->a, prefix, c->p->separator, f->name);
        if (!name) return;
        if (f->type == PROTO_MESSAGE && !proto_is_timestamp(f->message) &&
            !proto_wrapper_type(f->message)) {
            int recursive = 0;
            for (size_t k = 0; k < depth; k++)
                recursive |= pc->stack[k] == f->message;
            if (recursive) continue;
            pc->stack[depth] = f->message;
            enumerate_paths(pc, f->message, name, depth + 1);
            continue;
        }
        c->paths[c->n_paths] = name;
        c->path_slots[c->n_paths++] = -1;
    }
}

static int compile_transforms(pcomp *pc, const proto_message *m)
{
    compiler *c = &pc->c;
    plan *p = c->p;
    const plan_options *opt = c->opt;
    if (opt->explode)
        return plan_fail(c, SLUICE_ECONFIG,
                         "transform.explode: not supported for Protobuf messages (filter and "
                         "derived columns are)");
    pc->stack[0] = m;
    enumerate_paths(pc, m, "", 1);
    expr_resolver res = {resolve_path, c};
    sluice_error e;
    if (opt->filter && *opt->filter && expr_compile(opt->filter, &res, &p->a, &p->filter, &e) != 0)
        return plan_fail(c, SLUICE_ECONFIG, "transform.filter: %s", e.msg);
    if (opt->n_derived) {
        p->derived =
            arena_calloc(&p->a, opt->n_derived, sizeof(derived_col), _Alignof(derived_col));
        if (!p->derived) return plan_fail(c, SLUICE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < opt->n_derived; i++) {
        const plan_derived *d = &opt->derived[i];
        int col = plan_find_column(p, d->column);
        if (col < 0)
            return plan_fail(c, SLUICE_ECONFIG,
                             "transform.columns.%s: the table has no insertable column %s",
                             d->column, d->column);
        if (c->fed[col])
            return plan_fail(c, SLUICE_ECONFIG, "transform.columns.%s: defined twice", d->column);
        if (expr_compile(d->expression, &res, &p->a, &p->derived[i].e, &e) != 0)
            return plan_fail(c, SLUICE_ECONFIG, "transform.columns.%s: %s", d->column, e.msg);
        p->derived[i].column = col;
        p->derived[i].name = d->column;
        c->fed[col] = 1;
        p->n_derived++;
    }
    return 0;
}

int plan_compile_proto(const proto_message *message, const plan_column *columns, size_t n_columns,
                       const plan_options *opt, plan **out, sluice_error *err)
{
    *out = NULL;
    plan *p = plan_alloc(opt);
    if (!p) return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    pcomp *pc = calloc(1, sizeof *pc);
    char *fed = calloc(n_columns ? n_columns : 1, 1);
    struct proto_plan *pp = arena_calloc(&p->a, 1, sizeof *pp, _Alignof(struct proto_plan));
    pmsg *root = arena_calloc(&p->a, 1, sizeof *root, _Alignof(pmsg));
    int rc = pc && fed && pp && root ? plan_copy_columns(p, columns, n_columns) : SLUICE_ENOMEM;
    if (rc) {
        sluice_error_set(err, rc, "out of memory");
        goto done;
    }
    pc->c.p = p;
    pc->c.opt = opt;
    pc->c.err = err;
    pc->c.fed = fed;
    p->index_slot = -1;
    rc = compile_transforms(pc, message);
    pc->depth = 1;
    pc->stack[0] = message;
    if (rc == 0) rc = compile_message(pc, root, message, "", "$", 0);
    if (rc == 0 && (rc = plan_finish_list(p, fed)) != 0) sluice_error_set(err, rc, "out of memory");
    if (rc == 0 && p->n_list == 0)
        rc = plan_fail(&pc->c, SLUICE_EINVAL,
                       "no field of message %s matches a column of the table", message->full_name);
    if (rc == 0 && !(pp->gap_leaf = arena_calloc(&p->a, n_columns ? n_columns : 1,
                                                 sizeof *pp->gap_leaf, _Alignof(pfield *))))
        rc = sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < root->n_fields; i++) {
        const pfield *f = &root->fields[i];
        if (f->shape == SH_LEAF && f->leaf.column >= 0 && f->leaf.once && !f->required)
            pp->gap_leaf[f->leaf.column] = f;
    }
    if (rc == 0) {
        pp->root = root;
        pp->n_ids = pc->n_ids;
        pp->n_oneofs = pc->n_oneofs;
        p->proto = pp;
    }
done:
    free(fed);
    free(pc);
    if (rc) {
        plan_free(p);
        return rc;
    }
    *out = p;
    return 0;
}
