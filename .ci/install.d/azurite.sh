#!/usr/bin/env bash
# Azurite (Microsoft's Azure Storage emulator; the tests use its blob service), for the files family's
# az:// tests. Installed from the npm registry into ~/.cache/lakehouse/azurite (its binaries in
# node_modules/.bin); idempotent: nothing happens when that version is already there.
# 3.35.0 is the last release that runs on Node 20 (the machines' Node; 3.36 wants Node >= 21).
set -euo pipefail
VERSION=3.35.0
CACHE="${HOME}/.cache/lakehouse/azurite"
BIN="${CACHE}/node_modules/.bin/azurite-blob"
installed=$(node -p "require('${CACHE}/node_modules/azurite/package.json').version" 2>/dev/null || true)
if [ -x "$BIN" ] && [ "$installed" = "$VERSION" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "azurite.sh: npm is missing (Debian package nodejs/npm)" >&2; exit 1; }
mkdir -p "$CACHE"
npm install --prefix "$CACHE" --no-audit --no-fund --loglevel=error "azurite@${VERSION}"
"$BIN" --version
