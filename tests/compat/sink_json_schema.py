#!/usr/bin/python3
# sink_json_schema.py — the Python half of tests/compat/sink_json_schema.sh:
# JSON-Schema messages written by a producer no one here wrote, Debian's
# python3-confluent-kafka 1.7.0 (SerializingProducer + JSONSerializer,
# which auto-registers the draft-07 schema in `sluice registry` and
# validates every value with Debian's python3-jsonschema before framing
# it), and the check that what `sluice sink` put into ClickHouse is, column
# for column, what was sent (for these events and for the npm client's,
# tests/compat/sink_json_schema.js).
#
#   schema                 prints the schema (both producers register it;
#                          the npm one takes "geo" from another subject)
#   produce REGISTRY_URL BOOTSTRAP TOPIC N SENT_FILE
#                          N events to TOPIC (subject TOPIC-value), each
#                          written to SENT_FILE as the JSON text sent
#   check CLICKHOUSE_URL TABLE SENT_FILE
#                          every row of TABLE against the events sent, by
#                          id: prints "ok N" or the first difference
#
# What a column holds for an event follows the JSON plan's rules (docs/
# ARCHITECTURE.md, "Tables from schemas"): an absent property is the
# column's default (0, '', [], 0000-00-00, the nil UUID; NULL when
# Nullable), a date-time is whole seconds in a DateTime column (ClickHouse
# 18.16), several scalar types are the value's JSON text.
import datetime
import json
import math
import sys
import urllib.parse
import urllib.request
import uuid

GEO = {"type": ["object", "null"], "required": ["lat"],
       "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}}

SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Visit",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "user", "at"],
    "properties": {
        "id": {"type": "integer", "minimum": 0},
        "user": {"type": "string", "minLength": 1},
        "score": {"type": ["number", "null"]},
        "ok": {"type": "boolean"},
        "at": {"type": "string", "format": "date-time"},
        "day": {"type": "string", "format": "date"},
        "uid": {"type": "string", "format": "uuid"},
        "kind": {"enum": ["view", "click", None]},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
        "grid": {"type": "array", "items": {"type": "array", "items": {"type": ["integer", "null"]}}},
        "geo": GEO,
        "big": {"type": "integer"},
        "note": {"type": ["string", "integer", "boolean"]},
    },
}

COLUMNS = ["id", "user", "score", "ok", "at", "day", "uid", "kind", "tags", "grid", "geo.lat",
           "geo.lon", "big", "note"]


def event(i):
    tz = datetime.timezone(datetime.timedelta(hours=2, minutes=30))
    at = datetime.datetime(2024, 1, 1, tzinfo=tz) + datetime.timedelta(seconds=i * 97,
                                                                       microseconds=i * 13)
    e = {"id": i, "user": "u%d-\u00fc\u20ac\U0001F600" % i, "at": at.isoformat()}
    if i % 4 == 0:
        e["score"] = i + 0.1
    elif i % 4 == 1:
        e["score"] = None
    elif i % 4 == 2:
        e["score"] = i
    if i % 3:
        e["ok"] = i % 2 == 0
    if i % 5:
        e["day"] = (datetime.date(2024, 1, 1) + datetime.timedelta(days=i)).isoformat()
    if i % 6:
        e["uid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "visit/%d" % i))
    if i % 7:
        e["kind"] = ["view", "click", None][i % 3]
    e["tags"] = ["t%d" % k for k in range(i % 4)]
    if i % 2:
        e["grid"] = [[k, None] for k in range(i % 3)]
    if i % 4 == 0:
        e["geo"] = {"lat": i / 8, "lon": -i / 16}
    elif i % 4 == 1:
        e["geo"] = {"lat": 1.25}
    elif i % 4 == 2:
        e["geo"] = None
    e["big"] = 2 ** 62 + i
    e["note"] = ["s%d" % i, i, True, False][i % 4]
    return e


def produce(registry, bootstrap, topic, n, sent_file):
    from confluent_kafka import SerializingProducer
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.json_schema import JSONSerializer

    client = SchemaRegistryClient({"url": registry})
    serializer = JSONSerializer(json.dumps(SCHEMA), client)
    producer = SerializingProducer({"bootstrap.servers": bootstrap, "value.serializer": serializer})
    failures = []

    def report(err, msg):
        if err is not None:
            failures.append(str(err))

    with open(sent_file, "w") as f:
        for i in range(n):
            e = event(i)
            producer.produce(topic, value=e, on_delivery=report)
            producer.poll(0)
            f.write(json.dumps(e) + "\n")
    left = producer.flush(60)
    if left or failures:
        sys.exit("not delivered: %d left, %s" % (left, failures[:3]))


def expected(e):
    """The row ClickHouse should hold for event e (SELECT as in check)."""
    note = e.get("note", "")
    if isinstance(note, bool):
        note = "true" if note else "false"
    geo = e.get("geo") or {}
    at = datetime.datetime.fromisoformat(e["at"].replace("Z", "+00:00"))
    return {
        "id": e["id"], "user": e["user"], "score": e.get("score"), "ok": 1 if e.get("ok") else 0,
        "at": math.floor(at.timestamp()), "day": e.get("day", "0000-00-00"),
        "uid": e.get("uid", "00000000-0000-0000-0000-000000000000"), "kind": e.get("kind"),
        "tags": e.get("tags", []), "grid": e.get("grid", []), "geo.lat": geo.get("lat"),
        "geo.lon": geo.get("lon"), "big": e.get("big", 0), "note": str(note),
    }


def check(ch_url, table, sent_file):
    sent = [json.loads(line) for line in open(sent_file)]
    query = ("SELECT id, user, score, ok, toUnixTimestamp(at) AS at, day, uid, kind, tags, grid, "
             "`geo.lat`, `geo.lon`, big, note FROM %s ORDER BY id FORMAT JSONEachRow" % table)
    url = ch_url + "/?" + urllib.parse.urlencode({"output_format_json_quote_64bit_integers": "0"})
    with urllib.request.urlopen(url, data=query.encode(), timeout=60) as r:
        rows = [json.loads(line) for line in r.read().decode().splitlines()]
    if len(rows) != len(sent):
        print("FAIL %d rows in %s, %d events sent" % (len(rows), table, len(sent)))
        return
    for e, row in zip(sorted(sent, key=lambda x: x["id"]), rows):
        want = expected(e)
        for c in COLUMNS:
            if row[c] != want[c]:
                print("FAIL %s id %d column %s: %r, sent %r (expected %r)"
                      % (table, e["id"], c, row[c], json.dumps(e), want[c]))
                return
    print("ok %d" % len(rows))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "schema":
        print(json.dumps(SCHEMA))
    elif cmd == "produce":
        produce(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
    elif cmd == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: sink_json_schema.py schema | produce ... | check ...")
