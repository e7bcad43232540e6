"""The workspace file: sources, destinations and connections, declared in YAML and validated.

Names are identities: a resource in the workspace with the name of a declared one *is* that one
(updated in place when it differs), and every other source, destination and connection of the
workspace is deleted by `apply` (a workspace is managed by one file). Credentials are written only
as `${ENV}` or `${secretsmanager:id#key}` references, resolved when the file is read; a literal
value under a key that names a secret (password, secret, token, key, credentials) is refused.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lakehouse.core.errors import ConfigError
from lakehouse.core.home import PROJECT_DIR
from loaders.core.config import resolve_references

DEFAULT_WORKSPACE = PROJECT_DIR / "airbyte" / "workspace.yml"
WORKSPACE_VARIABLE = "LAKEHOUSE_AIRBYTE_WORKSPACE"  # also `lakehouse airbyte ... --file`'s environment variable

SYNC_MODES = Literal[
    "full_refresh_overwrite",
    "full_refresh_overwrite_deduped",
    "full_refresh_append",
    "incremental_append",
    "incremental_deduped_history",
]
# A key that holds a secret: `password`, `client_secret`, `access_token`, `secret_access_key`, ... (not `*_title`).
_SECRET_KEY = re.compile(r"(^|_)(password|secret|token|api_key|access_key|private_key|secret_key)$", re.IGNORECASE)
_REFERENCE = re.compile(r"^\$\{[^}]+\}$")


class Resource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    configuration: dict[str, Any]  # `sourceType:` / `destinationType:` plus the connector's settings


class StreamSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    sync_mode: SYNC_MODES = "incremental_append"
    cursor_field: list[str] | None = None
    primary_key: list[list[str]] | None = None
    namespace: str | None = None


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule_type: Literal["manual", "cron"] = "manual"
    cron_expression: str | None = None


class ConnectionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    destination: str
    streams: list[StreamSpec]
    schedule: Schedule = Field(default_factory=Schedule)
    status: Literal["active", "inactive"] = "active"
    namespace_definition: Literal["source", "destination", "custom_format"] = "destination"
    namespace_format: str | None = None
    prefix: str = ""


class WorkspaceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    server_url: str  # e.g. https://api.airbyte.com/v1 or http://<host>:8000/api/public/v1
    workspace_id: str
    bearer_token: str | None = None
    sources: dict[str, Resource] = Field(default_factory=dict)
    destinations: dict[str, Resource] = Field(default_factory=dict)
    connections: dict[str, ConnectionSpec] = Field(default_factory=dict)
    path: Path | None = None


def workspace_file() -> Path:
    """The workspace file of this environment: LAKEHOUSE_AIRBYTE_WORKSPACE, else airbyte/workspace.yml."""
    return Path(os.environ.get(WORKSPACE_VARIABLE) or DEFAULT_WORKSPACE).expanduser()


def load_workspace(path: Path) -> WorkspaceSpec:
    """Read, check and resolve a workspace file; errors name the file, the key and the fix."""
    raw = _read(path)
    _refuse_literal_secrets(raw, path, "")
    resolved = resolve_references(raw, where=str(path))
    try:
        spec = WorkspaceSpec.model_validate(resolved)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{path}: key `{key}`: {first['msg']}", f"correct `{key}` in {path}") from None
    _check_references(spec, path)
    return spec.model_copy(update={"path": path})


def declared_connections(path: Path) -> dict[str, ConnectionSpec]:
    """The file's connections by name, read without resolving any reference: what the scheduler needs to
    draw its graph, with no secret looked up (the sync resolves them when it runs)."""
    raw = _read(path)
    connections = raw.get("connections") or {}
    if not isinstance(connections, dict):
        raise ConfigError(f"{path}: key `connections` must map names to connections", "see airbyte/README.md")
    declared = {}
    for name, document in connections.items():
        try:
            declared[str(name)] = ConnectionSpec.model_validate(document)
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(["connections", str(name), *(str(part) for part in first["loc"])])
            raise ConfigError(f"{path}: key `{key}`: {first['msg']}", f"correct `{key}` in {path}") from None
    return declared


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"Airbyte workspace file {path} does not exist", "see airbyte/README.md") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}", "fix the YAML at the position shown") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping", "see airbyte/README.md for the layout")
    return raw


def _refuse_literal_secrets(value: Any, path: Path, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{where}.{key}" if where else str(key)
            if isinstance(item, str) and _SECRET_KEY.search(str(key)) and not _REFERENCE.match(item.strip()):
                raise ConfigError(
                    f"{path}: key `{here}` holds a literal credential",
                    f"write it as a reference: `{key}: ${{ENV_VAR}}` or `${{secretsmanager:<id>#<key>}}`",
                )
            _refuse_literal_secrets(item, path, here)
    elif isinstance(value, list):
        for item in value:
            _refuse_literal_secrets(item, path, where)


def _check_references(spec: WorkspaceSpec, path: Path) -> None:
    for name, connection in spec.connections.items():
        if connection.source not in spec.sources:
            raise ConfigError(
                f"{path}: connection {name!r} uses the source {connection.source!r}, which is not declared",
                f"declare it under `sources:` or use one of: {', '.join(spec.sources) or '(none)'}",
            )
        if connection.destination not in spec.destinations:
            raise ConfigError(
                f"{path}: connection {name!r} uses the destination {connection.destination!r}, which is not declared",
                f"declare it under `destinations:` or use one of: {', '.join(spec.destinations) or '(none)'}",
            )
