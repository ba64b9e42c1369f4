/*
 * json_schema_int.h — the JSON Schema parser's state, shared by its two
 * files: json_schema.c (loading documents and walking them into nodes) and
 * json_schema_refs.c (resolving the `$ref`s the walk queued). Internal to
 * those two; everything else uses json_schema.h.
 */
#ifndef SLUICE_CODEC_JSON_SCHEMA_INT_H
#define SLUICE_CODEC_JSON_SCHEMA_INT_H

#include "codec/json_schema.h"
#include "common/arena.h"

#include <jansson.h>
#include <stdbool.h>

#define JSPARSE_ARENA_CAP (256u << 20)
#define JSPARSE_PATH_CAP 1024

struct json_schema {
    arena mem;
    const json_schema_node *root;
    const char *normalized;
};

struct doc {
    const char *name; /* "" for the root */
    json_t *json;
    const char *id; /* the root's "$id", or NULL */
};

struct seen {
    const json_t *json;
    json_schema_node *node;
};

struct pending_ref {
    json_schema_node *node;
    const char *ref;
    size_t doc;
};

struct anchor {
    const char *id; /* "$id" as written: "#foo", "item.json", "http://…" */
    json_schema_node *node;
    size_t doc;
};

typedef struct parser {
    json_schema *s;
    sluice_error *err;
    struct doc docs[JSON_SCHEMA_MAX_DOCUMENTS];
    size_t n_docs;
    struct seen *seen; /* open addressing by json_t address */
    size_t seen_cap, n_nodes;
    struct pending_ref *refs;
    size_t n_refs, refs_cap;
    struct anchor *anchors;
    size_t n_anchors, anchors_cap;
    size_t doc;                  /* the document being walked */
    char path[JSPARSE_PATH_CAP]; /* JSON pointer of the node being built */
    size_t path_len;
    int depth;
    bool failed;
    int code; /* the error's code once failed */
} parser;

/* Record the first error (later ones are dropped) naming the document and
 * the current path; returns NULL so callers can `return jsparse_fail(...)`. */
void *jsparse_fail(parser *p, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The node already built for a jansson value, or NULL. */
json_schema_node *jsparse_seen(parser *p, const json_t *j);
/* Build the node of one schema value at p->path (once per value). */
json_schema_node *jsparse_build(parser *p, json_t *j);
/* Resolve every queued `$ref` and refuse loops (json_schema_refs.c). */
bool jsparse_resolve_refs(parser *p);

#endif
