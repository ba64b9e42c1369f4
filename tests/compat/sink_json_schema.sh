#!/usr/bin/env bash
# sink_json_schema.sh — JSON-Schema messages from producers no one here
# wrote, through `sluice sink` into ClickHouse, every column compared:
#
#  - Debian's python3-confluent-kafka 1.7.0 SerializingProducer with its
#    JSONSerializer (draft-07 schema, auto-registered in `sluice registry`,
#    every value validated by python3-jsonschema), into topic visits_py;
#  - @kafkajs/confluent-schema-registry (ajv) + kafkajs, into visits_node,
#    the same schema with its "geo" property a $ref into another subject
#    (refs/geo), so the sink and `sluice ddl` resolve a reference;
#  - each table is made by `sluice ddl` from the subject the producer
#    registered (for the server's own version), the sink (librdkafka's mock
#    cluster) validates and lands every message — nothing dead-lettered —
#    and tests/compat/sink_json_schema.py compares every column of every
#    row with the JSON text each producer sent: Unicode escapes and raw
#    UTF-8, NULL against absent against defaults, date-times with offsets,
#    64-bit integers, nested arrays with nulls, a nullable object
#    flattened, several scalar types as text.
set -uo pipefail
SLUICE=${SLUICE_BIN:?}
SRC=${SLUICE_SOURCE_DIR:?}
here=$(cd "$(dirname "$0")" && pwd)
if [[ ! -d $here/node_modules/@kafkajs/confluent-schema-registry ]]; then
  echo "FAIL npm packages missing: run scripts/setup.sh (npm ci --prefix tests/compat)"; exit 1
fi
source "$SRC/scripts/lib.sh"
make_tmp sink-json-schema
N=300

MOCK_LOG=$tmp/mock.log start_mock_kafka --brokers 1 --topic visits_py:2 --topic visits_node:2 ||
  { bad "the mock broker did not start"; finish; }
bs=$bootstrap
"$SLUICE" registry --listen 127.0.0.1:0 --db "$tmp/reg.sqlite" >"$tmp/registry.log" 2>&1 &
track_pid $!
reg="http://$(wait_log "$tmp/registry.log" 'msg=listening addr=[^ ]*' 10 | sed 's/.*addr=//')"
ch_port=$(free_port)
at_exit "'$SRC/scripts/clickhouse.sh' stop '$tmp/ch'"
"$SRC/scripts/clickhouse.sh" start "$tmp/ch" "$ch_port" >/dev/null || { bad "ClickHouse did not start"; finish; }
ch_url=http://127.0.0.1:$ch_port
ch() { curl -sS "$ch_url/" --data-binary "$1"; }

# The producers register their subjects and produce N messages each.
got=$(/usr/bin/python3 "$here/sink_json_schema.py" produce "$reg" "$bs" visits_py "$N" "$tmp/py.jsonl" 2>"$tmp/python.log" && echo done)
expect "python-confluent-kafka registered and produced $N messages" "$got" done
[[ $got == done ]] || sed 's/^/  | /' "$tmp/python.log"
schema=$(/usr/bin/python3 "$here/sink_json_schema.py" schema)
got=$(cd "$here" && node sink_json_schema.js "$reg" "$bs" visits_node "$N" "$tmp/node.jsonl" "$schema" 2>"$tmp/node.log")
expect "@kafkajs/confluent-schema-registry registered and produced $N messages" "$got" "ok $N"
[[ $got == "ok $N" ]] || sed 's/^/  | /' "$tmp/node.log"
expect "both subjects are JSON" "$(curl -s "$reg/subjects/visits_py-value/versions/latest" | grep -o '"schemaType":"JSON"') $(curl -s "$reg/subjects/visits_node-value/versions/latest" | grep -o '"schemaType":"JSON"')" '"schemaType":"JSON" "schemaType":"JSON"'

# The tables, from the subjects, for this server.
version=$(ch 'SELECT version()')
for t in visits_py visits_node; do
  "$SLUICE" ddl --registry "$reg" --subject "$t-value" --table "default.$t" --order-by id \
    --clickhouse-version "$version" >"$tmp/$t.sql" 2>"$tmp/ddl.log"
  expect "sluice ddl for $t-value" $? 0
  out=$(ch "$(cat "$tmp/$t.sql")")
  expect "ClickHouse $version ran it" "$out" ""
done
grep -q '^    `geo.lat` Nullable(Float64),$' "$tmp/visits_node.sql" &&
  ok "  ... the referenced subject's object flattened (geo.lat)" || bad "no geo.lat in: $(cat "$tmp/visits_node.sql")"

cat >"$tmp/sink.yaml" <<YAML
metrics: {listen: 127.0.0.1:0}
kafka: {brokers: "$bs"}
clickhouse: {url: "$ch_url"}
registry: {urls: ["$reg"]}
sink:
  group_id: outside-json
  routes:
    - {topic: visits_py, table: default.visits_py, batch: {max_age: 200ms}}
    - {topic: visits_node, table: default.visits_node, batch: {max_age: 200ms}}
YAML
"$SLUICE" sink -c "$tmp/sink.yaml" >"$tmp/sink.log" 2>&1 &
sink_pid=$!
track_pid "$sink_pid"
metrics=$(wait_log "$tmp/sink.log" 'sub=metrics msg=listening addr=[^ ]*' 15 | sed 's/.*addr=//')
for t in visits_py visits_node; do
  for ((i = 0; i < 1200; i++)); do
    [[ $(ch "SELECT count() FROM $t") -ge $N ]] && break
    sleep 0.1
  done
done
dlq=$(curl -s "http://$metrics/metrics" | awk '/^sluice_sink_dlq_messages_total/ {s += $2} END {print s + 0}')
expect "nothing dead-lettered" "$dlq" 0
stop_pid "$sink_pid" 30
for t in py node; do
  got=$(/usr/bin/python3 "$here/sink_json_schema.py" check "$ch_url" "visits_$t" "$tmp/$t.jsonl")
  expect "visits_$t: every column of every row as sent" "$got" "ok $N"
done
grep -q 'level=error' "$tmp/sink.log" && bad "the sink logged errors: $(grep -m3 level=error "$tmp/sink.log")"
finish
