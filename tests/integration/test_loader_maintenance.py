"""Maintenance on a local folder and on S3: compaction merges the small files of batch-by-batch loads,
vacuum deletes what nothing references, and neither disturbs a stream's state."""

from __future__ import annotations

from pathlib import Path

from lakehouse.core.storage import LakehouseRoot
from loaders.core.delta import open_table
from loaders.core.maintenance import MaintenanceTarget, maintain, targets
from loaders.pipeline import load_source
from tests.helpers.loader_io import bronze_rows, source_config, write_csv, write_source


def test_compact_then_vacuum_keeps_data_and_state(root: LakehouseRoot, tmp_path: Path) -> None:
    write_csv(tmp_path / "data" / "items" / "1.csv", ["item_id"], [(i,) for i in range(400)])
    config = source_config(write_source(tmp_path, [{"name": "items", "primary_key": ["item_id"], "batch_rows": 40}]))
    load_source(root, config)
    target = MaintenanceTarget("src.items", root.bronze_uri("src", "items"))

    dry = maintain(root, target, vacuum=True, retention_hours=0, dry_run=True)
    assert dry.files_before == 10 and dry.files_after == 10 and dry.files_vacuumed == 0

    compacted = maintain(root, target)
    assert (compacted.files_before, compacted.files_compacted, compacted.files_after) == (10, 10, 1)

    would = maintain(root, target, vacuum=True, retention_hours=0, dry_run=True)
    assert would.files_vacuumed == 10
    vacuumed = maintain(root, target, vacuum=True, retention_hours=0)
    assert vacuumed.files_vacuumed == 10

    assert sorted(r["item_id"] for r in bronze_rows(root, "src", "items")) == list(range(400))
    write_csv(tmp_path / "data" / "items" / "2.csv", ["item_id"], [(i,) for i in range(400, 450)])
    [after] = load_source(root, config)  # the cursor survived: only the new file is read
    assert after.rows_read == 50
    assert len(bronze_rows(root, "src", "items")) == 450


def test_targets_cover_streams_ledger_and_quarantine(root: LakehouseRoot, tmp_path: Path) -> None:
    write_csv(tmp_path / "data" / "items" / "1.csv", ["item_id"], [(1,)])
    config = source_config(write_source(tmp_path, [{"name": "items"}, {"name": "other"}]))
    load_source(root, config)
    found = targets(root, [config])
    assert [t.label for t in found] == ["src.items", "src.other", "_ledger", "_quarantine"]
    results = {t.label: maintain(root, t, vacuum=True) for t in found}
    assert results["_ledger"].exists and not results["_quarantine"].exists  # nothing was quarantined
    assert not results["src.other"].exists  # a stream with no data yet has no table to maintain
    assert open_table(root.bronze_uri("src", "other"), root.storage_options()) is None
