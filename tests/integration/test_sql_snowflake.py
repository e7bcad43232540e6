"""Snowflake through the real connector against fakesnow's server (Snowflake's REST protocol over DuckDB).

The connector's own Arrow path (`fetch_arrow_batches`) runs here: fakesnow answers queries with
Snowflake's Arrow result format, the connector converts it, the loader writes bronze.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml

from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import SourceConfig, load_source_config
from loaders.core.delta import read_table
from loaders.pipeline import load_source


@pytest.fixture(scope="module")
def snowflake_server() -> Iterator[dict[str, Any]]:
    import fakesnow
    import fakesnow.arrow

    # fakesnow builds Snowflake's timestamp structs without a validity bitmap, so a NULL timestamp
    # reaches the connector as 1970-01-01; real Snowflake sends it as NULL. Correct the fake, not us.
    original = fakesnow.arrow.timestamp_to_sf_struct

    def with_nulls(ts: pa.Array | pa.ChunkedArray) -> pa.Array:
        values = ts.combine_chunks() if isinstance(ts, pa.ChunkedArray) else ts
        struct = original(values)
        return pa.StructArray.from_arrays(struct.flatten(), fields=list(struct.type), mask=pc.is_null(values))

    fakesnow.arrow.timestamp_to_sf_struct = with_nulls
    try:
        with fakesnow.server() as connection:
            yield connection
    finally:
        fakesnow.arrow.timestamp_to_sf_struct = original


def execute(server: dict[str, Any], *statements: str) -> None:
    import snowflake.connector

    with snowflake.connector.connect(**server) as connection, connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def config_for(folder: Path, server: dict[str, Any], streams: list[dict[str, Any]]) -> SourceConfig:
    options = {
        "account": server["account"],
        "user": server["user"],
        "password": "${SNOWFLAKE_TEST_PASSWORD}",
        "host": server["host"],
        "port": server["port"],
        "protocol": server["protocol"],
        "database": "ANALYTICS",
        "schema": "MARTS",
        "warehouse": "LOADING",
        "parallel": 2,
    }
    path = folder / "warehouse.yml"
    document = {"source": "warehouse", "type": "snowflake", "options": options, "streams": streams}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return load_source_config(path)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snowflake_server: dict[str, Any]) -> LakehouseRoot:
    monkeypatch.setenv("SNOWFLAKE_TEST_PASSWORD", snowflake_server["password"])
    folder = tmp_path / "root"
    folder.mkdir()
    return LakehouseRoot.parse(str(folder))


SETUP = (
    "create database if not exists analytics",
    "create schema if not exists analytics.marts",
    "use schema analytics.marts",
)


def test_snowflake_type_fidelity(snowflake_server: dict[str, Any], root: LakehouseRoot, tmp_path: Path) -> None:
    execute(
        snowflake_server,
        *SETUP,
        "create or replace table kinds (id number(38,0), price number(12,2), big number(38,10), event_at timestamp_tz, "
        "local_at timestamp_ntz, day date, doc variant, tags array, attrs object, raw binary, flag boolean, "
        "label varchar, ratio float, updated_at timestamp_ntz)",
        "insert into kinds select 1, 12345.67, 1234567890123456789012345678.0123456789, "
        "'2026-03-01 12:34:56.789012 +05:30'::timestamp_tz, '2026-03-01 12:34:56.789012', '2026-03-01', "
        "parse_json('{\"a\": [1, 2]}'), array_construct('x', 'y'), object_construct('k', 'v'), "
        "to_binary('deadbeef', 'HEX'), true, 'héllo', 1.5e-7, '2026-03-02 00:00:00'",
        "insert into kinds (id, updated_at) values (2, '2026-03-02 00:00:00')",
    )
    stream = {"name": "kinds", "mode": "merge", "primary_key": ["ID"], "cursor_field": "UPDATED_AT"}
    config = config_for(tmp_path, snowflake_server, [stream])
    assert load_source(root, config)[0].rows == 2
    rows = {row["ID"]: row for row in read_table(root.bronze_uri("warehouse", "kinds")).to_pylist()}
    full, empty = rows[1], rows[2]
    assert full["PRICE"] == Decimal("12345.67")
    assert full["BIG"] == Decimal("1234567890123456789012345678.0123456789")
    assert full["EVENT_AT"] == datetime(2026, 3, 1, 7, 4, 56, 789012, tzinfo=UTC)
    assert full["LOCAL_AT"] == datetime(2026, 3, 1, 12, 34, 56, 789012)
    assert full["DAY"] == date(2026, 3, 1)
    assert json.loads(full["DOC"]) == {"a": [1, 2]}
    assert json.loads(full["TAGS"]) == ["x", "y"] and json.loads(full["ATTRS"]) == {"k": "v"}
    assert full["RAW"] == b"\xde\xad\xbe\xef"
    assert full["FLAG"] is True and full["LABEL"] == "héllo" and full["RATIO"] == 1.5e-7
    nullable = ["PRICE", "BIG", "EVENT_AT", "LOCAL_AT", "DAY", "DOC", "TAGS", "ATTRS", "RAW", "FLAG", "LABEL", "RATIO"]
    assert all(empty[column] is None for column in nullable)


def test_snowflake_incremental_merge_with_chunks(
    snowflake_server: dict[str, Any], root: LakehouseRoot, tmp_path: Path
) -> None:
    execute(
        snowflake_server,
        *SETUP,
        "create or replace table orders (order_id number(38,0), amount number(12,2), status varchar, "
        "updated_at timestamp_tz)",
        "insert into orders select seq4() + 1, (seq4() % 100) / 4, 'open', "
        "dateadd(second, seq4(), '2026-01-01 00:00:00 +00:00'::timestamp_tz) from table(generator(rowcount => 500))",
    )
    stream = {"name": "orders", "mode": "merge", "primary_key": ["ORDER_ID"], "cursor_field": "UPDATED_AT"}
    config = config_for(tmp_path, snowflake_server, [stream | {"chunk_rows": 100}])
    first = load_source(root, config)[0]
    assert first.rows == 500 and first.batches == 5
    execute(
        snowflake_server,
        *SETUP,
        "update orders set status = 'shipped', updated_at = '2026-02-01 00:00:00'::timestamp_tz where order_id = 10",
    )
    second = load_source(root, config)[0]
    assert second.rows == 1
    bronze = read_table(root.bronze_uri("warehouse", "orders"))
    assert bronze.num_rows == 500
    statuses = {row["ORDER_ID"]: row["STATUS"] for row in bronze.to_pylist()}
    assert statuses[10] == "shipped" and statuses[11] == "open"
