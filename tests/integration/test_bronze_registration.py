"""Every kind of bronze table delta-rs writes can be registered and read by Spark through Thrift."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lakehouse.catalog import ensure_layer_databases, register_bronze, thrift_cursor
from loaders.core.config import load_source_config
from loaders.pipeline import load_source
from tests.helpers.spark import SparkServer


def write_source(tmp_path: Path) -> Path:
    """A Parquet drop with a naive timestamp: delta-rs raises such a table's protocol to writer v7."""
    folder = tmp_path / "drop" / "events"
    folder.mkdir(parents=True)
    table = pa.table(
        {
            "event_id": pa.array([1, 2, 3], pa.int64()),
            "happened_at": pa.array([datetime(2026, 1, d) for d in (1, 2, 3)], pa.timestamp("us")),
            "payload": pa.array(['{"a": 1}', None, "{}"], pa.string()),
        }
    )
    pq.write_table(table, folder / "day=2026-01-03.parquet")
    config = tmp_path / "ntz_drop.yml"
    config.write_text(
        "source: ntz_drop\ntype: files\noptions:\n  path: drop\nstreams:\n"
        '  - name: events\n    format: parquet\n    pattern: "events/*.parquet"\n    primary_key: [event_id]\n'
    )
    return config


def test_a_timestamp_ntz_table_registers_and_reads(spark_local: SparkServer, tmp_path: Path) -> None:
    config = load_source_config(write_source(tmp_path))
    [result] = load_source(spark_local.root, config)
    assert result.rows_loaded == 3

    with thrift_cursor(spark_local.endpoint) as cursor:
        ensure_layer_databases(cursor, spark_local.root)
        assert register_bronze(cursor, spark_local.root, [config]) == ["bronze_ntz_drop.events"]
        cursor.execute("select event_id, cast(happened_at as string), _source from bronze_ntz_drop.events order by 1")
        rows = [tuple(row) for row in cursor.fetchall()]
    assert rows == [
        (1, "2026-01-01 00:00:00", "ntz_drop"),
        (2, "2026-01-02 00:00:00", "ntz_drop"),
        (3, "2026-01-03 00:00:00", "ntz_drop"),
    ]
