#!/usr/bin/env bash
# mock_kafka.sh — sluice-mock-kafka from a script, as shell tests use it: a
# coprocess whose first line is the bootstrap list, then one command per
# line and one answer per line; kcat as the client. Also what a script sees
# of the tool's command line (usage errors exit 2, topics from --topic).
set -uo pipefail
MOCK=${SLUICE_MOCK_KAFKA:?}
tmp=$(mktemp -d /tmp/sluice-mock-kafka-sh-XXXXXX)
cleanup() { [[ -n ${MOCK_PID:-} ]] && kill -9 "$MOCK_PID" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
expect() { # expect NAME GOT WANT
  if [[ $2 == "$3" ]]; then ok "$1"; else bad "$1: got '$2', wanted '$3'"; fi
}

"$MOCK" --brokers 0 >/dev/null 2>&1; expect "--brokers 0 is a usage error" $? 2
"$MOCK" --topic nopartitions >/dev/null 2>&1; expect "--topic without partitions is a usage error" $? 2

coproc MOCK_CO { exec "$MOCK" --brokers 2 --topic events:3 --topic dlq:1:2 2>"$tmp/mock.log"; }
MOCK_PID=$MOCK_CO_PID
cmd() { echo "$1" >&"${MOCK_CO[1]}"; read -r -t 60 answer <&"${MOCK_CO[0]}"; }

read -r -t 15 line <&"${MOCK_CO[0]}"
[[ $line =~ ^bootstrap=127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+$ ]] && ok "bootstrap line" || bad "bootstrap line: '$line'"
bs=${line#bootstrap=}

cmd "watermarks events"; expect "topic from --topic" "$answer" "ok 0:0:0 1:0:0 2:0:0"
cmd "watermarks dlq"; expect "second --topic" "$answer" "ok 0:0:0"

printf 'a:1\nb:2\nc:3\n' | kcat -b "$bs" -P -t events -p 1 -K : 2>"$tmp/kcat.log"
expect "kcat produced" $? 0
cmd "watermarks events"; expect "watermarks after kcat" "$answer" "ok 0:0:0 1:0:3 2:0:0"
got=$(kcat -b "$bs" -C -t events -p 1 -o beginning -e -q -f '%k=%s\n' 2>>"$tmp/kcat.log")
expect "kcat consumed" "$got" $'a=1\nb=2\nc=3'

cmd "errors Metadata 5"; expect "errors by number" "$answer" "ok"
cmd "clear Metadata"; expect "clear" "$answer" "ok"
cmd "quit"; expect "quit" "$answer" "ok"
wait "$MOCK_PID"; expect "exit status after quit" $? 0
MOCK_PID=
exit $fail
