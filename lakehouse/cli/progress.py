"""Rich progress for loads: rows, bytes and rate per stream, plus quarantined and rescued counts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from loaders.core.result import ProgressHook, StreamResult


@contextmanager
def load_progress(console: Console) -> Iterator[ProgressHook]:
    """Yield a hook for `load_source(on_batch=...)` that keeps one progress line per stream."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
    )
    tasks: dict[str, int] = {}

    def on_batch(result: StreamResult) -> None:
        key = f"{result.source}.{result.stream}"
        if key not in tasks:
            tasks[key] = progress.add_task(key, total=None, detail="")
        seconds = max(result.seconds, 1e-6)
        detail = (
            f"{result.rows:,} rows  {result.bytes / 1e6:,.1f} MB  "
            f"{result.rows / seconds:,.0f} rows/s  {result.bytes / 1e6 / seconds:,.1f} MB/s"
        )
        if result.rows_quarantined:
            detail += f"  [yellow]{result.rows_quarantined:,} quarantined[/]"
        if result.rows_rescued:
            detail += f"  [cyan]{result.rows_rescued:,} rescued[/]"
        progress.update(tasks[key], detail=detail)

    with progress:
        yield on_batch
