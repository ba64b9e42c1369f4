/*
 * plan_row.c — the end of every row, whatever the plan read it from (Avro
 * in plan_run.c, JSON in plan_json.c, Protobuf in plan_proto_run.c): the
 * filter, the derived columns, and the columns in INSERT order; and the
 * reset before the next row. The readers call down into this file and it
 * calls none of them.
 */
#include "codec/plan_int.h"

/* Filter, derived columns, then the row in INSERT order. */
/* row_start: where this row began in out (columns written straight into
 * out may already be there; a filtered row takes them back). */
int plan_emit_row(run *x, int64_t now_s, buf *out, size_t row_start, plan_result *res)
{
    const plan *p = x->p;
    plan_state *st = x->st;
    expr_ctx ctx = {.slots = st->slots, .now_s = now_s, .scratch = &st->expr_scratch};
    sluice_error e;
    buf_reset(&st->expr_scratch);
    if (p->filter) {
        int keep = 0;
        if (expr_eval_bool(p->filter, &ctx, &keep, &e) != 0)
            return sluice_error_set(x->err, SLUICE_EINVAL, "transform.filter: %s", e.msg);
        if (!keep) {
            out->len = row_start;
            res->filtered++;
            return 0;
        }
    }
    for (size_t i = 0; i < p->n_derived; i++) {
        const derived_col *d = &p->derived[i];
        cvalue v;
        if (expr_eval(d->e, &ctx, &v, &e) != 0)
            return sluice_error_set(x->err, SLUICE_EINVAL, "transform.columns.%s: %s", d->name,
                                    e.msg);
        buf_reset(&st->scratch[d->column]);
        int rc = ch_encode_value(p->cols[d->column].type, &v, &st->scratch[d->column], &e);
        if (rc && v.kind == CV_NULL && rc != SLUICE_ENOMEM)
            rc = ch_encode_default(p->cols[d->column].type, &st->scratch[d->column]);
        if (rc) return sluice_error_set(x->err, rc, "transform.columns.%s: %s", d->name, e.msg);
        st->set[d->column] = 1;
    }
    for (size_t i = x->next; i < p->n_list; i++) {
        int col = p->list[i];
        int rc = st->set[col] ? buf_append(out, st->scratch[col].data, st->scratch[col].len)
                              : ch_encode_default(p->cols[col].type, out);
        if (rc) return sluice_error_set(x->err, rc, "batch buffer full");
    }
    res->rows++;
    return 0;
}

void plan_reset_row(const plan *p, plan_state *st)
{
    for (size_t i = 0; i < p->n_cols; i++) {
        buf_reset(&st->scratch[i]);
        st->set[i] = 0;
    }
    for (size_t i = 0; i < p->n_slots; i++)
        st->slots[i] = cv_null();
    for (size_t i = 0; i < p->n_slot_consts; i++)
        st->slots[p->slot_consts[i].slot] = p->slot_consts[i].v;
}
