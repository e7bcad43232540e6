"""How the command line reports an error a user can act on: the cause, the fix, exit code 2, no traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from lakehouse.core.errors import LakehouseError

console = Console()


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
