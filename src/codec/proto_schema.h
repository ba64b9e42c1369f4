/*
 * proto_schema.h — Protobuf schemas as sluice sees them: parsed once (by
 * Debian's libprotobuf, in proto_schema.cc) into a plain C model of files,
 * messages, fields, oneofs and enums that C code walks without touching C++.
 *
 * Who reads it: the registry (validation, the normalised text that dedupes
 * schemas, compatibility in proto_compat.c) today; the Protobuf → RowBinary
 * plan and the ingest encoder next (docs/ARCHITECTURE.md, "Protobuf and JSON
 * Schema"). The model therefore keeps what a wire decoder needs — field
 * numbers, wire types, packed, presence, oneof membership, map entries,
 * resolved message and enum pointers, every message reachable by the
 * Confluent message-index path — and what the compatibility rules need
 * (declared labels, where each dependency came from).
 *
 * Input forms (both accepted, as Confluent's registry does): `.proto` text
 * (proto2 or proto3) and a base64-encoded FileDescriptorProto (what
 * python-confluent-kafka 1.7.0 registers). Imports resolve through the
 * dependencies the caller hands in (a registry's references: import name →
 * schema text); the well-known types (google/protobuf/timestamp.proto,
 * wrappers.proto, …) resolve from libprotobuf's built-in copies when the
 * caller did not supply them.
 *
 * Ownership: a proto_schema owns everything through one arena and is
 * immutable after proto_schema_parse returns, so any number of threads may
 * read it. Messages refer to each other by pointer (a message may contain
 * itself), so walkers must carry a depth or a visited set.
 */
#ifndef SLUICE_CODEC_PROTO_SCHEMA_H
#define SLUICE_CODEC_PROTO_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Field types, numbered as FieldDescriptorProto.Type numbers them. */
typedef enum proto_type {
    PROTO_DOUBLE = 1,
    PROTO_FLOAT = 2,
    PROTO_INT64 = 3,
    PROTO_UINT64 = 4,
    PROTO_INT32 = 5,
    PROTO_FIXED64 = 6,
    PROTO_FIXED32 = 7,
    PROTO_BOOL = 8,
    PROTO_STRING = 9,
    PROTO_GROUP = 10,
    PROTO_MESSAGE = 11,
    PROTO_BYTES = 12,
    PROTO_UINT32 = 13,
    PROTO_ENUM = 14,
    PROTO_SFIXED32 = 15,
    PROTO_SFIXED64 = 16,
    PROTO_SINT32 = 17,
    PROTO_SINT64 = 18,
} proto_type;

typedef enum proto_label {
    PROTO_OPTIONAL = 1, /* also proto3's implicit singular fields */
    PROTO_REQUIRED = 2,
    PROTO_REPEATED = 3,
} proto_label;

/* Wire types of the encoding. */
typedef enum proto_wire {
    PROTO_WIRE_VARINT = 0,
    PROTO_WIRE_I64 = 1,
    PROTO_WIRE_LEN = 2,
    PROTO_WIRE_SGROUP = 3,
    PROTO_WIRE_EGROUP = 4,
    PROTO_WIRE_I32 = 5,
} proto_wire;

typedef struct proto_file proto_file;
typedef struct proto_message proto_message;
typedef struct proto_enum proto_enum;

typedef struct proto_enum_value {
    const char *name;
    int32_t number;
} proto_enum_value;

struct proto_enum {
    const char *name;      /* "Status" */
    const char *full_name; /* "shop.Order.Status" */
    const proto_file *file;
    const proto_message *parent; /* NULL at file level */
    const proto_enum_value *values;
    size_t n_values;
    bool closed; /* proto2: unknown numbers are not values of the enum */
};

typedef struct proto_field {
    const char *name;
    const char *json_name; /* the proto3 JSON mapping's name ("userId") */
    int32_t number;
    proto_type type;
    proto_label label;
    /* The label as written: proto2 fields always have one; proto3 fields
     * only when declared `optional` or `repeated` (Confluent compares labels
     * only when both sides wrote one). Map fields have none. */
    bool label_declared;
    bool packed;                  /* repeated scalars: written packed (proto3 default) */
    bool has_presence;            /* the decoder can tell "absent" from the default */
    bool proto3_optional;         /* `optional` in proto3 (a synthetic oneof) */
    int oneof_index;              /* index into the message's oneofs; -1 if none */
    const proto_message *message; /* MESSAGE and GROUP; map fields: the entry */
    const proto_enum *enum_type;  /* ENUM */
    const char *default_value;    /* proto2 [default = …] as text; NULL if none */
    size_t index;                 /* position in the message */
} proto_field;

/* A real oneof (proto3 `optional`'s synthetic oneofs are not listed). */
typedef struct proto_oneof {
    const char *name;
    const proto_field *const *fields;
    size_t n_fields;
} proto_oneof;

struct proto_message {
    const char *name;      /* "Order" */
    const char *full_name; /* "shop.Order" */
    const proto_file *file;
    const proto_message *parent; /* NULL at file level */
    const proto_field *fields;   /* declaration order */
    size_t n_fields;
    const proto_field *const *by_number; /* the same fields sorted by number */
    const proto_oneof *oneofs;
    size_t n_oneofs;
    const proto_message *nested; /* nested messages (map entries included) */
    size_t n_nested;
    const proto_enum *enums; /* nested enums */
    size_t n_enums;
    bool map_entry; /* a map<K,V> field's entry: fields 1 (key) and 2 (value) */
    size_t index;   /* position among its siblings: one element of a message-index path */
};

struct proto_file {
    const char *name;    /* "shop/order.proto" (the import name; the root's own name) */
    const char *package; /* "" when none */
    const char *syntax;  /* "proto2" or "proto3" */
    const proto_message *messages;
    size_t n_messages;
    const proto_enum *enums;
    size_t n_enums;
    const proto_file *const *deps; /* imports, in declaration order */
    size_t n_deps;
    /* Where a dependency came from: the registry reference it was given
     * under (subject, version), or NULL/0 for the root and for well-known
     * types taken from libprotobuf. Compatibility skips comparing types
     * that both sides took from the same subject version. */
    const char *ref_subject;
    int32_t ref_version;
    bool builtin; /* a well-known type libprotobuf supplied */
};

/* A dependency handed to the parser: an import name and its schema text
 * (either form), optionally labelled with the reference it came from. */
typedef struct proto_source {
    const char *name; /* the import path ("google/protobuf/timestamp.proto") */
    const char *text;
    size_t len;
    const char *ref_subject; /* may be NULL */
    int32_t ref_version;
} proto_source;

typedef struct proto_schema proto_schema;

/* Bounds: at most this many files (root, dependencies, well-known types)
 * and this many messages in one schema; deeper nesting than the .proto
 * parser's own limit is refused by it. */
#define PROTO_SCHEMA_MAX_FILES 256
#define PROTO_SCHEMA_MAX_MESSAGES 100000

/* Parse `text` (len bytes, need not be NUL-terminated) with its
 * dependencies. Errors name the file, line and column when the text has
 * them ("schema.proto:4:12: Expected \";\"."), the element otherwise
 * ("schema.proto: shop.Order.at: \"Timestamp\" is not defined."); a missing
 * import, an import cycle or a dependency that does not parse name the
 * import chain. root_name names the root file in messages and in the model
 * (NULL: the descriptor's own name, or "schema.proto" for text). */
int proto_schema_parse(const char *text, size_t len, const char *root_name,
                       const proto_source *deps, size_t n_deps, proto_schema **out,
                       sluice_error *err);
void proto_schema_free(proto_schema *s);

const proto_file *proto_schema_root(const proto_schema *s);

/* The root file rendered as .proto text by libprotobuf (comments and
 * formatting dropped, options and imports kept): the same schema in either
 * input form, or formatted differently, renders the same, so this is the
 * registry's dedupe key and what it serves for a base64 registration. */
const char *proto_schema_canonical(const proto_schema *s);

/* The root file as a base64 FileDescriptorProto (Confluent's
 * `?format=serialized`). */
const char *proto_schema_serialized_base64(const proto_schema *s);

/* A message by fully qualified name ("shop.Order", no leading dot) in the
 * root file or any dependency; NULL if none. */
const proto_message *proto_schema_find_message(const proto_schema *s, const char *full_name);

/* The message a Confluent message-index path names in the root file:
 * indexes[0] is a top-level message, each next one a nested message of the
 * previous; n == 0 means the first message. NULL with err when out of range. */
const proto_message *proto_schema_message_at(const proto_schema *s, const int32_t *indexes,
                                             size_t n, sluice_error *err);

/* The wire type a field of this type is written with (unpacked). */
proto_wire proto_type_wire(proto_type t);
/* "int32", "message", ... as the .proto language spells the type. */
const char *proto_type_name(proto_type t);

#ifdef __cplusplus
}
#endif
#endif
