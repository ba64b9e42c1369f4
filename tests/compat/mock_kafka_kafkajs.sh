#!/usr/bin/env bash
# mock_kafka_kafkajs.sh — kafkajs and kcat against sluice-mock-kafka: each
# reads what the other (and a gzip-compressed kcat producer) wrote, and the
# group kafkajs committed is what the tool's `committed` reports.
set -uo pipefail
MOCK=${SLUICE_MOCK_KAFKA:?}
here=$(cd "$(dirname "$0")" && pwd)
if [[ ! -d $here/node_modules/kafkajs ]]; then
  echo "FAIL kafkajs is missing: run scripts/setup.sh (npm ci --prefix tests/compat)"; exit 1
fi
source "${SLUICE_SOURCE_DIR:?}/scripts/lib.sh"
make_tmp kafkajs
MOCK_LOG=$tmp/mock.log start_mock_kafka --brokers 2 --topic kjs:2 || { bad "the mock broker did not start"; finish; }
bs=$bootstrap

printf 'k0:v0\n' | kcat -b "$bs" -P -t kjs -p 0 -K : -z gzip -H h=zero 2>"$tmp/kcat.log"
expect "kcat produced" $? 0

got=$(cd "$here" && node mock_kafka_kafkajs.js "$bs" kjs kjs-group 5 2>"$tmp/node.log")
rc=$?
expect "kafkajs ran" $rc 0
[[ $rc == 0 ]] || sed 's/^/  | /' "$tmp/node.log"
expect "kafkajs read everything" "$got" $'0:0 k0=v0 zero\n0:1 k1=v1 one\n0:2 k2=v2 two\n1:0 k3=v3 three\n1:1 k4=v4 four'

got=$(kcat -b "$bs" -C -t kjs -o beginning -e -q -f '%p:%o %k=%s %h\n' 2>>"$tmp/kcat.log" | sort)
expect "kcat read kafkajs' messages" "$got" $'0:0 k0=v0 h=zero\n0:1 k1=v1 h=one\n0:2 k2=v2 h=two\n1:0 k3=v3 h=three\n1:1 k4=v4 h=four'

echo "committed kjs-group kjs" >&"${MOCK_CO[1]}"
read -r -t 60 answer <&"${MOCK_CO[0]}"
expect "kafkajs' commits" "$answer" "ok 0:3 1:2"

echo quit >&"${MOCK_CO[1]}"
read -r -t 10 answer <&"${MOCK_CO[0]}"
wait "$MOCK_PID"; expect "tool exit status" $? 0
MOCK_PID=
finish
