"""Source definitions in YAML, validated with pydantic.

One file per source, in the spirit of the seed document:

    source: shop
    type: files
    frequency: daily
    options:
      path: samples/shop          # relative paths are relative to this file
    streams:
      - name: orders
        format: csv
        pattern: "orders/*.csv"
        primary_key: [order_id]
        mode: merge               # full_refresh | append (default) | merge | cdc
        schema_policy: evolve     # evolve (default) | freeze | rescue
        partition_by: [_loaded_date]   # optional; `_loaded_date` is derived from `_loaded_at`
        soft_delete_field: is_deleted  # optional; rows it flags get `_op = 'delete'`

Values may reference secrets as `${NAME}` (an environment variable; `${NAME:-default}` falls back to
`default` when it is unset, for settings such as an API's base URL) or
`${secretsmanager:<secret-id>}` / `${secretsmanager:<secret-id>#<json-key>}` (AWS Secrets Manager).
References are resolved only when a source is built, and resolved values never reach logs:
`SourceConfig` keeps the raw text, and errors name the reference, never its value.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from lakehouse.core.errors import ConfigError
from lakehouse.core.frequency import Frequency
from loaders.core.batch import SyncMode
from loaders.core.schema_policy import SchemaPolicy

M = TypeVar("M", bound=BaseModel)
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_REFERENCE = re.compile(r"\$\{([^}]+)\}")
# Platform locations, referenced for paths: not secrets, and error messages need them readable.
NOT_SECRET = frozenset({"LAKEHOUSE_HOME", "LAKEHOUSE_ROOT", "LAKEHOUSE_SOURCES", "HOME", "PWD", "TMPDIR"})


class StreamConfig(BaseModel):
    """One stream, resolved once from its source file: everything the pipeline and the family need.

    The keys every family shares are typed fields; the family's own keys (`pattern`, `table`, ...)
    are validated by the family, once, with `family_options(Model)`.
    """

    model_config = ConfigDict(extra="allow")  # family-specific keys (pattern, format, table, ...)

    name: str
    mode: SyncMode = SyncMode.APPEND
    primary_key: list[str] = Field(default_factory=list)
    cursor_field: str | None = None
    frequency: Frequency | None = None
    schema_policy: SchemaPolicy = SchemaPolicy.EVOLVE
    partition_by: list[str] = Field(default_factory=list)
    soft_delete_field: str | None = None
    # A full refresh that reads no rows fails (leaving bronze as it was) unless the table may be empty.
    allow_empty: bool = False

    @field_validator("name")
    @classmethod
    def _snake_case(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError("must be snake_case: lowercase letters, digits and underscores")
        return value

    @model_validator(mode="after")
    def _keyed_modes_need_a_key(self) -> StreamConfig:
        if self.mode in (SyncMode.MERGE, SyncMode.CDC) and not self.primary_key:
            raise ValueError(
                f"mode `{self.mode.value}` upserts on the primary key, but `primary_key` is empty: "
                "set `primary_key: [<column>, ...]` or use `mode: append`"
            )
        return self

    _source_file: Path | None = PrivateAttr(default=None)

    @property
    def source_file(self) -> Path | None:
        """The source file that declared this stream (for relative paths and error messages)."""
        return self._source_file

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def family_options(self, model: type[M]) -> M:
        """The family's own keys of this stream, validated against `model`; errors name file, key and fix."""
        return validated_options(model, self.extra, self.source_file, f"streams[{self.name}]")


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    type: str
    description: str = ""
    frequency: Frequency = Frequency.DAILY
    options: dict[str, Any] = Field(default_factory=dict)
    streams: list[StreamConfig]
    # Set by the loader, not the file: where the file lives, for relative paths and error messages.
    path: Path | None = None

    @field_validator("source")
    @classmethod
    def _snake_case(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError("must be snake_case: lowercase letters, digits and underscores")
        return value

    def stream(self, name: str) -> StreamConfig:
        for stream in self.streams:
            if stream.name == name:
                return stream
        known = ", ".join(s.name for s in self.streams)
        raise ConfigError(f"source {self.source!r} has no stream {name!r}", f"use one of: {known} (see {self.path})")

    def family_options(self, model: type[M]) -> M:
        """`options:` with secrets resolved, validated against the family's `model` (keep it out of logs)."""
        return validated_options(model, self.resolved_options(), self.path, "options")

    def resolved_options(self) -> dict[str, Any]:
        """Options with `${...}` references resolved; keep the result out of logs."""
        return {
            key: resolve_references(value, where=f"{self.path}: options.{key}") for key, value in self.options.items()
        }

    def secret_values(self) -> list[str]:
        """The resolved values of every `${...}` reference (options and stream keys), for redaction.

        References that cannot be resolved are skipped (what is not known cannot leak), and so are
        the platform's own location variables (`NOT_SECRET`).
        """
        values: list[str] = []
        texts = [*_strings(self.options), *(text for s in self.streams for text in _strings(s.extra))]
        for text in texts:
            for match in _REFERENCE.finditer(text):
                name, has_default, _ = match.group(1).partition(":-")
                if name in NOT_SECRET or (has_default and name not in os.environ):
                    continue
                try:
                    values.append(_resolve_one(match.group(1), where=f"{self.path}"))
                except ConfigError:
                    continue
        return values

    def relative_path(self, value: str) -> Path:
        path = Path(value).expanduser()
        if not path.is_absolute() and self.path is not None:
            path = self.path.parent / path
        return path.resolve()


def load_source_config(path: Path) -> SourceConfig:
    """Read and validate one source file; errors name the file, the key and the fix."""
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"source file {path} does not exist", "check the path or run `lakehouse sources list`"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}", "fix the YAML syntax at the position shown") from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path} must hold a mapping with `source`, `type` and `streams`", "see README: adding a source"
        )
    try:
        config = SourceConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = _key_name(first["loc"], raw)
        raise ConfigError(
            f"{path}: key `{key}`: {first['msg']}",
            f"correct `{key}` in {path} ({len(exc.errors())} problem(s) in all; see README: adding a source)",
        ) from None
    config = config.model_copy(update={"path": path.resolve()})
    for stream in config.streams:
        stream._source_file = config.path
    return config


def validated_options(model: type[M], values: dict[str, Any], path: Path | None, prefix: str) -> M:
    """`values` validated against `model`; the error names the file, the key (`prefix.key`) and the fix."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "?"
        allowed = ", ".join(sorted(model.model_fields))
        fix = f"correct `{prefix}.{key}` in {path}"
        if first["type"] == "extra_forbidden":
            fix = f"remove `{prefix}.{key}` or use one of: {allowed}"
        # pydantic's message never includes the input for these errors, so no secret reaches it.
        raise ConfigError(f"{path}: key `{prefix}.{key}`: {first['msg']}", fix) from None


def _key_name(location: tuple[Any, ...], raw: dict[str, Any]) -> str:
    """`streams.1.mode` as `streams[1].mode (stream 'orders')`: the position and the name both help."""
    parts = [str(part) for part in location]
    if len(parts) >= 2 and parts[0] == "streams" and parts[1].isdigit():
        index = int(parts[1])
        key = ".".join([f"streams[{index}]", *parts[2:]])
        streams = raw.get("streams")
        if isinstance(streams, list) and index < len(streams) and isinstance(streams[index], dict):
            name = streams[index].get("name")
            if name:
                return f"{key} (stream {name!r})"
        return key
    return ".".join(parts)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def resolve_references(value: Any, *, where: str) -> Any:
    """Replace `${NAME}` / `${secretsmanager:id#key}` inside strings (recursively in lists and dicts)."""
    if isinstance(value, dict):
        return {k: resolve_references(v, where=f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_references(v, where=where) for v in value]
    if not isinstance(value, str):
        return value
    return _REFERENCE.sub(lambda match: _resolve_one(match.group(1), where), value)


def _resolve_one(reference: str, where: str) -> str:
    if reference.startswith("secretsmanager:"):
        return _secrets_manager(reference.removeprefix("secretsmanager:"), where)
    reference, has_default, default = reference.partition(":-")
    if has_default and reference not in os.environ:  # `${NAME:-default}`: a setting with a default
        return default
    if reference not in os.environ:
        raise ConfigError(
            f"{where} needs the secret ${{{reference}}}, which is not set",
            f"export {reference}=... (or reference AWS Secrets Manager as ${{secretsmanager:<id>}})",
        )
    return os.environ[reference]


def _secrets_manager(reference: str, where: str) -> str:
    import json

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    secret_id, _, key = reference.partition("#")
    try:
        client = boto3.client("secretsmanager", region_name=os.environ.get("AWS_REGION", "us-east-1"))
        secret = client.get_secret_value(SecretId=secret_id)["SecretString"]
    except (ClientError, BotoCoreError) as exc:
        raise ConfigError(
            f"{where}: AWS Secrets Manager secret {secret_id!r} could not be read ({type(exc).__name__})",
            "check the secret id, the region (AWS_REGION) and the caller's secretsmanager:GetSecretValue permission",
        ) from None
    if not key:
        return secret
    try:
        return str(json.loads(secret)[key])
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            f"{where}: secret {secret_id!r} has no JSON key {key!r}",
            "check the key after `#` in the reference",
        ) from None
