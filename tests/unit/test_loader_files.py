"""The tolerant file source: malformed records become rejects, resumes never repeat or drop one."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

import loaders.files
from loaders.core.config import StreamConfig
from loaders.core.quarantine import rejects_of
from loaders.files import FileCursor, FileStream
from tests.helpers.loader_io import write_csv, write_jsonl


def stream(folder: Path, fmt: str, batch_rows: int = 10) -> FileStream:
    return FileStream(folder, StreamConfig(name="items", format=fmt, batch_rows=batch_rows))


def collect(stream_: FileStream, cursor: str | None = None) -> tuple[list[int], list[str], list[str]]:
    ids, payloads, cursors = [], [], []
    for batch in stream_.read(cursor):
        if batch.data.num_rows:
            ids += batch.data.column("id").to_pylist()
        payloads += [r.raw_payload for r in rejects_of(batch)]
        cursors.append(batch.cursor)
    return ids, payloads, cursors


def test_csv_rows_with_wrong_field_counts_are_rejected_with_their_text(tmp_path: Path) -> None:
    bad = {5: "999,too,many,fields", 17: "998"}
    write_csv(tmp_path / "items" / "a.csv", ["id", "name"], [(i, f"n{i}") for i in range(30)], raw_lines=bad)
    ids, payloads, _ = collect(stream(tmp_path, "csv"))
    assert ids == list(range(30))
    assert sorted(payloads) == sorted(bad.values())


def test_jsonl_malformed_lines_are_rejected_and_the_rest_loads(tmp_path: Path) -> None:
    records: list[dict | str] = [{"id": i, "v": i * 2} for i in range(25)]
    records[3:3] = ['{"id": 1000, "v": ']  # truncated
    records[12:12] = ["[1, 2, 3]"]  # not an object
    write_jsonl(tmp_path / "items" / "a.jsonl", records)
    batches = list(stream(tmp_path, "jsonl").read(None))
    ids = [i for b in batches if b.data.num_rows for i in b.data.column("id").to_pylist()]
    rejects = [r for b in batches for r in rejects_of(b)]
    assert ids == list(range(25))
    assert sorted(r.raw_payload for r in rejects) == ["[1, 2, 3]", '{"id": 1000, "v": ']
    assert any("malformed JSON" in r.reason for r in rejects)
    assert any("must hold an object" in r.reason for r in rejects)


def test_one_odd_jsonl_value_is_rescued_alone_and_nested_objects_stay_whole(tmp_path: Path) -> None:
    # A malformed line splits the chunk into pieces; in the largest piece `company` is always null,
    # in another it is a string, and one line has a timestamp wrapped in an object.
    records: list[dict | str] = [
        {"id": i, "updated": f"rev-{i}", "properties": {"email": f"p{i}@x.io", "company": None}} for i in range(40)
    ]
    records[30]["properties"]["company"] = "Acme"
    records[35]["updated"] = {"value": "rev-35"}
    records.insert(20, '{"id": 999, "updated": ')  # truncated: forces the split
    write_jsonl(tmp_path / "items" / "a.jsonl", records)
    batches = [b for b in stream(tmp_path, "jsonl", batch_rows=100).read(None) if b.data.num_rows]
    data = pa.concat_tables([b.data for b in batches])
    rows = {row["id"]: row for row in data.to_pylist()}
    assert sorted(rows) == list(range(40))
    assert all(rows[i]["properties"]["email"] == f"p{i}@x.io" for i in range(40))
    assert rows[30]["properties"]["company"] == "Acme"
    rescued = {i: json.loads(row["_rescued_data"]) for i, row in rows.items() if row.get("_rescued_data")}
    assert rescued == {35: {"updated": {"value": "rev-35"}}}
    assert rows[35]["updated"] is None and rows[34]["updated"] == "rev-34"


def test_resuming_at_any_batch_neither_repeats_nor_drops_rows_or_rejects(tmp_path: Path) -> None:
    """Commit the first k batches, resume from the k-th cursor: the union is the file, exactly once."""
    for fmt in ("csv", "jsonl"):
        folder = tmp_path / fmt
        rows = [(i, f"n{i}") for i in range(95)]
        if fmt == "csv":
            bad = {i: f"{900 + i},x,y" for i in (0, 33, 34, 90)}
            write_csv(folder / "items" / "a.csv", ["id", "name"], rows, raw_lines=bad)
            write_csv(folder / "items" / "b.csv", ["id", "name"], [(100 + i, "m") for i in range(12)])
        else:
            records: list[dict | str] = [{"id": i, "name": n} for i, n in rows]
            bad = {i: f'{{"id": {900 + i}' for i in (0, 33, 34, 90)}
            for offset, (i, line) in enumerate(sorted(bad.items())):
                records.insert(i + offset, line)
            write_jsonl(folder / "items" / "a.jsonl", records)
            write_jsonl(folder / "items" / "b.jsonl", [{"id": 100 + i, "name": "m"} for i in range(12)])
        everything, all_rejects, cursors = collect(stream(folder, fmt))
        assert sorted(all_rejects) == sorted(bad.values())
        for k, cursor in enumerate(cursors):
            head = list(stream(folder, fmt).read(None))[: k + 1]
            head_ids = [i for b in head if b.data.num_rows for i in b.data.column("id").to_pylist()]
            head_rejects = [r.raw_payload for b in head for r in rejects_of(b)]
            tail_ids, tail_rejects, _ = collect(stream(folder, fmt), cursor)
            assert head_ids + tail_ids == everything, (fmt, k)
            assert sorted(head_rejects + tail_rejects) == sorted(all_rejects), (fmt, k)


def test_csv_type_change_late_in_a_file_does_not_fail_the_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loaders.files, "CSV_BLOCK_BYTES", 16 << 10)  # many blocks in a small file
    rows = [(i, i * 10) for i in range(20_000)] + [(20_000, "not a number")]
    write_csv(tmp_path / "items" / "a.csv", ["id", "amount"], rows)
    batches = list(stream(tmp_path, "csv", batch_rows=100_000).read(None))
    amounts = [v for b in batches if b.data.num_rows for v in b.data.column("amount").to_pylist()]
    assert amounts[0] == 0 and amounts[-1] == "not a number"  # kept as text, for the schema policy to rescue
    assert batches[0].data.schema.field("amount").type == pa.int64()


def test_an_empty_file_still_completes_its_cursor(tmp_path: Path) -> None:
    (tmp_path / "items").mkdir()
    (tmp_path / "items" / "a.csv").write_text("id,name\n")
    batches = list(stream(tmp_path, "csv").read(None))
    assert len(batches) == 1 and batches[0].data.num_rows == 0
    cursor = FileCursor.load(batches[0].cursor)
    assert cursor is not None and (cursor.file, cursor.rows, cursor.complete) == ("items/a.csv", 0, True)
    assert cursor.loaded is not None and list(cursor.loaded) == ["items/a.csv"]
    assert json.loads(batches[0].cursor)["complete"] is True


def test_a_cursor_written_before_the_loaded_set_still_skips_the_files_it_covers(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        write_csv(tmp_path / "items" / f"{name}.csv", ["id", "name"], [(1, name)])
    old = json.dumps({"file": "items/b.csv", "rows": 1, "complete": True})
    batches = list(stream(tmp_path, "csv").read(old))
    assert [FileCursor.load(b.cursor).file for b in batches] == ["items/c.csv"]  # type: ignore[union-attr]
    loaded = FileCursor.load(batches[-1].cursor).loaded  # type: ignore[union-attr]
    assert sorted(loaded or {}) == ["items/a.csv", "items/b.csv", "items/c.csv"]


def test_a_loaded_file_that_changes_is_read_again(tmp_path: Path) -> None:
    write_csv(tmp_path / "items" / "a.csv", ["id", "name"], [(1, "x")])
    [first] = list(stream(tmp_path, "csv").read(None))
    write_csv(tmp_path / "items" / "a.csv", ["id", "name"], [(1, "x"), (2, "y")])
    ids, _, _ = collect(stream(tmp_path, "csv"), first.cursor)
    assert ids == [1, 2]
