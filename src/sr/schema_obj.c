/*
 * schema_obj.c — allocation and reference counting of sr_schema. The last
 * release frees; acquire/release ordering makes the object's contents
 * visible to whichever thread frees it.
 */
#include "sr/schema_obj.h"

#include <stdlib.h>
#include <string.h>

sr_schema *sr_schema_new(int32_t id, int32_t version, const char *subject, const char *type,
                         const char *text, size_t text_len)
{
    return sr_schema_new_refs(id, version, subject, type, text, text_len, NULL, 0);
}

sr_schema *sr_schema_new_refs(int32_t id, int32_t version, const char *subject, const char *type,
                              const char *text, size_t text_len, const sluice_sr_reference *refs,
                              size_t n_refs)
{
    size_t slen = subject ? strlen(subject) + 1 : 0;
    size_t tlen = strlen(type ? type : "AVRO") + 1;
    size_t rlen = 0;
    for (size_t i = 0; i < n_refs; i++)
        rlen += strlen(refs[i].name) + 1 + strlen(refs[i].subject) + 1;
    /* the reference array first, at the (aligned) start of the storage */
    size_t array = n_refs * sizeof(sluice_sr_reference);
    size_t total = sizeof(sr_schema) + array + slen + tlen + rlen + text_len + 1;
    sr_schema *s = malloc(total);
    if (!s) return NULL;
    sluice_sr_reference *out_refs = n_refs ? (sluice_sr_reference *)(void *)s->storage : NULL;
    char *p = s->storage + array;
    s->pub.id = id;
    s->pub.version = version;
    s->pub.subject = NULL;
    if (subject) {
        memcpy(p, subject, slen);
        s->pub.subject = p;
        p += slen;
    }
    memcpy(p, type ? type : "AVRO", tlen);
    s->pub.schema_type = p;
    p += tlen;
    for (size_t i = 0; i < n_refs; i++) {
        size_t n = strlen(refs[i].name) + 1, m = strlen(refs[i].subject) + 1;
        out_refs[i].name = memcpy(p, refs[i].name, n);
        p += n;
        out_refs[i].subject = memcpy(p, refs[i].subject, m);
        p += m;
        out_refs[i].version = refs[i].version;
    }
    memcpy(p, text, text_len);
    p[text_len] = '\0';
    s->pub.schema = p;
    s->pub.schema_len = text_len;
    s->pub.references = out_refs;
    s->pub.n_references = n_refs;
    s->bytes = total;
    atomic_init(&s->refs, 1);
    return s;
}

void sr_schema_release(sr_schema *s)
{
    if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) free(s);
}

void sluice_sr_schema_retain(const sluice_sr_schema *s)
{
    sr_schema_retain(sr_schema_from_pub(s));
}

void sluice_sr_schema_release(const sluice_sr_schema *s)
{
    if (s) sr_schema_release(sr_schema_from_pub(s));
}
