#!/usr/bin/env bash
# man_page.sh — man/sluice.1 renders without a groff warning, and documents
# every command `sluice --help` lists (a command added without its man
# entry fails here).
set -uo pipefail
SRC=${SLUICE_SOURCE_DIR:?}
BIN=${SLUICE_BIN:?}
page=$SRC/man/sluice.1
fail=0
warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
[[ -z $warnings ]] && echo "ok   renders without warnings" || { echo "FAIL groff: $warnings"; fail=1; }
text=$(groff -man -Tutf8 -P-c -P-b -P-u "$page" 2>/dev/null)
for cmd in $("$BIN" --help | awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1}'); do
  if grep -Eq "^ +sluice $cmd( |$)" <<<"$text" && grep -Eq "^       $cmd( |$)" <<<"$text"; then
    echo "ok   $cmd: in SYNOPSIS and COMMANDS"
  else
    echo "FAIL $cmd: missing from the man page"; fail=1
  fi
done
exit $fail
