#!/usr/bin/env bash
# run.sh — what `make run` starts (after scripts/setup.sh and the build):
#
#   1. a private ClickHouse server (Debian's clickhouse-server binary, data in
#      $SLUICE_RUN_DIR/clickhouse, never the system service's), and the
#      example table of examples/events.sql;
#   2. `sluice run -c examples/sluice.yaml`: ingest, sink, the embedded
#      Schema Registry and an embedded (in-memory, not durable) Kafka;
#   3. registers examples/events.avsc as events-value, pushes sample events
#      over HTTP with a progress bar (scripts/push_events.py), waits until
#      ClickHouse has every one, and prints where to look and a summary.
#
# Then it keeps everything running until Ctrl-C (SIGINT/SIGTERM), which
# stops sluice (it drains and exits 0 within 10 s) and ClickHouse.
#
# Environment (all optional):
#   SLUICE_BIN           the sluice binary (default build/sluice)
#   SLUICE_RUN_DIR       data directory (default data/)
#   SLUICE_RUN_EVENTS    events to push (default 100000)
#   SLUICE_RUN_EXIT=1    stop everything after the summary instead of waiting
#   SLUICE_INGEST_LISTEN, SLUICE_REGISTRY_LISTEN, SLUICE_METRICS_LISTEN,
#   SLUICE_CLICKHOUSE_PORT  addresses; by default 127.0.0.1:8080, :8081,
#                        :9100 and ClickHouse on 8123, each replaced by a
#                        free port when taken.
# The pids it started are written to $SLUICE_RUN_DIR/run.pids.
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
BIN=${SLUICE_BIN:-$SRC/build/sluice}
DIR=${SLUICE_RUN_DIR:-$SRC/data}
EVENTS=${SLUICE_RUN_EVENTS:-100000}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

bold() { if [[ -t 1 ]]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
die() { echo "run.sh: $*" >&2; exit 1; }

source "$SRC/scripts/lib.sh" # port_free, free_port (its EXIT trap is replaced below)
# addr VAR DEFAULT_PORT: $VAR if set, else 127.0.0.1:DEFAULT_PORT if free, else a free port.
addr() {
  local v=${!1:-}
  if [[ -n $v ]]; then echo "$v"; return; fi
  if port_free "$2"; then echo "127.0.0.1:$2"; else echo "127.0.0.1:$(free_port)"; fi
}
export SLUICE_INGEST_LISTEN SLUICE_REGISTRY_LISTEN SLUICE_METRICS_LISTEN SLUICE_CLICKHOUSE_URL SLUICE_DATA_DIR
SLUICE_INGEST_LISTEN=$(addr SLUICE_INGEST_LISTEN 8080)
SLUICE_REGISTRY_LISTEN=$(addr SLUICE_REGISTRY_LISTEN 8081)
SLUICE_METRICS_LISTEN=$(addr SLUICE_METRICS_LISTEN 9100)
ch_port=${SLUICE_CLICKHOUSE_PORT:-}
if [[ -z $ch_port ]]; then
  if [[ -f $DIR/clickhouse/http_port ]]; then ch_port=$(cat "$DIR/clickhouse/http_port")
  elif port_free 8123; then ch_port=8123; else ch_port=$(free_port); fi
fi
SLUICE_DATA_DIR=$DIR

sluice_pid=
stopping=0
stop_all() {
  local rc=0
  [[ $stopping == 1 ]] && return
  stopping=1
  trap '' INT TERM
  if [[ -n $sluice_pid ]] && kill -0 "$sluice_pid" 2>/dev/null; then
    echo
    echo "== stopping sluice (SIGTERM: drain and exit)"
    local t0=$SECONDS
    kill -TERM "$sluice_pid"
    for _ in $(seq 1 200); do kill -0 "$sluice_pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$sluice_pid" 2>/dev/null; then
      echo "sluice did not exit within 10 s; SIGKILL" >&2
      kill -KILL "$sluice_pid"; rc=1
    fi
    wait "$sluice_pid"; local st=$?
    [[ $st == 0 ]] || { echo "sluice exited with status $st" >&2; rc=1; }
    echo "   sluice exited with status $st after $((SECONDS - t0)) s"
  fi
  if [[ -f $DIR/clickhouse/pid ]]; then
    echo "== stopping ClickHouse"
    "$SRC/scripts/clickhouse.sh" stop "$DIR/clickhouse" >/dev/null 2>&1 || rc=1
  fi
  return $rc
}
on_signal() { stop_all; exit $?; }
trap on_signal INT TERM
trap 'stop_all >/dev/null 2>&1' EXIT

[[ -x $BIN ]] || die "no sluice binary at $BIN (run make build)"

bold "== ClickHouse (data in $DIR/clickhouse)"
out=$("$SRC/scripts/clickhouse.sh" start "$DIR/clickhouse" "$ch_port") || die "ClickHouse did not start: $out (log: $DIR/clickhouse/log)"
echo "   $out"
tcp_port=$(cat "$DIR/clickhouse/tcp_port")
ch_pid=$(cat "$DIR/clickhouse/pid")
SLUICE_CLICKHOUSE_URL=http://127.0.0.1:$ch_port
ch() { curl -sS --fail-with-body "$SLUICE_CLICKHOUSE_URL/" --data-binary "$1"; }
ch "$(cat "$SRC/examples/events.sql")" || die "cannot create default.events"
echo "   table default.events ready (examples/events.sql)"

bold "== sluice run -c examples/sluice.yaml (log: $DIR/sluice.log)"
"$BIN" run -c "$SRC/examples/sluice.yaml" >"$DIR/sluice.log" 2>&1 &
sluice_pid=$!
printf 'sluice %s\nclickhouse %s\n' "$sluice_pid" "$ch_pid" >"$DIR/run.pids"
ingest=http://$SLUICE_INGEST_LISTEN
registry=http://$SLUICE_REGISTRY_LISTEN
metrics=http://$SLUICE_METRICS_LISTEN
ready=0
for _ in $(seq 1 600); do
  kill -0 "$sluice_pid" 2>/dev/null || { cat "$DIR/sluice.log" >&2; die "sluice exited at start"; }
  if [[ $(curl -s -o /dev/null -w '%{http_code}' "$metrics/readyz") == 200 ]]; then ready=1; break; fi
  sleep 0.1
done
[[ $ready == 1 ]] || { curl -s "$metrics/readyz" >&2; die "sluice not ready after 60 s"; }
grep -m1 'EMBEDDED' "$DIR/sluice.log" | sed 's/^/   /' | cut -c1-200
echo "   ready: ingest $ingest, registry $registry, metrics $metrics/metrics"

bold "== register examples/events.avsc as events-value"
schema=$(/usr/bin/python3 -c 'import json,sys; print(json.dumps({"schema": open(sys.argv[1]).read()}))' "$SRC/examples/events.avsc")
curl -sS --fail-with-body -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
  --data "$schema" "$registry/subjects/events-value/versions" || die "cannot register the schema"
echo

bold "== push $EVENTS events to $ingest/v1/topics/events"
base=$(( $(date +%s) * 1000000 ))
push=$(/usr/bin/python3 "$SRC/scripts/push_events.py" "$ingest/v1/topics/events" "$EVENTS" --base-id "$base") || die "pushing events failed"
sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$push")
secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$push")
retries=$(sed -n 's/.*retries=\([0-9]*\).*/\1/p' <<<"$push")

bold "== waiting for ClickHouse to have them"
query="SELECT count() FROM default.events WHERE id >= $base AND id < $((base + EVENTS))"
rows=0
t0=$SECONDS
while (( SECONDS - t0 < 120 )); do
  rows=$(ch "$query" 2>/dev/null || echo 0)
  [[ $rows -ge $sent ]] && break
  sleep 0.2
done
landed=$((SECONDS - t0))

cat <<EOF

$(bold "== summary")
   events sent over HTTP      $sent in ${secs} s ($(/usr/bin/python3 -c "print(round($sent/max($secs,1e-9)))") events/s; $retries retries after 429/503)
   rows in ClickHouse         $rows (this run's ids), all there ${landed} s after the last 200
   ClickHouse                 $SLUICE_CLICKHOUSE_URL  (native port $tcp_port)

$(bold "== where to look")
   the table     clickhouse-client --port $tcp_port --query 'SELECT kind, count() FROM events GROUP BY kind'
   metrics       curl -s $metrics/metrics | grep -E '^sluice_(ingest|sink)_'
   live view     $BIN top --url $metrics/metrics
   send more     curl -s -H 'Content-Type: application/json' -d '{"id":1,"kind":"CLICK","at":$(($(date +%s)*1000)),"path":"/x"}' $ingest/v1/topics/events
   the log       $DIR/sluice.log
EOF

if [[ $rows != "$sent" ]]; then
  echo "run.sh: ClickHouse has $rows of $sent events" >&2
  exit 1
fi
if [[ ${SLUICE_RUN_EXIT:-0} == 1 ]]; then
  stop_all; exit $?
fi
echo
bold "Running. Ctrl-C stops sluice and ClickHouse."
while kill -0 "$sluice_pid" 2>/dev/null; do sleep 0.5 & wait $!; done
echo "sluice exited on its own; see $DIR/sluice.log" >&2
stop_all
exit 1
