"""The project's generic test library (dbt/packages/dbt_expectations, dbt_utils) tested on fixtures.

tests/dbt_fixtures/generic_tests has tiny seeds and views and, for every generic test of the library,
instances named `pass__<test>__<case>`, which must pass, and `fail__<test>__<case>`, which must fail
with `meta.failures` failing rows (stored as a table: each failing case sets `store_failures`). The
project is seeded, built and tested once against the session's Spark Thrift server; each generic test
is then one pytest case. A generic test added without both kinds of fixtures fails its case.

The fixture project is a user's project as dbt-expectations' users write it: its own packages.yml
points at the library (../../../dbt/packages/...) and every test is called with its package prefix
(`dbt_expectations.`, `dbt_utils.`), so it building unchanged shows the packages are drop-in.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from dbt.cli.main import dbtRunner, dbtRunnerResult

from lakehouse.catalog import thrift_cursor
from lakehouse.dbt_runner import install_packages
from tests.helpers.spark import PROJECT_DIR, SparkServer

FIXTURE_PROJECT = PROJECT_DIR / "tests" / "dbt_fixtures" / "generic_tests"
PACKAGES_DIR = PROJECT_DIR / "dbt" / "packages"
LIBRARY_PACKAGES = ("dbt_expectations", "dbt_utils")
LIBRARY_DIRS = tuple(PACKAGES_DIR / package / "macros" for package in LIBRARY_PACKAGES)
TEST_BLOCK = re.compile(r"\{%-?\s*test\s+(\w+)\s*\(")
CASE_NAME = re.compile(r"^(pass|fail)__(\w+?)__\w+$")


def library_tests() -> list[str]:
    """Every generic test of the library, found by its `{% test <name>(` block."""
    paths = [path for directory in LIBRARY_DIRS for path in directory.rglob("*.sql")]
    return sorted({match[1] for path in paths for match in TEST_BLOCK.finditer(path.read_text())})


@dataclass(frozen=True)
class Case:
    """One test instance of the fixture project and how it ran."""

    name: str
    test: str  # the generic test it instantiates
    expected: str  # "pass" or "fail", from the name
    expected_failures: int | None  # meta.failures
    stored: bool  # store_failures: its failing rows are kept as a table
    status: str
    failures: int | None
    message: str

    def went_wrong(self) -> str | None:
        if self.status != self.expected:
            return f"{self.name}: expected {self.expected}, got {self.status}: {first_lines(self.message)}"
        if self.expected == "fail" and self.failures != self.expected_failures:
            return f"{self.name}: expected {self.expected_failures} failing rows, got {self.failures}"
        return None


def first_lines(message: str, count: int = 4) -> str:
    """dbt-spark messages carry whole Java stack traces; the cause is in the first lines."""
    return " | ".join(line.strip() for line in (message or "").strip().splitlines()[:count])


def dbt(args: list[str], target_path: Path, callbacks: list | None = None) -> dbtRunnerResult:
    """Run dbt in-process on the fixture project, with the main project's profiles.yml."""
    install_packages(FIXTURE_PROJECT)  # the library under test, as local packages
    common = ["--project-dir", str(FIXTURE_PROJECT), "--profiles-dir", str(PROJECT_DIR / "dbt")]
    return dbtRunner(callbacks=callbacks).invoke([*args, *common, "--target-path", str(target_path)])


def require_success(result: dbtRunnerResult, command: str) -> None:
    problems = [
        f"{node.node.unique_id}: {first_lines(str(node.message))}"
        for node in getattr(result.result, "results", None) or []
        if str(getattr(node.status, "value", node.status)) not in ("success", "pass")
    ]
    assert result.exception is None and result.success, f"dbt {command} failed: {result.exception} {problems}"


@dataclass
class FixtureRun:
    """The fixture project seeded, run and tested once."""

    spark: SparkServer
    relations: dict[str, str]  # model name -> relation name
    test_result: dbtRunnerResult
    warnings: list[str]  # dbt's warnings while testing


@pytest.fixture(scope="module")
def fixture_run(spark_local: SparkServer, tmp_path_factory: pytest.TempPathFactory) -> FixtureRun:
    """Seed, build and test the fixture project once."""
    target_path = tmp_path_factory.mktemp("generic-tests-target")
    warnings: list[str] = []

    def collect(event) -> None:
        if event.info.level == "warn":
            warnings.append(str(event.info.msg))

    with pytest.MonkeyPatch.context() as env:
        env.setenv("DBT_TARGET", "local")
        env.setenv("LAKEHOUSE_THRIFT_HOST", spark_local.endpoint.host)
        env.setenv("LAKEHOUSE_THRIFT_PORT", str(spark_local.endpoint.port))
        require_success(dbt(["seed", "--threads", "4"], target_path), "seed")
        run = dbt(["run", "--threads", "4"], target_path)
        require_success(run, "run")
        result = dbt(["test", "--threads", "4"], target_path, callbacks=[collect])
    assert result.exception is None, f"dbt test could not run: {result.exception}"
    relations = {node.node.name: node.node.relation_name for node in run.result.results}
    return FixtureRun(spark_local, relations, result, warnings)


@pytest.fixture(scope="module")
def cases(fixture_run: FixtureRun) -> dict[str, list[Case]]:
    """The fixture project's test instances, grouped by generic test."""
    result = fixture_run.test_result

    grouped: dict[str, list[Case]] = defaultdict(list)
    for run in result.result.results:
        node = run.node
        case = Case(
            name=node.name,
            test=node.test_metadata.name,
            expected="pass" if node.name.startswith("pass__") else "fail",
            expected_failures=(node.config.meta or {}).get("failures"),
            stored=bool(node.config.store_failures),
            status=str(getattr(run.status, "value", run.status)),
            failures=run.failures,
            message=str(run.message or ""),
        )
        grouped[case.test].append(case)
    return dict(grouped)


@pytest.mark.spark
@pytest.mark.parametrize("test_name", library_tests())
def test_generic_test_passes_and_fails_on_its_fixtures(test_name: str, cases: dict[str, list[Case]]) -> None:
    mine = cases.get(test_name, [])
    assert any(case.expected == "pass" for case in mine), f"no pass__{test_name}__* fixture in {FIXTURE_PROJECT}"
    assert any(case.expected == "fail" for case in mine), f"no fail__{test_name}__* fixture in {FIXTURE_PROJECT}"
    wrong = [problem for case in mine if (problem := case.went_wrong())]
    assert not wrong, "\n".join(wrong)


@pytest.mark.spark
def test_every_fixture_is_a_named_case_of_a_library_test(cases: dict[str, list[Case]]) -> None:
    library = set(library_tests())
    malformed = []
    for test_name, mine in cases.items():
        for case in mine:
            match = CASE_NAME.match(case.name)
            if test_name not in library:
                malformed.append(f"{case.name}: {test_name} is not a test of the library")
            elif match is None or match[2] != test_name:
                malformed.append(f"{case.name}: not named pass__{test_name}__<case> or fail__{test_name}__<case>")
            elif case.expected == "fail" and case.expected_failures is None:
                malformed.append(f"{case.name}: says nothing of its failing rows (config meta.failures)")
            elif case.expected == "fail" and not case.stored:
                malformed.append(f"{case.name}: does not store its failing rows (config store_failures: true)")
    assert not malformed, "\n".join(malformed)


def test_every_library_macro_is_documented_with_its_arguments(tmp_path: Path) -> None:
    """dbt itself (flag validate_macro_args) checks documented arguments against the Jinja signatures."""
    annotations: list[str] = []

    def collect(event) -> None:
        if event.info.name == "InvalidMacroAnnotation":
            annotations.append(f"{event.data.macro_unique_id}: {event.data.msg}")

    result = dbt(["parse"], tmp_path, callbacks=[collect])
    assert result.exception is None and result.success, f"dbt parse failed: {result.exception}"

    undocumented = []
    for macro in result.result.macros.values():
        if macro.package_name not in LIBRARY_PACKAGES:
            continue
        if not macro.description.strip():
            undocumented.append(f"{macro.name}: no description")
        for argument in macro.arguments:
            if not (argument.type and (argument.description or "").strip()):
                undocumented.append(f"{macro.name}: argument {argument.name} lacks a type or a description")
    mismatched = [note for note in annotations if note.split(".")[1] in LIBRARY_PACKAGES]
    assert not undocumented + mismatched, "\n".join(undocumented + mismatched)


# Each datepart from 2024-01-01 00:00:00 to the end in models/dq_date_spines.sql: (periods, last period).
DATE_SPINES = {
    "second": (60, "2024-01-01 00:00:59"),
    "minute": (60, "2024-01-01 00:59:00"),
    "hour": (24, "2024-01-01 23:00:00"),
    "day": (31, "2024-01-31 00:00:00"),
    "week": (9, "2024-02-26 00:00:00"),
    "month": (12, "2024-12-01 00:00:00"),
    "quarter": (4, "2024-10-01 00:00:00"),
    "year": (6, "2029-01-01 00:00:00"),
}


@pytest.mark.spark
def test_date_spine_steps_by_one_datepart_for_every_datepart(fixture_run: FixtureRun) -> None:
    """dbt.date_spine on Spark steps by one second when asked for hours; dbt_utils.date_spine does not."""
    with thrift_cursor(fixture_run.spark.endpoint) as cursor:
        cursor.execute(f"select * from {fixture_run.relations['dq_date_spines']}")
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    found = {part: (periods, last) for part, (periods, distinct, first, last) in rows.items() if periods == distinct}
    assert found == DATE_SPINES
    assert {first for _periods, _distinct, first, _last in rows.values()} == {"2024-01-01 00:00:00"}


@pytest.mark.spark
def test_regex_flags_spark_cannot_honour_warn_instead_of_breaking(fixture_run: FixtureRun) -> None:
    """PostgreSQL's or BigQuery's flags (g, c) parse and run, with a warning naming them; `i` still applies."""
    flagged = [w for w in fixture_run.warnings if "are not Java regex flags" in w]
    assert any("'gc'" in w and "@EXAMPLE" in w for w in flagged), fixture_run.warnings
    assert any("'g'" in w and "@EXAMPLE[.]NET" in w for w in flagged), fixture_run.warnings
