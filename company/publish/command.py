"""`lakehouse company publish`: the demo's company put into real servers, for the real loaders.

The company is generated on first use (as `lakehouse demo` does, in `$LAKEHOUSE_HOME/samples/company`),
optionally advanced by some days, and every batch a server does not hold yet is published: database
tables into PostgreSQL / MySQL, collections into MongoDB, tables into DynamoDB, file drops onto an
SFTP server, event streams into Kafka, Kinesis and an MQTT broker. The loaders' source files for what
was published are written next, so `lakehouse load` can read them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from company.publish import Publisher, StreamReport, connect, parse_target
from company.publish import dynamodb as dynamodb_publisher
from company.publish import sftp as sftp_publisher
from company.publish.base import publish_folder
from company.publish.sftp import DropReport, SftpPublisher
from company.publish.sources import write_source_file
from company.publish.streams import StreamPublishReport, publish_streams
from company.samples import ensure_company
from lakehouse.core.errors import ConfigError, LakehouseError
from lakehouse.core.home import lakehouse_home

Report = StreamReport | DropReport | StreamPublishReport
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def default_sources_dir() -> Path:
    return lakehouse_home() / "sources" / "local"


def run_publish(
    console: Console,
    *,
    postgres: str | None = None,
    mysql: str | None = None,
    mongodb: str | None = None,
    dynamodb: str | None = None,
    sftp: str | None = None,
    kafka: str | None = None,
    kinesis: str | None = None,
    mqtt: str | None = None,
    days: int = 0,
    scale: float = 1.0,
    replace: bool = False,
    sources_dir: Path | None = None,
) -> dict[str, list[Report]]:
    """Generate (first run), advance `days`, publish to every server named; returns reports per system."""
    uris = (("postgres", postgres), ("mysql", mysql), ("mongodb", mongodb))
    targets = [parse_target(system, uri) for system, uri in uris if uri]
    drop = sftp_publisher.parse_target(sftp) if sftp else None
    streams = {
        server: address for server, address in (("kafka", kafka), ("kinesis", kinesis), ("mqtt", mqtt)) if address
    }
    if not targets and not dynamodb and not drop and not streams:
        raise ConfigError(
            "no server to publish to",
            "pass --postgres postgresql://USER:PASSWORD@HOST:PORT/DATABASE, --mysql mysql://USER:PASSWORD@HOST:PORT, "
            "--mongodb mongodb://USER:PASSWORD@HOST:PORT/DATABASE (or set LAKEHOUSE_POSTGRES_URI / LAKEHOUSE_MYSQL_URI "
            "/ LAKEHOUSE_MONGODB_URI), --dynamodb ENDPOINT_URL, --sftp sftp://USER@HOST:PORT/PATH, --kafka HOST:PORT, "
            "--kinesis ENDPOINT_URL and/or --mqtt HOST:PORT",
        )
    with console.status("Connecting to the servers…"):
        publishers, dropper = _connect_all(targets, dynamodb, drop)  # before generating: a wrong password fails at once
    folder = (sources_dir or default_sources_dir()).expanduser().resolve()
    try:
        with console.status("Generating the synthetic company (first run only)…"):
            company = ensure_company(scale=scale)
            for _ in range(days):
                company.next_day()
        console.print(
            f"Company data: {company.folder} (seed {company.seed}, scale {company.scale}, to {company.last_day})"
        )
        reports, written = _publish_all(console, company.folder, publishers, dropper, folder, replace=replace)
    finally:
        for opened in [*publishers, *([dropper] if dropper else [])]:
            opened.close()
    if publishers:
        _print_summary(console, publishers, reports)
    if dropper is not None:
        _print_drop_summary(console, dropper, reports["sftp"])
    if written:
        _print_loading(console, folder, written)
    if streams:
        with console.status(f"Publishing the event streams into {', '.join(streams)}…"):
            published = publish_streams(company.folder, streams, folder)
        reports |= published
        _print_stream_summary(console, streams, published, folder)
    return reports


def _print_stream_summary(
    console: Console, servers: dict[str, str], reports: dict[str, list[StreamPublishReport]], folder: Path
) -> None:
    table = Table(title="Published into streaming servers")
    for column in ("server", "stream", "topic / stream", "new batches", "new messages", "dirty lines left out"):
        table.add_column(column, justify="right" if column.startswith(("new", "dirty")) else "left")
    for server, address in servers.items():
        for report in reports[server]:
            counts = (report.batches, report.messages, report.skipped_dirty)
            table.add_row(f"{server} {address}", report.stream, report.target, *(f"{n:,}" for n in counts))
    console.print(table)
    console.print(f"Source files for the stream loaders: {folder}", soft_wrap=True)
    for system in sorted({"kafka": "kafka", "kinesis": "kinesis", "mqtt": "iot_core"}[s] for s in servers):
        console.print(f"  LAKEHOUSE_SOURCES={folder} lakehouse load {system}", soft_wrap=True, highlight=False)


def _publish_all(
    console: Console,
    company: Path,
    publishers: list[Publisher],
    dropper: SftpPublisher | None,
    folder: Path,
    *,
    replace: bool,
) -> tuple[dict[str, list[Report]], list[tuple[str, dict[str, Any]]]]:
    """Publish into every connected server and write its loader's source file: (reports, source files)."""
    reports: dict[str, list[Report]] = {}
    written: list[tuple[str, dict[str, Any]]] = []
    for publisher in publishers:
        with console.status(f"Publishing {publisher.system} into {publisher.where}…"):
            reports[publisher.system] = publish_folder(company, publisher, publisher.system, replace=replace)
        written.append((publisher.system, publisher.loader_source()))
        write_source_file(folder, publisher.system, publisher.where, written[-1][1])
    if dropper is not None:
        with console.status(f"Dropping the company's files onto {dropper.where}…"):
            reports["sftp"] = dropper.publish(company, replace=replace)
        written.append(("sftp", dropper.loader_source()))
        write_source_file(folder, "sftp", dropper.where, written[-1][1])
    return reports, written


def _connect_all(
    targets: list[Any], dynamodb: str | None, drop: sftp_publisher.SftpTarget | None
) -> tuple[list[Publisher], SftpPublisher | None]:
    publishers: list[Publisher] = []
    try:
        for target in targets:
            publishers.append(connect(target))
        if dynamodb:
            publishers.append(dynamodb_publisher.connect(dynamodb))
        return publishers, sftp_publisher.connect(drop) if drop else None
    except LakehouseError:
        for publisher in publishers:
            publisher.close()
        raise


def _print_summary(console: Console, publishers: list[Publisher], reports: dict[str, list[Report]]) -> None:
    table = Table(title="Published into real servers")
    for column in ("server", "table", "new batches", "upserted", "deleted", "dirty lines left out", "rows now"):
        table.add_column(column, justify="left" if column in ("server", "table") else "right")
    for publisher in publishers:
        for report in reports[publisher.system]:
            row = (report.batches, report.upserted, report.deletes, report.skipped_dirty, report.rows)
            table.add_row(publisher.where, report.table, *(f"{value:,}" for value in row))
    console.print(table)


def _print_drop_summary(console: Console, dropper: SftpPublisher, reports: list[Report]) -> None:
    table = Table(title="Dropped onto an SFTP server")
    for column in ("server", "folder", "new batches", "new files", "rows in them"):
        table.add_column(column, justify="left" if column in ("server", "folder") else "right")
    for report in reports:
        counts = (report.batches, report.files, report.rows)
        table.add_row(dropper.where, report.folder, *(f"{n:,}" for n in counts))
    console.print(table)


def _print_loading(console: Console, folder: Path, written: list[tuple[str, dict[str, Any]]]) -> None:
    """Where the source files are, the secrets they read that are not set here, and how to load them."""
    console.print(f"Source files for the loaders: {folder}", soft_wrap=True)
    for system, source in written:
        for variable in sorted(set(REFERENCE.findall(str(source.get("options", {}))))):
            if not os.environ.get(variable):
                console.print(f"  the {system}.yml there reads {variable}: export it first", highlight=False)
        console.print(f"  LAKEHOUSE_SOURCES={folder} lakehouse load {system}", soft_wrap=True, highlight=False)
