"""Remote file drops: the files family reading SFTP (OpenSSH), FTP and FTPS (pyftpdlib), S3 (SeaweedFS),
Google Cloud Storage (fake-gcs-server) and Azure Blob (Azurite).

The company's file systems (`sftp`, `ftp`, `s3`, `google_cloud_storage`, `azure_blob_storage`) are put on
real servers as their generator wrote them; bronze must hold exactly the rows a load of the same generated
files from a local folder gives, after the history and again after the company's next day (which must
read only the new day's files). Each file is loaded once: dropped again with the same content it is only
recorded; changed, it loads again; unreadable, it is quarantined whole (one record naming its path) and
the other files load. FTPS verifies the server's certificate. A load over SFTP killed with SIGKILL and
re-run leaves every row exactly once.
"""

from __future__ import annotations

import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from company.api import generate, generate_increment
from lakehouse.core.errors import SourceError
from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import load_source_config
from loaders.pipeline import load_source
from tests.helpers.file_servers import AzuriteServer, FakeGcsServer, FtpServer, OpenSshServer
from tests.helpers.loader_io import bronze_rows, quarantine_rows
from tests.integration import test_loader_crash as crash
from tests.integration.test_loader_crash import crash_and_recover, make_source, roots

HISTORY_DAYS = 12  # ends on a Monday: the next day (a Tuesday) brings vendor feeds and legacy reports
SCALE = 0.05
EMBEDDED = Path(__file__).resolve().parents[2] / "sources" / "embedded"
GCS_BUCKET = "company-gcs-data"
AZURE_CONTAINER = "company-data"


@pytest.fixture(scope="module")
def sftp_server() -> Iterator[OpenSshServer]:
    server = OpenSshServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ftp_server() -> Iterator[FtpServer]:
    server = FtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ftps_server() -> Iterator[FtpServer]:
    server = FtpServer(tls=True).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gcs_server() -> Iterator[FakeGcsServer]:
    server = FakeGcsServer().start()
    try:
        server.create_bucket(GCS_BUCKET)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def azurite_server() -> Iterator[AzuriteServer]:
    server = AzuriteServer().start()
    try:
        server.client().create_dir(AZURE_CONTAINER)
        yield server
    finally:
        server.stop()


@dataclass
class Drop:
    """One remote location: where a test puts files, and the `options:` that read them."""

    put: Callable[[str, bytes], None]  # relative name, content
    options: dict[str, Any]


def sftp_drop(server: OpenSshServer, monkeypatch: pytest.MonkeyPatch, *, auth: str = "password") -> Drop:
    base = server.data / uuid.uuid4().hex[:8]
    base.mkdir(mode=0o755)

    def put(name: str, content: bytes) -> None:
        target = base / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)

    monkeypatch.setenv("TEST_SFTP_PASSWORD", server.password)
    url = f"sftp://{server.user}@127.0.0.1:{server.port}{base}"
    secret = {"password": "${TEST_SFTP_PASSWORD}"} if auth == "password" else {"private_key": str(server.private_key)}
    return Drop(put, {"url": url, **secret})


def ftp_drop(server: FtpServer, monkeypatch: pytest.MonkeyPatch) -> Drop:
    prefix = uuid.uuid4().hex[:8]

    def put(name: str, content: bytes) -> None:
        target = server.data / prefix / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)

    monkeypatch.setenv("TEST_FTP_PASSWORD", server.password)
    options = {"url": server.url(prefix), "password": "${TEST_FTP_PASSWORD}"}
    return Drop(put, options | ({"ca_file": str(server.certificate)} if server.tls else {}))


def s3_drop(request: pytest.FixtureRequest) -> Drop:
    server = request.getfixturevalue("s3_env")
    client = server.store.client()
    prefix = f"drops/{uuid.uuid4().hex[:8]}"

    def put(name: str, content: bytes) -> None:
        client.put_object(Bucket=server.bucket, Key=f"{prefix}/{name}", Body=content)

    options = {"url": f"s3://{server.bucket}/{prefix}", "endpoint_url": server.store.endpoint}
    options |= {"access_key_id": "${AWS_ACCESS_KEY_ID}", "secret_access_key": "${AWS_SECRET_ACCESS_KEY}"}
    return Drop(put, options)


def gcs_drop(server: FakeGcsServer, monkeypatch: pytest.MonkeyPatch, *, through: str = "options") -> Drop:
    """Objects uploaded through the emulator's JSON API; the source finds the emulator by its options
    (`endpoint_url`, `anonymous`) or, as Google's clients do, by STORAGE_EMULATOR_HOST alone."""
    prefix = f"drops/{uuid.uuid4().hex[:8]}"

    def put(name: str, content: bytes) -> None:
        server.put(GCS_BUCKET, f"{prefix}/{name}", content)

    url = f"gs://{GCS_BUCKET}/{prefix}"
    if through == "env":
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"127.0.0.1:{server.port}")
        return Drop(put, {"url": url})
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    return Drop(put, {"url": url, "endpoint_url": server.endpoint, "anonymous": True})


def azure_drop(server: AzuriteServer, monkeypatch: pytest.MonkeyPatch) -> Drop:
    client = server.client()
    prefix = f"drops/{uuid.uuid4().hex[:8]}"

    def put(name: str, content: bytes) -> None:
        # compression=None: pyarrow would otherwise gzip a name ending in .gz on the way up
        with client.open_output_stream(f"{AZURE_CONTAINER}/{prefix}/{name}", compression=None) as out:
            out.write(content)

    monkeypatch.setenv("TEST_AZURE_ACCOUNT_KEY", server.key)
    options = {"url": f"az://{AZURE_CONTAINER}/{prefix}", "endpoint_url": server.endpoint}
    options |= {"account_name": server.account, "account_key": "${TEST_AZURE_ACCOUNT_KEY}"}
    return Drop(put, options)


def make_drop(kind: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Drop:
    if kind == "sftp":
        return sftp_drop(request.getfixturevalue("sftp_server"), monkeypatch)
    if kind == "sftp-key":
        return sftp_drop(request.getfixturevalue("sftp_server"), monkeypatch, auth="key")
    if kind == "ftp":
        return ftp_drop(request.getfixturevalue("ftp_server"), monkeypatch)
    if kind == "ftps":
        return ftp_drop(request.getfixturevalue("ftps_server"), monkeypatch)
    if kind == "gcs":
        return gcs_drop(request.getfixturevalue("gcs_server"), monkeypatch)
    if kind == "gcs-env":
        return gcs_drop(request.getfixturevalue("gcs_server"), monkeypatch, through="env")
    if kind == "azure":
        return azure_drop(request.getfixturevalue("azurite_server"), monkeypatch)
    return s3_drop(request)


def write_source(folder: Path, name: str, options: dict[str, Any], streams: list[dict[str, Any]]) -> Path:
    path = folder / f"{name}-{uuid.uuid4().hex[:6]}.yml"
    document = {"source": name, "type": "files", "options": options, "streams": streams}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def load(root: LakehouseRoot, path: Path) -> list[Any]:
    return load_source(root, load_source_config(path))


def business(rows: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(sorted((k, v) for k, v in row.items() if not k.startswith("_"))) for row in rows)


def new_root(tmp_path: Path, name: str) -> LakehouseRoot:
    folder = tmp_path / name
    folder.mkdir()
    return LakehouseRoot.parse(str(folder))


# --- the company's file drops -------------------------------------------------------------------


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("company")
    generate(folder, scale=SCALE, days=HISTORY_DAYS)
    return folder


@pytest.fixture(scope="module")
def company_next_day(company: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the company advanced by one day (its new files sit beside the history's)."""
    folder = tmp_path_factory.mktemp("company-next") / "company"
    shutil.copytree(company, folder)
    generate_increment(folder, HISTORY_DAYS, scale=SCALE)
    return folder


def files_of(company: Path, system: str) -> set[Path]:
    return {path for path in (company / system).glob("*/*") if path.is_file()}


@pytest.mark.parametrize(
    ("kind", "system"),
    [
        ("sftp", "sftp"),
        ("s3", "s3"),
        ("ftp", "ftp"),
        ("ftps", "ftp"),
        ("gcs", "google_cloud_storage"),
        ("azure", "azure_blob_storage"),
    ],
)
def test_company_file_drops_land_from_the_server_and_the_next_day_loads_only_its_files(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    company: Path,
    company_next_day: Path,
    kind: str,
    system: str,
) -> None:
    drop = make_drop(kind, request, monkeypatch)
    streams = yaml.safe_load((EMBEDDED / f"{system}.yml").read_text())["streams"]
    remote = write_source(tmp_path, system, drop.options, streams)
    local = write_source(tmp_path, system, {"path": str(company / system)}, streams)
    remote_root, local_root = new_root(tmp_path, "remote"), new_root(tmp_path, "local")

    def publish(paths: set[Path]) -> None:
        for path in sorted(paths):
            drop.put(path.relative_to(company / system).as_posix(), path.read_bytes())

    history = files_of(company, system)
    publish(history)
    for result in load(remote_root, remote):
        assert result.status == "success", result.error
    load(local_root, local)
    for stream in streams:
        rows = bronze_rows(remote_root, system, stream["name"])
        assert rows and business(rows) == business(bronze_rows(local_root, system, stream["name"]))

    day_folder = company_next_day
    new_files = files_of(day_folder, system) - {day_folder / p.relative_to(company) for p in history}
    assert new_files, "the next day brings new files"
    for path in sorted(new_files):
        drop.put(path.relative_to(day_folder / system).as_posix(), path.read_bytes())
    local_next = write_source(tmp_path, system, {"path": str(day_folder / system)}, streams)
    second = {result.stream: result for result in load(remote_root, remote)}
    load(local_root, local_next)
    for stream in streams:
        name = stream["name"]
        expected = bronze_rows(local_root, system, name)
        assert business(bronze_rows(remote_root, system, name)) == business(expected)
        new_rows = sum(len(p.read_text().splitlines()) - 1 for p in new_files if p.parent.name == name)
        assert second[name].rows_read == new_rows  # incremental: only the new day's files were read


# --- each file once ------------------------------------------------------------------------------

CSV_A = b"item_id,name\n1,one\n2,two\n"
CSV_B = b"item_id,name\n3,three\n"
CSV_A_CHANGED = b"item_id,name\n1,one again\n2,two again\n4,four\n"


@pytest.mark.parametrize("kind", ["sftp-key", "s3", "gcs-env", "azure"])
def test_a_file_dropped_twice_loads_once_and_a_changed_file_loads_again(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    drop = make_drop(kind, request, monkeypatch)
    source = write_source(tmp_path, "drops", drop.options, [{"name": "items", "format": "csv"}])
    root = new_root(tmp_path, "root")
    drop.put("items/a.csv", CSV_A)
    drop.put("items/b.csv", CSV_B)
    load(root, source)
    drop.put("items/a.csv", CSV_A)  # the same file dropped again: a new modification time, the same content
    again = load(root, source)[0]
    assert again.status == "success" and again.rows == 0
    assert sorted(row["item_id"] for row in bronze_rows(root, "drops", "items")) == [1, 2, 3]

    drop.put("items/a.csv", CSV_A_CHANGED)
    changed = load(root, source)[0]
    assert changed.rows == 3  # the new version, whole
    names = Counter(row["name"] for row in bronze_rows(root, "drops", "items"))
    assert names == Counter(["one", "two", "three", "one again", "two again", "four"])
    assert load(root, source)[0].rows == 0


@pytest.mark.parametrize("kind", ["sftp", "s3", "gcs", "azure"])
def test_an_unreadable_file_is_quarantined_whole_and_the_others_load(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    drop = make_drop(kind, request, monkeypatch)
    streams = [{"name": "items", "format": "csv", "pattern": "items/*.csv*"}]
    source = write_source(tmp_path, "drops", drop.options, streams)
    root = new_root(tmp_path, "root")
    drop.put("items/a.csv", CSV_A)
    drop.put("items/b.csv.gz", b"this is not gzip at all\n")
    drop.put("items/c.csv", CSV_B)
    result = load(root, source)[0]
    assert result.status == "success" and result.rows == 3 and result.rows_quarantined == 1
    [record] = [row for row in quarantine_rows(root) if row["stream"] == "items"]
    assert "items/b.csv.gz" in record["reason"] and "gzip" in record["reason"].lower()
    assert record["raw_payload"] == "this is not gzip at all\n"
    assert sorted(row["item_id"] for row in bronze_rows(root, "drops", "items")) == [1, 2, 3]
    assert load(root, source)[0].rows_quarantined == 0  # recorded as loaded: not quarantined twice


@pytest.mark.parametrize("kind", ["gcs", "s3", "azure"])
def test_a_pattern_with_a_wildcard_folder_finds_the_files_of_every_folder(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    """Object stores have no folders; uploads write no folder markers, and the files are still found."""
    drop = make_drop(kind, request, monkeypatch)
    streams = [{"name": "items", "format": "csv", "pattern": "*/items.csv"}]
    source = write_source(tmp_path, "drops", drop.options, streams)
    root = new_root(tmp_path, "root")
    drop.put("2026-01-05/items.csv", CSV_A)
    drop.put("2026-01-06/items.csv", CSV_B)
    drop.put("2026-01-06/readme.txt", b"not a match\n")
    result = load(root, source)[0]
    assert result.status == "success" and result.rows == 3
    assert sorted(row["item_id"] for row in bronze_rows(root, "drops", "items")) == [1, 2, 3]


# --- FTPS ------------------------------------------------------------------------------------------


def test_ftps_refuses_a_server_certificate_it_cannot_verify_and_says_how_to_trust_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ftps_server: FtpServer
) -> None:
    drop = ftp_drop(ftps_server, monkeypatch)
    drop.put("items/a.csv", CSV_A)
    untrusted = {key: value for key, value in drop.options.items() if key != "ca_file"}
    source = write_source(tmp_path, "drops", untrusted, [{"name": "items", "format": "csv"}])
    with pytest.raises(SourceError) as raised:
        load(new_root(tmp_path, "root"), source)
    message = str(raised.value)
    assert f"cannot verify the TLS certificate of ftps://127.0.0.1:{ftps_server.port}" in message
    assert "self-signed certificate" in message and "options.ca_file" in message
    assert ftps_server.password not in message

    trusted = write_source(tmp_path, "drops", drop.options, [{"name": "items", "format": "csv"}])
    assert load(new_root(tmp_path, "trusted"), trusted)[0].rows == 2


# --- SIGKILL ---------------------------------------------------------------------------------------


def test_sigkilled_sftp_loads_leave_every_row_exactly_once(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sftp_server: OpenSshServer
) -> None:
    folder = sftp_server.data / f"crash-{uuid.uuid4().hex[:8]}"
    folder.mkdir(mode=0o755)
    monkeypatch.setattr(crash, "FILES", 3)  # small: every attempt is a process of its own
    monkeypatch.setattr(crash, "ROWS_PER_FILE", 400)
    source = make_source(folder, "append")  # CSV files with malformed rows, in folder/data/items
    monkeypatch.setenv("TEST_SFTP_PASSWORD", sftp_server.password)
    url = f"sftp://{sftp_server.user}@127.0.0.1:{sftp_server.port}{folder / 'data'}"
    source.document["options"] = {"url": url, "password": "${TEST_SFTP_PASSWORD}"}
    source.path = tmp_path / "src.yml"
    source.with_batch_size(100)
    assert crash_and_recover(roots(request, tmp_path, "local"), source, "append", 3, 51, most=6) == 3
