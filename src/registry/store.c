/*
 * store.c — the registry's SQLite storage (contract, invariants and file
 * format in store.h). Statements are prepared per call: the registry answers
 * a handful of requests per distinct schema (clients cache), so clarity wins
 * over a statement cache here.
 *
 * Opening a file: a new file gets the current tables; a file of format 1 is
 * migrated (migrate_v1 below) inside one BEGIN IMMEDIATE transaction, so a
 * second process opening it at the same moment waits and then finds it
 * migrated; any other file is refused.
 */
#include "registry/store.h"

#include <sluice/log.h>

#include <pthread.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_FORMAT "sluice-registry-2"
#define STORE_FORMAT_V1 "sluice-registry-1"

struct reg_conn {
    sqlite3 *db;
    int busy;
};

struct reg_store {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    reg_conn *conns;
    unsigned n;
    char *path;
};

/* What format 2 adds besides the schemas table's new shape. */
#define SCHEMA_V2_ADDITIONS                                                                        \
    "CREATE TABLE IF NOT EXISTS schema_refs(schema_id INTEGER NOT NULL REFERENCES schemas(id),"    \
    "  ord INTEGER NOT NULL, name TEXT NOT NULL, subject TEXT NOT NULL, version INTEGER NOT NULL," \
    "  PRIMARY KEY(schema_id, ord));"                                                              \
    "CREATE INDEX IF NOT EXISTS schema_refs_by_target ON schema_refs(subject, version);"           \
    "CREATE TABLE IF NOT EXISTS modes(subject TEXT PRIMARY KEY, mode TEXT NOT NULL);"

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS schemas(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  type TEXT NOT NULL, normalized TEXT NOT NULL, refs TEXT NOT NULL DEFAULT '[]',"
    "  text TEXT NOT NULL, UNIQUE(type, normalized, refs));"
    "CREATE TABLE IF NOT EXISTS subjects(subject TEXT PRIMARY KEY,"
    "  next_version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS versions(subject TEXT NOT NULL, version INTEGER NOT NULL,"
    "  schema_id INTEGER NOT NULL REFERENCES schemas(id), deleted INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(subject, version));"
    "CREATE INDEX IF NOT EXISTS versions_by_schema ON versions(schema_id);"
    "CREATE TABLE IF NOT EXISTS config(subject TEXT PRIMARY KEY, level TEXT NOT "
    "NULL);" SCHEMA_V2_ADDITIONS;

/* Format 1 → 2: the schemas table gets (type, normalized, refs) as its
 * identity instead of normalized alone. SQLite cannot change a UNIQUE
 * constraint in place, so the table is rebuilt (its ids copied, its
 * AUTOINCREMENT counter carried over) and renamed; versions keep pointing
 * at the same ids. Foreign keys are off on this connection meanwhile (the
 * caller turns them off outside the transaction, as SQLite requires). */
static const char *const migrate_v1_sql =
    "CREATE TABLE schemas_v2(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  type TEXT NOT NULL, normalized TEXT NOT NULL, refs TEXT NOT NULL DEFAULT '[]',"
    "  text TEXT NOT NULL, UNIQUE(type, normalized, refs));"
    "INSERT INTO schemas_v2(id, type, normalized, refs, text)"
    "  SELECT id, type, normalized, '[]', text FROM schemas ORDER BY id;"
    "CREATE TEMP TABLE old_seq AS SELECT coalesce(max(seq), 0) AS seq FROM sqlite_sequence"
    "  WHERE name = 'schemas';"
    "DROP TABLE schemas;"
    "ALTER TABLE schemas_v2 RENAME TO schemas;"
    "UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM old_seq)) WHERE name = 'schemas';"
    "DROP TABLE old_seq;" SCHEMA_V2_ADDITIONS "UPDATE meta SET value = '" STORE_FORMAT
    "' WHERE key = 'format';";

static int db_error(sqlite3 *db, sluice_error *err, const char *what)
{
    return sluice_error_set(err, SLUICE_EIO, "registry database: %s: %s", what, sqlite3_errmsg(db));
}

static int open_conn(const char *path, reg_conn *c, sluice_error *err)
{
    int rc = sqlite3_open_v2(
        path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        sluice_error_set(err, SLUICE_EIO, "registry database %s: %s", path,
                         c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        sqlite3_close(c->db);
        c->db = NULL;
        return SLUICE_EIO;
    }
    sqlite3_busy_timeout(c->db, 10000);
    sqlite3_extended_result_codes(c->db, 1);
    char *msg = NULL;
    if (sqlite3_exec(c->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "PRAGMA foreign_keys=ON;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        sluice_error_set(err, SLUICE_EIO, "registry database %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(c->db);
        c->db = NULL;
        return SLUICE_EIO;
    }
    return 0;
}

/* The file's meta.format, or "" when it has no tables, or NULL when it has
 * tables but is not ours. */
static char *read_format(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int has_tables = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type='table'", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        has_tables = sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    if (!has_tables) return strdup("");
    char *format = NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='format'", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        format = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return format;
}

static int exec_all(sqlite3 *db, const char *sql, const char *path, sluice_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    int rc = sluice_error_set(err, SLUICE_EIO, "registry database %s: %s", path, msg ? msg : "?");
    sqlite3_free(msg);
    return rc;
}

/* Create the tables of a new file, migrate a format-1 file, or check that
 * an existing one is ours. */
static int init_schema(sqlite3 *db, const char *path, sluice_error *err)
{
    /* Foreign keys must be off for the rebuild of a migration, and the
     * pragma is a no-op inside a transaction. */
    if (exec_all(db, "PRAGMA foreign_keys=OFF", path, err) != 0) return SLUICE_EIO;
    int rc = exec_all(db, "BEGIN IMMEDIATE", path, err);
    if (rc) return rc;
    char *format = read_format(db);
    if (format && format[0] == '\0') {
        rc = exec_all(db, schema_sql, path, err);
        if (!rc)
            rc = exec_all(db, "INSERT INTO meta VALUES('format','" STORE_FORMAT "')", path, err);
    } else if (format && strcmp(format, STORE_FORMAT_V1) == 0) {
        rc = exec_all(db, migrate_v1_sql, path, err);
        sqlite3_stmt *st = NULL;
        if (!rc && sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            rc = sluice_error_set(err, SLUICE_EIO,
                                  "registry database %s: migration to %s broke a foreign key", path,
                                  STORE_FORMAT);
        sqlite3_finalize(st);
        if (!rc)
            sluice_log(SLUICE_LOG_INFO, "registry", "database migrated", "path", path, "from",
                       STORE_FORMAT_V1, "to", STORE_FORMAT, (char *)0);
    } else if (!format || strcmp(format, STORE_FORMAT) != 0) {
        rc = sluice_error_set(err, SLUICE_EINVAL,
                              "registry database %s: not a sluice registry database "
                              "(it has tables but meta.format is '%s', not '%s')",
                              path, format ? format : "(none)", STORE_FORMAT);
    }
    free(format);
    sqlite3_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    if (exec_all(db, "PRAGMA foreign_keys=ON", path, rc ? NULL : err) != 0 && !rc) rc = SLUICE_EIO;
    return rc;
}

int store_open(const char *path, unsigned connections, reg_store **out, sluice_error *err)
{
    reg_store *st = calloc(1, sizeof *st);
    if (!st) return sluice_error_set(err, SLUICE_ENOMEM, "registry: out of memory");
    st->n = connections ? connections : 1;
    st->conns = calloc(st->n, sizeof *st->conns);
    st->path = strdup(path);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    if (!st->conns || !st->path) {
        store_close(st);
        return sluice_error_set(err, SLUICE_ENOMEM, "registry: out of memory");
    }
    for (unsigned i = 0; i < st->n; i++) {
        int rc = open_conn(path, &st->conns[i], err);
        if (rc == 0 && i == 0) rc = init_schema(st->conns[0].db, path, err);
        if (rc) {
            store_close(st);
            return rc;
        }
    }
    *out = st;
    return 0;
}

void store_close(reg_store *st)
{
    if (!st) return;
    for (unsigned i = 0; st->conns && i < st->n; i++)
        sqlite3_close(st->conns[i].db);
    free(st->conns);
    free(st->path);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    free(st);
}

reg_conn *store_acquire(reg_store *st)
{
    pthread_mutex_lock(&st->mu);
    for (;;) {
        for (unsigned i = 0; i < st->n; i++)
            if (!st->conns[i].busy) {
                st->conns[i].busy = 1;
                pthread_mutex_unlock(&st->mu);
                return &st->conns[i];
            }
        pthread_cond_wait(&st->cv, &st->mu);
    }
}

void store_release(reg_store *st, reg_conn *c)
{
    pthread_mutex_lock(&st->mu);
    c->busy = 0;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

int store_begin_write(reg_conn *c, sluice_error *err)
{
    if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_error(c->db, err, "begin");
    return 0;
}

int store_commit(reg_conn *c, sluice_error *err)
{
    if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        int rc = db_error(c->db, err, "commit");
        store_rollback(c);
        return rc;
    }
    return 0;
}

void store_rollback(reg_conn *c)
{
    if (!sqlite3_get_autocommit(c->db)) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

void reg_version_free(reg_version *v)
{
    free(v->text);
    free(v->type);
    free(v->refs);
    v->text = v->type = v->refs = NULL;
}

void reg_str_list_free(reg_str_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

/* Prepare sql and bind arguments described by `types`: 's' text, 'i' int64. */
static sqlite3_stmt *prepare(reg_conn *c, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) return NULL;
    va_list ap;
    va_start(ap, types);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 's')
            sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
    }
    va_end(ap);
    return st;
}

static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return strdup(t ? (const char *)t : "");
}

int store_schema_by_id(reg_conn *c, int64_t id, reg_version *out, sluice_error *err)
{
    sqlite3_stmt *st = prepare(c, "SELECT text, type, refs FROM schemas WHERE id=?", "i", id);
    if (!st) return db_error(c->db, err, "schema by id");
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        out->id = id;
        out->version = 0;
        out->deleted = 0;
        out->text = column_dup(st, 0);
        out->type = column_dup(st, 1);
        out->refs = column_dup(st, 2);
    } else if (rc == SQLITE_DONE) {
        ret = SLUICE_ENOTFOUND;
    } else {
        ret = db_error(c->db, err, "schema by id");
    }
    sqlite3_finalize(st);
    return ret;
}

/* Append rows of (int) or (text, int) from st to the lists. */
static int collect_rows(reg_conn *c, sqlite3_stmt *st, reg_str_list *strs, reg_int_list *ints,
                        sluice_error *err)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (strs) {
            char **p = realloc(strs->items, (strs->n + 1) * sizeof *p);
            if (!p) return sluice_error_set(err, SLUICE_ENOMEM, "registry: out of memory");
            strs->items = p;
            strs->items[strs->n++] = column_dup(st, 0);
        }
        if (ints) {
            int64_t *q = realloc(ints->items, (ints->n + 1) * sizeof *q);
            if (!q) return sluice_error_set(err, SLUICE_ENOMEM, "registry: out of memory");
            ints->items = q;
            ints->items[ints->n++] = sqlite3_column_int64(st, strs ? 1 : 0);
        }
    }
    return rc == SQLITE_DONE ? 0 : db_error(c->db, err, "query");
}

int store_subjects_of_id(reg_conn *c, int64_t id, reg_str_list *subjects, reg_int_list *versions,
                         sluice_error *err)
{
    sqlite3_stmt *st = prepare(c,
                               "SELECT subject, version FROM versions WHERE schema_id=? AND "
                               "deleted=0 ORDER BY subject, version",
                               "i", id);
    if (!st) return db_error(c->db, err, "subjects of id");
    int rc = collect_rows(c, st, subjects, versions, err);
    sqlite3_finalize(st);
    return rc;
}

int store_list_subjects(reg_conn *c, int include_deleted, reg_str_list *out, sluice_error *err)
{
    sqlite3_stmt *st =
        prepare(c,
                include_deleted ? "SELECT DISTINCT subject FROM versions ORDER BY subject"
                                : "SELECT DISTINCT subject FROM versions WHERE deleted=0 "
                                  "ORDER BY subject",
                "");
    if (!st) return db_error(c->db, err, "list subjects");
    int rc = collect_rows(c, st, out, NULL, err);
    sqlite3_finalize(st);
    return rc;
}

int store_list_versions(reg_conn *c, const char *subject, int include_deleted, reg_int_list *out,
                        sluice_error *err)
{
    sqlite3_stmt *st =
        prepare(c,
                include_deleted ? "SELECT version FROM versions WHERE subject=? ORDER BY version"
                                : "SELECT version FROM versions WHERE subject=? AND deleted=0 "
                                  "ORDER BY version",
                "s", subject);
    if (!st) return db_error(c->db, err, "list versions");
    int rc = collect_rows(c, st, NULL, out, err);
    sqlite3_finalize(st);
    if (rc == 0 && out->n == 0) rc = SLUICE_ENOTFOUND;
    return rc;
}

static int read_version(reg_conn *c, sqlite3_stmt *st, reg_version *out, sluice_error *err)
{
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        out->version = sqlite3_column_int64(st, 0);
        out->id = sqlite3_column_int64(st, 1);
        out->deleted = sqlite3_column_int(st, 2);
        out->text = column_dup(st, 3);
        out->type = column_dup(st, 4);
        out->refs = column_dup(st, 5);
    } else if (rc == SQLITE_DONE) {
        ret = SLUICE_ENOTFOUND;
    } else {
        ret = db_error(c->db, err, "read version");
    }
    sqlite3_finalize(st);
    return ret;
}

#define VERSION_COLUMNS "v.version, v.schema_id, v.deleted, s.text, s.type, s.refs "

int store_get_version(reg_conn *c, const char *subject, int64_t version, int include_deleted,
                      reg_version *out, sluice_error *err)
{
    sqlite3_stmt *st;
    if (version < 0)
        st = prepare(c,
                     "SELECT " VERSION_COLUMNS "FROM versions v JOIN schemas s ON s.id=v.schema_id "
                     "WHERE v.subject=? AND (v.deleted=0 OR ?) ORDER BY v.version DESC LIMIT 1",
                     "si", subject, (int64_t)include_deleted);
    else
        st = prepare(c,
                     "SELECT " VERSION_COLUMNS "FROM versions v JOIN schemas s ON s.id=v.schema_id "
                     "WHERE v.subject=? AND v.version=? AND (v.deleted=0 OR ?)",
                     "sii", subject, version, (int64_t)include_deleted);
    if (!st) return db_error(c->db, err, "get version");
    return read_version(c, st, out, err);
}

int store_find_in_subject(reg_conn *c, const char *subject, const char *type,
                          const char *normalized, const char *refs_json, int include_deleted,
                          reg_version *out, sluice_error *err)
{
    sqlite3_stmt *st =
        prepare(c,
                "SELECT " VERSION_COLUMNS "FROM versions v JOIN schemas s ON s.id=v.schema_id "
                "WHERE v.subject=? AND s.type=? AND s.normalized=? AND s.refs=? "
                "AND (v.deleted=0 OR ?) ORDER BY v.deleted, v.version DESC LIMIT 1",
                "ssssi", subject, type, normalized, refs_json, (int64_t)include_deleted);
    if (!st) return db_error(c->db, err, "find schema in subject");
    return read_version(c, st, out, err);
}

int store_referenced_by(reg_conn *c, const char *subject, int64_t version, reg_int_list *ids,
                        sluice_error *err)
{
    sqlite3_stmt *st = prepare(c,
                               "SELECT DISTINCT r.schema_id FROM schema_refs r "
                               "WHERE r.subject=? AND r.version=? AND EXISTS (SELECT 1 FROM "
                               "versions v WHERE v.schema_id=r.schema_id AND v.deleted=0) "
                               "ORDER BY r.schema_id",
                               "si", subject, version);
    if (!st) return db_error(c->db, err, "referenced by");
    int rc = collect_rows(c, st, NULL, ids, err);
    sqlite3_finalize(st);
    return rc;
}

int store_subject_exists(reg_conn *c, const char *subject, int *exists, int *all_deleted,
                         sluice_error *err)
{
    sqlite3_stmt *st = prepare(c,
                               "SELECT count(*), coalesce(min(deleted),1) FROM versions "
                               "WHERE subject=?",
                               "s", subject);
    if (!st) return db_error(c->db, err, "subject exists");
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *exists = sqlite3_column_int64(st, 0) > 0;
        *all_deleted = sqlite3_column_int(st, 1) == 1;
    } else {
        rc = db_error(c->db, err, "subject exists");
    }
    sqlite3_finalize(st);
    return rc;
}

static int exec_step(reg_conn *c, sqlite3_stmt *st, const char *what, sluice_error *err)
{
    if (!st) return db_error(c->db, err, what);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_error(c->db, err, what);
}

static int select_int(reg_conn *c, sqlite3_stmt *st, int64_t *out)
{
    if (!st) return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    (void)c;
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* The id of an identity, or 0 when none. < 0 on a database error. */
static int find_identity(reg_conn *c, const reg_new_schema *s, int64_t *id)
{
    *id = 0;
    return select_int(c,
                      prepare(c, "SELECT id FROM schemas WHERE type=? AND normalized=? AND refs=?",
                              "sss", s->type, s->normalized, s->refs_json),
                      id);
}

static int insert_schema(reg_conn *c, const reg_new_schema *s, int64_t *id, sluice_error *err)
{
    int rc = s->forced_id > 0
                 ? exec_step(c,
                             prepare(c,
                                     "INSERT INTO schemas(id, type, normalized, refs, text) "
                                     "VALUES(?,?,?,?,?)",
                                     "issss", s->forced_id, s->type, s->normalized, s->refs_json,
                                     s->text),
                             "insert schema", err)
                 : exec_step(c,
                             prepare(c,
                                     "INSERT INTO schemas(type, normalized, refs, text) "
                                     "VALUES(?,?,?,?)",
                                     "ssss", s->type, s->normalized, s->refs_json, s->text),
                             "insert schema", err);
    if (rc) return rc;
    *id = sqlite3_last_insert_rowid(c->db);
    for (size_t i = 0; i < s->n_refs; i++) {
        rc = exec_step(c,
                       prepare(c,
                               "INSERT INTO schema_refs(schema_id, ord, name, subject, version) "
                               "VALUES(?,?,?,?,?)",
                               "iissi", *id, (int64_t)i, s->refs[i].name, s->refs[i].subject,
                               s->refs[i].version),
                       "insert reference", err);
        if (rc) return rc;
    }
    return 0;
}

int store_insert_version(reg_conn *c, const char *subject, const reg_new_schema *s, int64_t *id,
                         int64_t *version, sluice_error *err)
{
    int found = find_identity(c, s, id);
    if (found < 0) return db_error(c->db, err, "find schema");
    if (found && s->forced_id > 0 && *id != s->forced_id)
        return sluice_error_set(err, SLUICE_ECONFLICT,
                                "the schema is already registered with id %lld, not %lld",
                                (long long)*id, (long long)s->forced_id);
    if (!found && s->forced_id > 0) {
        reg_version other = {0};
        int rc = store_schema_by_id(c, s->forced_id, &other, err);
        reg_version_free(&other);
        if (rc == 0)
            return sluice_error_set(err, SLUICE_ECONFLICT, "id %lld already holds another schema",
                                    (long long)s->forced_id);
        if (rc != SLUICE_ENOTFOUND) return rc;
    }
    if (!found) {
        int rc = insert_schema(c, s, id, err);
        if (rc) return rc;
    }
    int64_t next = 1;
    if (select_int(c, prepare(c, "SELECT next_version FROM subjects WHERE subject=?", "s", subject),
                   &next) < 0)
        return db_error(c->db, err, "next version");
    int64_t new_next = next + 1;
    if (s->forced_version > 0) {
        int64_t taken = 0;
        if (select_int(c,
                       prepare(c, "SELECT count(*) FROM versions WHERE subject=? AND version=?",
                               "si", subject, s->forced_version),
                       &taken) < 0)
            return db_error(c->db, err, "version exists");
        if (taken)
            return sluice_error_set(err, SLUICE_ECONFLICT, "version %lld of '%s' already exists",
                                    (long long)s->forced_version, subject);
        *version = s->forced_version;
        new_next = s->forced_version >= next ? s->forced_version + 1 : next;
    } else {
        *version = next;
    }
    int rc = exec_step(c,
                       prepare(c, "INSERT INTO versions(subject, version, schema_id) VALUES(?,?,?)",
                               "sii", subject, *version, *id),
                       "insert version", err);
    if (rc) return rc;
    return exec_step(c,
                     prepare(c,
                             "INSERT INTO subjects VALUES(?,?) ON CONFLICT(subject) DO UPDATE "
                             "SET next_version=excluded.next_version",
                             "si", subject, new_next),
                     "bump version", err);
}

static int delete_versions(reg_conn *c, const char *subject, int64_t only_version,
                           reg_int_list *affected, int permanent, sluice_error *err)
{
    /* Soft: visible rows become deleted. Hard: deleted rows are removed. */
    const char *select_sql = permanent
                                 ? "SELECT version FROM versions WHERE subject=? AND deleted=1 "
                                   "AND (?<0 OR version=?) ORDER BY version"
                                 : "SELECT version FROM versions WHERE subject=? AND deleted=0 "
                                   "AND (?<0 OR version=?) ORDER BY version";
    sqlite3_stmt *st = prepare(c, select_sql, "sii", subject, only_version, only_version);
    if (!st) return db_error(c->db, err, "delete");
    int rc = collect_rows(c, st, NULL, affected, err);
    sqlite3_finalize(st);
    if (rc) return rc;
    const char *change_sql = permanent ? "DELETE FROM versions WHERE subject=? AND deleted=1 "
                                         "AND (?<0 OR version=?)"
                                       : "UPDATE versions SET deleted=1 WHERE subject=? AND "
                                         "deleted=0 AND (?<0 OR version=?)";
    return exec_step(c, prepare(c, change_sql, "sii", subject, only_version, only_version),
                     "delete", err);
}

int store_soft_delete_versions(reg_conn *c, const char *subject, int64_t only_version,
                               reg_int_list *affected, sluice_error *err)
{
    return delete_versions(c, subject, only_version, affected, 0, err);
}

int store_hard_delete_versions(reg_conn *c, const char *subject, int64_t only_version,
                               reg_int_list *affected, sluice_error *err)
{
    return delete_versions(c, subject, only_version, affected, 1, err);
}

int store_get_config(reg_conn *c, const char *subject, char level[32], sluice_error *err)
{
    sqlite3_stmt *st = prepare(c, "SELECT level FROM config WHERE subject=?", "s", subject);
    if (!st) return db_error(c->db, err, "get config");
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW)
        snprintf(level, 32, "%s", (const char *)sqlite3_column_text(st, 0));
    else
        ret = rc == SQLITE_DONE ? SLUICE_ENOTFOUND : db_error(c->db, err, "get config");
    sqlite3_finalize(st);
    return ret;
}

int store_set_config(reg_conn *c, const char *subject, const char *level, sluice_error *err)
{
    return exec_step(c,
                     prepare(c,
                             "INSERT INTO config VALUES(?,?) ON CONFLICT(subject) DO UPDATE SET "
                             "level=excluded.level",
                             "ss", subject, level),
                     "set config", err);
}

int store_delete_config(reg_conn *c, const char *subject, sluice_error *err)
{
    return exec_step(c, prepare(c, "DELETE FROM config WHERE subject=?", "s", subject),
                     "delete config", err);
}

int store_get_mode(reg_conn *c, const char *subject, char mode[32], sluice_error *err)
{
    sqlite3_stmt *st = prepare(c, "SELECT mode FROM modes WHERE subject=?", "s", subject);
    if (!st) return db_error(c->db, err, "get mode");
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW)
        snprintf(mode, 32, "%s", (const char *)sqlite3_column_text(st, 0));
    else
        ret = rc == SQLITE_DONE ? SLUICE_ENOTFOUND : db_error(c->db, err, "get mode");
    sqlite3_finalize(st);
    return ret;
}

int store_set_mode(reg_conn *c, const char *subject, const char *mode, sluice_error *err)
{
    return exec_step(c,
                     prepare(c,
                             "INSERT INTO modes VALUES(?,?) ON CONFLICT(subject) DO UPDATE SET "
                             "mode=excluded.mode",
                             "ss", subject, mode),
                     "set mode", err);
}

int store_delete_mode(reg_conn *c, const char *subject, sluice_error *err)
{
    return exec_step(c, prepare(c, "DELETE FROM modes WHERE subject=?", "s", subject),
                     "delete mode", err);
}

int64_t store_count_schemas(reg_conn *c)
{
    int64_t n = 0;
    select_int(c, prepare(c, "SELECT count(*) FROM schemas", ""), &n);
    return n;
}
