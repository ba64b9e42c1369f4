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
 *     reused, even after a permanent delete;
 *   - a subject's versions come from subjects.next_version: they increase
 *     from 1 and are never reused, even after deletes (as Confluent does);
 *   - the same normalised schema text has one id across all subjects.
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
    int64_t version;
    int64_t id;
    int deleted;
    char *text; /* malloc'd */
    char *type; /* malloc'd */
} reg_version;
void reg_version_free(reg_version *v);

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
int store_schema_by_id(reg_conn *c, int64_t id, char **text, char **type, sluice_error *err);
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
/* The (visible) version of subject whose schema normalises to `normalized`. */
int store_find_in_subject(reg_conn *c, const char *subject, const char *normalized,
                          int include_deleted, reg_version *out, sluice_error *err);
/* Does the subject exist at all (any version, deleted or not)? */
int store_subject_exists(reg_conn *c, const char *subject, int *exists, int *all_deleted,
                         sluice_error *err);

/* Inside a write transaction: the id of `normalized` (inserting it if new)
 * and a new version for it under subject. */
int store_insert_version(reg_conn *c, const char *subject, const char *normalized, const char *text,
                         const char *type, int64_t *id, int64_t *version, sluice_error *err);

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

int64_t store_count_schemas(reg_conn *c);

#endif
