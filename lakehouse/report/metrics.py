"""CloudWatch metrics for the alarms of infra/ (infra/lakehouse_infra/monitoring.py), with boto3.

Published only when LAKEHOUSE_CLOUDWATCH_NAMESPACE is set (the infra stack sets `Lakehouse` on the
orchestrator's task; the embedded local setup has no CloudWatch and leaves it unset). Every series carries
the dimension `Environment` = LAKEHOUSE_ENV (`dev` or `prod`, the stack's env, which the task also sets).

- `LoadFailures` (Count): failed stream loads, from the load ledger (rows with status `failed`). The alarm
  (Sum > 0) watches the series with the `Environment` dimension alone, which carries the total; the same
  figure per stream goes to {Environment, Source, Stream}, to find which stream failed.
  `lakehouse load` publishes its own loads' rows (by load id); `lakehouse metrics publish
  --loads-since-minutes N` publishes the rows that finished in the last complete N-minute slot, for an
  orchestrator that loads in-process (Dagster).
- `MartsFreshnessMinutes` (None: CloudWatch has no minutes unit): minutes since the stalest mart's last
  successful build, from the observability tables (`dbt_run_results`): the last-update freshness that
  Dagster's checks also judge (orchestration/alerts.py). The alarm (Maximum > the SLA) watches
  {Environment}. Marts never built are left out; when none was built nothing is published, which the
  prod alarm reads as a miss.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lakehouse.core.errors import ConfigError, LakehouseError
from lakehouse.core.storage import LakehouseRoot

NAMESPACE_VARIABLE = "LAKEHOUSE_CLOUDWATCH_NAMESPACE"
ENVIRONMENT_VARIABLE = "LAKEHOUSE_ENV"
LOAD_FAILURES = "LoadFailures"
MARTS_FRESHNESS = "MartsFreshnessMinutes"
FAILED = "failed"
# A load's ledger row is committed a moment after its `finished_at`: a slot is published once it has
# been over for this long, so a run at the slot's end does not miss a row still being written.
SETTLE = timedelta(minutes=1)
MAX_DATUMS_PER_CALL = 1000  # PutMetricData's limit per request


@dataclass(frozen=True)
class Datum:
    name: str
    value: float
    unit: str  # a CloudWatch unit: Count, None, ...
    dimensions: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class MetricsTarget:
    """Where metrics go: the namespace and the `Environment` dimension's value."""

    namespace: str
    environment: str

    @classmethod
    def from_env(cls, namespace: str | None = None) -> MetricsTarget | None:
        """None when publishing is off (no namespace); an error when it is on without an environment."""
        namespace = namespace or os.environ.get(NAMESPACE_VARIABLE, "")
        if not namespace:
            return None
        environment = os.environ.get(ENVIRONMENT_VARIABLE, "")
        if not environment:
            raise ConfigError(
                f"{NAMESPACE_VARIABLE} is set but {ENVIRONMENT_VARIABLE} is not: the alarms watch the "
                "dimension Environment=<the stack's env>",
                f"export {ENVIRONMENT_VARIABLE}=dev or prod (the stack's env; its ECS task sets it)",
            )
        return cls(namespace, environment)


def load_failures(rows: Iterable[dict[str, Any]], environment: str) -> list[Datum]:
    """The failed loads among `rows` (ledger rows): one datum per stream and the total."""
    rows = list(rows)
    failed = Counter((row["source"], row["stream"]) for row in rows if row["status"] == FAILED)
    streams = sorted({(row["source"], row["stream"]) for row in rows})
    per_stream = [
        Datum(
            LOAD_FAILURES,
            float(failed[(source, stream)]),
            "Count",
            (("Environment", environment), ("Source", source), ("Stream", stream)),
        )
        for source, stream in streams
    ]
    total = Datum(LOAD_FAILURES, float(sum(failed.values())), "Count", (("Environment", environment),))
    return [total, *per_stream]


def marts_freshness(builds: Iterable[dict[str, Any]], environment: str, now: datetime) -> list[Datum]:
    """Minutes since the stalest built mart's last successful build; nothing when no mart was built."""
    built = [row["built_at"] for row in builds if row.get("built_at") is not None]
    if not built:
        return []
    minutes = (now - min(built)).total_seconds() / 60
    return [Datum(MARTS_FRESHNESS, round(max(minutes, 0.0), 1), "None", (("Environment", environment),))]


def ledger_rows(
    root: LakehouseRoot,
    *,
    load_ids: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """Ledger rows of the given loads, or that finished in [since, until); none before the first load."""
    from loaders.core.delta import open_table, read_table
    from loaders.core.ledger import Ledger

    uri, options = Ledger(root).uri, root.storage_options()
    if open_table(uri, options) is None:
        return []
    if load_ids:
        quoted = ", ".join("'" + load_id.replace("'", "''") + "'" for load_id in load_ids)
        where = f"load_id in ({quoted})"
    elif since is not None and until is not None:
        where = f"finished_at >= '{_utc(since)}' and finished_at < '{_utc(until)}'"
    else:
        return []
    return read_table(uri, options, f"select source, stream, status from t where {where}").to_pylist()


def last_slot(now: datetime, minutes: int) -> tuple[datetime, datetime]:
    """The last complete `minutes`-long slot (aligned on the hour's multiples) that ended SETTLE ago or more.

    Run every `minutes` minutes, successive runs publish successive slots: each failed load once.
    """
    if minutes <= 0 or (60 % minutes and minutes % 60):
        raise ConfigError(
            f"--loads-since-minutes {minutes} does not divide the hour into slots",
            "use a divisor or a multiple of 60, e.g. 5, 10, 15 or 60, and run the command that often",
        )
    settled = now.astimezone(UTC) - SETTLE
    epoch_minutes = int(settled.timestamp() // 60)
    end_minutes = epoch_minutes - epoch_minutes % minutes
    end = datetime.fromtimestamp(end_minutes * 60, UTC)
    return end - timedelta(minutes=minutes), end


def publish(target: MetricsTarget, datums: Sequence[Datum], *, client=None, now: datetime | None = None) -> int:
    """PutMetricData of every datum into the target's namespace; the number sent."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    if not datums:
        return 0
    timestamp = now or datetime.now(UTC)
    try:
        client = client or boto3.client("cloudwatch")
        for start in range(0, len(datums), MAX_DATUMS_PER_CALL):
            client.put_metric_data(
                Namespace=target.namespace,
                MetricData=[
                    {
                        "MetricName": datum.name,
                        "Dimensions": [{"Name": name, "Value": value} for name, value in datum.dimensions],
                        "Value": datum.value,
                        "Unit": datum.unit,
                        "Timestamp": timestamp,
                    }
                    for datum in datums[start : start + MAX_DATUMS_PER_CALL]
                ],
            )
    except (BotoCoreError, ClientError) as exc:
        raise LakehouseError(
            f"CloudWatch did not take the metrics for namespace {target.namespace}: {_aws_message(exc)}",
            "give the role cloudwatch:PutMetricData on that namespace (the stack's task role has it) and set "
            f"AWS_REGION; or unset {NAMESPACE_VARIABLE} where there is no CloudWatch",
        ) from None
    return len(datums)


def _aws_message(exc: Exception) -> str:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()
    return str(exc)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
