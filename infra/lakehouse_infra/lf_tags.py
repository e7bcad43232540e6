"""dbt's column classification, exported to Lake Formation LF-Tags (column level).

Reads `manifest.json`: for every model, seed and snapshot, each documented column's `meta`
(`classification: public|internal|confidential|pii|restricted`, `pii: <kind>`) and the node's own
`meta.classification` (the HR models are `restricted` as a whole). A column's tag is the strictest of
those, `pii` when only `pii:` is set, else `internal`. The resource is `<schema>.<alias or name>`, as
`generate_schema_name` makes the schema the Glue database.

Applying is idempotent: tag values missing from the `classification` LF-Tag are added first, and only
columns whose tag differs from what Lake Formation holds are (re)tagged. Columns dbt does not document
get no tag, so the analysts' tag-based grant does not match them (fail closed).

    python infra/lakehouse_infra/lf_tags.py dbt/target/manifest.json            # plan only
    python infra/lakehouse_infra/lf_tags.py dbt/target/manifest.json --apply    # plan, then apply
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TAG_KEY = "classification"
LEVELS: tuple[str, ...] = ("public", "internal", "confidential", "pii", "restricted")  # least to most strict
DEFAULT = "internal"
TAGGED_RESOURCES = ("model", "seed", "snapshot")


@dataclass(frozen=True, order=True)
class ColumnTag:
    database: str
    table: str
    column: str
    classification: str


@dataclass(frozen=True)
class Change:
    tag: ColumnTag
    current: str | None  # the value Lake Formation holds now, None when untagged

    def __str__(self) -> str:
        t = self.tag
        return f"{t.database}.{t.table}.{t.column}: {self.current or '-'} -> {t.classification}"


def strictest(*values: str | None) -> str | None:
    known = [v for v in values if v in LEVELS]
    return max(known, key=LEVELS.index) if known else None


def _meta(item: dict[str, Any]) -> dict[str, Any]:
    """dbt keeps `meta` both at the top level and under `config`; config wins, as in dbt itself."""
    return {**(item.get("meta") or {}), **((item.get("config") or {}).get("meta") or {})}


def column_classification(column: dict[str, Any], node_classification: str | None) -> str:
    meta = _meta(column)
    declared = meta.get("classification")
    if declared is not None and declared not in LEVELS:
        raise ValueError(f"column {column.get('name')!r}: unknown classification {declared!r} (one of {LEVELS})")
    implied = "pii" if meta.get("pii") else None
    return strictest(declared, implied, node_classification) or DEFAULT


def column_tags(manifest: dict[str, Any]) -> list[ColumnTag]:
    """The classification of every documented column of every model, seed and snapshot, sorted."""
    tags = []
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") not in TAGGED_RESOURCES:
            continue
        database, table = node["schema"], node.get("alias") or node["name"]
        node_classification = _meta(node).get("classification")
        for name, column in (node.get("columns") or {}).items():
            tags.append(ColumnTag(database, table, name, column_classification(column, node_classification)))
    return sorted(tags)


def _by_table(tags: list[ColumnTag]) -> dict[tuple[str, str], list[ColumnTag]]:
    tables: dict[tuple[str, str], list[ColumnTag]] = defaultdict(list)
    for tag in tags:
        tables[(tag.database, tag.table)].append(tag)
    return tables


def _columns_resource(database: str, table: str, columns: list[str]) -> dict[str, Any]:
    return {"TableWithColumns": {"DatabaseName": database, "Name": table, "ColumnNames": columns}}


def current_tags(client: Any, database: str, table: str, columns: list[str]) -> dict[str, str]:
    """column -> its `classification` value in Lake Formation now (columns without one are left out)."""
    response = client.get_resource_lf_tags(Resource=_columns_resource(database, table, columns))
    found = {}
    for column in response.get("LFTagsOnColumns", []):
        for tag in column.get("LFTags", []):
            if tag["TagKey"] == TAG_KEY and tag.get("TagValues"):
                found[column["Name"]] = tag["TagValues"][0]
    return found


def plan(client: Any, tags: list[ColumnTag]) -> list[Change]:
    """The columns whose tag must change; an empty plan means Lake Formation already matches dbt."""
    changes = []
    for (database, table), table_tags in _by_table(tags).items():
        now = current_tags(client, database, table, [t.column for t in table_tags])
        changes += [Change(t, now.get(t.column)) for t in table_tags if now.get(t.column) != t.classification]
    return changes


def ensure_tag_values(client: Any, values: set[str]) -> None:
    """Create the LF-Tag, or add the values it lacks (the stack creates it with all five)."""
    try:
        existing = set(client.get_lf_tag(TagKey=TAG_KEY).get("TagValues", []))
    except client.exceptions.EntityNotFoundException:
        client.create_lf_tag(TagKey=TAG_KEY, TagValues=sorted(values))
        return
    if not existing:
        client.create_lf_tag(TagKey=TAG_KEY, TagValues=sorted(values))
    elif missing := values - existing:
        client.update_lf_tag(TagKey=TAG_KEY, TagValuesToAdd=sorted(missing))


def apply(client: Any, changes: list[Change]) -> None:
    """Tag the changed columns, one call per table and value."""
    if not changes:
        return
    ensure_tag_values(client, {c.tag.classification for c in changes})
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for change in changes:
        t = change.tag
        groups[(t.database, t.table, t.classification)].append(t.column)
    for (database, table, value), columns in groups.items():
        response = client.add_lf_tags_to_resource(
            Resource=_columns_resource(database, table, columns), LFTags=[{"TagKey": TAG_KEY, "TagValues": [value]}]
        )
        if response.get("Failures"):
            raise RuntimeError(f"Lake Formation refused tags on {database}.{table}: {response['Failures']}")


def export(manifest_path: Path, client: Any, *, dry_run: bool) -> list[Change]:
    """Plan (and unless `dry_run`, apply) the manifest's classification; returns the plan."""
    changes = plan(client, column_tags(json.loads(manifest_path.read_text())))
    if not dry_run:
        apply(client, changes)
    return changes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Export dbt column classification to Lake Formation LF-Tags.")
    parser.add_argument("manifest", type=Path, help="dbt's target/manifest.json")
    parser.add_argument("--apply", action="store_true", help="apply the plan (default: print it only)")
    parser.add_argument("--region", help="AWS region (default: the usual AWS configuration)")
    args = parser.parse_args(argv)
    import boto3

    client = boto3.client("lakeformation", region_name=args.region)
    changes = export(args.manifest, client, dry_run=not args.apply)
    for change in changes:
        print(change)
    verb = "applied" if args.apply else "planned (dry run; --apply to apply)"
    print(f"{len(changes)} column tag change(s) {verb}")


if __name__ == "__main__":
    main()
