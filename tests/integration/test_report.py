"""`lakehouse report`: one self-contained HTML dashboard, checked in a real headless browser (Debian's Chromium).

It renders the observability tables of the fixture build (test_observability.py), a load ledger
written here, and the fixture's manifest. The browser must run the page's script without error
(it marks <html data-rendered="ok">), draw the charts (SVG with data points) and lay the page out
within 1400 pixels (the script records the document's scroll width). Screenshots of the health
summary, a failing test's failing rows and the lineage are saved in the test's tmp folder.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake
from typer.testing import CliRunner

from lakehouse.catalog import thrift_cursor
from lakehouse.cli import app
from lakehouse.core.storage import LakehouseRoot
from lakehouse.platform.process import port_open
from lakehouse.report.report import build_report, read_ledger, render_report, sla_hours
from lakehouse.report.store import ObservabilityStore
from tests.helpers.spark import SparkServer, free_port
from tests.integration.test_observability import SCHEMA, FixtureBuild, fixture_build

NOW = datetime.now(UTC).replace(microsecond=0)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def ledger_row(source: str, stream: str, hours_ago: float, rows: int, status: str = "success") -> dict:
    finished = NOW - timedelta(hours=hours_ago)
    return {
        "load_id": f"{source}-{stream}-{hours_ago}",
        "pipeline": source,
        "source": source,
        "stream": stream,
        "mode": "append",
        "status": status,
        "rows_read": rows,
        "rows_loaded": rows if status == "success" else 0,
        "rows_quarantined": 0,
        "rows_rescued": 0,
        "bytes": rows * 100,
        "batches": 1,
        "started_at": finished - timedelta(seconds=30),
        "finished_at": finished,
        "duration_s": 30.0,
        "error": None if status == "success" else "source answered HTTP 503",
        "cursor_before": None,
        "cursor_after": None,
    }


@pytest.fixture(scope="module")
def ledger_root(tmp_path_factory: pytest.TempPathFactory) -> LakehouseRoot:
    """A root whose only content is a load ledger: an hourly stream on time, a real-time one 3 hours late."""
    root = LakehouseRoot.parse(str(tmp_path_factory.mktemp("ledger-root")))
    rows = [ledger_row("stripe", "charges", h, 1000 + int(h) * 7) for h in (26, 20, 14, 8, 3)]
    rows += [ledger_row("kafka", "order_events", h, 400 + int(h)) for h in (9, 6, 3.2)]
    rows += [ledger_row("kafka", "order_events", 1, 0, status="failed")]
    rows += [ledger_row("hubspot", "contacts", h, 250) for h in (5, 1.5)]
    write_deltalake(f"{root.uri}/bronze/_ledger", pa.Table.from_pylist(rows))
    return root


@pytest.fixture(scope="module")
def built(spark_local: SparkServer, tmp_path_factory: pytest.TempPathFactory) -> FixtureBuild:
    return fixture_build(spark_local, tmp_path_factory.mktemp("fixture-target"))


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.fail("no Chromium: install Debian's `chromium` package (apt-get install -y chromium fonts-dejavu-core)")


def browse(page: Path, profile: Path, *extra: str, fragment: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri() + fragment],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


# a test's rows: its id, then (before its end) the panel of its failing rows
FAILING_TEST = r'<tbody class="test" id="([\w-]+)">(?:(?!</tbody>).)*failing rows: a sample of'


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def root_attributes(dom: str) -> dict[str, str]:
    return dict(re.findall(r'([\w-]+)="([^"]*)"', re.search(r"<html[^>]*>", dom).group(0)))


def test_the_report_command_writes_one_self_contained_file(
    built: FixtureBuild, ledger_root: LakehouseRoot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEHOUSE_THRIFT_PORT", str(built.spark.endpoint.port))
    monkeypatch.setenv("LAKEHOUSE_ROOT", ledger_root.uri)
    output = tmp_path / "report.html"
    result = CliRunner().invoke(
        app, ["report", "--schema", SCHEMA, "--manifest", str(built.target / "manifest.json"), "-o", str(output)]
    )
    assert result.exit_code == 0, result.output
    html = output.read_text()
    # nothing to fetch: no external script, stylesheet, image or font
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<script src" not in html and "<link" not in html
    for section in ("summary", "tests", "anomalies", "loads", "runs", "freshness", "lineage", "coverage"):
        assert f'<section id="{section}">' in html
    assert "events_volume_drop" in html and "sales-analytics" in html
    assert "@example.com" not in html  # failing-row samples leave personal data out


@pytest.fixture(scope="module")
def report_page(built: FixtureBuild, ledger_root: LakehouseRoot, tmp_path_factory: pytest.TempPathFactory) -> Path:
    with thrift_cursor(built.spark.endpoint) as cursor:
        data = build_report(
            ObservabilityStore(cursor, SCHEMA),
            manifest=__import__("json").loads((built.target / "manifest.json").read_text()),
            ledger=read_ledger(ledger_root),
            source_frequencies={"stripe": "hourly", "kafka": "real-time", "hubspot": "daily"},
            root=ledger_root,
            now=NOW,
        )
    page = tmp_path_factory.mktemp("report") / "report.html"
    page.write_text(render_report(data))
    return page


def test_the_report_renders_in_a_real_browser_with_its_charts(report_page: Path, tmp_path: Path) -> None:
    dom = browse(report_page, tmp_path / "profile-dom", "--window-size=1400,1000", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = root_attributes(dom.stdout)
    assert html["data-rendered"] == "ok", html  # the script ran to its end, no error
    assert int(html["data-scroll-width"]) <= 1400, html  # nothing is wider than the window
    assert int(html["data-charts"]) >= 10
    band_charts = re.findall(r'<svg class="chart" data-chart="band" data-points="(\d+)"', dom.stdout)
    assert sum(int(points) >= 14 for points in band_charts) >= 6  # two weeks of daily history and more
    assert dom.stdout.count('class="point anomalous"') >= 5  # each injected fault, drawn in red
    assert re.search(r'data-chart="columns" data-points="11"', dom.stdout)  # the 11 loads of the ledger
    assert re.search(r'data-chart="lineage" data-points="13"', dom.stdout)  # 3 seeds, 8 models, source, exposure
    assert re.search(r'data-chart="bars" data-points="\d+"', dom.stdout)  # model run times
    assert re.search(r'data-chart="stacked" data-points="2"', dom.stdout)  # test outcomes of the two builds
    assert len(re.findall(r'data-chart="spark"', dom.stdout)) >= 3  # run-time and load trends


def test_the_dashboard_groups_tests_and_colours_the_lineage_by_status(report_page: Path) -> None:
    html = report_page.read_text()
    for view in ("by-model", "by-owner", "by-tag"):
        assert f'<div class="view" id="{view}">' in html
    owners = re.findall(r'<div class="view" id="by-owner">(.*?)<div class="view" id="by-tag">', html, re.S)[0]
    for owner in ("crm-team", "data-platform", "sales-analytics"):
        assert f'<span class="name">{owner}</span>' in owners
    # groups with failures come first and open; failing rows sit in an expandable panel of their test
    model_view = html.split('<div class="view" id="by-model">')[1].split('<div class="view" id="by-owner">')[0]
    groups = [group.split("</summary>")[0] for group in model_view.split('<details class="group" id="model-')[1:]]
    assert groups[0].split(">")[0].endswith(" open"), groups[0]
    assert any(">fail</span>" in group for group in groups[:3]), groups[:3]
    assert re.search(FAILING_TEST, model_view, re.S), "no failing test with a failing-row sample"
    statuses = re.findall(r'<g class="point node" data-status="(\w+)"', html)
    assert {"fail", "pass", "untested"} <= set(statuses), statuses


def test_screenshots_of_summary_failing_test_and_lineage(report_page: Path, tmp_path: Path) -> None:
    failing = re.search(
        r'<details class="group" id="model-1" open>.*?<tbody class="test" id="([\w-]+)">', report_page.read_text(), re.S
    )
    views = {"summary": "", "failing-test": f"#focus={failing.group(1)}", "lineage": "#focus=lineage"}
    for name, fragment in views.items():
        shot = tmp_path / f"report-{name}.png"
        result = browse(
            report_page,
            tmp_path / f"profile-{name}",
            "--window-size=1400,1000",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            fragment=fragment,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert png_size(shot) == (1400, 1000), name
        assert shot.stat().st_size > 30_000, f"{name}: a blank page"  # a rendered page, not a blank one
        print(f"\nreport screenshot ({name}): {shot}")
    # the focused views show just their section: the failing test's group, opened, and the lineage
    dom = browse(
        report_page, tmp_path / "profile-focus", "--window-size=1400,1000", "--dump-dom", fragment=views["failing-test"]
    )
    assert 'class="test target"' in dom.stdout and '<details class="sample" open="">' in dom.stdout


def test_sources_are_held_to_the_two_hour_sla_when_real_time_or_hourly(
    built: FixtureBuild, ledger_root: LakehouseRoot
) -> None:
    with thrift_cursor(built.spark.endpoint) as cursor:
        data = build_report(
            ObservabilityStore(cursor, SCHEMA),
            manifest=None,
            ledger=read_ledger(ledger_root),
            source_frequencies={"stripe": "hourly", "kafka": "real-time", "hubspot": "daily"},
            root=ledger_root,
            now=NOW,
        )
    freshness = {(f["source"], f["table"]): f for f in data.freshness}
    kafka = freshness[("kafka", "order_events")]
    assert (kafka["status"], kafka["sla_hours"]) == ("late", 2.0)  # last success 3.2 h ago; the 1 h load failed
    assert (freshness[("stripe", "charges")]["status"], freshness[("stripe", "charges")]["sla_hours"]) == ("late", 2.0)
    assert (freshness[("hubspot", "contacts")]["status"], freshness[("hubspot", "contacts")]["sla_hours"]) == (
        "ok",
        26.0,
    )
    assert freshness[("fixture_feed", "feed_loads")]["via"] == "dbt source freshness"
    assert sla_hours(None, "30 minute") == 0.5


def test_a_fresh_project_gets_a_report_that_says_what_is_missing(spark_local: SparkServer, tmp_path: Path) -> None:
    empty_root = LakehouseRoot.parse(str(tmp_path))
    with thrift_cursor(spark_local.endpoint) as cursor:
        data = build_report(
            ObservabilityStore(cursor, "obs_never_built"),
            manifest=None,
            ledger=read_ledger(empty_root),
            source_frequencies={},
            root=empty_root,
        )
    html = render_report(data)
    assert "has no observability tables yet" in html
    assert "No load ledger" in html and "No manifest.json" in html


def test_the_report_starts_the_local_server_when_none_runs_and_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `make demo` no server runs: the report starts one for the root, and stops it again."""
    (tmp_path / "root").mkdir()
    port = free_port()
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("LAKEHOUSE_THRIFT_HOST", "127.0.0.1")
    monkeypatch.setenv("LAKEHOUSE_THRIFT_PORT", str(port))
    output = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", "--schema", "obs_never_built", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "Started the local Spark Thrift server" in result.output
    assert "Stopped the Spark Thrift server" in result.output
    assert "has no observability tables yet" in output.read_text()
    assert not port_open("127.0.0.1", port)
