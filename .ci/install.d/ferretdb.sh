#!/usr/bin/env bash
# FerretDB v1 (the MongoDB wire protocol over SQLite), for the MongoDB loader's tests.
# Built from its Go module (downloaded through the Go module proxy) into ~/.cache/lakehouse/ferretdb/bin;
# idempotent. A plain `go install ...@version` builds a binary that panics at start: the module leaves
# build/version/version.txt empty (its release builds generate it), so the source is copied and the
# file written before `go build`.
set -euo pipefail
VERSION=v1.24.2
CACHE="${HOME}/.cache/lakehouse/ferretdb"
BIN="${CACHE}/bin/ferretdb"
if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "${VERSION}"; then
  exit 0
fi
export PATH="/usr/local/go/bin:${PATH}"
command -v go >/dev/null || { echo "ferretdb.sh: Go is missing (expected in /usr/local/go/bin)" >&2; exit 1; }
mkdir -p "$CACHE/bin"
export GOPATH="${CACHE}/go" GOFLAGS=-modcacherw GOTOOLCHAIN=local
module_dir=$(go mod download -json "github.com/FerretDB/FerretDB@${VERSION}" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
src="${CACHE}/src-${VERSION}"
rm -rf "$src"
cp -r "$module_dir" "$src"
chmod -R u+w "$src"
echo "$VERSION" > "$src/build/version/version.txt"
(cd "$src" && go build -trimpath -o "$BIN" ./cmd/ferretdb)
"$BIN" --version
