#!/usr/bin/env bash
# fake-gcs-server (a Google Cloud Storage emulator), for the remote files loader's GCS tests.
# Built from its Go module with `go install` into ~/.cache/lakehouse/fake-gcs-server/bin; idempotent.
set -euo pipefail
VERSION=v1.56.1
CACHE="${HOME}/.cache/lakehouse/fake-gcs-server"
BIN="${CACHE}/bin/fake-gcs-server"
STAMP="${CACHE}/version"
if [ -x "$BIN" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$VERSION" ]; then
  exit 0
fi
export PATH="/usr/local/go/bin:${PATH}"
command -v go >/dev/null || { echo "fake-gcs-server.sh: Go is missing (expected in /usr/local/go/bin)" >&2; exit 1; }
mkdir -p "$CACHE"
export GOPATH="${CACHE}/go" GOBIN="${CACHE}/bin" GOFLAGS=-modcacherw GOTOOLCHAIN=local
go install "github.com/fsouza/fake-gcs-server@${VERSION}"
echo "$VERSION" > "$STAMP"
