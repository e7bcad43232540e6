"""The files family's formats and remote options, on a local folder: JSON documents, Excel, gzip and zip,
a re-dropped file recognised by its content, and credentials accepted only as references."""

from __future__ import annotations

import gzip
import io
import json
import os
import zipfile
from pathlib import Path

import openpyxl
import pytest

from lakehouse.core.errors import ConfigError
from loaders.core.config import SourceConfig, StreamConfig
from loaders.files import FileCursor, FileStream
from loaders.files.remote import build_store


def rows_of(stream: FileStream, cursor: str | None = None) -> tuple[list[dict], list[str], str | None]:
    rows, reasons, last = [], [], cursor
    for batch in stream.read(cursor):
        rows += batch.data.to_pylist()
        reasons += [r.reason for r in batch.rejects]
        last = batch.cursor
    return rows, reasons, last


def stream(folder: Path, **keys: object) -> FileStream:
    return FileStream(folder, StreamConfig(name="items", **keys))


def test_a_json_document_loads_each_element_and_rejects_an_element_that_is_not_an_object(tmp_path: Path) -> None:
    (tmp_path / "items").mkdir()
    (tmp_path / "items" / "a.json").write_text(json.dumps([{"id": 1, "tags": ["x"]}, {"id": 2, "tags": []}, 7]))
    rows, reasons, _ = rows_of(stream(tmp_path, format="json"))
    assert [row["id"] for row in rows] == [1, 2] and rows[0]["tags"] == ["x"]
    assert reasons == ["a JSON line must hold an object, not int"]


def test_gzip_and_zip_files_are_read_through(tmp_path: Path) -> None:
    (tmp_path / "items").mkdir()
    (tmp_path / "items" / "a.jsonl.gz").write_bytes(gzip.compress(b'{"id": 1}\n{"id": 2}\n'))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("part-2.jsonl", '{"id": 4}\n')
        archive.writestr("part-1.jsonl", '{"id": 3}\n')
    (tmp_path / "items" / "b.zip").write_bytes(buffer.getvalue())
    rows, _, _ = rows_of(stream(tmp_path, format="jsonl", pattern="items/*"))
    assert [row["id"] for row in rows] == [1, 2, 3, 4]


def test_an_excel_sheet_loads_with_its_types_and_a_mixed_column_as_text(tmp_path: Path) -> None:
    (tmp_path / "items").mkdir()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Order", "Amount", "Note"])
    sheet.append([1, 9.5, "first"])
    sheet.append([2, 10.25, 42])
    workbook.save(tmp_path / "items" / "orders.xlsx")
    rows, _, _ = rows_of(stream(tmp_path, format="excel"))
    assert rows == [{"Order": 1, "Amount": 9.5, "Note": "first"}, {"Order": 2, "Amount": 10.25, "Note": "42"}]


def test_a_broken_parquet_file_is_one_rejected_record_naming_it(tmp_path: Path) -> None:
    (tmp_path / "items").mkdir()
    (tmp_path / "items" / "a.parquet").write_bytes(b"PAR1 not really")
    rows, reasons, cursor = rows_of(stream(tmp_path, format="parquet"))
    assert rows == [] and len(reasons) == 1 and "items/a.parquet" in reasons[0]
    assert FileCursor.load(cursor).complete  # type: ignore[union-attr]


def test_a_file_copied_again_with_the_same_content_is_only_recorded(tmp_path: Path) -> None:
    (tmp_path / "items").mkdir()
    path = tmp_path / "items" / "a.csv"
    path.write_text("id\n1\n2\n")
    first, _, cursor = rows_of(stream(tmp_path))
    os.utime(path, ns=(1, 1))  # a new modification time, the same bytes
    again, _, cursor = rows_of(stream(tmp_path), cursor)
    assert len(first) == 2 and again == []
    assert rows_of(stream(tmp_path), cursor)[0] == []


def config(options: dict[str, object]) -> SourceConfig:
    return SourceConfig(source="drops", type="files", options=options, streams=[StreamConfig(name="items")])


@pytest.mark.parametrize(
    "options",
    [
        {"url": "sftp://etl@files.example.com/out", "password": "hunter2-literal"},
        {"url": "sftp://etl:hunter2-literal@files.example.com/out"},
        {"url": "s3://bucket/prefix", "secret_access_key": "hunter2-literal"},
    ],
)
def test_a_literal_secret_is_refused_without_repeating_it(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as error:
        build_store(config(options))
    assert "hunter2-literal" not in str(error.value) + error.value.fix
    assert "${" in error.value.fix or "password:" in error.value.fix


def test_a_remote_url_is_described_without_credentials_and_not_connected_when_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DROP_PASSWORD", "s3cret-value")
    store = build_store(config({"url": "sftp://etl@203.0.113.9:2222/out", "password": "${DROP_PASSWORD}"}))
    assert store.describe("a.csv") == "sftp://203.0.113.9:2222/out/a.csv"
    with pytest.raises(ConfigError, match="unknown file protocol"):
        build_store(config({"url": "gopher://x/y"}))


def test_an_ftps_ca_file_that_is_not_a_file_is_named_before_any_connection(tmp_path: Path) -> None:
    missing = tmp_path / "vendor-ca.pem"
    store = build_store(config({"url": "ftps://etl@203.0.113.9:2121/out", "ca_file": str(missing)}))
    with pytest.raises(ConfigError) as error:
        store.exists()  # the file system is made on first use: the check happens there, before connecting
    assert str(missing) in str(error.value) and "PEM file" in error.value.fix
