"""The manifest: what was generated, in which format, keyed how, and how many rows each batch holds.

``<out_dir>/manifest.json``::

    {"generator": "company", "version": 1, "seed": 7, "scale": 1.0,
     "start": "2026-01-01", "last_day": "2026-01-30", "batches": ["day=2026-01-30-history", "day=2026-01-31"],
     "total_rows": 149989,
     "systems": {"<system>": {"kind": "sql|warehouse|nosql|stream|saas|files|iot",
        "streams": {"<stream>": {
            "format": "parquet|jsonl|csv", "primary_key": ["id"], "cursor_field": "updated_at" | null,
            "frequency": "real-time|hourly|daily|weekly|monthly", "native_name": "<the source's own name>",
            "row_count": 0, "dirty_count": 0, "delete_count": 0,
            "batches": {"<batch>": {"file": "<system>/<stream>/<batch>.<ext>" | null, "row_count": 0,
                                    "dirty_count": 0, "delete_count": 0, "deletes_file": "..." | null,
                                    "injection": {"kind": "...", "factor": 0.1, ...} | null}}}}}}}

Counts cover every line or row written, dirty lines included; stream totals sum the batches.
Key and cursor fields are dotted paths into a record (``segments.date``); DynamoDB items name the
attribute inside ``Item``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

GENERATOR = "company"
MANIFEST_VERSION = 1


@dataclass
class BatchStats:
    file: str | None  # relative to the output folder; None when a file drop had nothing that day
    row_count: int
    dirty_count: int = 0
    delete_count: int = 0
    deletes_file: str | None = None
    injection: dict[str, Any] | None = None


@dataclass
class StreamManifest:
    format: str
    primary_key: list[str]
    cursor_field: str | None
    frequency: str
    native_name: str
    row_count: int = 0  # every line/row written over all batches, dirty lines included
    dirty_count: int = 0
    delete_count: int = 0
    batches: dict[str, BatchStats] = field(default_factory=dict)

    def add(self, batch: str, stats: BatchStats) -> None:
        self.batches[batch] = stats
        self.batches = dict(sorted(self.batches.items()))  # names sort in load order
        self.row_count = sum(b.row_count for b in self.batches.values())
        self.dirty_count = sum(b.dirty_count for b in self.batches.values())
        self.delete_count = sum(b.delete_count for b in self.batches.values())


@dataclass
class SystemManifest:
    kind: str
    streams: dict[str, StreamManifest] = field(default_factory=dict)


@dataclass
class Manifest:
    seed: int
    scale: float
    start: str
    last_day: str
    systems: dict[str, SystemManifest] = field(default_factory=dict)
    generator: str = GENERATOR
    version: int = MANIFEST_VERSION

    @property
    def batches(self) -> list[str]:
        names = {b for s in self.systems.values() for st in s.streams.values() for b in st.batches}
        return sorted(names)

    @property
    def total_rows(self) -> int:
        return sum(st.row_count for s in self.systems.values() for st in s.streams.values())

    def to_json(self) -> str:
        body = asdict(self)
        body["batches"] = self.batches
        body["total_rows"] = self.total_rows
        ordered = {
            k: body[k] for k in ("generator", "version", "seed", "scale", "start", "last_day", "batches", "total_rows")
        }
        ordered["systems"] = body["systems"]
        return json.dumps(ordered, indent=2) + "\n"

    def save(self, out_dir: Path) -> None:
        (out_dir / "manifest.json").write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        raw = json.loads(text)
        systems = {
            name: SystemManifest(
                kind=sysd["kind"],
                streams={sname: _stream(st) for sname, st in sysd["streams"].items()},
            )
            for name, sysd in raw["systems"].items()
        }
        return cls(raw["seed"], raw["scale"], raw["start"], raw["last_day"], systems)

    @classmethod
    def load(cls, out_dir: Path) -> Manifest | None:
        path = out_dir / "manifest.json"
        return cls.from_json(path.read_text(encoding="utf-8")) if path.exists() else None

    def merge(self, other: Manifest) -> Manifest:
        """This manifest with `other`'s batches added (a batch present in both is replaced)."""
        if (self.seed, self.scale, self.start) != (other.seed, other.scale, other.start):
            raise ValueError(
                f"the folder holds data for seed={self.seed} scale={self.scale} start={self.start}; "
                f"an increment for seed={other.seed} scale={other.scale} start={other.start} cannot join it"
            )
        for name, sysd in other.systems.items():
            mine = self.systems.setdefault(name, SystemManifest(sysd.kind))
            for sname, st in sysd.streams.items():
                target = mine.streams.setdefault(
                    sname, StreamManifest(st.format, st.primary_key, st.cursor_field, st.frequency, st.native_name)
                )
                for batch, stats in st.batches.items():
                    target.add(batch, stats)
        self.last_day = max(self.last_day, other.last_day)
        return self


def _stream(raw: dict[str, Any]) -> StreamManifest:
    batches = {name: BatchStats(**stats) for name, stats in raw["batches"].items()}
    st = StreamManifest(raw["format"], raw["primary_key"], raw["cursor_field"], raw["frequency"], raw["native_name"])
    for name, stats in batches.items():
        st.add(name, stats)
    return st
