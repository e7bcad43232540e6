"""The `lakehouse` commands of the loaders: load, sources check, sources discover, maintain."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import lakehouse.cli.errors
from lakehouse.core.storage import LakehouseRoot
from tests.helpers.loader_io import bronze_exists, bronze_rows, ledger_rows, write_csv, write_jsonl, write_source


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "root").mkdir()
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("LAKEHOUSE_SOURCES", str(tmp_path))
    monkeypatch.setattr(lakehouse.cli.errors.console, "width", 250)
    write_csv(tmp_path / "data" / "orders" / "1.csv", ["order_id", "amount"], [(i, i * 2) for i in range(300)])
    records: list[dict | str] = [{"event_id": i, "kind": "view"} for i in range(50)] + ["{oops"]
    write_jsonl(tmp_path / "data" / "events" / "1.jsonl", records)
    streams = [
        {"name": "orders", "format": "csv", "primary_key": ["order_id"], "batch_rows": 100},
        {"name": "events", "format": "jsonl", "primary_key": ["event_id"]},
    ]
    write_source(tmp_path, streams, source="shop")
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(lakehouse.cli.app, list(args))
    return result.exit_code, result.output


def test_load_reports_counts_per_stream(workspace: Path) -> None:
    code, output = run("load", "shop")
    assert code == 0, output
    orders = next(line for line in output.splitlines() if "│ orders" in line)
    assert "success" in orders and "300" in orders
    events = next(line for line in output.splitlines() if "│ events" in line)
    assert [cell.strip() for cell in events.split("│")[4:7]] == ["51", "50", "1"]  # read, loaded, quarantined
    root = LakehouseRoot.parse(str(workspace / "root"))
    assert len(ledger_rows(root)) == 2


def test_load_one_stream_with_full_refresh(workspace: Path) -> None:
    assert run("load", "shop", "--stream", "orders")[0] == 0
    code, output = run("load", "shop", "--stream", "orders", "--full-refresh")
    assert code == 0 and "full_refresh" in output
    root = LakehouseRoot.parse(str(workspace / "root"))
    assert len(bronze_rows(root, "shop", "orders")) == 300
    assert not bronze_exists(root, "shop", "events")


def test_sources_check_reports_each_source(workspace: Path) -> None:
    write_source(workspace, [{"name": "x"}], source="broken", options={"path": "missing-folder"})
    code, output = run("sources", "check")
    assert code == 1
    assert "shop" in output and "ok" in output
    assert "broken" in output and "does not exist" in output and "fix:" in output


def test_sources_discover_prints_schemas_and_writes_nothing(workspace: Path) -> None:
    code, output = run("sources", "discover", "shop")
    assert code == 0, output
    assert "order_id: int64" in output and "amount: int64" in output
    assert "event_id: int64" in output and "kind: string" in output
    assert "1 unparseable record(s)" in output
    assert list((workspace / "root").iterdir()) == []


def test_maintain_compacts_and_vacuums(workspace: Path) -> None:
    assert run("load", "shop")[0] == 0
    code, output = run("maintain", "shop", "--dry-run", "--vacuum", "--retention-hours", "0")
    assert code == 0 and "dry run" in output
    code, output = run("maintain", "--vacuum", "--retention-hours", "0")
    assert code == 0, output
    orders = next(line for line in output.splitlines() if "shop.orders" in line)
    assert "3 → 1" in orders
    assert "_ledger" in output and "_quarantine" in output
