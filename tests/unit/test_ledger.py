"""The load ledger keeps exactly one row per load attempt, also when a write is retried after an outcome
it could not know (the commit landed, then the call failed), on a local Delta folder."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import loaders.core.ledger as ledger_module
from lakehouse.core.storage import LakehouseRoot
from loaders.core.ledger import KILLED_ERROR, Ledger, LedgerEntry

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def entry(load_id: str, status: str = "running", rows: int = 0) -> LedgerEntry:
    return LedgerEntry(
        load_id=load_id, pipeline="files", source="shopify", stream="orders", mode="append", status=status,
        rows_read=rows, rows_loaded=rows, rows_quarantined=0, rows_rescued=0, bytes=0, batches=1 if rows else 0,
        started_at=NOW, finished_at=NOW, duration_s=0.0, error=None, cursor_before=None, cursor_after=None,
    )  # fmt: skip


def rows_by_id(ledger: Ledger) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for row in ledger.read().to_pylist():
        found.setdefault(row["load_id"], []).append(row)
    return found


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(LakehouseRoot.parse(str(tmp_path)))


@pytest.fixture
def lost_replies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each ledger write commits, then its first call fails as if the reply was lost (an object-store error)."""
    real = ledger_module.write_deltalake
    failed: list[str] = []

    def commit_then_fail(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)
        mode = kwargs.get("mode", "append")
        if mode not in failed:
            failed.append(mode)
            raise OSError("connection reset after the commit")

    monkeypatch.setattr(ledger_module, "write_deltalake", commit_then_fail)
    monkeypatch.setattr(ledger_module, "_WRITE_RETRY", replace(ledger_module._WRITE_RETRY, sleep=lambda _: None))
    return failed


def test_a_load_has_one_row_from_running_to_its_outcome(ledger: Ledger) -> None:
    ledger.start(entry("L1"))
    assert [r["status"] for r in rows_by_id(ledger)["L1"]] == ["running"]
    ledger.record(entry("L1", "success", rows=5))
    rows = rows_by_id(ledger)["L1"]
    assert [(r["status"], r["rows_loaded"]) for r in rows] == [("success", 5)]


def test_the_next_load_marks_a_load_left_running_as_killed(ledger: Ledger) -> None:
    ledger.start(entry("L1"))
    ledger.start(entry("L2"))
    rows = rows_by_id(ledger)
    assert [(r["status"], r["error"]) for r in rows["L1"]] == [("killed", KILLED_ERROR)]
    assert [r["status"] for r in rows["L2"]] == ["running"]


def test_writes_retried_after_a_lost_reply_leave_one_row(ledger: Ledger, lost_replies: list[str]) -> None:
    ledger.start(entry("L1"))
    assert lost_replies == ["append"]
    assert [r["status"] for r in rows_by_id(ledger)["L1"]] == ["running"]
    ledger.record(entry("L1", "success", rows=3))
    assert lost_replies == ["append", "overwrite"]
    assert [(r["status"], r["rows_loaded"]) for r in rows_by_id(ledger)["L1"]] == [("success", 3)]


def test_an_outcome_without_a_running_row_is_added(ledger: Ledger) -> None:
    ledger.record(entry("L9", "failed"))
    assert [r["status"] for r in rows_by_id(ledger)["L9"]] == ["failed"]
