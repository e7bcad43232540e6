"""Bad records, on a local folder and on S3: 1% malformed input lands in quarantine with the reason and
the raw payload, the rest loads, and read = loaded + quarantined in the results and in the ledger."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from lakehouse.core.storage import LakehouseRoot
from loaders.core.bronze import BronzeTable
from loaders.pipeline import load_source
from tests.helpers.loader_io import (
    bronze_rows,
    ledger_rows,
    quarantine_rows,
    source_config,
    write_csv,
    write_jsonl,
    write_source,
)

ROWS = 10_000


def plant_bad_records(tmp_path: Path) -> tuple[dict[int, str], set[int], dict[int, str]]:
    """1% of the CSV rows malformed, plus 20 rows with no primary key; 1% of the JSON lines malformed."""
    rng = random.Random(5)
    bad_csv = {i: f"{50_000 + i},broken,{i},extra,fields" for i in rng.sample(range(ROWS), ROWS // 100)}
    null_keys = set(rng.sample(range(ROWS), 20))
    rows = [("" if i in null_keys else i, f"name {i}", i % 97) for i in range(ROWS)]
    write_csv(tmp_path / "data" / "orders" / "001.csv", ["order_id", "name", "qty"], rows, raw_lines=bad_csv)
    bad_json = {
        i: ['{"event_id": ', "not json at all", '{"event_id": 1,,}'][i % 3] + f" #{i}" for i in range(0, ROWS, 100)
    }
    records: list[dict | str] = []
    for i in range(ROWS):
        if i in bad_json:
            records.append(bad_json[i])
        records.append({"event_id": i, "kind": "click"})
    write_jsonl(tmp_path / "data" / "events" / "001.jsonl", records)
    return bad_csv, null_keys, bad_json


def test_malformed_records_are_quarantined_and_counts_reconcile(root: LakehouseRoot, tmp_path: Path) -> None:
    bad_csv, null_keys, bad_json = plant_bad_records(tmp_path)
    streams = [
        {"name": "orders", "format": "csv", "primary_key": ["order_id"], "batch_rows": 1_000},
        {"name": "events", "format": "jsonl", "primary_key": ["event_id"], "batch_rows": 1_000},
    ]
    orders, events = load_source(root, source_config(write_source(tmp_path, streams)))

    assert (orders.rows_read, orders.rows, orders.rows_quarantined) == (ROWS + len(bad_csv), ROWS - 20, 120)
    assert (events.rows_read, events.rows, events.rows_quarantined) == (ROWS + len(bad_json), ROWS, len(bad_json))
    assert len(bronze_rows(root, "src", "orders")) == ROWS - 20
    assert len(bronze_rows(root, "src", "events")) == ROWS

    quarantined = quarantine_rows(root)
    by_stream = {name: [q for q in quarantined if q["stream"] == name] for name in ("orders", "events")}
    malformed = {q["raw_payload"] for q in by_stream["orders"] if "fields" in q["reason"]}
    assert malformed == set(bad_csv.values())
    keyless = [json.loads(q["raw_payload"]) for q in by_stream["orders"] if "'order_id' is null" in q["reason"]]
    assert {row["name"] for row in keyless} == {f"name {i}" for i in null_keys}
    assert {q["raw_payload"] for q in by_stream["events"]} == set(bad_json.values())
    assert all(q["reason"] and q["load_id"] and q["source"] == "src" for q in quarantined)

    # the ledger against the records in the files, counted here: every line but the CSV header
    records = {
        "orders": len((tmp_path / "data" / "orders" / "001.csv").read_text().splitlines()) - 1,
        "events": len((tmp_path / "data" / "events" / "001.jsonl").read_text().splitlines()),
    }
    ledger = {e["stream"]: (e["rows_read"], e["rows_loaded"], e["rows_quarantined"]) for e in ledger_rows(root)}
    assert ledger == {
        "orders": (records["orders"], ROWS - 20, 120),
        "events": (records["events"], ROWS, len(bad_json)),
    }


def test_a_second_load_does_not_quarantine_again(root: LakehouseRoot, tmp_path: Path) -> None:
    bad_csv, _, _ = plant_bad_records(tmp_path)
    config = source_config(write_source(tmp_path, [{"name": "orders", "format": "csv", "primary_key": ["order_id"]}]))
    load_source(root, config)
    [again] = load_source(root, config)
    assert again.rows_read == 0
    assert len(quarantine_rows(root)) == len(bad_csv) + 20


class Crash(Exception):
    pass


@pytest.mark.parametrize(("first", "then"), [(100, 200), (300, 100)])
def test_a_load_cut_between_quarantine_and_bronze_resumed_with_another_batch_size_quarantines_once(
    root: LakehouseRoot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: int, then: int
) -> None:
    """The resumed load's batches cover other rows than the cut one's: no reject lost, none twice."""
    bad = {position: f"{{broken json {position}" for position in (50, 150, 250)}
    records: list[dict | str] = []
    for i in range(300):
        if i in bad:
            records.append(bad[i])
        records.append({"order_id": i, "qty": 1})
    write_jsonl(tmp_path / "data" / "orders" / "001.jsonl", records)
    stream = {"name": "orders", "format": "jsonl", "primary_key": ["order_id"]}
    commit = BronzeTable.commit
    cut_at = 2 if first == 100 else 1

    def cut(self: BronzeTable, data: object, **kwargs: Any) -> bool:
        if kwargs["version"] == cut_at:  # its rejects are already quarantined
            raise Crash("cut between the quarantine and the bronze commit")
        return commit(self, data, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(BronzeTable, "commit", cut)
        [failed] = load_source(
            root, source_config(write_source(tmp_path, [stream | {"batch_rows": first}])), raise_on_error=False
        )
    assert failed.status == "failed"
    [resumed] = load_source(root, source_config(write_source(tmp_path, [stream | {"batch_rows": then}])))
    assert resumed.status == "success"
    quarantined = sorted(q["raw_payload"] for q in quarantine_rows(root))
    assert quarantined == sorted(bad.values())
    assert len(bronze_rows(root, "src", "orders")) == 300
