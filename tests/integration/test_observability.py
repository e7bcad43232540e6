"""The observability hook and the anomaly tests, on a fixture project against the local Thrift server.

The fixture (tests/dbt_fixtures/anomalies) has daily event series with one fault injected on
2026-02-28 in each model but `events`. It is built twice, as a scheduler would:
  run 1 "at" 2026-02-28 12:00: that day is not complete yet, so nothing may be flagged;
  run 2 "at" 2026-03-01 06:00: the faulty day is complete; each fault must be flagged, `events` not,
  and the schema of `events_schema` changed (var fixture_schema_version 2) since run 1;
then `dbt source freshness` runs. The observability tables land in `obs_fixture_observability`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from dbt.cli.main import dbtRunner
from typer.testing import CliRunner

from lakehouse.catalog import thrift_cursor
from lakehouse.cli import app
from lakehouse.dbt_runner import install_packages
from tests.helpers.spark import PROJECT_DIR, SparkServer

FIXTURE = PROJECT_DIR / "tests" / "dbt_fixtures" / "anomalies"
SCHEMA = "obs_fixture_observability"
RUN_1_AS_OF = "2026-02-28 12:00:00"
RUN_2_AS_OF = "2026-03-01 06:00:00"
FAULTY = {
    "events_volume_drop": "volume_anomalies",
    "events_delayed": "freshness_anomalies",
    "events_late_loaded": "event_freshness_anomalies",
    "events_null_spike": "column_anomalies",
    "events_country_drop": "dimension_anomalies",
}


@dataclass
class FixtureBuild:
    spark: SparkServer
    target: Path
    invocations: dict[str, str]  # run_1, run_2, freshness -> invocation_id
    results: dict[str, dict[str, str]]  # run -> test/model name -> status

    def query(self, sql: str) -> list[tuple]:
        with thrift_cursor(self.spark.endpoint) as cursor:
            cursor.execute(sql)
            return [tuple(row) for row in cursor.fetchall()]


def run_fixture(target: Path, *args: str, variables: dict | None = None):
    install_packages(FIXTURE)  # the observability package itself, local
    command = [*args, "--project-dir", str(FIXTURE), "--profiles-dir", str(FIXTURE)]
    command += ["--target-path", str(target), "--log-path", str(target / "logs")]
    if variables:
        command += ["--vars", json.dumps(variables)]
    result = dbtRunner().invoke(command)
    assert result.exception is None, result.exception
    return result


def statuses(result) -> dict[str, str]:
    """node name -> status, and for generic tests also "<test> on <model>" -> status."""
    found = {}
    for r in result.result.results:
        found[r.node.name] = str(r.status)
        metadata = getattr(r.node, "test_metadata", None)
        if metadata is not None and getattr(r.node, "attached_node", None):
            found[f"{metadata.name} on {r.node.attached_node.split('.')[-1]}"] = str(r.status)
    return found


_BUILD: dict[int, FixtureBuild] = {}


def fixture_build(spark: SparkServer, target: Path) -> FixtureBuild:
    """Build the fixture once per session (test_report.py reads the same build)."""
    if id(spark) in _BUILD:
        return _BUILD[id(spark)]
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("LAKEHOUSE_THRIFT_HOST", spark.endpoint.host)
        monkeypatch.setenv("LAKEHOUSE_THRIFT_PORT", str(spark.endpoint.port))
        runs = {
            "run_1": run_fixture(target, "build", variables={"observability_as_of": RUN_1_AS_OF}),
            "run_2": run_fixture(
                target, "build", variables={"observability_as_of": RUN_2_AS_OF, "fixture_schema_version": 2}
            ),
            "freshness": run_fixture(target, "source", "freshness"),
        }
    build = FixtureBuild(spark, target, {}, {name: statuses(result) for name, result in runs.items()})
    rows = build.query(f"select invocation_id from {SCHEMA}.dbt_invocations order by run_started_at")
    build.invocations = dict(zip(runs, [r[0] for r in rows], strict=True))
    _BUILD[id(spark)] = build
    return build


@pytest.fixture(scope="session")
def built(spark_local: SparkServer, tmp_path_factory: pytest.TempPathFactory) -> FixtureBuild:
    return fixture_build(spark_local, tmp_path_factory.mktemp("fixture-target"))


def test_the_hook_records_each_invocation_with_its_outcome(built: FixtureBuild) -> None:
    rows = built.query(
        f"select command, status, fail_count, node_count, dbt_version, target_name from {SCHEMA}.dbt_invocations "
        "order by run_started_at"
    )
    assert [r[0] for r in rows] == ["build", "build", "freshness"]
    assert rows[0][1] == "fail"  # the customers tests fail on purpose in every build
    assert rows[1][2] > rows[0][2]  # run 2 also has the anomalies and the schema change
    assert rows[2][1] == "fail"  # the fixture feed is stale
    assert all(r[4].startswith("1.11") and r[5] == "local" for r in rows)


def test_run_results_have_one_row_per_node_per_invocation(built: FixtureBuild) -> None:
    run_2 = built.invocations["run_2"]
    rows = built.query(
        f"select name, resource_type, status, execution_time, compiled_code_hash, started_at, completed_at "
        f"from {SCHEMA}.dbt_run_results where invocation_id = '{run_2}'"
    )
    by_name = {r[0]: r for r in rows}
    assert len(rows) == len(by_name) and set(by_name) <= set(built.results["run_2"])
    assert {"events", "customers_seed", "unique_customers_email", "data_monitoring_metrics"} <= set(by_name)
    events = by_name["events"]
    assert events[1:3] == ("model", "success") and events[3] > 0 and len(events[4]) == 32
    assert events[5] <= events[6]
    assert by_name["unique_customers_email"][2] == "fail"


def test_test_results_carry_model_column_kwargs_owner_and_a_sample_without_personal_data(
    built: FixtureBuild,
) -> None:
    run_2 = built.invocations["run_2"]
    rows = built.query(
        f"select test_name, model_name, column_name, test_kwargs, status, failures, failing_rows_sample, "
        f"sample_skipped_columns, owner from {SCHEMA}.dbt_test_results where invocation_id = '{run_2}'"
    )
    by_test = {(r[0], r[1]): r for r in rows}
    whole_rows = by_test[("assert_customers_have_a_signup_channel", "customers")]
    sample = json.loads(whole_rows[6])
    assert whole_rows[4:6] == ("fail", 2) and len(sample) == 2
    assert {tuple(sorted(row)) for row in sample} == {("country_code", "customer_id", "signup_channel")}
    assert json.loads(whole_rows[7]) == ["email", "full_name"]
    assert whole_rows[8] == "crm-team"
    # unique on the email column: its own output column (unique_field) would carry raw emails
    unique_email = by_test[("unique", "customers")]
    assert unique_email[2] == "email" and "@" not in unique_email[6]
    assert "unique_field" in json.loads(unique_email[7])
    volume = by_test[("volume_anomalies", "events_volume_drop")]
    assert json.loads(volume[3])["time_bucket"] == {"count": 1, "period": "day"}
    assert volume[8] == "sales-analytics"
    everything = json.dumps(rows)
    assert "@example.com" not in everything and "Lovelace" not in everything


def test_graph_metadata_is_stored_once_per_version_of_the_project(built: FixtureBuild) -> None:
    models = built.query(f"select name, owner, graph_hash from {SCHEMA}.dbt_models")
    assert ("events_volume_drop", "sales-analytics") in {(m[0], m[1]) for m in models}
    # run 2 changed a var, not the graph: three invocations, one stored version
    assert len({m[2] for m in models}) == 1 and len(models) == len({m[0] for m in models})
    assert built.query(f"select count(*) from {SCHEMA}.dbt_tests where short_name = 'volume_anomalies'")[0][0] == 3
    assert built.query(f"select source_name, name, error_after from {SCHEMA}.dbt_sources") == [
        ("fixture_feed", "feed_loads", "2 hour")
    ]
    assert built.query(f"select name, owner_email, depends_on from {SCHEMA}.dbt_exposures") == [
        ("sales_dashboard", "sales-analytics@example.com", '["model.obs_fixture.events"]')
    ]


def test_source_freshness_results_are_recorded(built: FixtureBuild) -> None:
    rows = built.query(
        f"select source_name, table_name, status, max_loaded_at, age_seconds, error_after "
        f"from {SCHEMA}.dbt_source_freshness_results"
    )
    assert len(rows) == 1
    source, table, status, max_loaded_at, age, error_after = rows[0]
    assert (source, table, status, error_after) == ("fixture_feed", "feed_loads", "error", "2 hour")
    assert str(max_loaded_at).startswith("2026-02-28 12:00") and age > 2 * 3600


def test_nothing_is_flagged_while_the_faulty_day_is_incomplete(built: FixtureBuild) -> None:
    run_1 = built.results["run_1"]
    anomaly_tests = {name: status for name, status in run_1.items() if "anomalies on " in name}
    assert len(anomaly_tests) == 11
    assert set(anomaly_tests.values()) == {"pass"}
    # the bucket holding "now" (2026-02-28) was neither measured nor scored
    run_1_id = built.invocations["run_1"]
    buckets = built.query(
        f"select max(bucket_start) from {SCHEMA}.data_monitoring_metrics "
        f"where invocation_id = '{run_1_id}' and metric_name != 'row_count'"
    )
    assert str(buckets[0][0]).startswith("2026-02-27")


def test_each_injected_fault_is_flagged_and_the_normal_series_is_not(built: FixtureBuild) -> None:
    run_2 = built.results["run_2"]
    for model, test in FAULTY.items():
        assert run_2[f"{test} on {model}"] == "fail", (model, test)
    for test in set(FAULTY.values()):
        assert run_2[f"{test} on events"] == "pass", test


def test_a_volume_drop_is_scored_against_history_from_the_earlier_run(built: FixtureBuild) -> None:
    run_1, run_2 = built.invocations["run_1"], built.invocations["run_2"]
    [score] = built.query(
        f"select metric_value, min_expected, max_expected, z_score, training_set_size, metric_key "
        f"from {SCHEMA}.anomaly_scores where invocation_id = '{run_2}' and is_anomalous "
        "and full_table_name = 'obs_fixture.events_volume_drop'"
    )
    value, low, high, z_score, training, metric_key = score
    assert value == 20.0 and value < low < high and z_score < -3 and training == 14
    # run 2 only measured the new day; the 14 training days are the rows run 1 stored
    computed_by = dict(
        built.query(
            f"select invocation_id, count(*) from {SCHEMA}.data_monitoring_metrics "
            f"where metric_key = '{metric_key}' group by invocation_id"
        )
    )
    assert computed_by == {run_1: 15, run_2: 1}


def test_a_freshness_delay_is_flagged_in_hours_not_minutes(built: FixtureBuild) -> None:
    run_2 = built.invocations["run_2"]
    [(value, high)] = built.query(
        f"select metric_value, max_expected from {SCHEMA}.anomaly_scores where invocation_id = '{run_2}' "
        "and full_table_name = 'obs_fixture.events_delayed'"
    )
    assert value > 9 * 3600 and high < 3600  # events stopped at 14:00: 10 hours stale at midnight


def test_schema_changes_reports_added_removed_and_retyped_columns_once(built: FixtureBuild) -> None:
    changes = built.query(
        f"select change_type, column_name, previous_type, new_type from {SCHEMA}.schema_change_events "
        "where full_table_name = 'obs_fixture.events_schema'"
    )
    assert sorted(changes) == [
        ("column_added", "campaign", None, "string"),
        ("column_removed", "channel", "string", None),
        ("type_changed", "amount", "double", "decimal(18,2)"),
    ]
    assert built.results["run_1"]["schema_changes on events_schema"] == "pass"  # the baseline
    assert built.results["run_2"]["schema_changes on events_schema"] == "fail"


def test_observability_tables_are_documented_column_for_column(built: FixtureBuild) -> None:
    models_yml = PROJECT_DIR / "dbt/packages/lakehouse_observability/models/observability/_observability__models.yml"
    documented = yaml.safe_load(models_yml.read_text())
    for model in documented["models"]:
        columns = [row[0] for row in built.query(f"describe {SCHEMA}.{model['name']}") if row[0] and row[0][0] != "#"]
        assert columns == [c["name"] for c in model["columns"]], model["name"]
        assert all(c.get("description") for c in model["columns"])


def test_the_hook_skips_a_table_it_cannot_write_and_the_run_still_succeeds(
    built: FixtureBuild, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocked = "obs_fixture_blocked"
    built.query(f"create database if not exists {blocked}")
    built.query(f"create or replace view {blocked}.dbt_run_results as select 1 as occupied")
    monkeypatch.setenv("LAKEHOUSE_THRIFT_HOST", built.spark.endpoint.host)
    monkeypatch.setenv("LAKEHOUSE_THRIFT_PORT", str(built.spark.endpoint.port))
    result = run_fixture(tmp_path, "run", "--select", "customers", variables={"observability_schema": blocked})
    assert result.success
    log = (tmp_path / "logs" / "dbt.log").read_text()
    assert f"[observability] warning: {blocked}.dbt_run_results is a view, not a table" in log
    assert built.query(f"select command, status from {blocked}.dbt_invocations") == [("run", "success")]
    assert built.query(f"select * from {blocked}.dbt_run_results") == [(1,)]


class Webhook:
    def __init__(self) -> None:
        self.messages: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.messages.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    receiver = Webhook()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_alerts_reach_each_owner_with_their_failures_and_anomalies(
    built: FixtureBuild, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEHOUSE_THRIFT_PORT", str(built.spark.endpoint.port))
    monkeypatch.setenv("LAKEHOUSE_ALERT_WEBHOOK", webhook.url)
    result = CliRunner().invoke(app, ["alerts", "--schema", SCHEMA, "--invocation", built.invocations["run_2"]])
    assert result.exit_code == 0, result.output
    by_owner = {m["text"].split(" for ")[1].split(" in dbt ")[0]: m for m in webhook.messages}
    assert sorted(by_owner) == ["crm-team", "data-platform", "sales-analytics"]
    sales = json.dumps(by_owner["sales-analytics"])
    assert "volume_anomalies" in sales and "events_volume_drop" in sales and "row_count 20" in sales
    assert "dimension_anomalies" in sales and "[DE]" in sales
    assert "freshness_anomalies" in json.dumps(by_owner["data-platform"])
    assert "schema_changes" in json.dumps(by_owner["data-platform"])
    assert "customers" in json.dumps(by_owner["crm-team"]) and "events" not in json.dumps(by_owner["crm-team"])
    assert all(message["blocks"][0]["type"] == "header" for message in webhook.messages)
    assert "@example.com" not in json.dumps(webhook.messages)
    assert "Posted 9 alert(s) in 3 message(s)" in result.output


def test_an_anomaly_test_run_with_observability_off_fails_and_says_why(built: FixtureBuild) -> None:
    """With `observability_enabled: false` there is no history: the test must not pass as if it had looked."""
    warnings: list[str] = []

    def collect(event) -> None:
        message = getattr(event.info, "msg", "") or ""
        if "[observability] warning: not evaluated" in message:
            warnings.append(message)

    stored = built.query(f"select count(*) from {SCHEMA}.data_monitoring_metrics")[0][0]
    install_packages(FIXTURE)
    command = ["test", "--select", "events", "events_schema", "--project-dir", str(FIXTURE)]
    command += ["--profiles-dir", str(FIXTURE), "--target-path", str(built.target), "--log-path", str(built.target)]
    command += ["--vars", json.dumps({"observability_as_of": RUN_2_AS_OF, "observability_enabled": False})]
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("LAKEHOUSE_THRIFT_HOST", built.spark.endpoint.host)
        monkeypatch.setenv("LAKEHOUSE_THRIFT_PORT", str(built.spark.endpoint.port))
        result = dbtRunner(callbacks=[collect]).invoke(command)
    assert result.exception is None, result.exception
    found = statuses(result)

    # In run 2 (observability on) these passed: `events` has no fault. Off, each fails instead.
    observed = ("anomalies on events", "schema_changes on")
    off = {name: status for name, status in found.items() if any(part in name for part in observed)}
    assert len(off) == 6 and set(off.values()) == {"fail"}, off
    assert found["unique_events_event_id"] == "pass"  # ordinary tests are unaffected
    assert len(warnings) == 6 and all("observability_enabled is false" in w for w in warnings), warnings
    assert built.query(f"select count(*) from {SCHEMA}.data_monitoring_metrics")[0][0] == stored  # nothing stored
