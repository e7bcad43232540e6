"""The command line stays readable: `lakehouse load`'s summary at 80 columns, dbt quiet in `lakehouse demo`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import lakehouse.cli.errors
from lakehouse.dbt_runner import log_file, run_dbt
from tests.helpers.loader_io import write_csv, write_source

LONG_STREAM = "customer_subscription_renewals"


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "root").mkdir()
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("LAKEHOUSE_SOURCES", str(tmp_path))
    write_csv(tmp_path / "data" / "orders" / "1.csv", ["order_id", "amount"], [(i, i * 2) for i in range(1234)])
    write_csv(tmp_path / "data" / LONG_STREAM / "1.csv", ["renewal_id"], [(i,) for i in range(7)])
    streams = [
        {"name": "orders", "format": "csv", "primary_key": ["order_id"]},
        {"name": LONG_STREAM, "format": "csv", "primary_key": ["renewal_id"]},
    ]
    write_source(tmp_path, streams, source="shop")
    return tmp_path


def load_output(width: int, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(lakehouse.cli.errors.console, "width", width)
    result = CliRunner().invoke(lakehouse.cli.app, ["load", "shop"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_load_summary_fits_80_columns_with_whole_headers(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = load_output(80, monkeypatch)
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Loaded shop into"))
    table = lines[start:]  # the log lines before it are the loader's structured log (stderr)
    assert max(len(line) for line in table) <= 80, output
    header = next(line for line in table if "stream" in line and "status" in line)
    assert header.split() == ["stream", "status", "read", "loaded", "rejected", "MB", "sec"], header
    orders = next(line for line in table if line.strip().startswith("orders"))
    assert orders.split()[1:5] == ["success", "1,234", "1,234", "0"], orders
    renewals = next(line for line in table if line.strip().startswith("customer_subscription"))
    assert renewals.split()[1:5] == ["success", "7", "7", "0"], renewals
    # numbers are right-aligned under their headers
    assert orders.index("1,234") + len("1,234") == header.index("read") + len("read")
    assert renewals.index(" 7 ") + 2 == header.index("read") + len("read")


def test_a_wide_terminal_also_shows_modes_and_cursors(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = load_output(160, monkeypatch)
    header = next(line for line in output.splitlines() if "stream" in line and "status" in line)
    cells = [cell.strip() for cell in re.split(r"[┃│]", header) if cell.strip()]
    assert cells == ["stream", "mode", "status", "read", "loaded", "quarantined", "rescued", "MB", "seconds", "cursor"]


def test_quiet_dbt_writes_its_log_to_the_file_not_the_terminal(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    events: list[str] = []
    outcome = run_dbt(["deps"], target="emr", quiet=True, on_event=lambda event: events.append(event.info.name))
    out, err = capfd.readouterr()
    assert outcome.success
    assert "Running with dbt" not in out + err and "Installing" not in out + err
    assert log_file() == tmp_path / "logs" / "dbt.log"
    assert "Running with dbt" in log_file().read_text()  # the full log is still there
    assert "MainReportVersion" in events  # progress can follow the run

    run_dbt(["deps"], target="emr")  # not quiet: dbt prints its log as before
    assert "Running with dbt" in capfd.readouterr().out
