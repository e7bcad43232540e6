"""The MongoDB loader against FerretDB v1 (the MongoDB wire protocol over SQLite, no change streams).

The company's MongoDB collections are published into FerretDB by the company's MongoDB publisher
(what `lakehouse company publish --mongodb` runs: the generator's mongoexport files, dirty lines left
out); a load lands them (full load over parallel `_id` ranges), the company's next day is applied, and a
second load reads only what changed (the update field: FerretDB has no change streams, and the
loader says so in its log). Bronze then holds, per document, exactly the generator's latest version.
A load killed with SIGKILL and re-run leaves every document exactly once.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
import yaml

from company.api import generate, generate_increment
from company.publish import mongodb, parse_target
from company.publish.base import publish_folder
from company.publish.changes import load_manifest
from company.systems import SYSTEMS
from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import load_source_config
from loaders.mongodb.arrow import plain
from loaders.pipeline import load_source
from tests.helpers.loader_io import bronze_rows
from tests.helpers.nosql_servers import FerretDbServer
from tests.integration.test_loader_crash import CrashSource, crash_and_recover, roots

HISTORY_DAYS = 40  # long enough for product reviews to be written and updated
SCALE = 0.05
STREAMS = [
    {"name": "user_sessions", "primary_key": ["_id"], "cursor_field": "ended_at", "mode": "merge"},
    {"name": "product_reviews", "primary_key": ["_id"], "cursor_field": "updated_at", "mode": "merge"},
]


@pytest.fixture(scope="module")
def ferretdb_server() -> Iterator[FerretDbServer]:
    server = FerretDbServer().start()
    yield server
    server.stop()


def source_file(folder: Path, server: FerretDbServer, database: str, streams: list[dict[str, Any]]) -> Path:
    path = folder / f"mongo-{uuid.uuid4().hex[:6]}.yml"
    document = {"source": "mongodb", "type": "mongodb", "options": {"uri": server.uri, "database": database}}
    path.write_text(yaml.safe_dump({**document, "streams": streams}, sort_keys=False))
    return path


def publish(server: FerretDbServer, database: str, folder: Path, batch: str) -> dict[str, list[Any]]:
    """Publish the batches the server lacks (here: `batch`) with the company's publisher; the documents written."""
    publisher = mongodb.connect(parse_target("mongodb", f"{server.uri}{database}"))
    try:
        written = load_manifest(folder).systems["mongodb"].streams
        applied = {
            spec.stream: publisher.read(folder, spec, written[spec.stream].batches[batch]).upserts
            for spec in SYSTEMS["mongodb"].streams
        }
        reports = publish_folder(folder, publisher, "mongodb")
    finally:
        publisher.close()
    assert {r.stream: r.upserted for r in reports} == {stream: len(docs) for stream, docs in applied.items()}
    return applied


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in plain(document).items() if not k.startswith("_") or k == "_id"}


def bronze_by_id(root: LakehouseRoot, stream: str) -> dict[str, dict[str, Any]]:
    rows = bronze_rows(root, "mongodb", stream)
    assert len({row["_id"] for row in rows}) == len(rows)
    return {row["_id"]: {k: v for k, v in row.items() if not k.startswith("_") or k == "_id"} for row in rows}


def batches(folder: Path) -> list[str]:
    return sorted(json.loads((folder / "manifest.json").read_text())["batches"])


def test_company_collections_land_and_the_next_day_loads_only_what_changed(
    ferretdb_server: FerretDbServer, tmp_path: Path
) -> None:
    company = tmp_path / "company"
    generate(company, scale=SCALE, days=HISTORY_DAYS)
    [history] = batches(company)
    database = f"company_{uuid.uuid4().hex[:6]}"
    published = publish(ferretdb_server, database, company, history)
    source = source_file(tmp_path, ferretdb_server, database, [{**s, "parallel": 3, "batch_rows": 50} for s in STREAMS])
    (tmp_path / "root").mkdir()
    root = LakehouseRoot.parse(str(tmp_path / "root"))
    expected: dict[str, dict[str, dict[str, Any]]] = {
        stream: {str(doc["_id"]): comparable(doc) for doc in docs} for stream, docs in published.items()
    }
    with structlog.testing.capture_logs() as logs:
        first = {r.stream: r for r in load_source(root, load_source_config(source))}
    assert all(r.status == "success" for r in first.values()), [r.error for r in first.values()]
    assert any(event["event"] == "mongodb.change_stream.unsupported" for event in logs)
    for stream in expected:
        assert bronze_by_id(root, stream) == expected[stream]

    generate_increment(company, HISTORY_DAYS, scale=SCALE)
    day = batches(company)[-1]
    changed = publish(ferretdb_server, database, company, day)
    second = {r.stream: r for r in load_source(root, load_source_config(source))}
    assert changed["product_reviews"] and changed["user_sessions"], "the next day changes both collections"
    for stream, docs in changed.items():
        assert second[stream].rows_read == len(docs)  # only the day's changed documents were read
        expected[stream].update({str(doc["_id"]): comparable(doc) for doc in docs})
        # Without change streams hard deletes are not seen (documented): bronze keeps deleted documents.
        assert bronze_by_id(root, stream) == expected[stream]


def test_sigkilled_mongodb_loads_leave_every_document_exactly_once(
    request: pytest.FixtureRequest, tmp_path: Path, ferretdb_server: FerretDbServer
) -> None:
    database = f"crash_{uuid.uuid4().hex[:6]}"
    collection = ferretdb_server.client()[database]["items"]
    collection.insert_many([{"item_id": key, "value": key % 13, "name": f"n-{key}"} for key in range(900)])
    stream = {"name": "items", "primary_key": ["item_id"], "batch_rows": 40, "parallel": 3, "mode": "append"}
    document = {"source": "src", "type": "mongodb", "options": {"uri": ferretdb_server.uri, "database": database}}
    source = CrashSource(tmp_path / "src.yml", set(range(900)), {}, 0, [stream], document)
    source.latest = {key: key % 13 for key in range(900)}
    source.with_batch_size(40)
    assert crash_and_recover(roots(request, tmp_path, "local"), source, "append", 3, 61, most=8) == 3
    shutil.rmtree(tmp_path / "round-0", ignore_errors=True)
