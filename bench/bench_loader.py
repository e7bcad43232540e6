"""Loader throughput and memory at two sizes, side by side: does peak memory stay flat as data grows?

    python bench/bench_loader.py                    # 1M and 10M rows
    python bench/bench_loader.py --rows 200000      # 200k and 2M rows, for a quick look

Generates a narrow CSV source (one file per million rows, like daily exports), loads each size into
its own temporary root in a fresh child process (`lakehouse`'s own pipeline, default batch size),
and prints rows, MB, seconds, rows/s, MB/s and the child's peak RSS. Printing only: the figures
depend on the machine, nothing here asserts on them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import yaml

FILE_ROWS = 1_000_000
GENERATE_CHUNK = 250_000


def generate(folder: Path, rows: int) -> int:
    """CSV files with `rows` rows under `folder/items/`; returns their size in bytes."""
    (folder / "items").mkdir(parents=True)
    written, number = 0, 0
    while written < rows:
        count = min(FILE_ROWS, rows - written)
        path = folder / "items" / f"{number:04d}.csv"
        with pacsv.CSVWriter(path, _chunk(written, min(GENERATE_CHUNK, count)).schema) as writer:
            for start in range(written, written + count, GENERATE_CHUNK):
                writer.write_table(_chunk(start, min(GENERATE_CHUNK, written + count - start)))
        written, number = written + count, number + 1
    return sum(p.stat().st_size for p in (folder / "items").iterdir())


def _chunk(start: int, count: int) -> pa.Table:
    ids = pa.array(range(start, start + count), pa.int64())
    return pa.table(
        {
            "item_id": ids,
            "customer": pc.binary_join_element_wise("customer-", pc.cast(pc.divide(ids, 7), pa.string()), ""),
            "amount": pc.divide(pc.cast(pc.multiply(ids, 7919), pa.float64()), 1000.0),
            "created_at": pc.cast(pc.add(pc.multiply(ids, 1000), 1_767_225_600_000), pa.timestamp("ms", tz="UTC")),
            "is_active": pc.equal(pc.bit_wise_and(ids, 1), 0),
        }
    )


def source_file(folder: Path) -> Path:
    path = folder / "bench.yml"
    stream = {"name": "items", "format": "csv", "pattern": "items/*.csv", "primary_key": ["item_id"]}
    path.write_text(yaml.safe_dump({"source": "bench", "type": "files", "options": {"path": "."}, "streams": [stream]}))
    return path


def run_child(root: Path, source: Path) -> dict:
    """Load in a fresh process; its peak RSS comes from wait4, so each size is measured alone."""
    command = [sys.executable, __file__, "--child", str(root), str(source)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the load failed:\n{output}")
    result = json.loads(output.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return result


def child(root: str, source: str) -> None:
    import structlog

    from lakehouse.core.storage import LakehouseRoot
    from loaders.core.config import load_source_config
    from loaders.pipeline import load_source

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))  # warnings and up
    started = time.perf_counter()
    [result] = load_source(LakehouseRoot.parse(root), load_source_config(Path(source)))
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": result.rows, "batches": result.batches, "seconds": seconds}))


def measure(rows: int, workdir: Path) -> dict:
    folder = workdir / f"rows-{rows}"
    started = time.perf_counter()
    size = generate(folder / "data", rows)
    print(f"  generated {rows:,} rows ({size / 1e6:,.0f} MB) in {time.perf_counter() - started:.1f} s", flush=True)
    (folder / "root").mkdir()
    result = run_child(folder / "root", source_file(folder / "data"))
    result["mb"] = size / 1e6
    return result


def report(results: list[dict]) -> None:
    rows = [
        ("rows", lambda r: f"{r['rows']:,}"),
        ("source MB", lambda r: f"{r['mb']:,.0f}"),
        ("batches (commits)", lambda r: f"{r['batches']:,}"),
        ("seconds", lambda r: f"{r['seconds']:,.1f}"),
        ("rows/s", lambda r: f"{r['rows'] / r['seconds']:,.0f}"),
        ("MB/s", lambda r: f"{r['mb'] / r['seconds']:,.1f}"),
        ("peak RSS MB", lambda r: f"{r['peak_rss_mb']:,.0f}"),
    ]
    print(f"\n{'':20}" + "".join(f"{'size ' + str(i + 1):>16}" for i in range(len(results))))
    for label, cell in rows:
        print(f"{label:20}" + "".join(f"{cell(r):>16}" for r in results))
    growth = results[-1]["peak_rss_mb"] / results[0]["peak_rss_mb"]
    scale = results[-1]["rows"] / results[0]["rows"]
    print(f"\n{scale:.0f}x the rows, {growth:.2f}x the peak memory.")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="the small size (default 1,000,000)")
    parser.add_argument("--factor", type=int, default=10, help="the large size is this many times the small")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-loader-") as workdir:
        results = []
        for rows in (args.rows, args.rows * args.factor):
            print(f"{rows:,} rows:", flush=True)
            results.append(measure(rows, Path(workdir)))
        report(results)


if __name__ == "__main__":
    main()
