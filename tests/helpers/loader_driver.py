"""Run one source load in its own process, for the crash and concurrency tests.

    python -m tests.helpers.loader_driver --root <root> --source-file <src.yml> [--stream S] [--full-refresh]

Prints `started <load id>` once the load's ledger row is written, `batch <n>` after every committed
batch (the tests time their SIGKILLs on these lines) and
`done` at the end. Run it as a module from the project folder (`DRIVER_COMMAND`).
S3 settings come from the standard AWS variables, as everywhere.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lakehouse.core.errors import LakehouseError
from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import load_source_config
from loaders.core.result import StreamResult
from loaders.pipeline import load_source


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--source-file", required=True, type=Path)
    parser.add_argument("--stream", action="append")
    parser.add_argument("--full-refresh", action="store_true")
    args = parser.parse_args()

    def on_batch(result: StreamResult) -> None:
        print(f"batch {result.batches}", flush=True)

    def on_start(result: StreamResult) -> None:
        print(f"started {result.load_id}", flush=True)

    root = LakehouseRoot.parse(args.root)
    config = load_source_config(args.source_file)
    try:
        load_source(
            root, config, streams=args.stream, full_refresh=args.full_refresh, on_batch=on_batch, on_start=on_start
        )
    except LakehouseError as exc:
        print(f"error {type(exc).__name__}: {exc.cause}", flush=True)
        return 2
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
