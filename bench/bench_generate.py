"""Generation throughput of the synthetic company at scale 1 and scale 10, side by side.

Run with ``python bench/bench_generate.py [--days 30] [--scales 1 10]``. It prints figures; it asserts
nothing about timings.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from company import generate


@dataclass(frozen=True)
class Result:
    scale: float
    seconds: float
    rows: int
    megabytes: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _size_mb(root: Path) -> float:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1_000_000


def measure(scale: float, days: int) -> Result:
    with tempfile.TemporaryDirectory(prefix=f"company-bench-{scale:g}-") as tmp:
        out = Path(tmp)
        began = time.perf_counter()
        manifest = generate(out, scale=scale, days=days)
        elapsed = time.perf_counter() - began
        return Result(scale, elapsed, manifest.total_rows, _size_mb(out))


def report(results: list[Result]) -> str:
    header = f"{'':<18}" + "".join(f"{'scale ' + format(r.scale, 'g'):>16}" for r in results)
    lines = [header]
    for label, cell in (
        ("rows/s", lambda r: f"{r.rows_per_second:,.0f}"),
        ("total rows", lambda r: f"{r.rows:,}"),
        ("size on disk (MB)", lambda r: f"{r.megabytes:,.1f}"),
        ("seconds", lambda r: f"{r.seconds:,.1f}"),
    ):
        lines.append(f"{label:<18}" + "".join(f"{cell(r):>16}" for r in results))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    args = parser.parse_args()
    print(report([measure(scale, args.days) for scale in args.scales]))


if __name__ == "__main__":
    main()
