#!/usr/bin/env bash
# OpenSSH's sshd (Debian openssh-server), for the files loader's SFTP tests: the tests run a private
# sshd on a free loopback port with its own config; the package's own service is not used.
set -euo pipefail
if ! dpkg-query -W -f='${Status}' openssh-server 2>/dev/null | grep -q "install ok installed"; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends openssh-server
fi
service ssh stop >/dev/null 2>&1 || true
