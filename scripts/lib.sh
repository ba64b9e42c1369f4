# scripts/lib.sh — the one shell library of sluice's scripts, tests and
# benchmarks (sourced, never run): free ports, waiting for a port, a URL or
# a log line, the processes and directories a script started and their
# clean-up at exit, and the ok/FAIL lines and verdict of test scripts.
#
#   source "$SLUICE_SOURCE_DIR/scripts/lib.sh"    # tests (ctest sets it)
#   source "$(dirname "$0")/lib.sh"               # scripts/
#
# Clean-up: sourcing installs one EXIT trap that stops every process given
# to track_pid (SIGTERM, up to 5 s, then SIGKILL; by pid, never by name),
# runs the commands given to at_exit (last in, first out) and removes the
# directories made by make_tmp. A script that needs its own EXIT trap calls
# lib_cleanup from it. Scripts that handle INT/TERM themselves (run.sh) do
# so after sourcing.

# ---- results ---------------------------------------------------------------
fail=0
lib_passed=0
lib_failed=0
ok() {
  echo "ok   $1"
  lib_passed=$((lib_passed + 1))
}
bad() {
  echo "FAIL $1"
  fail=1
  lib_failed=$((lib_failed + 1))
}
# expect NAME GOT WANT
expect() {
  if [[ $2 == "$3" ]]; then ok "$1"; else bad "$1: got '$2', wanted '$3'"; fi
}
# finish: the closing line, and the exit status (1 if anything failed).
finish() {
  echo "$lib_passed passed, $lib_failed failed"
  exit "$fail"
}

# ---- processes and clean-up ---------------------------------------------------
lib_pids=()
lib_exit_cmds=()
lib_tmp_dirs=()
track_pid() { lib_pids+=("$1"); }
at_exit() { lib_exit_cmds+=("$1"); }
# make_tmp NAME: $tmp becomes a fresh directory /tmp/sluice-NAME-XXXXXX,
# removed at exit. (It sets the variable rather than printing the path: a
# $(...) subshell could not register the directory for removal.)
make_tmp() {
  tmp=$(mktemp -d "/tmp/sluice-$1-XXXXXX") || { echo "FAIL mktemp" >&2; exit 1; }
  lib_tmp_dirs+=("$tmp")
}
# stop_pid PID [SECONDS]: SIGTERM, wait up to SECONDS (default 5), SIGKILL.
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < ${2:-5} * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return 0
}
# (Every step tolerates failure: under `set -e` a failing kill or command
# must not cut the clean-up short.)
lib_cleanup() {
  local i d
  for ((i = ${#lib_pids[@]} - 1; i >= 0; i--)); do stop_pid "${lib_pids[i]}" || true; done
  lib_pids=()
  for ((i = ${#lib_exit_cmds[@]} - 1; i >= 0; i--)); do
    eval "${lib_exit_cmds[i]}" >/dev/null 2>&1 || true
  done
  lib_exit_cmds=()
  for d in "${lib_tmp_dirs[@]}"; do rm -rf "$d" || true; done
  lib_tmp_dirs=()
}
trap lib_cleanup EXIT

# ---- ports and waiting ---------------------------------------------------------
# free_port: a TCP port on 127.0.0.1 that nothing listens on now (the kernel's
# pick; another process may still take it before we bind, as with any such
# helper, but the ephemeral range makes that rare).
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
# port_free PORT: is nothing listening on 127.0.0.1:PORT?
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# wait_port HOST:PORT [SECONDS]: until something accepts connections there.
wait_port() {
  local host=${1%:*} port=${1##*:} i
  for ((i = 0; i < ${2:-60} * 10; i++)); do
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# wait_url URL [STATUS] [SECONDS]: until GET URL answers STATUS (default 200).
wait_url() {
  local i
  for ((i = 0; i < ${3:-60} * 10; i++)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$1") == "${2:-200}" ]] && return 0
    sleep 0.1
  done
  return 1
}
# wait_ready HOST:PORT [SECONDS]: until a sluice /readyz there answers 200.
wait_ready() { wait_url "http://$1/readyz" 200 "${2:-60}"; }
# wait_log FILE ERE [SECONDS]: until a line of FILE matches; prints the first
# match (grep -o), so `addr=$(wait_log log 'addr=[0-9.:]+')` works.
wait_log() {
  local i
  for ((i = 0; i < ${3:-60} * 10; i++)); do
    grep -Eo -m1 "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# ---- the tests' Kafka broker ---------------------------------------------------
# start_mock_kafka ARGS...: tests/tools/sluice-mock-kafka ($SLUICE_MOCK_KAFKA)
# as the coprocess MOCK_CO with ARGS (--brokers N --topic T:P ...), its
# stderr in $MOCK_LOG (default /dev/null); sets $bootstrap and $MOCK_PID
# and stops it at exit. Returns 1 if it did not print its bootstrap line.
start_mock_kafka() {
  coproc MOCK_CO { exec "${SLUICE_MOCK_KAFKA:?}" "$@" 2>"${MOCK_LOG:-/dev/null}"; }
  MOCK_PID=$MOCK_CO_PID
  track_pid "$MOCK_PID"
  local line=
  read -r -t 15 line <&"${MOCK_CO[0]}"
  bootstrap=${line#bootstrap=}
  [[ $line == bootstrap=* ]]
}
# mock_cmd LINE: one command to the mock broker; its one-line answer in $answer.
mock_cmd() {
  answer=
  echo "$1" >&"${MOCK_CO[1]}" && read -r -t 60 answer <&"${MOCK_CO[0]}"
}

# ---- small helpers of several tests ------------------------------------------------
# json_quote STRING: STRING as a JSON string literal.
json_quote() { /usr/bin/python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }
# register_schema REGISTRY_URL SUBJECT SCHEMA_TEXT: prints the answer ({"id":N}).
register_schema() {
  curl -sS -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
    --data "{\"schema\":$(json_quote "$3")}" "$1/subjects/$2/versions"
}
