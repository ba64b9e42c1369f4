/*
 * config.h — the one configuration loader: YAML (libyaml) into C structs,
 * driven by declarative key tables.
 *
 * Each part of sluice describes its section of sluice.yaml as a table of
 * cfg_key (name, kind, offset into its struct, default, bounds, doc). The
 * loader walks libyaml's node tree against the table and
 *   - fills defaults for absent keys,
 *   - substitutes ${VAR} / ${VAR:-fallback} from the environment in scalar
 *     values (after parsing, so line numbers stay those of the file; `$$` is a
 *     literal `$`); an unset variable without fallback is an error,
 *   - rejects an unknown key, a wrong type, an out-of-range value or a missing
 *     required key with a message naming file, line, column and key path:
 *       sluice.yaml:12:16: registry.cache.max_bytes: expected a size such as 64MiB, got 'lots'
 *       sluice.yaml:7:3: registyr: unknown key (known here: kafka, registry, clickhouse, ...)
 *       sluice.yaml:20:7: sink.routes[1]: missing required key 'table'
 * It collects every error (up to CFG_MAX_ERRORS), not just the first, so
 * `sluice check-config` can show them all at once.
 *
 * The same tables generate the key reference (cfg_describe), so docs and
 * behaviour cannot drift. Loading happens once at start-up on the main
 * thread; the filled struct is read-only afterwards.
 */
#ifndef SLUICE_COMMON_CONFIG_H
#define SLUICE_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sluice/error.h>

#define CFG_MAX_ERRORS 32

typedef enum cfg_kind {
    CFG_STRING,       /* char * (malloc'd; NULL when absent with no default) */
    CFG_BOOL,         /* int: true/false/yes/no/on/off */
    CFG_INT,          /* int64_t, within [min, max] */
    CFG_SIZE,         /* uint64_t bytes: 512, 64KiB, 10MiB, 1GiB, 1.5MB (k/M/G = 1000^n) */
    CFG_DURATION,     /* int64_t milliseconds: 250ms, 1s, 1.5s, 2m, 1h; bare numbers are ms */
    CFG_ENUM,         /* int: index into enum_values */
    CFG_STRING_LIST,  /* cfg_strings at offset: YAML sequence of scalars (a lone scalar is a list of
                         one) */
    CFG_STRING_MAP,   /* cfg_map at offset: mapping of scalar -> scalar (values kept as text) */
    CFG_SECTION,      /* nested struct at offset, keys in `children` */
    CFG_SECTION_LIST, /* cfg_list at offset: sequence of mappings, each a struct of elem_size */
} cfg_kind;

typedef struct cfg_strings {
    char **items;
    size_t n;
} cfg_strings;

typedef struct cfg_map {
    char **keys;
    char **values;
    size_t n;
} cfg_map;

typedef struct cfg_list {
    void *items; /* n elements of elem_size bytes */
    size_t n;
} cfg_list;

typedef struct cfg_key {
    const char *name; /* NULL terminates a table */
    cfg_kind kind;
    size_t offset; /* offsetof(struct, member) */
    int required;
    const char *default_value;      /* as it would be written in YAML; NULL = zero/empty */
    const struct cfg_key *children; /* SECTION, SECTION_LIST */
    size_t elem_size;               /* SECTION_LIST */
    int64_t min, max;               /* INT, SIZE, DURATION when min < max */
    const char *const *enum_values; /* ENUM: NULL-terminated */
    const char *doc;                /* one sentence for the key reference */
} cfg_key;

/* Called once per error with the full message (file:line:col: path: what). */
typedef void (*cfg_error_fn)(void *opaque, const char *message);

/* Load `path` into `out` (a zeroed struct described by `root`). Returns 0 or
 * SLUICE_ECONFIG; err holds the first error, on_error (may be NULL) sees all. */
int cfg_load_file(const char *path, const cfg_key *root, void *out, sluice_error *err,
                  cfg_error_fn on_error, void *opaque);
/* Read a configuration file whole (at most 16 MiB), as cfg_load_file does:
 * *text is malloc'd (free it). 0, or SLUICE_ECONFIG / SLUICE_ENOMEM with
 * the reason reported as a load error would be. */
int cfg_read_file(const char *path, char **text, size_t *len, sluice_error *err,
                  cfg_error_fn on_error, void *opaque);
/* Same from memory; `name` stands in for the file name in messages. */
int cfg_load_string(const char *text, size_t len, const char *name, const cfg_key *root, void *out,
                    sluice_error *err, cfg_error_fn on_error, void *opaque);
/* Fill `out` with every default, as if loading an empty document. */
int cfg_load_defaults(const cfg_key *root, void *out, sluice_error *err);

/* Free everything the loader allocated inside `out` (strings, lists, maps). */
void cfg_free(const cfg_key *root, void *out);

/* Do two structs filled from `table` hold the same values? Strings by
 * content, lists and maps in order. For reloads: what changed decides
 * which parts restart. */
bool cfg_equal(const cfg_key *table, const void *a, const void *b);
/* The same for one key or section, named by its dotted path under root
 * ("sink", "metrics.listen"); an unknown path is never equal. */
bool cfg_equal_at(const cfg_key *root, const void *a, const void *b, const char *path);

/* Write a Markdown table of every key: path, type, default, doc. */
void cfg_describe(FILE *f, const cfg_key *root);

/* Parse one size / duration value as the loader does (for CLI flags too). */
int cfg_parse_size(const char *s, uint64_t *bytes);
int cfg_parse_duration_ms(const char *s, int64_t *ms);

#endif
