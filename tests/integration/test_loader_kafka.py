"""The Kafka family against a real Apache Kafka 4.x broker (KRaft, started by `kafka_server`).

A load reads every partition from the committed offsets to the high watermarks it saw when it
started, so it ends; a second load reads only what was produced since; a malformed message lands in
the quarantine with its topic, partition and offset and the rest of the stream loads; Avro values
decode with a schema file; a wrong topic is a clear error; `lakehouse stream` follows the topic
and, on SIGTERM, commits what it has and exits 0. Over the broker's SASL_SSL listener (SCRAM-SHA-512,
as Amazon MSK offers) a source with those settings lands a topic, and a wrong password ends the load
with a clear error that prints the password nowhere.
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import fastavro
import pytest
from confluent_kafka import Producer
from typer.testing import CliRunner

import lakehouse.cli
import lakehouse.cli.errors
from lakehouse.core.errors import SourceError
from lakehouse.core.storage import LakehouseRoot
from loaders.pipeline import load_source
from tests.helpers.loader_io import (
    bronze_rows,
    ledger_rows,
    quarantine_rows,
    source_config,
    write_source,
)
from tests.helpers.stream_command import following, wait_for_bronze_rows
from tests.helpers.stream_servers import KafkaServer


@pytest.fixture
def local_root(tmp_path: Path) -> LakehouseRoot:
    folder = tmp_path / "root"
    folder.mkdir()
    return LakehouseRoot.parse(str(folder))


def new_topic(server: KafkaServer, partitions: int = 3) -> str:
    name = f"t_{uuid.uuid4().hex[:10]}"
    server.create_topic(name, partitions)
    return name


def produce(server: KafkaServer, topic: str, values: list[bytes], *, keyed: bool = True) -> None:
    producer = Producer({"bootstrap.servers": server.bootstrap, "linger.ms": 5})
    for n, value in enumerate(values):
        key = f"k{n % 17}".encode() if keyed else None
        producer.produce(topic, value=value, key=key, headers=[("kind", b"test")])
    assert producer.flush(30) == 0


def kafka_source(folder: Path, server: KafkaServer, streams: list[dict[str, Any]]) -> Path:
    return write_source(
        folder, streams, source="events", type_="kafka", options={"bootstrap_servers": server.bootstrap}
    )


def sasl_ssl_source(folder: Path, server: KafkaServer, streams: list[dict[str, Any]]) -> Path:
    """The broker's SASL_SSL listener with SCRAM-SHA-512; the password from `KAFKA_TEST_PASSWORD`."""
    assert server.ca is not None
    options = {
        "bootstrap_servers": server.sasl_bootstrap,
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": server.scram_user,
        "sasl_password": "${KAFKA_TEST_PASSWORD}",
        "ssl_ca_location": str(server.ca.cert),
    }
    return write_source(folder, streams, source="events", type_="kafka", options=options)


def test_a_load_reads_to_the_end_and_the_next_only_what_is_new(
    kafka_server: KafkaServer, local_root: LakehouseRoot, tmp_path: Path
) -> None:
    topic = new_topic(kafka_server)
    produce(kafka_server, topic, [json.dumps({"n": n, "name": f"item-{n}"}).encode() for n in range(500)])
    path = kafka_source(tmp_path, kafka_server, [{"name": "items", "topic": topic, "batch_messages": 120}])

    first = load_source(local_root, source_config(path))[0]
    produce(kafka_server, topic, [json.dumps({"n": n, "name": f"item-{n}"}).encode() for n in range(500, 650)])
    second = load_source(local_root, source_config(path))[0]
    third = load_source(local_root, source_config(path))[0]

    rows = bronze_rows(local_root, "events", "items")
    assert sorted(row["value"]["n"] for row in rows) == list(range(650))
    assert (first.rows, second.rows, third.rows) == (500, 150, 0)
    assert first.batches >= 5  # micro-batches of at most 120 messages
    assert {row["topic"] for row in rows} == {topic}
    assert {row["headers"]["kind"] for row in rows} == {"test"}
    offsets = sorted((row["partition"], row["offset"]) for row in rows)
    assert len(set(offsets)) == 650  # each message once
    assert json.loads(second.cursor_after)["offsets"] == {
        str(p): 1 + max(o for q, o in offsets if q == p) for p in {p for p, _ in offsets}
    }


def test_a_malformed_message_is_quarantined_with_its_offset_and_the_rest_loads(
    kafka_server: KafkaServer, local_root: LakehouseRoot, tmp_path: Path
) -> None:
    topic = new_topic(kafka_server, partitions=1)
    values = [json.dumps({"n": n}).encode() for n in range(300)]
    values[137] = b'{"n": 137, broken'
    values[200] = b"\xff\xfe not utf-8"
    produce(kafka_server, topic, values)
    path = kafka_source(tmp_path, kafka_server, [{"name": "items", "topic": topic, "batch_messages": 100}])

    result = load_source(local_root, source_config(path))[0]

    assert sorted(row["value"]["n"] for row in bronze_rows(local_root, "events", "items")) == [
        n for n in range(300) if n not in (137, 200)
    ]
    quarantined = sorted(quarantine_rows(local_root), key=lambda row: row["reason"])
    assert [row["reason"].split(":")[0] for row in quarantined] == [f"{topic}/0/137", f"{topic}/0/200"]
    assert quarantined[0]["raw_payload"] == '{"n": 137, broken'
    assert "malformed JSON" in quarantined[0]["reason"]
    assert (result.rows_read, result.rows, result.rows_quarantined) == (300, 298, 2)
    assert ledger_rows(local_root)[0]["status"] == "success"


AVRO_SCHEMA = {
    "type": "record",
    "name": "Reading",
    "fields": [
        {"name": "device_id", "type": "string"},
        {"name": "temperature_c", "type": "double"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
    ],
}


def test_avro_values_decode_with_a_schema_file(
    kafka_server: KafkaServer, local_root: LakehouseRoot, tmp_path: Path
) -> None:
    topic = new_topic(kafka_server, partitions=2)
    schema = fastavro.parse_schema(AVRO_SCHEMA)
    values = []
    for n in range(40):
        out = io.BytesIO()
        reading = {"device_id": f"d-{n}", "temperature_c": n / 2, "tags": ["a"] * (n % 3)}
        fastavro.schemaless_writer(out, schema, reading)
        values.append(out.getvalue())
    values.append(b"\x07")  # not a Reading
    produce(kafka_server, topic, values)
    (tmp_path / "reading.avsc").write_text(json.dumps(AVRO_SCHEMA))
    stream = {"name": "readings", "topic": topic, "format": "avro", "avro_schema_file": "reading.avsc"}
    path = kafka_source(tmp_path, kafka_server, [stream])

    result = load_source(local_root, source_config(path))[0]

    rows = {row["value"]["device_id"]: row["value"] for row in bronze_rows(local_root, "events", "readings")}
    assert len(rows) == 40
    assert rows["d-5"] == {"device_id": "d-5", "temperature_c": 2.5, "tags": ["a", "a"]}
    assert result.rows_quarantined == 1
    assert "malformed Avro payload" in quarantine_rows(local_root)[0]["reason"]


def test_a_sasl_ssl_scram_source_lands_a_topic(
    kafka_server: KafkaServer, local_root: LakehouseRoot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = new_topic(kafka_server, partitions=2)
    produce(kafka_server, topic, [json.dumps({"n": n}).encode() for n in range(200)])
    monkeypatch.setenv("KAFKA_TEST_PASSWORD", kafka_server.scram_password)
    path = sasl_ssl_source(tmp_path, kafka_server, [{"name": "items", "topic": topic, "batch_messages": 80}])

    result = load_source(local_root, source_config(path))[0]

    assert (result.status, result.rows) == ("success", 200)
    assert sorted(row["value"]["n"] for row in bronze_rows(local_root, "events", "items")) == list(range(200))


def test_a_wrong_sasl_password_is_a_clear_error_that_never_prints_the_password(
    kafka_server: KafkaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    topic = new_topic(kafka_server, partitions=1)
    sasl_ssl_source(tmp_path, kafka_server, [{"name": "items", "topic": topic}])
    wrong = "Wrong-scram-Pa55word"
    (tmp_path / "root").mkdir()
    monkeypatch.setenv("KAFKA_TEST_PASSWORD", wrong)
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("LAKEHOUSE_SOURCES", str(tmp_path))
    monkeypatch.setattr(lakehouse.cli.errors.console, "width", 250)

    result = CliRunner().invoke(lakehouse.cli.app, ["load", "events"])

    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    error = next(line for line in lines if line.startswith("error:"))
    assert f"Kafka at {kafka_server.sasl_bootstrap} refused the login of user 'lakehouse'" in error
    assert "SCRAM-SHA-512" in error and "invalid credentials" in error
    assert "sasl_password" in next(line for line in lines if line.startswith("fix:"))
    [entry] = ledger_rows(LakehouseRoot.parse(str(tmp_path / "root")))
    assert entry["status"] == "failed" and "refused the login" in entry["error"]
    captured = capfd.readouterr()  # what librdkafka wrote to the process's own stdout and stderr too
    for text in (result.output, captured.out, captured.err, entry["error"]):
        assert wrong not in text and kafka_server.scram_password not in text


def test_a_missing_topic_is_a_clear_error(kafka_server: KafkaServer, local_root: LakehouseRoot, tmp_path: Path) -> None:
    path = kafka_source(tmp_path, kafka_server, [{"name": "items", "topic": "no_such_topic"}])

    with pytest.raises(SourceError, match="no_such_topic do not exist") as raised:
        load_source(local_root, source_config(path))
    assert "create the topics" in raised.value.fix


def test_lakehouse_stream_follows_the_topic_and_sigterm_commits_and_exits_0(
    kafka_server: KafkaServer, local_root: LakehouseRoot, tmp_path: Path
) -> None:
    topic = new_topic(kafka_server, partitions=2)
    kafka_source(tmp_path, kafka_server, [{"name": "items", "topic": topic}])
    with following("events", tmp_path, local_root, batch_size=50, interval=0.2) as ended:
        for burst in range(3):  # produced while the command runs: it keeps following
            produce(kafka_server, topic, [json.dumps({"n": burst * 100 + n}).encode() for n in range(100)])
            wait_for_bronze_rows(local_root, "events", "items", (burst + 1) * 100)
    assert ended.returncode == 0, ended.output
    assert sorted(row["value"]["n"] for row in bronze_rows(local_root, "events", "items")) == list(range(300))
    [entry] = ledger_rows(local_root)
    assert (entry["status"], entry["rows_loaded"]) == ("success", 300)
    assert entry["batches"] >= 6  # micro-batches of at most 50 messages
