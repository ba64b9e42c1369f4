/*
 * schema_obj.h — the reference-counted object behind sluice_sr_schema.
 *
 * Created by the response parser, immutable afterwards, shared by the cache
 * (one reference per entry), by in-flight requests and by callers. The public
 * struct is the first member so a `const sluice_sr_schema *` converts back.
 * Subject, type, text and the references (array and strings) live in the
 * same allocation (one malloc per schema).
 */
#ifndef SLUICE_SR_SCHEMA_OBJ_H
#define SLUICE_SR_SCHEMA_OBJ_H

#include <sluice/sr.h>

#include <stdatomic.h>

typedef struct sr_schema {
    sluice_sr_schema pub;
    _Atomic int refs;
    size_t bytes;                                 /* whole allocation, for cache accounting */
    _Alignas(sluice_sr_reference) char storage[]; /* the reference array comes first */
} sr_schema;

/* One reference to a new object, or NULL on allocation failure. subject and
 * type may be NULL; text need not be NUL-terminated. */
sr_schema *sr_schema_new(int32_t id, int32_t version, const char *subject, const char *type,
                         const char *text, size_t text_len);
/* The same with references (copied). */
sr_schema *sr_schema_new_refs(int32_t id, int32_t version, const char *subject, const char *type,
                              const char *text, size_t text_len, const sluice_sr_reference *refs,
                              size_t n_refs);

static inline sr_schema *sr_schema_from_pub(const sluice_sr_schema *s)
{
    return (sr_schema *)(void *)s;
}

static inline sr_schema *sr_schema_retain(sr_schema *s)
{
    if (s) atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void sr_schema_release(sr_schema *s);

#endif
