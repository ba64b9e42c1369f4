#!/usr/bin/env bash
# run.sh — `make bench`: every benchmark program, with the peers it compares
# against, printing "key: value" figures (docs/BENCHMARKS.md quotes them).
set -euo pipefail
cd "$(dirname "$0")/.."
export SLUICE_BIN=$PWD/build/sluice SLUICE_SOURCE_DIR=$PWD
export SLUICE_MOCK_KAFKA=$PWD/build/tests/tools/sluice-mock-kafka
for b in build/bench/bench_*; do
  [[ -x $b ]] || continue
  echo "== $(basename "$b")"
  "$b" "$@"
done
for b in bench/bench_*.sh; do
  echo "== $(basename "$b")"
  "$b"
done
