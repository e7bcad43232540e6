"""The diff between the workspace file and the workspace, and applying it.

`plan` lists, per resource, `create`, `update` (with every changed field: `streams.users.syncMode:
incremental_append -> full_refresh_overwrite`) or `delete`; an unchanged workspace gives an empty plan.
`apply` carries the plan out in dependency order (sources and destinations before the connections
that use them; connections deleted first), so running it twice changes nothing the second time.
Values under secret keys show as `(secret)`; values the server masks (`**********`) are not compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lakehouse.airbyte.client import AirbyteClient, Existing, connection_document, normalized_configuration
from lakehouse.airbyte.spec import WorkspaceSpec

MASKED = "**********"
# A key that holds a secret: `password`, `client_secret`, `access_token`, `secret_access_key`, ... (not `*_title`).
_SECRET_KEY = re.compile(r"(^|_)(password|secret|token|api_key|access_key|private_key|secret_key)$", re.IGNORECASE)
KINDS = ("source", "destination", "connection")


@dataclass(frozen=True)
class FieldChange:
    path: str
    before: Any
    after: Any

    def describe(self) -> str:
        secret = _SECRET_KEY.search(self.path.rsplit(".", 1)[-1]) is not None
        before, after = ("(secret)", "(secret)") if secret else (_show(self.before), _show(self.after))
        return f"{self.path}: {before} -> {after}"


@dataclass(frozen=True)
class Change:
    kind: str  # source | destination | connection
    name: str
    action: str  # create | update | delete
    fields: tuple[FieldChange, ...] = ()
    id: str | None = None

    def describe(self) -> str:
        sign = {"create": "+", "update": "~", "delete": "-"}[self.action]
        return f"{sign} {self.kind} {self.name}"


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.changes

    def lines(self) -> list[str]:
        if self.empty:
            return ["No changes: the workspace matches the file."]
        out = []
        for change in self.changes:
            out.append(change.describe())
            out += [f"    {f.describe()}" for f in change.fields]
        counts = {a: sum(c.action == a for c in self.changes) for a in ("create", "update", "delete")}
        out.append(f"Plan: {counts['create']} to create, {counts['update']} to update, {counts['delete']} to delete.")
        return out


@dataclass
class Workspace:
    """What the server holds, by name."""

    sources: dict[str, Existing]
    destinations: dict[str, Existing]
    connections: dict[str, Existing]

    @classmethod
    def read(cls, client: AirbyteClient) -> Workspace:
        sources, destinations = client.sources(), client.destinations()
        connections = client.connections(
            {e.id: n for n, e in sources.items()}, {e.id: n for n, e in destinations.items()}
        )
        return cls(sources, destinations, connections)


def desired(spec: WorkspaceSpec) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        "source": {
            n: {"configuration": normalized_configuration("source", n, r.configuration)}
            for n, r in spec.sources.items()
        },
        "destination": {
            n: {"configuration": normalized_configuration("destination", n, r.configuration)}
            for n, r in spec.destinations.items()
        },
        "connection": {n: connection_document(c) for n, c in spec.connections.items()},
    }


def make_plan(spec: WorkspaceSpec, workspace: Workspace) -> Plan:
    wanted = desired(spec)
    actual = {"source": workspace.sources, "destination": workspace.destinations, "connection": workspace.connections}
    plan = Plan()
    for kind in KINDS:
        for name, document in wanted[kind].items():
            existing = actual[kind].get(name)
            if existing is None:
                plan.changes.append(Change(kind, name, "create", tuple(_diff({}, document))))
                continue
            fields = tuple(_diff(existing.document, document))
            if fields:
                plan.changes.append(Change(kind, name, "update", fields, existing.id))
    for kind in reversed(KINDS):  # connections go before what they use
        for name, existing in actual[kind].items():
            if name not in wanted[kind]:
                plan.changes.append(Change(kind, name, "delete", (), existing.id))
    return plan


def apply_plan(client: AirbyteClient, spec: WorkspaceSpec, plan: Plan, workspace: Workspace) -> list[str]:
    """Carry out `plan`; returns one line per change made."""
    ids = {
        "source": {n: e.id for n, e in workspace.sources.items()},
        "destination": {n: e.id for n, e in workspace.destinations.items()},
    }
    done = []
    deletes = [c for c in plan.changes if c.action == "delete"]
    for change in [c for c in deletes if c.kind == "connection"]:
        client.delete_connection(change.id or "")
        done.append(change.describe())
    for change in [c for c in plan.changes if c.action != "delete"]:
        _upsert(client, spec, change, ids)
        done.append(change.describe())
    for change in [c for c in deletes if c.kind != "connection"]:
        if change.kind == "source":
            client.delete_source(change.id or "")
        else:
            client.delete_destination(change.id or "")
        done.append(change.describe())
    return done


def _upsert(client: AirbyteClient, spec: WorkspaceSpec, change: Change, ids: dict[str, dict[str, str]]) -> None:
    name = change.name
    if change.kind == "source":
        configuration = spec.sources[name].configuration
        if change.action == "create":
            ids["source"][name] = client.create_source(name, configuration)
        else:
            client.update_source(change.id or "", name, configuration)
    elif change.kind == "destination":
        configuration = spec.destinations[name].configuration
        if change.action == "create":
            ids["destination"][name] = client.create_destination(name, configuration)
        else:
            client.update_destination(change.id or "", name, configuration)
    else:
        connection = spec.connections[name]
        if change.action == "create":
            source, destination = ids["source"][connection.source], ids["destination"][connection.destination]
            client.create_connection(name, connection, source, destination)
        else:
            client.update_connection(change.id or "", name, connection)


def _diff(before: Any, after: Any, path: str = "") -> list[FieldChange]:
    if isinstance(before, dict) or isinstance(after, dict):  # a created or removed object: field by field
        before = before if isinstance(before, dict) else {} if before is None else before
        after = after if isinstance(after, dict) else {} if after is None else after
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[FieldChange] = []
        for key in sorted(set(before) | set(after), key=str):
            here = f"{path}.{key}" if path else str(key)
            out += _diff(before.get(key), after.get(key), here)
        return out
    if before == MASKED and after is not None:  # the server never shows a secret back
        return []
    return [] if before == after else [FieldChange(path, before, after)]


def _show(value: Any) -> str:
    return "(none)" if value is None else repr(value)
