/*
 * ch_type.h — ClickHouse column types, as system.columns spells them, and
 * their RowBinary encodings.
 *
 * The sink reads a table's columns once (name, type text) and parses each
 * type into a ch_type tree; the plan compiler then picks, per column, how a
 * source value becomes RowBinary bytes. Parsing and encoding are pure; a
 * parsed type is immutable and owned by the arena it was parsed into.
 *
 * RowBinary (ClickHouse docs, "RowBinary"): integers and floats little
 * endian, String = LEB128 length + bytes, FixedString(N) = N bytes (zero
 * padded), Date = UInt16 days, DateTime = UInt32 seconds, DateTime64(P) =
 * Int64 ticks of 10^-P s, UUID = 16 bytes (see ch_encode_value), Enum8/16 =
 * Int8/Int16 value, Decimal32/64/128 = Int32/64/128 unscaled little endian,
 * Nullable(T) = one byte 1 (null) or 0 followed by T, Array(T) = LEB128
 * count + elements, Map(K, V) = LEB128 count + (K, V) pairs,
 * LowCardinality(T) = T, Bool = UInt8 0/1.
 *
 * Server versions: 18.16 (the one tests run against) has no DateTime64, Map
 * or Bool, and LowCardinality only behind a setting; ch_server_features()
 * says what a given `SELECT version()` supports, and the plan compiler
 * rejects a type the server cannot have.
 */
#ifndef SLUICE_CODEC_CH_TYPE_H
#define SLUICE_CODEC_CH_TYPE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

#include "codec/value.h"
#include "common/arena.h"
#include "common/buf.h"

typedef enum ch_kind {
    CH_INT8,
    CH_INT16,
    CH_INT32,
    CH_INT64,
    CH_UINT8,
    CH_UINT16,
    CH_UINT32,
    CH_UINT64,
    CH_FLOAT32,
    CH_FLOAT64,
    CH_BOOL,
    CH_STRING,
    CH_FIXED_STRING, /* fixed_len */
    CH_DATE,
    CH_DATETIME,   /* timezone may be set */
    CH_DATETIME64, /* precision 0..9, timezone */
    CH_UUID,
    CH_ENUM8,
    CH_ENUM16, /* enum_names/enum_values, n_enum */
    CH_DECIMAL32,
    CH_DECIMAL64,
    CH_DECIMAL128,      /* precision, scale */
    CH_NULLABLE,        /* inner */
    CH_ARRAY,           /* inner */
    CH_MAP,             /* inner = key type, inner2 = value type */
    CH_LOW_CARDINALITY, /* inner */
} ch_kind;

typedef struct ch_type ch_type;
struct ch_type {
    ch_kind kind;
    const ch_type *inner;
    const ch_type *inner2;
    size_t fixed_len;
    int precision;
    int scale;
    const char *timezone;          /* NULL if none given */
    const char *const *enum_names; /* in declaration order */
    const int16_t *enum_values;
    size_t n_enum;
    const char *text; /* the canonical spelling, e.g. "Nullable(String)" */
};

/* Parse a type as system.columns prints it: "UInt64", "Nullable(String)",
 * "Array(Array(Nullable(Int8)))", "FixedString(16)", "Decimal(18, 4)" (also
 * Decimal32(S)/Decimal64(S)/Decimal128(S)), "DateTime('UTC')",
 * "DateTime64(3, 'Europe/Berlin')", "Enum8('a' = 1, 'b\\'c' = -2)",
 * "LowCardinality(String)", "Map(String, UInt64)", "Bool". Unsupported types
 * (Tuple, Nested as a type, AggregateFunction, Int128/256, IPv4/6, ...)
 * are rejected with a message naming them. Errors name the offset:
 *   "offset 9: expected ')' in 'Nullable(String'"
 *   "unsupported ClickHouse type 'Tuple(UInt8, String)' (column types sluice can write: ...)" */
int ch_type_parse(const char *text, arena *a, const ch_type **out, sluice_error *err);

/* What a server of version "18.16.1" / "23.8.2.7" can store. */
typedef struct ch_features {
    int datetime64;                      /* 20.1+ */
    int map;                             /* 21.1+ */
    int bool_type;                       /* 21.12+ */
    int low_cardinality_without_setting; /* 19.0+ */
} ch_features;
int ch_server_features(const char *version, ch_features *out, sluice_error *err);

/* Append v as RowBinary of column type t. Conversions (all checked; a value
 * that does not fit is SLUICE_ERANGE, a kind that cannot convert is
 * SLUICE_EINVAL, err names both, e.g. "300 does not fit in UInt8",
 * "'PAUSED' is not a value of Enum8('A' = 1, 'B' = 2)", "string 'abc' is
 * not a number for Int32"):
 *   ints/floats/bools into Int*, UInt*, Float*, Bool, Decimal*;
 *   decimal strings and CV_DECIMAL into Decimal* (exact rescale or error)
 *   and into floats; integral strings into Int and UInt columns (JSON pipelines often
 *   quote 64-bit ints);
 *   any scalar into String (numbers as their shortest decimal text, enum as
 *   its symbol, bool as true/false); bytes/fixed/string into FixedString(N)
 *   (longer than N is an error, shorter is zero padded);
 *   CV_INT with a unit, or an ISO-8601 string ("2026-11-22",
 *   "2026-11-22 20:12:01", "2026-11-22T20:12:01.123Z", offsets), into Date,
 *   DateTime, DateTime64; a bare CV_INT into DateTime is seconds, into Date
 *   days, into DateTime64(P) ticks;
 *   36-char UUID text or 16 bytes into UUID;
 *   enum symbols and strings (by name) and integers (by value) into Enum8/16;
 *   CV_NULL into Nullable(T) (flag 1); into any other type it is an error
 *   (the caller decides whether to write the type's default instead).
 * Nullable(T) writes the flag byte, LowCardinality(T) is T. Array and Map
 * are not scalars: the caller writes the count and encodes the elements with
 * the inner types (see ch_encode_json for a whole JSON value). On error, out
 * is left as it was on entry. */
int ch_encode_value(const ch_type *t, const cvalue *v, buf *out, sluice_error *err);

/* Append the type's default value, the one ClickHouse itself fills in for
 * an omitted column without a DEFAULT expression: 0, '', zero-filled
 * FixedString, 1970-01-01 (00:00:00), the zero UUID, Decimal 0, NULL for
 * Nullable, an empty Array/Map, and for Enum8/16 whatever the server uses
 * (established against the real server in the tests, not assumed). */
int ch_encode_default(const ch_type *t, buf *out);

/* Append a whole JSON value (jansson) as RowBinary of t: scalars as
 * ch_encode_value would take them (JSON null → CV_NULL, integers → CV_INT,
 * reals → CV_DOUBLE, strings → CV_STRING, true/false → CV_BOOL), arrays into
 * Array(T) element by element, objects into Map(K, V). Used for schemaless
 * JSON topics and for Avro field defaults. Errors name the path inside the
 * value ("[2]: 300 does not fit in UInt8"). */
int ch_encode_json(const ch_type *t, const json_t *v, buf *out, sluice_error *err);

/* The same from JSON text: the value at the reader's position, consumed
 * (json_lex.h), with ch_encode_json's rules — except that an integer
 * literal past int64 is taken as its text, which an integer column reads
 * exactly (a tree parse would have refused the message). SLUICE_EPARSE when
 * the text is not JSON (lx->err says where; err repeats it). */
struct json_lex;
int ch_encode_json_text(const ch_type *t, struct json_lex *lx, buf *out, sluice_error *err);

#endif
