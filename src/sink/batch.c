/*
 * batch.c — filling a batch (see batch.h). Consumer thread only.
 */
#include "sink/batch.h"

#include <stdlib.h>
#include <string.h>

batch *batch_new(uint64_t id, int route, int64_t now_ms)
{
    batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->id = id;
    b->route = route;
    b->opened_ms = now_ms;
    arena_init(&b->a, 256 * 1024,
               SIZE_MAX); /* bounded by the partition buffers it counts against */
    return b;
}

void batch_free(batch *b)
{
    if (!b) return;
    arena_free(&b->a);
    free(b->msgs);
    free(b->ranges);
    free(b);
}

static int grow(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap) return 0;
    size_t c = *cap ? *cap * 2 : 64;
    void *q = realloc(*p, c * elem);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

uint64_t batch_add(batch *b, uint32_t part, int32_t partition, uint32_t generation, int64_t offset,
                   int64_t timestamp_ms, const void *key, size_t key_len, const void *value,
                   size_t value_len)
{
    if (grow((void **)&b->msgs, &b->cap_msgs, b->n_msgs, sizeof *b->msgs) != 0) return 0;
    uint8_t *copy = arena_alloc(&b->a, key_len + value_len + 1, 1);
    if (!copy) return 0;
    if (key_len) memcpy(copy, key, key_len);
    if (value_len) memcpy(copy + key_len, value, value_len);
    batch_msg *m = &b->msgs[b->n_msgs];
    m->part = part;
    m->partition = partition;
    m->offset = offset;
    m->timestamp_ms = timestamp_ms;
    m->key = key ? copy : NULL;
    m->key_len = (uint32_t)key_len;
    m->value = copy + key_len;
    m->value_len = (uint32_t)value_len;
    uint64_t bytes = key_len + value_len + sizeof *m;

    /* The partition's range in this batch: the last one, if it is this
     * partition's (messages of one partition usually come in runs), else a
     * search; ranges are few (one per partition in the batch). */
    batch_range *r = NULL;
    if (b->n_ranges && b->ranges[b->n_ranges - 1].partition == partition)
        r = &b->ranges[b->n_ranges - 1];
    for (size_t i = 0; !r && i < b->n_ranges; i++)
        if (b->ranges[i].partition == partition) r = &b->ranges[i];
    if (!r) {
        if (grow((void **)&b->ranges, &b->cap_ranges, b->n_ranges, sizeof *b->ranges) != 0)
            return 0;
        r = &b->ranges[b->n_ranges++];
        *r = (batch_range){
            .part = part, .partition = partition, .generation = generation, .first = offset};
    }
    r->last = offset;
    if (r->end < offset + 1) r->end = offset + 1;
    r->bytes += bytes;
    b->bytes += bytes;
    b->n_msgs++;
    return bytes;
}

static int by_partition_offset(const void *x, const void *y)
{
    const batch_msg *a = x, *b = y;
    if (a->partition != b->partition) return a->partition < b->partition ? -1 : 1;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

static int range_by_partition(const void *x, const void *y)
{
    const batch_range *a = x, *b = y;
    return a->partition < b->partition ? -1 : a->partition > b->partition;
}

void batch_sort(batch *b)
{
    /* Already in order when one partition filled the batch (or each came
     * in one run, in partition order): check before sorting. */
    int sorted = 1;
    for (size_t i = 1; sorted && i < b->n_msgs; i++)
        sorted = by_partition_offset(&b->msgs[i - 1], &b->msgs[i]) < 0;
    if (!sorted) qsort(b->msgs, b->n_msgs, sizeof *b->msgs, by_partition_offset);
    qsort(b->ranges, b->n_ranges, sizeof *b->ranges, range_by_partition);
}
