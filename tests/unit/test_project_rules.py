"""`lakehouse check-project`: the dbt-project-evaluator rules, checked from a manifest `dbt parse` wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from dbt.cli.main import dbtRunner
from typer.testing import CliRunner

from lakehouse.cli import app
from lakehouse.dbt_runner import install_packages
from lakehouse.project_rules import RULES, check_manifest, load_manifest
from tests.helpers.spark import PROJECT_DIR

BROKEN = PROJECT_DIR / "tests" / "dbt_fixtures" / "broken_project"
REAL = PROJECT_DIR / "dbt"


def parse(project: Path, target: Path) -> Path:
    """`dbt parse` needs no server: it reads the project and writes target/manifest.json."""
    if (project / "packages.yml").exists():
        install_packages(project)
    result = dbtRunner().invoke(
        [
            "parse",
            "--project-dir", str(project),
            "--profiles-dir", str(REAL),
            "--target-path", str(target),
            "--log-path", str(target / "logs"),
        ]
    )  # fmt: skip
    assert result.success, result.exception
    return target / "manifest.json"


@pytest.fixture(scope="module")
def broken_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return parse(BROKEN, tmp_path_factory.mktemp("broken-target"))


def test_every_rule_is_broken_by_the_fixture_where_it_was_broken(broken_manifest: Path) -> None:
    found = {(v.rule, v.unique_id.split(".")[-1]) for v in check_manifest(load_manifest(broken_manifest))}
    expected = {
        ("source-outside-staging", "orders_with_customers"),
        ("direct-join-to-source", "orders_with_customers"),
        ("missing-primary-key-test", "orders_with_customers"),  # unique without not_null is no key
        ("missing-primary-key-test", "stg_customers"),
        ("missing-primary-key-test", "weekly_orders"),
        ("source-without-freshness", "customers"),
        ("undocumented-model", "stg_customers"),
        ("undocumented-model", "orders_summary"),
        ("undocumented-column", "fct_revenue"),
        ("undocumented-column", "stg_customers"),
        ("naming-and-folder", "stg_customers"),
        ("naming-and-folder", "orders_with_customers"),
        ("naming-and-folder", "fct_revenue"),
        ("naming-and-folder", "orders_summary"),
        ("naming-and-folder", "weekly_orders"),
        ("contract-not-enforced", "fct_revenue"),
        ("contract-not-enforced", "orders_with_customers"),
    }
    assert expected <= found, expected - found
    assert {rule for rule, _ in found} == set(RULES)
    # the one model that keeps every rule is not named, nor is the source table with freshness
    assert not {name for _, name in found} & {"stg_shop__orders", "orders"}


def test_check_project_exits_non_zero_and_names_each_broken_rule(broken_manifest: Path) -> None:
    result = CliRunner().invoke(app, ["check-project", "--manifest", str(broken_manifest)])
    assert result.exit_code == 1, result.output
    for rule in RULES:
        assert f"✗ {rule}:" in result.output
    assert "model.broken_shop.orders_with_customers (models/silver/orders_with_customers.sql)" in result.output
    assert "reads source shop.customers" in result.output


def test_the_real_project_keeps_every_rule(tmp_path: Path) -> None:
    violations = check_manifest(load_manifest(parse(REAL, tmp_path / "target")))
    assert violations == [], "\n".join(f"{v.rule}: {v.describe()}" for v in violations)


def test_check_project_without_a_manifest_parses_the_project_itself() -> None:
    result = CliRunner().invoke(app, ["check-project"])
    assert result.exit_code == 0, result.output
    assert f"All {len(RULES)} project rules pass" in result.output


def test_a_missing_manifest_is_an_error_with_the_fix(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check-project", "--manifest", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "no dbt manifest" in result.output and "dbt parse" in result.output
