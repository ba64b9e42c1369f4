#!/usr/bin/env bash
# run_backpressure.sh — `sluice run`'s end-to-end back pressure on its
# embedded Kafka, whose partitions keep only about 5 MiB and drop older data
# silently:
#  - with ClickHouse stopped (the sink cannot land anything, so nothing is
#    committed), keep pushing incompressible events (~220 bytes of Avro
#    each), up to 40 MiB — eight times what the two partitions can hold;
#  - ingest must start answering 429 (with Retry-After and the reason), and
#    no partition's log start offset may have moved: nothing acknowledged
#    was dropped by the broker;
#  - start ClickHouse again: every acknowledged event lands, exactly those
#    ids, and ingest accepts again;
#  - the same with compressible events (each ~4x smaller in the broker's
#    lz4 record batches) on a second topic: the guard counts the log's
#    bytes, which ingest's producer measures, so it takes at least twice as
#    many events before its 429s — and still nothing is dropped, and every
#    acknowledged event lands; SIGTERM → exit 0.
# Without the guard the push would run to 40 MiB and the broker would drop
# the oldest batches (log start > 0), which this test would report.
set -uo pipefail
SRC=${SLUICE_SOURCE_DIR:?}
BIN=${SLUICE_BIN:?}
source "${SLUICE_SOURCE_DIR:?}/scripts/lib.sh"
make_tmp run-bp
sluice_pid=
cleanup() {
  [[ -n $sluice_pid ]] && kill -9 "$sluice_pid" 2>/dev/null
  "$SRC/scripts/clickhouse.sh" stop "$tmp/ch" >/dev/null 2>&1
}
at_exit cleanup

ch_port=$(free_port)
"$SRC/scripts/clickhouse.sh" start "$tmp/ch" "$ch_port" >/dev/null || { echo "ClickHouse did not start"; exit 1; }
ch() { curl -sS "http://127.0.0.1:$ch_port/" --data-binary "$1"; }
ch "CREATE TABLE bp (id Int64, blob String) ENGINE = MergeTree ORDER BY id"
ch "CREATE TABLE bpz (id Int64, blob String) ENGINE = MergeTree ORDER BY id"

ingest=127.0.0.1:$(free_port) metrics=127.0.0.1:$(free_port) registry=127.0.0.1:$(free_port)
schema='{"type":"record","name":"B","fields":[{"name":"id","type":"long"},{"name":"blob","type":"string"}]}'
printf '%s\n' "$schema" >"$tmp/bp.avsc"
cat >"$tmp/sluice.yaml" <<EOF
metrics: {listen: "$metrics"}
clickhouse: {url: "http://127.0.0.1:$ch_port"}
ingest:
  listen: "$ingest"
  topics: [{name: bp, value_schema_file: "$tmp/bp.avsc"}, {name: bpz, value_schema_file: "$tmp/bp.avsc"}]
sink:
  group_id: bp
  routes:
    - {topic: bp, table: default.bp, batch: {max_age: 200ms}}
    - {topic: bpz, table: default.bpz, batch: {max_age: 200ms}}
run:
  data_dir: "$tmp/data"
  registry_listen: "$registry"
  partitions: 2
EOF
"$BIN" run -c "$tmp/sluice.yaml" >"$tmp/sluice.log" 2>&1 &
sluice_pid=$!
wait_ready "$metrics" 60 && ok "sluice run ready" ||
  { bad "sluice run not ready"; cat "$tmp/sluice.log"; exit 1; }
grep -q 'EMBEDDED, IN-MEMORY Kafka' "$tmp/sluice.log" && ok "the embedded-Kafka warning is logged" || bad "no warning"
bootstrap=$(grep -o 'bootstrap=[0-9.:,]*' "$tmp/sluice.log" | head -1 | cut -d= -f2)


"$SRC/scripts/clickhouse.sh" stop "$tmp/ch" >/dev/null
ok "ClickHouse stopped"

# Push 1000-event requests to topic $1 until ten 429s in a row or $3 MiB
# of events; write the acknowledged ids to $2 and a summary line. Blobs are
# random ($4 = random: incompressible) or a random 40-character piece said
# five times ($4 = repeated: lz4 takes it to about a quarter). Ids from $5
# (default 0).
push() {
/usr/bin/python3 - "$ingest" "$1" "$2" "$3" "$4" "${5:-0}" <<'PY'
import http.client, json, random, string, sys
host, port = sys.argv[1].split(":")
topic, out, cap, kind = sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
conn = http.client.HTTPConnection(host, int(port), timeout=60)
rnd = random.Random(7)
alpha = string.ascii_letters + string.digits
def blob():
    if kind == "random":
        return "".join(rnd.choices(alpha, k=200))
    return "".join(rnd.choices(alpha, k=40)) * 5
acked, pushed, next_id, in_a_row, n429, retry_after, why = [], 0, int(sys.argv[6]), 0, 0, None, ""
while pushed < cap * 1024 * 1024 and in_a_row < 10:
    ids = range(next_id, next_id + 1000)
    next_id += 1000
    body = "".join(json.dumps({"id": i, "blob": blob()}) + "\n" for i in ids)
    conn.request("POST", "/v1/topics/" + topic, body=body.encode(), headers={"Content-Type": "application/x-ndjson"})
    r = conn.getresponse()
    text = r.read().decode()
    if r.status == 200:
        acked.extend(ids); in_a_row = 0; pushed += 220 * 1000
    elif r.status == 429:
        n429 += 1; in_a_row += 1; retry_after = r.getheader("Retry-After"); why = text
    else:
        print("unexpected %d %s" % (r.status, text)); sys.exit(1)
open(out, "w").write("\n".join(map(str, acked)))
print("acked=%d n429=%d retry_after=%s sum=%d" % (len(acked), n429, retry_after, sum(acked)))
print("why=" + why)
PY
}
# A field of push's summary line: field NAME FILE.
field() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" "$2"; }

# The broker dropped nothing: the first offset still present is 0 in every
# partition of topic $1 that has data ($2: a prefix for the messages).
starts_at_zero() {
  for p in 0 1; do
    first=$(kcat -b "$bootstrap" -C -t "$1" -p "$p" -o beginning -c 1 -e -q -f '%o' 2>/dev/null)
    [[ $first == 0 ]] && ok "$2partition $p still starts at offset 0" || bad "$2partition $p starts at '$first'"
  done
}

# Every acknowledged event of table $1 ($4: a WHERE clause or empty) is in
# ClickHouse, exactly once: count $2 with id sum $3, waiting up to $5
# tries of 0.2 s ($6: a prefix for the messages).
all_landed() {
  got=
  for _ in $(seq 1 "$5"); do
    got=$(ch "SELECT count(), uniqExact(id), sum(id) FROM $1 $4" 2>/dev/null)
    [[ $got == "$2"$'\t'"$2"$'\t'"$3" ]] && break
    sleep 0.2
  done
  [[ $got == "$2"$'\t'"$2"$'\t'"$3" ]] && ok "${6}every acknowledged event landed, exactly those ids ($2)" ||
    bad "${6}ClickHouse has '$got', acknowledged $2 (sum $3)"
}

push bp "$tmp/acked" 40 random >"$tmp/push.out"
cat "$tmp/push.out"
acked=$(field acked "$tmp/push.out")
n429=$(field n429 "$tmp/push.out")
sum=$(field sum "$tmp/push.out")
(( n429 > 0 )) && ok "ingest answered 429 ($n429 times) with ClickHouse down" || bad "no 429 after $acked events"
grep -q 'retry_after=[0-9]' "$tmp/push.out" && ok "429 carries Retry-After" || bad "no Retry-After"
grep -q 'why=.*embedded Kafka: topic bp has about' "$tmp/push.out" && ok "429 says why" || bad "429 body"
(( acked > 20000 )) && ok "it accepted $acked events first (the limit is per partition, ~4 MiB)" || bad "only $acked accepted"
refusals=$(curl -s "http://$metrics/metrics" | awk '/^sluice_run_backlog_refusals_total/ {print $2}')
(( refusals == n429 )) && ok "sluice_run_backlog_refusals_total = $refusals" || bad "refusals metric $refusals"

starts_at_zero bp ""

"$SRC/scripts/clickhouse.sh" start "$tmp/ch" "$ch_port" >/dev/null && ok "ClickHouse started again"
all_landed bp "$acked" "$sum" "" 600 ""

code=
for _ in $(seq 1 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"id":-1,"blob":"after"}' "http://$ingest/v1/topics/bp")
  [[ $code == 200 ]] && break
  sleep 0.2
done
[[ $code == 200 ]] && ok "ingest accepts again once the sink caught up" || bad "still $code"

# Compressible events: counted at their size in the log, which ingest's
# producer reports once a second — so some flow first (an outage starts
# while events flow), then ClickHouse stops.
push bpz "$tmp/warm_z" 1 repeated 10000000 >"$tmp/warm_z.out"
for _ in $(seq 1 100); do
  [[ $(ch "SELECT count() FROM bpz" 2>/dev/null) == 5000 ]] && break
  sleep 0.2
done
[[ $(ch "SELECT count() FROM bpz") == 5000 ]] && ok "compressible: 5000 events flowed first" || bad "compressible: warm-up did not land"
sleep 2.5
"$SRC/scripts/clickhouse.sh" stop "$tmp/ch" >/dev/null
ok "ClickHouse stopped again"
push bpz "$tmp/acked_z" 160 repeated >"$tmp/push_z.out"
cat "$tmp/push_z.out"
acked_z=$(field acked "$tmp/push_z.out")
n429_z=$(field n429 "$tmp/push_z.out")
sum_z=$(field sum "$tmp/push_z.out")
(( n429_z > 0 )) && ok "compressible: ingest answered 429 ($n429_z times)" || bad "compressible: no 429 after $acked_z events"
(( acked_z >= 2 * acked )) && ok "compressible: $acked_z events taken first, at least twice the $acked incompressible ones" ||
  bad "compressible: only $acked_z events taken (incompressible: $acked): the guard does not count the log's bytes"
starts_at_zero bpz "compressible: "
"$SRC/scripts/clickhouse.sh" start "$tmp/ch" "$ch_port" >/dev/null && ok "ClickHouse started again"
all_landed bpz "$acked_z" "$sum_z" "WHERE id < 10000000" 900 "compressible: "

kill -TERM "$sluice_pid"; wait "$sluice_pid"; st=$?; sluice_pid=
[[ $st == 0 ]] && ok "SIGTERM → exit 0" || { bad "exit $st"; tail -20 "$tmp/sluice.log"; }
finish
