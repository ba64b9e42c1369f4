/*
 * test_sink_parts.c — the sink's bookkeeping, without Kafka or ClickHouse:
 * the partition table (offsets advance only over a done prefix, batches
 * completing out of order; pause/resume with hysteresis; generations),
 * batches (ranges per partition, byte accounting) and the work queue (the
 * byte bound, never blocking the producer).
 */
#include "test.h"

#include "sink/batch.h"
#include "sink/partition.h"
#include "sink/queue.h"

#include <sluice/error.h>

#include <pthread.h>

static void test_offsets_advance_over_done_prefix_only(void)
{
    part_table t = {0};
    int s = part_slot(&t, 0, 3);
    CHECK(s >= 0);
    part *p = t.parts[s];
    part_assign(p, 1 << 20, 1 << 19);
    /* Batch 1 holds offsets 0..9, batch 2 10..19, batch 3 20..24. */
    for (int64_t o = 0; o < 10; o++)
        part_note_consumed(p, 1, o, 100);
    for (int64_t o = 10; o < 20; o++)
        part_note_consumed(p, 2, o, 100);
    for (int64_t o = 20; o < 25; o++)
        part_note_consumed(p, 3, o, 100);
    CHECK_EQ(p->commit_next, -1);
    /* 2 and 3 land first: nothing may be committed past batch 1's offsets. */
    part_note_landed(p, 3, 500);
    part_note_landed(p, 2, 1000);
    CHECK_EQ(p->commit_next, -1);
    CHECK_EQ(p->commit_dirty, 0);
    CHECK(!part_idle(p));
    part_note_landed(p, 1, 1000);
    CHECK_EQ(p->commit_next, 25); /* over all three at once */
    CHECK(p->commit_dirty);
    CHECK(part_idle(p));
    CHECK_EQ(p->buffered, 0);
    CHECK_EQ(atomic_load(&p->m_committed), 25);
    part_table_free(&t);
}

static void test_hysteresis(void)
{
    part_table t = {0};
    int slot = part_slot(&t, 0, 0);
    CHECK(slot >= 0);
    part *p = t.parts[slot];
    part_assign(p, 1000, 500);
    int pauses = 0, resumes = 0;
    /* Fill to the high mark: exactly one pause. */
    for (int64_t o = 0; o < 20; o++)
        pauses += part_note_consumed(p, 1, o, 100);
    CHECK_EQ(pauses, 1);
    CHECK(p->paused);
    CHECK_EQ(atomic_load(&p->m_paused), 1);
    /* Land most of it, but not below the low mark: still paused. */
    for (int64_t o = 20; o < 22; o++)
        part_note_consumed(p, 2, o, 100);    /* a few in flight still arrive */
    resumes += part_note_landed(p, 1, 1400); /* 2200 - 1400 = 800 > 500 */
    CHECK_EQ(resumes, 0);
    CHECK(p->paused);
    resumes += part_note_landed(p, 2, 200); /* 600 left... */
    CHECK_EQ(resumes, 0);
    part_note_consumed(p, 3, 22, 0);
    resumes += part_note_landed(p, 3, 600); /* 0 left: below the low mark */
    CHECK_EQ(resumes, 1);
    CHECK(!p->paused);
    /* Filling again pauses again: a transition each time, never a repeat. */
    for (int64_t o = 23; o < 60; o++)
        pauses += part_note_consumed(p, 4, o, 100);
    CHECK_EQ(pauses, 2);
    part_table_free(&t);
}

static void test_flapping_is_damped(void)
{
    /* A partition hovering around its limit: with hysteresis the number of
     * pause transitions is a fraction of the fills. */
    part_table t = {0};
    int slot = part_slot(&t, 0, 0);
    CHECK(slot >= 0);
    part *p = t.parts[slot];
    part_assign(p, 10000, 5000);
    int pauses = 0;
    uint64_t batch_id = 1;
    int64_t o = 0;
    for (int round = 0; round < 1000; round++) {
        pauses += part_note_consumed(p, batch_id, o++, 1000); /* +1000 */
        if (p->buffered >= 9000)
            part_note_landed(p, batch_id++, 1000 * 1); /* drains 1000 at a time */
        part_note_consumed(p, batch_id, o++, 0);
    }
    CHECK(pauses <= 3);
    part_table_free(&t);
}

static void test_generations_and_lookup(void)
{
    part_table t = {0};
    int a = part_slot(&t, 0, 7), b = part_slot(&t, 1, 7), c = part_slot(&t, 0, 700);
    CHECK(a >= 0 && b >= 0 && c >= 0);
    CHECK(a != b && a != c && b != c);
    CHECK_EQ(part_slot(&t, 0, 7), a);
    CHECK_EQ(part_find(&t, 1, 7), b);
    CHECK_EQ(part_find(&t, 1, 8), -1);
    CHECK_EQ(part_find(&t, 5, 7), -1);
    part *p = t.parts[a];
    part *keep = p;
    for (int i = 0; i < 200; i++) /* growing the table never moves a partition */
        part_slot(&t, 2, i);
    CHECK(t.parts[a] == keep);
    part_assign(p, 100, 50);
    uint32_t g = p->generation;
    part_note_consumed(p, 1, 0, 10);
    part_revoke(p);
    CHECK(p->generation != g);
    CHECK(!p->assigned);
    CHECK(part_idle(p));
    CHECK_EQ(p->buffered, 0);
    part_table_free(&t);
}

static void test_batch_ranges(void)
{
    batch *b = batch_new(9, 0, 0);
    CHECK(b);
    CHECK(batch_add(b, 1, 11, 1, 100, 0, "k", 1, "value", 5) > 6);
    batch_add(b, 2, 12, 1, 7, 0, NULL, 0, "x", 1);
    batch_add(b, 1, 11, 1, 101, 0, NULL, 0, "yy", 2);
    batch_add(b, 2, 12, 1, 8, 0, NULL, 0, "z", 1);
    CHECK_EQ(b->n_msgs, 4);
    CHECK_EQ(b->n_ranges, 2);
    CHECK_EQ(b->ranges[0].part, 1);
    CHECK_EQ(b->ranges[0].first, 100);
    CHECK_EQ(b->ranges[0].last, 101);
    CHECK_EQ(b->ranges[1].first, 7);
    CHECK_EQ(b->ranges[1].last, 8);
    CHECK_EQ(b->ranges[0].bytes + b->ranges[1].bytes, b->bytes);
    CHECK(memcmp(b->msgs[0].key, "k", 1) == 0);
    CHECK(memcmp(b->msgs[0].value, "value", 5) == 0);
    CHECK(b->msgs[1].key == NULL);
    batch_free(b);
}

static void test_queue_bound_never_blocks_producer(void)
{
    work_queue q;
    wq_init(&q, 1000);
    batch *a = batch_new(1, 0, 0), *b = batch_new(2, 0, 0), *c = batch_new(3, 0, 0);
    a->bytes = 5000; /* larger than the bound: accepted into an empty queue */
    b->bytes = 10;
    c->bytes = 10;
    CHECK_EQ(wq_try_push(&q, a), 0);
    CHECK_EQ(wq_try_push(&q, b), SLUICE_EFULL);
    CHECK_EQ(atomic_load(&q.m_depth), 1);
    CHECK(wq_pop(&q) == a);
    CHECK_EQ(wq_try_push(&q, b), 0);
    CHECK_EQ(wq_try_push(&q, c), 0);
    CHECK_EQ(atomic_load(&q.m_bytes), 20);
    CHECK(wq_pop(&q) == b); /* FIFO */
    wq_close(&q);
    CHECK(wq_pop(&q) == c); /* what is left, then NULL */
    CHECK(wq_pop(&q) == NULL);
    batch_free(a);
    batch_free(b);
    batch_free(c);
    wq_destroy(&q);
}

static void *popper(void *p)
{
    return wq_pop(p);
}

static void test_queue_wakes_waiting_writer(void)
{
    work_queue q;
    wq_init(&q, 1000);
    pthread_t th;
    pthread_create(&th, NULL, popper, &q);
    batch *b = batch_new(1, 0, 0);
    CHECK_EQ(wq_try_push(&q, b), 0);
    void *got;
    pthread_join(th, &got);
    CHECK(got == b);
    pthread_create(&th, NULL, popper, &q);
    wq_close(&q);
    pthread_join(th, &got);
    CHECK(got == NULL);
    batch_free(b);
    wq_destroy(&q);
}

TEST_MAIN(T(test_offsets_advance_over_done_prefix_only), T(test_hysteresis),
          T(test_flapping_is_damped), T(test_generations_and_lookup), T(test_batch_ranges),
          T(test_queue_bound_never_blocks_producer), T(test_queue_wakes_waiting_writer))
