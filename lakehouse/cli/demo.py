"""`lakehouse demo`: the main job on the embedded default."""

from __future__ import annotations

from typing import Annotated

import typer

from lakehouse.cli.errors import console, friendly_errors


@friendly_errors
def demo(
    keep_running: Annotated[bool, typer.Option(help="Leave the Spark Thrift server running afterwards.")] = False,
    days: Annotated[int, typer.Option(help="Then simulate N more days, each loaded and built incrementally.")] = 0,
    scale: Annotated[float, typer.Option(help="Size of the generated company on first run (1 ≈ 150k rows).")] = 1.0,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Print dbt's full log as it runs (otherwise it goes to its log file)."),
    ] = False,
) -> None:
    """Run the main job on the embedded default: generate → load → register → dbt build → docs → summary."""
    from lakehouse.demo import run_demo

    run_demo(console, keep_running=keep_running, days=days, scale=scale, verbose=verbose)
