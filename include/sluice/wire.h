/*
 * wire.h — Confluent wire framing: magic byte 0, the schema id as a 4-byte
 * big-endian integer, then the payload (Avro binary, Protobuf, JSON text).
 *
 *   +------+------------------+-----------------
 *   | 0x00 | id (int32, BE)   | payload ...
 *   +------+------------------+-----------------
 *
 * Protobuf frames add a message-index array after the id (below).
 *
 * Pure functions over caller-owned bytes; safe from any thread.
 */
#ifndef SLUICE_WIRE_H
#define SLUICE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLUICE_WIRE_MAGIC 0
#define SLUICE_WIRE_HEADER_SIZE 5

/* Read the header of a framed message. On success *schema_id is the id and
 * *payload and *payload_len the bytes after the header (may be empty). Errors
 * (SLUICE_EINVAL): fewer than 5 bytes ("frame too short: 3 bytes, need 5"),
 * a first byte other than 0 ("bad magic byte 0x7b at offset 0 (not a
 * Confluent-framed message)"), a negative id. */
int sluice_wire_read(const void *msg, size_t len, int32_t *schema_id, const uint8_t **payload,
                     size_t *payload_len, sluice_error *err);

/* Write the 5-byte header for schema_id into out. */
void sluice_wire_write_header(uint8_t out[SLUICE_WIRE_HEADER_SIZE], int32_t schema_id);

/* Does msg look Confluent-framed (at least 5 bytes, magic 0)? */
int sluice_wire_is_framed(const void *msg, size_t len);

/* ---- Protobuf: the message-index array ------------------------------------
 *
 * A Protobuf frame carries, between the schema id and the message, the path
 * of the message type inside the schema's file: [2] is the third top-level
 * message, [0, 1] the second message nested in the first. It is written as
 * a count followed by that many indexes, all varints:
 *
 *   +------+-------------+--------------------------+-----------------
 *   | 0x00 | id (BE)     | count, index, index, ... | Protobuf message
 *   +------+-------------+--------------------------+-----------------
 *
 * in one of two encodings, which the bytes alone cannot always tell apart:
 *   ZIGZAG  zig-zag varints (Confluent's Java, Go and .NET serializers,
 *           python-confluent-kafka from 1.8.2);
 *   PLAIN   unsigned varints (python-confluent-kafka up to 1.8.1; later
 *           versions call it the "deprecated format").
 * Both write [0], by far the most common path, as the single byte 0x00
 * (a count of zero), and that byte means [0] when read in either. */
typedef enum sluice_wire_index_encoding {
    SLUICE_WIRE_INDEX_ZIGZAG = 0,
    SLUICE_WIRE_INDEX_PLAIN = 1,
} sluice_wire_index_encoding;

/* Paths longer than this are refused (messages nest far less deeply). */
#define SLUICE_WIRE_MAX_INDEXES 64

/* Read a framed Protobuf message: the header as sluice_wire_read does, then
 * the message-index array in the given encoding. On success *schema_id is
 * the id, indexes[0 .. *n_indexes) the path (a lone 0x00 gives [0], so
 * *n_indexes is at least 1), and *payload / *payload_len the message after
 * the array (may be empty). indexes must hold SLUICE_WIRE_MAX_INDEXES.
 * Errors (SLUICE_EINVAL) name the byte offset in msg: "offset 6: the
 * message-index array is cut short (varint truncated)", "offset 5: message
 * index count -1 is negative (zig-zag)", "offset 5: 70 message indexes; at
 * most 64", "offset 7: message index 2147483648 is out of range". */
int sluice_wire_read_protobuf(const void *msg, size_t len, sluice_wire_index_encoding encoding,
                              int32_t *schema_id, int32_t *indexes, size_t *n_indexes,
                              const uint8_t **payload, size_t *payload_len, sluice_error *err);

/* Write the message-index array for indexes[0 .. n) in the given encoding
 * into out (room for n + 1 varints of 5 bytes suffices); [0] (and n == 0)
 * is the single byte 0x00. Returns the bytes written. */
size_t sluice_wire_write_message_indexes(uint8_t *out, const int32_t *indexes, size_t n,
                                         sluice_wire_index_encoding encoding);

#ifdef __cplusplus
}
#endif
#endif
