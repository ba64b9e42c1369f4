#!/usr/bin/env bash
# run.sh — what `make run` starts (after setup and build).
#
# Today sluice's finished part is the Schema Registry (server and client),
# so this starts `sluice registry` on 127.0.0.1:8081 with its data under
# data/, registers an example schema through the REST API, reads it back,
# and keeps serving until Ctrl-C. Later parts (ingest, sink, `sluice run`)
# extend this script as they land.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=./build/sluice
LISTEN=${SLUICE_REGISTRY_LISTEN:-127.0.0.1:8081}
mkdir -p data
"$BIN" registry --listen "$LISTEN" --db data/registry.sqlite &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT INT TERM
url="http://$LISTEN"
for _ in $(seq 1 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.05; done
schema='{"type":"record","name":"Event","namespace":"example","fields":[{"name":"id","type":"long"},{"name":"kind","type":{"type":"enum","name":"Kind","symbols":["VIEW","CLICK"]}},{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}]}'
body=$(printf '{"schema":%s}' "$(printf '%s' "$schema" | /usr/bin/python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')")
echo
echo "== register events-value"
curl -s -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' --data "$body" "$url/subjects/events-value/versions"; echo
echo "== latest of events-value"
curl -s "$url/subjects/events-value/versions/latest"; echo
echo
echo "sluice registry is serving $url (data in data/registry.sqlite)."
echo "Try:  curl $url/subjects   curl $url/schemas/ids/1   curl $url/metrics"
echo "Ctrl-C stops it."
wait $pid
