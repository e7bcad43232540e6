#!/usr/bin/env bash
# FerretDB v1 (the MongoDB wire protocol over SQLite), for the MongoDB loader's tests.
# Built from its Go module with `go install` into ~/.cache/lakehouse/ferretdb/bin; idempotent.
set -euo pipefail
VERSION=v1.24.2
CACHE="${HOME}/.cache/lakehouse/ferretdb"
BIN="${CACHE}/bin/ferretdb"
if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "${VERSION}"; then
  exit 0
fi
export PATH="/usr/local/go/bin:${PATH}"
command -v go >/dev/null || { echo "ferretdb.sh: Go is missing (expected in /usr/local/go/bin)" >&2; exit 1; }
mkdir -p "$CACHE"
export GOPATH="${CACHE}/go" GOBIN="${CACHE}/bin" GOFLAGS=-modcacherw GOTOOLCHAIN=local
go install -tags ferretdb_no_postgresql "github.com/FerretDB/FerretDB/cmd/ferretdb@${VERSION}" \
  || go install "github.com/FerretDB/FerretDB/cmd/ferretdb@${VERSION}"
"$BIN" --version
