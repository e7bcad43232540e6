"""`lakehouse stream SOURCE`: follow a stream source (Kafka, Kinesis, MQTT) continuously into bronze.

Each of the source's streams runs in its own thread through the ordinary load pipeline, handed a
`stop` event: it commits a micro-batch whenever it has `--batch-size` messages or `--interval`
seconds have passed, exactly once as in `lakehouse load`. SIGTERM or Ctrl-C sets the event: every
stream finishes (commits) the batch it is on and the command exits 0, after a summary.
"""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer
from rich.table import Table

from lakehouse.cli.errors import console, friendly_errors
from lakehouse.core.errors import ConfigError
from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import SourceConfig
from loaders.core.result import StreamResult

# The families that can follow their source, and their keys for the batch size and the interval.
FOLLOWING = {
    "kafka": ("batch_messages", "max_wait_s"),
    "kinesis": ("batch_records", "poll_interval_s"),
    "mqtt": ("batch_messages", "max_wait_s"),
}
JOIN_POLL_S = 0.5  # the main thread wakes this often, so signals are handled promptly


@friendly_errors
def stream(
    source: Annotated[str, typer.Argument(help="Source name (a kafka, kinesis or mqtt source file).")],
    stream: Annotated[list[str] | None, typer.Option("--stream", "-s", help="Only these streams.")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Messages per committed micro-batch, at most.")] = None,
    interval: Annotated[
        float | None, typer.Option(min=0.01, help="Seconds before a micro-batch is committed anyway.")
    ] = None,
) -> None:
    """Consume a stream source continuously, committing micro-batches to bronze until SIGTERM or Ctrl-C.

    Exits 0 after a clean stop (the current batches committed), 1 when a stream failed.
    """
    from lakehouse.cli.progress import load_progress
    from lakehouse.source_files import find_source

    root = LakehouseRoot.from_env()
    root.check()
    config = find_source(source)
    names = following_streams(config, stream, batch_size, interval)
    stop = threading.Event()
    results: dict[str, list[StreamResult]] = {}
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    console.print(f"Streaming {source} ({', '.join(names)}) into {root.uri}/bronze/{source}; Ctrl-C or SIGTERM stops")
    try:
        with load_progress(console) as on_batch:
            threads = [_start(root, config, name, stop, on_batch, results) for name in names]
            while any(thread.is_alive() for thread in threads):
                for thread in threads:
                    thread.join(JOIN_POLL_S)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _summary([r for name in names for r in results.get(name, [])])


def following_streams(
    config: SourceConfig, wanted: list[str] | None, batch_size: int | None, interval: float | None
) -> list[str]:
    """The streams to follow, with the command line's batch size and interval applied to their keys."""
    keys = FOLLOWING.get(config.type)
    if keys is None:
        raise ConfigError(
            f"source {config.source!r} is of type {config.type!r}, which has no stream to follow",
            f"stream a source of type {', '.join(FOLLOWING)}; load other sources with `lakehouse load {config.source}`",
        )
    names = [config.stream(name).name for name in wanted] if wanted else [s.name for s in config.streams]
    for spec in config.streams:
        for key, value in zip(keys, (batch_size, interval), strict=True):
            if value is not None:
                setattr(spec, key, value)
    return names


def _start(
    root: LakehouseRoot,
    config: SourceConfig,
    name: str,
    stop: threading.Event,
    on_batch: object,
    results: dict[str, list[StreamResult]],
) -> threading.Thread:
    from loaders.pipeline import load_source

    def run() -> None:
        results[name] = load_source(
            root,
            config,
            streams=[name],
            on_batch=on_batch,
            raise_on_error=False,
            stop=stop,  # type: ignore[arg-type]
        )

    thread = threading.Thread(target=run, name=f"stream-{name}", daemon=True)
    thread.start()
    return thread


def _summary(results: list[StreamResult]) -> None:
    table = Table(title="Streamed into bronze")
    for column in ("stream", "status", "read", "loaded", "quarantined", "batches", "seconds"):
        table.add_column(column)
    for r in results:
        status = "[green]success[/]" if r.status == "success" else "[red]failed[/]"
        counts = (r.rows_read, r.rows, r.rows_quarantined, r.batches)
        table.add_row(r.stream, status, *(f"{n:,}" for n in counts), f"{r.seconds:.1f}")
    console.print(table)
    failed = [r for r in results if r.exception is not None]
    for r in failed:
        console.print(f"[bold red]error:[/] {r.stream}: {r.exception.cause}", markup=True, highlight=False)
        console.print(f"[bold]fix:[/] {r.exception.fix}", highlight=False)
    if failed:
        raise typer.Exit(1)
