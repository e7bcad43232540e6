"""The DynamoDB loader against moto's DynamoDB and DynamoDB Streams in server mode.

The company's DynamoDB tables are published by the company's DynamoDB publisher (what `lakehouse
company publish --dynamodb` runs: tables with a stream of new and old images, the generator's export
files' typed items put as written); the first load scans them in parallel segments, the company's
next day is published (puts and TTL deletes), and the second load reads only the stream's new
records: bronze then holds every live item as the generator's latest version and every deleted one
as a tombstone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from company.api import generate, generate_increment
from company.publish import dynamodb
from company.publish.base import publish_folder
from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import load_source_config
from loaders.dynamodb import items_to_arrow
from loaders.pipeline import load_source
from tests.helpers.loader_io import bronze_rows
from tests.helpers.nosql_servers import MotoServer

HISTORY_DAYS = 12
SCALE = 0.05
KEYS = {"user_preferences": "user_id", "session_data": "session_id"}


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer().start()
    yield server
    server.stop()


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def publish(server: MotoServer, folder: Path, *, replace: bool = False) -> dict[str, int]:
    """Publish the batches the tables lack with the company's publisher; the changes (puts + deletes) per stream.

    moto keeps one state per process, shared by every server it runs: `replace` drops what another
    module may have left in the region's tables of the same names.
    """
    with pytest.MonkeyPatch.context() as env:  # the publisher takes its credentials from the AWS environment
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_REGION", "us-east-1")
        publisher = dynamodb.connect(server.endpoint)
        try:
            reports = publish_folder(folder, publisher, "dynamodb", replace=replace)
        finally:
            publisher.close()
    return {report.stream: report.upserted + report.deletes for report in reports}


def expected_items(folder: Path, stream: str, batches: list[str]) -> tuple[dict[str, Any], set[str]]:
    """The generator's latest item per key after `batches`, and the keys deleted since they were loaded."""
    latest: dict[str, Any] = {}
    deleted: set[str] = set()
    for batch in batches:
        for row in lines(folder / "dynamodb" / stream / f"{batch}.jsonl"):
            latest[row["Item"][KEYS[stream]]["S"]] = row["Item"]
            deleted.discard(row["Item"][KEYS[stream]]["S"])
        for row in lines(folder / "dynamodb" / stream / "deletes" / f"{batch}.jsonl"):
            if latest.pop(row[KEYS[stream]]["S"], None) is not None:
                deleted.add(row[KEYS[stream]]["S"])
    rows = items_to_arrow(list(latest.values())).to_pylist()
    return {row[KEYS[stream]]: {k: v for k, v in row.items() if v is not None} for row in rows}, deleted


def bronze_state(root: LakehouseRoot, stream: str) -> tuple[dict[str, Any], set[str]]:
    rows = bronze_rows(root, "dynamodb", stream)
    key = KEYS[stream]
    assert len({row[key] for row in rows}) == len(rows)
    live = {
        row[key]: {k: v for k, v in row.items() if not k.startswith("_") and v is not None}
        for row in rows
        if row.get("_op") != "delete"
    }
    return live, {row[key] for row in rows if row.get("_op") == "delete"}


def test_company_tables_land_by_parallel_scan_then_the_next_day_through_the_stream(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    company = tmp_path / "company"
    generate(company, scale=SCALE, days=HISTORY_DAYS)
    [history] = sorted(json.loads((company / "manifest.json").read_text())["batches"])
    publish(moto_server, company, replace=True)
    streams = [
        {
            "name": stream,
            "table": stream,  # the real system's table name, as the publisher creates it
            "primary_key": [KEYS[stream]],
            "mode": "merge",
            "segments": 3,
            "batch_rows": 25,
        }
        for stream in KEYS
    ]
    options = {"endpoint_url": moto_server.endpoint, "region": "us-east-1"}
    options |= {"access_key_id": "${TEST_DDB_KEY}", "secret_access_key": "${TEST_DDB_SECRET}"}
    source = tmp_path / "dynamodb.yml"
    source.write_text(
        yaml.safe_dump({"source": "dynamodb", "type": "dynamodb", "options": options, "streams": streams})
    )
    (tmp_path / "root").mkdir()
    root = LakehouseRoot.parse(str(tmp_path / "root"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TEST_DDB_KEY", "testing")
        env.setenv("TEST_DDB_SECRET", "testing")
        first = {r.stream: r for r in load_source(root, load_source_config(source))}
        assert all(r.status == "success" for r in first.values()), [r.error for r in first.values()]
        for stream in KEYS:
            assert bronze_state(root, stream) == expected_items(company, stream, [history])

        generate_increment(company, HISTORY_DAYS, scale=SCALE)
        day = sorted(json.loads((company / "manifest.json").read_text())["batches"])[-1]
        changes = publish(moto_server, company)
        second = {r.stream: r for r in load_source(root, load_source_config(source))}
    assert sum(changes.values()) > 0
    for stream in KEYS:
        assert second[stream].rows_read == changes[stream]  # only the stream's new records
        assert bronze_state(root, stream) == expected_items(company, stream, [history, day])
