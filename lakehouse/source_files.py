"""Where source definitions live: `sources/embedded/*.yml` (the embedded default: the
generated company and the sample shop), or the folder named by LAKEHOUSE_SOURCES."""

from __future__ import annotations

import os
from pathlib import Path

from lakehouse.core.errors import ConfigError
from lakehouse.core.home import PROJECT_DIR, lakehouse_home
from loaders.core.config import SourceConfig, load_source_config

DEFAULT_SOURCES_DIR = PROJECT_DIR / "sources" / "embedded"


def sources_dir() -> Path:
    # Source files reference ${LAKEHOUSE_HOME} (where the generated samples live); give it its default.
    os.environ.setdefault("LAKEHOUSE_HOME", str(lakehouse_home()))
    folder = Path(os.environ.get("LAKEHOUSE_SOURCES", DEFAULT_SOURCES_DIR)).expanduser().resolve()
    if not folder.is_dir():
        raise ConfigError(
            f"LAKEHOUSE_SOURCES={folder} is not a folder",
            "point LAKEHOUSE_SOURCES at the folder holding the source .yml files, or unset it",
        )
    return folder


def all_sources() -> list[SourceConfig]:
    return [load_source_config(path) for path in sorted(sources_dir().glob("*.yml"))]


def find_source(name: str) -> SourceConfig:
    path = sources_dir() / f"{name}.yml"
    if not path.exists():
        known = ", ".join(p.stem for p in sorted(sources_dir().glob("*.yml")))
        raise ConfigError(f"no source named {name!r} in {sources_dir()}", f"use one of: {known}")
    return load_source_config(path)
