/*
 * plan_cache.c — one writer's plans (plan_cache.h).
 */
#include "sink/plan_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/wire.h>

#include "codec/json_lex.h"
#include "codec/proto_wire.h"

void plan_cache_init(plan_cache *c, sluice_sr *sr)
{
    memset(c, 0, sizeof *c);
    c->sr = sr;
}

static void entry_clear(plan_entry *e)
{
    plan_state_free(e->st);
    plan_free(e->p);
    sluice_avro_schema_free(e->w);
    sluice_avro_schema_free(e->r);
    json_validator_free(e->jv);
    json_schema_free(e->js);
    proto_schema_free(e->ps);
    free(e->message);
    free(e->error);
    memset(e, 0, sizeof *e);
}

void plan_cache_free(plan_cache *c)
{
    for (int i = 0; i < PLAN_CACHE; i++)
        entry_clear(&c->e[i]);
}

uint64_t plan_cache_batch(plan_cache *c)
{
    c->n_memo = 0;
    return c->tick + 1;
}

static plan_entry *find(plan_cache *c, plan_kind kind, int route, int32_t writer_id,
                        int32_t reader_id, const char *message, uint64_t gen)
{
    for (int i = 0; i < PLAN_CACHE; i++) {
        plan_entry *e = &c->e[i];
        if (e->used && e->kind == kind && e->route == route && e->writer_id == writer_id &&
            e->reader_id == reader_id && e->cols_gen == gen &&
            (!message || (e->message && strcmp(e->message, message) == 0))) {
            e->last_used = ++c->tick;
            return e;
        }
    }
    return NULL;
}

/* A free entry, evicting the least recently used (never one used by the
 * current batch: entries of this batch have last_used >= batch_tick). */
static plan_entry *slot(plan_cache *c, uint64_t batch_tick, plan_kind kind, int route,
                        int32_t writer_id, int32_t reader_id, uint64_t gen)
{
    plan_entry *victim = NULL;
    for (int i = 0; i < PLAN_CACHE; i++) {
        plan_entry *e = &c->e[i];
        if (!e->used) {
            victim = e;
            break;
        }
        if (e->last_used < batch_tick && (!victim || e->last_used < victim->last_used)) victim = e;
    }
    if (!victim) return NULL;
    entry_clear(victim);
    *victim = (plan_entry){.used = 1,
                           .kind = kind,
                           .route = route,
                           .writer_id = writer_id,
                           .reader_id = reader_id,
                           .cols_gen = gen,
                           .last_used = ++c->tick};
    return victim;
}

static void fail(plan_entry *e, const char *msg)
{
    e->error = strdup(msg);
}

static void finish_plan(plan_entry *e, int rc, const sluice_error *err)
{
    if (rc != 0)
        fail(e, err->msg);
    else if (!(e->st = plan_state_new(e->p)))
        fail(e, "out of memory");
}

static int too_many(char *why, size_t why_len)
{
    snprintf(why, why_len, "more than %d schemas in one batch", PLAN_CACHE);
    return PLAN_UNDECODABLE;
}

int plan_cache_json(plan_cache *c, route_rt *r, uint64_t batch_tick, plan_entry **out, char *why,
                    size_t why_len)
{
    uint64_t gen = atomic_load(&r->cols_gen);
    plan_entry *e = find(c, PLAN_KIND_JSON, r->index, -1, -1, NULL, gen);
    if (!e) {
        if (!(e = slot(c, batch_tick, PLAN_KIND_JSON, r->index, -1, -1, gen)))
            return too_many(why, why_len);
        sluice_error err;
        pthread_mutex_lock(&r->mu); /* another writer may be re-reading the columns */
        int rc = plan_compile_json(r->cols, r->n_cols, &r->opt, &e->p, &err);
        pthread_mutex_unlock(&r->mu);
        finish_plan(e, rc, &err);
    }
    *out = e;
    return PLAN_READY;
}

/* ---- Avro ----------------------------------------------------------------------- */

static void compile_avro(plan_entry *e, route_rt *r, const sluice_sr_schema *ws,
                         const sluice_sr_schema *reader)
{
    sluice_error err;
    if (sluice_avro_schema_parse(ws->schema, ws->schema_len, &e->w, &err) != 0) {
        fail(e, err.msg);
        return;
    }
    if (reader && reader->id != ws->id) {
        if (strcmp(reader->schema_type, "AVRO") != 0) {
            /* the subject's latest is another type: read with the writer's */
        } else if (sluice_avro_schema_parse(reader->schema, reader->schema_len, &e->r, &err) != 0) {
            fail(e, err.msg);
            return;
        }
    }
    const sluice_avro_node *wnode = sluice_avro_schema_root(e->w);
    const sluice_avro_node *rnode = e->r ? sluice_avro_schema_root(e->r) : NULL;
    /* A writer the subject's latest cannot read (compatibility NONE, or
     * another subject's schema) is decoded with its own schema. */
    if (rnode && sluice_avro_can_read(rnode, wnode, NULL) != 0) rnode = NULL;
    pthread_mutex_lock(&r->mu);
    int rc = plan_compile_avro(wnode, rnode, r->cols, r->n_cols, &r->opt, &e->p, &err);
    pthread_mutex_unlock(&r->mu);
    finish_plan(e, rc, &err);
}

static int avro(plan_cache *c, route_rt *r, const sluice_sr_schema *ws, int32_t pin,
                uint64_t batch_tick, plan_entry **out, char *why, size_t why_len, sluice_error *err)
{
    const sluice_sr_schema *reader = NULL;
    int rc = 0;
    if (pin == READER_LATEST) {
        rc = sluice_sr_get_latest(c->sr, r->subject, &reader, err);
        if (rc == SLUICE_ENOTFOUND) rc = 0; /* no such subject: the writer's own schema */
    } else if (pin >= 0) {
        rc = sluice_sr_get_by_id(c->sr, pin, &reader, err);
        if (rc == SLUICE_ENOTFOUND) {
            snprintf(why, why_len, "reader schema id %d of the batch's intent: %.400s", (int)pin,
                     err->msg);
            return PLAN_UNDECODABLE;
        }
    }
    if (rc) return PLAN_RETRY;
    int32_t reader_id = reader ? reader->id : ws->id;
    uint64_t gen = atomic_load(&r->cols_gen);
    plan_entry *e = find(c, PLAN_KIND_AVRO, r->index, ws->id, reader_id, NULL, gen);
    if (!e && (e = slot(c, batch_tick, PLAN_KIND_AVRO, r->index, ws->id, reader_id, gen)) != NULL)
        compile_avro(e, r, ws, reader);
    sluice_sr_schema_release(reader);
    if (!e) return too_many(why, why_len);
    *out = e;
    return PLAN_READY;
}

/* ---- Protobuf ------------------------------------------------------------------- */

/* The schema with its references, parsed (what the frame is read with and
 * what plans point into). 0, PLAN_RETRY (registry), or an error in msg. */
static int parse_proto(plan_cache *c, const sluice_sr_schema *ws, proto_schema **out,
                       sluice_error *err)
{
    sluice_sr_resolved *res = NULL;
    int rc = sluice_sr_resolve_references(c->sr, ws, &res, err);
    if (rc == SLUICE_ENOTFOUND || rc == SLUICE_EINVAL) return SLUICE_EINVAL; /* the schema's */
    if (rc) return PLAN_RETRY;
    proto_source *deps = calloc(res->n ? res->n : 1, sizeof *deps);
    if (!deps) {
        sluice_sr_resolved_free(res);
        return sluice_error_set(err, SLUICE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < res->n; i++)
        deps[i] =
            (proto_source){res->names[i], res->schemas[i]->schema, res->schemas[i]->schema_len,
                           res->schemas[i]->subject, res->schemas[i]->version};
    rc = proto_schema_parse(ws->schema, ws->schema_len, NULL, deps, res->n, out, err);
    free(deps);
    sluice_sr_resolved_free(res);
    return rc ? SLUICE_EINVAL : 0;
}

static int proto(plan_cache *c, route_rt *r, const sluice_sr_schema *ws, const uint8_t *frame,
                 size_t len, uint64_t batch_tick, plan_entry **out, size_t *payload_at, char *why,
                 size_t why_len, sluice_error *err)
{
    /* The file, to read the frame's message-index array with. */
    plan_entry *f = find(c, PLAN_KIND_PROTO_FILE, -1, ws->id, -1, NULL, 0);
    if (!f) {
        proto_schema *ps = NULL;
        int rc = parse_proto(c, ws, &ps, err);
        if (rc == PLAN_RETRY) return PLAN_RETRY;
        if (!(f = slot(c, batch_tick, PLAN_KIND_PROTO_FILE, -1, ws->id, -1, 0))) {
            proto_schema_free(ps);
            return too_many(why, why_len);
        }
        f->ps = ps;
        if (rc) fail(f, err->msg);
    }
    if (f->error) {
        snprintf(why, why_len, "protobuf schema %d: %s", (int)ws->id, f->error);
        return PLAN_UNDECODABLE;
    }
    int32_t path[SLUICE_WIRE_MAX_INDEXES];
    size_t n_path = 0;
    const proto_message *m = NULL;
    sluice_error ferr;
    if (proto_frame_resolve(proto_schema_root(f->ps), frame, len,
                            (proto_index_mode)r->cfg->protobuf_index_encoding, path, &n_path, &m,
                            payload_at, &ferr) != 0) {
        snprintf(why, why_len, "%s", ferr.msg);
        return PLAN_UNDECODABLE;
    }
    /* The plan for that message type: its own parse of the schema, so
     * that evicting the file entry leaves it whole. */
    uint64_t gen = atomic_load(&r->cols_gen);
    plan_entry *e = find(c, PLAN_KIND_PROTO, r->index, ws->id, -1, m->full_name, gen);
    if (!e) {
        if (!(e = slot(c, batch_tick, PLAN_KIND_PROTO, r->index, ws->id, -1, gen)))
            return too_many(why, why_len);
        e->message = strdup(m->full_name);
        int rc = parse_proto(c, ws, &e->ps, err);
        if (rc == PLAN_RETRY) {
            entry_clear(e);
            return PLAN_RETRY;
        }
        if (rc == 0) {
            e->pm = proto_message_at_path(proto_schema_root(e->ps), path, n_path);
            if (!e->pm) {
                fail(e, "message-index path resolves differently on a second parse");
            } else {
                sluice_error cerr;
                pthread_mutex_lock(&r->mu);
                rc = plan_compile_proto(e->pm, r->cols, r->n_cols, &r->opt, &e->p, &cerr);
                pthread_mutex_unlock(&r->mu);
                finish_plan(e, rc, &cerr);
            }
        } else {
            fail(e, err->msg);
        }
    }
    *out = e;
    return PLAN_READY;
}

/* ---- JSON Schema ------------------------------------------------------------------ */

static int json_schema_entry(plan_cache *c, route_rt *r, const sluice_sr_schema *ws,
                             uint64_t batch_tick, plan_entry **out, char *why, size_t why_len,
                             sluice_error *err)
{
    uint64_t gen = atomic_load(&r->cols_gen);
    plan_entry *e = find(c, PLAN_KIND_JSON_SCHEMA, r->index, ws->id, -1, NULL, gen);
    if (e) {
        *out = e;
        return PLAN_READY;
    }
    sluice_sr_resolved *res = NULL;
    int rc = sluice_sr_resolve_references(c->sr, ws, &res, err);
    if (rc && rc != SLUICE_ENOTFOUND && rc != SLUICE_EINVAL) return PLAN_RETRY;
    if (!(e = slot(c, batch_tick, PLAN_KIND_JSON_SCHEMA, r->index, ws->id, -1, gen))) {
        sluice_sr_resolved_free(res);
        return too_many(why, why_len);
    }
    if (rc) {
        fail(e, err->msg);
    } else {
        json_schema_source *deps = calloc(res->n ? res->n : 1, sizeof *deps);
        sluice_error perr;
        if (!deps) {
            fail(e, "out of memory");
        } else {
            for (size_t i = 0; i < res->n; i++)
                deps[i] = (json_schema_source){res->names[i], res->schemas[i]->schema,
                                               res->schemas[i]->schema_len};
            if (json_schema_parse(ws->schema, ws->schema_len, deps, res->n, &e->js, &perr) != 0 ||
                json_validator_compile(e->js, &e->jv, &perr) != 0) {
                fail(e, perr.msg);
            } else {
                pthread_mutex_lock(&r->mu);
                int prc = plan_compile_json(r->cols, r->n_cols, &r->opt, &e->p, &perr);
                pthread_mutex_unlock(&r->mu);
                finish_plan(e, prc, &perr);
            }
            free(deps);
        }
    }
    sluice_sr_resolved_free(res);
    *out = e;
    return PLAN_READY;
}

int plan_entry_validate(const plan_entry *e, const uint8_t *payload, size_t len, char *why,
                        size_t why_len)
{
    if (e->kind != PLAN_KIND_JSON_SCHEMA || !e->jv) return 0;
    json_lex lx;
    json_lex_init(&lx, (const char *)payload, len);
    avro_json_errors errs = {0};
    int rc = json_validator_run(e->jv, &lx, &errs);
    if (rc == SLUICE_EPARSE) {
        snprintf(why, why_len, "not JSON: %s", lx.err_msg);
    } else if (rc == SLUICE_EINVAL) {
        size_t at = (size_t)snprintf(why, why_len, "does not match its JSON Schema:");
        for (int i = 0; i < errs.n && at < why_len; i++)
            at += (size_t)snprintf(why + at, why_len - at, "%s %s: %s", i ? ";" : "",
                                   errs.items[i].path, errs.items[i].message);
        if (errs.truncated && at < why_len) snprintf(why + at, why_len - at, "; ...");
    }
    json_lex_free(&lx);
    return rc ? SLUICE_EINVAL : 0;
}

/* ---- framed messages ----------------------------------------------------------- */

int plan_cache_framed(plan_cache *c, route_rt *r, const uint8_t *frame, size_t len, int32_t pin,
                      uint64_t batch_tick, plan_entry **out, size_t *payload_at, char *why,
                      size_t why_len, sluice_error *err)
{
    int32_t id;
    const uint8_t *payload;
    size_t plen;
    if (sluice_wire_read(frame, len, &id, &payload, &plen, err) != 0) {
        snprintf(why, why_len, "%s", err->msg);
        return PLAN_UNDECODABLE;
    }
    *payload_at = (size_t)(payload - frame);
    uint64_t gen = atomic_load(&r->cols_gen);
    for (int i = 0; i < c->n_memo; i++) {
        const plan_memo *m = &c->memo[i];
        if (m->id == id && m->route == r->index && m->pin == pin && m->cols_gen == gen) {
            *out = m->e;
            return PLAN_READY;
        }
    }
    if (!c->sr) {
        snprintf(why, why_len, "schema id %d: no schema registry configured", (int)id);
        return PLAN_UNDECODABLE;
    }
    const sluice_sr_schema *ws = NULL;
    int rc = sluice_sr_get_by_id(c->sr, id, &ws, err);
    if (rc == SLUICE_ENOTFOUND) {
        snprintf(why, why_len, "unknown schema id %d: %.400s", (int)id, err->msg);
        return PLAN_UNDECODABLE;
    }
    if (rc) return PLAN_RETRY;
    if (strcmp(ws->schema_type, "PROTOBUF") == 0)
        rc = proto(c, r, ws, frame, len, batch_tick, out, payload_at, why, why_len, err);
    else if (strcmp(ws->schema_type, "JSON") == 0)
        rc = json_schema_entry(c, r, ws, batch_tick, out, why, why_len, err);
    else if (strcmp(ws->schema_type, "AVRO") == 0)
        rc = avro(c, r, ws, pin, batch_tick, out, why, why_len, err);
    else {
        snprintf(why, why_len, "schema %d has type %s, which sluice cannot read", (int)id,
                 ws->schema_type);
        rc = PLAN_UNDECODABLE;
    }
    sluice_sr_schema_release(ws);
    if (rc == PLAN_READY && c->n_memo < PLAN_MEMO &&
        ((*out)->kind == PLAN_KIND_AVRO || (*out)->kind == PLAN_KIND_JSON_SCHEMA) &&
        (*out)->cols_gen == gen)
        c->memo[c->n_memo++] = (plan_memo){r->index, id, pin, gen, *out};
    return rc;
}
