"""PostgreSQL -> bronze throughput, side by side with dlt and a raw floor, in one run.

    python bench/bench_postgres.py [--rows 5000000] [--dlt-backend pyarrow|connectorx]
    python bench/bench_postgres.py --chunk-rows 200000 --chunk-rows 500000   # ours at each chunk size

1. Starts a PostgreSQL server (tests/helpers/servers.py) and builds `bench.orders` inside it with
   generate_series: bigint, numeric(12,2), timestamptz, text, bool, date, jsonb (10 columns).
2. Runs three loads of the whole table, each in its own child process, timed from the parent:
   - ours: `load_source` with the postgres type (ADBC, parallel key-range chunks) into a bronze Delta table,
     once per `--chunk-rows` given (default: the loader's own, 200,000);
   - dlt: its `sql_database` source (pinned, installed in its own virtual environment under
     .lakehouse/bench-venvs/) writing the `delta` table format to a local filesystem destination;
   - raw: ADBC -> Arrow record batches -> one Parquet file (no Delta, no pipeline): the floor.
3. Prints rows/s, MB/s (the table's Arrow size over wall time), the child's peak RSS, and the ratios
   ours/dlt and ours/raw. A benchmark prints; it never asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from tests.helpers.servers import PostgresServer  # noqa: E402

DLT_PINS = ["dlt[deltalake]==1.31.0", "sqlalchemy==2.0.44", "psycopg2-binary==2.9.11", "connectorx==0.4.6"]
PASSWORD = "bench-pass"

CREATE = """
create schema bench;
create table bench.orders (
    order_id bigint primary key,
    customer_id bigint not null,
    amount numeric(12,2) not null,
    currency text not null,
    status text not null,
    is_paid boolean not null,
    created_at timestamptz not null,
    order_date date not null,
    note text,
    attributes jsonb
);
insert into bench.orders
select g,
       (g * 7919) % 250000,
       round(((g * 104729) % 100000) / 100.0, 2),
       (array['USD','EUR','GBP','JPY'])[1 + g % 4],
       (array['pending','paid','shipped','refunded','canceled'])[1 + g % 5],
       g % 3 <> 0,
       timestamptz '2024-01-01 00:00:00+00' + (g * interval '6 seconds'),
       date '2024-01-01' + (g / 20000)::int,
       case when g % 10 = 0 then null else 'order note ' || md5(g::text) end,
       jsonb_build_object('channel', (array['web','app','store'])[1 + g % 3], 'items', 1 + g % 7)
from generate_series(1::bigint, {rows}) g;
analyze bench.orders;
"""

OURS = """
import sys, yaml
from pathlib import Path
from loaders.core.config import load_source_config
from lakehouse.core.storage import LakehouseRoot
from loaders.pipeline import load_source
folder = Path(sys.argv[1])
document = {{"source": "bench", "type": "postgres", "options": {options},
            "streams": [{{"name": "orders", "table": "bench.orders", "mode": "append", "primary_key": ["order_id"],
                         "chunk_rows": {chunk_rows}}}]}}
(folder / "bench.yml").write_text(yaml.safe_dump(document))
(folder / "root").mkdir()
result = load_source(LakehouseRoot.parse(str(folder / "root")), load_source_config(folder / "bench.yml"))[0]
print(result.rows)
"""

RAW = """
import sys
import adbc_driver_postgresql.dbapi as dbapi
import pyarrow.parquet as pq
with dbapi.connect(sys.argv[2]) as connection, connection.cursor() as cursor:
    cursor.execute("select * from bench.orders")
    reader = cursor.fetch_record_batch()
    rows = size = 0
    with pq.ParquetWriter(sys.argv[1] + "/orders.parquet", reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
            size += batch.nbytes
print(rows, size)
"""

DLT = """
import sys, dlt
from dlt.sources.sql_database import sql_table
folder, uri, backend = sys.argv[1], sys.argv[2], sys.argv[3]
table = sql_table(credentials=uri.replace("postgresql://", "postgresql+psycopg2://"), table="orders", schema="bench",
                  backend=backend, chunk_size=100_000)
pipeline = dlt.pipeline(pipeline_name="bench", pipelines_dir=folder + "/pipelines",
                        destination=dlt.destinations.filesystem(bucket_url="file://" + folder + "/lake"),
                        dataset_name="bronze")
info = pipeline.run(table, table_format="delta", loader_file_format="parquet")
print(pipeline.last_trace.last_normalize_info.row_counts.get("orders", 0))
"""


@dataclass
class Measure:
    name: str
    seconds: float
    peak_mb: float
    rows: int


def run_child(name: str, python: str, code: str, args: list[str], env: dict[str, str]) -> Measure:
    started = time.perf_counter()
    process = subprocess.Popen([python, "-c", code, *args], env=env, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    output = process.stdout.read() if process.stdout else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{name} failed with exit code {process.returncode}")
    rows = int(output.strip().split()[-2 if name == "raw" else -1]) if output.strip() else 0
    return Measure(name, seconds, usage.ru_maxrss / 1024, rows)


def dlt_python() -> str:
    home = Path(os.environ.get("LAKEHOUSE_HOME", PROJECT_DIR / ".lakehouse")) / "bench-venvs" / "dlt"
    python = home / "bin" / "python"
    if not python.exists():
        print(f"creating dlt's virtual environment in {home} ({', '.join(DLT_PINS)})", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *DLT_PINS], check=True)
    return str(python)


def arrow_bytes(server: PostgresServer, uri: str) -> tuple[int, int]:
    import adbc_driver_postgresql.dbapi as dbapi

    with dbapi.connect(uri) as connection, connection.cursor() as cursor:
        cursor.execute("select * from bench.orders")
        rows = size = 0
        for batch in cursor.fetch_record_batch():
            rows += batch.num_rows
            size += batch.nbytes
    return rows, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--dlt-backend", default="pyarrow", choices=["pyarrow", "connectorx", "sqlalchemy"])
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--chunk-rows", type=int, action="append", help="repeatable (default: 200000, the loader's)")
    arguments = parser.parse_args()
    chunk_sizes = arguments.chunk_rows or [200_000]
    python_dlt = dlt_python()
    server = PostgresServer().start()
    work = Path(tempfile.mkdtemp(prefix="bench-postgres-"))
    try:
        server.create_database("bench", owner="bench", owner_password=PASSWORD)
        started = time.perf_counter()
        server.psql(textwrap.dedent(CREATE.format(rows=arguments.rows)), "bench")
        server.psql("alter schema bench owner to bench; alter table bench.orders owner to bench", "bench")
        print(f"generated {arguments.rows:,} rows in {time.perf_counter() - started:.1f}s", flush=True)
        uri = server.uri("bench", "bench", PASSWORD)
        rows, size = arrow_bytes(server, uri)
        print(f"table: {rows:,} rows, {size / 1e6:,.0f} MB as Arrow", flush=True)
        env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR), "BENCH_PG_PASSWORD": PASSWORD}
        options = {
            "host": "127.0.0.1",
            "port": server.port,
            "database": "bench",
            "user": "bench",
            "password": "${BENCH_PG_PASSWORD}",
            "parallel": arguments.parallel,
        }
        ours = [
            (f"ours[{chunk:,}]", sys.executable, OURS.format(options=json.dumps(options), chunk_rows=chunk), [])
            for chunk in chunk_sizes
        ]
        results = []
        for name, python, code, extra in (
            ("raw", sys.executable, RAW, [uri]),
            *ours,
            (f"dlt[{arguments.dlt_backend}]", python_dlt, DLT, [uri, arguments.dlt_backend]),
        ):
            folder = work / name.replace("[", "_").replace("]", "").replace(",", "")
            folder.mkdir()
            print(f"running {name} ...", flush=True)
            results.append(run_child(name, python, code, [str(folder), *extra], env))
        report(results, rows, size)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def report(results: list[Measure], rows: int, size: int) -> None:
    print()
    print(f"{'load':<18}{'rows':>12}{'seconds':>10}{'rows/s':>14}{'MB/s':>10}{'peak RSS MB':>14}")
    for m in results:
        print(
            f"{m.name:<18}{m.rows:>12,}{m.seconds:>10.1f}{rows / m.seconds:>14,.0f}"
            f"{size / 1e6 / m.seconds:>10.1f}{m.peak_mb:>14,.0f}"
        )
    by_name = {m.name.split("[")[0]: m for m in results}
    print()
    for m in results:
        if m.name.startswith("ours"):
            print(
                f"{m.name}: dlt/ours wall {by_name['dlt'].seconds / m.seconds:.2f}x (target >= 1.5x), "
                f"ours/raw wall {m.seconds / by_name['raw'].seconds:.2f}x (target <= 1.1x), "
                f"peak RSS {m.peak_mb:,.0f} MB (target <= 300 MB)"
            )


if __name__ == "__main__":
    main()
