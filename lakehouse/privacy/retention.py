"""Retention: bronze rows older than their classification's years are deleted, by `_loaded_at`.

The years per classification are the ones the infrastructure tags objects with
(infra/lakehouse_infra/config.py, RETENTION_YEARS; a test keeps the two equal). A stream's classification
is the strictest of its staging columns' in the `data_classification` seed (dbt/seeds), `internal`
when none is classified. Dry run by default: `apply=True` deletes.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from lakehouse.core.home import PROJECT_DIR
from lakehouse.core.storage import LakehouseRoot

RETENTION_YEARS: dict[str, int] = {"public": 3, "internal": 5, "confidential": 7, "pii": 3, "restricted": 10}
# Strictest last: a stream takes the strictest classification of its columns.
STRICTNESS = ("public", "internal", "confidential", "pii", "restricted")
DEFAULT_CLASSIFICATION = "internal"
CLASSIFICATION_SEED = PROJECT_DIR / "dbt" / "seeds" / "data_classification.csv"


@dataclass
class RetentionResult:
    stream: str  # source.stream
    classification: str
    years: int
    cutoff: datetime
    expired_rows: int  # rows older than the cutoff (deleted when applied)
    applied: bool


def stream_classifications(seed: Path = CLASSIFICATION_SEED) -> dict[str, str]:
    """`source.stream` -> its strictest column classification, from the staging rows of the seed."""
    found: dict[str, str] = {}
    with seed.open(newline="") as handle:
        for row in csv.DictReader(handle):
            model = row["model_name"]
            if row["layer"] != "staging" or not model.startswith("stg_") or "__" not in model:
                continue
            source, stream = model[len("stg_") :].split("__", 1)
            key, classification = f"{source}.{stream}", row["classification"]
            if STRICTNESS.index(classification) > STRICTNESS.index(found.get(key, "public")):
                found[key] = classification
            found.setdefault(key, classification)
    return found


def cutoff_for(years: int, now: datetime) -> datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def apply_retention(
    root: LakehouseRoot,
    streams: list[tuple[str, str]],
    *,
    apply: bool = False,
    now: datetime | None = None,
    classifications: dict[str, str] | None = None,
    years: dict[str, int] | None = None,
) -> list[RetentionResult]:
    """Count (and with `apply`, delete) the expired rows of each existing bronze stream."""
    from deltalake import DeltaTable, QueryBuilder

    from loaders.core.bronze import BronzeTable

    now = now or datetime.now(UTC)
    classifications = stream_classifications() if classifications is None else classifications
    years = years or RETENTION_YEARS
    results = []
    for source, stream in streams:
        if not BronzeTable(root, source, stream).exists():
            continue
        classification = classifications.get(f"{source}.{stream}", DEFAULT_CLASSIFICATION)
        cutoff = cutoff_for(years[classification], now)
        table = DeltaTable(root.bronze_uri(source, stream), storage_options=root.storage_options())
        predicate = f"\"_loaded_at\" < '{cutoff.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}'"
        counted = QueryBuilder().register("t", table).execute(f"select count(*) from t where {predicate}")
        expired = int(pa.table(counted.read_all()).column(0)[0].as_py())
        if apply and expired:
            expired = int(table.delete(predicate).get("num_deleted_rows", 0))
        results.append(
            RetentionResult(f"{source}.{stream}", classification, years[classification], cutoff, expired, apply)
        )
    return results
