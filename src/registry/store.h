/*
 * store.h — the registry's SQLite storage.
 *
 * One file, WAL mode, so readers never block the writer and several
 * `sluice registry` processes may share a file (a writer takes SQLite's
 * write lock with BEGIN IMMEDIATE; others wait up to busy_timeout).
 *
 * Threads: a pool of connections, one per concurrent request; a request
 * borrows one with store_acquire() and returns it with store_release(). A
 * connection is used by one thread at a time. Nothing is cached in memory:
 * every answer is read from the file, so processes sharing it agree.
 *
 * Invariants (kept by store.c and relied on by api.c):
 *   - schema ids come from AUTOINCREMENT: they increase and are never
 *     reused, even after a permanent delete (IMPORT mode may place an id
 *     explicitly; AUTOINCREMENT then continues above it);
 *   - a subject's versions come from subjects.next_version: they increase
 *     from 1 and are never reused, even after deletes (as Confluent does);
 *   - a schema's identity is (type, normalised text, references): the same
 *     identity has one id across all subjects;
 *   - a schema's references (name, subject, version) are stored twice: as
 *     canonical JSON in schemas.refs (part of the identity, returned as is)
 *     and as rows of schema_refs (so "who references subject s version v"
 *     is an index lookup).
 *
 * File format: meta.format names it. "sluice-registry-1" (Avro only, no
 * references, no modes) is migrated in place to "sluice-registry-2" when a
 * newer sluice opens it: one transaction rebuilds the schemas table with its
 * new identity and adds schema_refs and modes; ids, versions, deletes and
 * levels are kept.
 */
#ifndef SLUICE_REGISTRY_STORE_H
#define SLUICE_REGISTRY_STORE_H

#include <stdint.h>

#include <sluice/error.h>

typedef struct reg_store reg_store;
typedef struct reg_conn reg_conn;

int store_open(const char *path, unsigned connections, reg_store **out, sluice_error *err);
void store_close(reg_store *st);

reg_conn *store_acquire(reg_store *st);
void store_release(reg_store *st, reg_conn *c);

/* Transactions: register and delete run inside BEGIN IMMEDIATE .. COMMIT. */
int store_begin_write(reg_conn *c, sluice_error *err);
int store_commit(reg_conn *c, sluice_error *err);
void store_rollback(reg_conn *c);

typedef struct reg_version {
    int64_t version; /* 0 when read by id */
    int64_t id;
    int deleted;
    char *text; /* malloc'd */
    char *type; /* malloc'd: "AVRO", "PROTOBUF", "JSON" */
    char *refs; /* malloc'd: the references as a canonical JSON array, "[]" when none */
} reg_version;
void reg_version_free(reg_version *v);

/* One reference of a schema to (subject, version), imported as `name`. */
typedef struct reg_ref {
    const char *name;
    const char *subject;
    int64_t version;
} reg_ref;

/* A schema to store under a subject. */
typedef struct reg_new_schema {
    const char *type;
    const char *normalized; /* the dedupe key (schema_types.h) */
    const char *refs_json;  /* canonical JSON of refs, "[]" when none */
    const reg_ref *refs;
    size_t n_refs;
    const char *text;       /* what GET returns */
    int64_t forced_id;      /* IMPORT mode: this id (0 = allocate) */
    int64_t forced_version; /* IMPORT mode: this version (0 = next) */
} reg_new_schema;

typedef struct reg_int_list {
    int64_t *items;
    size_t n;
} reg_int_list;

typedef struct reg_str_list {
    char **items;
    size_t n;
} reg_str_list;
void reg_str_list_free(reg_str_list *l);

/* All return 0, SLUICE_ENOTFOUND, or SLUICE_EIO (with err) on a database error. */
int store_schema_by_id(reg_conn *c, int64_t id, reg_version *out, sluice_error *err);
/* (subject, version) pairs that use schema id, non-deleted, ordered. */
int store_subjects_of_id(reg_conn *c, int64_t id, reg_str_list *subjects, reg_int_list *versions,
                         sluice_error *err);
int store_list_subjects(reg_conn *c, int include_deleted, reg_str_list *out, sluice_error *err);
/* Versions of subject in order; ENOTFOUND when it has none (visible). */
int store_list_versions(reg_conn *c, const char *subject, int include_deleted, reg_int_list *out,
                        sluice_error *err);
/* version -1 = latest (visible). */
int store_get_version(reg_conn *c, const char *subject, int64_t version, int include_deleted,
                      reg_version *out, sluice_error *err);
/* The (visible) version of subject whose schema has this identity. */
int store_find_in_subject(reg_conn *c, const char *subject, const char *type,
                          const char *normalized, const char *refs_json, int include_deleted,
                          reg_version *out, sluice_error *err);
/* Ids of schemas that reference (subject, version) and are used by at least
 * one visible version, ascending. */
int store_referenced_by(reg_conn *c, const char *subject, int64_t version, reg_int_list *ids,
                        sluice_error *err);
/* Does the subject exist at all (any version, deleted or not)? */
int store_subject_exists(reg_conn *c, const char *subject, int *exists, int *all_deleted,
                         sluice_error *err);

/* Inside a write transaction: the id of the schema (inserting it if new)
 * and a new version for it under subject. With forced_id / forced_version
 * (IMPORT mode): SLUICE_ECONFLICT (err says why) when the id holds another
 * schema, the schema has another id, or the version exists. */
int store_insert_version(reg_conn *c, const char *subject, const reg_new_schema *s, int64_t *id,
                         int64_t *version, sluice_error *err);

/* Soft delete marks rows deleted; permanent delete removes rows that are
 * already soft-deleted. Return the affected versions. */
int store_soft_delete_versions(reg_conn *c, const char *subject, int64_t only_version,
                               reg_int_list *affected, sluice_error *err);
int store_hard_delete_versions(reg_conn *c, const char *subject, int64_t only_version,
                               reg_int_list *affected, sluice_error *err);

/* Compatibility level: subject "" is the global one. ENOTFOUND if unset. */
int store_get_config(reg_conn *c, const char *subject, char level[32], sluice_error *err);
int store_set_config(reg_conn *c, const char *subject, const char *level, sluice_error *err);
int store_delete_config(reg_conn *c, const char *subject, sluice_error *err);

/* Mode (READWRITE, READONLY, IMPORT): subject "" is the global one.
 * ENOTFOUND if unset. */
int store_get_mode(reg_conn *c, const char *subject, char mode[32], sluice_error *err);
int store_set_mode(reg_conn *c, const char *subject, const char *mode, sluice_error *err);
int store_delete_mode(reg_conn *c, const char *subject, sluice_error *err);

int64_t store_count_schemas(reg_conn *c);

#endif
