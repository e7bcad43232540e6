"""The seed's SaaS APIs through Airbyte's own PyPI connectors: `sources/airbyte/*.yml` against the real
connectors, each in its venv (installed by `.ci/install.d/airbyte-connectors.sh`).

For every source file: the connector's `spec` is a valid JSON schema (draft 7) and the file's `config`,
its `${...}` references set to dummy values, passes it (every required field set, every value of the
right type and pattern). For the connectors whose `discover` needs no API call (Stripe, Google Ads,
Facebook Marketing, Amplitude), `discover` runs with those dummy credentials behind a proxy on a closed
loopback port, so nothing leaves the machine, and every stream of the file is in the catalog with a sync
mode that fits its `mode`. The other five call the API first thing in `discover`, which so needs live
credentials (loaders/airbyte/README.md names each one's first call); no test reads real SaaS data.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import jsonschema
import pytest

from loaders.airbyte.connector import ConnectorSource
from loaders.airbyte.venv import INSTALL_SCRIPT
from loaders.core.config import SourceConfig, load_source_config
from tests.helpers.loader_io import PROJECT_DIR

SOURCES = PROJECT_DIR / "sources" / "airbyte"
# discover builds its catalog without calling the API (checked: it answers behind a dead proxy)
DISCOVER_OFFLINE = ["amplitude", "facebook_ads", "google_ads", "stripe"]
# values that must match the connector's patterns; every other reference gets `dummy-<name>`
DUMMY = {
    "GOOGLE_ADS_CUSTOMER_ID": "1234567890",
    "FACEBOOK_AD_ACCOUNT_ID": "111111111111111",
    "STRIPE_ACCOUNT_ID": "acct_1Lakehouse",
    "SHOPIFY_SHOP": "lakehouse-test",
}
DEAD_PROXY = "http://127.0.0.1:9"  # discard port, nothing listens: any HTTP(S) or gRPC call fails at once


def source_files() -> list[Path]:
    return sorted(SOURCES.glob("*.yml"))


def load(path: Path, monkeypatch: pytest.MonkeyPatch) -> ConnectorSource:
    for name in set(re.findall(r"\$\{([A-Z0-9_]+)\}", path.read_text())):
        monkeypatch.setenv(name, DUMMY.get(name, f"dummy-{name.lower()}"))
    config: SourceConfig = load_source_config(path)
    assert config.type == "airbyte"
    source = ConnectorSource(config)
    assert source.connector is not None
    connector = source.connector
    if not connector.is_installed():
        pytest.fail(f"{connector.pin} is not installed in {connector.folder}: run `bash {INSTALL_SCRIPT}`")
    return source


def test_the_install_script_installs_every_pinned_connector() -> None:
    script = (PROJECT_DIR / INSTALL_SCRIPT).read_text()
    default = re.search(r'connectors="\$\{AIRBYTE_CONNECTORS:-([^}]*)\}"', script)
    assert default is not None, "the script's default connector list moved"
    installed = set(shlex.split(default.group(1)))
    pinned = {str(load_source_config(path).options["connector"]) for path in source_files()}
    assert len(pinned) == 9
    assert pinned <= installed, f"not installed by {INSTALL_SCRIPT}: {sorted(pinned - installed)}"


@pytest.mark.parametrize("path", source_files(), ids=lambda path: path.stem)
def test_the_connector_spec_accepts_the_source_files_config(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = load(path, monkeypatch)
    spec = source.process.spec()
    schema = spec["connectionSpecification"]
    jsonschema.Draft7Validator.check_schema(schema)
    config = source.process.config
    missing = set(schema.get("required", [])) - set(config)
    assert not missing, f"{path.name} does not set the connector's required {sorted(missing)}"
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{'.'.join(map(str, error.path))}: {error.message}" for error in validator.iter_errors(config)]
    assert not errors, f"{path.name}: {errors}"


@pytest.mark.parametrize("name", DISCOVER_OFFLINE)
def test_discover_without_the_api_lists_every_stream_of_the_source_file(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "grpc_proxy"):
        monkeypatch.setenv(variable, DEAD_PROXY)
    for variable in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(variable, raising=False)
    source = load(SOURCES / f"{name}.yml", monkeypatch)
    catalog = {stream["name"]: stream for stream in source.discovered_catalog()}
    for stream in source.streams():
        assert stream.airbyte_name in catalog, f"{name}: no stream {stream.airbyte_name!r} in {sorted(catalog)}"
        [configured] = stream.configured_catalog()["streams"]  # the sync mode fits the stream's `mode`
        assert configured["sync_mode"] in catalog[stream.airbyte_name]["supported_sync_modes"]
        assert catalog[stream.airbyte_name]["json_schema"].get("properties"), f"{name}.{stream.airbyte_name}"
