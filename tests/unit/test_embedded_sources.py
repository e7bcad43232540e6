"""The embedded default's source definitions: one per generated system, valid, and in step with the generator."""

from __future__ import annotations

import pytest

from company.sources import EMBEDDED_DIR, source_yaml
from company.systems import SYSTEMS
from loaders.core.config import load_source_config


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_committed_source_file_matches_the_generator(name: str) -> None:
    path = EMBEDDED_DIR / f"{name}.yml"
    assert path.exists(), f"run `python -m company.sources` to write {path}"
    assert path.read_text() == source_yaml(SYSTEMS[name]), f"{path} is stale: regenerate it"


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_source_file_validates_and_lists_every_stream(name: str) -> None:
    config = load_source_config(EMBEDDED_DIR / f"{name}.yml")
    assert config.type == "files"
    assert [s.name for s in config.streams] == [spec.stream for spec in SYSTEMS[name].streams]
