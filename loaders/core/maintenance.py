"""Table maintenance for bronze: compaction and vacuum.

A load commits one batch per commit, so a busy stream collects many small files; `compact` rewrites
them into few large ones (readers get faster, nothing changes logically). `vacuum` then deletes the
files no version younger than the retention still references (default 7 days: a reader, or a time
travel query, older than that may fail). Neither touches the Delta log, which holds the loads' state.
"""

from __future__ import annotations

from dataclasses import dataclass

from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import SourceConfig
from loaders.core.delta import open_table

DEFAULT_RETENTION_HOURS = 168


@dataclass(frozen=True)
class MaintenanceTarget:
    label: str  # e.g. shop.orders, _ledger
    uri: str


@dataclass
class MaintenanceResult:
    label: str
    uri: str
    exists: bool = True
    files_before: int = 0
    files_after: int = 0
    files_compacted: int = 0  # small files rewritten
    files_written: int = 0  # large files they became
    files_vacuumed: int = 0  # deleted (or, in a dry run, that would be)
    dry_run: bool = False


def targets(
    root: LakehouseRoot, configs: list[SourceConfig], *, include_internal: bool = True
) -> list[MaintenanceTarget]:
    """Every stream's bronze table of `configs`, plus the ledger and quarantine tables."""
    found = [
        MaintenanceTarget(f"{config.source}.{stream.name}", root.bronze_uri(config.source, stream.name))
        for config in configs
        for stream in config.streams
    ]
    if include_internal:
        found += [MaintenanceTarget(name, f"{root.uri}/bronze/{name}") for name in ("_ledger", "_quarantine")]
    return found


def maintain(
    root: LakehouseRoot,
    target: MaintenanceTarget,
    *,
    vacuum: bool = False,
    retention_hours: int = DEFAULT_RETENTION_HOURS,
    dry_run: bool = False,
) -> MaintenanceResult:
    """Compact one table and, with `vacuum`, delete unreferenced files older than the retention."""
    options = root.storage_options()
    result = MaintenanceResult(target.label, target.uri, dry_run=dry_run)
    table = open_table(target.uri, options)
    if table is None:
        result.exists = False
        return result
    result.files_before = result.files_after = len(table.file_uris())
    if not dry_run:
        metrics = table.optimize.compact()
        result.files_compacted = int(metrics.get("numFilesRemoved", 0))
        result.files_written = int(metrics.get("numFilesAdded", 0))
        table.update_incremental()
        result.files_after = len(table.file_uris())
    if vacuum:
        # The retention is the caller's explicit choice, so delta-rs's own 7-day floor is not enforced.
        deleted = table.vacuum(retention_hours=retention_hours, dry_run=dry_run, enforce_retention_duration=False)
        result.files_vacuumed = len(deleted)
    return result
