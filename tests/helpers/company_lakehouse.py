"""The generated company as a whole lakehouse, built once per test session.

The synthetic company (seed 7, scale 0.2, 30 days) is generated into its own LAKEHOUSE_HOME, every
embedded source is loaded into bronze on a temporary local root and registered with the demo's own
`load_and_register`, a Spark Thrift server is started over it, and one `dbt build` builds every model,
seed and snapshot with their tests (the anomaly tests, which need run history, are
`test_observability.py`'s). Restricted outputs are built unmasked (`unmask_pii`), as HR builds are, so
the tests can check both sides of the masking rule. The docs site is generated for the marts.

The silver and mart suites read it; a test that changes it (a new day, a full refresh) carries the
`mutates_company_lakehouse` marker and runs after every test that only reads it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from company.samples import HISTORY_DAYS, ensure_company
from lakehouse.catalog import thrift_cursor
from lakehouse.core.storage import LakehouseRoot
from lakehouse.dbt_runner import DbtOutcome, run_dbt, run_results
from lakehouse.demo import load_and_register
from lakehouse.source_files import all_sources
from tests.helpers.spark import SparkServer

SCALE = 0.2
DAYS = HISTORY_DAYS
BUILD_VARS = json.dumps({"unmask_pii": True, "observability_enabled": False})
# Small queries are latency-bound: more dbt threads than cores keeps the Thrift server busy.
THREADS = ["--threads", "4"]
EXCLUDED = [
    "--exclude",
    # need run history: test_observability.py builds it
    "test_name:volume_anomalies",
    "test_name:column_anomalies",
    "test_name:freshness_anomalies",
    "package:lakehouse_observability",
    # warn-only row checks on the raw data (they flag the generator's planted duplicates)
    "path:models/staging,resource_type:test",
    # the reference data's own tests; the snapshots' tests run after a second day (test_silver.py)
    "path:seeds,resource_type:test",
    "path:snapshots,resource_type:test",
]
GROUND_TRUTH = ("revenue", "mrr", "headcount", "marketing")


@dataclass
class CompanyLakehouse:
    spark: SparkServer
    home: Path
    build: DbtOutcome
    build_results: dict[str, dict]  # unique_id -> the build's run result (docs generate rewrites the file)
    docs: DbtOutcome
    # The ground truth of the 30 days of history, kept in memory: a later day rewrites the files.
    ground_truth: dict[str, dict]
    loaded_rows: dict[str, int] = field(default_factory=dict)

    @property
    def company(self) -> Path:
        return self.home / "samples" / "company"

    @property
    def root(self) -> LakehouseRoot:
        return self.spark.root

    @property
    def target_dir(self) -> Path:
        return self.home / "dbt-target"

    def env(self) -> dict[str, str]:
        return {
            "LAKEHOUSE_HOME": str(self.home),
            "LAKEHOUSE_THRIFT_HOST": self.spark.endpoint.host,
            "LAKEHOUSE_THRIFT_PORT": str(self.spark.endpoint.port),
            "DBT_TARGET_PATH": str(self.target_dir),
            "DBT_LOG_PATH": str(self.home / "dbt-logs"),
        }

    @contextmanager
    def activated(self) -> Iterator[None]:
        """The environment in which the CLI's functions (dbt, loads) act on this lakehouse."""
        with _environment(self.env()):
            yield

    def dbt(self, *args: str, check: bool = True) -> DbtOutcome:
        with self.activated():
            outcome = run_dbt([*args, *THREADS, "--vars", BUILD_VARS])
        assert outcome.success or not check, "\n".join(outcome.failures)
        return outcome

    def advance_one_day(self) -> None:
        """Generate the next day of the company's changes into its source files."""
        with self.activated():
            ensure_company().next_day()

    def load(self) -> dict[str, int]:
        """Load every source again (after a new day of data) and register; rows loaded per stream."""
        with self.activated():
            results = load_and_register(self.root, self.spark.endpoint, all_sources())
        return {f"{r.source}.{r.stream}": r.rows for r in results}

    def query(self, sql: str) -> list[tuple]:
        with thrift_cursor(self.spark.endpoint) as cursor:
            cursor.execute(sql)
            return [tuple(row) for row in cursor.fetchall()]

    def tables(self, database: str) -> list[str]:
        return [row[1] for row in self.query(f"show tables in {database}") if not row[2]]  # not temporary

    def truth(self, name: str) -> dict:
        return self.ground_truth[name]


def build_company_lakehouse(home: Path, spark: SparkServer) -> CompanyLakehouse:
    """Generate, load, register, build and document the company on `spark`'s root (see the module doc)."""
    with _environment({"LAKEHOUSE_HOME": str(home)}):
        company = ensure_company(scale=SCALE).folder  # as the demo does: seed 7, 30 days of history
    truth = {name: json.loads((company / "_ground_truth" / f"{name}.json").read_text()) for name in GROUND_TRUTH}
    lakehouse = CompanyLakehouse(spark, home, DbtOutcome("", False), {}, DbtOutcome("", False), truth)
    lakehouse.loaded_rows = lakehouse.load()
    with lakehouse.activated():
        lakehouse.build = run_dbt(["build", *EXCLUDED, *THREADS, "--vars", BUILD_VARS])
        lakehouse.build_results = {result["unique_id"]: result for result in run_results().get("results", [])}
        lakehouse.docs = run_dbt(["docs", "generate", "--select", "+path:models/marts", *THREADS, "--vars", BUILD_VARS])
    return lakehouse


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
