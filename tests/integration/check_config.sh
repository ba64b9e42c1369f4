#!/usr/bin/env bash
# check_config.sh — `sluice check-config` on a set of broken configurations:
# each is refused with exit status 2 and a message that names the file, the
# line and column, and the key (YAML syntax errors, which have no key yet,
# name the line and column). The expected positions are those of the text
# written here, not copied from the output. Also: several errors in one file
# are all reported; an empty file is valid (every key has its default).
set -uo pipefail
BIN=${SLUICE_BIN:?}
tmp=$(mktemp -d /tmp/sluice-check-config-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

# broken NAME EXPECTED-SUBSTRING  (config text on stdin)
broken() {
  local name=$1 want=$2 f="$tmp/$1.yaml" out st
  cat >"$f"
  out=$("$BIN" check-config -c "$f" 2>&1); st=$?
  if [[ $st == 2 && $out == *"$f:$want"* ]]; then ok "$name"; else
    bad "$name: exit $st, wanted '$f:$want' in: $out"; fi
}

broken unknown-top-key '3:1: nosuch: unknown key (known here: log, metrics' <<'Y'
log:
  level: info
nosuch: 1
Y
broken unknown-nested-key '5:7: sink.routes[0].tabel: unknown key (known here: topic, table,' <<'Y'
sink:
  group_id: g
  routes:
    - topic: a
      tabel: x
Y
broken missing-required-key '4:7: sink.routes[1]: missing required key '"'table'" <<'Y'
sink:
  routes:
    - {topic: a, table: t}
    - topic: b
Y
broken string-for-int "2:12: sink.writers: expected an integer, got 'lots'" <<'Y'
sink:
  writers: lots
Y
broken list-for-scalar '2:12: kafka.brokers: expected a string, got a list' <<'Y'
kafka:
  brokers: [a, b]
Y
broken out-of-range "3:12: sink.writers: must be between 1 and 64, got '100000'" <<'Y'
sink:
  group_id: g
  writers: 100000
Y
broken bad-size "2:17: sink.memory_limit: expected a size such as 64MiB, got '12 potatoes'" <<'Y'
sink:
  memory_limit: 12 potatoes
Y
broken bad-duration "2:21: ingest.delivery_timeout: expected a duration such as 250ms, 1s or 2m, got '5 fortnights'" <<'Y'
ingest:
  delivery_timeout: 5 fortnights
Y
broken bad-enum "2:11: log.format: expected one of logfmt, json, got 'xml'" <<'Y'
log:
  format: xml
Y
broken duplicate-key '3:3: log.level: duplicate key (first at line 2, column 3)' <<'Y'
log:
  level: info
  level: debug
Y
broken unclosed-bracket '3:5: invalid YAML' <<'Y'
sink:
  routes: [
    - topic: a
Y
broken tab-indent '2:1: invalid YAML: found character that cannot start any token' < <(printf 'log:\n\tlevel: info\n')
broken not-utf8 '2:10: invalid YAML: invalid leading UTF-8 octet' < <(printf 'log:\n  level: \xff\xfe\n')
broken huge-number "2:19: ingest.max_body_bytes: value out of range, got '99999999999999999999999'" <<'Y'
ingest:
  max_body_bytes: 99999999999999999999999
Y
broken unset-variable '2:8: clickhouse.url: environment variable SLUICE_TEST_UNSET_VAR is not set' <<'Y'
clickhouse:
  url: ${SLUICE_TEST_UNSET_VAR}
Y
broken over-the-embedded-limit "2:18: run.backlog_limit: must be between 65536 and 5242880 bytes, got '6MiB'" <<'Y'
run:
  backlog_limit: 6MiB
Y

# Every error of a file at once, in order.
cat >"$tmp/many.yaml" <<'Y'
log:
  format: xml
sink:
  writers: 0
  routes:
    - topic: a
Y
out=$("$BIN" check-config -c "$tmp/many.yaml" 2>&1); st=$?
lines=$(grep -c "^$tmp/many.yaml:" <<<"$out")
[[ $st == 2 && $lines == 3 && $out == *"many.yaml:2:11: log.format"* && $out == *"many.yaml:4:12: sink.writers"* &&
   $out == *"many.yaml:6:7: sink.routes[0]: missing required key"* ]] &&
  ok "three errors in one file, all reported" || bad "many: exit $st: $out"

: >"$tmp/empty.yaml"
out=$("$BIN" check-config -c "$tmp/empty.yaml" 2>&1); st=$?
[[ $st == 0 && $out == *"empty.yaml: ok"* ]] && ok "an empty file is valid (defaults)" || bad "empty: $st $out"
exit $fail
