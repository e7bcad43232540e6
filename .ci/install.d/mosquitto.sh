#!/usr/bin/env bash
# Mosquitto 2 (Debian package `mosquitto`), the MQTT broker the MQTT source tests run against. The
# tests start private instances (tests/helpers/stream_servers.py); the package's own service is stopped.
set -euo pipefail
if ! dpkg-query -W -f='${Status}' mosquitto 2>/dev/null | grep -q "install ok installed"; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends mosquitto
fi
service mosquitto stop >/dev/null 2>&1 || true
