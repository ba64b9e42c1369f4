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
    size_t slen = subject ? strlen(subject) + 1 : 0;
    size_t tlen = strlen(type ? type : "AVRO") + 1;
    size_t total = sizeof(sr_schema) + slen + tlen + text_len + 1;
    sr_schema *s = malloc(total);
    if (!s) return NULL;
    char *p = s->storage;
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
    memcpy(p, text, text_len);
    p[text_len] = '\0';
    s->pub.schema = p;
    s->pub.schema_len = text_len;
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
