"""The generated company as the embedded default's source data: created once, advanced a day at a time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from company import generate, generate_increment
from lakehouse.core.home import lakehouse_home

SEED = 7
HISTORY_DAYS = 30


@dataclass
class CompanyData:
    folder: Path
    seed: int
    scale: float
    last_day: str
    days_generated: int

    def next_day(self) -> int:
        """Generate the next day's changes; returns the day number written."""
        day = self.days_generated
        manifest = generate_increment(self.folder, day, seed=self.seed, scale=self.scale)
        self.last_day = manifest.last_day
        self.days_generated += 1
        return day


def company_folder() -> Path:
    return lakehouse_home() / "samples" / "company"


def ensure_company(*, scale: float = 1.0) -> CompanyData:
    """Generate the company's history on first use (deterministic: seed 7), else reuse it."""
    folder = company_folder()
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        generate(folder, seed=SEED, scale=scale, days=HISTORY_DAYS)
    manifest = json.loads(manifest_path.read_text())
    days = HISTORY_DAYS + sum(1 for batch in manifest["batches"] if not batch.endswith("-history"))
    return CompanyData(folder, manifest["seed"], manifest["scale"], manifest["last_day"], days)
