"""The main job end to end: load every source → register bronze → `dbt build` → docs → summary.

It prints progress and a summary; dbt's own log goes to its log file (named in the summary) unless
`verbose`, when dbt prints it as it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from company.samples import ensure_company
from lakehouse.catalog import (
    LAYER_DATABASES,
    count_rows,
    ensure_layer_databases,
    register_bronze,
    thrift_cursor,
)
from lakehouse.cli.progress import load_progress
from lakehouse.core.errors import LakehouseError
from lakehouse.core.storage import LakehouseRoot
from lakehouse.dbt_runner import DbtOutcome, docs_index, log_file, run_dbt, target_dir
from lakehouse.platform.jars import JarSet
from lakehouse.platform.spark import SparkThriftServer, ThriftEndpoint
from lakehouse.source_files import all_sources
from loaders.core.config import SourceConfig
from loaders.core.result import ProgressHook, StreamResult
from loaders.pipeline import load_source

MART_DATABASES = ("sales", "marketing", "finance", "hr")


@dataclass
class DemoSummary:
    root: str
    loads: list[StreamResult] = field(default_factory=list)
    rows_by_layer: dict[str, int] = field(default_factory=dict)
    tables_by_layer: dict[str, int] = field(default_factory=dict)
    build: DbtOutcome | None = None


def run_demo(
    console: Console, *, keep_running: bool = False, days: int = 0, scale: float = 1.0, verbose: bool = False
) -> DemoSummary:
    """The main job; `days` > 0 then simulates that many further days, each loaded and built in turn."""
    root = LakehouseRoot.from_env()
    root.check()
    summary = DemoSummary(root.uri)
    console.print(f"[bold]Lakehouse root[/]: {root.uri}")
    with console.status("Generating the synthetic company (first run only)…"):
        company = ensure_company(scale=scale)
    console.print(f"Company data: {company.folder} (seed {company.seed}, scale {company.scale}, to {company.last_day})")

    with console.status("Resolving the Delta and hadoop-aws jars (first run downloads them)…"):
        JarSet.for_installed().resolve()
    server = SparkThriftServer(root)
    with console.status("Starting the local Spark Thrift server…"):
        state, started = server.start()
    console.print(f"Spark Thrift server on {state.host}:{state.port} ({'started' if started else 'already running'})")
    try:
        configs = all_sources()
        _load_and_build(console, root, server.endpoint, configs, summary, verbose)
        for _ in range(days):
            day = company.next_day()
            console.print(f"[bold]Day {day}[/]: loading the changes of {company.last_day}")
            _load_and_build(console, root, server.endpoint, configs, summary, verbose)
        dbt_with_progress(console, ["docs", "generate"], verbose=verbose)
        with thrift_cursor(server.endpoint) as cursor:
            _count_layers(cursor, summary)
    finally:
        if started and not keep_running:
            server.stop()
    _print_summary(console, summary, server.endpoint, still_running=keep_running or not started)
    return summary


def load_and_register(
    root: LakehouseRoot, endpoint: ThriftEndpoint, configs: list[SourceConfig], on_batch: ProgressHook | None = None
) -> list[StreamResult]:
    """Load every source into bronze, then create the layer databases and register the bronze tables."""
    results: list[StreamResult] = []
    for config in configs:
        results += load_source(root, config, on_batch=on_batch)
    with thrift_cursor(endpoint) as cursor:
        ensure_layer_databases(cursor, root)
        register_bronze(cursor, root, configs)
    return results


def _load_and_build(
    console: Console, root: LakehouseRoot, endpoint, configs, summary: DemoSummary, verbose: bool
) -> None:
    with load_progress(console) as on_batch:
        summary.loads += load_and_register(root, endpoint, configs, on_batch)
    summary.build = dbt_with_progress(console, ["build"], verbose=verbose)
    if not summary.build.success:
        raise LakehouseError(
            "dbt build failed:\n  " + "\n  ".join(summary.build.failures),
            f"read the failures above; dbt's full log is in {log_file()}",
        )


def dbt_with_progress(console: Console, args: list[str], *, verbose: bool = False) -> DbtOutcome:
    """Run dbt showing one progress line (nodes done, failures) instead of its log, unless `verbose`."""
    if verbose:
        return run_dbt(args)
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]dbt {task.description}"),
        TextColumn("{task.completed} nodes done{task.fields[failed]}"),
        TimeElapsedColumn(),
        console=console,
    )
    task = progress.add_task(" ".join(args), total=None, failed="")
    failed = 0

    def on_event(event) -> None:
        nonlocal failed
        if event.info.name != "NodeFinished":
            return
        if event.data.node_info.node_status in ("fail", "error", "runtime error"):
            failed += 1
        progress.update(task, advance=1, failed=f", [red]{failed} failed[/]" if failed else "")

    with progress:
        outcome = run_dbt(args, quiet=True, on_event=on_event)
    done = sum(outcome.statuses.values())
    console.print(f"dbt {' '.join(args)}: {'ok' if outcome.success else '[red]failed[/]'}, {done} nodes")
    return outcome


def _count_layers(cursor, summary: DemoSummary) -> None:
    layers = {"silver": ["silver"], "marts": list(MART_DATABASES)}
    cursor.execute("show databases")
    bronze = [row[0] for row in cursor.fetchall() if row[0].startswith("bronze_")]
    layers["bronze"] = bronze
    for layer in ("bronze", "silver", "marts"):
        rows = tables = 0
        for database in layers[layer]:
            if database not in LAYER_DATABASES and not database.startswith("bronze_"):
                continue
            cursor.execute(f"show tables in {database}")
            for row in cursor.fetchall():
                rows += count_rows(cursor, f"{database}.{row[1]}")
                tables += 1
        summary.rows_by_layer[layer] = rows
        summary.tables_by_layer[layer] = tables


def _print_summary(console: Console, summary: DemoSummary, endpoint: ThriftEndpoint, *, still_running: bool) -> None:
    table = Table(title="Lakehouse demo", show_header=True)
    table.add_column("layer")
    table.add_column("tables", justify="right")
    table.add_column("rows", justify="right")
    for layer in ("bronze", "silver", "marts"):
        table.add_row(layer, str(summary.tables_by_layer.get(layer, 0)), f"{summary.rows_by_layer.get(layer, 0):,}")
    console.print(table)
    loaded = sum(r.rows for r in summary.loads)
    console.print(f"Loaded {loaded:,} rows in {len(summary.loads)} streams this run.")
    if summary.build is not None:
        statuses = summary.build.statuses
        console.print(
            f"dbt build: {statuses.get('success', 0)} models/seeds built, {statuses.get('pass', 0)} tests passed, "
            f"{statuses.get('fail', 0) + statuses.get('error', 0)} failed, {statuses.get('warn', 0)} warnings"
        )
    console.print(f"Docs site: {docs_index()}  (serve it with `lakehouse docs serve`)")
    console.print(f"dbt artifacts: {target_dir()} (manifest.json, run_results.json, catalog.json)")
    console.print(f"dbt's full log: {log_file()}")
    if still_running:
        console.print(
            f"The Spark Thrift server keeps running on {endpoint.host}:{endpoint.port} for BI tools and dbt; "
            "stop it with `lakehouse spark stop`."
        )
