#!/usr/bin/env bash
# top_tmux.sh — `sluice top` in a real terminal (tmux on a private socket),
# watching two processes at once, as one watches an ingest and a sink:
#   A. `sluice ingest` producing to the mock broker (sluice-mock-kafka), a
#      schemaless topic;
#   B. `sluice run` (embedded Kafka and registry, a private ClickHouse), a
#      schemaless topic routed to a table.
# Checked on the pane, numbers parsed from it:
#  - INGEST, SINK and REGISTRY CLIENT sections, one line per URL;
#  - while events are POSTed to both, events/s is non-zero; afterwards
#    "events accepted" equals the sum of both processes' /metrics (the
#    figures are merged) and "rows inserted" grew; partition rows of topic t;
#  - in an 80x24 window nothing scrolls (the header stays on row 1, the
#    registry section is still there) and Ctrl-C quits; q quits the other;
#  - --once: a plain frame into a pipe; ingest alone shows SINK as "—";
#    no server: exit 1 naming the URL; a broken /metrics: the line named.
set -uo pipefail
SRC=${SLUICE_SOURCE_DIR:?}
BIN=${SLUICE_BIN:?}
MOCK=${SLUICE_MOCK_KAFKA:?}
command -v tmux >/dev/null || { echo "FAIL tmux is not installed (scripts/setup.sh installs it)"; exit 1; }
source "${SLUICE_SOURCE_DIR:?}/scripts/lib.sh"
make_tmp top
sock=sluice-top-$$
pids=()
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  "$SRC/scripts/clickhouse.sh" stop "$tmp/ch" >/dev/null 2>&1
}
at_exit cleanup
events_total() { # events_total HOST:PORT: sluice_ingest_events_total on its /metrics
  curl -s "http://$1/metrics" | awk '$1 == "sluice_ingest_events_total" {print $2}'
}

# --- without servers -------------------------------------------------------
"$BIN" top --once --url http://127.0.0.1:1/metrics >"$tmp/none.out" 2>&1
st=$?
[[ $st == 1 ]] && grep -q 'http://127.0.0.1:1/metrics: ' "$tmp/none.out" && ok "no server: exit 1 naming the URL" ||
  bad "no server: exit $st: $(cat "$tmp/none.out")"
"$BIN" top --interval 10ms >/dev/null 2>&1; [[ $? == 2 ]] && ok "--interval 10ms is a usage error" || bad "--interval 10ms"

# A broken exposition, served by a static file server.
mkdir "$tmp/www"
printf '# HELP a x\nsluice_ingest_events_total 5\nsluice_ingest_requests_total{status="200" 3\n' >"$tmp/www/metrics"
www=$(free_port)
/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$tmp/www" "$www" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$www/metrics" && break; sleep 0.1; done
"$BIN" top --once --interval 100ms --url "http://127.0.0.1:$www/metrics" >"$tmp/broken.out" 2>&1
st=$?
[[ $st == 1 ]] && grep -q "bad /metrics text: line 3: expected ',' or '}' after a label value" "$tmp/broken.out" &&
  ok "broken /metrics: exit 1 naming line 3" || { bad "broken /metrics: exit $st"; cat "$tmp/broken.out"; }

# --- A: sluice ingest against the mock broker --------------------------------
coproc MOCK_CO { exec "$MOCK" --topic t:2 2>"$tmp/mock.log"; }
pids+=("$MOCK_CO_PID")
read -r -t 15 line <&"${MOCK_CO[0]}"
[[ $line == bootstrap=* ]] || { echo "FAIL the mock broker did not start: '$line'"; exit 1; }
ingest_a=127.0.0.1:$(free_port) metrics_a=127.0.0.1:$(free_port)
cat >"$tmp/ingest.yaml" <<EOF
kafka: {brokers: "${line#bootstrap=}"}
metrics: {listen: "$metrics_a"}
ingest: {listen: "$ingest_a", topics: [{name: t, schemaless: true}]}
EOF
"$BIN" ingest -c "$tmp/ingest.yaml" >"$tmp/ingest.log" 2>&1 &
pids+=($!)
wait_ready "$metrics_a" || { echo "FAIL sluice ingest is not ready"; cat "$tmp/ingest.log"; exit 1; }

# --- B: sluice run with ClickHouse ------------------------------------------
ch_port=$(free_port)
"$SRC/scripts/clickhouse.sh" start "$tmp/ch" "$ch_port" >/dev/null || { echo "FAIL ClickHouse did not start"; exit 1; }
curl -sS "http://127.0.0.1:$ch_port/" --data-binary "CREATE TABLE t (id UInt64, msg String) ENGINE = MergeTree ORDER BY id"
ingest_b=127.0.0.1:$(free_port) metrics_b=127.0.0.1:$(free_port)
cat >"$tmp/run.yaml" <<EOF
metrics: {listen: "$metrics_b"}
clickhouse: {url: "http://127.0.0.1:$ch_port"}
ingest: {listen: "$ingest_b", topics: [{name: t, schemaless: true}]}
sink:
  group_id: top
  routes: [{topic: t, table: default.t, batch: {max_age: 200ms}}]
run: {data_dir: "$tmp/data", registry_listen: "127.0.0.1:0", partitions: 3}
EOF
"$BIN" run -c "$tmp/run.yaml" >"$tmp/run.log" 2>&1 &
pids+=($!)
wait_ready "$metrics_b" || { echo "FAIL sluice run is not ready"; cat "$tmp/run.log"; exit 1; }

# --- top on both, 160x50 ------------------------------------------------------
top_cmd="$BIN top --url http://$metrics_a/metrics --url http://$metrics_b/metrics --interval 500ms"
tmux -L "$sock" new-session -d -s top -x 160 -y 50 "$top_cmd"
pane() { tmux -L "$sock" capture-pane -p -t "${1:-top}"; }
figure() { # figure FILE LABEL: the number after LABEL in a captured pane
  grep -o "$2 [0-9]*" "$1" | head -1 | awk '{print $NF}'
}
sleep 1.5
pane >"$tmp/pane0"
grep -q '^INGEST' "$tmp/pane0" && grep -q '^SINK' "$tmp/pane0" && grep -q '^REGISTRY CLIENT' "$tmp/pane0" &&
  ok "the pane shows INGEST, SINK and REGISTRY CLIENT" || { bad "sections missing"; cat "$tmp/pane0"; }
[[ $(grep -cE "^  http://127\.0\.0\.1:[0-9]+/metrics  RSS [0-9.]+ [KMG]?i?B  [0-9]+ series" "$tmp/pane0") == 2 ]] &&
  ok "one line per URL with its RSS and series" || { bad "URL lines"; cat "$tmp/pane0"; }
a0=$(figure "$tmp/pane0" 'events accepted'); r0=$(figure "$tmp/pane0" 'rows inserted')
[[ $a0 == 0 && $r0 == 0 ]] && ok "nothing accepted or inserted yet ($a0, $r0)" || bad "before: '$a0' '$r0'"

# Post to both for a few seconds; capture while posting.
body=$(for i in $(seq 1 200); do printf '{"id":%d,"msg":"m%d"}\n' "$i" "$i"; done)
end=$((SECONDS + 4))
while (( SECONDS < end )); do
  for to in "$ingest_a" "$ingest_b"; do
    curl -s -o /dev/null -H 'Content-Type: application/x-ndjson' --data-binary "$body" "http://$to/v1/topics/t"
  done
done
pane >"$tmp/pane1"
rate=$(figure "$tmp/pane1" 'events/s')
(( ${rate:-0} > 0 )) && ok "events/s while posting: $rate" || { bad "events/s '$rate'"; cat "$tmp/pane1"; }
sleep 2
pane >"$tmp/pane2"
a1=$(figure "$tmp/pane2" 'events accepted'); r1=$(figure "$tmp/pane2" 'rows inserted')
ea=$(events_total "$metrics_a"); eb=$(events_total "$metrics_b")
(( ea > 0 && eb > 0 && a1 == ea + eb )) && ok "events accepted on screen ($a1) = ingest ($ea) + run ($eb)" ||
  { bad "accepted '$a1' vs $ea + $eb"; cat "$tmp/pane2"; }
rate=$(figure "$tmp/pane2" 'events/s')
[[ $rate == 0 ]] && ok "events/s back to 0 once posting stopped" || bad "events/s after posting: '$rate'"
(( r1 > 0 )) && ok "rows inserted grew to $r1" || bad "rows inserted '$r1'"
grep -Eq '^  t +[0-2] +[0-9]+ ' "$tmp/pane2" && ok "the partition table lists topic t" || { bad "no partition rows"; cat "$tmp/pane2"; }

# --- a small window: nothing scrolls; Ctrl-C quits ------------------------------
tmux -L "$sock" new-session -d -s small -x 80 -y 24 "$top_cmd"
sleep 1.5
pane small >"$tmp/small"
head -1 "$tmp/small" | grep -q '^sluice top' && grep -q '^REGISTRY CLIENT' "$tmp/small" &&
  (( $(grep -c . "$tmp/small") <= 23 )) && ok "80x24: the frame fits (header on row 1, registry shown)" ||
  { bad "80x24 frame"; cat "$tmp/small"; }
tmux -L "$sock" send-keys -t small C-c
for _ in $(seq 1 50); do tmux -L "$sock" has-session -t small 2>/dev/null || break; sleep 0.1; done
tmux -L "$sock" has-session -t small 2>/dev/null && bad "Ctrl-C did not quit top" || ok "Ctrl-C quits top"

tmux -L "$sock" send-keys -t top q
for _ in $(seq 1 50); do tmux -L "$sock" has-session -t top 2>/dev/null || break; sleep 0.1; done
tmux -L "$sock" has-session -t top 2>/dev/null && bad "q did not quit top" || ok "q quits top"

# --- --once into a pipe ----------------------------------------------------------
"$BIN" top --once --url "http://$metrics_a/metrics" >"$tmp/once.out" 2>&1
st=$?
[[ $st == 0 ]] && grep -q "events accepted $ea " "$tmp/once.out" && ! grep -q $'\033' "$tmp/once.out" &&
  grep -A1 '^SINK' "$tmp/once.out" | grep -q '^  —$' &&
  ok "--once into a pipe: one plain frame, SINK — for ingest alone" || { bad "--once: exit $st"; cat "$tmp/once.out"; }
finish
