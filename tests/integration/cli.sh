#!/usr/bin/env bash
# cli.sh — the `sluice` command line: help, version, exit codes (0 clean,
# 1 runtime failure, 2 bad usage or configuration), check-config messages,
# and SIGTERM draining `sluice registry` to exit 0.
set -uo pipefail
BIN=${SLUICE_BIN:?}
source "${SLUICE_SOURCE_DIR:?}/scripts/lib.sh"
make_tmp cli
check() { # check NAME EXPECTED_RC CMD... ; stdout+stderr in $tmp/out
  local name=$1 want=$2; shift 2
  "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [[ $rc != "$want" ]]; then
    bad "$name: exit $rc, wanted $want"; sed 's/^/  | /' "$tmp/out"
  else
    ok "$name"
  fi
}
contains() { # contains NAME TEXT
  if grep -qF -- "$2" "$tmp/out"; then ok "$1"; else bad "$1: output lacks '$2'"; sed 's/^/  | /' "$tmp/out"; fi
}

check "help" 0 "$BIN" --help
contains "help lists registry" "registry"
contains "help lists check-config" "check-config"
contains "help lists ddl" "ddl "
check "ddl --help" 0 "$BIN" ddl --help
contains "ddl help flags" "--subject SUBJECT"
check "ddl without a subject" 2 "$BIN" ddl --registry http://127.0.0.1:1
check "ddl unreachable registry" 1 "$BIN" ddl --registry http://127.0.0.1:1 --subject s-value
contains "ddl names the subject" "subject s-value"
check "version" 0 "$BIN" --version
contains "version text" "sluice 0."
check "no args" 2 "$BIN"
check "unknown command" 2 "$BIN" frobnicate
contains "unknown command named" "unknown command 'frobnicate'"
check "registry --help" 0 "$BIN" registry --help
contains "registry help flags" "--listen ADDR"
check "registry bad flag" 2 "$BIN" registry --bogus
check "registry bad threads" 2 "$BIN" registry --threads 0
contains "threads message" "--threads must be 1..256"
check "registry bad listen" 2 "$BIN" registry --listen "nonsense" --db "$tmp/r.sqlite"
check "registry unwritable db" 1 "$BIN" registry --listen 127.0.0.1:0 --db /proc/nope/r.sqlite

cat >"$tmp/good.yaml" <<'YAML'
registry:
  urls: [http://127.0.0.1:8081]
  cache: {max_bytes: 1MiB}
YAML
check "check-config good" 0 "$BIN" check-config -c "$tmp/good.yaml"
contains "check-config ok" "good.yaml: ok"
cat >"$tmp/bad.yaml" <<'YAML'
registry:
  urls: [http://127.0.0.1:8081]
  cache:
    max_bytes: lots
  colour: blue
YAML
check "check-config bad" 2 "$BIN" check-config -c "$tmp/bad.yaml"
contains "bad size named with line" "bad.yaml:4:16: registry.cache.max_bytes"
contains "unknown key named with line" "bad.yaml:5:3: registry.colour: unknown key"
check "check-config missing file" 2 "$BIN" check-config -c "$tmp/absent.yaml"
contains "missing file named" "absent.yaml"
check "check-config no -c" 2 "$BIN" check-config
check "check-config --keys" 0 "$BIN" check-config --keys
contains "keys reference" "registry.cache.max_bytes"

# docs/CONFIG.md is generated from the binary's key tables: they must agree.
src=${SLUICE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if diff <(cat "$src/docs/CONFIG.md.head"; "$BIN" check-config --keys) "$src/docs/CONFIG.md" >"$tmp/out"; then
  ok "docs/CONFIG.md matches the binary"
else
  bad "docs/CONFIG.md is stale: run scripts/gen-docs.sh"; sed 's/^/  | /' "$tmp/out" | head -20
fi

# SIGTERM drains and exits 0.
"$BIN" registry --listen 127.0.0.1:0 --db "$tmp/term.sqlite" >"$tmp/reg.log" 2>&1 &
pid=$!
track_pid "$pid"
wait_log "$tmp/reg.log" "msg=listening port=" 5 >/dev/null
kill -TERM "$pid"; wait "$pid"; rc=$?
if [[ $rc == 0 ]]; then ok "registry SIGTERM exit 0"; else bad "registry SIGTERM exit $rc"; fi
grep -q "msg=stopped" "$tmp/reg.log" && ok "registry logged stop" || bad "no stop log"
finish
