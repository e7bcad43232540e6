"""`lakehouse metrics publish`: the CloudWatch metrics the infra alarms watch (lakehouse/report/metrics.py).

lakehouse metrics publish [--loads-since-minutes N] [--no-freshness] [--namespace NS] [--schema DB] [--dry-run]
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from lakehouse.cli.errors import console, friendly_errors
from lakehouse.core.errors import ConfigError
from lakehouse.core.storage import LakehouseRoot

metrics_app = typer.Typer(help="CloudWatch metrics for the alarms of infra/ (load failures, marts freshness).")


@metrics_app.command("publish")
@friendly_errors
def publish(
    loads_since_minutes: Annotated[
        int | None,
        typer.Option(
            help="Also publish LoadFailures from the ledger's loads of the last complete slot of this many minutes "
            "(for an orchestrator that loads in-process); run the command that often."
        ),
    ] = None,
    freshness: Annotated[
        bool, typer.Option(help="Publish MartsFreshnessMinutes (reads the observability tables through Thrift).")
    ] = True,
    namespace: Annotated[
        str | None, typer.Option(help="CloudWatch namespace (default: LAKEHOUSE_CLOUDWATCH_NAMESPACE).")
    ] = None,
    schema: Annotated[
        str | None,
        typer.Option(help="Observability database (default: LAKEHOUSE_OBSERVABILITY_SCHEMA or observability)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Print the metrics instead of publishing them.")] = False,
) -> None:
    """Publish MartsFreshnessMinutes (and with --loads-since-minutes, LoadFailures) to CloudWatch."""
    from lakehouse.report import metrics

    target = metrics.MetricsTarget.from_env(namespace)
    if target is None and not dry_run:
        raise ConfigError(
            f"no CloudWatch namespace: {metrics.NAMESPACE_VARIABLE} is not set",
            f"set {metrics.NAMESPACE_VARIABLE}=Lakehouse (the namespace the infra alarms watch) and "
            f"{metrics.ENVIRONMENT_VARIABLE}, or pass --namespace; --dry-run prints the figures",
        )
    environment = target.environment if target else os.environ.get(metrics.ENVIRONMENT_VARIABLE) or "local"
    now = datetime.now(UTC)
    datums: list[metrics.Datum] = []
    if loads_since_minutes is not None:
        since, until = metrics.last_slot(now, loads_since_minutes)
        root = LakehouseRoot.from_env()
        root.check()
        datums += metrics.load_failures(metrics.ledger_rows(root, since=since, until=until), environment)
        console.print(f"Loads that finished from {since:%Y-%m-%d %H:%M} to {until:%H:%M} UTC.")
    if freshness:
        datums += metrics.marts_freshness(_mart_builds(schema, now), environment, now)
    console.print(_datums_table(datums))
    if dry_run or target is None:
        console.print("Dry run: nothing published.")
        return
    sent = metrics.publish(target, datums, now=now)
    console.print(f"Published {sent} datum(s) to CloudWatch namespace {target.namespace} (Environment={environment}).")


def _mart_builds(schema: str | None, now: datetime) -> list[dict]:
    from lakehouse.catalog import thrift_cursor
    from lakehouse.platform.spark import ThriftEndpoint
    from lakehouse.report.store import ObservabilityStore, default_schema

    with thrift_cursor(ThriftEndpoint.from_env()) as cursor:
        store = ObservabilityStore(cursor, schema or default_schema())
        builds = store.mart_builds()
    table = Table(title=f"Marts' last successful builds ({store.schema}.dbt_run_results)")
    for column in ("mart", "last built (UTC)", "minutes ago"):
        table.add_column(column, justify="right" if column == "minutes ago" else "left")
    for row in sorted(builds, key=lambda r: r["built_at"] or datetime.min.replace(tzinfo=UTC)):
        built = row["built_at"]
        minutes = f"{(now - built).total_seconds() / 60:,.1f}" if built else "never built"
        table.add_row(f"{row['schema_name']}.{row['name']}", f"{built:%Y-%m-%d %H:%M}" if built else "-", minutes)
    console.print(
        table if builds else f"No marts recorded in {store.schema}.dbt_models yet (run `lakehouse dbt build`)."
    )
    return builds


def _datums_table(datums: list) -> Table:
    table = Table(title="CloudWatch metrics")
    for column in ("metric", "dimensions", "value"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for datum in datums:
        dimensions = ", ".join(f"{name}={value}" for name, value in datum.dimensions)
        table.add_row(datum.name, dimensions, f"{datum.value:g}")
    return table
