"""`lakehouse load`, `lakehouse sources ...`, `lakehouse register`, `lakehouse maintain`: sources into bronze."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.table import Table

from lakehouse.cli.errors import console, friendly_errors
from lakehouse.core.errors import LakehouseError
from lakehouse.core.storage import LakehouseRoot
from lakehouse.report.metrics import MetricsTarget
from loaders.core.bronze import describe_cursor

sources_app = typer.Typer(
    help="Source definitions (sources/embedded/*.yml, or LAKEHOUSE_SOURCES).", no_args_is_help=True
)


WIDE = 120  # below this many columns the load summary leaves out mode, rescued rows and cursors


def load_summary(results: list, title: str, width: int) -> Table:
    """One row per stream; whole headers and numbers, right-aligned; narrower columns below WIDE.

    Numbers and headers are never cut: the stream name gets the room that is left (an ellipsis at the
    end when that is too little).
    """
    wide = width >= WIDE
    headers = (
        ["read", "loaded", "quarantined", "rescued", "MB", "seconds"]
        if wide
        else ["read", "loaded", "rejected", "MB", "sec"]
    )
    rows = []
    for r in results:
        counts = [f"{r.rows_read:,}", f"{r.rows:,}", f"{r.rows_quarantined:,}"]
        counts += [f"{r.rows_rescued:,}"] if wide else []
        counts += [f"{r.bytes / 1e6:.2f}", f"{r.seconds:.1f}"]
        rows.append((r, counts))
    number_widths = [max([len(header)] + [len(counts[i]) for _, counts in rows]) for i, header in enumerate(headers)]
    table = Table(title=title, box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD, title_justify="left", expand=not wide)
    # narrow: the stream name takes the room the other columns leave (ratio), cut with an ellipsis
    table.add_column("stream", no_wrap=True, overflow="ellipsis", ratio=None if wide else 1)
    if wide:
        table.add_column("mode", no_wrap=True)
    table.add_column("status", no_wrap=True, min_width=len("success"))
    for header, column_width in zip(headers, number_widths, strict=True):
        table.add_column(header, justify="right", no_wrap=True, min_width=column_width)
    if wide:
        table.add_column("cursor", overflow="fold")
    for r, counts in rows:
        status = {"success": "[green]success[/]", "stopped": "[yellow]stopped[/]"}.get(r.status, "[red]failed[/]")
        extra = [describe_cursor(r.cursor_after)] if wide else []
        table.add_row(r.stream, *([r.mode] if wide else []), status, *counts, *extra)
    if not wide:
        table.caption = f"rejected: quarantined rows. At {WIDE} columns: modes, rescued rows, cursors."
    return table


@friendly_errors
def load(
    source: Annotated[str, typer.Argument(help="Source name (a file in the sources folder, LAKEHOUSE_SOURCES).")],
    stream: Annotated[list[str] | None, typer.Option("--stream", "-s", help="Only these streams.")] = None,
    full_refresh: Annotated[bool, typer.Option(help="Reload from the beginning and replace the table.")] = False,
) -> None:
    """Load one source's streams into bronze, resuming from each stream's committed state.

    Every stream load is recorded in <root>/bronze/_ledger; unparseable records go to <root>/bronze/_quarantine.
    With LAKEHOUSE_CLOUDWATCH_NAMESPACE set, the loads' failures go to CloudWatch (LoadFailures).
    Exits 1 when a stream failed (the other streams still load).
    """
    from lakehouse.cli.progress import load_progress
    from lakehouse.source_files import find_source
    from loaders.pipeline import load_source

    root = LakehouseRoot.from_env()
    root.check()
    config = find_source(source)
    metrics_target = MetricsTarget.from_env()  # before loading: a half-configured publisher fails first
    with load_progress(console) as on_batch:
        results = load_source(
            root, config, streams=stream, full_refresh=full_refresh, on_batch=on_batch, raise_on_error=False
        )
    console.print(load_summary(results, f"Loaded {source} into {root.uri}/bronze/{source}", console.width))
    for r in results:
        if r.status == "stopped":  # a spent API quota: committed batches stay, the next run resumes
            console.print(f"[bold yellow]stopped:[/] {r.stream}: {r.error}", markup=True, highlight=False)
    if metrics_target is not None:
        _publish_load_failures(root, metrics_target, results)
    failed = [r for r in results if r.exception is not None]
    for r in failed:
        console.print(f"[bold red]error:[/] {r.stream}: {r.exception.cause}", markup=True, highlight=False)
        console.print(f"[bold]fix:[/] {r.exception.fix}", highlight=False)
    if failed:
        raise typer.Exit(1)


def _publish_load_failures(root: LakehouseRoot, target: MetricsTarget, results: list) -> None:
    """LoadFailures of this run's loads, read back from the ledger, to CloudWatch (LAKEHOUSE_CLOUDWATCH_NAMESPACE)."""
    from lakehouse.report.metrics import ledger_rows, load_failures, publish

    rows = ledger_rows(root, load_ids=[r.load_id for r in results])
    sent = publish(target, load_failures(rows, target.environment))
    console.print(f"Published {sent} LoadFailures datum(s) to CloudWatch namespace {target.namespace}.")


@sources_app.command("list")
@friendly_errors
def sources_list() -> None:
    """List the configured sources and their streams."""
    from lakehouse.source_files import all_sources, sources_dir

    table = Table(title=f"Sources in {sources_dir()}")
    for column in ("source", "type", "frequency", "streams"):
        table.add_column(column)
    for config in all_sources():
        table.add_row(config.source, config.type, config.frequency, ", ".join(s.name for s in config.streams))
    console.print(table)


@sources_app.command("check")
@friendly_errors
def sources_check() -> None:
    """Build every configured source and check that it can be read; one line per source."""
    from lakehouse.source_files import sources_dir
    from loaders.core.config import load_source_config
    from loaders.core.redact import Redactor
    from loaders.registry import build_source

    table = Table(title=f"Source checks ({sources_dir()})")
    for column in ("source file", "source", "status", "detail"):
        table.add_column(column)
    failures = 0
    for path in sorted(sources_dir().glob("*.yml")):
        name, redactor = path.stem, Redactor()
        try:
            config = load_source_config(path)
            name, redactor = config.source, Redactor(config.secret_values())
            build_source(config).check()
            table.add_row(path.name, name, "[green]ok[/]", f"{len(config.streams)} stream(s)")
        except Exception as exc:
            failures += 1
            fix = f" (fix: {redactor.scrub(exc.fix)})" if isinstance(exc, LakehouseError) else ""
            table.add_row(path.name, name, "[red]error[/]", redactor.describe(exc) + fix)
    console.print(table)
    if failures:
        raise typer.Exit(1)


@sources_app.command("discover")
@friendly_errors
def sources_discover(
    source: Annotated[str, typer.Argument(help="Source name (a file in the sources folder, LAKEHOUSE_SOURCES).")],
    stream: Annotated[list[str] | None, typer.Option("--stream", "-s", help="Only these streams.")] = None,
) -> None:
    """Print each stream's Arrow schema from its first batch, without writing anything."""
    from lakehouse.source_files import find_source
    from loaders.core.quarantine import rejects_of
    from loaders.core.redact import Redactor, redacted_error
    from loaders.registry import build_source

    config = find_source(source)
    redactor = Redactor(config.secret_values())
    try:
        built = build_source(config)
        built.check()
        streams = [s for s in built.streams() if not stream or s.config.name in stream]
    except Exception as exc:
        failure = redacted_error(exc, redactor, f"source {source!r}")
    else:
        failure = None
    if failure is not None:
        raise failure
    unreadable = 0
    for item in streams:
        console.rule(f"{source}.{item.config.name} ({item.config.mode.value})")
        batches = item.read(None)
        try:
            first = next(batches, None)
        except Exception as exc:
            unreadable += 1
            console.print(f"[red]cannot read:[/] {redactor.describe(exc)}", highlight=False)
            continue
        finally:
            batches.close()
        if first is None:
            console.print("no data yet: the stream yielded no batch")
            continue
        console.print(str(first.data.schema), highlight=False)
        rejected = len(rejects_of(first))
        console.print(f"[dim]{first.data.num_rows:,} rows in the first batch, {rejected} unparseable record(s)[/]")
    if unreadable:
        raise typer.Exit(1)


@friendly_errors
def maintain(
    source: Annotated[
        str | None, typer.Argument(help="Only this source's tables (default: all, plus ledger and quarantine).")
    ] = None,
    vacuum: Annotated[
        bool, typer.Option(help="Also delete files no longer referenced and older than the retention.")
    ] = False,
    retention_hours: Annotated[int, typer.Option(help="Vacuum keeps files younger than this.", min=0)] = 168,
    dry_run: Annotated[
        bool, typer.Option(help="Only report: no compaction, vacuum lists what it would delete.")
    ] = False,
) -> None:
    """Compact bronze tables (and vacuum them with --vacuum)."""
    from lakehouse.source_files import all_sources, find_source
    from loaders.core.maintenance import maintain as maintain_table
    from loaders.core.maintenance import targets

    root = LakehouseRoot.from_env()
    root.check()
    configs = [find_source(source)] if source else all_sources()
    if vacuum and retention_hours < 168:
        console.print(
            f"[yellow]warning:[/] vacuum with {retention_hours} h retention: readers older than that may fail"
        )
    table = Table(title=f"Maintenance of {root.uri}/bronze" + (" (dry run)" if dry_run else ""))
    for column in ("table", "files before", "compacted", "files after", "vacuumed" if not dry_run else "would vacuum"):
        table.add_column(column)
    for target in targets(root, configs, include_internal=source is None):
        result = maintain_table(root, target, vacuum=vacuum, retention_hours=retention_hours, dry_run=dry_run)
        if not result.exists:
            table.add_row(target.label, "-", "-", "-", "- (no table yet)")
            continue
        compacted = f"{result.files_compacted} → {result.files_written}" if not dry_run else "-"
        vacuumed = str(result.files_vacuumed) if vacuum else "-"
        table.add_row(target.label, str(result.files_before), compacted, str(result.files_after), vacuumed)
    console.print(table)


@friendly_errors
def register() -> None:
    """Create the layer databases and register every bronze table in the metastore (idempotent)."""
    from lakehouse.catalog import ensure_layer_databases, register_bronze, thrift_cursor
    from lakehouse.platform.spark import ThriftEndpoint
    from lakehouse.source_files import all_sources

    root = LakehouseRoot.from_env()
    with thrift_cursor(ThriftEndpoint.from_env()) as cursor:
        ensure_layer_databases(cursor, root)
        names = register_bronze(cursor, root, all_sources())
    console.print(f"Registered {len(names)} bronze tables: {', '.join(names) or '-'}")
