/*
 * name_index.h — a fixed-capacity hash index from borrowed strings to
 * positions, for "is this name already used / where is it" checks over
 * lists that come from untrusted input (record fields, enum symbols), where
 * a pairwise comparison would make a large schema quadratic to check.
 *
 * The index stores pointers to the caller's strings, which must outlive it.
 * Its capacity is fixed at init from the number of entries expected, so it
 * never grows behind the caller's back. One owner; not thread safe.
 */
#ifndef SLUICE_COMMON_NAME_INDEX_H
#define SLUICE_COMMON_NAME_INDEX_H

#include <stdbool.h>
#include <stddef.h>

typedef struct name_index {
    const char **keys; /* NULL = empty slot */
    size_t *values;
    size_t cap; /* slots, a power of two, at least twice max_entries */
    size_t n, max_entries;
} name_index;

/* Room for max_entries keys; SLUICE_ENOMEM if that cannot be allocated. */
int name_index_init(name_index *ix, size_t max_entries);
void name_index_free(name_index *ix);

/* Adds key -> value. Returns 1 if added, 0 if key was already there (its
 * value goes to *existing when not NULL), SLUICE_EFULL past max_entries. */
int name_index_add(name_index *ix, const char *key, size_t value, size_t *existing);

bool name_index_find(const name_index *ix, const char *key, size_t *value);

#endif
