"""The publishing mode's offline parts: server URIs, native column types, the loaders' source files.

The servers themselves are exercised in tests/integration/test_company_publish.py.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

import lakehouse.cli
from company.publish import parse_target, write_loader_sources
from company.publish.changes import last_per_key
from company.publish.mysql import native_type as mysql_type
from company.publish.postgres import native_type as postgres_type
from company.systems import SYSTEMS
from lakehouse.core.errors import ConfigError
from loaders.core.config import load_source_config

SECRET = "pa:ss/w@rd-9"
ENCODED = "pa%3Ass%2Fw%40rd-9"


def test_uri_defaults_are_the_real_systems_databases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAKEHOUSE_MYSQL_PASSWORD", raising=False)
    postgres = parse_target("postgres", "postgresql://app@db.internal")
    mysql = parse_target("mysql", "mariadb://legacy@10.0.0.5:3307")
    assert (postgres.host, postgres.port, postgres.database) == ("db.internal", 5432, "company_production")
    assert (mysql.port, mysql.database, mysql.password) == (3307, "legacy_systems", "")


def test_a_password_in_the_uri_is_decoded_and_never_displayed() -> None:
    target = parse_target("postgres", f"postgresql://app:{ENCODED}@127.0.0.1:6543/shop?sslmode=require")
    assert target.password == SECRET
    assert target.params == {"sslmode": "require"}
    assert SECRET not in target.display() and ENCODED not in target.display()
    assert SECRET not in repr(target)


def test_a_password_left_out_of_the_uri_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_POSTGRES_PASSWORD", SECRET)
    assert parse_target("postgres", "postgresql://app@127.0.0.1/x").password == SECRET


@pytest.mark.parametrize(
    ("system", "uri"),
    [
        ("postgres", f"mysql://app:{SECRET}@h/db"),
        ("mysql", f"mysql://app:{SECRET}@h:port/db"),
        ("mysql", f"mysql://app:{SECRET}@h:3306/db"),  # `/` in a password ends the host part
    ],
)
def test_a_malformed_uri_is_refused_without_repeating_it(system: str, uri: str) -> None:
    with pytest.raises(ConfigError) as failure:
        parse_target(system, uri)
    assert SECRET not in str(failure.value) and "w@rd" not in str(failure.value)
    assert "://USER:PASSWORD@HOST:PORT" in failure.value.fix


def test_a_driver_message_is_scrubbed_and_its_repeated_lines_kept_once() -> None:
    target = parse_target("postgres", "postgresql://app:s3cret-value@127.0.0.1:5432/x")
    driver = RuntimeError(
        "IO: Failed to connect: FATAL: password authentication failed (s3cret-value)\n"
        "FATAL: password authentication failed (s3cret-value)\n"
    )
    error = target.connection_error(driver)
    assert "s3cret-value" not in error.cause
    assert error.cause.count("FATAL") == 1
    assert "LAKEHOUSE_POSTGRES_PASSWORD" in error.fix


@pytest.mark.parametrize(
    ("kind", "postgres", "mysql"),
    [
        (pa.int64(), "bigint", "bigint"),
        (pa.int32(), "integer", "int"),
        (pa.bool_(), "boolean", "boolean"),
        (pa.decimal128(12, 2), "numeric(12,2)", "decimal(12,2)"),
        (pa.timestamp("us", tz="UTC"), "timestamptz", "timestamp(6)"),
        (pa.timestamp("us"), "timestamp", "datetime(6)"),
        (pa.string(), "text", "text"),
        (pa.date32(), "date", "date"),
    ],
)
def test_arrow_types_become_each_servers_own(kind: pa.DataType, postgres: str, mysql: str) -> None:
    assert postgres_type(kind) == postgres
    assert mysql_type(kind, key=False) == mysql


def test_a_mysql_string_key_is_an_indexable_varchar() -> None:
    assert mysql_type(pa.string(), key=True) == "varchar(255)"


def test_last_row_per_key_wins_within_a_batch() -> None:
    rows = pa.table({"id": [1, 2, 1], "v": ["old", "b", "new"]})
    assert last_per_key(rows, ["id"]).to_pylist() == [{"id": 2, "v": "b"}, {"id": 1, "v": "new"}]


def test_loader_source_files_validate_and_reference_the_password(tmp_path: Path) -> None:
    targets = [
        parse_target("postgres", f"postgresql://app:{ENCODED}@127.0.0.1:6543/company_production?sslmode=require"),
        parse_target("mysql", f"mariadb://app:{ENCODED}@127.0.0.1:3307"),
    ]
    for path in write_loader_sources(tmp_path, targets):
        assert SECRET not in path.read_text()
        config = load_source_config(path)
        assert config.type == path.stem and config.source == path.stem
        assert config.options["password"] == f"${{LAKEHOUSE_{path.stem.upper()}_PASSWORD}}"
        assert [s.name for s in config.streams] == [spec.stream for spec in SYSTEMS[path.stem].streams]
        assert all(s.mode.value == "merge" and s.extra["deletes"] == "reconcile" for s in config.streams)
    postgres = load_source_config(tmp_path / "postgres.yml")
    assert postgres.options["sslmode"] == "require" and postgres.stream("users").extra["table"] == "public.users"


def test_the_command_documents_where_uris_and_passwords_come_from() -> None:
    result = CliRunner().invoke(lakehouse.cli.app, ["company", "publish", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "LAKEHOUSE_POSTGRES_URI" in result.output and "LAKEHOUSE_MYSQL_PASSWORD" in result.output


def test_the_command_without_a_server_says_what_to_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("LAKEHOUSE_POSTGRES_URI", "LAKEHOUSE_MYSQL_URI"):
        monkeypatch.delenv(variable, raising=False)
    result = CliRunner().invoke(lakehouse.cli.app, ["company", "publish"])
    assert result.exit_code == 2
    assert "error: no server to publish to" in result.output and "--postgres" in result.output
