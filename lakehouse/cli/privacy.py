"""`lakehouse privacy`: erasure of a data subject and the retention policy.

lakehouse privacy erase --subject <email|system:id|customer_key> [--vacuum]
lakehouse privacy retention [--apply] [--source S] [--layer bronze|silver|snapshots|marts ...]
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from lakehouse.cli.errors import console, friendly_errors
from lakehouse.core.errors import ConfigError
from lakehouse.core.storage import LakehouseRoot

privacy_app = typer.Typer(help="Privacy: erase a data subject (GDPR/CCPA), apply the retention policy.")


@privacy_app.command("erase")
@friendly_errors
def erase(
    subject: Annotated[
        str,
        typer.Option(help="The person: an email, a source record `postgres.users:42`, or a silver customer_key."),
    ],
    vacuum: Annotated[
        bool,
        typer.Option(help="Then vacuum the erased tables with 0 h retention, so time travel cannot bring them back."),
    ] = False,
) -> None:
    """Delete a person from bronze, silver, snapshots and marts, and write the audit record."""
    from lakehouse.platform.spark import ThriftEndpoint
    from lakehouse.privacy.erasure import erase as erase_subject

    root = LakehouseRoot.from_env()
    root.check()
    report = erase_subject(root, ThriftEndpoint.from_env(), subject, vacuum=vacuum)
    table = Table(title=f"Erasure {report.request_id} (subject hash {report.subject_hash[:12]}…)")
    for column in ("layer", "table", "rows deleted", "files vacuumed"):
        table.add_column(column)
    for result in report.touched:
        files = "-" if result.vacuumed_files is None else str(result.vacuumed_files)
        table.add_row(result.layer, result.table, str(result.rows_deleted), files)
    console.print(table)
    console.print(
        f"{report.rows_deleted} rows deleted from {len(report.touched)} tables"
        + (", vacuumed" if report.vacuumed else "; earlier versions still hold them until vacuumed (--vacuum)")
        + f". Audit: {root.uri}/privacy/_erasure_audit"
    )


@privacy_app.command("retention")
@friendly_errors
def retention(
    apply: Annotated[bool, typer.Option(help="Delete the expired rows (default: only count them).")] = False,
    source: Annotated[str | None, typer.Option(help="Only this source's bronze streams.")] = None,
    layer: Annotated[
        list[str] | None,
        typer.Option(
            help="Only these layers: bronze, silver, snapshots, marts (default: all; all but bronze use Spark)."
        ),
    ] = None,
) -> None:
    """Rows older than their classification's retention, per table of every layer: counted, or deleted with --apply."""
    from lakehouse.privacy.retention import LAYERS

    layers = tuple(layer or LAYERS)
    unknown = sorted(set(layers) - set(LAYERS))
    if unknown:
        raise ConfigError(f"unknown layers {unknown}", f"pass --layer with one of {', '.join(LAYERS)}")
    root = LakehouseRoot.from_env()
    root.check()
    results = _bronze_retention(root, source, apply) if "bronze" in layers else []
    spark_layers = tuple(name for name in layers if name != "bronze")
    if spark_layers:
        results += _layer_retention(spark_layers, apply)
    verb = "deleted" if apply else "would delete"
    table = Table(title="Retention" + ("" if apply else " (dry run: --apply deletes)"))
    table.add_column("layer")
    table.add_column("table", no_wrap=True)  # whole, to be copied
    table.add_column("classification")
    table.add_column("dated by")
    table.add_column("older than", no_wrap=True)
    table.add_column(verb, justify="right")
    for result in results:
        dated_by = ", ".join(result.dated_by) or f"[yellow]{result.note}[/]"
        rows = f"{result.expired_rows:,}" if result.dated_by else "-"
        classification = f"{result.classification} ({result.years} y)"
        table.add_row(result.layer, result.table, classification, dated_by, f"{result.cutoff:%Y-%m-%d}", rows)
    console.print(table)
    expired, tables = sum(r.expired_rows for r in results), sum(bool(r.expired_rows) for r in results)
    done = ", deleted." if apply else " (dry run: --apply deletes them)."
    console.print(f"{expired:,} expired rows in {tables} tables{done}")


def _bronze_retention(root: LakehouseRoot, source: str | None, apply: bool) -> list:
    from lakehouse.privacy.retention import apply_retention
    from lakehouse.source_files import all_sources, find_source

    configs = [find_source(source)] if source else all_sources()
    streams = [(config.source, stream.name) for config in configs for stream in config.streams]
    return apply_retention(root, streams, apply=apply)


def _layer_retention(layers: tuple[str, ...], apply: bool) -> list:
    from lakehouse.catalog import thrift_cursor
    from lakehouse.platform.spark import ThriftEndpoint
    from lakehouse.privacy.retention import apply_layer_retention

    with (
        thrift_cursor(ThriftEndpoint.from_env()) as cursor,
        console.status(f"{'Deleting' if apply else 'Counting'} expired rows in {', '.join(layers)} through Spark…"),
    ):
        return apply_layer_retention(cursor, layers=layers, apply=apply)
