#!/usr/bin/env bash
# ingest_kafkajs.sh — `sluice ingest` over HTTP (curl) → the mock cluster;
# read back by kafkajs and decoded by @kafkajs/confluent-schema-registry
# (avsc) against `sluice registry`, and by kcat: equal to what was sent,
# keyed, in order per key.
set -uo pipefail
SLUICE=${SLUICE_BIN:?} MOCK=${SLUICE_MOCK_KAFKA:?}
here=$(cd "$(dirname "$0")" && pwd)
if [[ ! -d $here/node_modules/@kafkajs/confluent-schema-registry ]]; then
  echo "FAIL npm packages missing: run scripts/setup.sh (npm ci --prefix tests/compat)"; exit 1
fi
source "${SLUICE_SOURCE_DIR:?}/scripts/lib.sh"
make_tmp ingest-compat
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; }
at_exit cleanup
addr_of() { # addr_of LOG: wait for "msg=listening addr=..." in LOG
  local a
  a=$(wait_log "$1" 'msg=listening addr=[^ ]*' 10) && echo "${a#msg=listening addr=}"
}

MOCK_LOG=$tmp/mock.log start_mock_kafka --brokers 1 --topic pages:3 || { bad "the mock broker did not start"; finish; }
bs=$bootstrap

"$SLUICE" registry --listen 127.0.0.1:0 --db "$tmp/reg.sqlite" >"$tmp/registry.log" 2>&1 &
pids+=($!)
reg="http://$(addr_of "$tmp/registry.log")"
schema='{"type":"record","name":"Page","fields":[{"name":"user","type":"string"},{"name":"url","type":"string"},{"name":"ms","type":"long"},{"name":"seq","type":"int"},{"name":"ref","type":["null","string"],"default":null},{"name":"kind","type":{"type":"enum","name":"Kind","symbols":["VIEW","CLICK"]}}]}'
body=$(node -e 'console.log(JSON.stringify({schema: process.argv[1]}))' "$schema")
curl -sf -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' -d "$body" "$reg/subjects/pages-value/versions" >/dev/null
expect "schema registered" $? 0

cat >"$tmp/sluice.yaml" <<YAML
metrics: {listen: 127.0.0.1:0}
kafka: {brokers: "$bs", properties: {compression.codec: gzip}}  # kafkajs reads gzip without a codec plugin
registry: {urls: ["$reg"]}
ingest:
  listen: 127.0.0.1:0
  topics: [{name: pages, key_field: user}]
YAML
"$SLUICE" ingest -c "$tmp/sluice.yaml" >"$tmp/ingest.log" 2>&1 &
ingest_pid=$!; pids+=("$ingest_pid")
for _ in $(seq 100); do grep -q 'sub=ingest msg=listening' "$tmp/ingest.log" && break; sleep 0.1; done
url="http://$(grep -o 'sub=ingest msg=listening addr=[^ ]*' "$tmp/ingest.log" | sed 's/.*addr=//')"

for i in $(seq 0 299); do
  ref=$([[ $((i % 3)) == 0 ]] && echo null || echo '{"string":"/r'$i'"}')
  kind=$([[ $((i % 2)) == 0 ]] && echo VIEW || echo CLICK)
  printf '{"user":"u%d","url":"/p/%d \\u00fc","ms":%d,"seq":%d,"ref":%s,"kind":"%s"}\n' $((i % 7)) "$i" $((1700000000000 + i)) "$i" "$ref" "$kind"
done >"$tmp/sent.ndjson"
# three requests of 100 events each, one after the other
for part in 0 1 2; do
  sed -n "$((part * 100 + 1)),$((part * 100 + 100))p" "$tmp/sent.ndjson" >"$tmp/part.ndjson"
  got=$(curl -s -w ' %{http_code}' -H 'Content-Type: application/x-ndjson' --data-binary @"$tmp/part.ndjson" "$url/v1/topics/pages")
  expect "request $part accepted" "$got" '{"accepted":100} 200'
done

got=$(cd "$here" && node ingest_kafkajs.js "$bs" pages "$reg" "$tmp/sent.ndjson" 2>"$tmp/node.log")
expect "kafkajs + avsc decode every event as sent" "$got" "ok 300"
[[ $got == "ok 300" ]] || sed 's/^/  | /' "$tmp/node.log"

got=$(kcat -b "$bs" -C -t pages -o beginning -e -q -f '%k\n' 2>"$tmp/kcat.log" | sort | uniq -c | awk '{print $1}' | paste -sd,)
expect "kcat reads 300 keyed messages (7 users)" "$got" "43,43,43,43,43,43,42"

kill -TERM "$ingest_pid"; wait "$ingest_pid"; expect "ingest SIGTERM exit status" $? 0
echo quit >&"${MOCK_CO[1]}"
finish
