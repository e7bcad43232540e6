#!/usr/bin/env bash
# Airbyte Python source connectors from PyPI, each in its own virtual environment, for the `airbyte`
# loader family and its tests: ~/.cache/lakehouse/airbyte/venvs/<connector>-<version>/.
# Idempotent: a venv whose `.installed` marker exists is left alone. The same code path is what
# `lakehouse airbyte install CONNECTOR` runs (loaders/airbyte/venv.py).
# AIRBYTE_CONNECTORS overrides the list (space-separated name==version pins).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${LAKEHOUSE_PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON="$(command -v python3.11)"
connectors="${AIRBYTE_CONNECTORS:-airbyte-source-faker==7.2.1}"
for pin in $connectors; do
  "$PYTHON" -m loaders.airbyte.venv install "$pin"
done
