"""`lakehouse company publish --mongodb --dynamodb --sftp`: the company's document stores and file drops
through real servers: FerretDB (with SCRAM authentication), moto's DynamoDB and OpenSSH's SFTP.

The command's function publishes the generated company (small scale) and writes the loaders' source
files; the MongoDB, DynamoDB and files loaders read them into bronze. Bronze must hold what the
generator's files say: every clean document and item as last written (dirty lines are no server's
data) and, for DynamoDB, every deleted item as a tombstone; the SFTP drops the rows a load of the
generated CSV files from a local folder gives. Then the company advances, is published again and
reloaded: the days' updates, deletes and new files arrive. Publishing again without a new day
publishes nothing, and secrets appear in no output and no source file.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from bson import json_util
from rich.console import Console
from typer.testing import CliRunner

import lakehouse.cli
import lakehouse.cli.errors
from company.publish.command import run_publish
from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import load_source_config
from loaders.dynamodb import items_to_arrow
from loaders.mongodb.arrow import plain
from loaders.pipeline import load_source
from tests.helpers.file_servers import OpenSshServer
from tests.helpers.loader_io import bronze_rows
from tests.helpers.nosql_servers import FerretDbServer, MotoServer
from tests.helpers.spark import free_port

PROJECT = Path(__file__).resolve().parents[2]
SCALE = 0.1
# The history ends on a Friday: vendors drop no feed on the weekend and partners report on Mondays,
# so the days published next run to the Monday, when every stream changes.
NEXT_DAYS = 3
MONGO_USER = "app"
REGION = "eu-west-1"  # moto keeps one state per process: other modules' DynamoDB tables are in us-east-1
WRONG_PASSWORD = "not-the-Password-42"


@pytest.fixture(scope="module")
def ferretdb_server() -> Iterator[FerretDbServer]:
    server = FerretDbServer(user=MONGO_USER).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dynamodb_server() -> Iterator[MotoServer]:
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sftp_server() -> Iterator[OpenSshServer]:
    server = OpenSshServer().start()
    yield server
    server.stop()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh LAKEHOUSE_HOME (the company is generated there); AWS test credentials, no other secret set."""
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "home"))
    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_REGION", REGION)
    for variable in ("LAKEHOUSE_MONGODB_PASSWORD", "LAKEHOUSE_SFTP_PASSWORD", "LAKEHOUSE_SFTP_PRIVATE_KEY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(lakehouse.cli.errors.console, "width", 250)
    return tmp_path / "home"


def mongodb_uri(server: FerretDbServer, password: str | None) -> str:
    secret = f":{password}" if password else ""
    return f"mongodb://{MONGO_USER}{secret}@127.0.0.1:{server.port}/?authSource=admin"


def sftp_uri(server: OpenSshServer, password: str | None = None, folder: str = "outbound") -> str:
    secret = f":{password}" if password else ""
    return f"sftp://{server.user}{secret}@127.0.0.1:{server.port}{server.data / folder}"


# --- what the generator's files say --------------------------------------------------------------


def company(home: Path) -> Path:
    return home / "samples" / "company"


def manifest(home: Path) -> dict[str, Any]:
    return json.loads((company(home) / "manifest.json").read_text())


def lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def mongo_document(line: str, cursor: str) -> dict[str, Any] | None:
    """A mongoexport line as BSON; None for a dirty copy (cut off, no `_id`, the update time not a date)."""
    try:
        document = json_util.loads(line)
    except ValueError:
        return None
    return document if "_id" in document and isinstance(document.get(cursor), datetime) else None


def dynamodb_item(line: str, key: str, cursor: str) -> dict[str, Any] | None:
    try:
        item = json.loads(line).get("Item")
    except (ValueError, AttributeError):
        return None
    return item if isinstance(item, dict) and key in item and isinstance(item.get(cursor), dict) else None


def replayed(home: Path, system: str, stream: str, *, deletes: bool) -> tuple[dict[str, Any], set[str], int]:
    """(key -> the stream's last clean version, keys deleted, dirty lines) after every batch, in order."""
    spec = manifest(home)["systems"][system]["streams"][stream]
    key, cursor = spec["primary_key"][0], spec["cursor_field"]
    latest: dict[str, Any] = {}
    deleted: set[str] = set()
    dirty = 0
    for batch in manifest(home)["batches"]:
        for line in lines(company(home) / system / stream / f"{batch}.jsonl"):
            if system == "mongodb":
                document = mongo_document(line, cursor)
                name = str(document["_id"]) if document else ""
            else:
                document = dynamodb_item(line, key, cursor)
                name = document[key]["S"] if document else ""
            if document is None:
                dirty += 1
                continue
            latest[name] = document
            deleted.discard(name)
        for line in lines(company(home) / system / stream / "deletes" / f"{batch}.jsonl"):
            gone = json_util.loads(line)[key]
            name = str(gone) if system == "mongodb" else gone["S"]
            if deletes and latest.pop(name, None) is not None:
                deleted.add(name)
    return latest, deleted, dirty


def expected_mongodb(home: Path, stream: str) -> dict[str, Any]:
    """Without change streams (FerretDB), the loader does not see hard deletes: bronze keeps those documents."""
    latest, _, _ = replayed(home, "mongodb", stream, deletes=False)
    return {
        name: {k: v for k, v in plain(doc).items() if not k.startswith("_") or k == "_id"}
        for name, doc in latest.items()
    }


def expected_dynamodb(home: Path, stream: str, key: str) -> tuple[dict[str, Any], set[str]]:
    latest, deleted, _ = replayed(home, "dynamodb", stream, deletes=True)
    rows = items_to_arrow(list(latest.values())).to_pylist()
    return {row[key]: {k: v for k, v in row.items() if v is not None} for row in rows}, deleted


# --- what bronze holds ----------------------------------------------------------------------------


def bronze_mongodb(root: LakehouseRoot, stream: str) -> dict[str, Any]:
    rows = bronze_rows(root, "mongodb", stream)
    assert len({row["_id"] for row in rows}) == len(rows), f"mongodb.{stream}: an _id twice"
    return {row["_id"]: {k: v for k, v in row.items() if not k.startswith("_") or k == "_id"} for row in rows}


def bronze_dynamodb(root: LakehouseRoot, stream: str, key: str) -> tuple[dict[str, Any], set[str]]:
    rows = bronze_rows(root, "dynamodb", stream)
    assert len({row[key] for row in rows}) == len(rows), f"dynamodb.{stream}: a key twice"
    live = {
        row[key]: {k: v for k, v in row.items() if not k.startswith("_") and v is not None}
        for row in rows
        if row.get("_op") != "delete"
    }
    return live, {row[key] for row in rows if row.get("_op") == "delete"}


def business(rows: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(sorted((k, v) for k, v in row.items() if not k.startswith("_"))) for row in rows)


def files_bronze(home: Path, tmp_path: Path) -> LakehouseRoot:
    """The SFTP drops' generated CSV files loaded from the local folder, with the embedded source's streams."""
    document = yaml.safe_load((PROJECT / "sources" / "embedded" / "sftp.yml").read_text())
    document["options"] = {"path": str(company(home) / "sftp")}
    path = tmp_path / "files-sftp.yml"
    path.write_text(yaml.safe_dump(document))
    folder = tmp_path / f"files-root-{len(manifest(home)['batches'])}"
    folder.mkdir()
    root = LakehouseRoot.parse(str(folder))
    assert all(result.status == "success" for result in load_source(root, load_source_config(path)))
    return root


# --- the path from the command to bronze -----------------------------------------------------------


class Publishing:
    """The command's function, its output captured, and loads of the source files it wrote."""

    def __init__(self, home: Path, tmp_path: Path, servers: dict[str, str]) -> None:
        self.home, self.servers = home, servers
        self.sources = tmp_path / "sources"
        (tmp_path / "root").mkdir()
        self.root = LakehouseRoot.parse(str(tmp_path / "root"))
        self.output = ""

    def publish(self, days: int = 0) -> dict[str, Any]:
        out = io.StringIO()
        reports = run_publish(
            Console(file=out, width=250), **self.servers, days=days, scale=SCALE, sources_dir=self.sources
        )
        self.output += out.getvalue()
        return reports

    def load(self) -> dict[str, int]:
        """Every written source loaded; rows read per `system.stream`."""
        read = {}
        for system in ("mongodb", "dynamodb", "sftp"):
            for result in load_source(self.root, load_source_config(self.sources / f"{system}.yml")):
                assert result.status == "success", result.error
                assert result.rows_quarantined == 0, f"{system}.{result.stream} quarantined rows"
                read[f"{system}.{result.stream}"] = result.rows_read
        return read


def published_rows(reports: dict[str, Any]) -> int:
    tables = sum(r.upserted + r.deletes for system in ("mongodb", "dynamodb") for r in reports[system])
    return tables + sum(r.rows + r.files for r in reports["sftp"])


def assert_bronze_matches_the_generator(run: Publishing, tmp_path: Path) -> None:
    for stream in ("user_sessions", "product_reviews"):
        expected = expected_mongodb(run.home, stream)
        assert expected, f"the generator wrote no mongodb.{stream} documents"
        assert bronze_mongodb(run.root, stream) == expected, f"mongodb.{stream} differs from the generator's"
    for stream, key in (("user_preferences", "user_id"), ("session_data", "session_id")):
        live, deleted = expected_dynamodb(run.home, stream, key)
        assert live, f"the generator wrote no dynamodb.{stream} items"
        assert bronze_dynamodb(run.root, stream, key) == (live, deleted), f"dynamodb.{stream} differs"
    from_files = files_bronze(run.home, tmp_path)
    for stream in ("vendor_data", "partner_reports"):
        rows = bronze_rows(run.root, "sftp", stream)
        assert rows, f"sftp.{stream} is empty"
        assert business(rows) == business(bronze_rows(from_files, "sftp", stream)), f"sftp.{stream} differs"


def test_published_stores_and_drops_load_into_bronze_as_the_generator_wrote_them(
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ferretdb_server: FerretDbServer,
    dynamodb_server: MotoServer,
    sftp_server: OpenSshServer,
) -> None:
    servers = {
        "mongodb": mongodb_uri(ferretdb_server, ferretdb_server.password),  # the password in the URI
        "dynamodb": dynamodb_server.endpoint,
        "sftp": sftp_uri(sftp_server, sftp_server.password),
    }
    run = Publishing(home, tmp_path, servers)
    first = run.publish()
    for system, stream in (("mongodb", "user_sessions"), ("mongodb", "product_reviews")):
        _, _, dirty = replayed(home, system, stream, deletes=False)
        [report] = [r for r in first[system] if r.stream == stream]
        assert report.skipped_dirty == dirty, f"{system}.{stream}: the dirty lines left out are the files' own"
    written = {path.name: path.read_text() for path in run.sources.glob("*.yml")}
    assert sorted(written) == ["dynamodb.yml", "mongodb.yml", "sftp.yml"]
    for secret in (ferretdb_server.password, sftp_server.password):
        assert secret not in run.output and all(secret not in text for text in written.values())
    assert "${LAKEHOUSE_MONGODB_PASSWORD}" in written["mongodb.yml"]
    assert "${LAKEHOUSE_SFTP_PASSWORD}" in written["sftp.yml"]

    monkeypatch.setenv("LAKEHOUSE_MONGODB_PASSWORD", ferretdb_server.password)
    monkeypatch.setenv("LAKEHOUSE_SFTP_PASSWORD", sftp_server.password)
    run.load()
    assert_bronze_matches_the_generator(run, tmp_path)

    # Publishing again with nothing new publishes nothing; a load then reads nothing.
    assert published_rows(run.publish()) == 0
    assert set(run.load().values()) == {0}, "a second publish must not make rows look changed"

    # The next days, published with the secrets from the environment, loaded incrementally.
    before = {stream: bronze_dynamodb(run.root, stream, key)[0] for stream, key in (("user_preferences", "user_id"),)}
    sessions_before = set(bronze_mongodb(run.root, "user_sessions"))
    run.servers = {**servers, "mongodb": mongodb_uri(ferretdb_server, None), "sftp": sftp_uri(sftp_server)}
    later = run.publish(days=NEXT_DAYS)
    assert len(manifest(home)["batches"]) == 1 + NEXT_DAYS
    assert all(r.batches == NEXT_DAYS for system in ("mongodb", "dynamodb") for r in later[system])
    read = run.load()
    assert_bronze_matches_the_generator(run, tmp_path)

    assert set(bronze_mongodb(run.root, "user_sessions")) > sessions_before, "the days' sessions arrived"
    preferences, _ = bronze_dynamodb(run.root, "user_preferences", "user_id")
    updated = [k for k, row in before["user_preferences"].items() if preferences.get(k, row) != row]
    assert updated, "the days changed preferences loaded before"
    _, expired = bronze_dynamodb(run.root, "session_data", "session_id")
    assert expired, "the days' expired cart sessions are tombstones"
    dropped = {r.stream: r for r in later["sftp"]}
    assert dropped["vendor_data"].files and dropped["partner_reports"].files, "Monday's drops are new files"
    for stream in ("vendor_data", "partner_reports"):
        assert read[f"sftp.{stream}"] == dropped[stream].rows, "only the new files were read"

    assert published_rows(run.publish()) == 0
    assert set(run.load().values()) == {0}


# --- errors a user can act on ----------------------------------------------------------------------


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(lakehouse.cli.app, ["company", "publish", *args, "--scale", str(SCALE)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_a_wrong_mongodb_password_is_named_without_the_password(home: Path, ferretdb_server: FerretDbServer) -> None:
    code, output = run_cli("--mongodb", mongodb_uri(ferretdb_server, WRONG_PASSWORD))
    assert code == 2, output
    assert "error:" in output and "Authentication failed" in output
    assert "LAKEHOUSE_MONGODB_PASSWORD" in output.split("fix:")[1]
    assert WRONG_PASSWORD not in output
    assert not company(home).exists(), "nothing is generated before the servers answer"


def test_a_wrong_sftp_password_is_named_without_the_password(home: Path, sftp_server: OpenSshServer) -> None:
    code, output = run_cli("--sftp", sftp_uri(sftp_server, WRONG_PASSWORD))
    assert code == 2, output
    assert "error:" in output and "LAKEHOUSE_SFTP_PASSWORD" in output.split("fix:")[1]
    assert WRONG_PASSWORD not in output
    assert not company(home).exists()


def test_an_sftp_folder_the_user_may_not_write_is_named_before_anything_is_generated(
    home: Path, sftp_server: OpenSshServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sftp_server.folder is not None
    monkeypatch.setenv("LAKEHOUSE_SFTP_PASSWORD", sftp_server.password)
    # The fixture's own folder belongs to root (mode 755): the SFTP user may read it, not write in it.
    code, output = run_cli("--sftp", f"sftp://{sftp_server.user}@127.0.0.1:{sftp_server.port}{sftp_server.folder}/drop")
    assert code == 2, output
    assert "Permission denied" in output and f"{sftp_server.folder}/drop" in output
    assert "another folder in --sftp" in output.split("fix:")[1]
    assert not company(home).exists()


@pytest.mark.parametrize("system", ["mongodb", "dynamodb", "sftp"])
def test_an_unreachable_server_is_named_with_its_address(
    system: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("LAKEHOUSE_SFTP_PASSWORD", WRONG_PASSWORD)
    address = {
        "mongodb": f"mongodb://app:{WRONG_PASSWORD}@127.0.0.1:{port}/",
        "dynamodb": f"http://127.0.0.1:{port}",
        "sftp": f"sftp://someone@127.0.0.1:{port}/drop",
    }[system]
    code, output = run_cli(f"--{system}", address)
    assert code == 2, output
    assert "error:" in output and f"127.0.0.1:{port}" in output.split("fix:")[0]
    assert "runs" in output.split("fix:")[1]
    assert WRONG_PASSWORD not in output
