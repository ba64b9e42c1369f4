#!/usr/bin/env bash
# fuzz.sh — run every libFuzzer target in build-fuzz/fuzz/.
#
#   scripts/fuzz.sh smoke          each target for FUZZ_SMOKE_SECONDS (default 15 s): part of `make test`
#   scripts/fuzz.sh long [SECONDS] each target for SECONDS (default 300): `make fuzz`
#
# Seeds come from fuzz/corpus/<target>/ (committed); what a run discovers goes
# to build-fuzz/corpus/<target>/ (not committed), so a later run continues from
# it. A crash leaves its input in build-fuzz/ and fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-smoke}
case "$mode" in
  smoke) seconds=${FUZZ_SMOKE_SECONDS:-15} ;;
  long) seconds=${2:-300} ;;
  *) echo "usage: $0 smoke|long [SECONDS]" >&2; exit 2 ;;
esac
shopt -s nullglob
targets=(build-fuzz/fuzz/fuzz_*)
if ((${#targets[@]} == 0)); then
  echo "fuzz.sh: no fuzz targets in build-fuzz/fuzz (run make build-fuzz)" >&2
  exit 1
fi
status=0
failed=()
for t in "${targets[@]}"; do
  [[ -x $t ]] || continue
  name=$(basename "$t")
  seeds="fuzz/corpus/${name#fuzz_}"
  work="build-fuzz/corpus/${name#fuzz_}"
  mkdir -p "$work"
  args=("$work")
  [[ -d $seeds ]] && args+=("$seeds")
  # A dictionary of the input's tokens, when the target has one.
  for dict in "fuzz/${name#fuzz_}.dict" "fuzz/$name.dict"; do
    [[ -f $dict ]] && { args=("-dict=$dict" "${args[@]}"); break; }
  done
  echo "fuzz.sh: $name for ${seconds}s"
  if ! ASAN_OPTIONS=detect_leaks=1 "$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
       -artifact_prefix=build-fuzz/ -print_final_stats=1 "${args[@]}" >"build-fuzz/$name.log" 2>&1; then
    echo "fuzz.sh: $name FAILED — see build-fuzz/$name.log" >&2
    tail -n 40 "build-fuzz/$name.log" >&2
    failed+=("$name: $(grep -m1 -E '^(==[0-9]+== ?ERROR|SUMMARY)' "build-fuzz/$name.log" || tail -n 1 "build-fuzz/$name.log")")
    status=1
  else
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "build-fuzz/$name.log" | tr '\n' ' '
    echo
  fi
done
# Again at the end, where a log's tail (CI shows only the end) still has it.
for f in "${failed[@]}"; do
  echo "fuzz.sh: FAILED $f"
  echo "fuzz.sh: FAILED $f" >&2
done
exit $status
