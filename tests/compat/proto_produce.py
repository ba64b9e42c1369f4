#!/usr/bin/python3
# proto_produce.py — Confluent-framed Protobuf messages written by a
# producer no one here wrote: Debian's python3-confluent-kafka 1.7.0
# ProtobufSerializer, with classes Debian's protoc generates at run time
# from shop/event.proto (imports google/protobuf/timestamp.proto and
# wrappers.proto; nested messages, an enum, a map, a oneof, proto3
# optional, packed sint32s). The serializer auto-registers the schema and
# its references in the registry at REGISTRY_URL itself.
#
# Events go to topic "events" (message index [0], written as the byte 0x00)
# and Pings — the file's second message — to topic "pings" (index [1],
# which this client version writes in plain varints: 01 01). Every value is
# a function of the message number i, which tests/integration/
# test_plan_proto_clickhouse.c also computes to check what ClickHouse holds.
#
# Writes one line per message to OUT: "<topic> <hex of the framed bytes>".
#
# usage: proto_produce.py REGISTRY_URL WORKDIR OUT N
import os
import subprocess
import sys

url, workdir, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

EVENT_PROTO = """
syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
enum Status {
  STATUS_UNKNOWN = 0;
  NEW = 1;
  PAID = 2;
  SHIPPED = 3;
}
message Event {
  int64 id = 1;
  string user = 2;
  Status status = 3;
  google.protobuf.Timestamp at = 4;
  message Geo {
    string country = 1;
    double lat = 2;
    double lon = 3;
  }
  Geo geo = 5;
  message Line {
    string sku = 1;
    uint32 qty = 2;
    double price = 3;
    repeated string tags = 4;
  }
  repeated Line lines = 6;
  map<string, string> attrs = 7;
  repeated sint32 deltas = 8;
  optional string coupon = 9;
  google.protobuf.Int64Value score = 10;
  oneof contact {
    string email = 11;
    string phone = 12;
  }
  bool gift = 13;
  float ratio = 14;
  uint64 big = 15;
  bytes blob = 16;
}
message Ping {
  int64 id = 1;
  google.protobuf.Timestamp at = 2;
}
"""

path = os.path.join(workdir, "shop", "event.proto")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    f.write(EVENT_PROTO)
subprocess.run(["/usr/bin/protoc", "-I", workdir, "--python_out=" + workdir, "shop/event.proto"],
               check=True)
sys.path.insert(0, workdir)

from confluent_kafka.schema_registry import SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402
from shop import event_pb2  # noqa: E402

client = SchemaRegistryClient({"url": url})
events = ProtobufSerializer(event_pb2.Event, client)
pings = ProtobufSerializer(event_pb2.Ping, client)
ev_ctx = SerializationContext("events", MessageField.VALUE)
ping_ctx = SerializationContext("pings", MessageField.VALUE)


def event(i):
    e = event_pb2.Event(id=i * 1000 - 5, user="u%d" % i, status=i % 4)
    e.at.seconds = 1700000000 + i * 3601
    e.at.nanos = i * 1000
    if i % 3:
        e.geo.country = "C%d" % (i % 5)
        e.geo.lat = i + 0.5
        if i % 2:
            e.geo.lon = -i - 0.25
    for k in range(i % 4):
        line = e.lines.add(sku="S%d-%d" % (i, k), qty=k + 1, price=(k + 1) * 1.25)
        line.tags.extend(["t%d" % k] * k)
    for j in range(i % 3):
        e.attrs["a%d" % j] = "v%d" % i
    if i % 2:
        e.deltas.extend([-i, i])
    if i % 5 == 0:
        e.coupon = "" if i % 10 == 0 else "C%d" % i
    if i % 2:
        e.score.value = i * 7
    elif i % 4 == 0:
        e.score.SetInParent()  # present, value 0
    if i % 3 == 0:
        e.email = "e%d@x" % i
    elif i % 3 == 1:
        e.phone = "+%d" % i
    e.gift = i % 2 == 0
    e.ratio = i + 0.5
    e.big = 18446744073709551615 - i
    e.blob = bytes([i % 256, 0xFF])
    return e


with open(out, "w") as f:
    for i in range(n):
        f.write("events %s\n" % events(event(i), ev_ctx).hex())
        p = event_pb2.Ping(id=i)
        p.at.seconds = 1700000000 + i
        p.at.nanos = (i % 3) * 1000000 + (i % 2) * 7
        f.write("pings %s\n" % pings(p, ping_ctx).hex())
