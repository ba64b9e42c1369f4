#!/usr/bin/env bash
# ingest_types.sh — `sluice ingest` for PROTOBUF and JSON subjects, over
# HTTP (curl) into the mock cluster, read back by clients no one here wrote:
#
#  - events (shop.Event, .proto importing google/protobuf/timestamp.proto
#    and wrappers.proto, with a nested message, an enum and a map) and
#    pings (shop.Ping, the file's second message: protobuf_message, with
#    protobuf_index_encoding: plain) sent as proto3 JSON; Debian's
#    python3-confluent-kafka 1.7.0 Consumer + ProtobufDeserializer (classes
#    from Debian's protoc) decodes every message to what
#    google.protobuf.json_format makes of the event sent
#    (tests/compat/ingest_types.py);
#  - clicks (a JSON Schema with an in-document $ref) validated and framed;
#    their JSONDeserializer (python3-jsonschema) and
#    @kafkajs/confluent-schema-registry (ajv) decode every message to the
#    event sent; visits (a JSON Schema that references another subject's
#    document) decoded by the npm client, which resolves the reference from
#    our registry;
#  - bad events: 422 naming index, path and reason, nothing produced (all
#    or nothing); a subject whose JSON Schema uses a keyword outside the
#    subset, or a protobuf_message the file lacks, stops ingest at start
#    (exit 2) naming it.
set -uo pipefail
SLUICE=${SLUICE_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
if [[ ! -d $here/node_modules/@kafkajs/confluent-schema-registry ]]; then
  echo "FAIL npm packages missing: run scripts/setup.sh (npm ci --prefix tests/compat)"; exit 1
fi
source "${SLUICE_SOURCE_DIR:?}/scripts/lib.sh"
make_tmp ingest-types

MOCK_LOG=$tmp/mock.log start_mock_kafka --brokers 1 --topic events:2 --topic pings:1 \
  --topic clicks:2 --topic visits:1 || { bad "the mock broker did not start"; finish; }
bs=$bootstrap

"$SLUICE" registry --listen 127.0.0.1:0 --db "$tmp/reg.sqlite" >"$tmp/registry.log" 2>&1 &
track_pid $!
reg="http://$(wait_log "$tmp/registry.log" 'msg=listening addr=[^ ]*' 10 | sed 's/.*addr=//')"

# register SUBJECT TYPE SCHEMA_TEXT [REFERENCES_JSON]
register() {
  local body
  body=$(/usr/bin/python3 -c 'import json,sys; print(json.dumps({"schema": sys.argv[1], "schemaType": sys.argv[2], "references": json.loads(sys.argv[3])}))' "$3" "$2" "${4:-[]}")
  curl -sS -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' --data "$body" \
    "$reg/subjects/$1/versions"
}
proto=$(/usr/bin/python3 "$here/ingest_types.py" proto)
expect "events-value registered" "$(register events-value PROTOBUF "$proto" | grep -o '"id"')" '"id"'
expect "pings-value registered" "$(register pings-value PROTOBUF "$proto" | grep -o '"id"')" '"id"'
cat >"$tmp/clicks.json" <<'JSON'
{"$schema": "http://json-schema.org/draft-07/schema#", "title": "Click", "type": "object",
 "additionalProperties": false, "required": ["user", "page", "at", "kind"],
 "properties": {
   "user": {"type": "string", "minLength": 1},
   "page": {"type": "string", "pattern": "^/"},
   "at": {"type": "string", "format": "date-time"},
   "ms": {"type": "integer", "minimum": 0},
   "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
   "kind": {"enum": ["view", "click"]},
   "ref": {"type": ["object", "null"], "$comment": "in-document $ref below",
           "properties": {"host": {"$ref": "#/definitions/host"}, "path": {"type": "string"}}}},
 "definitions": {"host": {"type": "string", "maxLength": 64}}}
JSON
expect "clicks-value registered" "$(register clicks-value JSON "$(cat "$tmp/clicks.json")" | grep -o '"id"')" '"id"'
address='{"$id": "https://example.com/address.json", "type": "object", "required": ["zip"], "properties": {"zip": {"type": "string", "minLength": 5}, "city": {"type": "string"}}}'
expect "refs/address.json registered" "$(register refs%2Faddress.json JSON "$address" | grep -o '"id"')" '"id"'
visits='{"type": "object", "required": ["who", "where"], "properties": {"who": {"type": "string"}, "where": {"$ref": "https://example.com/address.json"}}}'
expect "visits-value registered" "$(register visits-value JSON "$visits" '[{"name":"https://example.com/address.json","subject":"refs/address.json","version":1}]' | grep -o '"id"')" '"id"'
register badjson-value JSON '{"type": "object", "properties": {"tags": {"type": "array", "uniqueItems": true}}}' >/dev/null

cat >"$tmp/sluice.yaml" <<YAML
metrics: {listen: 127.0.0.1:0}
kafka: {brokers: "$bs", properties: {compression.codec: gzip}}  # kafkajs reads gzip without a codec plugin
registry: {urls: ["$reg"]}
ingest:
  listen: 127.0.0.1:0
  topics:
    - {name: events}
    - {name: pings, protobuf_message: shop.Ping, protobuf_index_encoding: plain}
    - {name: clicks}
    - {name: visits}
YAML
"$SLUICE" ingest -c "$tmp/sluice.yaml" >"$tmp/ingest.log" 2>&1 &
ingest_pid=$!
track_pid "$ingest_pid"
addr=$(wait_log "$tmp/ingest.log" 'sub=ingest msg=listening addr=[^ ]*' 15 | sed 's/.*addr=//')
[[ -n $addr ]] || { bad "ingest did not start: $(tail -3 "$tmp/ingest.log")"; finish; }
url="http://$addr"

/usr/bin/python3 "$here/ingest_types.py" gen "$tmp"
post() { # post TOPIC FILE: "<body> <status>"
  curl -s -w ' %{http_code}' -H 'Content-Type: application/x-ndjson' --data-binary @"$2" "$url/v1/topics/$1"
}
expect "events accepted" "$(post events "$tmp/events.ndjson")" '{"accepted":120} 200'
expect "pings accepted" "$(post pings "$tmp/pings.ndjson")" '{"accepted":120} 200'
expect "clicks accepted" "$(post clicks "$tmp/clicks.ndjson")" '{"accepted":120} 200'
for i in $(seq 0 29); do
  printf '{"who":"w%d","where":{"zip":"%05d","city":"c%d"}}\n' "$i" "$((10000 + i))" "$i"
done >"$tmp/visits.ndjson"
expect "visits accepted" "$(post visits "$tmp/visits.ndjson")" '{"accepted":30} 200'

# All or nothing: one bad event among good ones, every problem named.
printf '%s\n' '{"id":1,"status":"PAID"}' \
  '{"id":"x1","status":"GONE","at":"yesterday","lines":[{"qty":-2}],"nope":1}' \
  '{"id":3}' >"$tmp/bad-events.ndjson"
got=$(post events "$tmp/bad-events.ndjson")
expect "a bad Protobuf event: 422" "${got##* }" 422
/usr/bin/python3 - "$got" <<'PY' || bad "the 422 names every problem of event 1"
import json, sys
body = json.loads(sys.argv[1].rsplit(" ", 1)[0])
want = [{"index": 1, "path": "$.id", "message": "'x1' is not an integer"},
        {"index": 1, "path": "$.status", "message": "'GONE' is not a value of enum shop.Status"},
        {"index": 1, "path": "$.at", "message": "'yesterday' is not an RFC 3339 timestamp: bad syntax"},
        {"index": 1, "path": "$.lines[0].qty", "message": "-2 does not fit in uint32"},
        {"index": 1, "path": "$.nope", "message": "unknown field 'nope' (message shop.Event)"}]
assert body["errors"] == want, body
assert body["error"].startswith("1 of 3 events do not match the schema"), body
print("ok   the 422 names every problem of event 1")
PY
printf '%s\n' '{"user":"u","page":"/","at":"2024-01-01T00:00:00Z","kind":"view"}' \
  '{"user":"","page":"nope","at":"2024-01-01","kind":"buy","ms":-1,"extra":true}' >"$tmp/bad-clicks.ndjson"
got=$(post clicks "$tmp/bad-clicks.ndjson")
expect "a bad JSON-Schema event: 422" "${got##* }" 422
/usr/bin/python3 - "$got" <<'PY' || bad "the 422 names every problem of the click"
import json, sys
body = json.loads(sys.argv[1].rsplit(" ", 1)[0])
paths = [(e["index"], e["path"]) for e in body["errors"]]
assert paths == [(1, "$.user"), (1, "$.page"), (1, "$.at"), (1, "$.kind"), (1, "$.ms"), (1, "$.extra")], paths
assert "fewer than minLength 1" in body["errors"][0]["message"], body
assert body["errors"][5]["message"] == "property 'extra' is not allowed (additionalProperties is false)", body
print("ok   the 422 names every problem of the click")
PY
got=$(curl -s -w ' %{http_code}' -H 'Content-Type: application/json' -d '{"id":1,' "$url/v1/topics/events")
expect "malformed JSON: 400 with line and column" "$(grep -o 'line 1, column [0-9]*' <<<"$got" | head -1) ${got##* }" "line 1, column 9 400"

got=$(/usr/bin/python3 "$here/ingest_types.py" check "$bs" "$tmp/py" "$tmp" "$tmp/clicks.json" 2>"$tmp/python.log")
expect "python-confluent-kafka 1.7.0 decodes events, pings and clicks as sent (and nothing of the bad requests)" "$got" "ok 120 120 120"
[[ $got == "ok 120 120 120" ]] || sed 's/^/  | /' "$tmp/python.log"
for t in clicks visits; do
  n=$(wc -l <"$tmp/$t.ndjson")
  got=$(cd "$here" && node ingest_types.js "$bs" "$t" "$reg" "$tmp/$t.ndjson" 2>"$tmp/node-$t.log")
  expect "@kafkajs/confluent-schema-registry decodes $t as sent" "$got" "ok $n"
  [[ $got == "ok $n" ]] || sed 's/^/  | /' "$tmp/node-$t.log"
done
stop_pid "$ingest_pid"

# Refused at start, naming what and where.
sed 's/- {name: visits}/- {name: badjson}/' "$tmp/sluice.yaml" >"$tmp/bad.yaml"
"$SLUICE" ingest -c "$tmp/bad.yaml" >"$tmp/bad.log" 2>&1
expect "a JSON Schema outside the subset: exit 2" $? 2
grep -q 'ingest.topics\[3\] (badjson): schema [0-9]* does not compile: #/properties/tags/uniqueItems: keyword uniqueItems is not supported' "$tmp/bad.log" &&
  ok "  ... naming the topic, the keyword and its place" || bad "bad schema message: $(tail -2 "$tmp/bad.log")"
sed 's/protobuf_message: shop.Ping/protobuf_message: shop.Pong/' "$tmp/sluice.yaml" >"$tmp/bad2.yaml"
"$SLUICE" ingest -c "$tmp/bad2.yaml" >"$tmp/bad2.log" 2>&1
expect "a protobuf_message the schema lacks: exit 2" $? 2
grep -q 'ingest.topics\[1\] (pings): schema [0-9]*: no message shop.Pong' "$tmp/bad2.log" &&
  ok "  ... naming the topic and the message" || bad "bad message message: $(tail -2 "$tmp/bad2.log")"
finish
