#!/usr/bin/env bash
# make_run.sh — `make run`'s path, non-interactive, as CI runs it:
# scripts/run.sh (the script `make run` calls after setup and build) starts
# its own ClickHouse and `sluice run` on embedded Kafka and registry,
# registers the example schema and pushes 10 000 events over HTTP. Then:
#  - ClickHouse has exactly those 10 000 rows (counted here, by id);
#  - SIGTERM to run.sh (what Ctrl-C does) → it exits 0 within 10 s, sluice
#    exited 0, and every process it started (run.pids) is gone.
# Ports are free ones picked here, the data directory is a temporary one.
set -uo pipefail
SRC=${SLUICE_SOURCE_DIR:?}
export SLUICE_BIN=${SLUICE_BIN:?}
source "${SLUICE_SOURCE_DIR:?}/scripts/lib.sh"
make_tmp make-run
run_pid=
cleanup() {
  [[ -n $run_pid ]] && kill -TERM "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null
  if [[ -f $tmp/run.pids ]]; then
    while read -r _ pid; do kill -9 "$pid" 2>/dev/null; done <"$tmp/run.pids"
  fi
  "$SRC/scripts/clickhouse.sh" stop "$tmp/clickhouse" >/dev/null 2>&1
}
at_exit cleanup

export SLUICE_RUN_DIR=$tmp SLUICE_RUN_EVENTS=10000
export SLUICE_INGEST_LISTEN=127.0.0.1:$(free_port) SLUICE_REGISTRY_LISTEN=127.0.0.1:$(free_port)
export SLUICE_METRICS_LISTEN=127.0.0.1:$(free_port) SLUICE_CLICKHOUSE_PORT=$(free_port)

"$SRC/scripts/run.sh" >"$tmp/out" 2>&1 &
run_pid=$!
for _ in $(seq 1 1800); do
  grep -q '^Running\. Ctrl-C' "$tmp/out" && break
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.1
done
if grep -q '^Running\. Ctrl-C' "$tmp/out"; then ok "run.sh reached its running state"; else
  bad "run.sh did not reach its running state"; cat "$tmp/out"; exit 1
fi
sed -n '/== summary/,/the log/p' "$tmp/out"

rows=$(curl -s "http://127.0.0.1:$SLUICE_CLICKHOUSE_PORT/" --data-binary \
  "SELECT count(), uniqExact(id) FROM default.events")
[[ $rows == $'10000\t10000' ]] && ok "ClickHouse has the 10 000 events, once each" || bad "rows: '$rows'"
grep -q 'rows in ClickHouse *10000 ' "$tmp/out" && ok "summary shows 10000 rows" || bad "summary rows"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$SLUICE_METRICS_LISTEN/readyz")
[[ $code == 200 ]] && ok "/readyz 200 while running" || bad "/readyz $code"
accepted=$(curl -s "http://$SLUICE_METRICS_LISTEN/metrics" | awk '/^sluice_ingest_events_total/ {s+=$2} END {print s+0}')
[[ $accepted == 10000 ]] && ok "ingest counted 10000 events" || bad "sluice_ingest_events_total $accepted"

mapfile -t pids < <(awk '{print $2}' "$tmp/run.pids")
(( ${#pids[@]} == 2 )) && ok "run.pids lists sluice and ClickHouse" || bad "run.pids: ${pids[*]}"
start=$(date +%s%N)
kill -TERM "$run_pid"
wait "$run_pid"; st=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
run_pid=
[[ $st == 0 ]] && ok "run.sh exit 0 after SIGTERM" || { bad "run.sh exit $st"; tail -20 "$tmp/out"; tail -20 "$tmp/sluice.log"; }
(( ms <= 10000 )) && ok "stopped in $ms ms (≤ 10 s)" || bad "stopping took $ms ms"
grep -q 'sluice exited with status 0' "$tmp/out" && ok "sluice exited 0" || bad "sluice's exit status"
for pid in "${pids[@]}"; do
  if kill -0 "$pid" 2>/dev/null; then bad "process $pid still running"; else ok "process $pid gone"; fi
done
grep -q 'stopped; everything consumed landed and was committed' "$tmp/sluice.log" &&
  ok "the sink drained" || bad "the sink's stop line is missing"
# validate: auto with the embedded Kafka — its ingest validated every event
grep -q 'msg="JSON Schema messages are not validated again".*written only by this process' "$tmp/sluice.log" &&
  ok "the embedded sink does not validate again" || bad "the sink's validate line is missing"
finish
