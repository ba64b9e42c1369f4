#!/usr/bin/python3
# sr_python.py — Debian's python3-confluent-kafka 1.7.0 (a client no one
# here wrote) against `sluice registry`, for PROTOBUF and JSON schemas.
#
# Protobuf: classes generated at run time by Debian's protoc from a .proto
# that imports google/protobuf/timestamp.proto and a second file of ours,
# with a nested message, an enum, a map and a oneof. ProtobufSerializer
# auto-registers the schema and its references itself: each imported file
# under a subject named after it (subjects with '/', which the client sends
# percent-encoded), as a base64 FileDescriptorProto. The message is then
# read back two ways: with the generated class, and with a class built
# only from what the registry serves (?format=serialized for the schema and
# each reference), so the registry's copy is checked, not the test's.
#
# JSON: JSONSerializer (draft-07, validated by Debian's python3-jsonschema)
# auto-registers; JSONDeserializer is built from the schema text the registry
# returns for the id in the frame. The client's own register/lookup with
# references and its compatibility call are used as well.
#
# Everything observed is written to OUT as JSON for the C side
# (tests/integration/test_sr_python.c) to check.
#
# usage: sr_python.py REGISTRY_URL WORKDIR OUT
import base64
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request

url, workdir, out = sys.argv[1:4]

PROTOS = {
    "common/money.proto": """
syntax = "proto3";
package common;
message Money {
  int64 units = 1;
  string currency = 2;
}
""",
    "shop/order.proto": """
syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
import "common/money.proto";
message Order {
  int64 id = 1;
  google.protobuf.Timestamp at = 2;
  message Line {
    string sku = 1;
    int32 qty = 2;
    common.Money price = 3;
  }
  repeated Line lines = 3;
  enum State {
    NEW = 0;
    PAID = 1;
    SHIPPED = 2;
  }
  State state = 4;
  map<string, string> tags = 5;
  oneof contact {
    string email = 6;
    string phone = 7;
  }
  repeated sint32 deltas = 8;
}
""",
}

for name, text in PROTOS.items():
    path = os.path.join(workdir, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
subprocess.run(["/usr/bin/protoc", "-I", workdir, "--python_out=" + workdir] + list(PROTOS),
               check=True)
sys.path.insert(0, workdir)

from google.protobuf import descriptor_pb2, descriptor_pool, json_format  # noqa: E402
from google.protobuf import message_factory  # noqa: E402
from confluent_kafka.schema_registry import Schema, SchemaReference  # noqa: E402
from confluent_kafka.schema_registry import SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.json_schema import JSONDeserializer  # noqa: E402
from confluent_kafka.schema_registry.json_schema import JSONSerializer  # noqa: E402
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer  # noqa: E402
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402
from shop import order_pb2  # noqa: E402

client = SchemaRegistryClient({"url": url})
observed = {}


def get(path):
    with urllib.request.urlopen(url + path) as r:
        return json.load(r)


# ---- Protobuf ------------------------------------------------------------

ctx = SerializationContext("orders", MessageField.VALUE)
ser = ProtobufSerializer(order_pb2.Order, client)
order = order_pb2.Order(id=42, state=order_pb2.Order.PAID, email="ada@example.com")
order.at.seconds = 1700000000
order.at.nanos = 123000000
line = order.lines.add(sku="A-1", qty=3)
line.price.units = 1999
line.price.currency = "EUR"
order.lines.add(sku="B-2", qty=1)
order.tags["channel"] = "web"
order.deltas.extend([-1, 0, 5])
framed = ser(order, ctx)
schema_id = int.from_bytes(framed[1:5], "big")
observed["proto_id"] = schema_id
observed["proto_frame_hex"] = framed.hex()
observed["proto_payload_hex"] = order.SerializeToString().hex()

# The generated class reads it back.
back = ProtobufDeserializer(order_pb2.Order)(framed, ctx)
observed["proto_generated_roundtrip"] = back == order

# A class built only from what the registry serves for the frame's id. As
# Confluent's own newer clients do, each file is named by the reference that
# imports it (the registry's copy carries no file name of its own).
pool = descriptor_pool.DescriptorPool()
added = set()


def add_file(name, serialized_b64, references):
    for ref in references:
        if ref["name"] in added:
            continue
        dep = get("/subjects/%s/versions/%d?format=serialized"
                  % (urllib.parse.quote(ref["subject"], safe=""), ref["version"]))
        add_file(ref["name"], dep["schema"], dep.get("references", []))
        added.add(ref["name"])
    fdp = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(serialized_b64))
    fdp.name = name
    pool.Add(fdp)
    return fdp


served = get("/schemas/ids/%d?format=serialized" % schema_id)
served_fdp = add_file("shop/order.proto", served["schema"], served.get("references", []))
observed["proto_references"] = served.get("references", [])
observed["proto_schema_type"] = served.get("schemaType")
cls = message_factory.MessageFactory(pool).GetPrototype(pool.FindMessageTypeByName("shop.Order"))
from_registry = ProtobufDeserializer(cls)(framed, ctx)
observed["proto_registry_roundtrip"] = (
    json_format.MessageToDict(from_registry) == json_format.MessageToDict(order))
observed["proto_registry_dict"] = json_format.MessageToDict(from_registry)
# The served descriptor is the one protoc made, message for message.
original = descriptor_pb2.FileDescriptorProto.FromString(order_pb2.DESCRIPTOR.serialized_pb)
observed["proto_descriptor_equal"] = (
    [m.SerializeToString(deterministic=True) for m in served_fdp.message_type]
    == [m.SerializeToString(deterministic=True) for m in original.message_type])
# The client's own view of the id.
fetched = client.get_schema(schema_id)
observed["proto_client_type"] = fetched.schema_type
observed["proto_client_refs"] = sorted(r.name for r in fetched.references)
# A second message: the serializer has what it needs, the id is the same.
order.id = 43
observed["proto_second_id"] = int.from_bytes(ser(order, ctx)[1:5], "big")
# A breaking change is refused by the registry and reported by the client.
breaking = Schema(PROTOS["shop/order.proto"].replace("int64 id = 1;", "string id = 1;"),
                  "PROTOBUF", fetched.references)
observed["proto_breaking_compatible"] = client.test_compatibility("orders-value", breaking)

# ---- JSON Schema -----------------------------------------------------------

click_schema = json.dumps({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Click",
    "type": "object",
    "properties": {
        "user": {"type": "string", "minLength": 1},
        "at": {"type": "string", "format": "date-time"},
        "kind": {"enum": ["VIEW", "CLICK"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "geo": {"type": "object", "properties": {"lat": {"type": "number"},
                                                 "lon": {"type": "number"}},
                "required": ["lat", "lon"]},
        "ref": {"type": ["string", "null"]},
    },
    "required": ["user", "kind"],
    "additionalProperties": False,
})
jctx = SerializationContext("clicks", MessageField.VALUE)
jser = JSONSerializer(click_schema, client)
click = {"user": "ada", "at": "2024-01-02T03:04:05Z", "kind": "CLICK", "tags": ["a", "b"],
         "geo": {"lat": 52.5, "lon": 13.4}, "ref": None}
jframed = jser(click, jctx)
json_id = int.from_bytes(jframed[1:5], "big")
observed["json_id"] = json_id
observed["json_frame_hex"] = jframed.hex()
registered = client.get_schema(json_id)
observed["json_schema_type"] = registered.schema_type
observed["json_roundtrip"] = JSONDeserializer(registered.schema_str)(jframed, jctx) == click
try:
    jser({"user": "", "kind": "NOPE"}, jctx)
    observed["json_invalid_refused"] = False
except Exception:
    observed["json_invalid_refused"] = True

# The client's register and lookup with references (a subject with '/').
address = Schema(json.dumps({"type": "object", "properties": {"city": {"type": "string"}}}),
                 "JSON")
client.register_schema("refs/address.json", address)
customer = Schema(json.dumps({"type": "object", "properties": {"home": {"$ref": "address.json"}}}),
                  "JSON", [SchemaReference("address.json", "refs/address.json", 1)])
observed["json_ref_id"] = client.register_schema("customers-value", customer)
looked = client.lookup_schema("customers-value", customer)
observed["json_ref_lookup"] = {"id": looked.schema_id, "version": looked.version,
                               "references": [r["name"] if isinstance(r, dict) else r.name
                                              for r in looked.schema.references]}
latest = client.get_latest_version("refs/address.json")
observed["json_ref_target_latest"] = {"subject": latest.subject, "version": latest.version}
observed["subjects"] = client.get_subjects()

with open(out, "w") as f:
    json.dump(observed, f)
