/*
 * test_arena.c — the bump arena (src/common/arena.c) and the fixed-capacity
 * name index (src/common/name_index.c) that the Avro schema code is built on.
 */
#include "common/arena.h"
#include "common/name_index.h"

#include <sluice/error.h>

#include <stdalign.h>
#include <stdint.h>

#include "test.h"

static void test_arena_alignment_and_contents(void)
{
    arena a;
    arena_init(&a, 256, SIZE_MAX);
    for (int i = 0; i < 1000; i++) {
        size_t align = (size_t)1 << (i % 5); /* 1..16 */
        size_t size = (size_t)(i % 37);
        unsigned char *p = arena_alloc(&a, size, align);
        CHECK(p != NULL);
        CHECK_EQ((uintptr_t)p % align, 0);
        memset(p, i & 0xff, size);
    }
    /* Strings survive later allocations, big ones included. */
    char *s1 = arena_strdup(&a, "hello");
    char *big = arena_alloc(&a, 10000, 8);
    CHECK(big != NULL);
    memset(big, 'x', 10000);
    char *s2 = arena_strndup(&a, "ab\0cd", 5);
    CHECK_STR(s1, "hello");
    CHECK_EQ(memcmp(s2, "ab\0cd\0", 6), 0);
    int *zeros = arena_calloc(&a, 100, sizeof(int), alignof(int));
    CHECK(zeros != NULL);
    for (int i = 0; i < 100; i++)
        CHECK_EQ(zeros[i], 0);
    /* Zero-size allocations are distinct valid pointers. */
    void *z1 = arena_alloc(&a, 0, 1), *z2 = arena_alloc(&a, 0, 1);
    CHECK(z1 && z2 && z1 != z2);
    /* Bad alignment and overflowing calloc are refused. */
    CHECK(arena_alloc(&a, 8, 3) == NULL);
    CHECK(arena_alloc(&a, 8, 4096) == NULL);
    CHECK(arena_calloc(&a, SIZE_MAX / 2, 4, 1) == NULL);
    arena_free(&a);
    CHECK(a.head == NULL);
    CHECK_EQ(a.total, 0);
    /* Reusable after free. */
    CHECK_STR(arena_strdup(&a, "again"), "again");
    arena_free(&a);
}

static void test_arena_cap(void)
{
    arena a;
    arena_init(&a, 1024, 4096);
    size_t got = 0;
    while (arena_alloc(&a, 100, 1) != NULL)
        got += 100;
    /* Stopped by the cap, not by malloc, and never past it. */
    CHECK(got > 2000);
    CHECK(a.total <= 4096);
    CHECK(arena_alloc(&a, 5000, 1) == NULL);
    arena_free(&a);
}

static void test_name_index(void)
{
    name_index ix;
    CHECK_EQ(name_index_init(&ix, 100), 0);
    char names[100][8];
    for (int i = 0; i < 100; i++) {
        snprintf(names[i], sizeof names[i], "n%d", i);
        CHECK_EQ(name_index_add(&ix, names[i], (size_t)i, NULL), 1);
    }
    size_t existing = 0;
    CHECK_EQ(name_index_add(&ix, "n42", 7, &existing), 0);
    CHECK_EQ(existing, 42);
    CHECK_EQ(name_index_add(&ix, "new", 1, NULL), SLUICE_EFULL);
    size_t v = 0;
    CHECK(name_index_find(&ix, "n99", &v));
    CHECK_EQ(v, 99);
    CHECK(!name_index_find(&ix, "n100", &v));
    CHECK(!name_index_find(&ix, "", &v));
    name_index_free(&ix);
    CHECK(!name_index_find(&ix, "n1", &v));
}

TEST_MAIN(T(test_arena_alignment_and_contents), T(test_arena_cap), T(test_name_index))
