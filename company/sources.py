"""Source definitions for the generated company: one YAML per system, for the embedded default.

The demo loads the generated files with the `files` loader from `${LAKEHOUSE_HOME}/samples/company`.
The YAMLs in `sources/embedded/` are written by this module (`python -m
company.sources`) and a test keeps them equal to what it would write now.
"""

from __future__ import annotations

import sys
from pathlib import Path

from company.spec import SystemDef
from company.systems import SYSTEMS
from lakehouse.core.frequency import Frequency

EMBEDDED_DIR = Path(__file__).resolve().parents[1] / "sources" / "embedded"
SAMPLES = "${LAKEHOUSE_HOME}/samples/company"


def source_yaml(system: SystemDef) -> str:
    frequency = Frequency.most_urgent([Frequency(s.frequency) for s in system.streams])
    lines = [
        f"# {system.name}: generated company data in the system's native shape (a {system.kind} system).",
        "# Written by `python -m company.sources`; edit that module, not this file.",
        f"source: {system.name}",
        "type: files",
        f"description: The synthetic company's {system.name} data, as landed from the real system.",
        f"frequency: {frequency}",
        "options:",
        f"  path: {SAMPLES}/{system.name}",
        "streams:",
    ]
    for spec in system.streams:
        lines += [
            f"  - name: {spec.stream}",
            f"    format: {spec.fmt}",
            f'    pattern: "{spec.stream}/*.{spec.fmt}"',
            f"    frequency: {spec.frequency}",
            f"    primary_key: [{', '.join(_quote(k) for k in spec.primary_key)}]",
        ]
        if spec.cursor_field:
            lines.append(f"    cursor_field: {_quote(spec.cursor_field)}")
    return "\n".join(lines) + "\n"


def _quote(name: str) -> str:
    return f'"{name}"' if not name.replace("_", "").isalnum() else name


def write_sources(folder: Path = EMBEDDED_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, system in SYSTEMS.items():
        path = folder / f"{name}.yml"
        path.write_text(source_yaml(system))
        written.append(path)
    return written


if __name__ == "__main__":
    paths = write_sources(Path(sys.argv[1]) if len(sys.argv) > 1 else EMBEDDED_DIR)
    print(f"wrote {len(paths)} source definitions to {paths[0].parent}")
