/*
 * log.h — the one logger. Lines go to stderr (or a sink callback set by an
 * embedding program) as logfmt or JSON lines:
 *
 *   ts=2026-11-22T20:12:01.123Z level=info sub=registry msg="listening" addr=127.0.0.1:8081
 *   {"ts":"2026-11-22T20:12:01.123Z","level":"info","sub":"registry","msg":"listening","addr":"127.0.0.1:8081"}
 *
 * A call names its subsystem, a message, and optional key/value fields given
 * as a NULL-terminated list of string pairs, so both formats quote correctly
 * without parsing anything back. The level/format/sink are process-wide and
 * are set once at start-up, before threads start; logging itself is thread
 * safe (one write(2) per line, lines never interleave).
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sluice_log_level {
    SLUICE_LOG_DEBUG = 0,
    SLUICE_LOG_INFO = 1,
    SLUICE_LOG_WARN = 2,
    SLUICE_LOG_ERROR = 3,
    SLUICE_LOG_OFF = 4,
} sluice_log_level;

typedef enum sluice_log_format {
    SLUICE_LOG_LOGFMT = 0,
    SLUICE_LOG_JSON = 1,
} sluice_log_format;

/* Receives each formatted line (no trailing newline). */
typedef void (*sluice_log_sink)(sluice_log_level level, const char *line, void *opaque);

void sluice_log_configure(sluice_log_level level, sluice_log_format format);
void sluice_log_set_sink(sluice_log_sink sink, void *opaque);
int sluice_log_enabled(sluice_log_level level);

/* Parse "debug"/"info"/"warn"/"error"/"off" and "logfmt"/"json"; -1 if unknown. */
int sluice_log_level_parse(const char *s);
int sluice_log_format_parse(const char *s);

/* sluice_log(level, sub, msg, key1, val1, key2, val2, ..., NULL).
 * msg is printf-free on purpose: put variable data into fields. */
void sluice_log(sluice_log_level level, const char *sub, const char *msg, ...)
    __attribute__((sentinel));

#define SLUICE_LOG_DEBUG_(sub, ...)                                                                \
    (sluice_log_enabled(SLUICE_LOG_DEBUG)                                                          \
         ? sluice_log(SLUICE_LOG_DEBUG, sub, __VA_ARGS__, (char *)0)                               \
         : (void)0)

#ifdef __cplusplus
}
#endif
#endif
