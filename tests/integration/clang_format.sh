#!/usr/bin/env bash
# clang_format.sh — every C source and header is as `make format`
# (clang-format with the project's .clang-format) leaves it. A file that
# drifts fails here, named, with the first lines of the difference.
set -uo pipefail
SRC=${SLUICE_SOURCE_DIR:?}
cd "$SRC" || exit 1
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.c' '*.h' '*.cc')
else
  mapfile -t files < <(find src include tests bench fuzz examples -name '*.[ch]' -o -name '*.cc')
fi
((${#files[@]} > 50)) || { echo "FAIL only ${#files[@]} files found under $SRC"; exit 1; }
fail=0
for f in "${files[@]}"; do
  [[ -f $f ]] || continue
  if ! diff -q <(clang-format --style=file "$f") "$f" >/dev/null; then
    echo "FAIL $f is not clang-formatted:"
    diff <(clang-format --style=file "$f") "$f" | head -8
    fail=1
  fi
done
((fail)) || echo "ok   ${#files[@]} files clang-formatted"
exit $fail
