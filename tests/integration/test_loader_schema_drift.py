"""Schema drift mid-stream, on a local folder and on S3: loads continue and no value is lost.

Five files of one stream drift one step at a time: a column is added, a column is removed, a column
changes type, a nested struct gains a field. Every value of every source record must be found in
bronze, in its own column or in `_rescued_data`; under `freeze` the records that do not fit are in
quarantine, raw, and the counts reconcile.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lakehouse.core.storage import LakehouseRoot
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


def drifting_records() -> list[list[dict[str, Any]]]:
    """Five files, each drifting one step further from the first."""
    base = [{"id": i, "name": f"n{i}", "amount": i * 10, "address": {"city": f"c{i}"}} for i in range(0, 20)]
    added = [{**r, "id": r["id"] + 100, "email": f"u{r['id']}@example.com"} for r in base]
    removed = [{k: v for k, v in r.items() if k != "name"} | {"id": r["id"] + 200} for r in base]
    retyped = [{**r, "id": r["id"] + 300, "amount": ["abc", "12", 12.5, None][r["id"] % 4]} for r in base]
    nested = [{**r, "id": r["id"] + 400, "address": {"city": f"c{r['id']}", "zip": f"z{r['id']}"}} for r in base]
    return [base, added, removed, retyped, nested]


def kept(expected: Any, actual: Any) -> bool:
    """`actual` holds `expected`: equal, equal as text (a "12" cast to 12), or a superset of a struct."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(kept(v, actual.get(k)) for k, v in expected.items())
    return expected == actual or (expected is not None and str(expected) == str(actual))


def assert_every_value_kept(records: list[dict[str, Any]], rows: list[dict[str, Any]]) -> None:
    by_id = {row["id"]: row for row in rows}
    for record in records:
        row = by_id[record["id"]]
        rescued = json.loads(row["_rescued_data"]) if row["_rescued_data"] else {}
        for field, value in record.items():
            in_column = kept(value, row.get(field))
            assert in_column or kept(value, rescued.get(field)), f"record {record['id']}: {field}={value!r} lost"


@pytest.mark.parametrize("policy", ["evolve", "rescue"])
def test_drift_never_loses_a_value(root: LakehouseRoot, tmp_path: Path, policy: str) -> None:
    files = drifting_records()
    for number, records in enumerate(files):
        write_jsonl(tmp_path / "data" / "items" / f"{number}.jsonl", records)
    stream = {"name": "items", "format": "jsonl", "primary_key": ["id"], "schema_policy": policy}
    [result] = load_source(root, source_config(write_source(tmp_path, [stream])))
    everything = [r for records in files for r in records]
    rows = bronze_rows(root, "src", "items")
    assert result.status == "success" and len(rows) == len(everything) == result.rows
    assert_every_value_kept(everything, rows)
    removed_rows = [r for r in rows if 200 <= r["id"] < 300]
    assert all(r["name"] is None for r in removed_rows)  # a removed column is null, not an error
    if policy == "evolve":
        assert "email" in rows[0] and any(r["address"].get("zip") for r in rows)
    else:  # rescue: the table keeps its first shape
        assert "email" not in rows[0] and all("zip" not in (r["address"] or {}) for r in rows)
    assert result.rows_rescued == ledger_rows(root)[-1]["rows_rescued"] > 0


def test_freeze_quarantines_what_does_not_fit_and_reconciles(root: LakehouseRoot, tmp_path: Path) -> None:
    files = drifting_records()
    for number, records in enumerate(files):
        write_jsonl(tmp_path / "data" / "items" / f"{number}.jsonl", records)
    stream = {"name": "items", "format": "jsonl", "primary_key": ["id"], "schema_policy": "freeze"}
    [result] = load_source(root, source_config(write_source(tmp_path, [stream])))
    rows = bronze_rows(root, "src", "items")
    quarantined = quarantine_rows(root)
    assert {r["id"] for r in rows}.isdisjoint(json.loads(q["raw_payload"])["id"] for q in quarantined)
    assert len(rows) + len(quarantined) == sum(len(f) for f in files) == result.rows_read
    assert {json.loads(q["raw_payload"])["id"] for q in quarantined} >= set(range(100, 120)) | set(range(400, 420))
    assert any("schema_policy: freeze" in q["reason"] for q in quarantined)
    assert "email" not in rows[0]


def test_csv_drift_across_files(root: LakehouseRoot, tmp_path: Path) -> None:
    folder = tmp_path / "data" / "items"
    write_csv(folder / "1.csv", ["id", "qty", "note"], [(1, 5, "a"), (2, 6, "b")])
    write_csv(folder / "2.csv", ["id", "qty", "colour"], [(3, "seven", "red"), (4, 8, "blue")])
    stream = {"name": "items", "format": "csv", "primary_key": ["id"]}
    [result] = load_source(root, source_config(write_source(tmp_path, [stream])))
    rows = {r["id"]: r for r in bronze_rows(root, "src", "items")}
    assert result.rows == 4 and rows[3]["qty"] is None and json.loads(rows[3]["_rescued_data"]) == {"qty": "seven"}
    assert rows[4]["qty"] == 8 and rows[4]["colour"] == "blue" and rows[4]["note"] is None
