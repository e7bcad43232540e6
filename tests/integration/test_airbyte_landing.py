"""The `airbyte_landing` loader family: files Airbyte's S3 destination writes, landed in bronze exactly once.

The files are written by the tests in the destination's documented layout
(`<bucket>/<path>/<namespace>/<stream>/<YYYY_MM_DD>_<epoch ms>_<part>.jsonl[.gz]`, records with
`_airbyte_raw_id`, `_airbyte_extracted_at`, `_airbyte_meta`, `_airbyte_generation_id`) into the real
SeaweedFS S3 server (`s3_server` fixture) and into a local folder. A refresh (a higher generation id)
replaces the stream in bronze; `_airbyte_meta.changes` are counted as rescued rows; a load SIGKILLed
mid-file and re-run leaves each record once.
"""

from __future__ import annotations

import gzip
import io
import json
import signal
import subprocess
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import load_source_config
from loaders.pipeline import load_source
from tests.helpers.loader_io import DRIVER_COMMAND, PROJECT_DIR, bronze_rows, ledger_rows

EPOCH = 1_764_000_000_000


def records(ids: range, generation: int, *, changed: set[int] = frozenset(), nested: bool = False) -> list[dict]:
    """Airbyte S3 destination records (root-level flattening, or the fields under `_airbyte_data`)."""
    out = []
    for n in ids:
        changes = [{"field": "amount", "change": "NULLED", "reason": "DESTINATION_SERIALIZATION_ERROR"}]
        data = {"id": n, "name": f"account-{n}", "amount": None if n in changed else n * 1.5}
        meta = {"sync_id": 100 + generation, "changes": changes if n in changed else []}
        row = {
            "_airbyte_raw_id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{generation}-{n}")),
            "_airbyte_extracted_at": EPOCH + n,
            "_airbyte_meta": meta,
            "_airbyte_generation_id": generation,
        }
        out.append({**row, "_airbyte_data": data} if nested else {**row, **data})
    return out


def jsonl(rows: list[dict], *, gz: bool = False) -> bytes:
    text = "".join(json.dumps(row) + "\n" for row in rows).encode()
    return gzip.compress(text) if gz else text


def file_name(part: int, epoch: int = EPOCH, ext: str = "jsonl") -> str:
    return f"2026_11_24_{epoch}_{part}.{ext}"


def write_source(folder: Path, path: str, streams: list[dict[str, Any]], **options: Any) -> Path:
    source = folder / "landing.yml"
    document = {"source": "crm", "type": "airbyte_landing", "options": {"path": path, **options}, "streams": streams}
    source.write_text(yaml.safe_dump(document, sort_keys=False))
    return source


@pytest.fixture
def local_root(tmp_path: Path) -> LakehouseRoot:
    (tmp_path / "root").mkdir()
    return LakehouseRoot.parse(str(tmp_path / "root"))


def test_s3_landing_files_load_once_and_a_refresh_replaces_the_stream(
    s3_env: Any, tmp_path: Path, local_root: LakehouseRoot
) -> None:
    s3 = boto3.client("s3", endpoint_url=s3_env.env()["AWS_ENDPOINT_URL"])
    prefix = f"airbyte-{uuid.uuid4().hex[:8]}"
    folder = f"{prefix}/salesforce/Account"

    def put(name: str, body: bytes) -> None:
        s3.put_object(Bucket=s3_env.bucket, Key=f"{folder}/{name}", Body=body)

    put(file_name(0), jsonl(records(range(1, 51), 0, changed={7, 8})))
    put(file_name(1) + ".gz", jsonl(records(range(51, 81), 0), gz=True))
    stream = {"name": "accounts", "airbyte_stream": "Account", "batch_rows": 20}
    path = write_source(tmp_path, f"s3://{s3_env.bucket}/{prefix}", [stream], namespace="salesforce")
    config = load_source_config(path)

    [first] = load_source(local_root, config)
    rows = bronze_rows(local_root, "crm", "accounts")
    assert sorted(row["id"] for row in rows) == list(range(1, 81))
    assert first.rows_rescued == 2
    rescued = {row["id"]: json.loads(row["_rescued_data"]) for row in rows if row["_rescued_data"]}
    assert set(rescued) == {7, 8} and rescued[7]["_airbyte_meta.changes"][0]["change"] == "NULLED"
    assert all(row["_airbyte_extracted_at"].year == 2025 for row in rows)

    [again] = load_source(local_root, config)
    assert again.rows_read == 0 and len(bronze_rows(local_root, "crm", "accounts")) == 80

    put(file_name(0, EPOCH + 60_000), jsonl(records(range(81, 91), 0)))
    load_source(local_root, config)
    assert len(bronze_rows(local_root, "crm", "accounts")) == 90

    # A refresh: Airbyte writes generation 1 (all records again, fewer of them); bronze keeps only it.
    put(file_name(0, EPOCH + 120_000), jsonl(records(range(1, 41), 1)))
    put(file_name(1, EPOCH + 120_000), jsonl(records(range(41, 61), 1)))
    load_source(local_root, config)
    rows = bronze_rows(local_root, "crm", "accounts")
    assert sorted(row["id"] for row in rows) == list(range(1, 61))
    assert {row["_airbyte_generation_id"] for row in rows} == {1}

    # A late file of the superseded generation is recorded as seen, and not loaded.
    put(file_name(5, EPOCH + 90_000), jsonl(records(range(500, 510), 0)))
    [late] = load_source(local_root, config)
    assert late.rows_read == 0 and len(bronze_rows(local_root, "crm", "accounts")) == 60


def test_nested_data_and_parquet_files_from_a_local_folder(tmp_path: Path, local_root: LakehouseRoot) -> None:
    stream_folder = tmp_path / "landing" / "hubspot" / "contacts"
    stream_folder.mkdir(parents=True)
    (stream_folder / file_name(0)).write_bytes(jsonl(records(range(1, 11), 3, nested=True)))
    flat = records(range(11, 21), 3, changed={12})
    table = pa.Table.from_pylist([{**row, "_airbyte_meta": json.dumps(row["_airbyte_meta"])} for row in flat])
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    (stream_folder / file_name(1, ext="parquet")).write_bytes(buffer.getvalue())
    config = load_source_config(write_source(tmp_path, "landing", [{"name": "contacts"}], namespace="hubspot"))
    [result] = load_source(local_root, config)
    assert result.rows_rescued == 1  # `_airbyte_meta` held as a JSON string in Parquet
    rows = bronze_rows(local_root, "crm", "contacts")
    assert sorted(row["id"] for row in rows) == list(range(1, 21))
    assert all(row["name"] == f"account-{row['id']}" for row in rows)


def test_a_load_killed_during_a_refresh_then_rerun_leaves_each_record_once(
    tmp_path: Path, local_root: LakehouseRoot
) -> None:
    stream_folder = tmp_path / "landing" / "orders"
    stream_folder.mkdir(parents=True)
    for part in range(3):
        first = part * 200 + 1
        (stream_folder / file_name(part)).write_bytes(jsonl(records(range(first, first + 200), 0)))
    source = write_source(tmp_path, "landing", [{"name": "orders", "batch_rows": 25}])
    load_source(local_root, load_source_config(source))
    for part in range(3):  # the refresh: generation 1 rewrites every record
        first = part * 150 + 1
        name = file_name(part, EPOCH + 10_000)
        (stream_folder / name).write_bytes(jsonl(records(range(first, first + 150), 1)))
    kills = 0
    for kill_after in (2, 5, 9):
        kills += _run_killed(local_root, source, kill_after)
    assert kills >= 2
    load_source(local_root, load_source_config(source))
    rows = bronze_rows(local_root, "crm", "orders")
    ids = Counter(row["id"] for row in rows)
    assert sorted(ids) == list(range(1, 451)) and set(ids.values()) == {1}
    assert {row["_airbyte_generation_id"] for row in rows} == {1}
    assert Counter(row["status"] for row in ledger_rows(local_root))["running"] == 0


def _run_killed(root: LakehouseRoot, source: Path, kill_after: int) -> bool:
    command = [*DRIVER_COMMAND, "--root", root.uri, "--source-file", str(source)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=PROJECT_DIR)
    assert child.stdout is not None
    committed = 0
    while committed < kill_after:
        line = child.stdout.readline()
        if not line:
            assert child.wait() == 0
            return False
        committed += line.startswith("batch ")
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    return child.returncode == -signal.SIGKILL
