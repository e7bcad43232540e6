"""The public entry points: the history, and one further day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from company import truth, writer
from company.clock import batch_name, history_batch_name, sim_date
from company.inject import Injection, apply
from company.manifest import BatchStats, Manifest, StreamManifest, SystemManifest
from company.sim import simulate
from company.spec import ChangeSet, StreamDef, SystemDef, View
from company.systems import SYSTEMS

DEFAULT_START = date(2026, 1, 1)
_EVERYTHING = -1_000_000


def generate(
    out_dir: Path, *, seed: int = 7, scale: float = 1.0, start: date = DEFAULT_START, days: int = 30
) -> Manifest:
    """Write `days` days of history (start .. start+days-1) as each system's history batch
    (`day=<last day>-history`, see `clock.history_batch_name`).

    The manifest and ground truth are written afresh; files of earlier increments in `out_dir` are not
    removed, so start from an empty folder when re-generating a history.
    """
    _check(scale=scale, day=days - 1)
    world = simulate(seed, scale, start, days - 1)
    view = View(world, first=_EVERYTHING, last=days - 1, initial=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = _write(out_dir, view, history_batch_name(start, days), None)
    manifest.save(out_dir)
    truth.write(world, out_dir)
    return manifest


def generate_increment(
    out_dir: Path,
    day: int,
    *,
    seed: int = 7,
    scale: float = 1.0,
    start: date = DEFAULT_START,
    inject: Injection | None = None,
) -> Manifest:
    """Write the changes of simulation day `day` (0 is `start`), as batch ``day=YYYY-MM-DD``.

    After a history of N days, ``day=N`` is the first day after it. The manifest in `out_dir` gains the
    batch; the ground truth is rewritten to run through this day.
    """
    _check(scale=scale, day=day)
    if inject is not None:
        _check_source(inject.source)
    world = simulate(seed, scale, start, day)
    view = View(world, first=day, last=day, initial=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    batch = _write(out_dir, view, batch_name(start, day), inject)
    existing = Manifest.load(out_dir)
    manifest = existing.merge(batch) if existing else batch
    manifest.save(out_dir)
    truth.write(world, out_dir)
    return manifest


def _check_source(source: str) -> None:
    system, _, stream = source.partition(".")
    if system not in SYSTEMS:
        raise ValueError(f"unknown injection source {source!r}; systems are {sorted(SYSTEMS)}")
    streams = [spec.stream for spec in SYSTEMS[system].streams]
    if stream and stream not in streams:
        raise ValueError(f"{system} has no stream {stream!r}; it has {streams}")


def _check(*, scale: float, day: int) -> None:
    if scale <= 0:
        raise ValueError("scale must be > 0")
    if day < 0:
        raise ValueError("days must be >= 1 and an increment's day >= 0")


def _write(out_dir: Path, view: View, batch: str, inject: Injection | None) -> Manifest:
    world = view.world
    manifest = Manifest(world.seed, world.scale, world.start.isoformat(), sim_date(world.start, view.last).isoformat())
    for name, system in SYSTEMS.items():
        produced = system.project(view)
        entry = SystemManifest(system.kind)
        for spec in system.streams:
            stats = _write_stream(out_dir, view, system, spec, produced[spec.stream], batch, inject)
            st = StreamManifest(spec.fmt, list(spec.primary_key), spec.cursor_field, spec.frequency, spec.native_name)
            st.add(batch, stats)
            entry.streams[spec.stream] = st
        manifest.systems[name] = entry
    return manifest


def _write_stream(
    out_dir: Path,
    view: View,
    system: SystemDef,
    spec: StreamDef,
    data: ChangeSet,
    batch: str,
    inject: Injection | None,
) -> BatchStats:
    rows, added, retyped, described = data.rows, {}, {}, None
    if inject is not None and inject.applies(system.name, spec.stream):
        applied = apply(inject, spec, rows, view.seed, batch)
        rows, added, retyped = applied.rows, applied.added, applied.retyped
        described = {**inject.describe(), **({"added": added, "retyped": retyped} if added or retyped else {})}
    folder = out_dir / system.name / spec.stream
    rel = f"{system.name}/{spec.stream}/{batch}.{writer.extension(spec.fmt)}"
    stats = BatchStats(file=rel, row_count=len(rows), injection=described)
    if spec.fmt == "parquet":
        assert spec.schema is not None
        writer.write_parquet(out_dir / rel, writer.effective_schema(spec.schema, added, retyped), rows)
    elif spec.fmt == "jsonl":
        stats.dirty_count = writer.write_jsonl(out_dir / rel, spec, rows, view.seed, batch)
        stats.row_count += stats.dirty_count
    elif rows:
        writer.write_csv(out_dir / rel, spec, rows, added)
    else:
        stats.file = None  # nothing was dropped that day
    if data.deletes:
        deletes_rel = f"{system.name}/{spec.stream}/deletes/{batch}.jsonl"
        writer.write_plain_jsonl(folder / "deletes" / f"{batch}.jsonl", data.deletes)
        stats.delete_count, stats.deletes_file = len(data.deletes), deletes_rel
    return stats
