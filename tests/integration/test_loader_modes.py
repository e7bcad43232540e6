"""Sync modes against real storage (a local folder and the S3 server): append, full refresh, merge, CDC,
soft deletes, partitioning, and retries of transient read errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakehouse.core.errors import SourceError
from lakehouse.core.storage import LakehouseRoot
from loaders.core.bronze import META_CURSOR, BronzeTable
from loaders.core.config import SourceConfig
from loaders.core.delta import find_commit, open_table
from loaders.core.protocol import Batch
from loaders.core.result import StreamResult
from loaders.core.retry import RetryPolicy, TransientSourceError
from loaders.pipeline import load_source, load_stream
from loaders.registry import build_source
from tests.helpers.loader_io import (
    bronze_rows,
    ledger_rows,
    source_config,
    write_csv,
    write_jsonl,
    write_source,
)

APP_ID = "default/src/items"


def items_source(tmp_path: Path, **stream_keys: object) -> SourceConfig:
    stream = {"name": "items", "format": "csv", "primary_key": ["item_id"], "batch_rows": 50, **stream_keys}
    return source_config(write_source(tmp_path, [stream]))


def items_file(tmp_path: Path, name: str, rows: list[tuple]) -> None:
    write_csv(tmp_path / "data" / "items" / name, ["item_id", "value", "updated_at"], rows)


def by_key(rows: list[dict]) -> dict[int, dict]:
    return {row["item_id"]: row for row in rows}


class Interrupted:
    """A stream that raises `error` before its `at`-th batch, `times` times (then reads normally)."""

    def __init__(self, inner, *, at: int, error: Exception, times: int = 1) -> None:
        self.inner, self.config, self.at, self.error, self.times = inner, inner.config, at, error, times

    def read(self, cursor: str | None) -> Iterator[Batch]:
        for index, batch in enumerate(self.inner.read(cursor)):
            if index == self.at and self.times > 0:
                self.times -= 1
                raise self.error
            yield batch


def test_append_loads_only_what_is_new(root: LakehouseRoot, tmp_path: Path) -> None:
    config = items_source(tmp_path, cursor_field="updated_at")
    items_file(tmp_path, "001.csv", [(i, i, "2026-01-01T00:00:00Z") for i in range(120)])
    [first] = load_source(root, config)
    items_file(tmp_path, "002.csv", [(i, i, "2026-01-02T00:00:00Z") for i in range(120, 150)])
    [second] = load_source(root, config)
    assert (first.rows, second.rows, second.rows_read) == (120, 30, 30)
    assert sorted(r["item_id"] for r in bronze_rows(root, "src", "items")) == list(range(150))
    assert second.cursor_before == first.cursor_after


def test_full_refresh_replaces_the_table(root: LakehouseRoot, tmp_path: Path) -> None:
    config = items_source(tmp_path, mode="full_refresh")
    items_file(tmp_path, "001.csv", [(i, i, "x") for i in range(120)])
    load_source(root, config)
    (tmp_path / "data" / "items" / "001.csv").unlink()
    items_file(tmp_path, "002.csv", [(i, -i, "y") for i in range(500, 560)])
    [result] = load_source(root, config)
    assert result.mode == "full_refresh"
    assert sorted(r["item_id"] for r in bronze_rows(root, "src", "items")) == list(range(500, 560))


def test_an_interrupted_full_refresh_is_continued_not_restarted(root: LakehouseRoot, tmp_path: Path) -> None:
    config = items_source(tmp_path)
    items_file(tmp_path, "001.csv", [(i, i, "old") for i in range(40)])
    load_source(root, config)  # an ordinary append first: the refresh must replace it
    items_file(tmp_path, "001.csv", [(i, i, "new") for i in range(300)])
    stream = build_source(config).streams()[0]
    broken = Interrupted(stream, at=3, error=SourceError("the file server went away", "retry later"))
    with pytest.raises(SourceError):
        load_stream(root, "src", broken, full_refresh=True)
    partial = bronze_rows(root, "src", "items")
    assert len(partial) == 40 and {r["updated_at"] for r in partial} == {"old"}, "readers keep the old table"
    assert BronzeTable(root, "src", "items").staging().state(APP_ID).refreshing
    resumed = load_stream(root, "src", stream)  # even without --full-refresh, the refresh goes on
    assert resumed.mode == "full_refresh" and resumed.rows == 200, "the 100 rows staged before are not read again"
    rows = bronze_rows(root, "src", "items")
    assert sorted(r["item_id"] for r in rows) == list(range(300)) and {r["updated_at"] for r in rows} == {"new"}
    assert not BronzeTable(root, "src", "items").staging().exists(), "the staging table is gone once swapped in"


def test_a_reader_during_a_full_refresh_sees_the_old_table_or_the_new_one(root: LakehouseRoot, tmp_path: Path) -> None:
    config = items_source(tmp_path, mode="full_refresh")
    items_file(tmp_path, "001.csv", [(i, i, "old") for i in range(40)])
    load_source(root, config)
    items_file(tmp_path, "001.csv", [(i, i, "new") for i in range(300)])
    seen: list[tuple[int, frozenset[str]]] = []

    def read_bronze(result: StreamResult) -> None:  # after each committed batch, as any reader could
        rows = bronze_rows(root, "src", "items")
        seen.append((len(rows), frozenset(r["updated_at"] for r in rows)))

    [result] = load_source(root, config, on_batch=read_bronze)
    read_bronze(result)
    assert result.batches == 6 and len(seen) == 7
    assert set(seen) <= {(40, frozenset({"old"})), (300, frozenset({"new"}))}, seen
    assert seen[-1] == (300, frozenset({"new"}))


def test_a_full_refresh_that_reads_nothing_leaves_bronze_unless_the_stream_allows_it(
    root: LakehouseRoot, tmp_path: Path
) -> None:
    config = items_source(tmp_path, mode="full_refresh")
    items_file(tmp_path, "001.csv", [(i, i, "x") for i in range(40)])
    load_source(root, config)
    items_file(tmp_path, "001.csv", [])  # the export came out empty
    [result] = load_source(root, config, raise_on_error=False)
    assert result.status == "failed" and result.exception is not None
    assert "'items'" in str(result.exception) and "no rows" in str(result.exception)
    assert "allow_empty: true" in result.exception.fix
    assert len(bronze_rows(root, "src", "items")) == 40, "bronze is left as it was"
    [again] = load_source(root, config, raise_on_error=False)
    assert again.status == "failed", "refused again: the refusal did not leave a half-done refresh behind"

    allowed = items_source(tmp_path, mode="full_refresh", allow_empty=True)
    [emptied] = load_source(root, allowed)
    assert emptied.status == "success" and bronze_rows(root, "src", "items") == []


def test_merge_upserts_with_the_transaction_and_cursor_in_the_same_commit(root: LakehouseRoot, tmp_path: Path) -> None:
    config = items_source(tmp_path, mode="merge")
    items_file(tmp_path, "001.csv", [(i, 0, "a") for i in range(100)])
    items_file(tmp_path, "002.csv", [(i, 1, "b") for i in range(50, 130)] + [(7, 2, "c"), (7, 3, "d")])
    [result] = load_source(root, config)
    rows = by_key(bronze_rows(root, "src", "items"))
    assert len(rows) == 130 and len(bronze_rows(root, "src", "items")) == 130
    assert rows[7]["value"] == 3 and rows[10]["value"] == 0 and rows[60]["value"] == 1
    table = open_table(root.bronze_uri("src", "items"), root.storage_options())
    assert table is not None and table.transaction_version(APP_ID) == result.batches
    last = find_commit(table, APP_ID, result.batches)
    assert last is not None and last["operation"] == "MERGE" and last[META_CURSOR] == result.cursor_after


def test_cdc_deletes_are_tombstones_in_merge_mode_and_rows_in_append_mode(root: LakehouseRoot, tmp_path: Path) -> None:
    changes = [{"item_id": i, "value": i, "_op": "insert"} for i in range(10)]
    changes += [{"item_id": 3, "value": 30, "_op": "update"}, {"item_id": 4, "_op": "delete"}]
    changes += [{"item_id": 99, "_op": "delete"}, {"item_id": 5, "value": 1, "_op": "upsert"}]
    write_jsonl(tmp_path / "data" / "items" / "001.jsonl", changes)
    streams = [
        {"name": "items", "format": "jsonl", "mode": "cdc", "primary_key": ["item_id"]},
        {"name": "history", "format": "jsonl", "pattern": "items/*.jsonl", "primary_key": ["item_id"]},
    ]
    results = load_source(root, source_config(write_source(tmp_path, streams)))
    merged = by_key(bronze_rows(root, "src", "items"))
    # 4's insert and delete meet in one batch, and 99 was never in bronze: nothing to keep a tombstone of.
    assert sorted(merged) == [0, 1, 2, 3, 5, 6, 7, 8, 9] and merged[3]["value"] == 30
    write_jsonl(tmp_path / "data" / "items" / "002.jsonl", [{"item_id": 6, "_op": "delete"}])
    load_source(root, source_config(write_source(tmp_path, streams)))
    merged = by_key(bronze_rows(root, "src", "items"))
    assert merged[6]["_op"] == "delete" and merged[6]["value"] == 6, "a tombstone keeps the row's last values"
    assert [key for key, row in merged.items() if row["_op"] == "delete"] == [6]
    history = bronze_rows(root, "src", "history")
    assert len(history) == 14 and [r["_op"] for r in history if r["item_id"] == 4] == ["insert", "delete"]
    assert [r.rows_quarantined for r in results] == [1, 1]  # `upsert` is not an operation (first load)


def test_soft_deletes_are_tombstones_in_merge_and_rows_in_append(root: LakehouseRoot, tmp_path: Path) -> None:
    write_csv(tmp_path / "data" / "items" / "001.csv", ["item_id", "is_deleted"], [(1, "false"), (2, "false")])
    write_csv(tmp_path / "data" / "items" / "002.csv", ["item_id", "is_deleted"], [(2, "true"), (3, "false")])
    common = {"format": "csv", "pattern": "items/*.csv", "primary_key": ["item_id"], "soft_delete_field": "is_deleted"}
    streams = [{"name": "current", "mode": "merge", **common}, {"name": "log", **common}]
    load_source(root, source_config(write_source(tmp_path, streams)))
    current = sorted((r["item_id"], r["_op"] or "", r["is_deleted"]) for r in bronze_rows(root, "src", "current"))
    assert current == [(1, "", False), (2, "delete", True), (3, "", False)]
    log = bronze_rows(root, "src", "log")
    assert sorted((r["item_id"], r["_op"] or "") for r in log) == [(1, ""), (2, ""), (2, "delete"), (3, "")]


def test_partition_by_loaded_date(root: LakehouseRoot, tmp_path: Path) -> None:
    config = items_source(tmp_path, partition_by=["_loaded_date"])
    items_file(tmp_path, "001.csv", [(i, i, "x") for i in range(10)])
    load_source(root, config)
    table = open_table(root.bronze_uri("src", "items"), root.storage_options())
    assert table is not None and table.metadata().partition_columns == ["_loaded_date"]
    rows = bronze_rows(root, "src", "items")
    assert {r["_loaded_date"] for r in rows} == {rows[0]["_loaded_at"].date()}


def test_transient_read_errors_are_retried_from_the_last_committed_batch(root: LakehouseRoot, tmp_path: Path) -> None:
    config = items_source(tmp_path)
    items_file(tmp_path, "001.csv", [(i, i, "x") for i in range(500)])
    slept: list[float] = []
    stream = Interrupted(
        build_source(config).streams()[0], at=4, error=TransientSourceError("503", retry_after=3), times=2
    )
    progress: list[int] = []
    result = load_stream(
        root,
        "src",
        stream,
        retry=RetryPolicy(sleep=slept.append),
        on_batch=lambda r: progress.append(r.batches),
    )
    assert slept == [3.0, 3.0]  # the source's Retry-After, not our backoff
    assert result.rows == 500 and result.status == "success"
    assert sorted(r["item_id"] for r in bronze_rows(root, "src", "items")) == list(range(500))
    assert ledger_rows(root)[-1]["rows_loaded"] == 500


def test_results_and_ledger_agree(root: LakehouseRoot, tmp_path: Path) -> None:
    config = items_source(tmp_path, cursor_field="updated_at")
    items_file(tmp_path, "001.csv", [(i, i, "x") for i in range(75)])
    [result] = load_source(root, config)
    [entry] = ledger_rows(root)
    assert isinstance(result, StreamResult)
    assert entry["load_id"] == result.load_id and entry["status"] == "success"
    assert (entry["rows_read"], entry["rows_loaded"], entry["batches"]) == (75, 75, 2)
    assert entry["cursor_before"] is None and entry["cursor_after"] == result.cursor_after
    assert entry["finished_at"] >= entry["started_at"] and entry["error"] is None


def test_nested_records_with_odd_lines_and_a_mid_batch_resume(root: LakehouseRoot, tmp_path: Path) -> None:
    """Nested records where a few lines disagree on types (the chunk is unified, its columns end up
    misaligned) and a resume that starts inside a batch of structs: delta-rs once aborted on both."""
    records = [{"item_id": i, "item": {"sku": {"S": f"s{i}"}, "tags": [i]}} for i in range(130)]
    for i in (7, 61, 62, 100):
        records[i]["item"]["sku"] = f"plain-{i}"  # DynamoDB-style typed value missing on a few lines
    write_jsonl(tmp_path / "data" / "items" / "001.jsonl", records)
    stream_keys = {"name": "items", "format": "jsonl", "primary_key": ["item_id"], "batch_rows": 40}
    stream = build_source(source_config(write_source(tmp_path, [stream_keys]))).streams()[0]
    with pytest.raises(SourceError):
        load_stream(root, "src", Interrupted(stream, at=2, error=SourceError("gone", "later")))
    assert len(bronze_rows(root, "src", "items")) == 80  # the two batches read before the error
    stream_keys["batch_rows"] = 25  # batches no longer line up with the committed rows: the resume slices
    resumed = load_source(root, source_config(write_source(tmp_path, [stream_keys])))[0]
    rows = {r["item_id"]: r for r in bronze_rows(root, "src", "items")}
    assert resumed.rows == 50 and sorted(rows) == list(range(130))
    assert rows[120]["item"]["sku"] == {"S": "s120"} and rows[120]["item"]["tags"] == [120]
    assert json.loads(rows[61]["_rescued_data"]) == {"item": {"sku": "plain-61", "tags": [61]}}


@pytest.mark.parametrize("keys", [{"mode": "merge"}, {"schema_policy": "freeze"}])
def test_an_empty_first_file_does_not_define_the_table(root: LakehouseRoot, tmp_path: Path, keys: dict) -> None:
    (tmp_path / "data" / "items").mkdir(parents=True)
    (tmp_path / "data" / "items" / "000.csv").write_text("item_id,value,updated_at\n")
    items_file(tmp_path, "001.csv", [(i, i, "x") for i in range(10)])
    [result] = load_source(root, items_source(tmp_path, **keys))
    assert (result.rows, result.rows_quarantined, result.batches) == (10, 0, 2)
    assert sorted(r["item_id"] for r in bronze_rows(root, "src", "items")) == list(range(10))


def test_a_file_that_arrives_late_with_an_earlier_name_is_loaded(root: LakehouseRoot, tmp_path: Path) -> None:
    config = items_source(tmp_path)
    items_file(tmp_path, "a.csv", [(1, 1, "x"), (2, 2, "x")])
    items_file(tmp_path, "c.csv", [(5, 5, "x")])
    assert load_source(root, config)[0].rows == 3
    items_file(tmp_path, "b.csv", [(3, 3, "x"), (4, 4, "x")])  # sorts before c.csv, which is loaded
    [late] = load_source(root, config)
    assert late.rows == 2
    keys = [row["item_id"] for row in bronze_rows(root, "src", "items")]
    assert sorted(keys) == [1, 2, 3, 4, 5]
    assert load_source(root, config)[0].rows == 0, "every file is loaded once"
