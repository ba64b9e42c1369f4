#!/usr/bin/env bash
# top_tmux.sh — `sluice top` in a real terminal (tmux, on a private socket)
# against a running `sluice run` (embedded Kafka and registry, a private
# ClickHouse, a schemaless JSON topic routed to a table):
#  - the pane shows the INGEST, SINK and REGISTRY CLIENT sections and the
#    partition table;
#  - while events are POSTed, the "events accepted" and "rows inserted"
#    figures on screen grow and events/s is non-zero;
#  - q quits top (exit 0, terminal restored); --once without a server fails
#    with exit 1 and names the URL.
set -uo pipefail
SRC=${SLUICE_SOURCE_DIR:?}
BIN=${SLUICE_BIN:?}
command -v tmux >/dev/null || { echo "FAIL tmux is not installed (scripts/setup.sh installs it)"; exit 1; }
tmp=$(mktemp -d /tmp/sluice-top-XXXXXX)
sock=sluice-top-$$
pid=
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null
  [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  "$SRC/scripts/clickhouse.sh" stop "$tmp/ch" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

"$BIN" top --once --url http://127.0.0.1:1/metrics >"$tmp/none.out" 2>&1
st=$?
[[ $st == 1 ]] && grep -q 'http://127.0.0.1:1/metrics: ' "$tmp/none.out" && ok "no server: exit 1 naming the URL" ||
  bad "no server: exit $st: $(cat "$tmp/none.out")"
"$BIN" top --interval 10ms >/dev/null 2>&1; [[ $? == 2 ]] && ok "--interval 10ms is a usage error" || bad "--interval 10ms"

ch_port=$(free_port)
"$SRC/scripts/clickhouse.sh" start "$tmp/ch" "$ch_port" >/dev/null || { echo "FAIL ClickHouse did not start"; exit 1; }
curl -sS "http://127.0.0.1:$ch_port/" --data-binary "CREATE TABLE t (id UInt64, msg String) ENGINE = MergeTree ORDER BY id"
ingest=127.0.0.1:$(free_port) metrics=127.0.0.1:$(free_port)
cat >"$tmp/sluice.yaml" <<EOF
metrics: {listen: "$metrics"}
clickhouse: {url: "http://127.0.0.1:$ch_port"}
ingest: {listen: "$ingest", topics: [{name: t, schemaless: true}]}
sink:
  group_id: top
  routes: [{topic: t, table: default.t, batch: {max_age: 200ms}}]
run: {data_dir: "$tmp/data", registry_listen: "127.0.0.1:0", partitions: 3}
EOF
"$BIN" run -c "$tmp/sluice.yaml" >"$tmp/sluice.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$metrics/readyz") == 200 ]] && break
  sleep 0.1
done

tmux -L "$sock" new-session -d -s top -x 160 -y 50 "$BIN top --url http://$metrics/metrics --interval 500ms"
pane() { tmux -L "$sock" capture-pane -p -t top; }
figure() { # figure LABEL: the number after LABEL on the pane
  pane | grep -o "$1 [0-9]*" | head -1 | awk '{print $NF}'
}
sleep 1.5
pane >"$tmp/pane0"
grep -q '^INGEST' "$tmp/pane0" && grep -q '^SINK' "$tmp/pane0" && grep -q '^REGISTRY CLIENT' "$tmp/pane0" &&
  ok "the pane shows INGEST, SINK and REGISTRY CLIENT" || { bad "sections missing"; cat "$tmp/pane0"; }
a0=$(figure 'events accepted'); r0=$(figure 'rows inserted')
[[ $a0 == 0 && $r0 == 0 ]] && ok "nothing accepted or inserted yet ($a0, $r0)" || bad "before: '$a0' '$r0'"

# Post for a few seconds; capture while posting.
body=$(for i in $(seq 1 200); do printf '{"id":%d,"msg":"m%d"}\n' "$i" "$i"; done)
end=$((SECONDS + 4))
while (( SECONDS < end )); do
  curl -s -o /dev/null -H 'Content-Type: application/x-ndjson' --data-binary "$body" "http://$ingest/v1/topics/t"
done
pane >"$tmp/pane1"
rate=$(grep -o 'events/s [0-9]*' "$tmp/pane1" | head -1 | awk '{print $2}')
(( ${rate:-0} > 0 )) && ok "events/s while posting: $rate" || { bad "events/s '$rate'"; cat "$tmp/pane1"; }
sleep 2
a1=$(figure 'events accepted'); r1=$(figure 'rows inserted')
accepted=$(curl -s "http://$metrics/metrics" | awk '$1 == "sluice_ingest_events_total" {print $2}')
(( a1 > 0 && a1 == accepted )) && ok "events accepted on screen ($a1) = /metrics ($accepted)" || bad "accepted '$a1' vs $accepted"
(( r1 > 0 )) && ok "rows inserted grew to $r1" || bad "rows inserted '$r1'"
pane | grep -Eq '^  t +[0-2] +[0-9]+ ' && ok "the partition table lists topic t" || { bad "no partition rows"; pane; }

tmux -L "$sock" send-keys -t top q
for _ in $(seq 1 50); do tmux -L "$sock" has-session -t top 2>/dev/null || break; sleep 0.1; done
tmux -L "$sock" has-session -t top 2>/dev/null && bad "q did not quit top" || ok "q quits top"

"$BIN" top --once --url "http://$metrics/metrics" >"$tmp/once.out" 2>&1
st=$?
[[ $st == 0 ]] && grep -q "events accepted $accepted" "$tmp/once.out" && ! grep -q $'\033' "$tmp/once.out" &&
  ok "--once into a pipe: one plain frame" || { bad "--once: exit $st"; cat "$tmp/once.out"; }
exit $fail
