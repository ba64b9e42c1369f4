/*
 * arena.c — bump allocator (see arena.h). A chunk is one malloc holding a
 * header and its payload; requests larger than a quarter of the regular chunk
 * size get a chunk of their own, pushed *behind* the current one so the free
 * tail of the current chunk keeps being used by later small requests.
 */
#include "common/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
    arena_chunk *next;
    size_t used;
    size_t size;
    alignas(max_align_t) unsigned char data[];
};

void arena_init(arena *a, size_t chunk_size, size_t cap)
{
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : ARENA_DEFAULT_CHUNK;
    a->total = 0;
    a->cap = cap;
}

void arena_free(arena *a)
{
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}

static arena_chunk *arena_new_chunk(arena *a, size_t payload)
{
    if (payload > SIZE_MAX - sizeof(arena_chunk)) return NULL;
    size_t bytes = sizeof(arena_chunk) + payload;
    if (bytes > a->cap || a->total > a->cap - bytes) return NULL;
    arena_chunk *c = malloc(bytes);
    if (!c) return NULL;
    c->next = NULL;
    c->used = 0;
    c->size = payload;
    a->total += bytes;
    return c;
}

/* Offset of the first address >= used in c aligned to align. */
static size_t aligned_offset(const arena_chunk *c, size_t align)
{
    uintptr_t p = (uintptr_t)(c->data + c->used);
    uintptr_t q = (p + (align - 1)) & ~(uintptr_t)(align - 1);
    return c->used + (size_t)(q - p);
}

void *arena_alloc(arena *a, size_t size, size_t align)
{
    if (align == 0 || (align & (align - 1)) != 0 || align > alignof(max_align_t)) return NULL;
    if (size == 0) size = 1;
    arena_chunk *c = a->head;
    if (c) {
        size_t off = aligned_offset(c, align);
        if (off <= c->size && size <= c->size - off) {
            c->used = off + size;
            return c->data + off;
        }
    }
    if (size > a->chunk_size / 4) {
        /* Big request: its own exactly-sized chunk, behind the current one. */
        arena_chunk *big = arena_new_chunk(a, size);
        if (!big) return NULL;
        big->used = size;
        if (c) {
            big->next = c->next;
            c->next = big;
        } else {
            a->head = big;
        }
        return big->data;
    }
    arena_chunk *fresh = arena_new_chunk(a, a->chunk_size);
    if (!fresh) return NULL;
    fresh->next = c;
    a->head = fresh;
    fresh->used = size; /* data[] is max_align_t aligned, so offset 0 fits any align */
    return fresh->data;
}

void *arena_calloc(arena *a, size_t n, size_t size, size_t align)
{
    if (size && n > SIZE_MAX / size) return NULL;
    size_t bytes = n * size;
    void *p = arena_alloc(a, bytes, align);
    if (p) memset(p, 0, bytes > 0 ? bytes : 1);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX) return NULL;
    char *p = arena_alloc(a, n + 1, 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}
