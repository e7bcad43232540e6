"""The observability commands: `lakehouse report`, `lakehouse alerts`, `lakehouse check-project`.

lakehouse report [--output PATH] [--schema DB] [--manifest PATH]
lakehouse alerts [--webhook URL] [--invocation ID] [--include-warnings] [--dry-run]
lakehouse check-project [--manifest PATH]
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from lakehouse.core.errors import LakehouseError
from lakehouse.core.storage import LakehouseRoot

if TYPE_CHECKING:
    from lakehouse.platform.spark import ThriftEndpoint

console = Console()
observability_app = typer.Typer(help="Data quality and observability: report, alerts, project rules.")


def _friendly(command):
    from lakehouse.cli.errors import friendly_errors  # cause + fix, exit 2, no traceback

    return friendly_errors(command)


SchemaOption = Annotated[
    str | None,
    typer.Option("--schema", help="Observability database (default: LAKEHOUSE_OBSERVABILITY_SCHEMA or observability)."),
]


@observability_app.command("report")
def report(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the HTML file.")] = Path(
        "lakehouse-report.html"
    ),
    schema: SchemaOption = None,
    manifest: Annotated[
        Path | None, typer.Option(help="dbt's manifest.json (default: the dbt target folder's).")
    ] = None,
) -> None:
    """Write one self-contained HTML dashboard: health, tests, anomalies, lineage, run times, loads, freshness.

    Starts the local Spark Thrift server when none is running (and stops it again afterwards).
    """
    _friendly(_report)(output, schema, manifest)


def _report(output: Path, schema: str | None, manifest: Path | None) -> None:
    from lakehouse.catalog import thrift_cursor
    from lakehouse.dbt_runner import target_dir
    from lakehouse.report.report import build_report, read_ledger, source_frequencies, write_report
    from lakehouse.report.store import ObservabilityStore, default_schema

    root = LakehouseRoot.from_env()
    manifest_path = manifest or target_dir() / "manifest.json"
    manifest_data = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    with (
        thrift_server(root) as endpoint,
        console.status("Reading the observability tables…"),
        thrift_cursor(endpoint) as cursor,
    ):
        store = ObservabilityStore(cursor, schema or default_schema())
        data = build_report(
            store, manifest=manifest_data, ledger=read_ledger(root), source_frequencies=source_frequencies(), root=root
        )
    path = write_report(data, output)
    console.print(
        f"Report: {path.resolve()} ({len(data.tests)} tests, {sum(a['anomalous'] for a in data.anomalies)} anomalies, "
        f"{len(data.loads)} recent loads)"
    )


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@contextmanager
def thrift_server(root: LakehouseRoot) -> Iterator[ThriftEndpoint]:
    """The Thrift server to read from: the running one, or the local one for `root`, started here and
    stopped afterwards (as after `make demo`, which stops its server). A remote endpoint is never started."""
    from lakehouse.platform.jars import JarSet
    from lakehouse.platform.process import port_open
    from lakehouse.platform.spark import SparkThriftServer, ThriftEndpoint

    endpoint = ThriftEndpoint.from_env()
    if port_open(endpoint.host, endpoint.port, timeout=2.0) or endpoint.host not in LOOPBACK:
        yield endpoint
        return
    server = SparkThriftServer(root, endpoint)
    with console.status(f"Starting the local Spark Thrift server on port {endpoint.port}…"):
        JarSet.for_installed().resolve()
        state, started = server.start()
    if started:
        console.print(f"Started the local Spark Thrift server (pid {state.pid}) for the report; it stops afterwards.")
    try:
        yield endpoint
    finally:
        if started:
            server.stop()
            console.print("Stopped the Spark Thrift server the report started.")


@observability_app.command("alerts")
def alerts(
    webhook: Annotated[
        str | None, typer.Option(help="Slack-style incoming webhook URL (default: LAKEHOUSE_ALERT_WEBHOOK).")
    ] = None,
    invocation: Annotated[str | None, typer.Option(help="A dbt invocation id (default: the latest run).")] = None,
    include_warnings: Annotated[bool, typer.Option(help="Also alert on tests with severity warn.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Print the messages instead of posting them.")] = False,
    schema: SchemaOption = None,
) -> None:
    """Post the last run's failures and anomalies to a webhook, one message per owner (meta.owner)."""
    _friendly(_alerts)(webhook, invocation, include_warnings, dry_run, schema)


def _alerts(webhook: str | None, invocation: str | None, include_warnings: bool, dry_run: bool, schema: str | None):
    from lakehouse.catalog import thrift_cursor
    from lakehouse.platform.spark import ThriftEndpoint
    from lakehouse.report.alerts import collect_alerts, post_payload, slack_payloads
    from lakehouse.report.store import ObservabilityStore, default_schema

    url = webhook or os.environ.get("LAKEHOUSE_ALERT_WEBHOOK")
    if not url and not dry_run:
        raise LakehouseError(
            "no webhook to post alerts to", "pass --webhook URL or set LAKEHOUSE_ALERT_WEBHOOK (or use --dry-run)"
        )
    with thrift_cursor(ThriftEndpoint.from_env()) as cursor:
        store = ObservabilityStore(cursor, schema or default_schema())
        found, collected = collect_alerts(store, invocation, include_warnings=include_warnings)
    if found is None:
        console.print(f"No dbt invocation recorded in {store.schema} yet: nothing to alert on.")
        return
    if not collected:
        console.print(f"Invocation {found['invocation_id']} ({found['command']}): no failures, nothing to alert on.")
        return
    payloads = slack_payloads(found, collected)
    for payload in payloads:
        if dry_run:
            print(json.dumps({k: v for k, v in payload.items() if k != "owner"}, indent=2))
        else:
            post_payload(url, payload)
    owners = sorted({p["owner"] for p in payloads})
    verb = "Would post" if dry_run else "Posted"
    console.print(f"{verb} {len(collected)} alert(s) in {len(payloads)} message(s) to {', '.join(owners)}.")


@observability_app.command("check-project")
def check_project(
    manifest: Annotated[
        Path | None, typer.Option(help="manifest.json to check (default: parse the dbt project now; no server needed).")
    ] = None,
) -> None:
    """Check the dbt project's rules (layers, naming, key tests, freshness, docs, contracts); exit 1 when broken."""
    _friendly(_check_project)(manifest)


def _check_project(manifest: Path | None) -> None:
    from lakehouse.dbt_runner import DBT_DIR
    from lakehouse.project_rules import check_manifest, format_report, load_manifest

    if manifest is None:
        with tempfile.TemporaryDirectory(prefix="lakehouse-parse-") as target:
            violations = check_manifest(load_manifest(_parse_project(Path(target))))
        where = f"the dbt project {DBT_DIR}"
    else:
        violations = check_manifest(load_manifest(manifest))
        where = str(manifest)
    print(format_report(violations, where))
    if violations:
        raise typer.Exit(1)


def _parse_project(target: Path) -> Path:
    """`dbt parse` of the project into `target`; parsing reads files only and never connects."""
    from dbt.cli.main import dbtRunner

    from lakehouse.dbt_runner import DBT_DIR, install_packages

    with console.status("dbt deps, dbt parse…"):
        install_packages()
        result = dbtRunner().invoke(
            ["parse", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--target-path", str(target)]
        )
    if not result.success:
        raise LakehouseError(
            f"dbt parse failed: {result.exception or 'see the messages above'}",
            "fix the project so `dbt parse --project-dir dbt --profiles-dir dbt` passes",
        )
    return target / "manifest.json"


def register(app: typer.Typer) -> None:
    """Add the observability commands at the top level of `lakehouse`."""
    app.command("report")(report)
    app.command("alerts")(alerts)
    app.command("check-project")(check_project)
