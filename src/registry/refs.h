/*
 * refs.h — schema references in the registry: the "references" array of a
 * request or of a stored schema, its canonical JSON (part of a schema's
 * identity), and loading everything a list of references reaches.
 *
 * Loading is depth first over (subject, version) pairs read from the store:
 * every referenced version must exist and be visible; a pair that is its
 * own ancestor is a cycle and refused, naming the chain; one name must not
 * stand for two schemas; the walk is bounded (REG_REFS_MAX_SCHEMAS,
 * REG_REFS_MAX_DEPTH). Called on an httpd worker thread with its borrowed
 * store connection; results are owned by the caller.
 */
#ifndef SLUICE_REGISTRY_REFS_H
#define SLUICE_REGISTRY_REFS_H

#include <jansson.h>

#include "registry/schema_types.h"
#include "registry/store.h"

#define REG_REFS_MAX_SCHEMAS 256
#define REG_REFS_MAX_DEPTH 32

typedef struct reg_ref_list {
    reg_ref *items; /* strings owned by the list */
    size_t n;
} reg_ref_list;

/* A "references" value (NULL, null or an array of {name, subject,
 * version}); version -1 means "latest" only with allow_latest. On a bad
 * value returns -1 with msg naming the element ("references[1].version:
 * expected an integer >= 1"). */
int reg_refs_parse(const json_t *value, int allow_latest, reg_ref_list *out, char *msg,
                   size_t msg_len);
/* Parse stored canonical JSON. */
int reg_refs_parse_text(const char *text, reg_ref_list *out, sluice_error *err);
/* [{"name":..,"subject":..,"version":..},...] in list order; "[]" for none.
 * malloc'd; NULL on out of memory. */
char *reg_refs_canonical(const reg_ref_list *l);
/* The list as a JSON array for answers (a new reference). */
json_t *reg_refs_json(const reg_ref_list *l);
void reg_ref_list_free(reg_ref_list *l);

typedef struct reg_deps {
    reg_dep *items; /* dependencies before dependents */
    size_t n;
} reg_deps;

/* Load every schema refs reaches. Errors: SLUICE_ENOTFOUND (a reference to
 * nothing), SLUICE_EINVAL (a cycle, a name bound twice, too many), SLUICE_EIO
 * (the store); err names the reference. */
int reg_deps_load(reg_conn *c, const reg_ref_list *refs, reg_deps *out, sluice_error *err);
void reg_deps_free(reg_deps *d);

#endif
