/*
 * partition.c — per-partition buffers, hysteresis and the offset FIFO (see
 * partition.h). Consumer thread only; the m_* mirrors are for metrics.
 */
#include "sink/partition.h"

#include <stdlib.h>
#include <string.h>

void part_table_free(part_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->parts[i]->segs);
        free(t->parts[i]);
    }
    free(t->parts);
    for (size_t i = 0; i < t->n_routes; i++)
        free(t->by_route[i].slot);
    free(t->by_route);
    memset(t, 0, sizeof *t);
}

int part_find(const part_table *t, int route, int32_t partition)
{
    if (route < 0 || (size_t)route >= t->n_routes || partition < 0) return -1;
    const part_index *ix = &t->by_route[route];
    return (size_t)partition < ix->len ? ix->slot[partition] : -1;
}

static int index_put(part_table *t, int route, int32_t partition, int slot)
{
    if ((size_t)route >= t->n_routes) {
        part_index *q = realloc(t->by_route, (size_t)(route + 1) * sizeof *q);
        if (!q) return -1;
        memset(q + t->n_routes, 0, ((size_t)route + 1 - t->n_routes) * sizeof *q);
        t->by_route = q;
        t->n_routes = (size_t)route + 1;
    }
    part_index *ix = &t->by_route[route];
    if ((size_t)partition >= ix->len) {
        size_t len = (size_t)partition + 1 < 2 * ix->len ? 2 * ix->len : (size_t)partition + 1;
        int *q = realloc(ix->slot, len * sizeof *q);
        if (!q) return -1;
        for (size_t i = ix->len; i < len; i++)
            q[i] = -1;
        ix->slot = q;
        ix->len = len;
    }
    ix->slot[partition] = slot;
    return 0;
}

int part_slot(part_table *t, int route, int32_t partition)
{
    int s = part_find(t, route, partition);
    if (s >= 0) return s;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        part **q = realloc(t->parts, cap * sizeof *q);
        if (!q) return -1;
        t->parts = q;
        t->cap = cap;
    }
    part *p = calloc(1, sizeof *p);
    if (!p || partition < 0 || index_put(t, route, partition, (int)t->n) != 0) {
        free(p);
        return -1;
    }
    t->parts[t->n] = p;
    p->route = route;
    p->partition = partition;
    p->commit_next = -1;
    return (int)t->n++;
}

static void publish(part *p)
{
    atomic_store_explicit(&p->m_buffered, p->buffered, memory_order_relaxed);
    atomic_store_explicit(&p->m_paused, p->paused, memory_order_relaxed);
    atomic_store_explicit(&p->m_committed, p->commit_next, memory_order_relaxed);
}

void part_assign(part *p, int64_t high_mark, int64_t low_mark)
{
    p->generation++;
    p->assigned = 1;
    p->paused = 0;
    p->at_end = 0;
    p->buffered = 0;
    p->high_mark = high_mark;
    p->low_mark = low_mark;
    p->refetch_from = -1;
    p->next_offset = -1;
    p->commit_next = -1;
    p->commit_dirty = 0;
    p->head = p->count = 0;
    publish(p);
}

void part_revoke(part *p)
{
    /* Batches still in flight belong to the old generation: their
     * completions no longer move this partition's offsets or bytes. */
    p->generation++;
    p->assigned = 0;
    p->paused = 0;
    p->at_end = 0;
    p->refetch_from = -1;
    p->buffered = 0;
    p->head = p->count = 0;
    publish(p);
}

static part_seg *seg_at(part *p, size_t i)
{
    return &p->segs[(p->head + i) % p->cap];
}

int part_note_consumed(part *p, uint64_t batch_id, int64_t offset, uint64_t bytes)
{
    part_seg *tail = p->count ? seg_at(p, p->count - 1) : NULL;
    if (tail && tail->batch_id == batch_id) {
        tail->last = offset;
    } else {
        if (p->count == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 8;
            part_seg *q = malloc(cap * sizeof *q);
            if (!q) return 0; /* cannot track: this partition just stops advancing */
            for (size_t i = 0; i < p->count; i++)
                q[i] = *seg_at(p, i);
            free(p->segs);
            p->segs = q;
            p->cap = cap;
            p->head = 0;
        }
        *seg_at(p, p->count) = (part_seg){.batch_id = batch_id, .last = offset};
        p->count++;
    }
    p->buffered += (int64_t)bytes;
    int pause = !p->paused && p->buffered >= p->high_mark;
    if (pause) p->paused = 1;
    publish(p);
    return pause;
}

int part_note_landed(part *p, uint64_t batch_id, uint64_t bytes)
{
    for (size_t i = 0; i < p->count; i++) {
        part_seg *s = seg_at(p, i);
        if (s->batch_id == batch_id) {
            s->done = 1;
            break;
        }
    }
    while (p->count && seg_at(p, 0)->done) {
        p->commit_next = seg_at(p, 0)->last + 1;
        p->commit_dirty = 1;
        p->head = (p->head + 1) % p->cap;
        p->count--;
    }
    p->buffered -= (int64_t)bytes;
    if (p->buffered < 0) p->buffered = 0;
    int resume = p->paused && p->buffered <= p->low_mark;
    if (resume) p->paused = 0;
    publish(p);
    return resume;
}

int part_idle(const part *p)
{
    return p->count == 0;
}
