#!/usr/bin/env bash
# run_reload.sh — SIGHUP on `sluice run` (embedded Kafka and registry,
# ClickHouse 18.16), where one reload touches every part:
#  - events land through the first configuration;
#  - a reload adds an ingest topic and its route, moves the embedded
#    registry and /metrics to other ports and changes the backlog limit:
#    the log names every part restarted, the old ports close, the new ones
#    serve, and events of both topics land, every one, once;
#  - a key that needs a restart (run.brokers) and a broken file are
#    refused with the reason (the file's line), counted as errors, and
#    change nothing; `sluice registry` logs SIGHUP and goes on;
#  - SIGTERM still drains: exit 0.
set -uo pipefail
SRC=${SLUICE_SOURCE_DIR:?}
BIN=${SLUICE_BIN:?}
source "$SRC/scripts/lib.sh"
make_tmp run-reload
sluice_pid=
cleanup() {
  [[ -n $sluice_pid ]] && kill -9 "$sluice_pid" 2>/dev/null
  "$SRC/scripts/clickhouse.sh" stop "$tmp/ch" >/dev/null 2>&1
}
at_exit cleanup

ch_port=$(free_port)
"$SRC/scripts/clickhouse.sh" start "$tmp/ch" "$ch_port" >/dev/null || { echo "ClickHouse did not start"; exit 1; }
ch() { curl -sS "http://127.0.0.1:$ch_port/" --data-binary "$1"; }
ch "CREATE TABLE r1 (id Int64) ENGINE = MergeTree ORDER BY id"
ch "CREATE TABLE r2 (id Int64) ENGINE = MergeTree ORDER BY id"

ingest=127.0.0.1:$(free_port) metrics=127.0.0.1:$(free_port) registry=127.0.0.1:$(free_port)
metrics2=127.0.0.1:$(free_port) registry2=127.0.0.1:$(free_port)
config() { # METRICS REGISTRY LIMIT [EXTRA TOPIC]
  local topic="" route=""
  if [[ -n ${4:-} ]]; then
    topic="    - {name: $4, schema: none}"
    route="    - {topic: $4, table: default.$4, batch: {max_age: 200ms}}"
  fi
  cat >"$tmp/sluice.yaml" <<EOF
metrics: {listen: "$1"}
clickhouse: {url: "http://127.0.0.1:$ch_port"}
ingest:
  listen: "$ingest"
  topics:
    - {name: r1, schema: none}
$topic
sink:
  group_id: reload
  routes:
    - {topic: r1, table: default.r1, batch: {max_age: 200ms}}
$route
run:
  data_dir: "$tmp/data"
  registry_listen: "$2"
  partitions: 2
  backlog_limit: $3
EOF
}
post() { # TOPIC FIRST N: ids FIRST..FIRST+N-1 as NDJSON; prints the status
  /usr/bin/python3 -c 'import sys; f, n = int(sys.argv[1]), int(sys.argv[2]); sys.stdout.write("".join("{\"id\":%d}\n" % i for i in range(f, f + n)))' "$2" "$3" |
    curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-ndjson' --data-binary @- "http://$ingest/v1/topics/$1"
}
wait_rows() { # TABLE N: until uniqExact(id) = N (60 s)
  local i
  for ((i = 0; i < 600; i++)); do
    [[ $(ch "SELECT uniqExact(id) FROM $1") == "$2" ]] && return 0
    sleep 0.1
  done
  return 1
}
metric() { curl -s "http://$1/metrics" | awk -v s="$2" '$1 == s {print $2}'; }

config "$metrics" "$registry" 4MiB
"$BIN" run -c "$tmp/sluice.yaml" >"$tmp/sluice.log" 2>&1 &
sluice_pid=$!
wait_ready "$metrics" 60 && ok "sluice run ready" || { bad "not ready"; tail -20 "$tmp/sluice.log"; exit 1; }
expect "1000 events to r1" "$(post r1 0 1000)" 200
wait_rows r1 1000 && ok "r1: 1000 rows" || bad "r1: $(ch 'SELECT count() FROM r1') rows"

# Every part touched at once.
config "$metrics2" "$registry2" 3MiB r2
kill -HUP "$sluice_pid"
line=$(wait_log "$tmp/sluice.log" 'msg="configuration reloaded".*' 120) && ok "reloaded" ||
  { bad "no reload"; tail -30 "$tmp/sluice.log"; }
for part in registry "registry client" sink "backlog guard" ingest metrics; do
  [[ $line == *"$part"* ]] && ok "restarted: $part" || bad "not restarted: $part ($line)"
done
wait_ready "$metrics2" 60 && ok "/readyz on the new metrics port" || bad "new metrics port not ready"
port_free "${metrics#*:}" && ok "the old metrics port is closed" || bad "old metrics port still open"
port_free "${registry#*:}" && ok "the old registry port is closed" || bad "old registry port still open"
expect "the registry on its new port" "$(curl -s -o /dev/null -w '%{http_code}' "http://$registry2/subjects")" 200
expect "1000 more events to r1" "$(post r1 1000 1000)" 200
expect "1000 events to the new topic r2" "$(post r2 0 1000)" 200
wait_rows r1 2000 && ok "r1: 2000 ids" || bad "r1: $(ch 'SELECT uniqExact(id) FROM r1') ids"
wait_rows r2 1000 && ok "r2: 1000 ids" || bad "r2: $(ch 'SELECT uniqExact(id) FROM r2') ids"
expect "r1: no duplicates" "$(ch 'SELECT count() - uniqExact(id) FROM r1')" 0
expect "sluice_config_reloads_total ok" "$(metric "$metrics2" 'sluice_config_reloads_total{result="ok"}')" 1
hash=$(sha256sum "$tmp/sluice.yaml" | cut -d' ' -f1)
expect "sluice_config_info names the file's hash" \
  "$(metric "$metrics2" "sluice_config_info{hash=\"sha256:$hash\"}")" 1
expect "the new backlog limit" "$(metric "$metrics2" sluice_run_backlog_limit_bytes)" 3145728

# Refused: a key that needs a restart, then a broken file.
sed -i 's/^  partitions: 2$/  partitions: 2\n  brokers: 3/' "$tmp/sluice.yaml"
kill -HUP "$sluice_pid"
wait_log "$tmp/sluice.log" 'reason="run.brokers changes only when the process restarts' 30 >/dev/null &&
  ok "run.brokers refused: needs a restart" || bad "run.brokers not refused"
printf 'sink:\n  group_id: reload\n  writerz: 3\n' >"$tmp/sluice.yaml"
kill -HUP "$sluice_pid"
wait_log "$tmp/sluice.log" "invalid configuration\" error=\"$tmp/sluice.yaml:3:3: sink.writerz: unknown key" 30 >/dev/null &&
  ok "the broken file's error is logged with its line" || bad "no error with a line"
for ((i = 0; i < 100; i++)); do
  [[ $(metric "$metrics2" 'sluice_config_reloads_total{result="error"}') == 2 ]] && break
  sleep 0.1
done
expect "sluice_config_reloads_total error" "$(metric "$metrics2" 'sluice_config_reloads_total{result="error"}')" 2
expect "sluice_config_last_reload_successful" "$(metric "$metrics2" sluice_config_last_reload_successful)" 0
expect "still the applied file's hash" "$(metric "$metrics2" "sluice_config_info{hash=\"sha256:$hash\"}")" 1
expect "still accepting" "$(post r2 1000 500)" 200
wait_rows r2 1500 && ok "r2: 1500 ids" || bad "r2: $(ch 'SELECT uniqExact(id) FROM r2') ids"

kill -TERM "$sluice_pid"
wait "$sluice_pid"
expect "SIGTERM: exit 0" "$?" 0
sluice_pid=

# `sluice registry` has flags, not a file: SIGHUP is logged, nothing stops.
rport=$(free_port)
"$BIN" registry --listen "127.0.0.1:$rport" --db "$tmp/reg.sqlite" >"$tmp/reg.log" 2>&1 &
reg_pid=$!
track_pid "$reg_pid"
wait_port "127.0.0.1:$rport" 30 || bad "registry did not start"
kill -HUP "$reg_pid"
wait_log "$tmp/reg.log" 'SIGHUP: nothing to reload' 10 >/dev/null && ok "registry: SIGHUP logged" || bad "registry: no SIGHUP line"
expect "registry: still serving" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$rport/subjects")" 200
kill -TERM "$reg_pid"
wait "$reg_pid"
expect "registry: SIGTERM exit 0" "$?" 0
finish
