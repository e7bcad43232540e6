#!/usr/bin/env bash
# Airbyte Python source connectors from PyPI, each in its own virtual environment, for the `airbyte`
# loader family and its tests: ~/.cache/lakehouse/airbyte/venvs/<connector>-<version>/.
# Idempotent: a venv whose `.installed` marker exists is left alone. The same code path is what
# `lakehouse airbyte install CONNECTOR` runs (loaders/airbyte/venv.py).
# The default list: faker and Airbyte's declarative (low-code) runtime (the loader's own tests), and the
# connectors that sources/airbyte/*.yml pin (their spec / discover tests); a cold install of the eleven
# took 361 s here with no pip cache (16-64 s each; see loaders/airbyte/README.md).
# AIRBYTE_CONNECTORS overrides the list (space-separated name==version pins).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${LAKEHOUSE_PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON="$(command -v python3.11)"
connectors="${AIRBYTE_CONNECTORS:-airbyte-source-faker==7.2.1 airbyte-source-declarative-manifest==6.5.2 airbyte-source-salesforce==2.10.3 airbyte-source-hubspot==5.7.0 airbyte-source-shopify==4.3.0 airbyte-source-stripe==5.14.1 airbyte-source-google-ads==6.1.7 airbyte-source-facebook-marketing==6.1.9 airbyte-source-mixpanel==4.0.2 airbyte-source-amplitude==0.6.19 airbyte-source-netsuite==0.1.29}"
for pin in $connectors; do
  echo "airbyte connector: $pin"
  "$PYTHON" -m loaders.airbyte.venv install "$pin"
done
