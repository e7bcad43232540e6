"""The MongoDB, DynamoDB and SFTP publishers' offline parts: URIs, dirty lines, daily files, source files.

The servers themselves are exercised in tests/integration/test_company_publish_nosql.py.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from company.api import generate
from company.publish import dynamodb, mongodb, parse_target, sftp
from company.publish.changes import load_manifest
from company.publish.sources import write_source_file
from company.systems import SYSTEMS
from lakehouse.core.errors import ConfigError
from loaders.core.config import load_source_config

SECRET = "pa:ss/w@rd-9"
ENCODED = "pa%3Ass%2Fw%40rd-9"


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("company")
    generate(folder, scale=0.3, days=14)  # big enough for dirty lines in both stores
    return folder


@pytest.fixture
def no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("LAKEHOUSE_MONGODB_PASSWORD", *(sftp.PASSWORD, sftp.PRIVATE_KEY, sftp.PASSPHRASE)):
        monkeypatch.delenv(variable, raising=False)


# --- URIs -----------------------------------------------------------------------------------------


def test_a_mongodb_uri_defaults_to_the_real_database_and_keeps_its_options(no_secrets: None) -> None:
    target = parse_target("mongodb", f"mongodb://app:{ENCODED}@10.0.0.7/?authSource=admin")
    assert (target.host, target.port, target.database) == ("10.0.0.7", 27017, "company_analytics")
    assert target.password == SECRET and target.params == {"authSource": "admin"}
    assert target.display() == "mongodb://app@10.0.0.7:27017/company_analytics"
    assert "authSource=admin" in mongodb.client_uri(target) and ENCODED in mongodb.client_uri(target)
    assert parse_target("mongodb", "mongodb://127.0.0.1:27018/shop").display() == "mongodb://127.0.0.1:27018/shop"


def test_an_sftp_uri_names_the_drop_folder_and_reads_the_secret_from_the_environment(
    no_secrets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(sftp.PASSWORD, SECRET)
    target = sftp.parse_target("sftp://etl@files.example.com")
    assert (target.port, target.path, target.password) == (22, "/outbound", SECRET)
    assert sftp.parse_target("sftp://etl@h:2222/srv/drops/").path == "/srv/drops"
    shown = sftp.parse_target(f"sftp://etl:{ENCODED}@h:2222/in").display()
    assert shown == "sftp://etl@h:2222/in" and SECRET not in repr(sftp.parse_target(f"sftp://etl:{ENCODED}@h/in"))


def test_an_sftp_key_file_comes_from_the_environment(
    no_secrets: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(sftp.PRIVATE_KEY, str(tmp_path / "missing_key"))
    with pytest.raises(ConfigError, match="not a file"):
        sftp.parse_target("sftp://etl@h/in")
    (tmp_path / "id_ed25519").write_text("a key")
    monkeypatch.setenv(sftp.PRIVATE_KEY, str(tmp_path / "id_ed25519"))
    assert sftp.parse_target("sftp://etl@h/in").private_key == str(tmp_path / "id_ed25519")


@pytest.mark.parametrize(
    ("uri", "cause"),
    [
        ("sftp://files.example.com/in", "no user"),
        ("ftp://etl@files.example.com/in", "starts with sftp://"),
        (f"sftp://etl:{SECRET}@h:22/in", "port is not a number"),  # `/` in a password ends the host part
        ("sftp://etl@files.example.com/in", "no password or key"),
    ],
)
def test_a_bad_sftp_uri_is_refused_with_the_fix_and_without_the_secret(no_secrets: None, uri: str, cause: str) -> None:
    with pytest.raises(ConfigError) as failure:
        sftp.parse_target(uri)
    assert cause in failure.value.cause and "sftp://USER@HOST:PORT/PATH" in failure.value.fix
    assert SECRET not in str(failure.value) and "w@rd" not in str(failure.value)


@pytest.mark.parametrize("endpoint", ["127.0.0.1:8000", "dynamodb.us-east-1.amazonaws.com", "s3://bucket"])
def test_a_dynamodb_endpoint_must_be_a_url(endpoint: str) -> None:
    with pytest.raises(ConfigError) as failure:
        dynamodb.connect(endpoint)
    assert "not an endpoint URL" in failure.value.cause and "http://HOST:PORT" in failure.value.fix


def test_a_mongodb_uri_of_another_scheme_is_refused(no_secrets: None) -> None:
    with pytest.raises(ConfigError) as failure:
        parse_target("mongodb", f"postgresql://app:{ENCODED}@h/db")
    assert "mongodb://" in failure.value.cause and ENCODED not in str(failure.value)


# --- what a batch puts on a server ------------------------------------------------------------------


@pytest.mark.parametrize("system", ["mongodb", "dynamodb"])
def test_documents_leave_out_exactly_the_files_dirty_lines(company: Path, system: str) -> None:
    manifest = load_manifest(company)
    [batch] = manifest.batches
    read = mongodb.read_batch if system == "mongodb" else dynamodb.read_batch
    left_out = 0
    for spec in SYSTEMS[system].streams:
        stats = manifest.systems[system].streams[spec.stream].batches[batch]
        changes = read(company, spec, stats)
        assert changes.dirty == stats.dirty_count
        assert len(changes.upserts) == stats.row_count - stats.dirty_count  # a history holds each key once
        key = spec.primary_key[0]
        assert all(key in document for document in changes.upserts)
        left_out += changes.dirty
    assert left_out > 0, "the files hold dirty lines to leave out"


def test_a_batch_of_file_drops_becomes_one_file_per_day_with_the_generators_lines(company: Path) -> None:
    manifest = load_manifest(company)
    [batch] = manifest.batches
    for spec in SYSTEMS["sftp"].streams:
        stats = manifest.systems["sftp"].streams[spec.stream].batches[batch]
        assert stats.file is not None
        original = (company / stats.file).read_text()
        files = sftp.drop_files(company, spec, stats)
        assert len(files) > 1, "the history spans several days"
        header = original.splitlines()[0]
        lines: list[str] = []
        for name, (content, rows) in sorted(files.items()):
            text = content.decode()
            assert text.splitlines()[0] == header and len(text.splitlines()) == rows + 1
            day = {row[spec.cursor_field].replace("-", "") for row in csv.DictReader(text.splitlines())}
            assert name == f"{sftp.drop_folder(spec)}/{Path(spec.native_name).name.replace('YYYYMMDD', day.pop())}"
            assert not day, f"{name} holds more than one day"
            lines += text.splitlines()[1:]
        assert sorted(lines) == sorted(original.splitlines()[1:])


# --- the loaders' source files -------------------------------------------------------------------


def test_the_written_source_files_validate_and_reference_the_secrets(
    no_secrets: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mongo = mongodb.MongoPublisher(parse_target("mongodb", f"mongodb://app:{ENCODED}@h:27017/?authSource=admin"), None)
    monkeypatch.setenv(sftp.PASSWORD, SECRET)
    drop = sftp.SftpPublisher(sftp.parse_target("sftp://etl@h:2222/srv/in"), None, None)
    drops = write_source_file(tmp_path, "sftp", drop.where, drop.loader_source())
    documents = write_source_file(tmp_path, "mongodb", mongo.where, mongo.loader_source())
    for path in (drops, documents):
        assert SECRET not in path.read_text() and ENCODED not in path.read_text()
        config = load_source_config(path)
        assert [s.name for s in config.streams] == [spec.stream for spec in SYSTEMS[path.stem].streams]
    mongo_config = load_source_config(documents)
    assert mongo_config.options["password"] == "${LAKEHOUSE_MONGODB_PASSWORD}"
    assert mongo_config.options["uri"] == "mongodb://app@h:27017/company_analytics?authSource=admin"
    sftp_config = load_source_config(drops)
    assert sftp_config.type == "files" and sftp_config.options["password"] == "${LAKEHOUSE_SFTP_PASSWORD}"
    assert sftp_config.stream("vendor_data").extra["pattern"] == "vendor_data/vendor_feed_*.csv"


def test_the_dynamodb_source_file_names_the_endpoint_and_region(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    publisher = dynamodb.DynamoPublisher("http://127.0.0.1:5000", None)
    config = load_source_config(write_source_file(tmp_path, "dynamodb", publisher.where, publisher.loader_source()))
    assert config.type == "dynamodb" and config.options == {
        "region": "eu-west-1",
        "endpoint_url": "http://127.0.0.1:5000",
    }
    assert [s.extra["table"] for s in config.streams] == ["user_preferences", "session_data"]
    assert json.dumps(config.options).count("secret") == 0
