"""Source files for the real loaders: the published tables, read back through the SQL family.

One `<system>.yml` per server, with the embedded default's source and stream names (so bronze
tables and the dbt models over them stay the same) but `type: postgres|mysql`, the server's host,
port, database and user, and the password as a reference to `LAKEHOUSE_<SYSTEM>_PASSWORD`, never the
value. Streams merge on their primary key by cursor and reconcile keys on every load, so the rows the
company hard-deletes (erased users, closed stock lines, merged legacy customers) leave bronze too.

The other publishers (`mongodb`, `dynamodb`, `sftp`) say what their source file holds themselves
(`loader_source()`); `write_source_file` writes any of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from company.publish.target import Target, password_variable
from company.systems import SYSTEMS
from lakehouse.core.frequency import Frequency


def loader_source(target: Target) -> dict[str, Any]:
    system = SYSTEMS[target.system]
    options: dict[str, Any] = {"host": target.host, "port": target.port, "database": target.database}
    options["user"] = target.user
    if target.password:
        options["password"] = f"${{{password_variable(target.system)}}}"
    options |= {key: target.params[key] for key in ("sslmode", "sslrootcert") if key in target.params}
    if target.scheme == "mariadb":
        options["flavor"] = "mariadb"
    streams = [
        {
            "name": spec.stream,
            "table": ".".join(spec.native_name.split(".")[1:]),
            "frequency": spec.frequency,
            "mode": "merge",
            "primary_key": list(spec.primary_key),
            "cursor_field": spec.cursor_field,
            "deletes": "reconcile",
            "reconcile_every_hours": 0,
        }
        for spec in system.streams
    ]
    return {
        "source": system.name,
        "type": target.system,
        "description": f"The synthetic company's {system.name} data, published into {target.display()}.",
        "frequency": Frequency.most_urgent([Frequency(s.frequency) for s in system.streams]).value,
        "options": options,
        "streams": streams,
    }


def source_text(system: str, where: str, source: dict[str, Any]) -> str:
    header = (
        f"# {system}: the generated company as `lakehouse company publish` put it into {where}.\n"
        "# Written by that command; publishing again rewrites this file.\n"
    )
    return header + yaml.safe_dump(source, sort_keys=False)


def source_yaml(target: Target) -> str:
    return source_text(target.system, target.display(), loader_source(target))


def write_source_file(folder: Path, system: str, where: str, source: dict[str, Any]) -> Path:
    """`<folder>/<system>.yml`; `where` names the server without a secret."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{system}.yml"
    path.write_text(source_text(system, where, source), encoding="utf-8")
    return path


def write_loader_sources(folder: Path, targets: list[Target]) -> list[Path]:
    return [write_source_file(folder, t.system, t.display(), loader_source(t)) for t in targets]
