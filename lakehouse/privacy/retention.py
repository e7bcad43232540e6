"""Retention: rows older than their classification's years are deleted, in every layer.

The years per classification are the ones the infrastructure tags objects with
(infra/lakehouse_infra/config.py, RETENTION_YEARS; a test keeps the two equal). Classifications come from
the `data_classification` seed (dbt/seeds), which a test keeps equal to the dbt YAML's column `meta`.

- Bronze (delta-rs, no Spark): a stream's rows by `_loaded_at`; the stream's classification is the
  strictest of its staging model's columns, `internal` when none is classified.
- Silver, snapshots, marts (Spark `DELETE` through the Thrift server, as the erasure deletes there): every
  Delta table of the databases in retention.yml, dated by the columns retention.yml gives its layer
  (silver `_loaded_at`, snapshots `dbt_valid_to`, each mart its business date); the table's classification
  is the strictest of its rows in the seed (a `*` row classifies the whole model), `internal` when none.

Dry run by default (counts only); `apply=True` deletes. The deleted rows stay in the tables' earlier
versions until a VACUUM removes those files (Delta's default retention: 7 days).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import yaml

from lakehouse.core.errors import ConfigError
from lakehouse.core.home import PROJECT_DIR
from lakehouse.core.storage import LakehouseRoot
from lakehouse.privacy.spark_tables import count_rows, delta_tables, spark_delete, table_columns

RETENTION_YEARS: dict[str, int] = {"public": 3, "internal": 5, "confidential": 7, "pii": 3, "restricted": 10}
# Strictest last: a stream or table takes the strictest classification of its columns.
STRICTNESS = ("public", "internal", "confidential", "pii", "restricted")
DEFAULT_CLASSIFICATION = "internal"
CLASSIFICATION_SEED = PROJECT_DIR / "dbt" / "seeds" / "data_classification.csv"
POLICY_FILE = Path(__file__).with_name("retention.yml")
LAYERS = ("bronze", "silver", "snapshots", "marts")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LAYER_PREFIXES = {"slv_": "silver", "int_": "silver", "snp_": "snapshots"}


@dataclass
class RetentionResult:
    table: str  # bronze: source.stream; other layers: database.table
    classification: str
    years: int
    cutoff: datetime
    expired_rows: int  # rows older than the cutoff (deleted when applied)
    applied: bool
    layer: str = "bronze"
    dated_by: list[str] = field(default_factory=lambda: ["_loaded_at"])  # empty: not dated, nothing deleted
    note: str | None = None  # why a table is not dated


def _stricter(current: str | None, candidate: str) -> str:
    if current is None or STRICTNESS.index(candidate) > STRICTNESS.index(current):
        return candidate
    return current


def stream_classifications(seed: Path = CLASSIFICATION_SEED) -> dict[str, str]:
    """`source.stream` -> its strictest column classification, from the staging rows of the seed."""
    found: dict[str, str] = {}
    with seed.open(newline="") as handle:
        for row in csv.DictReader(handle):
            model = row["model_name"]
            if row["layer"] != "staging" or not model.startswith("stg_") or "__" not in model:
                continue
            source, stream = model[len("stg_") :].split("__", 1)
            found[f"{source}.{stream}"] = _stricter(found.get(f"{source}.{stream}"), row["classification"])
    return found


def table_classifications(seed: Path = CLASSIFICATION_SEED) -> dict[str, str]:
    """dbt model name -> its strictest classification, from the silver, snapshot and mart rows of the seed."""
    found: dict[str, str] = {}
    with seed.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["layer"] in {"silver", "snapshots", "marts"}:
                found[row["model_name"]] = _stricter(found.get(row["model_name"]), row["classification"])
    return found


def cutoff_for(years: int, now: datetime) -> datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


# -- bronze -----------------------------------------------------------------------------------------


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


# -- silver, snapshots, marts -----------------------------------------------------------------------


@dataclass(frozen=True)
class LayerPolicy:
    """retention.yml: the databases dbt builds and what dates a row in each layer."""

    databases: dict[str, str]  # database -> layer (silver | snapshots | marts)
    dated_by: dict[str, list[str]]  # silver / snapshots -> columns
    marts: dict[str, list[str]]  # mart model -> columns

    @classmethod
    def load(cls, path: Path = POLICY_FILE) -> LayerPolicy:
        data = yaml.safe_load(path.read_text()) or {}
        policy = cls(
            databases=dict(data.get("databases") or {}),
            dated_by={layer: list(data.get(layer) or []) for layer in ("silver", "snapshots")},
            marts={name: list(columns or []) for name, columns in (data.get("marts") or {}).items()},
        )
        policy.validate(path)
        return policy

    def validate(self, path: Path) -> None:
        layers = set(LAYERS) - {"bronze"}
        bad_layers = {database: layer for database, layer in self.databases.items() if layer not in layers}
        if bad_layers:
            raise ConfigError(f"{path}: key `databases`: unknown layers {bad_layers}", f"use one of {sorted(layers)}")
        columns = [column for columns in [*self.dated_by.values(), *self.marts.values()] for column in columns]
        names = [*self.databases, *self.marts, *columns]
        bad = [name for name in names if not _IDENTIFIER.match(str(name))]
        if bad:
            raise ConfigError(f"{path}: invalid database, table or column names {bad}", "use plain dbt names")

    def layer_of(self, database: str, table: str) -> str:
        for prefix, layer in _LAYER_PREFIXES.items():
            if table.startswith(prefix):
                return layer
        return self.databases[database]

    def columns_for(self, layer: str, table: str) -> list[str]:
        return self.marts.get(table, []) if layer == "marts" else self.dated_by.get(layer, [])


@dataclass(frozen=True)
class TablePlan:
    """What retention does to one table: its classification, cutoff and the predicate of its expired rows."""

    layer: str
    table: str  # database.table
    classification: str
    years: int
    cutoff: datetime
    dated_by: list[str]
    note: str | None = None

    @property
    def predicate(self) -> str | None:
        if not self.dated_by:
            return None
        dated = ", ".join(f"`{column}`" for column in self.dated_by)
        expression = dated if len(self.dated_by) == 1 else f"greatest({dated})"  # greatest skips nulls
        cutoff = self.cutoff.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return f"{expression} < timestamp '{cutoff}'"  # the session time zone is UTC (local and EMR)


def plan_table(
    database: str,
    table: str,
    columns: dict[str, str],
    now: datetime,
    *,
    policy: LayerPolicy,
    classifications: dict[str, str],
    years: dict[str, int],
) -> TablePlan:
    layer = policy.layer_of(database, table)
    classification = classifications.get(table, DEFAULT_CLASSIFICATION)
    wanted = policy.columns_for(layer, table)
    missing = [column for column in wanted if column not in columns]
    note = None
    if not wanted:
        note = f"not dated: retention.yml gives the {layer} table {table} no date columns"
    elif missing:
        note = f"not dated: the table has no column {', '.join(missing)}"
    return TablePlan(
        layer,
        f"{database}.{table}",
        classification,
        years[classification],
        cutoff_for(years[classification], now),
        [] if note else wanted,
        note,
    )


def apply_layer_retention(
    cursor,
    *,
    layers: tuple[str, ...] = ("silver", "snapshots", "marts"),
    apply: bool = False,
    now: datetime | None = None,
    policy: LayerPolicy | None = None,
    classifications: dict[str, str] | None = None,
    years: dict[str, int] | None = None,
) -> list[RetentionResult]:
    """Count (and with `apply`, delete with Spark) the expired rows of every table of the layers' databases."""
    now = now or datetime.now(UTC)
    policy = policy or LayerPolicy.load()
    classifications = table_classifications() if classifications is None else classifications
    years = years or RETENTION_YEARS
    results = []
    for database in policy.databases:
        plans = [
            plan_table(
                database,
                table,
                table_columns(cursor, f"{database}.{table}"),
                now,
                policy=policy,
                classifications=classifications,
                years=years,
            )
            for table in delta_tables(cursor, database)
        ]
        plans = [plan for plan in plans if plan.layer in layers]
        # One counting query per database; a DELETE (a Delta transaction each) only where rows expired.
        counts = count_rows(cursor, {plan.table: plan.predicate for plan in plans if plan.predicate})
        for plan in plans:
            expired = counts.get(plan.table, 0)
            if apply and expired:
                expired = spark_delete(
                    cursor,
                    plan.table,
                    plan.predicate,
                    what="the expired rows",
                    fix="fix the cause and run the retention again (tables already done have nothing left to delete)",
                )
            results.append(
                RetentionResult(
                    plan.table,
                    plan.classification,
                    plan.years,
                    plan.cutoff,
                    expired,
                    apply,
                    layer=plan.layer,
                    dated_by=plan.dated_by,
                    note=plan.note,
                )
            )
    return results
