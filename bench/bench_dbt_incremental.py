"""Incremental cost of silver: wall time of a full build vs an incremental build after ~1% new data.

    python bench/bench_dbt_incremental.py                  # scale 1, 90 days of history, then 1 day
    python bench/bench_dbt_incremental.py --scale 0.2      # a quick look

Generates the synthetic company into a temporary LAKEHOUSE_HOME, loads every embedded source into a
temporary local root, starts the local Spark Thrift server, then times `dbt run` of everything up to
silver twice: from scratch (`--full-refresh`, the cost of rebuilding), and incrementally after one more
simulated day is generated and loaded (a day of 90 is about 1% of the rows). Prints both wall times,
their ratio and the measured share of new rows. Printing only: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from company import generate, generate_increment
from lakehouse.catalog import ensure_layer_databases, register_bronze, thrift_cursor
from lakehouse.core.storage import LakehouseRoot
from lakehouse.dbt_runner import run_dbt
from lakehouse.platform.jars import JarSet
from lakehouse.platform.process import free_ports
from lakehouse.platform.spark import SparkThriftServer, ThriftEndpoint
from lakehouse.source_files import all_sources
from loaders.pipeline import load_source

SEED = 7
QUIET = json.dumps({"observability_enabled": False})


@dataclass(frozen=True)
class Timing:
    label: str
    seconds: float
    models: int


def load_all(root: LakehouseRoot, endpoint: ThriftEndpoint) -> int:
    configs = all_sources()
    rows = sum(result.rows for config in configs for result in load_source(root, config))
    with thrift_cursor(endpoint) as cursor:
        ensure_layer_databases(cursor, root)
        register_bronze(cursor, root, configs)
    return rows


def timed_run(label: str, *args: str) -> Timing:
    began = time.perf_counter()
    outcome = run_dbt(["run", "--select", "silver", *args, "--vars", QUIET])
    elapsed = time.perf_counter() - began
    if not outcome.success:
        raise SystemExit(f"{label} failed:\n" + "\n".join(outcome.failures))
    return Timing(label, elapsed, outcome.statuses.get("success", 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=90, help="days of history before the incremental day")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-dbt-incremental-") as tmp:
        home = Path(tmp)
        os.environ["LAKEHOUSE_HOME"] = str(home)
        os.environ.setdefault("DBT_TARGET_PATH", str(home / "dbt-target"))
        os.environ.setdefault("DBT_LOG_PATH", str(home / "dbt-logs"))
        company = home / "samples" / "company"
        print(f"generating the company: scale {options.scale:g}, {options.days} days ...", flush=True)
        generate(company, seed=SEED, scale=options.scale, days=options.days)

        (home / "root").mkdir()
        root = LakehouseRoot.parse(str(home / "root"))
        JarSet.for_installed().resolve()
        endpoint = ThriftEndpoint("127.0.0.1", free_ports(1)[0])
        server = SparkThriftServer(root, endpoint)
        server.start()
        os.environ["LAKEHOUSE_THRIFT_HOST"], os.environ["LAKEHOUSE_THRIFT_PORT"] = endpoint.host, str(endpoint.port)
        try:
            history_rows = load_all(root, endpoint)
            # Views and seeds first, so both timings cover the silver models alone.
            run_dbt(["run", "--select", "+silver", "--exclude", "silver", "--vars", QUIET])
            run_dbt(["seed", "--vars", QUIET])
            full = timed_run("full build (--full-refresh)", "--full-refresh")

            generate_increment(company, options.days, seed=SEED, scale=options.scale)
            day_rows = load_all(root, endpoint)
            incremental = timed_run("incremental build after one day")
        finally:
            server.stop()

    share = day_rows / history_rows if history_rows else 0.0
    print()
    print(f"bronze rows: {history_rows:,} history, {day_rows:,} new ({share:.1%})")
    for timing in (full, incremental):
        print(f"{timing.label:<34} {timing.seconds:8.1f} s  ({timing.models} models)")
    print(f"incremental / full wall time: {incremental.seconds / full.seconds:.2f}")


if __name__ == "__main__":
    main()
