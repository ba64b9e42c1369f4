#!/usr/bin/env bash
# gen-docs.sh — regenerate docs/CONFIG.md's key table from the binary, so
# the reference and the key tables in src/app/config.c cannot drift.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SLUICE_BIN:-./build/sluice}
{ cat docs/CONFIG.md.head; "$BIN" check-config --keys; } > docs/CONFIG.md
echo "docs/CONFIG.md regenerated"
