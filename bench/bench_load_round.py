"""A round of loads over every embedded source: the loader's cost per stream against one bare Delta append.

    python bench/bench_load_round.py                  # scale 0.2, 30 days of history, then 2 days
    python bench/bench_load_round.py --scale 1

A day of the company is small (tens of rows per stream at scale 0.2), so a round of loads (what
`lakehouse load`, the demo, the Dagster schedule and the tests run, 65 streams) costs what each stream
load costs whatever its size: the cursor, the bronze commit, the ledger's `running` row and its outcome,
the quarantine. Generates the company into a temporary LAKEHOUSE_HOME, loads its history into a
temporary local root, then times the load of each further day. The floor, in the same run: each stream's
rows of that day (read back from bronze) appended with one bare `write_deltalake` per stream to a Delta
table that already holds them once, the least a load that commits its rows can cost. Printing only: the
figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from deltalake import write_deltalake

from company import generate, generate_increment
from lakehouse.core.storage import LakehouseRoot
from lakehouse.source_files import all_sources
from loaders.core.delta import read_table
from loaders.core.result import StreamResult
from loaders.pipeline import load_source

SEED = 7


def load_round(root: LakehouseRoot) -> tuple[float, list[StreamResult]]:
    began = time.perf_counter()
    results = [result for config in all_sources() for result in load_source(root, config)]
    return time.perf_counter() - began, results


def floor_round(root: LakehouseRoot, results: list[StreamResult], folder: Path) -> float:
    """One bare append per stream of the rows the loader committed in that round."""
    batches = []
    for result in results:
        sql = f"select * from t where _load_id = '{result.load_id}'"
        batches.append(read_table(root.bronze_uri(result.source, result.stream), sql=sql))
    for number, rows in enumerate(batches):  # the tables exist before the timed appends, as bronze does
        write_deltalake(str(folder / f"t{number}"), rows, mode="append")
    began = time.perf_counter()
    for number, rows in enumerate(batches):
        write_deltalake(str(folder / f"t{number}"), rows, mode="append")
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--days", type=int, default=30, help="days of history before the timed days")
    parser.add_argument("--rounds", type=int, default=2, help="days loaded one after another, each timed")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-load-round-") as tmp:
        home = Path(tmp)
        os.environ["LAKEHOUSE_HOME"] = str(home / "home")
        os.environ.pop("LAKEHOUSE_SOURCES", None)
        company = home / "home" / "samples" / "company"
        generate(company, seed=SEED, scale=options.scale, days=options.days)
        (home / "root").mkdir()
        root = LakehouseRoot.parse(str(home / "root"))
        history, results = load_round(root)
        print(f"history ({options.days} days, scale {options.scale:g}): {len(results)} streams, "
              f"{sum(r.rows_loaded for r in results):,} rows, {history:.1f} s")  # fmt: skip
        print(f"{'day':>4} {'streams':>8} {'rows':>7} {'loader':>9} {'floor':>8} {'loader per stream':>18}")
        for day in range(options.days, options.days + options.rounds):
            generate_increment(company, day, seed=SEED, scale=options.scale)
            seconds, results = load_round(root)
            floor = floor_round(root, results, home / f"floor-{day}")
            rows = sum(r.rows_loaded for r in results)
            per_stream = seconds / len(results) * 1000
            print(f"{day:>4} {len(results):>8} {rows:>7,} {seconds:>8.2f}s {floor:>7.2f}s {per_stream:>15.0f} ms")


if __name__ == "__main__":
    main()
