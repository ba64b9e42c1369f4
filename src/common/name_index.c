/*
 * name_index.c — open addressing with linear probing and FNV-1a hashing
 * (see name_index.h). The load factor stays at or below one half because
 * the capacity is fixed from the caller's bound, so probes stay short and
 * the table never needs to be rebuilt.
 */
#include "common/name_index.h"

#include <sluice/error.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return (size_t)(h ^ (h >> 32));
}

int name_index_init(name_index *ix, size_t max_entries)
{
    size_t cap = 8;
    while (cap < 2 * max_entries) {
        if (cap > SIZE_MAX / 4) return SLUICE_ENOMEM;
        cap *= 2;
    }
    ix->keys = calloc(cap, sizeof *ix->keys);
    ix->values = malloc(cap * sizeof *ix->values);
    ix->cap = cap;
    ix->n = 0;
    ix->max_entries = max_entries;
    if (!ix->keys || !ix->values) {
        name_index_free(ix);
        return SLUICE_ENOMEM;
    }
    return 0;
}

void name_index_free(name_index *ix)
{
    free(ix->keys);
    free(ix->values);
    ix->keys = NULL;
    ix->values = NULL;
    ix->cap = ix->n = 0;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t slot_of(const name_index *ix, const char *key)
{
    size_t mask = ix->cap - 1;
    size_t i = hash_key(key) & mask;
    while (ix->keys[i] && strcmp(ix->keys[i], key) != 0)
        i = (i + 1) & mask;
    return i;
}

int name_index_add(name_index *ix, const char *key, size_t value, size_t *existing)
{
    size_t i = slot_of(ix, key);
    if (ix->keys[i]) {
        if (existing) *existing = ix->values[i];
        return 0;
    }
    if (ix->n >= ix->max_entries) return SLUICE_EFULL;
    ix->keys[i] = key;
    ix->values[i] = value;
    ix->n++;
    return 1;
}

bool name_index_find(const name_index *ix, const char *key, size_t *value)
{
    if (!ix->cap) return false;
    size_t i = slot_of(ix, key);
    if (!ix->keys[i]) return false;
    if (value) *value = ix->values[i];
    return true;
}
