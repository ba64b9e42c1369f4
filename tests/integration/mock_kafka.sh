#!/usr/bin/env bash
# mock_kafka.sh — sluice-mock-kafka from a script, as shell tests use it: a
# coprocess whose first line is the bootstrap list, then one command per
# line and one answer per line; kcat as the client. Also what a script sees
# of the tool's command line (usage errors exit 2, topics from --topic).
set -uo pipefail
MOCK=${SLUICE_MOCK_KAFKA:?}
source "${SLUICE_SOURCE_DIR:?}/scripts/lib.sh"
make_tmp mock-kafka-sh

"$MOCK" --brokers 0 >/dev/null 2>&1; expect "--brokers 0 is a usage error" $? 2
"$MOCK" --topic nopartitions >/dev/null 2>&1; expect "--topic without partitions is a usage error" $? 2

MOCK_LOG=$tmp/mock.log start_mock_kafka --brokers 2 --topic events:3 --topic dlq:1:2
[[ $bootstrap =~ ^127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+$ ]] && ok "bootstrap line" || bad "bootstrap line: '$bootstrap'"
bs=$bootstrap
cmd() { mock_cmd "$1"; }

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
finish
