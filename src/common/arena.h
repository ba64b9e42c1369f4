/*
 * arena.h — a bump allocator for data that lives and dies together.
 *
 * Used where one object owns many small pieces with one lifetime (an Avro
 * schema's nodes, names and arrays; later, a batch's rows): allocation is a
 * pointer bump inside the current chunk, and everything is released at once
 * by arena_free(). Nothing is freed one by one, so there is no per-piece
 * bookkeeping and no way to leak a piece.
 *
 * Bounded: `cap` limits the bytes the arena may take from malloc (chunk
 * headers included); past it allocation returns NULL, as it does when malloc
 * fails. Not thread safe: an arena has one owner while it is being filled;
 * what it holds may be read from any thread once the owner stops writing.
 */
#ifndef SLUICE_COMMON_ARENA_H
#define SLUICE_COMMON_ARENA_H

#include <stddef.h>

typedef struct arena_chunk arena_chunk;

typedef struct arena {
    arena_chunk *head; /* current chunk; older chunks hang off it */
    size_t chunk_size; /* usable bytes of a regular chunk */
    size_t total;      /* bytes taken from malloc so far */
    size_t cap;        /* bound on total; SIZE_MAX for "bounded by the caller" */
} arena;

#define ARENA_DEFAULT_CHUNK 4096

void arena_init(arena *a, size_t chunk_size, size_t cap);
/* Release every chunk; the arena is empty and reusable afterwards. */
void arena_free(arena *a);

/* size bytes aligned to align (a power of two, at most alignof(max_align_t));
 * NULL when malloc fails or the cap would be passed. size 0 gives a valid
 * unique pointer. Memory is not zeroed; arena_calloc zeroes it. */
void *arena_alloc(arena *a, size_t size, size_t align);
void *arena_calloc(arena *a, size_t n, size_t size, size_t align);
char *arena_strdup(arena *a, const char *s);
/* Copies n bytes (which may hold NULs) and appends a NUL. */
char *arena_strndup(arena *a, const char *s, size_t n);

#endif
