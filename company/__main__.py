"""Command line: ``python -m company --out DIR [--seed 7] [--scale 1] [--days 30]``.

With ``--increment N`` it writes simulation day N (0 is the start date) instead of the history;
``--inject SOURCE:KIND[:FACTOR]`` makes one source misbehave on that day.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import cast

from company.api import DEFAULT_START, generate, generate_increment
from company.clock import batch_name, history_batch_name
from company.inject import Injection, InjectionKind


def _injection(text: str) -> Injection:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError("use SOURCE:KIND or SOURCE:KIND:FACTOR, e.g. stripe:volume_drop:0.1")
    try:
        return Injection(parts[0], cast(InjectionKind, parts[1]), float(parts[2]) if len(parts) == 3 else None)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m company", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scale", type=float, default=1.0, help="1.0 is ~2,000 customers and ~4,000 orders a month")
    p.add_argument("--start", type=date.fromisoformat, default=DEFAULT_START, help="first day, YYYY-MM-DD")
    p.add_argument("--days", type=int, default=30, help="days of history")
    p.add_argument("--increment", type=int, metavar="N", help="write only day N's changes")
    p.add_argument("--inject", type=_injection, metavar="SOURCE:KIND[:FACTOR]", help="with --increment")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.inject and args.increment is None:
        _parser().error("--inject needs --increment")
    common = {"seed": args.seed, "scale": args.scale, "start": args.start}
    if args.increment is None:
        manifest = generate(args.out, days=args.days, **common)
        label = history_batch_name(args.start, args.days)
    else:
        manifest = generate_increment(args.out, args.increment, inject=args.inject, **common)
        label = batch_name(args.start, args.increment)
    batch_rows = sum(
        st.batches[label].row_count
        for s in manifest.systems.values()
        for st in s.streams.values()
        if label in st.batches
    )
    print(f"wrote {label}: {batch_rows} rows in {len(manifest.systems)} systems to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
