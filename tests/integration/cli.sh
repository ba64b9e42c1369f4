#!/usr/bin/env bash
# cli.sh — the `sluice` command line: help, version, exit codes (0 clean,
# 1 runtime failure, 2 bad usage or configuration), check-config messages,
# and SIGTERM draining `sluice registry` to exit 0.
set -uo pipefail
BIN=${SLUICE_BIN:?}
tmp=$(mktemp -d /tmp/sluice-cli-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
fail=0
check() { # check NAME EXPECTED_RC CMD... ; stdout+stderr in $tmp/out
  local name=$1 want=$2; shift 2
  "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [[ $rc != "$want" ]]; then
    echo "FAIL $name: exit $rc, wanted $want"; sed 's/^/  | /' "$tmp/out"; fail=1
  else
    echo "ok   $name"
  fi
}
contains() { # contains NAME TEXT
  if grep -qF -- "$2" "$tmp/out"; then echo "ok   $1"; else echo "FAIL $1: output lacks '$2'"; sed 's/^/  | /' "$tmp/out"; fail=1; fi
}

check "help" 0 "$BIN" --help
contains "help lists registry" "registry"
contains "help lists check-config" "check-config"
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
  echo "ok   docs/CONFIG.md matches the binary"
else
  echo "FAIL docs/CONFIG.md is stale: run scripts/gen-docs.sh"; sed 's/^/  | /' "$tmp/out" | head -20; fail=1
fi

# SIGTERM drains and exits 0.
"$BIN" registry --listen 127.0.0.1:0 --db "$tmp/term.sqlite" >"$tmp/reg.log" 2>&1 &
pid=$!; pids+=("$pid")
for _ in $(seq 1 100); do grep -q "msg=listening port=" "$tmp/reg.log" && break; sleep 0.05; done
kill -TERM "$pid"; wait "$pid"; rc=$?
if [[ $rc == 0 ]]; then echo "ok   registry SIGTERM exit 0"; else echo "FAIL registry SIGTERM exit $rc"; fail=1; fi
grep -q "msg=stopped" "$tmp/reg.log" && echo "ok   registry logged stop" || { echo "FAIL no stop log"; fail=1; }
exit $fail
