"""Bad configuration, end to end through the pipeline and `lakehouse load`: each error names the file,
the key (or stream) and the fix, and nothing is written to bronze."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import lakehouse.cli.errors
from lakehouse.core.errors import ConfigError
from lakehouse.core.storage import LakehouseRoot
from loaders.pipeline import load_source
from tests.helpers.loader_io import bronze_exists, ledger_rows, source_config, write_csv, write_source


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "root").mkdir()
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("LAKEHOUSE_SOURCES", str(tmp_path))
    monkeypatch.setattr(lakehouse.cli.errors.console, "width", 250)
    write_csv(tmp_path / "data" / "orders" / "1.csv", ["order_id", "updated_at"], [(1, "2026-01-01")])
    return tmp_path


def cli_load(source: str) -> tuple[int, str]:
    result = CliRunner().invoke(lakehouse.cli.app, ["load", source])
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


def test_unknown_source_type(workspace: Path) -> None:
    path = write_source(workspace, [{"name": "orders"}], source="shop", type_="filez")
    code, output = cli_load("shop")
    assert code == 2
    assert f"{path}: key `type`: unknown source type 'filez'" in output
    assert re.search(r"fix: use one of: [a-z_, ]*\bfiles\b", output)


def test_missing_secret(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOP_EXPORT_DIR", raising=False)
    path = write_source(workspace, [{"name": "orders"}], source="shop", options={"path": "${SHOP_EXPORT_DIR}"})
    code, output = cli_load("shop")
    assert code == 2
    assert f"{path}: options.path needs the secret ${{SHOP_EXPORT_DIR}}, which is not set" in output
    assert "fix: export SHOP_EXPORT_DIR=..." in output
    root = LakehouseRoot.parse(str(workspace / "root"))
    assert [e["status"] for e in ledger_rows(root)] == ["failed"]  # the failed load is on record


def test_invalid_cursor_column(workspace: Path) -> None:
    path = write_source(workspace, [{"name": "orders", "cursor_field": "modified_at"}], source="shop")
    root = LakehouseRoot.parse(str(workspace / "root"))
    with pytest.raises(ConfigError) as caught:
        load_source(root, source_config(path))
    cause, fix = caught.value.cause, caught.value.fix
    assert f"{path}: stream 'orders': key `cursor_field` names 'modified_at'" in cause
    assert "available columns: order_id, updated_at" in cause
    assert "set `cursor_field` to columns the stream has" in fix and str(path) in fix
    assert not bronze_exists(root, "shop", "orders")
    code, output = cli_load("shop")
    assert code == 1 and "key `cursor_field` names 'modified_at'" in output and "fix: set `cursor_field`" in output


def test_invalid_schema_policy_is_refused_before_loading(workspace: Path) -> None:
    write_source(workspace, [{"name": "orders", "schema_policy": "strict"}], source="shop")
    code, output = cli_load("shop")
    assert code == 2
    assert "key `streams[0].schema_policy (stream 'orders')`" in output
    assert "'evolve', 'freeze' or 'rescue'" in output
