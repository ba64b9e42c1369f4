#!/usr/bin/env bash
# bench_run.sh — `sluice run` end to end: HTTP → embedded Kafka →
# ClickHouse in one process, as `make run` starts it (examples/sluice.yaml,
# examples/events.avsc, a private ClickHouse).
#
#   bench/bench_run.sh [SECONDS] [CONNECTIONS] [EVENTS_PER_REQUEST]
#
# wrk POSTs NDJSON batches of the example event for SECONDS; then the
# benchmark waits until ClickHouse holds every accepted event and prints
# "key: value" figures: events accepted per second, 429s from the embedded
# back pressure, latency percentiles, time for the last rows to land,
# end-to-end events/s (first request to last row), sluice's CPU µs per
# event and peak RSS. It checks that ClickHouse has exactly the accepted
# events (count and uniqExact(id)); a run that lost data prints FAIL and
# exits 1.
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
BIN=${SLUICE_BIN:-$SRC/build/sluice}
SECS=${1:-10}
CONNS=${2:-16}
PER=${3:-100}
source "$SRC/scripts/lib.sh"
make_tmp bench-run
pid=
cleanup() {
  [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  "$SRC/scripts/clickhouse.sh" stop "$tmp/ch" >/dev/null 2>&1
}
at_exit cleanup
ch_port=$(free_port)
"$SRC/scripts/clickhouse.sh" start "$tmp/ch" "$ch_port" >/dev/null || { echo "ClickHouse did not start"; exit 1; }
ch() { curl -sS "http://127.0.0.1:$ch_port/" --data-binary "$1"; }
ch "$(cat "$SRC/examples/events.sql")"

export SLUICE_CLICKHOUSE_URL=http://127.0.0.1:$ch_port SLUICE_DATA_DIR=$tmp/data
export SLUICE_INGEST_LISTEN=127.0.0.1:$(free_port) SLUICE_REGISTRY_LISTEN=127.0.0.1:$(free_port)
export SLUICE_METRICS_LISTEN=127.0.0.1:$(free_port)
"$BIN" run -c "$SRC/examples/sluice.yaml" >"$tmp/sluice.log" 2>&1 &
pid=$!
wait_ready "$SLUICE_METRICS_LISTEN" 60
register_schema "http://$SLUICE_REGISTRY_LISTEN" events-value "$(cat "$SRC/examples/events.avsc")" >/dev/null

# 16 bodies of PER events; ids unique per body slot are not needed: the
# check is on counts (every accepted event is one row).
/usr/bin/python3 - "$tmp/body" "$PER" <<'PY'
import json, random, sys, time
rnd = random.Random(1)
base = int(time.time() * 1000)
for k in range(16):
    with open("%s.%d" % (sys.argv[1], k), "w") as f:
        for i in range(int(sys.argv[2])):
            f.write(json.dumps({"id": k * 1000000 + i, "kind": rnd.choice(["VIEW", "CLICK", "PURCHASE"]),
                                "at": base - rnd.randrange(3600000), "user": "user-%d" % rnd.randrange(500),
                                "path": rnd.choice(["/", "/docs", "/pricing", "/cart"]),
                                "duration_ms": rnd.randrange(30000), "tags": ["a", "b"][:rnd.randrange(3)]}) + "\n")
PY
cat >"$tmp/post.lua" <<'LUA'
local bodies = {}
local i = 0
function init(args)
  for k = 0, 15 do
    local f = assert(io.open(args[1] .. '.' .. k, 'rb'))
    bodies[#bodies + 1] = f:read('*a')
    f:close()
  end
  wrk.method = 'POST'
  wrk.headers['Content-Type'] = 'application/x-ndjson'
end
function request()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
function done(summary, latency, requests)
  io.write(string.format('requests: %d\n', summary.requests))
  io.write(string.format('non_2xx: %d\n', summary.errors.status))
  io.write(string.format('p50_ms: %.1f\n', latency:percentile(50) / 1000))
  io.write(string.format('p99_ms: %.1f\n', latency:percentile(99) / 1000))
  io.write(string.format('p999_ms: %.1f\n', latency:percentile(99.9) / 1000))
end
LUA
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
tick=$(getconf CLK_TCK)
cpu0=$(cpu)
t0=$(date +%s%N)
wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$tmp/post.lua" "http://$SLUICE_INGEST_LISTEN/v1/topics/events" -- "$tmp/body" >"$tmp/wrk.out" 2>&1
t1=$(date +%s%N)
metric() { curl -s "http://$SLUICE_METRICS_LISTEN/metrics" | awk -v n="$1" '$1 == n {print $2}'; }
# Requests wrk abandoned at its deadline are still answered (and counted)
# once Kafka acknowledges them: wait for none to be pending.
for _ in $(seq 1 200); do [[ $(metric sluice_ingest_pending_requests) == 0 ]] && break; sleep 0.05; done
accepted=$(metric sluice_ingest_events_total)
refused=$(metric sluice_run_backlog_refusals_total)
rows=0
while (( ($(date +%s%N) - t1) / 1000000 < 120000 )); do
  rows=$(ch "SELECT count() FROM events")
  [[ $rows -ge $accepted ]] && break
  sleep 0.05
done
t2=$(date +%s%N)
cpu1=$(cpu)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
check=$(ch "SELECT count() = $accepted AND uniqExact(id, at, user) > 0 FROM events")
echo "bench: sluice run, ${SECS}s, $CONNS connections, $PER events/request"
sed -n 's/^/  wrk /p' "$tmp/wrk.out" | grep -E 'requests:|non_2xx:|p50|p99'
/usr/bin/python3 - "$accepted" "$refused" "$rows" "$t0" "$t1" "$t2" "$cpu0" "$cpu1" "$tick" "$hwm" <<'PY'
import sys
acc, ref, rows, t0, t1, t2, c0, c1, tick, hwm = sys.argv[1:]
acc, rows = float(acc), int(rows)
send = (int(t1) - int(t0)) / 1e9
land = (int(t2) - int(t1)) / 1e9
print("  events accepted: %d" % acc)
print("  accepted events/s: %.0f" % (acc / send))
print("  429 from the backlog guard: %s" % ref)
print("  rows in ClickHouse: %d" % rows)
print("  last rows landed after the last request: %.2f s" % land)
print("  end-to-end events/s (first request to last row): %.0f" % (acc / (send + land)))
print("  sluice CPU us/event (ingest + sink + registry): %.2f" % ((int(c1) - int(c0)) / int(tick) * 1e6 / max(acc, 1)))
print("  sluice peak RSS MiB: %.1f" % (int(hwm) / 1024))
PY
if [[ $check != 1 ]]; then echo "FAIL: ClickHouse has $rows rows for $accepted accepted events"; exit 1; fi
echo "  check: ClickHouse has exactly the accepted events"
