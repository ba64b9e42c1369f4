#!/usr/bin/env bash
# check_config.sh — `sluice check-config` on broken configurations. Each must
# be refused with exit status 2 and a message of the form
#   FILE:LINE:COL: KEY.PATH: what
# naming the file, the line and column, and the key path. The expected
# position is computed from the text written here (where the offending text
# is in it), never copied from the output. YAML syntax errors name the key
# the parser was in (or the entry it had just read: "after this entry").
# A few errors concern the whole file and have no key: the file too large
# to read, a second YAML document, a top level that is not a mapping.
# Also: every error of a file is reported at once; an empty file (or one of
# comments only) is valid and means every key's default.
set -uo pipefail
export LC_ALL=C # columns below are counted in bytes; every prefix is ASCII
BIN=${SLUICE_BIN:?}
source "${SLUICE_SOURCE_DIR:?}/scripts/lib.sh"
make_tmp check-config
cases=0

# locate FILE NEEDLE [OFFSET] — "LINE:COL" (1-based) of the first occurrence
# of NEEDLE in FILE, the column moved on by OFFSET. NEEDLE "<EOF>": the end
# of the file (after its last newline).
locate() {
  local file=$1 needle=$2 offset=${3:-0} n=0 line prefix
  [[ $needle == "<EOF>" ]] && { echo "$(($(wc -l <"$file") + 1)):1"; return 0; }
  while IFS= read -r line || [[ -n $line ]]; do
    n=$((n + 1))
    if [[ $line == *"$needle"* ]]; then
      prefix=${line%%"$needle"*}
      echo "$n:$((${#prefix} + 1 + offset))"
      return 0
    fi
  done <"$file"
  echo "NEEDLE-NOT-FOUND:$needle"
}

# broken NAME KEY NEEDLE[+OFFSET] MESSAGE  (config text on stdin)
# Wants exit 2 and "FILE:L:C: KEY: MESSAGE" where L:C is where NEEDLE is
# (MESSAGE may contain @NEEDLE@ for another position: "line L, column C").
broken() {
  local name=$1 key=$2 where=$3 msg=$4 f="$tmp/$1.yaml" out st pos off=0
  cases=$((cases + 1))
  cat >"$f"
  [[ $where == *+[0-9]* ]] && { off=${where##*+}; where=${where%+*}; }
  pos=$(locate "$f" "$where" "$off")
  while [[ $msg =~ @([^@]+)@ ]]; do
    local p; p=$(locate "$f" "${BASH_REMATCH[1]}")
    msg=${msg/"${BASH_REMATCH[0]}"/"line ${p%%:*}, column ${p##*:}"}
  done
  local want="$f:$pos: $key: $msg"
  [[ -z $key ]] && want="$f:$pos: $msg"
  out=$("$BIN" check-config -c "$f" 2>&1); st=$?
  if [[ $st == 2 && $out == *"$want"* && $out != *": ok"* ]]; then ok "$name"; else
    bad "$name: exit $st"; echo "     wanted: $want"; echo "     got:    ${out:0:600}"; fi
}

# ---- unknown keys -----------------------------------------------------------
broken unknown-top-level-key nosuch nosuch 'unknown key (known here: log, metrics, registry, kafka,' <<'Y'
log:
  level: info
nosuch: 1
Y
broken unknown-key-in-route 'sink.routes[1].tabel' tabel 'unknown key (known here: topic, table, dlq_topic,' <<'Y'
sink:
  group_id: g
  routes:
    - topic: events
      table: default.events
    - topic: clicks
      tabel: clicks
Y
broken unknown-key-in-flow-mapping 'sink.routes[0].dlq' 'dlq:' 'unknown key (known here: topic, table,' <<'Y'
sink:
  routes: [{topic: a, table: t, dlq: a.dead}]
Y
broken unknown-key-three-deep 'registry.tls.ca' 'ca:' 'unknown key (known here: ca_file, cert_file, key_file, key_password)' <<'Y'
registry:
  urls: [https://sr.example:8081]
  tls:
    ca: /etc/ssl/ca.pem
Y

# ---- wrong types --------------------------------------------------------------
broken string-for-int sink.writers lots "expected an integer, got 'lots'" <<'Y'
sink:
  writers: lots
Y
broken fraction-for-int sink.writers 2.5 "expected an integer, got '2.5'" <<'Y'
sink:
  writers: 2.5
Y
broken list-for-scalar kafka.brokers '[' 'expected a string, got a list' <<'Y'
kafka:
  brokers: [b1:9092, b2:9092]
Y
broken mapping-for-scalar clickhouse.url '{' 'expected a string, got a mapping' <<'Y'
clickhouse:
  url: {host: ch1, port: 8123}
Y
broken scalar-for-list sink.routes events "expected a list of mappings, got 'events'" <<'Y'
sink:
  routes: events
Y
broken scalar-for-section ingest 8080 "expected a mapping, got '8080'" <<'Y'
ingest: 8080
Y
broken bad-bool 'ingest.topics[0].schemaless' maybe "expected true or false, got 'maybe'" <<'Y'
ingest:
  topics:
    - name: events
      schemaless: maybe
Y

# ---- values out of range, bad sizes, durations, enums ------------------------
broken writers-zero sink.writers 'writers: 0+9' "must be between 1 and 64, got '0'" <<'Y'
sink:
  writers: 0
Y
broken writers-huge sink.writers 100000 "must be between 1 and 64, got '100000'" <<'Y'
sink:
  group_id: g
  writers: 100000
Y
broken bad-size sink.memory_limit '12 potatoes' "expected a size such as 64MiB, got '12 potatoes'" <<'Y'
sink:
  memory_limit: 12 potatoes
Y
broken size-below-minimum sink.memory_limit 16MiB "must be between 50331648 and 1099511627776 bytes, got '16MiB'" <<'Y'
sink:
  memory_limit: 16MiB
Y
broken over-the-embedded-limit run.backlog_limit 6MiB "must be between 65536 and 5242880 bytes, got '6MiB'" <<'Y'
run:
  backlog_limit: 6MiB
Y
broken bad-duration ingest.delivery_timeout '5 fortnights' "expected a duration such as 250ms, 1s or 2m, got '5 fortnights'" <<'Y'
ingest:
  delivery_timeout: 5 fortnights
Y
broken bad-duration-in-route 'sink.routes[0].batch.max_age' soon "expected a duration such as 250ms, 1s or 2m, got 'soon'" <<'Y'
sink:
  routes:
    - topic: a
      table: t
      batch:
        max_rows: 1000
        max_age: soon
Y
broken bad-enum log.format xml "expected one of logfmt, json, got 'xml'" <<'Y'
log:
  format: xml
Y
broken bad-enum-crlf log.level loud "expected one of debug, info, warn, error, off, got 'loud'" \
  < <(printf 'metrics:\r\n  listen: 127.0.0.1:9100\r\nlog:\r\n  level: loud\r\n')

# ---- missing required keys -------------------------------------------------------
broken route-without-table 'sink.routes[1]' 'topic: b' "missing required key 'table'" <<'Y'
sink:
  routes:
    - topic: a
      table: t
    - topic: b
      dlq_topic: b.dead
Y
broken route-with-empty-table 'sink.routes[0]' 'table:+6' "missing required key 'table' (it has no value)" <<'Y'
sink:
  routes:
    - topic: a
      table:
Y
broken token-without-topics 'ingest.tokens[0]' 'token:' "missing required key 'topics'" <<'Y'
ingest:
  tokens:
    - token: s3cret
Y

# ---- duplicate keys ------------------------------------------------------------
broken duplicate-key log.level 'level: debug' 'duplicate key (first at @level: info@)' <<'Y'
log:
  level: info
  format: json
  level: debug
Y
broken duplicate-librdkafka-property kafka.properties.sasl.username 'sasl.username: other' 'duplicate key (first at @sasl.username: sluice@)' <<'Y'
kafka:
  brokers: b1:9093
  properties:
    security.protocol: SASL_SSL
    sasl.username: sluice
    sasl.username: other
Y

# ---- YAML syntax errors ----------------------------------------------------------
broken unclosed-bracket 'kafka.brokers[1]' 'sink:+4' \
  "invalid YAML after this entry: did not find expected ',' or ']' (while parsing a flow sequence at @[@)" <<'Y'
kafka:
  brokers: [b1:9092, b2:9092
sink:
  group_id: g
Y
broken unclosed-brace-in-route 'sink.routes[0].batch.max_age' 'topic: b+5' \
  "invalid YAML after this entry: did not find expected ',' or '}' (while parsing a flow mapping at @{@)" <<'Y'
sink:
  routes:
    - topic: a
      table: t
      batch: {max_rows: 10, max_age: 1s
    - topic: b
Y
broken bad-indentation log 'format: json' \
  'invalid YAML after this entry: did not find expected key (while parsing a block mapping at line 1, column 1)' <<'Y'
log:
  level: info
 format: json
Y
broken bad-indentation-in-route 'sink.routes[0]' 'batch:' \
  "invalid YAML after this entry: did not find expected '-' indicator (while parsing a block collection at @- topic@)" <<'Y'
sink:
  routes:
    - topic: a
      table: t
     batch: {max_rows: 5}
Y
broken unclosed-quote clickhouse.password '<EOF>' \
  'invalid YAML: found unexpected end of stream (while scanning a quoted scalar at @"@)' <<'Y'
clickhouse:
  password: "s3cret
log:
  format: json
Y
broken tab-indentation log $'\t' \
  'invalid YAML: found character that cannot start any token (while scanning for the next token at line 2, column 1)' \
  < <(printf 'log:\n\tlevel: info\n')
broken tab-before-list-item sink.routes $'\t' \
  'invalid YAML: found character that cannot start any token (while scanning for the next token at line 3, column 1)' \
  < <(printf 'sink:\n  routes:\n\t- topic: a\n')

# ---- bytes that are not UTF-8, control characters ---------------------------------
broken not-utf8-value log.level $'\xff' 'invalid YAML: invalid leading UTF-8 octet' \
  < <(printf 'log:\n  level: \xff\xfe\n')
broken latin1-in-route 'sink.routes[0].topic' $'\xe9' 'invalid YAML: invalid trailing UTF-8 octet' \
  < <(printf 'sink:\n  routes:\n    - topic: caf\xe9-events\n      table: t\n')
broken latin1-in-key log $'\xe9' 'invalid YAML: invalid trailing UTF-8 octet' \
  < <(printf 'log:\n  niv\xe9au: info\n')
broken control-character clickhouse.user $'\x01' 'invalid YAML: control characters are not allowed' \
  < <(printf 'clickhouse:\n  user: ad\x01min\n')

# ---- enormous values -------------------------------------------------------------
broken huge-integer ingest.max_body_bytes 99999999999999999999999 "value out of range, got '99999999999999999999999'" <<'Y'
ingest:
  max_body_bytes: 99999999999999999999999
Y
broken huge-size sink.memory_limit 99999999999TiB "value out of range, got '99999999999TiB'" <<'Y'
sink:
  memory_limit: 99999999999TiB
Y
broken huge-duration sink.retry_max 9999999999999h "value out of range, got '9999999999999h'" <<'Y'
sink:
  retry_max: 9999999999999h
Y
# A megabyte-long value: refused, and the message quotes only its start.
{ printf 'log:\n  level: '; head -c 1048576 /dev/zero | tr '\0' x; printf '\n'; } >"$tmp/megabyte.yaml"
out=$("$BIN" check-config -c "$tmp/megabyte.yaml" 2>&1); st=$?
cases=$((cases + 1))
want="$tmp/megabyte.yaml:$(locate "$tmp/megabyte.yaml" xxx): log.level: expected one of debug, info, warn, error, off, got 'xxxxxxxx"
if [[ $st == 2 && $out == *"$want"*"...'" && ${#out} -lt 1024 ]]; then ok "megabyte-value (message ${#out} bytes)"; else
  bad "megabyte-value: exit $st, ${#out} bytes: ${out:0:300}"; fi

# ---- environment variables ---------------------------------------------------------
broken unset-variable clickhouse.password '${' \
  'environment variable SLUICE_TEST_UNSET_VAR is not set (write ${SLUICE_TEST_UNSET_VAR:-fallback} for a default)' <<'Y'
clickhouse:
  user: sluice
  password: ${SLUICE_TEST_UNSET_VAR}
Y
export SLUICE_TEST_WRITERS=many
broken bad-value-from-variable sink.writers '${' "expected an integer, got 'many' (from '\${SLUICE_TEST_WRITERS}')" <<'Y'
sink:
  writers: ${SLUICE_TEST_WRITERS}
Y
broken unterminated-variable registry.password '${' "bad variable reference in '\${SR_PASSWORD'" <<'Y'
registry:
  password: ${SR_PASSWORD
Y

# ---- whole-file errors: there is no key to name ------------------------------------
broken second-document '' '---' 'only one YAML document is allowed (found a second one)' <<'Y'
log: {level: info}
---
log: {level: debug}
Y
broken top-level-list '' '- log' 'expected a mapping of sections at the top level, got a list' <<'Y'
- log
- sink
Y
# Over 16 MiB: refused before parsing, naming the file and the limit.
{ printf 'clickhouse:\n  password: '; head -c $((17 << 20)) /dev/zero | tr '\0' p; printf '\n'; } >"$tmp/huge-file.yaml"
out=$("$BIN" check-config -c "$tmp/huge-file.yaml" 2>&1); st=$?
cases=$((cases + 1))
[[ $st == 2 && $out == "$tmp/huge-file.yaml: file larger than 16777216 bytes" ]] &&
  ok "file-over-16MiB" || bad "file-over-16MiB: exit $st: ${out:0:300}"

# ---- every error of a file at once, in file order -----------------------------------
cat >"$tmp/many.yaml" <<'Y'
log:
  format: xml
sink:
  writers: 0
  routes:
    - topic: a
  colour: blue
Y
out=$("$BIN" check-config -c "$tmp/many.yaml" 2>&1); st=$?
expect=("$tmp/many.yaml:$(locate "$tmp/many.yaml" xml): log.format: expected one of logfmt, json, got 'xml'"
        "$tmp/many.yaml:$(locate "$tmp/many.yaml" 'writers: 0' 9): sink.writers: must be between 1 and 64, got '0'"
        "$tmp/many.yaml:$(locate "$tmp/many.yaml" 'topic: a'): sink.routes[0]: missing required key 'table'"
        "$tmp/many.yaml:$(locate "$tmp/many.yaml" colour): sink.colour: unknown key (known here: group_id,")
mapfile -t got <<<"$out"
all=1
for i in "${!expect[@]}"; do [[ ${got[i]:-} == "${expect[i]}"* ]] || all=0; done
[[ $st == 2 && ${#got[@]} == 4 && $all == 1 ]] && ok "four errors in one file, all reported in order" ||
  { bad "many: exit $st"; printf '     got: %s\n' "${got[@]}"; }

# ---- valid files ---------------------------------------------------------------------
: >"$tmp/empty.yaml"
printf '# nothing set: every key has its default\n\n' >"$tmp/comments.yaml"
for f in empty comments; do
  out=$("$BIN" check-config -c "$tmp/$f.yaml" 2>&1); st=$?
  [[ $st == 0 && $out == "$tmp/$f.yaml: ok" ]] && ok "$f file is valid (defaults)" || bad "$f: exit $st: $out"
done

# ---- ingest topics: how each one's events are checked -----------------------------
printf '{"type":"record","name":"E","fields":[{"name":"id","type":"long"}]}\n' >"$tmp/e.avsc"
printf '{"type":"record","name":"E","fields":[{"name":"id","type":"lung"}]}\n' >"$tmp/bad.avsc"
cat >"$tmp/topics.yaml" <<Y
registry: {urls: [http://127.0.0.1:1]}
ingest:
  topics:
    - {name: plain}
    - {name: fromfile, value_schema_file: "$tmp/e.avsc"}
    - {name: pings, protobuf_message: shop.Ping, protobuf_index_encoding: plain}
    - {name: rest, schema: request}
    - {name: raw, schema: none}
    - {name: old, schemaless: true}
Y
out=$("$BIN" check-config -c "$tmp/topics.yaml" 2>&1); st=$?
want="$tmp/topics.yaml: ok
ingest topic plain: the latest schema of plain-value (Avro encoded, Protobuf encoded, JSON Schema validated), which must be in the registry when ingest starts
ingest topic fromfile: Avro; $tmp/e.avsc registered as fromfile-value when ingest starts
ingest topic pings: the latest schema of pings-value, which must be in the registry when ingest starts; if it is PROTOBUF, events are shop.Ping messages (index plain)
ingest topic rest: each request brings its schema (REST Proxy /topics/rest); /v1 requests refused
ingest topic raw: JSON passed through unchecked (schema: none)
ingest topic old: JSON passed through unchecked (schema: none)"
[[ $st == 0 && $out == "$want" ]] && ok "check-config explains every ingest topic" ||
  { bad "topics: exit $st"; printf '%s\n' "$out" | sed 's/^/     /'; }
cases=$((cases + 1))
for f in bad nothere; do
  sed "s|e.avsc|$f.avsc|" "$tmp/topics.yaml" >"$tmp/topics-$f.yaml"
  out=$("$BIN" check-config -c "$tmp/topics-$f.yaml" 2>&1); st=$?
  case $f in
    bad) want="ingest.topics[1].value_schema_file: $tmp/bad.avsc: \$.fields[0].type: unknown type 'lung'" ;;
    nothere) want="ingest.topics[1].value_schema_file: $tmp/nothere.avsc: cannot open: No such file or directory" ;;
  esac
  [[ $st == 2 && $out == *"$want"* && $out != *": ok"* ]] && ok "value_schema_file $f refused" ||
    { bad "value_schema_file $f: exit $st"; echo "     wanted: $want"; echo "     got:    $out"; }
  cases=$((cases + 1))
done

echo "$cases broken configurations checked"
finish
