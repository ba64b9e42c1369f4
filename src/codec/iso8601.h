/*
 * iso8601.h — the one ISO-8601 date and time reader of sluice, and the
 * calendar arithmetic around it (proleptic Gregorian, H. Hinnant's
 * days_from_civil / civil_from_days).
 *
 * Three places read dates from text, with different strictness on purpose:
 *   - Avro logical types from JSON (json_avro.c, avro_json_encode.c) are strict:
 *     YYYY-MM-DD, 'T', HH:MM:SS[.f{1,9}], and a zone that is exactly Z or
 *     ±HH:MM — what Avro's and JavaScript's writers produce;
 *   - ClickHouse Date/DateTime columns from text (ch_encode.c) and time
 *     literals in transform expressions (expr_parse.c) are lenient: 't' or a space
 *     for 'T', seconds optional, ',' for '.', and zones z, ±HH, ±HHMM — what
 *     log lines and SQL clients write.
 * The flags below say which; everything else (range checks, leap years,
 * nothing may follow) is shared. Pure functions; any thread.
 */
#ifndef SLUICE_CODEC_ISO8601_H
#define SLUICE_CODEC_ISO8601_H

#include <stddef.h>
#include <stdint.h>

typedef struct iso8601 {
    int64_t days;       /* since 1970-01-01 (0 for a time of day alone) */
    int has_time;       /* a time of day was given */
    int32_t sec_of_day; /* h * 3600 + m * 60 + s */
    int32_t nanos;      /* the fraction, in nanoseconds (truncated past 9 digits) */
    int has_zone;       /* Z or an offset was given */
    int32_t offset_sec; /* east of UTC */
} iso8601;

enum {
    ISO8601_LENIENT = 1 << 0,       /* 't'/' ', optional seconds, ',', z/±HH/±HHMM */
    ISO8601_LONG_FRACTION = 1 << 1, /* more than 9 fraction digits: truncated, not an error */
};

/* "YYYY-MM-DD" optionally followed by a time and a zone. NULL, or the reason
 * the text is not one ("bad syntax", "month out of range", ...). */
const char *iso8601_parse(const char *s, size_t n, unsigned flags, iso8601 *out);

/* A time of day alone: "HH:MM:SS[.f][zone]" (strict form only). */
const char *iso8601_parse_time(const char *s, size_t n, iso8601 *out);

/* Seconds since the epoch (UTC) of a parsed date-time: days, time of day,
 * minus the offset. */
static inline int64_t iso8601_epoch_seconds(const iso8601 *t)
{
    return t->days * 86400 + t->sec_of_day - t->offset_sec;
}

int64_t iso8601_days_from_civil(int64_t y, int m, int d);
/* Valid for |days| well below INT64_MAX (callers keep it under 2^40). */
void iso8601_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
int iso8601_days_in_month(int64_t y, int m);

#endif
