/*
 * value.h — one decoded scalar, as the codec's plan hands it to a column
 * encoder (ch_encode_value) or to a transform expression (expr_eval).
 *
 * A cvalue never owns memory: strings and bytes point into the message
 * being decoded, into the schema, or into a per-row scratch buffer, and are
 * valid until the next row. It is a small struct passed by pointer and
 * filled on the stack — the plan's hot path allocates nothing per field.
 *
 * Logical types keep their unit so conversions are exact: a timestamp-micros
 * going into DateTime64(3) is divided by 1000 (truncating toward negative
 * infinity), into DateTime by 1 000 000, into Date by 86 400 000 000.
 */
#ifndef SLUICE_CODEC_VALUE_H
#define SLUICE_CODEC_VALUE_H

#include <stddef.h>
#include <stdint.h>

typedef enum cv_kind {
    CV_NULL,
    CV_BOOL,    /* i: 0 or 1 */
    CV_INT,     /* i, with unit */
    CV_DOUBLE,  /* d; is_float32 says it came from an Avro float */
    CV_STRING,  /* s, len: UTF-8 text (not NUL-terminated) */
    CV_BYTES,   /* s, len: raw bytes (Avro bytes or fixed) */
    CV_ENUM,    /* s, len: the symbol; i: its index in the Avro enum */
    CV_DECIMAL, /* s, len: big-endian two's complement unscaled value; scale */
} cv_kind;

typedef enum cv_unit {
    CV_UNIT_NONE,
    CV_UNIT_DATE_DAYS, /* days since 1970-01-01 */
    CV_UNIT_TIME_MS,   /* milliseconds after midnight */
    CV_UNIT_TIME_US,
    CV_UNIT_TS_MS, /* milliseconds since the epoch, UTC */
    CV_UNIT_TS_US,
    CV_UNIT_TS_S, /* seconds since the epoch (DateTime, now()) */
} cv_unit;

typedef struct cvalue {
    cv_kind kind;
    cv_unit unit;   /* CV_INT only */
    int is_float32; /* CV_DOUBLE only */
    int scale;      /* CV_DECIMAL only */
    int64_t i;
    double d;
    const char *s;
    size_t len;
} cvalue;

static inline cvalue cv_null(void)
{
    cvalue v = {.kind = CV_NULL};
    return v;
}

static inline cvalue cv_int(int64_t i, cv_unit unit)
{
    cvalue v = {.kind = CV_INT, .unit = unit, .i = i};
    return v;
}

static inline cvalue cv_double(double d)
{
    cvalue v = {.kind = CV_DOUBLE, .d = d};
    return v;
}

static inline cvalue cv_string(const char *s, size_t len)
{
    cvalue v = {.kind = CV_STRING, .s = s, .len = len};
    return v;
}

static inline cvalue cv_bool(int b)
{
    cvalue v = {.kind = CV_BOOL, .i = b ? 1 : 0};
    return v;
}

#endif
