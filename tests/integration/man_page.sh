#!/usr/bin/env bash
# man_page.sh — man/sluice.1 and man/libsluice.3 render without a groff
# warning; sluice.1 documents every command `sluice --help` lists (a command
# added without its man entry fails here) and libsluice.3 every public
# header in include/sluice/.
set -uo pipefail
SRC=${SLUICE_SOURCE_DIR:?}
BIN=${SLUICE_BIN:?}
source "$SRC/scripts/lib.sh"
for page in "$SRC/man/sluice.1" "$SRC/man/libsluice.3"; do
  warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
  [[ -z $warnings ]] && ok "$(basename "$page") renders without warnings" || bad "groff $(basename "$page"): $warnings"
done
text=$(groff -man -Tutf8 -P-c -P-b -P-u "$SRC/man/sluice.1" 2>/dev/null)
for cmd in $("$BIN" --help | awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1}'); do
  if grep -Eq "^ +sluice $cmd( |$)" <<<"$text" && grep -Eq "^       $cmd( |$)" <<<"$text"; then
    ok "$cmd: in SYNOPSIS and COMMANDS"
  else
    bad "$cmd: missing from the man page"
  fi
done
lib=$(groff -man -Tutf8 -P-c -P-b -P-u "$SRC/man/libsluice.3" 2>/dev/null)
for h in "$SRC"/include/sluice/*.h; do
  name=sluice/$(basename "$h")
  grep -q "#include <$name>" <<<"$lib" && ok "libsluice.3 lists <$name>" || bad "libsluice.3 does not list <$name>"
done
finish
