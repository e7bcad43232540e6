"""`lakehouse company publish --kafka --kinesis --mqtt`: the company's event streams through real servers.

The generated company (small scale) is published into the Kafka broker, moto's Kinesis and
Mosquitto with the company publishers, then loaded with the Kafka, Kinesis and MQTT families from the
source files the publishers write (in micro-batches of 25 messages, so Arrow infers the types of each
batch from a few messages). Each stream's bronze must have the same fields and types as bronze loaded
from the generated files by the files family (nested fields may differ in order: they come in the order
they first arrived, and Kafka keeps order only within a partition), and hold the same business rows
(keys and values; the bronze metadata columns aside, and for Kinesis the sequence numbers and arrival
times the server assigns), less the files' dirty copies, which no server carries. The command runs
twice: the second run adds nothing.

Then the staging models over the stream systems and the silver models over those (`dbt run` on a
Spark server of its own) are built once over the files' bronze and once over the servers' bronze:
the staging models have the same columns and types and, dirty copies and server-assigned columns
aside, the same rows; the silver models hold the same rows.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
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
from lakehouse.catalog import bronze_database, ensure_layer_databases, register_bronze, thrift_cursor
from lakehouse.core.storage import LakehouseRoot
from lakehouse.dbt_runner import run_dbt
from loaders.core.config import SourceConfig
from loaders.pipeline import load_source
from tests.helpers.loader_io import bronze, fields_by_name, source_config
from tests.helpers.spark import SparkServer
from tests.helpers.stream_servers import KafkaServer, MosquittoServer, MotoServer

PROJECT = Path(__file__).resolve().parents[2]
STREAM_SYSTEMS = ("kafka", "kinesis", "iot_core")
# The servers' bronze is loaded in small micro-batches, as `lakehouse stream` commits them: Arrow infers
# each batch's types from its few messages, where the files family infers them from a whole file.
MICRO_BATCH = 25
BATCH_KEYS = {"kafka": "batch_messages", "kinesis": "batch_records", "mqtt": "batch_messages"}
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


@dataclass(frozen=True)
class Bronze:
    root: LakehouseRoot
    configs: list[SourceConfig]


def files_source(company: Path, system: str, folder: Path) -> Path:
    """The embedded (files family) source definition, reading the generated company's files."""
    document = yaml.safe_load((PROJECT / "sources" / "embedded" / f"{system}.yml").read_text())
    document["options"]["path"] = str(company / system)
    path = folder / f"{system}.yml"
    path.write_text(yaml.safe_dump(document))
    return path


def new_root(folder: Path) -> LakehouseRoot:
    (folder / "root").mkdir()
    return LakehouseRoot.parse(str(folder / "root"))


@pytest.fixture(scope="module")
def files_bronze(company: Path, tmp_path_factory: pytest.TempPathFactory) -> Bronze:
    """Bronze loaded from the generated files by the files family."""
    folder = tmp_path_factory.mktemp("files-bronze")
    root = new_root(folder)
    configs = [source_config(files_source(company, system, folder)) for system in STREAM_SYSTEMS]
    for config in configs:
        load_source(root, config)
    return Bronze(root, configs)


@pytest.fixture(scope="module")
def server_bronze(published: tuple[Path, list[str]], tmp_path_factory: pytest.TempPathFactory) -> Bronze:
    """Bronze loaded from the servers with the source files the publishers wrote, in micro-batches of
    `MICRO_BATCH` messages; once per module, as MQTT has no replay (a message loaded is acknowledged,
    and the broker forgets it)."""
    sources, _ = published
    folder = tmp_path_factory.mktemp("server-bronze")
    root = new_root(folder)
    configs = [source_config(micro_batched(sources / f"{system}.yml", folder)) for system in STREAM_SYSTEMS]
    for config in configs:
        results = load_source(root, config)
        assert all(r.status == "success" and r.rows_quarantined == 0 for r in results), config.source
    return Bronze(root, configs)


def micro_batched(path: Path, folder: Path) -> Path:
    """A copy of a publisher's source file whose streams commit every `MICRO_BATCH` messages."""
    document = yaml.safe_load(path.read_text())
    key = BATCH_KEYS[document["type"]]
    document["streams"] = [{**stream, key: MICRO_BATCH} for stream in document["streams"]]
    copy = folder / path.name
    copy.write_text(yaml.safe_dump(document, sort_keys=False))
    return copy


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


def clean_and_dirty(company: Path, system: str, stream: str) -> tuple[int, int]:
    """The records of a stream's files a server carries, and the dirty copies it does not."""
    spec = next(spec for spec in SYSTEMS[system].streams if spec.stream == stream)
    files = [clean_records(path, spec) for path in (company / system / stream).glob("*.jsonl")]
    return sum(len(records) for records, _ in files), sum(n for _, n in files)


@pytest.mark.parametrize("system", STREAM_SYSTEMS)
def test_bronze_from_the_server_holds_the_files_business_rows(
    system: str, company: Path, files_bronze: Bronze, server_bronze: Bronze
) -> None:
    for spec in SYSTEMS[system].streams:
        server_table = bronze(server_bronze.root, system, spec.stream)
        files_table = bronze(files_bronze.root, system, spec.stream)
        assert fields_by_name(server_table.schema) == fields_by_name(files_table.schema), spec.stream
        clean, dirty = clean_and_dirty(company, system, spec.stream)
        server_rows = Counter(business(r, system) for r in server_table.to_pylist())
        file_rows = Counter(business(r, system) for r in files_table.to_pylist())
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


# The silver models that read the stream systems' staging models (only IoT's: the Kafka and Kinesis staging
# models feed no silver model yet), and the staging models over every stream.
SILVER_OVER_STREAMS = ("slv_sensor_readings", "slv_device_status")
STAGING_OVER_STREAMS = tuple(f"stg_{name}__{spec.stream}" for name in STREAM_SYSTEMS for spec in SYSTEMS[name].streams)
DBT_RUN = [
    *("run", "--select", *(f"path:models/staging/{system}" for system in STREAM_SYSTEMS)),
    *(f"+{model}" for model in SILVER_OVER_STREAMS),
    *("--full-refresh", "--vars", json.dumps({"observability_enabled": False})),
]
AUDIT_COLUMNS = {"_loaded_at", "_load_id"}  # when and by which load: differ between any two loads
SERVER_ASSIGNED_STAGING = {"kinesis": {"sequence_number", "arrived_at"}}


@dataclass
class Relation:
    columns: list[tuple[str, str]]  # (name, Spark type)
    names: list[str]  # the columns of `rows`: the audit columns left out
    rows: Counter[tuple]


def test_staging_and_silver_over_the_servers_bronze_equal_those_over_the_files_bronze(
    company: Path,
    files_bronze: Bronze,
    server_bronze: Bronze,
    spark_factory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spark: SparkServer = spark_factory(files_bronze.root)
    monkeypatch.setenv("LAKEHOUSE_THRIFT_HOST", spark.endpoint.host)
    monkeypatch.setenv("LAKEHOUSE_THRIFT_PORT", str(spark.endpoint.port))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt-target"))
    with thrift_cursor(spark.endpoint) as cursor:
        ensure_layer_databases(cursor, files_bronze.root)
        register_bronze(cursor, files_bronze.root, files_bronze.configs)
    from_files = build_and_read(spark)
    with thrift_cursor(spark.endpoint) as cursor:  # the same bronze tables, now over the servers' bronze
        for config in server_bronze.configs:
            for stream in config.streams:
                cursor.execute(f"drop table {bronze_database(config.source)}.{stream.name}")
        register_bronze(cursor, server_bronze.root, server_bronze.configs)
    from_servers = build_and_read(spark)

    for model in SILVER_OVER_STREAMS:
        files, servers = from_files[model], from_servers[model]
        assert servers.columns == files.columns, model
        assert servers.rows.total() > 0, model
        assert servers.rows == files.rows, f"{model}: {list((servers.rows - files.rows).elements())[:2]}"
    for model in STAGING_OVER_STREAMS:
        system, stream = model.removeprefix("stg_").split("__")
        files, servers = from_files[model], from_servers[model]
        assert servers.columns == files.columns, model
        kept = [i for i, name in enumerate(files.names) if name not in SERVER_ASSIGNED_STAGING.get(system, ())]
        files_rows, server_rows = _project(files.rows, kept), _project(servers.rows, kept)
        clean, dirty = clean_and_dirty(company, system, stream)
        assert server_rows.total() == clean > 0, model
        assert not server_rows - files_rows, f"{model}: {list((server_rows - files_rows).elements())[:2]}"
        assert (files_rows - server_rows).total() <= dirty, model  # the files' dirty copies, which no server carries


def build_and_read(spark: SparkServer) -> dict[str, Relation]:
    """Build the stream systems' staging models and the silver models over them; read each back."""
    outcome = run_dbt(DBT_RUN)
    assert outcome.success, outcome.failures
    assert outcome.statuses == {"success": len(STAGING_OVER_STREAMS) + len(SILVER_OVER_STREAMS)}, outcome.statuses
    relations = {}
    with thrift_cursor(spark.endpoint) as cursor:
        for model in (*STAGING_OVER_STREAMS, *SILVER_OVER_STREAMS):
            table = f"{'silver' if model.startswith('slv_') else 'staging'}.{model}"
            cursor.execute(f"describe {table}")
            columns = []
            for name, kind, *_ in cursor.fetchall():
                if not name or name.startswith("#"):  # the partitioning section follows the columns
                    break
                columns.append((name, kind))
            kept = [name for name, _ in columns if name not in AUDIT_COLUMNS]
            cursor.execute(f"select {', '.join(f'`{name}`' for name in kept)} from {table}")
            relations[model] = Relation(columns, kept, Counter(tuple(row) for row in cursor.fetchall()))
    return relations


def _project(rows: Counter[tuple], columns: list[int]) -> Counter[tuple]:
    return Counter({tuple(row[i] for i in columns): n for row, n in rows.items()})
