"""The project folder and the local state folder (`LAKEHOUSE_HOME`)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def lakehouse_home() -> Path:
    """The project's local state folder (server state, metastore, logs, generated samples, default data root)."""
    return Path(os.environ.get("LAKEHOUSE_HOME", PROJECT_DIR / ".lakehouse")).resolve()
