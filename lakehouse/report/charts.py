"""Inline SVG charts for the report: no script, no network, readable with the page saved to disk.

Every chart is an `<svg class="chart" data-chart=KIND data-points=N>`; each data point is an element
with class `point` and a `<title>` (the browser's tooltip), so the report's check can count them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

WIDTH = 640
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 76, 16, 14, 34
STATUS_COLORS = {
    "pass": "#2f9e44",
    "success": "#2f9e44",
    "warn": "#f08c00",
    "fail": "#e03131",
    "error": "#c92a2a",
    "runtime error": "#c92a2a",
    "skipped": "#adb5bd",
    "failed": "#e03131",
}


@dataclass(frozen=True)
class SeriesPoint:
    at: datetime
    value: float
    anomalous: bool = False
    label: str = ""


@dataclass(frozen=True)
class Band:
    start: datetime
    end: datetime
    low: float
    high: float
    mean: float | None = None


def _fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value)}"


def _scale(lo: float, hi: float, out_lo: float, out_hi: float):
    span = (hi - lo) or 1.0

    def scale(value: float) -> float:
        return out_lo + (value - lo) / span * (out_hi - out_lo)

    return scale


def band_chart(points: Sequence[SeriesPoint], bands: Sequence[Band], *, title: str, unit: str = "") -> str:
    """A metric over time (line and points) against the expected band of each scored bucket."""
    height = 220
    if not points:
        return _empty(title)
    times = (
        [p.at.timestamp() for p in points] + [b.start.timestamp() for b in bands] + [b.end.timestamp() for b in bands]
    )
    values = [p.value for p in points] + [v for b in bands for v in (b.low, b.high)]
    t0, t1 = min(times), max(times)
    lo, hi = min(values), max(values)
    margin = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1.0
    lo, hi = lo - margin, hi + margin
    x = _scale(t0, t1, PAD_LEFT, WIDTH - PAD_RIGHT)
    y = _scale(lo, hi, height - PAD_BOTTOM, PAD_TOP)
    parts = [_svg_open("band", len(points), height, title), _axes(height, lo, hi, t0, t1, y, unit)]
    for band in bands:
        left, right = x(band.start.timestamp()), x(band.end.timestamp())
        top, bottom = y(band.high), y(band.low)
        parts.append(
            f'<rect class="band" x="{left:.1f}" y="{top:.1f}" width="{max(right - left, 2):.1f}" '
            f'height="{max(bottom - top, 1):.1f}" fill="#4dabf7" fill-opacity="0.25">'
            f"<title>expected {escape(_fmt(band.low))} &#8211; {escape(_fmt(band.high))}{escape(unit)}</title></rect>"
        )
        if band.mean is not None:
            parts.append(
                f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(band.mean):.1f}" y2="{y(band.mean):.1f}" '
                'stroke="#4dabf7" stroke-dasharray="4 3" stroke-width="1"/>'
            )
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(p.at.timestamp()):.1f},{y(p.value):.1f}" for i, p in enumerate(points))
    parts.append(f'<path d="{path}" fill="none" stroke="#364fc7" stroke-width="1.6"/>')
    for p in points:
        color = "#e03131" if p.anomalous else "#364fc7"
        radius = 4.5 if p.anomalous else 2.6
        parts.append(
            f'<circle class="point{" anomalous" if p.anomalous else ""}" cx="{x(p.at.timestamp()):.1f}" '
            f'cy="{y(p.value):.1f}" r="{radius}" fill="{color}"><title>{escape(p.label or p.at.isoformat())}: '
            f"{escape(_fmt(p.value))}{escape(unit)}{' (anomalous)' if p.anomalous else ''}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(items: Sequence[tuple[str, float, str]], *, title: str, unit: str = "s") -> str:
    """Horizontal bars: (label, value, status) each."""
    if not items:
        return _empty(title)
    row = 18
    label_width = 250
    height = PAD_TOP + row * len(items) + 20
    top = max(v for _, v, _ in items) or 1.0
    scale = _scale(0, top, label_width, WIDTH - 60)
    parts = [_svg_open("bars", len(items), height, title)]
    for i, (label, value, status) in enumerate(items):
        y0 = PAD_TOP + i * row
        parts.append(
            f'<text x="{label_width - 6}" y="{y0 + 12}" text-anchor="end" class="axis">{escape(label[:38])}</text>'
            f'<rect class="point" x="{label_width}" y="{y0 + 2}" width="{max(scale(value) - label_width, 1):.1f}" '
            f'height="{row - 5}" fill="{STATUS_COLORS.get(status, "#5c7cfa")}"><title>{escape(label)}: '
            f"{escape(_fmt(value))}{unit} ({escape(status)})</title></rect>"
            f'<text x="{scale(value) + 4:.1f}" y="{y0 + 12}" class="axis">{escape(_fmt(value))}{unit}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def column_chart(points: Sequence[tuple[datetime, float, str, str]], *, title: str, unit: str = "") -> str:
    """Vertical bars over time: (when, value, status, label) each; colored by status."""
    height = 200
    if not points:
        return _empty(title)
    t0 = min(p[0].timestamp() for p in points)
    t1 = max(p[0].timestamp() for p in points)
    top = max(p[1] for p in points) or 1.0
    x = _scale(t0, t1 if t1 > t0 else t0 + 1, PAD_LEFT + 6, WIDTH - PAD_RIGHT - 6)
    y = _scale(0, top * 1.08, height - PAD_BOTTOM, PAD_TOP)
    parts = [_svg_open("columns", len(points), height, title), _axes(height, 0, top * 1.08, t0, t1, y, unit)]
    bar = max(3.0, min(14.0, (WIDTH - PAD_LEFT - PAD_RIGHT) / max(len(points), 1) * 0.7))
    for when, value, status, label in points:
        cx = x(when.timestamp())
        parts.append(
            f'<rect class="point" x="{cx - bar / 2:.1f}" y="{y(value):.1f}" width="{bar:.1f}" '
            f'height="{max(height - PAD_BOTTOM - y(value), 1):.1f}" fill="{STATUS_COLORS.get(status, "#5c7cfa")}">'
            f"<title>{escape(label)}: {escape(_fmt(value))}{escape(unit)} ({escape(status)})</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def status_strip(statuses: Sequence[tuple[str, str]]) -> str:
    """One square per run, oldest first: (status, tooltip) each."""
    size, gap = 11, 3
    width = max(len(statuses) * (size + gap), size)
    parts = [
        f'<svg class="chart strip" data-chart="strip" data-points="{len(statuses)}" width="{width}" height="{size}" '
        f'viewBox="0 0 {width} {size}" role="img">'
    ]
    for i, (status, tooltip) in enumerate(statuses):
        parts.append(
            f'<rect class="point" x="{i * (size + gap)}" y="0" width="{size}" height="{size}" rx="2" '
            f'fill="{STATUS_COLORS.get(status, "#adb5bd")}"><title>{escape(tooltip)}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_columns(
    runs: Sequence[tuple[str, dict[str, int]]], *, title: str, order: Sequence[str] = ("pass", "warn", "fail", "error")
) -> str:
    """One column per run (label, {status: count}), oldest first, stacked by status in `order`."""
    height = 180
    if not runs:
        return _empty(title)
    top = max(sum(counts.values()) for _, counts in runs) or 1
    y = _scale(0, top, height - PAD_BOTTOM, PAD_TOP)
    step = (WIDTH - PAD_LEFT - PAD_RIGHT) / len(runs)
    bar = max(4.0, min(28.0, step * 0.7))
    parts = [_svg_open("stacked", len(runs), height, title)]
    parts.append(
        f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{height - PAD_BOTTOM}" y2="{height - PAD_BOTTOM}" '
        'stroke="#ced4da"/>'
    )
    for value in (0, top):
        parts.append(f'<text x="{PAD_LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end" class="axis">{value}</text>')
    for i, (label, counts) in enumerate(runs):
        cx = PAD_LEFT + step * (i + 0.5)
        base = 0
        summary = ", ".join(f"{counts[s]} {s}" for s in order if counts.get(s))
        parts.append(f'<g class="point"><title>{escape(label)}: {escape(summary)}</title>')
        for status in order:
            count = counts.get(status, 0)
            if not count:
                continue
            top_y, bottom_y = y(base + count), y(base)
            parts.append(
                f'<rect x="{cx - bar / 2:.1f}" y="{top_y:.1f}" width="{bar:.1f}" '
                f'height="{max(bottom_y - top_y, 1):.1f}" fill="{STATUS_COLORS.get(status, "#adb5bd")}"/>'
            )
            base += count
        parts.append("</g>")
    parts.append(
        f'<text x="{PAD_LEFT}" y="{height - 12}" class="axis">oldest</text>'
        f'<text x="{WIDTH - PAD_RIGHT}" y="{height - 12}" text-anchor="end" class="axis">latest</text></svg>'
    )
    return "".join(parts)


def sparkline(points: Sequence[tuple[datetime, float, str]], *, title: str, unit: str = "") -> str:
    """A small line of (when, value, status) points, oldest first; failed points in red."""
    width, height, pad = 180, 30, 4
    if not points:
        return ""
    t0, t1 = points[0][0].timestamp(), points[-1][0].timestamp()
    top = max(p[1] for p in points) or 1.0
    x = _scale(t0, t1 if t1 > t0 else t0 + 1, pad, width - pad)
    y = _scale(0, top, height - pad, pad)
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(p[0].timestamp()):.1f},{y(p[1]):.1f}" for i, p in enumerate(points))
    parts = [
        f'<svg class="chart spark" data-chart="spark" data-points="{len(points)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img"><title>{escape(title)}</title>'
        f'<path d="{path}" fill="none" stroke="#364fc7" stroke-width="1.4"/>'
    ]
    for when, value, status in points:
        bad = status not in ("success", "pass")
        parts.append(
            f'<circle class="point" cx="{x(when.timestamp()):.1f}" cy="{y(value):.1f}" r="{3 if bad else 2}" '
            f'fill="{STATUS_COLORS.get(status, "#e03131") if bad else "#364fc7"}"><title>'
            f"{when.astimezone(UTC).strftime('%Y-%m-%d %H:%M')}: {escape(_fmt(value))}{escape(unit)} "
            f"({escape(status)})</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


LINEAGE_FILLS = {"pass": "#d3f9d8", "warn": "#ffe8cc", "fail": "#ffc9c9", "error": "#ffc9c9", None: "#f1f3f5"}
LINEAGE_STROKES = {
    "source": "#0ca678",
    "model": "#4c6ef5",
    "seed": "#f59f00",
    "snapshot": "#7048e8",
    "exposure": "#d6336c",
}


def lineage_chart(
    layers: Sequence[Sequence[tuple[str, str, str, str | None]]], edges: Sequence[tuple[str, str]]
) -> str:
    """A layered DAG, left to right: layers of (node_id, label, kind, test status) and parent-child edges.

    A node's fill is its tests' worst latest status (green pass, orange warn, red fail or error, grey
    untested); its border and the letter before its name its kind (S source, D seed, M model, X exposure).
    """
    col_width, row_height, box_width, box_height = 210, 26, 184, 20
    count = sum(len(layer) for layer in layers)
    if not count:
        return _empty("lineage")
    width = 12 + col_width * len(layers)
    height = PAD_TOP * 2 + row_height * max(len(layer) for layer in layers)
    where: dict[str, tuple[float, float]] = {}
    for column, layer in enumerate(layers):
        for row, (node_id, *_rest) in enumerate(layer):
            where[node_id] = (12 + column * col_width, PAD_TOP + row * row_height)
    letters = {"source": "S", "seed": "D", "model": "M", "snapshot": "N", "exposure": "X"}
    parts = [
        f'<svg class="chart lineage" data-chart="lineage" data-points="{count}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img"><title>lineage</title>'
    ]
    for parent, child in edges:
        if parent not in where or child not in where:
            continue
        (px, py), (cx, cy) = where[parent], where[child]
        x1, y1, x2, y2 = px + box_width, py + box_height / 2, cx, cy + box_height / 2
        mid = (x1 + x2) / 2
        parts.append(
            f'<path class="edge" d="M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}" '
            'fill="none" stroke="#adb5bd" stroke-width="1"/>'
        )
    for layer in layers:
        for node_id, label, kind, status in layer:
            nx, ny = where[node_id]
            fill = LINEAGE_FILLS.get(status, LINEAGE_FILLS[None])
            parts.append(
                f'<g class="point node" data-status="{escape(status or "untested")}"><rect x="{nx}" y="{ny}" '
                f'width="{box_width}" height="{box_height}" rx="4" fill="{fill}" '
                f'stroke="{LINEAGE_STROKES.get(kind, "#868e96")}" stroke-width="1.4"/>'
                f'<text x="{nx + 5}" y="{ny + 14}" class="node-kind">{letters.get(kind, "?")}</text>'
                f'<text x="{nx + 17}" y="{ny + 14}" class="node-label">{escape(label[:26])}</text>'
                f"<title>{escape(node_id)}: {escape(status or 'no tests')}</title></g>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _svg_open(kind: str, points: int, height: int, title: str) -> str:
    return (
        f'<svg class="chart" data-chart="{kind}" data-points="{points}" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img"><title>{escape(title)}</title>'
    )


def _axes(height: int, lo: float, hi: float, t0: float, t1: float, y, unit: str) -> str:
    bottom = height - PAD_BOTTOM
    parts = [
        f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{bottom}" y2="{bottom}" stroke="#ced4da"/>',
        f'<line x1="{PAD_LEFT}" x2="{PAD_LEFT}" y1="{PAD_TOP}" y2="{bottom}" stroke="#ced4da"/>',
    ]
    for value in (lo, (lo + hi) / 2, hi):
        parts.append(
            f'<text x="{PAD_LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end" class="axis">'
            f"{escape(_fmt(value))}{escape(unit)}</text>"
        )
    for stamp, anchor, x_pos in ((t0, "start", PAD_LEFT), (t1, "end", WIDTH - PAD_RIGHT)):
        label = datetime.fromtimestamp(stamp, tz=UTC).strftime("%Y-%m-%d %H:%M")
        parts.append(f'<text x="{x_pos}" y="{height - 12}" text-anchor="{anchor}" class="axis">{label}</text>')
    return "".join(parts)


def _empty(title: str) -> str:
    return f'<p class="muted">No data yet for {escape(title)}.</p>'
