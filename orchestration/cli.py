"""`lakehouse`: the command line of the platform (typer + rich).

lakehouse demo                      load the bundled sources, build every dbt model, print a summary
lakehouse spark setup|start|stop|status
lakehouse s3 start|stop|status|env  a local S3 server (SeaweedFS) for the S3 path
lakehouse load SOURCE [--stream S] [--full-refresh]
lakehouse sources list|check|discover SOURCE
lakehouse maintain [SOURCE] [--vacuum] [--retention-hours N] [--dry-run]
lakehouse register                  register bronze tables and layer databases in the metastore
lakehouse dbt ARGS...               run dbt with the project's profiles (e.g. `lakehouse dbt build`)
lakehouse docs generate|serve
lakehouse company publish --postgres URI --mysql URI [--days N]   the company, into real database servers
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from loaders.core.bronze import describe_cursor
from loaders.core.errors import LakehouseError
from loaders.core.storage import LakehouseRoot

console = Console()
app = typer.Typer(help="The lakehouse ELT platform: loaders → bronze Delta → dbt-spark → marts.", no_args_is_help=True)
spark_app = typer.Typer(help="The local Spark Thrift server (what EMR runs on port 10001).", no_args_is_help=True)
s3_app = typer.Typer(help="A local S3-compatible server (SeaweedFS) for running on s3://.", no_args_is_help=True)
sources_app = typer.Typer(help="Source definitions (orchestration/sources/*.yml).", no_args_is_help=True)
docs_app = typer.Typer(help="The dbt docs site.", no_args_is_help=True)
company_app = typer.Typer(help="The synthetic company the embedded default loads.", no_args_is_help=True)
app.add_typer(spark_app, name="spark")
app.add_typer(s3_app, name="s3")
app.add_typer(sources_app, name="sources")
app.add_typer(docs_app, name="docs")
app.add_typer(company_app, name="company")
from orchestration.observability.cli import register_observability  # noqa: E402

register_observability(app)


def friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Print a LakehouseError as cause + fix, exit 2, no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except LakehouseError as exc:
            # soft_wrap: paths and commands in the message must stay whole to be copied; escape: a
            # driver's "[libpq]" is text, not markup.
            console.print(f"[bold red]error:[/] {escape(exc.cause)}", soft_wrap=True)
            console.print(f"[bold]fix:[/] {escape(exc.fix)}", soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


@app.command()
@friendly_errors
def demo(
    keep_running: Annotated[bool, typer.Option(help="Leave the Spark Thrift server running afterwards.")] = False,
    days: Annotated[int, typer.Option(help="Then simulate N more days, each loaded and built incrementally.")] = 0,
    scale: Annotated[float, typer.Option(help="Size of the generated company on first run (1 ≈ 150k rows).")] = 1.0,
) -> None:
    """Run the main job on the embedded default: generate → load → register → dbt build → docs → summary."""
    from orchestration.demo import run_demo

    run_demo(console, keep_running=keep_running, days=days, scale=scale)


@spark_app.command("setup")
@friendly_errors
def spark_setup() -> None:
    """Download the Delta and hadoop-aws jars matching the installed pyspark (once, into a cache)."""
    from orchestration.platform.jars import JarSet

    jars = JarSet.for_installed()
    with console.status(f"Resolving Delta {jars.delta_version} and hadoop-aws {jars.hadoop_version}…"):
        paths = jars.resolve()
    console.print(f"{len(paths)} jars in {jars.folder}")


@spark_app.command("start")
@friendly_errors
def spark_start(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the port.")] = 240.0,
) -> None:
    """Start the Thrift server for LAKEHOUSE_ROOT (does nothing when it already runs)."""
    from orchestration.platform.spark import SparkThriftServer

    server = SparkThriftServer(LakehouseRoot.from_env())
    with console.status("Starting the Spark Thrift server…"):
        state, started = server.start(timeout=timeout)
    verb = "started" if started else "already running"
    console.print(
        f"Spark Thrift server {verb}: {state.host}:{state.port} pid {state.pid}, root {state.details['root']}"
    )


@spark_app.command("stop")
@friendly_errors
def spark_stop() -> None:
    """Stop the Thrift server and every process it started."""
    from orchestration.platform.spark import thrift_process

    stopped = thrift_process().stop()
    console.print("Spark Thrift server stopped." if stopped else "No Spark Thrift server was running.")


@spark_app.command("status")
@friendly_errors
def spark_status() -> None:
    """Show whether the Thrift server runs, where, and for which root."""
    from orchestration.platform.process import port_open
    from orchestration.platform.spark import thrift_process

    state = thrift_process().read_state()
    if state is None:
        console.print("Spark Thrift server: not running.")
        raise typer.Exit(1)
    listening = "listening" if port_open(state.host, state.port) else "starting (port not open yet)"
    console.print(f"Spark Thrift server: pid {state.pid}, {state.host}:{state.port} {listening}")
    console.print(f"  root {state.details.get('root')}  log {state.log}")


@s3_app.command("start")
@friendly_errors
def s3_start(bucket: Annotated[str, typer.Option(help="Bucket to create.")] = "lakehouse") -> None:
    """Start SeaweedFS with an S3 gateway on loopback and create the bucket."""
    from orchestration.platform.s3 import SeaweedS3

    store = SeaweedS3()
    _state, started = store.start(bucket=bucket)
    console.print(f"S3 server {'started' if started else 'already running'}: {store.endpoint} (bucket {bucket})")
    console.print('Point the platform at it with: eval "$(lakehouse s3 env)"')


@s3_app.command("stop")
@friendly_errors
def s3_stop() -> None:
    """Stop the local S3 server."""
    from orchestration.platform.s3 import SeaweedS3

    console.print("S3 server stopped." if SeaweedS3().stop() else "No S3 server was running.")


@s3_app.command("status")
@friendly_errors
def s3_status() -> None:
    from orchestration.platform.s3 import SeaweedS3

    state = SeaweedS3().status()
    if state is None:
        console.print("S3 server: not running.")
        raise typer.Exit(1)
    console.print(f"S3 server: pid {state.pid}, {state.details['endpoint']}, data in {state.details['data']}")


@s3_app.command("env")
@friendly_errors
def s3_env(bucket: Annotated[str, typer.Option(help="Bucket for LAKEHOUSE_ROOT.")] = "lakehouse") -> None:
    """Print `export` lines that point LAKEHOUSE_ROOT and the AWS variables at the local S3 server."""
    from orchestration.platform.s3 import SeaweedS3

    for key, value in {**SeaweedS3().env(), "LAKEHOUSE_ROOT": f"s3://{bucket}"}.items():
        print(f"export {key}={value}")


@app.command()
@friendly_errors
def load(
    source: Annotated[str, typer.Argument(help="Source name (a file in orchestration/sources/).")],
    stream: Annotated[list[str] | None, typer.Option("--stream", "-s", help="Only these streams.")] = None,
    full_refresh: Annotated[bool, typer.Option(help="Reload from the beginning and replace the table.")] = False,
) -> None:
    """Load one source's streams into bronze, resuming from each stream's committed state.

    Every stream load is recorded in <root>/bronze/_ledger; unparseable records go to <root>/bronze/_quarantine.
    Exits 1 when a stream failed (the other streams still load).
    """
    from loaders.pipeline import load_source
    from orchestration.progress import load_progress
    from orchestration.source_files import find_source

    root = LakehouseRoot.from_env()
    root.check()
    config = find_source(source)
    with load_progress(console) as on_batch:
        results = load_source(
            root, config, streams=stream, full_refresh=full_refresh, on_batch=on_batch, raise_on_error=False
        )
    table = Table(title=f"Loaded {source} into {root.uri}/bronze/{source}")
    for column in ("stream", "mode", "status", "read", "loaded", "quarantined", "rescued", "MB", "seconds", "cursor"):
        table.add_column(column)
    for r in results:
        table.add_row(
            r.stream,
            r.mode,
            "[green]success[/]" if r.status == "success" else "[red]failed[/]",
            f"{r.rows_read:,}",
            f"{r.rows:,}",
            f"{r.rows_quarantined:,}",
            f"{r.rows_rescued:,}",
            f"{r.bytes / 1e6:.2f}",
            f"{r.seconds:.1f}",
            describe_cursor(r.cursor_after),
        )
    console.print(table)
    failed = [r for r in results if r.exception is not None]
    for r in failed:
        console.print(f"[bold red]error:[/] {r.stream}: {r.exception.cause}", markup=True, highlight=False)
        console.print(f"[bold]fix:[/] {r.exception.fix}", highlight=False)
    if failed:
        raise typer.Exit(1)


@sources_app.command("list")
@friendly_errors
def sources_list() -> None:
    """List the configured sources and their streams."""
    from orchestration.source_files import all_sources, sources_dir

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
    from loaders.core.config import load_source_config
    from loaders.core.redact import Redactor
    from loaders.registry import build_source
    from orchestration.source_files import sources_dir

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
    source: Annotated[str, typer.Argument(help="Source name (a file in orchestration/sources/).")],
    stream: Annotated[list[str] | None, typer.Option("--stream", "-s", help="Only these streams.")] = None,
) -> None:
    """Print each stream's Arrow schema from its first batch, without writing anything."""
    from loaders.core.quarantine import rejects_of
    from loaders.core.redact import Redactor, redacted_error
    from loaders.registry import build_source
    from orchestration.source_files import find_source

    config = find_source(source)
    redactor = Redactor(config.secret_values())
    try:
        built = build_source(config)
        built.check()
        streams = [s for s in built.streams() if not stream or s.spec.name in stream]
    except Exception as exc:
        failure = redacted_error(exc, redactor, f"source {source!r}")
    else:
        failure = None
    if failure is not None:
        raise failure
    unreadable = 0
    for item in streams:
        console.rule(f"{source}.{item.spec.name} ({item.spec.mode.value})")
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


@app.command()
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
    from loaders.core.maintenance import maintain as maintain_table
    from loaders.core.maintenance import targets
    from orchestration.source_files import all_sources, find_source

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


@app.command()
@friendly_errors
def register() -> None:
    """Create the layer databases and register every bronze table in the metastore (idempotent)."""
    from orchestration.catalog import ensure_layer_databases, register_bronze, thrift_cursor
    from orchestration.platform.spark import ThriftEndpoint
    from orchestration.source_files import all_sources

    root = LakehouseRoot.from_env()
    with thrift_cursor(ThriftEndpoint.from_env()) as cursor:
        ensure_layer_databases(cursor, root)
        names = register_bronze(cursor, root, all_sources())
    console.print(f"Registered {len(names)} bronze tables: {', '.join(names) or '-'}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@friendly_errors
def dbt(ctx: typer.Context) -> None:
    """Run dbt with the project's profiles against the Thrift server, e.g. `lakehouse dbt build -s silver`."""
    from orchestration.transform import run_dbt

    outcome = run_dbt(list(ctx.args) or ["build"])
    if not outcome.success:
        raise typer.Exit(1)


@docs_app.command("generate")
@friendly_errors
def docs_generate() -> None:
    """Generate the dbt docs site into dbt/target/."""
    from orchestration.transform import docs_index, run_dbt

    outcome = run_dbt(["docs", "generate"])
    if not outcome.success:
        raise typer.Exit(1)
    console.print(f"Docs site: {docs_index()}")


@docs_app.command("serve")
@friendly_errors
def docs_serve(port: Annotated[int, typer.Option(help="HTTP port.")] = 8080) -> None:
    """Serve the generated docs site on http://127.0.0.1:PORT."""
    import http.server

    from orchestration.transform import docs_index, target_dir

    if not docs_index().exists():
        raise LakehouseError("the docs site has not been generated yet", "run `lakehouse docs generate` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(target_dir()))
    console.print(f"Serving {target_dir()} on http://127.0.0.1:{port} (Ctrl-C stops)")
    http.server.ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()


@company_app.command("publish")
@friendly_errors
def company_publish(
    postgres: Annotated[
        str | None,
        typer.Option(
            envvar="LAKEHOUSE_POSTGRES_URI",
            help="postgresql://USER:PASSWORD@HOST:PORT/DATABASE: receives users, subscriptions, product_inventory. "
            "The database defaults to company_production, the password to $LAKEHOUSE_POSTGRES_PASSWORD.",
        ),
    ] = None,
    mysql: Annotated[
        str | None,
        typer.Option(
            envvar="LAKEHOUSE_MYSQL_URI",
            help="mysql://USER:PASSWORD@HOST:PORT/DATABASE (MySQL or MariaDB): receives customer_data, order_history. "
            "The database defaults to legacy_systems (created if missing), the password to $LAKEHOUSE_MYSQL_PASSWORD.",
        ),
    ] = None,
    days: Annotated[int, typer.Option(min=0, help="First simulate N more days of changes, each one batch.")] = 0,
    scale: Annotated[float, typer.Option(help="Size of the generated company on first run (1 ≈ 150k rows).")] = 1.0,
    replace: Annotated[
        bool, typer.Option(help="Drop the company's tables on the servers first, then publish every batch.")
    ] = False,
    sources_dir: Annotated[
        Path | None,
        typer.Option(help="Where to write the SQL loaders' source files (default $LAKEHOUSE_HOME/sources/local)."),
    ] = None,
) -> None:
    """Put the generated company into real PostgreSQL / MySQL servers, for the real SQL loaders.

    Generates the company on first use (as `lakehouse demo` does), publishes every batch a server does
    not hold yet (an upsert by primary key plus the day's deletes, one transaction per batch), and
    writes source files for `lakehouse load` (type postgres / mysql, the password read from an
    environment variable).
    """
    from orchestration.company_publish import run_publish

    run_publish(
        console, postgres=postgres, mysql=mysql, days=days, scale=scale, replace=replace, sources_dir=sources_dir
    )
