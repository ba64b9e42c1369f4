/*
 * proto_compat.c — Confluent's Protobuf compatibility rules (contract in
 * proto_compat.h), walking two proto_schema models side by side.
 *
 * The walk follows Confluent's diff package step for step, because users
 * move between Confluent's registry and ours and must get the same verdict:
 *   file:    package changed; top-level messages and enums by name;
 *   message: fields by number, oneofs by name (fields moved into a new
 *            oneof, into an existing one, out of one), nested types;
 *   field:   name, kind (scalar / message / map), scalar group (the wire
 *            compatible groups of protobuf's "updating a message type"),
 *            declared label, message type (by name, then by content);
 *   enum:    every change (added, removed, constants changed) is compatible
 *            in Confluent's rules, so enums are not walked.
 * Each step records a difference of a named kind; the kinds Confluent counts
 * as compatible are listed in compatible_kinds[]. Iteration is in sorted
 * order (names, numbers), so the reported reason is deterministic.
 *
 * Termination: message types refer to each other (and themselves). A pair
 * (original, update) already being compared higher up is skipped, as
 * Confluent does, and a pair compared before is not compared again (its
 * verdict is remembered), so the work is bounded by the number of message
 * pairs; WORK_BUDGET stops pathological inputs with an error.
 */
#include "codec/proto_compat.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORK_BUDGET 2000000
#define MAX_REPORTED 6

enum diff_kind {
    PACKAGE_CHANGED,
    MESSAGE_ADDED,
    MESSAGE_REMOVED,
    MESSAGE_MOVED,
    ENUM_ADDED,
    ENUM_REMOVED,
    ENUM_CONST_ADDED,
    ENUM_CONST_CHANGED,
    ENUM_CONST_REMOVED,
    FIELD_ADDED,
    FIELD_REMOVED,
    FIELD_NAME_CHANGED,
    FIELD_KIND_CHANGED,
    FIELD_SCALAR_KIND_CHANGED,
    FIELD_NAMED_TYPE_CHANGED,
    FIELD_NUMERIC_LABEL_CHANGED,
    FIELD_STRING_OR_BYTES_LABEL_CHANGED,
    REQUIRED_FIELD_ADDED,
    REQUIRED_FIELD_REMOVED,
    ONEOF_ADDED,
    ONEOF_REMOVED,
    ONEOF_FIELD_ADDED,
    ONEOF_FIELD_REMOVED,
    MULTIPLE_FIELDS_MOVED_TO_ONEOF,
    FIELD_MOVED_TO_EXISTING_ONEOF,
    N_DIFF_KINDS
};

static const char *const kind_names[N_DIFF_KINDS] = {
    "PACKAGE_CHANGED",
    "MESSAGE_ADDED",
    "MESSAGE_REMOVED",
    "MESSAGE_MOVED",
    "ENUM_ADDED",
    "ENUM_REMOVED",
    "ENUM_CONST_ADDED",
    "ENUM_CONST_CHANGED",
    "ENUM_CONST_REMOVED",
    "FIELD_ADDED",
    "FIELD_REMOVED",
    "FIELD_NAME_CHANGED",
    "FIELD_KIND_CHANGED",
    "FIELD_SCALAR_KIND_CHANGED",
    "FIELD_NAMED_TYPE_CHANGED",
    "FIELD_NUMERIC_LABEL_CHANGED",
    "FIELD_STRING_OR_BYTES_LABEL_CHANGED",
    "REQUIRED_FIELD_ADDED",
    "REQUIRED_FIELD_REMOVED",
    "ONEOF_ADDED",
    "ONEOF_REMOVED",
    "ONEOF_FIELD_ADDED",
    "ONEOF_FIELD_REMOVED",
    "MULTIPLE_FIELDS_MOVED_TO_ONEOF",
    "FIELD_MOVED_TO_EXISTING_ONEOF",
};

/* Confluent's SchemaDiff.COMPATIBLE_CHANGES. */
static bool compatible_kind(enum diff_kind k)
{
    switch (k) {
    case MESSAGE_ADDED:
    case MESSAGE_MOVED:
    case ENUM_ADDED:
    case ENUM_REMOVED:
    case ENUM_CONST_ADDED:
    case ENUM_CONST_CHANGED:
    case ENUM_CONST_REMOVED:
    case FIELD_ADDED:
    case FIELD_REMOVED:
    case FIELD_NAME_CHANGED:
    case FIELD_STRING_OR_BYTES_LABEL_CHANGED:
    case ONEOF_ADDED:
    case ONEOF_REMOVED:
    case ONEOF_FIELD_ADDED:
        return true;
    default:
        return false;
    }
}

/* ---- the walk's state ----------------------------------------------------- */

struct pair_memo {
    const proto_message *orig, *upd;
    int state; /* 1 in progress (on the stack), 2 compatible, 3 incompatible */
};

struct ctx {
    char path[1024]; /* "#/Order/lines/3" */
    size_t path_len;
    unsigned incompatible; /* incompatible differences so far */
    char *reason;
    size_t reason_len, reason_used;
    unsigned reported;
    long work;
    struct pair_memo *memo; /* open addressing, power-of-two size */
    size_t memo_cap, memo_used;
    int error; /* SLUICE_ENOMEM or SLUICE_ERANGE once the walk must stop */
};

static void path_push(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void path_push(struct ctx *c, const char *fmt, ...)
{
    if (c->path_len + 1 >= sizeof c->path) return;
    c->path[c->path_len] = '/';
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->path + c->path_len + 1, sizeof c->path - c->path_len - 1, fmt, ap);
    va_end(ap);
    if (n > 0) c->path_len += 1 + (size_t)n;
    if (c->path_len >= sizeof c->path) c->path_len = sizeof c->path - 1;
    c->path[c->path_len] = '\0';
}

static void path_restore(struct ctx *c, size_t len)
{
    c->path_len = len;
    c->path[len] = '\0';
}

static void add_diff(struct ctx *c, enum diff_kind k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_diff(struct ctx *c, enum diff_kind k, const char *fmt, ...)
{
    if (compatible_kind(k)) return;
    c->incompatible++;
    if (c->reported == MAX_REPORTED || !c->reason || c->reason_used + 1 >= c->reason_len) {
        if (c->reported == MAX_REPORTED && c->reason && c->reason_used + 8 < c->reason_len) {
            c->reason_used += (size_t)snprintf(c->reason + c->reason_used,
                                               c->reason_len - c->reason_used, "; ...");
            c->reported++;
        }
        return;
    }
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    int n =
        snprintf(c->reason + c->reason_used, c->reason_len - c->reason_used, "%s%s at %s: %s",
                 c->reported ? "; " : "", kind_names[k], c->path_len > 1 ? c->path : "#/", detail);
    if (n > 0) c->reason_used += (size_t)n;
    if (c->reason_used >= c->reason_len) c->reason_used = c->reason_len - 1;
    c->reported++;
}

static bool spend(struct ctx *c)
{
    if (c->error) return false;
    if (++c->work > WORK_BUDGET) {
        c->error = SLUICE_ERANGE;
        return false;
    }
    return true;
}

static struct pair_memo *memo_find(struct ctx *c, const proto_message *o, const proto_message *u,
                                   bool insert)
{
    if (insert && (c->memo_used + 1) * 2 > c->memo_cap) {
        size_t cap = c->memo_cap ? c->memo_cap * 2 : 64;
        struct pair_memo *m = calloc(cap, sizeof *m);
        if (!m) {
            c->error = SLUICE_ENOMEM;
            return NULL;
        }
        for (size_t i = 0; i < c->memo_cap; i++)
            if (c->memo[i].orig) {
                size_t h = ((uintptr_t)c->memo[i].orig * 31 + (uintptr_t)c->memo[i].upd) >> 4;
                while (m[h & (cap - 1)].orig)
                    h++;
                m[h & (cap - 1)] = c->memo[i];
            }
        free(c->memo);
        c->memo = m;
        c->memo_cap = cap;
    }
    if (!c->memo_cap) return NULL;
    size_t h = ((uintptr_t)o * 31 + (uintptr_t)u) >> 4;
    for (;; h++) {
        struct pair_memo *e = &c->memo[h & (c->memo_cap - 1)];
        if (e->orig == o && e->upd == u) return e;
        if (!e->orig) {
            if (!insert) return NULL;
            e->orig = o;
            e->upd = u;
            c->memo_used++;
            return e;
        }
    }
}

/* ---- classification ------------------------------------------------------- */

enum field_kind { KIND_SCALAR, KIND_MESSAGE, KIND_MAP };

static enum field_kind field_kind(proto_type t, const proto_message *m)
{
    if (t == PROTO_MESSAGE || t == PROTO_GROUP) return m && m->map_entry ? KIND_MAP : KIND_MESSAGE;
    return KIND_SCALAR;
}

static const char *const field_kind_names[] = {"scalar", "message", "map"};

/* The wire-compatible groups of protobuf's "Updating A Message Type". */
enum scalar_group { GENERAL_NUMBER, SIGNED_NUMBER, STRING_OR_BYTES, FIXED32, FIXED64, FLT, DBL };

static enum scalar_group scalar_group(proto_type t)
{
    switch (t) {
    case PROTO_SINT32:
    case PROTO_SINT64:
        return SIGNED_NUMBER;
    case PROTO_STRING:
    case PROTO_BYTES:
        return STRING_OR_BYTES;
    case PROTO_FIXED32:
    case PROTO_SFIXED32:
        return FIXED32;
    case PROTO_FIXED64:
    case PROTO_SFIXED64:
        return FIXED64;
    case PROTO_FLOAT:
        return FLT;
    case PROTO_DOUBLE:
        return DBL;
    default: /* int32, int64, uint32, uint64, bool, enum */
        return GENERAL_NUMBER;
    }
}

static const char *type_text(proto_type t, const proto_message *m, const proto_enum *e)
{
    if (e) return e->full_name;
    if (m) return m->full_name;
    return proto_type_name(t);
}

static const char *label_text(proto_label l)
{
    return l == PROTO_REQUIRED ? "required" : l == PROTO_REPEATED ? "repeated" : "optional";
}

/* The name of a message type without its file's package. */
static const char *local_name(const proto_message *m)
{
    size_t n = strlen(m->file->package);
    if (n && strncmp(m->full_name, m->file->package, n) == 0 && m->full_name[n] == '.')
        return m->full_name + n + 1;
    return m->full_name;
}

static bool same_origin(const proto_message *a, const proto_message *b)
{
    bool a_root = !a->file->ref_subject && !a->file->builtin;
    bool b_root = !b->file->ref_subject && !b->file->builtin;
    /* Types of the root file are compared where they are declared. */
    if (a_root && b_root) return true;
    return a->file->ref_subject && b->file->ref_subject &&
           strcmp(a->file->ref_subject, b->file->ref_subject) == 0 &&
           a->file->ref_version == b->file->ref_version;
}

/* ---- the walk ------------------------------------------------------------- */

static void compare_types(struct ctx *c, const proto_message *orig_list, size_t n_orig,
                          const proto_message *upd_list, size_t n_upd);
static void compare_message(struct ctx *c, const proto_message *o, const proto_message *u);

struct type_ref {
    proto_type type;
    const proto_message *message;
    const proto_enum *enum_type;
};

static struct type_ref type_of(const proto_field *f)
{
    return (struct type_ref){f->type, f->message, f->enum_type};
}

static void compare_labels_and_types(struct ctx *c, const proto_label *ol, const proto_label *ul,
                                     struct type_ref o, struct type_ref u);

static void compare_message_types(struct ctx *c, const proto_message *o, const proto_message *u)
{
    const char *on = local_name(o), *un = local_name(u);
    if (strcmp(on, un) != 0) {
        add_diff(c, FIELD_NAMED_TYPE_CHANGED, "the field's message type changed from %s to %s",
                 o->full_name, u->full_name);
        return;
    }
    if (same_origin(o, u)) return;
    struct pair_memo *memo = memo_find(c, o, u, false);
    if (memo && memo->state == 1) return; /* already being compared higher up */
    if (memo && memo->state == 3)
        add_diff(c, FIELD_NAMED_TYPE_CHANGED, "message type %s changed incompatibly", on);
    if (memo) return;
    /* Confluent compares the referenced type in a sub-context whose path
     * starts at the type's own name. */
    char saved[sizeof c->path];
    size_t saved_len = c->path_len;
    memcpy(saved, c->path, saved_len + 1);
    path_restore(c, 1); /* "#" */
    path_push(c, "%s", on);
    unsigned before = c->incompatible;
    compare_message(c, o, u);
    bool broke = c->incompatible > before;
    memcpy(c->path, saved, saved_len + 1);
    c->path_len = saved_len;
    if (broke)
        add_diff(c, FIELD_NAMED_TYPE_CHANGED, "message type %s changed incompatibly (see above)",
                 on);
}

static void compare_labels_and_types(struct ctx *c, const proto_label *ol, const proto_label *ul,
                                     struct type_ref o, struct type_ref u)
{
    if (!spend(c)) return;
    enum field_kind ok = field_kind(o.type, o.message), uk = field_kind(u.type, u.message);
    if (ok != uk) {
        add_diff(c, FIELD_KIND_CHANGED, "the field changed from a %s to a %s", field_kind_names[ok],
                 field_kind_names[uk]);
        return;
    }
    switch (ok) {
    case KIND_SCALAR:
        if (scalar_group(o.type) != scalar_group(u.type)) {
            add_diff(c, FIELD_SCALAR_KIND_CHANGED,
                     "the field changed from %s to %s, which is not wire-compatible",
                     type_text(o.type, NULL, o.enum_type), type_text(u.type, NULL, u.enum_type));
        } else if (ol && ul && *ol != *ul) {
            if (scalar_group(o.type) == STRING_OR_BYTES)
                add_diff(c, FIELD_STRING_OR_BYTES_LABEL_CHANGED, "label changed");
            else
                add_diff(c, FIELD_NUMERIC_LABEL_CHANGED, "the numeric field changed from %s to %s",
                         label_text(*ol), label_text(*ul));
        }
        break;
    case KIND_MESSAGE:
        compare_message_types(c, o.message, u.message);
        break;
    case KIND_MAP:
        /* key (1) and value (2), without labels */
        if (o.message->n_fields == 2 && u.message->n_fields == 2) {
            compare_labels_and_types(c, NULL, NULL, type_of(o.message->by_number[0]),
                                     type_of(u.message->by_number[0]));
            compare_labels_and_types(c, NULL, NULL, type_of(o.message->by_number[1]),
                                     type_of(u.message->by_number[1]));
        }
        break;
    }
}

static void compare_field(struct ctx *c, const proto_field *o, const proto_field *u)
{
    if (strcmp(o->name, u->name) != 0)
        add_diff(c, FIELD_NAME_CHANGED, "renamed from %s to %s", o->name, u->name);
    compare_labels_and_types(c, o->label_declared ? &o->label : NULL,
                             u->label_declared ? &u->label : NULL, type_of(o), type_of(u));
}

/* A message's fields by number, optionally only those outside oneofs. */
static const proto_field *by_number(const proto_message *m, int32_t number)
{
    size_t lo = 0, hi = m->n_fields;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->by_number[mid]->number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n_fields && m->by_number[lo]->number == number ? m->by_number[lo] : NULL;
}

static const proto_oneof *oneof_named(const proto_message *m, const char *name)
{
    for (size_t i = 0; i < m->n_oneofs; i++)
        if (strcmp(m->oneofs[i].name, name) == 0) return &m->oneofs[i];
    return NULL;
}

static const char *oneof_of(const proto_message *m, const proto_field *f)
{
    return f && f->oneof_index >= 0 ? m->oneofs[f->oneof_index].name : NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorted, distinct union of two name lists (caller frees). */
static const char **name_union(const char **a, size_t na, const char **b, size_t nb, size_t *n)
{
    const char **all = malloc((na + nb + 1) * sizeof *all);
    if (!all) return NULL;
    memcpy(all, a, na * sizeof *a);
    memcpy(all + na, b, nb * sizeof *b);
    qsort(all, na + nb, sizeof *all, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < na + nb; i++)
        if (k == 0 || strcmp(all[k - 1], all[i]) != 0) all[k++] = all[i];
    *n = k;
    return all;
}

static void compare_oneofs(struct ctx *c, const proto_message *o, const proto_message *u)
{
    const char **on = malloc((o->n_oneofs + 1) * sizeof *on);
    const char **un = malloc((u->n_oneofs + 1) * sizeof *un);
    size_t n = 0;
    const char **names = NULL;
    if (on && un) {
        for (size_t i = 0; i < o->n_oneofs; i++)
            on[i] = o->oneofs[i].name;
        for (size_t i = 0; i < u->n_oneofs; i++)
            un[i] = u->oneofs[i].name;
        names = name_union(on, o->n_oneofs, un, u->n_oneofs, &n);
    }
    if (!names) c->error = SLUICE_ENOMEM;
    size_t base = c->path_len;
    for (size_t i = 0; names && i < n && spend(c); i++) {
        const proto_oneof *oo = oneof_named(o, names[i]), *uo = oneof_named(u, names[i]);
        path_push(c, "%s", names[i]);
        if (!uo) {
            add_diff(c, ONEOF_REMOVED, "oneof removed");
        } else if (!oo) {
            add_diff(c, ONEOF_ADDED, "oneof added");
        } else {
            /* by number over both oneofs' fields, ascending */
            int32_t *nums = malloc((oo->n_fields + uo->n_fields + 1) * sizeof *nums);
            if (!nums) {
                c->error = SLUICE_ENOMEM;
                break;
            }
            size_t k = 0;
            for (size_t j = 0; j < oo->n_fields; j++)
                nums[k++] = oo->fields[j]->number;
            for (size_t j = 0; j < uo->n_fields; j++)
                nums[k++] = uo->fields[j]->number;
            qsort(nums, k, sizeof *nums, cmp_i32);
            size_t inner = c->path_len;
            for (size_t j = 0; j < k; j++) {
                if (j && nums[j] == nums[j - 1]) continue;
                const proto_field *of = by_number(o, nums[j]), *uf = by_number(u, nums[j]);
                bool in_o = of && of->oneof_index >= 0 && o->oneofs + of->oneof_index == oo;
                bool in_u = uf && uf->oneof_index >= 0 && u->oneofs + uf->oneof_index == uo;
                path_push(c, "%d", (int)nums[j]);
                if (in_o && !in_u) {
                    /* moved out of the oneof is a relocation, not a removal */
                    if (!uf)
                        add_diff(c, ONEOF_FIELD_REMOVED, "field %d (%s) removed from the oneof",
                                 (int)nums[j], of->name);
                } else if (!in_o && in_u) {
                    add_diff(c, ONEOF_FIELD_ADDED, "field added to the oneof");
                } else {
                    compare_field(c, of, uf);
                }
                path_restore(c, inner);
            }
            free(nums);
        }
        path_restore(c, base);
    }
    free(names);
    free(on);
    free(un);
}

static void compare_fields(struct ctx *c, const proto_message *o, const proto_message *u)
{
    size_t base = c->path_len;
    /* Fields of the update's oneofs that were plain fields of the original
     * are "moved": at most one may move into a new oneof, and not into one
     * that already had fields of the original's oneofs. */
    bool *moved = calloc(o->n_fields + 1, sizeof *moved); /* by original field index */
    if (!moved) {
        c->error = SLUICE_ENOMEM;
        return;
    }
    for (size_t i = 0; i < u->n_oneofs; i++) {
        const proto_oneof *uo = &u->oneofs[i];
        int n_moved = 0, n_existing = 0;
        for (size_t j = 0; j < uo->n_fields; j++) {
            const proto_field *of = by_number(o, uo->fields[j]->number);
            if (of && of->oneof_index < 0) {
                moved[of->index] = true;
                n_moved++;
            } else if (of) {
                n_existing++;
            }
        }
        path_push(c, "%s", uo->name);
        if (n_moved > 1)
            add_diff(c, MULTIPLE_FIELDS_MOVED_TO_ONEOF,
                     "%d existing fields were moved into oneof %s", n_moved, uo->name);
        else if (n_moved == 1 && n_existing > 0)
            add_diff(c, FIELD_MOVED_TO_EXISTING_ONEOF,
                     "a field was moved into oneof %s, which already had fields", uo->name);
        path_restore(c, base);
    }

    compare_oneofs(c, o, u);

    /* Plain (non-oneof) fields by number, ascending. */
    int32_t *nums = malloc((o->n_fields + u->n_fields + 1) * sizeof *nums);
    if (!nums) {
        c->error = SLUICE_ENOMEM;
        free(moved);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < o->n_fields; i++)
        if (o->fields[i].oneof_index < 0 && !moved[i]) nums[k++] = o->fields[i].number;
    for (size_t i = 0; i < u->n_fields; i++)
        if (u->fields[i].oneof_index < 0) nums[k++] = u->fields[i].number;
    qsort(nums, k, sizeof *nums, cmp_i32);
    for (size_t i = 0; i < k && spend(c); i++) {
        if (i && nums[i] == nums[i - 1]) continue;
        const proto_field *of = by_number(o, nums[i]), *uf = by_number(u, nums[i]);
        if (of && (of->oneof_index >= 0 || moved[of->index])) of = NULL;
        if (uf && uf->oneof_index >= 0) uf = NULL;
        path_push(c, "%d", (int)nums[i]);
        if (of && !uf) {
            if (of->label == PROTO_REQUIRED)
                add_diff(c, REQUIRED_FIELD_REMOVED, "required field %d (%s) was removed",
                         (int)nums[i], of->name);
            else
                add_diff(c, FIELD_REMOVED, "field removed");
        } else if (!of && uf) {
            if (uf->label == PROTO_REQUIRED)
                add_diff(c, REQUIRED_FIELD_ADDED, "required field %d (%s) was added", (int)nums[i],
                         uf->name);
            else
                add_diff(c, FIELD_ADDED, "field added");
        } else if (of && uf) {
            compare_field(c, of, uf);
        }
        path_restore(c, base);
    }

    /* Fields whose oneof membership changed: compare their contents too. */
    for (size_t i = 0; i < o->n_fields && spend(c); i++) {
        const proto_field *of = o->by_number[i];
        const proto_field *uf = by_number(u, of->number);
        if (!uf) continue;
        const char *oo = oneof_of(o, of), *uo = oneof_of(u, uf);
        if ((!oo && !uo) || (oo && uo && strcmp(oo, uo) == 0)) continue;
        path_push(c, "%d", (int)of->number);
        compare_field(c, of, uf);
        path_restore(c, base);
    }
    free(nums);
    free(moved);
}

static void compare_message(struct ctx *c, const proto_message *o, const proto_message *u)
{
    if (!spend(c)) return;
    struct pair_memo *memo = memo_find(c, o, u, true);
    if (!memo) return;
    if (memo->state == 0) {
        memo->state = 1;
        unsigned before = c->incompatible;
        compare_fields(c, o, u);
        /* the memo may have moved while the table grew */
        memo = memo_find(c, o, u, false);
        if (memo) memo->state = c->incompatible > before ? 3 : 2;
    }
    compare_types(c, o->nested, o->n_nested, u->nested, u->n_nested);
}

static const proto_message *message_named(const proto_message *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].name, name) == 0) return &list[i];
    return NULL;
}

/* Messages of one scope (a file or a message's nested types) by name.
 * Enums are not walked: Confluent counts every enum change (added, removed,
 * constants added, renamed or removed) as compatible. */
static void compare_types(struct ctx *c, const proto_message *orig_list, size_t n_orig,
                          const proto_message *upd_list, size_t n_upd)
{
    size_t base = c->path_len;
    const char **on = malloc((n_orig + 1) * sizeof *on);
    const char **un = malloc((n_upd + 1) * sizeof *un);
    if (!on || !un) {
        free(on);
        free(un);
        c->error = SLUICE_ENOMEM;
        return;
    }
    for (size_t i = 0; i < n_orig; i++)
        on[i] = orig_list[i].name;
    for (size_t i = 0; i < n_upd; i++)
        un[i] = upd_list[i].name;
    size_t n = 0;
    const char **names = name_union(on, n_orig, un, n_upd, &n);
    for (size_t i = 0; names && i < n && spend(c); i++) {
        const proto_message *om = message_named(orig_list, n_orig, names[i]);
        const proto_message *um = message_named(upd_list, n_upd, names[i]);
        path_push(c, "%s", names[i]);
        if ((om && om->map_entry) || (um && um->map_entry)) {
            /* a map field's entry is compared through the field (key and
             * value), as Confluent sees map<K, V> rather than a message */
        } else if (!um) {
            add_diff(c, MESSAGE_REMOVED, "message %s removed", om->full_name);
        } else if (!om) {
            add_diff(c, MESSAGE_ADDED, "message added");
        } else {
            compare_message(c, om, um);
            if (om->index != um->index) add_diff(c, MESSAGE_MOVED, "message moved");
        }
        path_restore(c, base);
    }
    if (!names) c->error = SLUICE_ENOMEM;
    free(names);
    free(on);
    free(un);
}

int proto_schema_compatible(const proto_schema *original, const proto_schema *update, char *reason,
                            size_t reason_len, sluice_error *err)
{
    struct ctx c = {.path = "#", .path_len = 1, .reason = reason, .reason_len = reason_len};
    if (reason && reason_len) reason[0] = '\0';
    const proto_file *o = proto_schema_root(original), *u = proto_schema_root(update);
    if (strcmp(o->package, u->package) != 0)
        add_diff(&c, PACKAGE_CHANGED, "the package changed from '%s' to '%s'", o->package,
                 u->package);
    compare_types(&c, o->messages, o->n_messages, u->messages, u->n_messages);
    free(c.memo);
    if (c.error == SLUICE_ENOMEM)
        return sluice_error_set(err, SLUICE_ENOMEM, "protobuf compatibility: out of memory");
    if (c.error)
        return sluice_error_set(err, SLUICE_ERANGE,
                                "protobuf compatibility: the schemas are too large to compare "
                                "(more than %d steps)",
                                WORK_BUDGET);
    return c.incompatible == 0;
}
