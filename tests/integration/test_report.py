"""`lakehouse report`: one self-contained HTML file, checked in a real headless browser (Debian's Chromium).

It renders the observability tables of the fixture build (test_observability.py), a load ledger
written here, and the fixture's manifest. The browser must run the page's script without error
(it marks <html data-rendered="ok">) and draw the charts (SVG with data points).
"""

from __future__ import annotations

import re
import shutil
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
from lakehouse.report.report import build_report, read_ledger, render_report, sla_hours
from lakehouse.report.store import ObservabilityStore
from tests.helpers.spark import SparkServer
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


def browse(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


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
    for section in ("tests", "anomalies", "loads", "runs", "freshness", "lineage", "coverage"):
        assert f'<section id="{section}">' in html
    assert "events_volume_drop" in html and "sales-analytics" in html
    assert "@example.com" not in html  # failing-row samples leave personal data out


def test_the_report_renders_in_a_real_browser_with_its_charts(
    built: FixtureBuild, ledger_root: LakehouseRoot, tmp_path: Path
) -> None:
    with thrift_cursor(built.spark.endpoint) as cursor:
        data = build_report(
            ObservabilityStore(cursor, SCHEMA),
            manifest=__import__("json").loads((built.target / "manifest.json").read_text()),
            ledger=read_ledger(ledger_root),
            source_frequencies={"stripe": "hourly", "kafka": "real-time", "hubspot": "daily"},
            root=ledger_root,
            now=NOW,
        )
    page = tmp_path / "report.html"
    page.write_text(render_report(data))

    dom = browse(page, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    root_tag = re.search(r"<html[^>]*>", dom.stdout).group(0)
    assert 'data-rendered="ok"' in root_tag, root_tag  # the script ran to its end, no error
    assert int(re.search(r'data-charts="(\d+)"', root_tag).group(1)) >= 10
    band_charts = re.findall(r'<svg class="chart" data-chart="band" data-points="(\d+)"', dom.stdout)
    assert sum(int(points) >= 14 for points in band_charts) >= 6  # two weeks of daily history and more
    assert dom.stdout.count('class="point anomalous"') >= 5  # each injected fault, drawn in red
    assert re.search(r'data-chart="columns" data-points="11"', dom.stdout)  # the 11 loads of the ledger
    assert re.search(r'data-chart="lineage" data-points="13"', dom.stdout)  # 3 seeds, 8 models, source, exposure
    assert re.search(r'data-chart="bars" data-points="\d+"', dom.stdout)  # model run times

    shot = tmp_path / "report.png"
    screenshot = browse(page, tmp_path / "profile-shot", "--window-size=1400,4200", f"--screenshot={shot}")
    assert screenshot.returncode == 0, screenshot.stderr[-2000:]
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
    print(f"\nreport screenshot: {shot}")


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
