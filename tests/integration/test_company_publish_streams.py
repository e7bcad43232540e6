"""`lakehouse company publish --kafka --kinesis --mqtt`: the company's event streams through real servers.

The generated company (small scale) is published into the Kafka broker, moto's Kinesis and
Mosquitto with the company publishers, then loaded with the Kafka, Kinesis and MQTT families from the
source files the publishers write. Each stream's bronze must hold the same business rows (keys and
values; the bronze metadata columns aside, and for Kinesis the sequence numbers and arrival times the
server assigns) as bronze loaded from the generated files by the files family, less the files' dirty
copies, which no server carries; so the staging models over those tables see the same rows. The
command runs twice: the second run adds nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import lakehouse.cli
import lakehouse.cli.errors
from company.publish.streams import clean_records
from company.samples import HISTORY_DAYS, company_folder, generate
from company.systems import SYSTEMS
from lakehouse.core.storage import LakehouseRoot
from loaders.pipeline import load_source
from tests.helpers.loader_io import bronze_rows, source_config
from tests.helpers.stream_servers import KafkaServer, MosquittoServer, MotoServer

PROJECT = Path(__file__).resolve().parents[2]
SERVER_ASSIGNED = {"kinesis": {"SequenceNumber", "ApproximateArrivalTimestamp"}}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A LAKEHOUSE_HOME whose company (small scale) is generated already: the command reuses it."""
    folder = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAKEHOUSE_HOME", str(folder))
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(key, "testing")
        yield folder


@pytest.fixture(scope="module")
def company(home: Path) -> Path:
    folder = company_folder()
    generate(folder, seed=7, scale=0.1, days=HISTORY_DAYS)
    return folder


@pytest.fixture(scope="module")
def published(
    company: Path,
    kafka_server: KafkaServer,
    moto_server: MotoServer,
    mosquitto_server: MosquittoServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, list[str]]]:
    """Publish twice through the command line (the second run must add nothing); the source files' folder."""
    sources = tmp_path_factory.mktemp("sources")
    saved = lakehouse.cli.errors.console.width
    lakehouse.cli.errors.console.width = 250
    arguments = [
        *("company", "publish", "--kafka", kafka_server.bootstrap, "--kinesis", moto_server.endpoint),
        *("--mqtt", mosquitto_server.host_port, "--sources-dir", str(sources)),
    ]
    outputs = []
    for _ in range(2):  # the second run finds everything published: the servers' rows are not doubled
        result = CliRunner().invoke(lakehouse.cli.app, arguments)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    lakehouse.cli.errors.console.width = saved
    yield sources, outputs


def files_bronze(company: Path, system: str, tmp_path: Path) -> LakehouseRoot:
    """Bronze loaded from the generated files with the embedded (files family) source definition."""
    document = yaml.safe_load((PROJECT / "sources" / "embedded" / f"{system}.yml").read_text())
    document["options"]["path"] = str(company / system)
    path = tmp_path / f"files-{system}.yml"
    path.write_text(yaml.safe_dump(document))
    (tmp_path / "files-root").mkdir(exist_ok=True)
    root = LakehouseRoot.parse(str(tmp_path / "files-root"))
    load_source(root, source_config(path))
    return root


def server_bronze(sources: Path, system: str, tmp_path: Path) -> LakehouseRoot:
    (tmp_path / "server-root").mkdir(exist_ok=True)
    root = LakehouseRoot.parse(str(tmp_path / "server-root"))
    results = load_source(root, source_config(sources / f"{system}.yml"))
    assert all(r.status == "success" and r.rows_quarantined == 0 for r in results)
    return root


def business(row: dict[str, Any], system: str) -> str:
    """A row's business content, canonical: metadata and server-assigned columns out, nulls and 1.0-vs-1 aside."""
    skip = SERVER_ASSIGNED.get(system, set())
    kept = {k: v for k, v in row.items() if not k.startswith("_") and k not in skip}
    return json.dumps(_canonical(kept), sort_keys=True)


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@pytest.mark.parametrize("system", ["kafka", "kinesis", "iot_core"])
def test_bronze_from_the_server_holds_the_files_business_rows(
    system: str, company: Path, published: tuple[Path, list[str]], tmp_path: Path
) -> None:
    sources, _ = published
    from_files = files_bronze(company, system, tmp_path)
    from_server = server_bronze(sources, system, tmp_path)

    for spec in SYSTEMS[system].streams:
        files = [clean_records(path, spec) for path in (company / system / spec.stream).glob("*.jsonl")]
        clean, dirty = sum(len(records) for records, _ in files), sum(n for _, n in files)
        server_rows = Counter(business(r, system) for r in bronze_rows(from_server, system, spec.stream))
        file_rows = Counter(business(r, system) for r in bronze_rows(from_files, system, spec.stream))
        assert server_rows.total() == clean > 0, spec.stream  # published twice, each message once
        missing = server_rows - file_rows
        assert not missing, f"{spec.stream}: rows from the server that the files do not hold: {list(missing)[:2]}"
        # What the files' bronze holds beyond the server's can only be their dirty copies.
        assert (file_rows - server_rows).total() <= dirty, spec.stream


def test_the_command_reports_each_server_and_where_the_source_files_are(published: tuple[Path, list[str]]) -> None:
    sources, (first, second) = published
    assert {p.name for p in sources.glob("*.yml")} == {"kafka.yml", "kinesis.yml", "iot_core.yml"}
    for stream in ("user_events", "real_time_data_stream", "sensor_data"):
        assert stream in first
    assert str(sources) in second
