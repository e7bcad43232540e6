"""Every seed system's generated data lands in bronze through the embedded sources, and three
incremental days later bronze still reconciles with what the generator wrote: nothing twice, nothing lost.
"""

from __future__ import annotations

import pytest
from deltalake import DeltaTable

from company import generate, generate_increment
from company.manifest import Manifest
from lakehouse.core.storage import LakehouseRoot
from lakehouse.source_files import all_sources
from loaders.core.result import StreamResult
from loaders.pipeline import load_source

SCALE = 0.2
HISTORY_DAYS = 30


@pytest.fixture(scope="module")
def rounds(tmp_path_factory: pytest.TempPathFactory) -> tuple[LakehouseRoot, Manifest, list[list[StreamResult]]]:
    """The history loaded, then three incremental days, each loaded: the results of each of the four rounds."""
    home = tmp_path_factory.mktemp("company-home")
    root_dir = tmp_path_factory.mktemp("company-root")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("LAKEHOUSE_HOME", str(home))
        monkeypatch.delenv("LAKEHOUSE_SOURCES", raising=False)
        folder = home / "samples" / "company"
        generate(folder, seed=7, scale=SCALE, days=HISTORY_DAYS)
        root = LakehouseRoot.parse(str(root_dir))
        configs = all_sources()
        loads = [load_all(root, configs)]
        for day in range(HISTORY_DAYS, HISTORY_DAYS + 3):
            manifest = generate_increment(folder, day, seed=7, scale=SCALE)
            loads.append(load_all(root, configs))
    return root, manifest, loads


@pytest.fixture(scope="module")
def landed(rounds) -> tuple[LakehouseRoot, Manifest, list[StreamResult]]:
    root, manifest, loads = rounds
    return root, manifest, [result for results in loads for result in results]


def load_all(root: LakehouseRoot, configs) -> list[StreamResult]:
    return [result for config in configs for result in load_source(root, config)]


def quarantined_rows(root: LakehouseRoot, source: str, stream: str) -> int:
    table = DeltaTable(f"{root.uri}/bronze/_quarantine").to_pyarrow_table(columns=["source", "stream"])
    sources, streams = table["source"].to_pylist(), table["stream"].to_pylist()
    return sum(1 for s, t in zip(sources, streams, strict=True) if (s, t) == (source, stream))


def test_every_seed_system_and_stream_lands_in_bronze(landed) -> None:
    root, manifest, results = landed
    assert all(r.status == "success" for r in results), [(r.source, r.stream, r.error) for r in results]
    assert len(manifest.systems) >= 28
    for system, streams in manifest.systems.items():
        for stream in streams.streams:
            table = DeltaTable(root.bronze_uri(system, stream))
            assert table.count() > 0, f"bronze {system}.{stream} is empty"


def test_after_three_incremental_days_bronze_reconciles_with_the_generator(landed) -> None:
    """Every generated row is in bronze or in quarantine exactly once, across the history and 3 days."""
    root, manifest, _ = landed
    assert sorted(manifest.batches)[-3:] == ["day=2026-01-31", "day=2026-02-01", "day=2026-02-02"]
    total_quarantined = 0
    for system, streams in manifest.systems.items():
        for stream, stats in streams.streams.items():
            bronze = DeltaTable(root.bronze_uri(system, stream)).count()
            quarantined = quarantined_rows(root, system, stream)
            assert bronze + quarantined == stats.row_count, (system, stream, bronze, quarantined, stats.row_count)
            # Dirty lines are either unparseable (quarantined) or mistyped (loaded, value rescued).
            assert quarantined <= stats.dirty_count, (system, stream)
            total_quarantined += quarantined
    assert total_quarantined > 0


def test_each_load_reads_exactly_the_records_the_generator_wrote_since_the_last(rounds) -> None:
    """rows_read per load against the generator's own per-batch counts (every line or row it wrote,
    dirty ones included): the history's batches for the first round, then one day's batch per round."""
    _, manifest, loads = rounds
    for number, results in enumerate(loads):
        for result in results:
            stats = manifest.systems[result.source].streams[result.stream]
            batches = sorted(stats.batches)
            new = batches[: len(batches) - 3] if number == 0 else [batches[len(batches) - 4 + number]]
            written = sum(stats.batches[b].row_count for b in new)
            where = (number, result.source, result.stream, result.rows_read, written)
            assert result.rows_read == written, where
            assert result.rows_loaded + result.rows_quarantined == written, where


def test_only_dirty_records_carry_rescued_values(landed) -> None:
    """A mistyped value is rescued alone: clean rows keep every column, nested objects included."""
    root, manifest, _ = landed
    for system, streams in manifest.systems.items():
        for stream, stats in streams.streams.items():
            table = DeltaTable(root.bronze_uri(system, stream)).to_pyarrow_table(columns=["_rescued_data"])
            rescued = table.num_rows - table["_rescued_data"].null_count
            quarantined = quarantined_rows(root, system, stream)
            assert rescued + quarantined <= stats.dirty_count, (system, stream, rescued, quarantined, stats.dirty_count)
