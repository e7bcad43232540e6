"""`lakehouse report`: one self-contained HTML dashboard about the platform's health.

Reads the observability tables through the Thrift server, the load ledger from the root (delta-rs)
and dbt's manifest.json; charts are inline SVG drawn here, styles inline. The page: a health summary
with its trend over the last runs, tests grouped by model, owner and tag (collapsible, failing-row
samples in an expandable panel), anomalies, a lineage graph by layer coloured by test status, run-time
trends, loads, freshness and coverage. Its one small script filters the tests, opens what a link
points at and marks the page rendered. The file opens from disk with no network.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from lakehouse.core.frequency import Frequency
from lakehouse.core.storage import LakehouseRoot
from lakehouse.report import charts
from lakehouse.report.store import ANOMALY_TESTS, ObservabilityStore

TEMPLATES = Path(__file__).parent / "templates"
PERIOD_HOURS = {"minute": 1 / 60, "hour": 1.0, "day": 24.0}
SECONDS_METRICS = {"freshness", "event_freshness"}
HISTORY_RUNS = 20
MAX_ANOMALY_CHARTS = 40
LAYERS = ("staging", "silver", "marts", "observability")
STATUS_ORDER = {"error": 0, "fail": 1, "warn": 2, "pass": 3}
SAMPLE_VALUE_CHARS = 80
SLOWEST_MODELS = 8


@dataclass
class ReportData:
    generated_at: datetime
    schema: str
    root: str
    summary: dict[str, Any] = field(default_factory=dict)
    tests: list[dict[str, Any]] = field(default_factory=list)
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    schema_changes: list[dict[str, Any]] = field(default_factory=list)
    loads: list[dict[str, Any]] = field(default_factory=list)
    loads_chart: str = ""
    model_times_chart: str = ""
    invocations_chart: str = ""
    invocations: list[dict[str, Any]] = field(default_factory=list)
    freshness: list[dict[str, Any]] = field(default_factory=list)
    lineage_chart: str = ""
    lineage_counts: dict[str, int] = field(default_factory=dict)
    health_chart: str = ""
    groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # "model" | "owner" | "tag" -> groups
    slowest_models: list[dict[str, Any]] = field(default_factory=list)
    load_streams: list[dict[str, Any]] = field(default_factory=list)
    coverage: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def build_report(
    store: ObservabilityStore,
    *,
    manifest: dict | None,
    ledger: list[dict[str, Any]],
    source_frequencies: dict[str, str],
    root: LakehouseRoot,
    now: datetime | None = None,
) -> ReportData:
    now = now or datetime.now(UTC)
    data = ReportData(generated_at=now, schema=store.schema, root=root.uri)
    if not store.tables():
        data.notes.append(
            f"The database {store.schema} has no observability tables yet: run `lakehouse dbt build` once."
        )
    invocations = store.invocations(HISTORY_RUNS)
    data.invocations = invocations
    ids = [i["invocation_id"] for i in invocations]
    test_rows = store.test_results(ids)
    _add_summary(data, invocations, test_rows)
    _add_tests(data, test_rows)
    _add_groups(data)
    _add_anomalies(data, store, test_rows)
    data.schema_changes = store.schema_changes()
    _add_run_times(data, store, invocations)
    _add_loads(data, ledger)
    _add_freshness(data, store.freshness_results(), ledger, source_frequencies, manifest, now)
    if manifest is None:
        data.notes.append("No manifest.json found: lineage and coverage need `dbt parse` (or any dbt command).")
    else:
        _add_lineage(data, manifest, _model_statuses(data.tests))
        _add_coverage(data, manifest)
    return data


def render_report(data: ReportData) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters["when"] = _when
    env.filters["num"] = _num
    env.filters["cell"] = _cell
    return env.get_template("report.html").render(report=data)


def write_report(data: ReportData, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(data), encoding="utf-8")
    return path


# --- sections ---------------------------------------------------------------------------------------------


def _add_summary(data: ReportData, invocations: list[dict], test_rows: list[dict]) -> None:
    last = invocations[0] if invocations else None
    latest_tests = _latest_by(test_rows, "test_unique_id", "detected_at")
    anomalous = [
        t for t in latest_tests.values() if t["test_name"] in ANOMALY_TESTS and t["status"] in ("fail", "warn")
    ]
    passing = sum(1 for t in latest_tests.values() if t["status"] == "pass")
    data.summary = {
        "last_invocation": last,
        "tests": len(latest_tests),
        "tests_passing": passing,
        "tests_failing": sum(1 for t in latest_tests.values() if t["status"] in ("fail", "error")),
        "tests_warning": sum(1 for t in latest_tests.values() if t["status"] == "warn"),
        "pass_rate": _pct(passing, len(latest_tests)),
        "anomalies": len(anomalous),
    }
    _add_health_trend(data, invocations, test_rows)


def _add_health_trend(data: ReportData, invocations: list[dict], test_rows: list[dict]) -> None:
    """Test outcomes per dbt invocation, oldest first, and how the pass rate moved since the run before."""
    by_run: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in test_rows:
        by_run[row["invocation_id"]][row["status"]] += 1
    runs = [i for i in reversed(invocations) if i["invocation_id"] in by_run]
    data.health_chart = charts.stacked_columns(
        [(f"dbt {i['command']} {_when(i['run_started_at'])}", dict(by_run[i["invocation_id"]])) for i in runs],
        title="test outcomes per run",
        order=("pass", "warn", "fail", "error"),
    )
    rates = [_pct(by_run[i["invocation_id"]].get("pass", 0), sum(by_run[i["invocation_id"]].values())) for i in runs]
    data.summary["pass_rate_change"] = rates[-1] - rates[-2] if len(rates) > 1 else None
    data.summary["runs_with_tests"] = len(runs)


def _add_tests(data: ReportData, test_rows: list[dict]) -> None:
    history: dict[str, list[dict]] = defaultdict(list)
    for row in test_rows:
        history[row["test_unique_id"]].append(row)
    order = {"error": 0, "fail": 1, "warn": 2, "pass": 3}
    tests = []
    for runs in history.values():
        runs.sort(key=lambda r: r.get("detected_at") or datetime.min.replace(tzinfo=UTC))
        latest = runs[-1]
        strip = [(r["status"], f"{_when(r.get('detected_at'))}: {r['status']}") for r in runs]
        sample = _json(latest.get("failing_rows_sample"))
        rows = sample if isinstance(sample, list) else []
        tags = _json(latest.get("tags"))
        tests.append(
            {
                **latest,
                "anchor": "t-" + "".join(c if c.isalnum() else "-" for c in latest["test_unique_id"]),
                "history": charts.status_strip(strip),
                "sample_rows": rows,
                "sample_columns": _sample_columns(rows),
                "skipped": _json(latest.get("sample_skipped_columns")) or [],
                "tags": [str(t) for t in tags] if isinstance(tags, list) else [],
            }
        )
    tests.sort(key=lambda t: (order.get(t["status"], 4), t.get("model_name") or "", t["test_name"]))
    data.tests = tests


def _sample_columns(rows: list[Any]) -> list[str]:
    """The columns of a failing-row sample, in first-seen order."""
    columns: dict[str, None] = {}
    for row in rows:
        if isinstance(row, dict):
            columns.update(dict.fromkeys(row))
    return list(columns)


def _add_groups(data: ReportData) -> None:
    """The tests grouped by model, by owner and by tag; failing groups first, each with its counts."""
    keys = {
        "model": lambda t: [t.get("model_name") or "(no model)"],
        "owner": lambda t: [t.get("owner") or "(no owner)"],
        "tag": lambda t: t["tags"] or ["(untagged)"],
    }
    for grouping, key in keys.items():
        members: dict[str, list[dict]] = defaultdict(list)
        for test in data.tests:
            for value in key(test):
                members[value].append(test)
        groups = []
        for name, tests in members.items():
            counts: dict[str, int] = defaultdict(int)
            for test in tests:
                counts[test["status"]] += 1
            worst = min(counts, key=lambda status: STATUS_ORDER.get(status, 4))
            groups.append({"name": name, "tests": tests, "counts": dict(counts), "worst": worst})
        groups.sort(key=lambda g: (STATUS_ORDER.get(g["worst"], 4), g["name"]))
        data.groups[grouping] = groups


def _model_statuses(tests: list[dict]) -> dict[str, str]:
    """model unique id -> the worst latest status of its tests."""
    worst: dict[str, str] = {}
    for test in tests:
        model = test.get("model_unique_id")
        if model and STATUS_ORDER.get(test["status"], 4) < STATUS_ORDER.get(worst.get(model, ""), 5):
            worst[model] = test["status"]
    return worst


def _add_anomalies(data: ReportData, store: ObservabilityStore, test_rows: list[dict]) -> None:
    scores = store.latest_scores()
    if not scores:
        return
    names = {t["test_unique_id"]: t for t in test_rows}
    groups: dict[tuple[str, str, str | None], list[dict]] = defaultdict(list)
    for score in scores:
        groups[(score["test_unique_id"], score["metric_key"], score.get("dimension_value"))].append(score)
    # every anomalous series, then one series of each test that has none, so every monitor shows
    chosen: list[tuple[tuple[str, str, str | None], list[dict]]] = []
    shown_tests: set[str] = set()
    for key, rows in sorted(groups.items(), key=lambda item: not any(r["is_anomalous"] for r in item[1])):
        anomalous = any(r["is_anomalous"] for r in rows)
        if anomalous or key[0] not in shown_tests:
            chosen.append((key, rows))
            shown_tests.add(key[0])
    chosen = chosen[:MAX_ANOMALY_CHARTS]
    history = defaultdict(list)
    for row in store.metric_history(sorted({key[1] for key, _ in chosen})):
        history[(row["metric_key"], row.get("dimension_value"))].append(row)
    for (test_id, metric_key, dimension), rows in chosen:
        rows.sort(key=lambda r: r["bucket_start"])
        metric = rows[0]["metric_name"]
        factor, unit = (1 / 3600, " h") if metric in SECONDS_METRICS else (1.0, "")
        flagged = {r["bucket_start"] for r in rows if r["is_anomalous"]}
        points = [
            charts.SeriesPoint(
                h["bucket_start"], h["metric_value"] * factor, h["bucket_start"] in flagged, _when(h["bucket_start"])
            )
            for h in history[(metric_key, dimension)]
            if h["metric_value"] is not None
        ]
        bands = [
            charts.Band(
                r["bucket_start"],
                r["bucket_end"],
                r["min_expected"] * factor,
                r["max_expected"] * factor,
                r["training_avg"] * factor if r["training_avg"] is not None else None,
            )
            for r in rows
            if r["min_expected"] is not None and r["max_expected"] is not None
        ]
        test = names.get(test_id, {})
        last = rows[-1]
        title = f"{metric} of {last['full_table_name']}" + (f" ({dimension})" if dimension else "")
        data.anomalies.append(
            {
                "test_unique_id": test_id,
                "test_name": test.get("test_name") or test_id.split(".")[2],
                "model_name": test.get("model_name") or last["full_table_name"],
                "owner": test.get("owner"),
                "metric": metric,
                "column_name": last.get("column_name"),
                "dimension_value": dimension,
                "anomalous": bool(flagged),
                "value": _scaled(last["metric_value"], factor),
                "low": _scaled(last["min_expected"], factor),
                "high": _scaled(last["max_expected"], factor),
                "z_score": last.get("z_score"),
                "training_set_size": last.get("training_set_size"),
                "unit": unit.strip(),
                "bucket": last["bucket_start"],
                "chart": charts.band_chart(points, bands, title=title, unit=unit),
            }
        )
    data.anomalies.sort(key=lambda a: (not a["anomalous"], a["model_name"], a["test_name"]))


def _add_run_times(data: ReportData, store: ObservabilityStore, invocations: list[dict]) -> None:
    if not invocations:
        return
    ran = [i for i in invocations if i["command"] in ("build", "run")]
    if ran:
        results = store.run_results([i["invocation_id"] for i in ran])
        latest = [r for r in results if r["invocation_id"] == ran[0]["invocation_id"]]
        bars = sorted(latest, key=lambda r: -(r["execution_time"] or 0))[:25]
        data.model_times_chart = charts.bar_chart(
            [(r["name"], float(r["execution_time"] or 0), r["status"]) for r in bars],
            title=f"model run times, invocation {ran[0]['invocation_id']}",
        )
        _add_slowest_trends(data, ran, results, [r["unique_id"] for r in bars[:SLOWEST_MODELS]])
    points = [
        (
            i["run_started_at"],
            (i["run_finished_at"] - i["run_started_at"]).total_seconds(),
            i["status"],
            f"dbt {i['command']} {_when(i['run_started_at'])}",
        )
        for i in invocations
        if i.get("run_started_at") and i.get("run_finished_at")
    ]
    data.invocations_chart = charts.column_chart(points, title="dbt invocations", unit=" s")


def _add_slowest_trends(data: ReportData, runs: list[dict], results: list[dict], slowest: list[str]) -> None:
    """For the slowest models of the latest run: their run time in each earlier run, oldest first."""
    started = {i["invocation_id"]: i["run_started_at"] for i in runs}
    series: dict[str, list[dict]] = defaultdict(list)
    for row in results:
        if row["unique_id"] in slowest and row["invocation_id"] in started:
            series[row["unique_id"]].append(row)
    for unique_id in slowest:
        rows = sorted(series[unique_id], key=lambda r: started[r["invocation_id"]])
        times = [float(r["execution_time"] or 0) for r in rows]
        data.slowest_models.append(
            {
                "name": rows[-1]["name"],
                "latest": times[-1],
                "change": times[-1] - times[-2] if len(times) > 1 else None,
                "runs": len(times),
                "trend": charts.sparkline(
                    [(started[r["invocation_id"]], float(r["execution_time"] or 0), r["status"]) for r in rows],
                    title=f"run time of {rows[-1]['name']}",
                    unit=" s",
                ),
            }
        )


def _add_loads(data: ReportData, ledger: list[dict[str, Any]]) -> None:
    if not ledger:
        data.notes.append("No load ledger (<root>/bronze/_ledger) yet: load history appears after `lakehouse load`.")
        return
    loads = sorted(ledger, key=lambda r: r["finished_at"])
    data.loads_chart = charts.column_chart(
        [
            (r["finished_at"], float(r["rows_loaded"] or 0), r["status"], f"{r['source']}.{r['stream']}")
            for r in loads[-200:]
        ],
        title="rows loaded per load",
        unit=" rows",
    )
    data.loads = list(reversed(loads[-30:]))
    streams: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for load in loads:
        streams[(load["source"], load["stream"])].append(load)
    for (source, stream), runs in sorted(streams.items()):
        last = runs[-1]
        data.load_streams.append(
            {
                "name": f"{source}.{stream}",
                "status": last["status"],
                "finished_at": last["finished_at"],
                "loads": len(runs),
                "failed": sum(1 for r in runs if r["status"] != "success"),
                "rows": sum(int(r["rows_loaded"] or 0) for r in runs),
                "trend": charts.sparkline(
                    [(r["finished_at"], float(r["rows_loaded"] or 0), r["status"]) for r in runs],
                    title=f"rows loaded per load of {source}.{stream}",
                    unit=" rows",
                ),
            }
        )
    data.load_streams.sort(key=lambda s: (s["status"] == "success", s["name"]))


def sla_hours(frequency: str | None, error_after: str | None) -> float | None:
    if frequency in set(Frequency):
        return Frequency(frequency).sla_hours
    if error_after:
        count, _, period = error_after.partition(" ")
        if count.isdigit() and period in PERIOD_HOURS:
            return int(count) * PERIOD_HOURS[period]
    return None


def _add_freshness(
    data: ReportData,
    results: list[dict],
    ledger: list[dict],
    frequencies: dict[str, str],
    manifest: dict | None,
    now: datetime,
) -> None:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    error_after = {}
    for source in (manifest or {}).get("sources", {}).values():
        threshold = ((source.get("freshness") or {}).get("error_after")) or {}
        if threshold.get("count") and threshold.get("period"):
            error_after[(source["source_name"], source["name"])] = f"{threshold['count']} {threshold['period']}"
    for load in ledger:
        if load["status"] != "success":
            continue
        key = (load["source"], load["stream"])
        if key not in rows or load["finished_at"] > rows[key]["last_loaded_at"]:
            rows[key] = {"source": key[0], "table": key[1], "last_loaded_at": load["finished_at"], "via": "load ledger"}
    for result in results:
        key = (result["source_name"], result["table_name"])
        if result.get("max_loaded_at") is None:
            continue
        known = rows.get(key)
        if known is None or result["max_loaded_at"] > known["last_loaded_at"]:
            rows[key] = {
                "source": key[0],
                "table": key[1],
                "last_loaded_at": result["max_loaded_at"],
                "via": "dbt source freshness",
            }
    for key, row in rows.items():
        frequency = frequencies.get(key[0])
        limit = sla_hours(frequency, error_after.get(key))
        age = (now - row["last_loaded_at"]).total_seconds() / 3600
        row.update(
            frequency=frequency or "-",
            sla_hours=limit,
            age_hours=age,
            status="unknown" if limit is None else ("ok" if age <= limit else "late"),
        )
    data.freshness = sorted(rows.values(), key=lambda r: (r["status"] != "late", r["source"], r["table"]))


def _layer_rank(kind: str, path: str) -> int:
    """Left-to-right column group of a node: sources and seeds, staging, silver, marts, other models, exposures."""
    if kind in ("source", "seed"):
        return 0
    if kind == "exposure":
        return 9
    return next((rank for rank, name in enumerate(LAYERS[:3], start=1) if f"/{name}/" in f"/{path}"), 4)


def _add_lineage(data: ReportData, manifest: dict, statuses: dict[str, str]) -> None:
    """The DAG laid out by layer (models outside the layer folders by depth), coloured by test status."""
    nodes: dict[str, tuple[str, str, str]] = {}  # uid -> (label, kind, path)
    parents: dict[str, list[str]] = {}
    for uid, node in manifest.get("nodes", {}).items():
        kind = node.get("resource_type")
        path = node.get("original_file_path", "")
        if kind not in ("model", "seed", "snapshot") or "/observability/" in f"/{path}":
            continue
        nodes[uid] = (node["name"], kind, path)
        parents[uid] = list(node.get("depends_on", {}).get("nodes", []))
    for uid, source in manifest.get("sources", {}).items():
        nodes[uid] = (f"{source['source_name']}.{source['name']}", "source", "")
        parents[uid] = []
    for uid, exposure in manifest.get("exposures", {}).items():
        nodes[uid] = (exposure.get("label") or exposure["name"], "exposure", "")
        parents[uid] = list(exposure.get("depends_on", {}).get("nodes", []))
    depth: dict[str, int] = {}

    def level(uid: str, seen: frozenset[str] = frozenset()) -> int:
        if uid not in depth:
            known = [p for p in parents.get(uid, []) if p in nodes and p not in seen]
            depth[uid] = 1 + max((level(p, seen | {uid}) for p in known), default=-1)
        return depth[uid]

    columns: dict[tuple[int, int], list[str]] = defaultdict(list)
    for uid, (_label, kind, path) in sorted(nodes.items(), key=lambda item: item[1][0]):
        rank = _layer_rank(kind, path)
        columns[(rank, level(uid) if rank == 4 else 0)].append(uid)
    layers = [columns[key] for key in sorted(columns)]
    # order each layer by its parents' positions, so edges cross less
    position: dict[str, float] = {}
    for layer in layers:
        layer.sort(key=lambda u: _mean([position[p] for p in parents.get(u, []) if p in position], nodes[u][0]))
        for index, uid in enumerate(layer):
            position[uid] = index
    data.lineage_chart = charts.lineage_chart(
        [[(uid, nodes[uid][0], nodes[uid][1], statuses.get(uid)) for uid in layer] for layer in layers],
        [(parent, child) for child, ps in parents.items() for parent in ps if parent in nodes and child in nodes],
    )
    counts: dict[str, int] = defaultdict(int)
    for _label, kind, _path in nodes.values():
        counts[kind] += 1
    data.lineage_counts = dict(counts)


def _add_coverage(data: ReportData, manifest: dict) -> None:
    tested: set[str] = set()
    tested_columns: set[tuple[str, str]] = set()
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "test" and node.get("attached_node"):
            tested.add(node["attached_node"])
            if node.get("column_name"):
                tested_columns.add((node["attached_node"], node["column_name"].lower()))
    layers: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for uid, node in manifest.get("nodes", {}).items():
        if node.get("resource_type") != "model":
            continue
        path = node.get("original_file_path", "")
        layer = next((name for name in LAYERS if f"/{name}/" in f"/{path}"), "other")
        stats = layers[layer]
        columns = node.get("columns") or {}
        stats["models"] += 1
        stats["tested"] += uid in tested
        stats["described"] += bool((node.get("description") or "").strip())
        stats["columns"] += len(columns)
        stats["columns_described"] += sum(1 for c in columns.values() if (c.get("description") or "").strip())
        stats["columns_tested"] += sum(1 for name in columns if (uid, name.lower()) in tested_columns)
    order = [*LAYERS[:3], "other", "observability"]
    for layer in sorted(layers, key=order.index):
        stats = layers[layer]
        data.coverage.append(
            {
                "layer": layer,
                **stats,
                "tested_pct": _pct(stats["tested"], stats["models"]),
                "described_pct": _pct(stats["described"], stats["models"]),
                "columns_described_pct": _pct(stats["columns_described"], stats["columns"]),
                "columns_tested_pct": _pct(stats["columns_tested"], stats["columns"]),
            }
        )


# --- helpers ----------------------------------------------------------------------------------------------


def _latest_by(rows: list[dict], key: str, order: str) -> dict[str, dict]:
    latest: dict[str, dict] = {}
    for row in rows:
        current = latest.get(row[key])
        if current is None or (row.get(order) and current.get(order) and row[order] > current[order]):
            latest[row[key]] = row
    return latest


def _json(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return None


def _mean(values: list[float], tiebreak: str) -> tuple[float, str]:
    return (sum(values) / len(values) if values else -1.0, tiebreak)


def _pct(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def _scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _cell(value: Any) -> str:
    """A failing-row value as shown in the sample table: JSON for structures, cut to SAMPLE_VALUE_CHARS."""
    text = "null" if value is None else value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= SAMPLE_VALUE_CHARS else text[: SAMPLE_VALUE_CHARS - 1] + "…"


def _num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def read_ledger(root: LakehouseRoot) -> list[dict[str, Any]]:
    """The load ledger's rows, or none when no load ran yet (its table is created by the first load)."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        table = DeltaTable(f"{root.uri}/bronze/_ledger", storage_options=root.storage_options() or None)
    except TableNotFoundError:
        return []
    return table.to_pyarrow_table().to_pylist()


def source_frequencies() -> dict[str, str]:
    """source name -> frequency from sources/embedded/*.yml; a broken file only loses its own entry."""
    from lakehouse.source_files import sources_dir
    from loaders.core.config import load_source_config

    frequencies = {}
    for path in sorted(sources_dir().glob("*.yml")):
        try:
            config = load_source_config(path)
        except Exception:  # a broken source file is `lakehouse sources check`'s business, not the report's
            continue
        frequencies[config.source] = str(getattr(config.frequency, "value", config.frequency))
    return frequencies
