/*
 * json_schema_refs.c — step 2 of parsing a JSON Schema (json_schema.c):
 * resolving the `$ref`s the walk queued.
 *
 * Each `$ref` is split into a document and a fragment. The document is the
 * one being walked when the URI part is empty, else a reference found by
 * name or by `$id` — as written, or resolved against the root's `$id` — or
 * a subschema with that `$id`. The fragment is followed as a JSON pointer
 * (~0/~1 and percent escapes) or a plain-name `$id` anchor ("#foo"). A
 * pointer into a place the walk did not visit (a schema under a keyword
 * sluice does not know) is built on demand, which may queue more `$ref`s;
 * the queue is drained until empty. Then every chain of `$ref`s must reach
 * a schema: a chain that loops is refused.
 *
 * Runs on the parsing thread with the parser's state (json_schema_int.h).
 */
#include "codec/json_schema_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decode in place; false on a bad escape or a NUL. */
static bool percent_decode(char *s)
{
    char *out = s;
    for (char *c = s; *c; c++) {
        if (*c == '%') {
            int hi = hexval(c[1]), lo = hi >= 0 ? hexval(c[2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
            *out++ = (char)(hi << 4 | lo);
            c += 2;
        } else {
            *out++ = *c;
        }
    }
    *out = '\0';
    return true;
}

/* Resolve `rel` against `base` (RFC 3986, enough for schema ids: a
 * reference with a scheme is absolute; otherwise it replaces what follows
 * the base's last '/'). */
static void resolve_uri(const char *base, const char *rel, char *out, size_t n)
{
    const char *colon = strchr(rel, ':'), *slash = strchr(rel, '/');
    if (!base || (colon && (!slash || colon < slash))) {
        snprintf(out, n, "%s", rel);
        return;
    }
    const char *hash = strchr(base, '#');
    size_t blen = hash ? (size_t)(hash - base) : strlen(base);
    if (rel[0] == '/') {
        const char *scheme = strstr(base, "://");
        const char *host_end = scheme ? strchr(scheme + 3, '/') : NULL;
        blen = host_end ? (size_t)(host_end - base) : blen;
    } else {
        while (blen && base[blen - 1] != '/')
            blen--;
    }
    snprintf(out, n, "%.*s%s", (int)blen, base, rel);
}

/* The document a `$ref`'s URI part names, or -1. */
static long find_document(parser *p, const char *uri, size_t from_doc)
{
    char resolved[2048];
    resolve_uri(p->docs[from_doc].id ? p->docs[from_doc].id : p->docs[0].id, uri, resolved,
                sizeof resolved);
    for (size_t pass = 0; pass < 2; pass++) {
        const char *want = pass == 0 ? uri : resolved;
        for (size_t d = 0; d < p->n_docs; d++) {
            if (d > 0 && strcmp(p->docs[d].name, want) == 0) return (long)d;
            if (p->docs[d].id) {
                const char *id = p->docs[d].id;
                size_t n = strlen(id);
                if (n && id[n - 1] == '#') n--; /* "http://x/y.json#" names y.json too */
                if (strlen(want) == n && strncmp(id, want, n) == 0) return (long)d;
            }
        }
    }
    return -1;
}

/* Follow a JSON pointer fragment ("/definitions/a") in a document. */
static json_t *follow_pointer(json_t *root, char *frag)
{
    json_t *cur = root;
    char *save = NULL;
    for (char *tok = frag[0] == '/' ? frag + 1 : frag; cur; tok = save) {
        char *slash = strchr(tok, '/');
        save = slash ? slash + 1 : NULL;
        if (slash) *slash = '\0';
        /* unescape ~1 then ~0 */
        char *o = tok;
        for (char *c = tok; *c; c++) {
            if (c[0] == '~' && c[1] == '1') {
                *o++ = '/';
                c++;
            } else if (c[0] == '~' && c[1] == '0') {
                *o++ = '~';
                c++;
            } else {
                *o++ = *c;
            }
        }
        *o = '\0';
        if (json_is_object(cur)) {
            cur = json_object_get(cur, tok);
        } else if (json_is_array(cur)) {
            char *end;
            unsigned long i = strtoul(tok, &end, 10);
            cur = *tok && !*end ? json_array_get(cur, i) : NULL;
        } else {
            cur = NULL;
        }
        if (!save) break;
    }
    return cur;
}

static bool resolve_one(parser *p, struct pending_ref *r)
{
    /* Errors name the $ref's own place. */
    snprintf(p->path, JSPARSE_PATH_CAP, "%s/$ref", r->node->path);
    p->path_len = strlen(p->path);
    p->doc = r->doc;
    char text[2048];
    if (strlen(r->ref) >= sizeof text)
        return jsparse_fail(p, SLUICE_EINVAL, "reference too long"), false;
    snprintf(text, sizeof text, "%s", r->ref);
    char *hash = strchr(text, '#');
    char *frag = hash ? hash + 1 : text + strlen(text);
    if (hash) *hash = '\0';
    long d = text[0] ? find_document(p, text, r->doc) : (long)r->doc;
    if (d < 0 && !frag[0]) {
        /* a subschema with its own "$id": "item.json" */
        char resolved[2048];
        resolve_uri(p->docs[r->doc].id ? p->docs[r->doc].id : p->docs[0].id, text, resolved,
                    sizeof resolved);
        for (size_t k = 0; k < p->n_anchors; k++)
            if (p->anchors[k].id[0] != '#' &&
                (strcmp(p->anchors[k].id, text) == 0 || strcmp(p->anchors[k].id, resolved) == 0)) {
                r->node->ref = p->anchors[k].node;
                return true;
            }
    }
    if (d < 0) {
        char names[256] = "";
        size_t used = 0;
        for (size_t k = 1; k < p->n_docs && used + 4 < sizeof names; k++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s'%s'", k > 1 ? ", " : "",
                                     p->docs[k].name);
        return jsparse_fail(p, SLUICE_EINVAL,
                            "cannot resolve '%s': no reference is named '%s'%s%s%s", r->ref, text,
                            p->n_docs > 1 ? " (references: " : "", names, p->n_docs > 1 ? ")" : ""),
               false;
    }
    if (!percent_decode(frag))
        return jsparse_fail(p, SLUICE_EINVAL, "cannot resolve '%s': bad percent-encoding", r->ref),
               false;
    json_schema_node *target = NULL;
    if (frag[0] == '\0' || frag[0] == '/') {
        char pointer[2048];
        snprintf(pointer, sizeof pointer, "%s", frag);
        json_t *j = frag[0] ? follow_pointer(p->docs[d].json, frag) : p->docs[d].json;
        if (!j)
            return jsparse_fail(p, SLUICE_EINVAL, "cannot resolve '%s': nothing at #%s", r->ref,
                                pointer),
                   false;
        target = jsparse_seen(p, j);
        if (!target) {
            /* a schema under a keyword nobody walked: build it now */
            p->doc = (size_t)d;
            p->path[0] = '#';
            size_t plen = strlen(pointer);
            if (plen > JSPARSE_PATH_CAP - 2) plen = JSPARSE_PATH_CAP - 2;
            memcpy(p->path + 1, pointer, plen);
            p->path[plen + 1] = '\0';
            p->path_len = plen + 1;
            p->depth = 0;
            target = jsparse_build(p, j);
            if (!target) return false;
        }
    } else {
        for (size_t k = 0; k < p->n_anchors && !target; k++)
            if (p->anchors[k].doc == (size_t)d && p->anchors[k].id[0] == '#' &&
                strcmp(p->anchors[k].id + 1, frag) == 0)
                target = p->anchors[k].node;
        if (!target)
            return jsparse_fail(p, SLUICE_EINVAL,
                                "cannot resolve '%s': no schema has \"$id\": \"#%s\"", r->ref,
                                frag),
                   false;
    }
    r->node->ref = target;
    return true;
}

static bool check_ref_loops(parser *p)
{
    for (size_t i = 0; i < p->n_refs; i++) {
        const json_schema_node *n = p->refs[i].node;
        size_t steps = 0;
        while (n->ref && steps <= p->n_refs) {
            n = n->ref;
            steps++;
        }
        if (n->ref) {
            p->doc = p->refs[i].doc;
            snprintf(p->path, JSPARSE_PATH_CAP, "%s/$ref", p->refs[i].node->path);
            p->path_len = strlen(p->path);
            return jsparse_fail(p, SLUICE_EINVAL, "'$ref' loops without reaching a schema ('%s')",
                                p->refs[i].ref),
                   false;
        }
    }
    return true;
}

bool jsparse_resolve_refs(parser *p)
{
    for (size_t i = 0; i < p->n_refs; i++) /* may grow while resolving */
        if (!resolve_one(p, &p->refs[i])) return false;
    return check_ref_loops(p);
}
