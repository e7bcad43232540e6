"""Reading and rewriting fields of nested records by dotted path."""

from __future__ import annotations

from typing import Any

from company.spec import Record

_MISSING = object()


def _container(record: Record, path: str) -> tuple[dict[str, Any] | None, str]:
    """The dict holding the last key of `path`; DynamoDB items are looked up inside "Item"."""
    parts = path.split(".")
    node: Any = record
    if parts[0] not in record and isinstance(record.get("Item"), dict):
        node = record["Item"]
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node:
            return None, parts[-1]
        node = node[part]
    return (node, parts[-1]) if isinstance(node, dict) else (None, parts[-1])


def get(record: Record, path: str) -> Any:
    node, key = _container(record, path)
    return node.get(key, _MISSING) if node is not None else _MISSING


def has(record: Record, path: str) -> bool:
    return get(record, path) is not _MISSING


def set_value(record: Record, path: str, value: Any) -> bool:
    node, key = _container(record, path)
    if node is None or key not in node:
        return False
    node[key] = value
    return True


def remove(record: Record, path: str) -> bool:
    node, key = _container(record, path)
    if node is None or key not in node:
        return False
    del node[key]
    return True
