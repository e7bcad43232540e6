"""Helpers for the loader tests: roots on a local folder or the real S3 server, source files, bronze reads.

Imported by the `test_loader_*` modules and by `loader_driver.py` (pytest puts the project folder on the path
because `tests/conftest.py` lives there).
"""

from __future__ import annotations

import csv
import json
import sys
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import SourceConfig, load_source_config
from loaders.core.delta import open_table, read_table
from loaders.core.ledger import Ledger
from loaders.core.quarantine import Quarantine

HELPERS_DIR = Path(__file__).resolve().parent
PROJECT_DIR = HELPERS_DIR.parents[1]
# Run as a module from the project folder, like every test helper.
DRIVER_COMMAND = [sys.executable, "-m", "tests.helpers.loader_driver"]
ROOT_KINDS = ["local", "s3"]


def lakehouse_root(request: pytest.FixtureRequest, tmp_path: Path, kind: str) -> LakehouseRoot:
    """A fresh root: a folder under tmp_path, or a fresh prefix in the S3 server's bucket."""
    if kind == "local":
        folder = tmp_path / "root"
        folder.mkdir()
        return LakehouseRoot.parse(str(folder))
    server = request.getfixturevalue("s3_env")
    return LakehouseRoot.parse(f"s3://{server.bucket}/{uuid.uuid4().hex[:12]}")


def write_source(
    folder: Path,
    streams: list[dict[str, Any]],
    *,
    source: str = "src",
    type_: str = "files",
    options: dict[str, Any] | None = None,
) -> Path:
    """A source file `<folder>/<source>.yml` whose data lives in `<folder>/data`."""
    path = folder / f"{source}.yml"
    document = {"source": source, "type": type_, "options": options or {"path": "data"}, "streams": streams}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def source_config(path: Path) -> SourceConfig:
    return load_source_config(path)


def write_csv(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], *, raw_lines: dict[int, str] | None = None
) -> None:
    """Write a CSV; `raw_lines` puts literal (e.g. malformed) lines before the data row of that index."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw_lines = raw_lines or {}
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for index, row in enumerate(rows):
            if index in raw_lines:
                handle.write(raw_lines[index] + "\n")
            writer.writerow(row)


def write_jsonl(path: Path, records: Iterable[dict[str, Any] | str]) -> None:
    """Write JSON lines; a `str` record is written as is (to plant malformed lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        for record in records:
            handle.write((record if isinstance(record, str) else json.dumps(record)) + "\n")


def bronze(root: LakehouseRoot, source: str, stream: str) -> pa.Table:
    return read_table(root.bronze_uri(source, stream), root.storage_options())


def fields_by_name(kind: pa.Schema | pa.DataType) -> Any:
    """A schema or type as nested dicts of field name → type, so two schemas compare without their order.

    Bronze of a message stream orders nested fields as they first arrived: a struct's fields seen first
    in a later micro-batch are added after the others, and Kafka keeps order only within a partition.
    """
    if isinstance(kind, pa.Schema) or pa.types.is_struct(kind):
        return {field.name: fields_by_name(field.type) for field in kind}
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return [fields_by_name(kind.value_type)]
    return str(kind)


def bronze_rows(root: LakehouseRoot, source: str, stream: str) -> list[dict[str, Any]]:
    return bronze(root, source, stream).to_pylist()


def bronze_exists(root: LakehouseRoot, source: str, stream: str) -> bool:
    return open_table(root.bronze_uri(source, stream), root.storage_options()) is not None


def ledger_rows(root: LakehouseRoot) -> list[dict[str, Any]]:
    return Ledger(root).read().to_pylist()


def quarantine_rows(root: LakehouseRoot) -> list[dict[str, Any]]:
    return Quarantine(root).read().to_pylist()
