"""`lakehouse company publish`: the demo's company put into real servers, for the real loaders.

The company is generated on first use (as `lakehouse demo` does, in `$LAKEHOUSE_HOME/samples/company`),
optionally advanced by some days, and every batch a server does not hold yet is published: database
tables into PostgreSQL / MySQL, event streams into Kafka, Kinesis and an MQTT broker. The loaders'
source files for what was published are written next, so `lakehouse load` can read them.
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

from company.publish import (
    Publisher,
    StreamReport,
    Target,
    connect,
    parse_target,
    password_variable,
    write_loader_sources,
)
from company.publish.base import publish_folder
from company.publish.streams import StreamPublishReport, publish_streams
from company.samples import ensure_company
from lakehouse.core.errors import ConfigError, LakehouseError
from lakehouse.core.home import lakehouse_home


def default_sources_dir() -> Path:
    return lakehouse_home() / "sources" / "local"


def run_publish(
    console: Console,
    *,
    postgres: str | None = None,
    mysql: str | None = None,
    kafka: str | None = None,
    kinesis: str | None = None,
    mqtt: str | None = None,
    days: int = 0,
    scale: float = 1.0,
    replace: bool = False,
    sources_dir: Path | None = None,
) -> dict[str, list[StreamReport]]:
    """Generate (first run), advance `days`, publish to every server named; returns reports per system."""
    targets = [parse_target(system, uri) for system, uri in (("postgres", postgres), ("mysql", mysql)) if uri]
    streams = {
        server: address for server, address in (("kafka", kafka), ("kinesis", kinesis), ("mqtt", mqtt)) if address
    }
    if not targets and not streams:
        raise ConfigError(
            "no server to publish to",
            "pass --postgres postgresql://USER:PASSWORD@HOST:PORT/DATABASE and/or --mysql mysql://USER:PASSWORD@HOST:PORT"
            " (or set LAKEHOUSE_POSTGRES_URI / LAKEHOUSE_MYSQL_URI), and/or --kafka HOST:PORT, --kinesis ENDPOINT_URL,"
            " --mqtt HOST:PORT",
        )
    with console.status("Connecting to the servers…"):
        publishers = _connect_all(targets)  # before generating: a wrong password fails at once
    targets = [publisher.target for publisher in publishers]  # as the servers answered (MySQL or MariaDB)
    reports: dict[str, list[StreamReport]] = {}
    try:
        with console.status("Generating the synthetic company (first run only)…"):
            company = ensure_company(scale=scale)
            for _ in range(days):
                company.next_day()
        console.print(
            f"Company data: {company.folder} (seed {company.seed}, scale {company.scale}, to {company.last_day})"
        )
        for target, publisher in zip(targets, publishers, strict=True):
            with console.status(f"Publishing {target.system} into {target.display()}…"):
                reports[target.system] = publish_folder(company.folder, publisher, target.system, replace=replace)
    finally:
        for publisher in publishers:
            publisher.close()
    folder = (sources_dir or default_sources_dir()).expanduser().resolve()
    if targets:
        write_loader_sources(folder, targets)
        _print_summary(console, targets, reports, folder)
    if streams:
        with console.status(f"Publishing the event streams into {', '.join(streams)}…"):
            published = publish_streams(company.folder, streams, folder)
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


def _connect_all(targets: list[Target]) -> list[Publisher]:
    publishers: list[Publisher] = []
    try:
        for target in targets:
            publishers.append(connect(target))
    except LakehouseError:
        for publisher in publishers:
            publisher.close()
        raise
    return publishers


def _print_summary(
    console: Console, targets: list[Target], reports: dict[str, list[StreamReport]], folder: Path
) -> None:
    table = Table(title="Published into real servers")
    for column in ("server", "table", "new batches", "upserted", "deleted", "rows now"):
        table.add_column(column, justify="left" if column in ("server", "table") else "right")
    for target in targets:
        for report in reports[target.system]:
            row = (report.batches, report.upserted, report.deletes, report.rows)
            table.add_row(target.display(), report.table, *(f"{value:,}" for value in row))
    console.print(table)
    console.print(f"Source files for the SQL loaders: {folder}", soft_wrap=True)
    for target in targets:
        variable = password_variable(target.system)
        if target.password and not os.environ.get(variable):
            console.print(f"  the {target.system}.yml there reads the password from {variable}: export it first")
        console.print(f"  LAKEHOUSE_SOURCES={folder} lakehouse load {target.system}", soft_wrap=True, highlight=False)
