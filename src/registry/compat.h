/*
 * compat.h — the registry's compatibility levels over schemas of any type.
 *
 * A level says which existing versions a new schema is checked against
 * (the latest only, or all of them: *_TRANSITIVE) and in which direction
 * (BACKWARD: the new schema accepts what they wrote; FORWARD: they accept
 * what the new one writes; FULL: both; NONE: nothing is checked). The pair
 * check itself is reg_schema_compatible (schema_types.h), so the seven
 * levels mean the same for Avro, Protobuf and JSON Schema. Pure: callers
 * load and parse the versions (api.c) or build them in memory (tests).
 */
#ifndef SLUICE_REGISTRY_COMPAT_H
#define SLUICE_REGISTRY_COMPAT_H

#include <stddef.h>
#include <stdint.h>

#include "registry/schema_types.h"

enum reg_level {
    REG_LEVEL_NONE,
    REG_LEVEL_BACKWARD,
    REG_LEVEL_BACKWARD_TRANSITIVE,
    REG_LEVEL_FORWARD,
    REG_LEVEL_FORWARD_TRANSITIVE,
    REG_LEVEL_FULL,
    REG_LEVEL_FULL_TRANSITIVE,
};
#define REG_N_LEVELS 7

/* Case-insensitive name → level, -1 if unknown; and back. */
int reg_level_parse(const char *s);
const char *reg_level_name(int level);
/* BACKWARD → BACKWARD_TRANSITIVE etc.; others unchanged. */
int reg_level_to_transitive(int level);

/* Of n existing versions (oldest first), the index of the first one the
 * level checks against (n when none: NONE, or no versions). */
size_t reg_level_first_checked(int level, size_t n);

/* Check candidate against previous[first..n) (oldest first; versions[i] is
 * previous[i]'s version number) as `level` asks, newest first so the reason
 * names the most recent conflict, e.g. "BACKWARD: the new schema cannot read
 * data written with version 2: ...". 1 compatible, 0 not, < 0 on an error. */
int reg_check_level(int level, const reg_schema *candidate, const reg_schema *const *previous,
                    const int64_t *versions, size_t n, char *reason, size_t reason_len,
                    sluice_error *err);

#endif
