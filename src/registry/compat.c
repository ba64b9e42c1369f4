/*
 * compat.c — compatibility levels (contract in compat.h): which versions a
 * level looks at and in which direction it asks reg_schema_compatible.
 */
#include "registry/compat.h"

#include <stdio.h>
#include <strings.h>

static const char *const level_names[REG_N_LEVELS] = {
    "NONE", "BACKWARD",       "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE",
    "FULL", "FULL_TRANSITIVE"};

int reg_level_parse(const char *s)
{
    for (int i = 0; s && i < REG_N_LEVELS; i++)
        if (strcasecmp(s, level_names[i]) == 0) return i;
    return -1;
}

const char *reg_level_name(int level)
{
    return level >= 0 && level < REG_N_LEVELS ? level_names[level] : "?";
}

static int transitive(int l)
{
    return l == REG_LEVEL_BACKWARD_TRANSITIVE || l == REG_LEVEL_FORWARD_TRANSITIVE ||
           l == REG_LEVEL_FULL_TRANSITIVE;
}

int reg_level_to_transitive(int l)
{
    return l == REG_LEVEL_BACKWARD  ? REG_LEVEL_BACKWARD_TRANSITIVE
           : l == REG_LEVEL_FORWARD ? REG_LEVEL_FORWARD_TRANSITIVE
           : l == REG_LEVEL_FULL    ? REG_LEVEL_FULL_TRANSITIVE
                                    : l;
}

static int backward(int l)
{
    return l == REG_LEVEL_BACKWARD || l == REG_LEVEL_BACKWARD_TRANSITIVE || l == REG_LEVEL_FULL ||
           l == REG_LEVEL_FULL_TRANSITIVE;
}

static int forward(int l)
{
    return l == REG_LEVEL_FORWARD || l == REG_LEVEL_FORWARD_TRANSITIVE || l == REG_LEVEL_FULL ||
           l == REG_LEVEL_FULL_TRANSITIVE;
}

size_t reg_level_first_checked(int level, size_t n)
{
    if (level == REG_LEVEL_NONE || n == 0) return n;
    return transitive(level) ? 0 : n - 1;
}

int reg_check_level(int level, const reg_schema *candidate, const reg_schema *const *previous,
                    const int64_t *versions, size_t n, char *reason, size_t reason_len,
                    sluice_error *err)
{
    if (reason_len) reason[0] = '\0';
    char detail[1024];
    for (size_t i = n; i-- > reg_level_first_checked(level, n);) {
        if (backward(level)) {
            int ok = reg_schema_compatible(previous[i], candidate, detail, sizeof detail, err);
            if (ok < 0) return ok;
            if (!ok) {
                snprintf(reason, reason_len,
                         "%s: the new schema cannot read data written with version %lld: %s",
                         level_names[level], (long long)versions[i], detail);
                return 0;
            }
        }
        if (forward(level)) {
            int ok = reg_schema_compatible(candidate, previous[i], detail, sizeof detail, err);
            if (ok < 0) return ok;
            if (!ok) {
                snprintf(reason, reason_len,
                         "%s: version %lld cannot read data written with the new schema: %s",
                         level_names[level], (long long)versions[i], detail);
                return 0;
            }
        }
    }
    return 1;
}
