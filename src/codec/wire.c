/*
 * wire.c — Confluent framing (see include/sluice/wire.h). Reads are bounds
 * checked before every access; nothing here allocates.
 */
#include <sluice/wire.h>

int sluice_wire_read(const void *msg, size_t len, int32_t *schema_id, const uint8_t **payload,
                     size_t *payload_len, sluice_error *err)
{
    const uint8_t *p = msg;
    if (!p || len < SLUICE_WIRE_HEADER_SIZE)
        return sluice_error_set(err, SLUICE_EINVAL, "frame too short: %zu bytes, need %d", len,
                                SLUICE_WIRE_HEADER_SIZE);
    if (p[0] != SLUICE_WIRE_MAGIC)
        return sluice_error_set(
            err, SLUICE_EINVAL,
            "bad magic byte 0x%02x at offset 0 (not a Confluent-framed message)", p[0]);
    uint32_t id = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
    if (id > INT32_MAX)
        return sluice_error_set(err, SLUICE_EINVAL, "negative schema id %d at offset 1",
                                (int32_t)id);
    *schema_id = (int32_t)id;
    if (payload) *payload = p + SLUICE_WIRE_HEADER_SIZE;
    if (payload_len) *payload_len = len - SLUICE_WIRE_HEADER_SIZE;
    return 0;
}

void sluice_wire_write_header(uint8_t out[SLUICE_WIRE_HEADER_SIZE], int32_t schema_id)
{
    uint32_t id = (uint32_t)schema_id;
    out[0] = SLUICE_WIRE_MAGIC;
    out[1] = (uint8_t)(id >> 24);
    out[2] = (uint8_t)(id >> 16);
    out[3] = (uint8_t)(id >> 8);
    out[4] = (uint8_t)id;
}

int sluice_wire_is_framed(const void *msg, size_t len)
{
    const uint8_t *p = msg;
    return p && len >= SLUICE_WIRE_HEADER_SIZE && p[0] == SLUICE_WIRE_MAGIC;
}
