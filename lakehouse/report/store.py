"""Reading the observability tables (dbt/packages/lakehouse_observability) through the Thrift server.

Every table is optional: a project that never ran a test has no scores, one that never ran
`dbt source freshness` no freshness results. A missing table reads as empty, never as an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from lakehouse.core.errors import LakehouseError

ANOMALY_TESTS = (
    "volume_anomalies",
    "freshness_anomalies",
    "event_freshness_anomalies",
    "column_anomalies",
    "dimension_anomalies",
)
SAFE_NAME = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def default_schema() -> str:
    return os.environ.get("LAKEHOUSE_OBSERVABILITY_SCHEMA", "observability")


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _in_list(values: list[str]) -> str:
    return "(" + ", ".join(_literal(v) for v in values) + ")" if values else "(null)"


def _clean(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, Decimal):
        return float(value)
    return value


@dataclass
class ObservabilityStore:
    """Queries on one observability schema through a PyHive cursor (lakehouse.catalog.thrift_cursor)."""

    cursor: Any
    schema: str = field(default_factory=default_schema)
    _tables: set[str] | None = None

    def __post_init__(self) -> None:
        if not self.schema or set(self.schema.lower()) - SAFE_NAME:
            raise LakehouseError(
                f"{self.schema!r} is not a database name", "use letters, digits and _ (e.g. observability)"
            )

    def query(self, sql: str) -> list[dict[str, Any]]:
        self.cursor.execute(sql)
        names = [column[0].split(".")[-1] for column in self.cursor.description or []]
        return [dict(zip(names, (_clean(v) for v in row), strict=True)) for row in self.cursor.fetchall()]

    def tables(self) -> set[str]:
        if self._tables is None:
            self.cursor.execute("show databases")
            if self.schema not in {row[0] for row in self.cursor.fetchall()}:
                self._tables = set()
            else:
                self.cursor.execute(f"show tables in {self.schema}")
                self._tables = {row[1] for row in self.cursor.fetchall()}
        return self._tables

    def has(self, table: str) -> bool:
        return table in self.tables()

    def table(self, name: str) -> str:
        return f"{self.schema}.{name}"

    # --- invocations and results ----------------------------------------------------------------------

    def invocations(self, limit: int = 30) -> list[dict[str, Any]]:
        if not self.has("dbt_invocations"):
            return []
        return self.query(
            f"select * from {self.table('dbt_invocations')} order by run_started_at desc limit {int(limit)}"
        )

    def test_results(self, invocation_ids: list[str]) -> list[dict[str, Any]]:
        if not self.has("dbt_test_results") or not invocation_ids:
            return []
        return self.query(
            f"select * from {self.table('dbt_test_results')} where invocation_id in {_in_list(invocation_ids)}"
        )

    def run_results(self, invocation_ids: list[str], resource_type: str = "model") -> list[dict[str, Any]]:
        if not self.has("dbt_run_results") or not invocation_ids:
            return []
        return self.query(
            f"select * from {self.table('dbt_run_results')} where invocation_id in {_in_list(invocation_ids)} "
            f"and resource_type = {_literal(resource_type)}"
        )

    def latest_models(self) -> list[dict[str, Any]]:
        """The newest stored version of the project's models (owners, descriptions)."""
        if not self.has("dbt_models"):
            return []
        return self.query(
            f"select * from {self.table('dbt_models')} where graph_hash = (select graph_hash from "
            f"{self.table('dbt_models')} order by generated_at desc limit 1)"
        )

    def mart_builds(self) -> list[dict[str, Any]]:
        """Each mart of the latest project graph (a model under models/marts/) and its last successful build
        (`built_at`, null when it never built)."""
        if not self.has("dbt_models"):
            return []
        models = self.table("dbt_models")
        marts = (
            f"select distinct unique_id, name, schema_name from {models} where original_path like 'models/marts/%' "
            f"and graph_hash = (select graph_hash from {models} order by generated_at desc limit 1)"
        )
        if not self.has("dbt_run_results"):
            return self.query(f"select name, schema_name, cast(null as timestamp) as built_at from ({marts}) as m")
        return self.query(
            f"select m.name, m.schema_name, max(r.completed_at) as built_at from ({marts}) as m "
            f"left join {self.table('dbt_run_results')} as r on r.unique_id = m.unique_id "
            "and r.resource_type = 'model' and r.status = 'success' "
            "group by m.name, m.schema_name order by m.schema_name, m.name"
        )

    def freshness_results(self) -> list[dict[str, Any]]:
        """The latest freshness result of each source table."""
        if not self.has("dbt_source_freshness_results"):
            return []
        return self.query(
            "select * from (select *, row_number() over (partition by unique_id order by generated_at desc) as rn "
            f"from {self.table('dbt_source_freshness_results')}) as ranked where rn = 1"
        )

    # --- anomalies --------------------------------------------------------------------------------------

    def latest_scores(self) -> list[dict[str, Any]]:
        """Every anomaly test's scores from the last invocation that ran it."""
        if not self.has("anomaly_scores"):
            return []
        return self.query(
            "select * from (select scores.*, max(scored_at) over (partition by test_unique_id) as newest, "
            "max(scored_at) over (partition by test_unique_id, invocation_id) as this_run "
            f"from {self.table('anomaly_scores')} as scores) as ranked where this_run = newest"
        )

    def metric_history(self, metric_keys: list[str], buckets: int = 90) -> list[dict[str, Any]]:
        """The latest computation of the last `buckets` buckets of each metric."""
        if not self.has("data_monitoring_metrics") or not metric_keys:
            return []
        return self.query(
            "select metric_key, dimension_value, bucket_start, bucket_end, metric_value from ("
            "select *, row_number() over (partition by metric_key, dimension_value, bucket_start "
            "order by computed_at desc) as computation_rank, dense_rank() over (partition by metric_key, "
            "dimension_value order by bucket_start desc) as recency "
            f"from {self.table('data_monitoring_metrics')} where metric_key in {_in_list(metric_keys)}) as ranked "
            f"where computation_rank = 1 and recency <= {int(buckets)} order by bucket_start"
        )

    def schema_changes(self, limit: int = 50) -> list[dict[str, Any]]:
        if not self.has("schema_change_events"):
            return []
        return self.query(
            f"select * from {self.table('schema_change_events')} order by detected_at desc limit {int(limit)}"
        )
