#!/usr/bin/env bash
# fake-gcs-server (a Google Cloud Storage emulator: the JSON and XML APIs over a folder or memory), for the
# files family's gs:// tests. Built from its Go module (downloaded through the Go module proxy) with
# `go install` into ~/.cache/lakehouse/fake-gcs-server/bin; idempotent (a VERSION file beside the binary).
set -euo pipefail
VERSION=v1.56.1
CACHE="${HOME}/.cache/lakehouse/fake-gcs-server"
BIN="${CACHE}/bin/fake-gcs-server"
if [ -x "$BIN" ] && [ "$(cat "${CACHE}/VERSION" 2>/dev/null)" = "$VERSION" ]; then
  exit 0
fi
export PATH="/usr/local/go/bin:${PATH}"
command -v go >/dev/null || { echo "fake-gcs-server.sh: Go is missing (expected in /usr/local/go/bin)" >&2; exit 1; }
mkdir -p "$CACHE/bin"
export GOPATH="${CACHE}/go" GOBIN="${CACHE}/bin" GOFLAGS=-modcacherw GOTOOLCHAIN=local
go install -trimpath "github.com/fsouza/fake-gcs-server@${VERSION}"
echo "$VERSION" > "${CACHE}/VERSION"
echo "fake-gcs-server ${VERSION}: ${BIN}"
