"""Secrets: a password set in the environment and referenced as `${...}` never shows up anywhere.

The source here is a small database-like family defined in this module: it builds a DSN with the
password and tries to connect to a closed port, so the connection error quotes the DSN, just as real
drivers do. The test looks for the password in the raised exceptions (with their whole chain and
traceback), the structured logs, stdlib logging, stdout/stderr, the CLI's output, and every column of
the ledger and quarantine tables.
"""

from __future__ import annotations

import logging
import secrets
import socket
import traceback
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
import structlog
from typer.testing import CliRunner

import lakehouse.cli.errors
import loaders.registry
from lakehouse.core.errors import SourceError
from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import SourceConfig, StreamConfig
from loaders.core.protocol import Batch
from loaders.core.retry import RetryPolicy, TransientSourceError
from loaders.pipeline import load_source
from tests.helpers.loader_io import ledger_rows, quarantine_rows, source_config, write_source

SECRET = "pw-" + secrets.token_hex(8)
SECRET_ENV = "LH_TEST_CRM_PASSWORD"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CrmStream:
    def __init__(self, name: str, dsn: str, failure: str) -> None:
        self.config = StreamConfig(name=name, primary_key=["id"])
        self.dsn, self.failure = dsn, failure

    def read(self, cursor: str | None) -> Iterator[Batch]:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
        except OSError as exc:
            if self.failure == "transient":
                raise TransientSourceError(f"cannot connect to {self.dsn}: {exc}") from exc
            raise ConnectionRefusedError(f"could not connect to server {self.dsn}: {exc}") from exc
        yield Batch(pa.table({"id": [1]}), "1")

    @property
    def port(self) -> int:
        return int(self.dsn.rsplit(":", 1)[1].split("/")[0])


class CrmSource:
    """The family: `options.dsn` (with the password), `options.failure` (transient | driver | check)."""

    def __init__(self, config: SourceConfig) -> None:
        options = config.resolved_options()
        self.name, self.dsn, self.failure = config.source, options["dsn"], options["failure"]
        self._streams = [CrmStream(s.name, self.dsn, self.failure) for s in config.streams]

    def streams(self) -> list[CrmStream]:
        return self._streams

    def check(self) -> None:
        if self.failure == "check":
            raise SourceError(f"password authentication failed: {self.dsn}", f"check the password in {self.dsn}")


def build(config: SourceConfig) -> CrmSource:
    return CrmSource(config)


@pytest.fixture
def crm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The family registered as `crm_db`, the password in the environment, a root and a sources folder."""
    monkeypatch.setitem(loaders.registry.FAMILIES, "crm_db", __name__)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    (tmp_path / "root").mkdir()
    (tmp_path / "sources").mkdir()
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("LAKEHOUSE_SOURCES", str(tmp_path / "sources"))
    return tmp_path


def crm_source(folder: Path, failure: str, name: str = "crm") -> Path:
    options = {"dsn": f"postgresql://app:${{{SECRET_ENV}}}@127.0.0.1:{closed_port()}/crm", "failure": failure}
    streams = [{"name": "accounts", "primary_key": ["id"]}]
    return write_source(folder, streams, source=name, type_="crm_db", options=options)


def where_it_leaks(places: dict[str, str]) -> list[str]:
    """The names of the places holding the secret (never the text, so a failure does not print it)."""
    return [name for name, text in places.items() if SECRET in text]


def tables_text(root: LakehouseRoot) -> str:
    return repr(ledger_rows(root)) + repr(quarantine_rows(root))


@pytest.mark.parametrize("failure", ["transient", "driver", "check"])
def test_the_secret_never_leaks_from_a_failing_load(
    crm: Path, failure: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    root = LakehouseRoot.parse(str(crm / "root"))
    config = source_config(crm_source(crm / "sources", failure))
    with structlog.testing.capture_logs() as logs, pytest.raises(SourceError) as caught:
        load_source(root, config, retry=RetryPolicy(max_attempts=3, sleep=lambda _: None))
    error = caught.value
    [entry] = ledger_rows(root)
    assert entry["status"] == "failed" and "***" in entry["error"]  # recorded, and scrubbed
    if failure == "transient":
        assert [e["event"] for e in logs].count("load.retry") == 2
    captured = capsys.readouterr()
    leaks = where_it_leaks(
        {
            "exception": str(error) + repr(error),
            "traceback": "".join(traceback.format_exception(error)),
            "structlog": repr(logs),
            "logging": caplog.text,
            "stdout": captured.out,
            "stderr": captured.err,
            "ledger and quarantine": tables_text(root),
        }
    )
    assert leaks == []


def test_the_secret_never_leaks_through_the_cli(
    crm: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(lakehouse.cli.errors.console, "width", 200)
    crm_source(crm / "sources", "driver")
    crm_source(crm / "sources", "check", name="crm_auth")
    runner = CliRunner()
    outputs = {}
    for command in (["load", "crm"], ["sources", "check"], ["sources", "discover", "crm"]):
        result = runner.invoke(lakehouse.cli.app, command)
        assert result.exit_code != 0, result.output  # every command reports the failure
        outputs[" ".join(command)] = result.output
    assert "***" in outputs["load crm"] and "could not connect" in outputs["load crm"]
    assert "password authentication failed" in outputs["sources check"]
    captured = capsys.readouterr()
    outputs |= {"stdout": captured.out, "stderr": captured.err}
    outputs["ledger and quarantine"] = tables_text(LakehouseRoot.parse(str(crm / "root")))
    assert where_it_leaks(outputs) == []
