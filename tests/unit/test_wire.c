/*
 * test_wire.c — Confluent framing's Protobuf message-index array
 * (include/sluice/wire.h): both encodings read from bytes written by hand
 * as the clients write them (python-confluent-kafka 1.7.0's plain varints
 * are checked against the real client in test_plan_proto_python), every
 * malformed array refused with its byte offset, and writing round-trips.
 */
#include "test.h"

#include <sluice/wire.h>

static int read_frame(const uint8_t *body, size_t n, sluice_wire_index_encoding enc, int32_t *idx,
                      size_t *n_idx, size_t *payload_at, sluice_error *err)
{
    uint8_t frame[64] = {0, 0, 0, 0, 42};
    if (n) memcpy(frame + 5, body, n);
    int32_t id = -1;
    const uint8_t *payload = NULL;
    size_t payload_len = 0;
    int rc =
        sluice_wire_read_protobuf(frame, 5 + n, enc, &id, idx, n_idx, &payload, &payload_len, err);
    if (rc == 0) {
        if (id != 42) return -100;
        *payload_at = (size_t)(payload - frame);
        if (*payload_at + payload_len != 5 + n) return -101;
    }
    return rc;
}

static void test_zero_byte_is_first_message_in_both(void)
{
    const uint8_t b[] = {0x00, 0x08, 0x96, 0x01};
    int32_t idx[SLUICE_WIRE_MAX_INDEXES];
    size_t n = 0, at = 0;
    sluice_error err;
    CHECK_EQ(read_frame(b, sizeof b, SLUICE_WIRE_INDEX_ZIGZAG, idx, &n, &at, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(idx[0], 0);
    CHECK_EQ(at, 6);
    CHECK_EQ(read_frame(b, sizeof b, SLUICE_WIRE_INDEX_PLAIN, idx, &n, &at, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(idx[0], 0);
    CHECK_EQ(at, 6);
}

static void test_zigzag_paths(void)
{
    int32_t idx[SLUICE_WIRE_MAX_INDEXES];
    size_t n = 0, at = 0;
    sluice_error err;
    /* [1]: count 1 -> 2, index 1 -> 2 (Java's MessageIndexes) */
    const uint8_t one[] = {0x02, 0x02, 0xAA};
    CHECK_EQ(read_frame(one, sizeof one, SLUICE_WIRE_INDEX_ZIGZAG, idx, &n, &at, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(idx[0], 1);
    CHECK_EQ(at, 7);
    /* [0, 2, 70]: 70 -> 140, two bytes */
    const uint8_t three[] = {0x06, 0x00, 0x04, 0x8C, 0x01};
    CHECK_EQ(read_frame(three, sizeof three, SLUICE_WIRE_INDEX_ZIGZAG, idx, &n, &at, &err), 0);
    CHECK_EQ(n, 3);
    CHECK_EQ(idx[0], 0);
    CHECK_EQ(idx[1], 2);
    CHECK_EQ(idx[2], 70);
    CHECK_EQ(at, 10);
}

static void test_plain_paths(void)
{
    int32_t idx[SLUICE_WIRE_MAX_INDEXES];
    size_t n = 0, at = 0;
    sluice_error err;
    /* python-confluent-kafka 1.7.0: [len, i...] as unsigned varints */
    const uint8_t one[] = {0x01, 0x01};
    CHECK_EQ(read_frame(one, sizeof one, SLUICE_WIRE_INDEX_PLAIN, idx, &n, &at, &err), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(idx[0], 1);
    CHECK_EQ(at, 7);
    const uint8_t two[] = {0x02, 0x00, 0x81, 0x01};
    CHECK_EQ(read_frame(two, sizeof two, SLUICE_WIRE_INDEX_PLAIN, idx, &n, &at, &err), 0);
    CHECK_EQ(n, 2);
    CHECK_EQ(idx[0], 0);
    CHECK_EQ(idx[1], 129);
    /* The same bytes in the other encoding read otherwise — or not at all. */
    CHECK(read_frame(one, sizeof one, SLUICE_WIRE_INDEX_ZIGZAG, idx, &n, &at, &err) != 0);
    CHECK_STR(err.msg, "offset 5: message-index count -1 is negative (zig-zag)");
}

static void test_malformed_arrays_name_the_offset(void)
{
    int32_t idx[SLUICE_WIRE_MAX_INDEXES];
    size_t n = 0, at = 0;
    sluice_error err;
    CHECK_EQ(read_frame(NULL, 0, SLUICE_WIRE_INDEX_ZIGZAG, idx, &n, &at, &err), SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "offset 5: the message-index array is missing");
    const uint8_t cut[] = {0x80};
    CHECK_EQ(read_frame(cut, 1, SLUICE_WIRE_INDEX_PLAIN, idx, &n, &at, &err), SLUICE_EINVAL);
    CHECK_STR(err.msg, "offset 5: the message-index count is cut short (varint truncated)");
    const uint8_t short_list[] = {0x04, 0x02};
    CHECK_EQ(read_frame(short_list, 2, SLUICE_WIRE_INDEX_ZIGZAG, idx, &n, &at, &err),
             SLUICE_EINVAL);
    CHECK_STR(err.msg, "offset 7: message index 2 of 2 is cut short (varint truncated)");
    const uint8_t long_varint[] = {0x02, 0x80, 0x80, 0x80, 0x80, 0x80,
                                   0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    CHECK_EQ(
        read_frame(long_varint, sizeof long_varint, SLUICE_WIRE_INDEX_ZIGZAG, idx, &n, &at, &err),
        SLUICE_EINVAL);
    CHECK_STR(err.msg, "offset 6: message index 1 of 1 is longer than 10 bytes");
    const uint8_t too_many[] = {65};
    CHECK_EQ(read_frame(too_many, 1, SLUICE_WIRE_INDEX_PLAIN, idx, &n, &at, &err), SLUICE_EINVAL);
    CHECK_STR(err.msg, "offset 5: 65 message indexes; at most 64");
    const uint8_t negative[] = {0x02, 0x03};
    CHECK_EQ(read_frame(negative, 2, SLUICE_WIRE_INDEX_ZIGZAG, idx, &n, &at, &err), SLUICE_EINVAL);
    CHECK_STR(err.msg, "offset 6: message index -2 is out of range (zig-zag)");
    const uint8_t huge[] = {0x01, 0x80, 0x80, 0x80, 0x80, 0x08};
    CHECK_EQ(read_frame(huge, sizeof huge, SLUICE_WIRE_INDEX_PLAIN, idx, &n, &at, &err),
             SLUICE_EINVAL);
    CHECK_STR(err.msg, "offset 6: message index 2147483648 is out of range (plain)");
    /* The header's own errors come first. */
    const uint8_t bad_magic[6] = {1, 0, 0, 0, 1, 0};
    CHECK_EQ(sluice_wire_read_protobuf(bad_magic, 6, SLUICE_WIRE_INDEX_ZIGZAG, &(int32_t){0}, idx,
                                       &n, NULL, NULL, &err),
             SLUICE_EINVAL);
    CHECK_CONTAINS(err.msg, "bad magic byte 0x01 at offset 0");
    CHECK_EQ(sluice_wire_read_protobuf(bad_magic, 6, (sluice_wire_index_encoding)7, &(int32_t){0},
                                       idx, &n, NULL, NULL, &err) != 0,
             1);
}

static void test_write_round_trips(void)
{
    static const int32_t paths[][4] = {{0}, {1}, {0, 1}, {3, 0, 200}, {0, 0, 0, 0}, {2147483647}};
    static const size_t lens[] = {1, 1, 2, 3, 4, 1};
    for (int enc = 0; enc < 2; enc++) {
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            uint8_t arr[64];
            size_t w = sluice_wire_write_message_indexes(arr, paths[i], lens[i],
                                                         (sluice_wire_index_encoding)enc);
            CHECK(w >= 1);
            int32_t idx[SLUICE_WIRE_MAX_INDEXES];
            size_t n = 0, at = 0;
            sluice_error err;
            CHECK_EQ(read_frame(arr, w, (sluice_wire_index_encoding)enc, idx, &n, &at, &err), 0);
            CHECK_EQ(n, lens[i]);
            CHECK_EQ(at, 5 + w);
            for (size_t k = 0; k < n; k++)
                CHECK_EQ(idx[k], paths[i][k]);
        }
    }
    /* [0] is one byte whatever the encoding; so is an empty path. */
    uint8_t arr[8];
    CHECK_EQ(sluice_wire_write_message_indexes(arr, (int32_t[]){0}, 1, SLUICE_WIRE_INDEX_PLAIN), 1);
    CHECK_EQ(arr[0], 0);
    CHECK_EQ(sluice_wire_write_message_indexes(arr, NULL, 0, SLUICE_WIRE_INDEX_ZIGZAG), 1);
    CHECK_EQ(arr[0], 0);
    CHECK_EQ(sluice_wire_write_message_indexes(arr, (int32_t[]){1}, 1, SLUICE_WIRE_INDEX_ZIGZAG),
             2);
    CHECK_EQ(arr[0], 2);
    CHECK_EQ(arr[1], 2);
}

TEST_MAIN(T(test_zero_byte_is_first_message_in_both), T(test_zigzag_paths), T(test_plain_paths),
          T(test_malformed_arrays_name_the_offset), T(test_write_round_trips))
