"""`lakehouse privacy`: erasure of a data subject and the retention policy.

lakehouse privacy erase --subject <email|system:id|customer_key> [--vacuum]
lakehouse privacy retention [--apply] [--source S]
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from lakehouse.cli.errors import console, friendly_errors
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
    source: Annotated[str | None, typer.Option(help="Only this source's streams.")] = None,
) -> None:
    """Bronze rows older than their classification's retention (by `_loaded_at`): counted, or deleted with --apply."""
    from lakehouse.privacy.retention import apply_retention
    from lakehouse.source_files import all_sources, find_source

    root = LakehouseRoot.from_env()
    root.check()
    configs = [find_source(source)] if source else all_sources()
    streams = [(config.source, stream.name) for config in configs for stream in config.streams]
    results = apply_retention(root, streams, apply=apply)
    table = Table(title="Retention of bronze" + ("" if apply else " (dry run: --apply deletes)"))
    for column in ("stream", "classification", "years", "older than", "deleted" if apply else "would delete"):
        table.add_column(column)
    for result in results:
        cutoff = f"{result.cutoff:%Y-%m-%d}"
        table.add_row(result.stream, result.classification, str(result.years), cutoff, str(result.expired_rows))
    console.print(table)
