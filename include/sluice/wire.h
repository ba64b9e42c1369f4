/*
 * wire.h — Confluent wire framing: magic byte 0, the schema id as a 4-byte
 * big-endian integer, then the payload (Avro binary, ...).
 *
 *   +------+------------------+-----------------
 *   | 0x00 | id (int32, BE)   | payload ...
 *   +------+------------------+-----------------
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

#ifdef __cplusplus
}
#endif
#endif
