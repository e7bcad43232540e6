"""Redshift's UNLOAD path against a real S3 server (SeaweedFS): the loader's UNLOAD statement is answered
by a stand-in for Redshift that writes what UNLOAD writes (Parquet parts and a manifest) into the bucket;
the loader then reads those files back from S3, file by file, and resumes after an interruption.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from lakehouse.core.errors import SourceError
from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import load_source_config
from loaders.core.delta import read_table
from loaders.core.result import StreamResult
from loaders.pipeline import load_source
from loaders.sql import redshift
from loaders.sql.engine import ArrowResult
from tests.conftest import S3Server

EVENTS = pa.table(
    {
        "id": pa.array(range(1, 3001), pa.int64()),
        "amount": pa.array([f"{i % 500}.25" for i in range(1, 3001)]),
        "note": pa.array([f"event {i}" for i in range(1, 3001)]),
    }
)
PARTS = 3


class FakeRedshift:
    """Answers the catalogue and stats queries; an UNLOAD writes Parquet parts and a manifest to S3."""

    unloads: ClassVar[list[str]] = []

    def __init__(self, bucket: str) -> None:
        self.s3 = boto3.session.Session().client("s3")
        self.bucket = bucket

    def arrow(self, sql: str) -> ArrowResult:
        if sql.startswith("UNLOAD"):
            self.unloads.append(sql)
            return self._unload(re.search(r"\) TO '([^']+)'", sql).group(1))  # type: ignore[union-attr]
        if "information_schema" in sql:
            columns = {"column_name": ["id", "amount", "note"], "udt_name": ["int8", "numeric", "text"]}
            table = pa.table(columns | {"numeric_precision": [64, 12, None], "numeric_scale": [0, 2, None]})
        else:
            table = pa.table({f"c{i}": [v] for i, v in enumerate([EVENTS.num_rows, None, None, 3000, 1, 3000])})
        return ArrowResult(table.schema, iter(table.to_batches()))

    def _unload(self, prefix: str) -> ArrowResult:
        key_prefix = prefix.removeprefix(f"s3://{self.bucket}/")
        entries = []
        size = EVENTS.num_rows // PARTS
        for part in range(PARTS):
            buffer = io.BytesIO()
            pq.write_table(EVENTS.slice(part * size, size), buffer, row_group_size=250)
            key = f"{key_prefix}000{part}_part_00.parquet"
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=buffer.getvalue())
            entries.append({"url": f"s3://{self.bucket}/{key}", "meta": {"record_count": size}})
        manifest = json.dumps({"entries": entries}).encode()
        self.s3.put_object(Bucket=self.bucket, Key=f"{key_prefix}manifest", Body=manifest)
        status = pa.table({"rows": [EVENTS.num_rows]})
        return ArrowResult(status.schema, iter(status.to_batches()))

    def close(self) -> None:
        pass


@pytest.fixture
def fake_redshift(s3_env: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeRedshift]]:
    FakeRedshift.unloads = []
    monkeypatch.setattr(redshift.RedshiftEngine, "connect", lambda self: FakeRedshift(s3_env.bucket))
    yield FakeRedshift


def source(tmp_path: Path, bucket: str) -> Any:
    options = {
        "host": "dw.redshift.internal",
        "database": "dw",
        "user": "loader",
        "unload_s3_uri": f"s3://{bucket}/unload",
        "unload_iam_role": "arn:aws:iam::123456789012:role/redshift-unload",
    }
    streams = [{"name": "events", "mode": "append", "primary_key": ["id"], "unload": True, "chunk_rows": 400}]
    path = tmp_path / "dw.yml"
    path.write_text(yaml.safe_dump({"source": "dw", "type": "redshift", "options": options, "streams": streams}))
    return load_source_config(path)


def test_unload_to_s3_is_read_back_and_resumed_per_file(
    fake_redshift: type[FakeRedshift], s3_env: S3Server, tmp_path: Path
) -> None:
    folder = tmp_path / "root"
    folder.mkdir()
    root = LakehouseRoot.parse(str(folder))
    config = source(tmp_path, s3_env.bucket)

    def stop_after_two(result: StreamResult) -> None:
        if result.batches == 2:
            raise RuntimeError("injected after 2 commits")

    with pytest.raises(SourceError, match="injected"):
        load_source(root, config, on_batch=stop_after_two)
    assert len(fake_redshift.unloads) == 1
    assert "FORMAT AS PARQUET MANIFEST" in fake_redshift.unloads[0]
    assert "IAM_ROLE 'arn:aws:iam::123456789012:role/redshift-unload'" in fake_redshift.unloads[0]
    partial = read_table(root.bronze_uri("dw", "events")).num_rows
    assert 0 < partial < EVENTS.num_rows

    load_source(root, config)
    assert len(fake_redshift.unloads) == 1, "a resumed load reads the files of the first UNLOAD"
    bronze = read_table(root.bronze_uri("dw", "events"))
    ids = bronze["id"].to_pylist()
    assert len(ids) == len(set(ids)) == EVENTS.num_rows
    assert bronze.schema.field("amount").type == pa.decimal128(12, 2)
