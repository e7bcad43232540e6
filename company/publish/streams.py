"""The generated company's event streams, put into real streaming servers: Kafka, Kinesis, MQTT.

A stream system's files (`kafka/<topic>/<batch>.jsonl`, ...) hold each message in the shape the
server hands it to a consumer (a Kafka consumer record, a Kinesis `GetRecords` record, an MQTT
message as an IoT Core rule lands it). A stream publisher replays those messages into its server,
batch after batch in batch-name order, and writes the loader's source file for the server
(`type: kafka | kinesis | mqtt`, the embedded default's source and stream names, so bronze tables and
the dbt models over them stay the same).

The files' dirty lines (an extra, broken copy of a record, see `company.dirty`) are not messages a
server would carry and are left out. Publishing is incremental and idempotent; how a server
remembers what it holds is the publisher's own (Kafka: the partitions' end offsets, which are the
messages' offsets; Kinesis: a tag on the stream; MQTT: a retained message).

One module per server (`kafka`, `kinesis`, `mqtt`), each with `connect(address) -> StreamPublisher`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from company.publish.changes import load_manifest
from company.spec import Record, StreamDef
from company.systems import SYSTEMS

STREAM_SERVERS = {"kafka": "kafka", "kinesis": "kinesis", "mqtt": "iot_core"}  # option -> generated system


@dataclass
class StreamPublishReport:
    stream: str
    target: str  # the topic, stream or topic filter, as the server names it
    batches: int = 0  # batches published by this run
    messages: int = 0  # messages published by this run
    skipped_dirty: int = 0  # the files' dirty copies, left out


class StreamPublisher(Protocol):
    where: str  # the server as messages name it

    def publish(self, folder: Path) -> list[StreamPublishReport]:
        """Every message of the folder's batches the server does not hold yet."""
        ...

    def loader_source(self) -> dict[str, Any]:
        """The loader's source file for what this server now holds."""
        ...

    def close(self) -> None: ...


def batches(folder: Path, system: str) -> Iterator[tuple[str, StreamDef, list[Record], int]]:
    """(batch, stream, clean records, dirty lines left out), in batch-name order."""
    manifest = load_manifest(folder)
    written = manifest.systems[system].streams
    for batch in manifest.batches:
        for spec in SYSTEMS[system].streams:
            stats = written[spec.stream].batches.get(batch)
            if stats is None or stats.file is None:
                continue
            records, dirty = clean_records(folder / stats.file, spec)
            yield batch, spec, records, dirty


def clean_records(path: Path, spec: StreamDef) -> tuple[list[Record], int]:
    """The file's records without its dirty copies (cut off, missing the key, or a cursor of the wrong type)."""
    records: list[Record] = []
    dirty = 0
    required = spec.primary_key[0] if spec.primary_key else None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            dirty += 1
            continue
        cursor = record.get(spec.cursor_field) if spec.cursor_field else 0
        if (required and required not in record) or isinstance(cursor, bool) or not isinstance(cursor, int | float):
            dirty += 1
            continue
        records.append(record)
    return records, dirty


def system_meta(system: str) -> dict[str, Any]:
    definition = SYSTEMS[system]
    return {"source": definition.name, "frequency": "real-time"}


def connect_stream(server: str, address: str) -> StreamPublisher:
    """A connected publisher for `server` (kafka | kinesis | mqtt); an unreachable server is a cause + fix."""
    import importlib

    return importlib.import_module(f"company.publish.{server}").connect(address)


def write_stream_source(folder: Path, server: str, publisher: StreamPublisher) -> Path:
    import yaml

    system = STREAM_SERVERS[server]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{system}.yml"
    header = (
        f"# {system}: the company's messages as `lakehouse company publish` put them into {publisher.where}.\n"
        "# Written by that command; publishing again rewrites this file.\n"
    )
    path.write_text(header + yaml.safe_dump(publisher.loader_source(), sort_keys=False), encoding="utf-8")
    return path


def publish_streams(folder: Path, servers: dict[str, str], sources_dir: Path) -> dict[str, list[StreamPublishReport]]:
    """Publish into every server named (`{"kafka": "HOST:PORT", ...}`) and write its loader source file."""
    reports: dict[str, list[StreamPublishReport]] = {}
    for server, address in servers.items():
        publisher = connect_stream(server, address)
        try:
            reports[server] = publisher.publish(folder)
            write_stream_source(sources_dir, server, publisher)
        finally:
            publisher.close()
    return reports
