"""The Airbyte workspace through the `airbyte-api` SDK, seen as plain, comparable documents.

Every resource is normalized the same way on both sides of a diff: a declared source's configuration
goes through the SDK's model for its `sourceType` (which fills the connector's defaults, as the server
does), and a listed one comes back through the same model; connections name their source and destination
by name. SDK and HTTP failures become `SourceError`s naming the call and the fix, never the credentials.

A configuration is always validated by its own connector's model, never by the SDK's union of all of
them: in `airbyte-api` 1.0.1 that union stops at the first earlier member whose `credentials` discriminator
is missing (a HubSpot `credentials` block has no `auth_type`, which ConvertKit's model looks for) with a
plain `ValueError`, on the way out and on the way back. So source and destination requests are built
from the SDK's request models (the connector's model inside) and sent, and their answers read, as JSON
through the SDK's own HTTP client; connections and jobs go through the SDK's methods.
"""

from __future__ import annotations

import time
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import airbyte_api
import httpx
from airbyte_api import api, errors, models
from pydantic import ValidationError

from lakehouse.airbyte.spec import ConnectionSpec, WorkspaceSpec
from lakehouse.core.errors import ConfigError, SourceError

PAGE = 100
TERMINAL = {"succeeded", "failed", "cancelled", "incomplete"}


@dataclass(frozen=True)
class Existing:
    id: str
    document: dict[str, Any]


class AirbyteClient:
    def __init__(self, spec: WorkspaceSpec) -> None:
        security = models.Security(bearer_auth=spec.bearer_token) if spec.bearer_token else None
        self.sdk = airbyte_api.AirbyteAPI(server_url=spec.server_url, security=security)
        self.workspace_id = spec.workspace_id
        self.server_url = spec.server_url
        self.bearer_token = spec.bearer_token

    # listing -------------------------------------------------------------------------------------

    def sources(self) -> dict[str, Existing]:
        return self._configured("source")

    def destinations(self) -> dict[str, Existing]:
        return self._configured("destination")

    def _configured(self, kind: str) -> dict[str, Existing]:
        """Sources or destinations, each configuration normalized by its connector's own model."""
        out = {}
        for row in self._pages(lambda offset: self._listing_json(f"{kind}s", offset)):
            configuration = normalized_configuration(kind, row["name"], row.get("configuration") or {})
            out[row["name"]] = Existing(row[f"{kind}Id"], {"configuration": configuration})
        return out

    def _listing_json(self, path: str, offset: int) -> list[dict[str, Any]]:
        params = {"workspaceIds": self.workspace_id, "limit": PAGE, "offset": offset}
        return list((self._json("GET", path, f"list {path}", params=params) or {}).get("data") or [])

    def _json(self, method: str, path: str, what: str, *, params: Any = None, body: Any = None) -> Any:
        """One request through the SDK's HTTP client with its bearer token; the answer as JSON."""
        client = self.sdk.sdk_configuration.client
        assert client is not None
        headers = {"Accept": "application/json"}
        if self.bearer_token:
            headers["Authorization"] = f"Bearer {self.bearer_token}"
        url = f"{self.server_url.rstrip('/')}/{path}"
        try:
            response = client.send(client.build_request(method, url, params=params, json=body, headers=headers))
        except httpx.HTTPError:
            raise SourceError(
                f"Airbyte API at {self.server_url} did not answer ({what})",
                "check `server_url` and that the Airbyte server is running and reachable",
            ) from None
        if response.status_code >= 400:
            raise SourceError(
                f"Airbyte API ({self.server_url}) refused to {what}: HTTP {response.status_code} {response.text[:300]}",
                "check the workspace file against the error; 401/403: check the token's reference",
            )
        return response.json() if response.content else None

    def connections(self, source_names: dict[str, str], destination_names: dict[str, str]) -> dict[str, Existing]:
        def page(offset: int) -> Any:
            request = self._listing(api.ListConnectionsRequest, offset)
            return self.sdk.connections.list_connections(request=request).connections_response

        out = {}
        for row in self._pages(page):
            document = _connection_document(_dump(row), source_names, destination_names)
            out[row.name] = Existing(row.connection_id, document)
        return out

    def _listing(self, kind: Any, offset: int) -> Any:
        return kind(workspace_ids=[self.workspace_id], limit=PAGE, offset=offset)

    def _pages(self, fetch: Callable[[int], Any]) -> list[Any]:
        rows: list[Any] = []
        for _ in range(10_000):  # bounded: 1M resources
            offset = len(rows)
            page = self._call("list", lambda offset=offset: fetch(offset))
            data = list(page) if isinstance(page, list) else list(page.data) if page is not None else []
            rows += data
            if len(data) < PAGE:
                return rows
        return rows

    # changes -------------------------------------------------------------------------------------

    def create_source(self, name: str, configuration: dict[str, Any]) -> str:
        model = connector_model("source", name, configuration)
        request = models.SourceCreateRequest(configuration=model, name=name, workspace_id=self.workspace_id)
        return str(self._json("POST", "sources", "create source", body=_dump(request))["sourceId"])

    def update_source(self, source_id: str, name: str, configuration: dict[str, Any]) -> None:
        patch = models.SourcePatchRequest(configuration=connector_model("source", name, configuration), name=name)
        self._json("PATCH", f"sources/{source_id}", "update source", body=_dump(patch))

    def delete_source(self, source_id: str) -> None:
        self._json("DELETE", f"sources/{source_id}", "delete source")

    def create_destination(self, name: str, configuration: dict[str, Any]) -> str:
        model = connector_model("destination", name, configuration)
        request = models.DestinationCreateRequest(configuration=model, name=name, workspace_id=self.workspace_id)
        return str(self._json("POST", "destinations", "create destination", body=_dump(request))["destinationId"])

    def update_destination(self, destination_id: str, name: str, configuration: dict[str, Any]) -> None:
        model = connector_model("destination", name, configuration)
        patch = models.DestinationPatchRequest(configuration=model, name=name)
        self._json("PATCH", f"destinations/{destination_id}", "update destination", body=_dump(patch))

    def delete_destination(self, destination_id: str) -> None:
        self._json("DELETE", f"destinations/{destination_id}", "delete destination")

    def create_connection(self, name: str, spec: ConnectionSpec, source_id: str, destination_id: str) -> str:
        request = models.ConnectionCreateRequest(
            name=name, source_id=source_id, destination_id=destination_id, **_connection_fields(spec)
        )
        response = self._call("create connection", lambda: self.sdk.connections.create_connection(request=request))
        return response.connection_response.connection_id

    def update_connection(self, connection_id: str, name: str, spec: ConnectionSpec) -> None:
        patch = models.ConnectionPatchRequest(name=name, **_connection_fields(spec))
        request = api.PatchConnectionRequest(connection_id=connection_id, connection_patch_request=patch)
        self._call("update connection", lambda: self.sdk.connections.patch_connection(request=request))

    def delete_connection(self, connection_id: str) -> None:
        request = api.DeleteConnectionRequest(connection_id=connection_id)
        self._call("delete connection", lambda: self.sdk.connections.delete_connection(request=request))

    # jobs ----------------------------------------------------------------------------------------

    def start_sync(self, connection_id: str) -> int:
        request = models.JobCreateRequest(connection_id=connection_id, job_type=models.JobTypeEnum.SYNC)
        return int(
            self._call("start a sync job", lambda: self.sdk.jobs.create_job(request=request)).job_response.job_id
        )

    def job(self, job_id: int) -> models.JobResponse:
        request = api.GetJobRequest(job_id=job_id)
        return self._call("read the job", lambda: self.sdk.jobs.get_job(request=request)).job_response

    def cancel(self, job_id: int) -> None:
        request = api.CancelJobRequest(job_id=job_id)
        self._call("cancel the job", lambda: self.sdk.jobs.cancel_job(request=request))

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except errors.AirbyteAPIError as exc:  # the server answered with an error status
            status = getattr(exc, "status_code", "?")
            body = str(getattr(exc, "body", "") or "")[:300]
            raise SourceError(
                f"Airbyte API ({self.server_url}) refused to {what}: HTTP {status} {body}",
                "check the workspace file against the error; 401/403: check the token's reference",
            ) from None
        except errors.NoResponseError:
            raise SourceError(
                f"Airbyte API at {self.server_url} did not answer ({what})",
                "check `server_url` and that the Airbyte server is running and reachable",
            ) from None
        except ValidationError as exc:
            raise ConfigError(
                f"Airbyte rejected the shape of a request to {what}: {exc.errors()[0]['msg']}",
                "compare the resource's configuration with the connector's spec",
            ) from None


def normalized_configuration(kind: str, name: str, configuration: dict[str, Any]) -> dict[str, Any]:
    """A configuration as its connector's SDK model (and so the server) completes it with defaults."""
    return _dump(connector_model(kind, name, configuration))


def connector_model(kind: str, name: str, configuration: dict[str, Any]) -> Any:
    """The configuration as the SDK model of its `sourceType` / `destinationType` (`SourceHubspot`, ...)."""
    key = f"{kind}Type"
    models_by_type = connector_models(kind)
    model = models_by_type.get(str(configuration.get(key)))
    if model is None:
        raise ConfigError(
            f"{kind} {name!r}: `{key}: {configuration.get(key)}` is not an Airbyte connector the API knows",
            f"set `{kind}s.{name}.configuration.{key}` to one of the API's types (e.g. "
            f"{', '.join(sorted(models_by_type)[:5])}, ...)",
        )
    try:
        return model.model_validate(configuration)
    except (ValidationError, ValueError) as exc:
        detail = exc.errors()[0] if isinstance(exc, ValidationError) else None
        where = ".".join(str(part) for part in detail["loc"]) if detail else ""
        message = f"{where}: {detail['msg']}" if detail else str(exc).split(" in {")[0]
        raise ConfigError(
            f"{kind} {name!r}: configuration does not match Airbyte's {model.__name__} ({message})",
            f"check `{kind}s.{name}.configuration` against the connector's documentation",
        ) from None


@cache
def connector_models(kind: str) -> dict[str, type]:
    """`{"hubspot": SourceHubspot, ...}`: the members of the SDK's configuration union, by type name."""
    union: Any = models.SourceConfiguration if kind == "source" else models.DestinationConfiguration
    key = f"{kind}Type"
    while not typing.get_args(union) and hasattr(union, "__value__"):  # a type alias
        union = union.__value__
    while typing.get_origin(union) is typing.Annotated or hasattr(union, "__metadata__"):
        union = getattr(typing.get_args(union)[0], "__value__", typing.get_args(union)[0])
    out = {}
    for member in typing.get_args(union):
        for field_name, info in member.model_fields.items():
            if (info.alias or field_name) == key and info.default is not None:
                out[str(getattr(info.default, "value", info.default))] = member
    return out


def connection_document(spec: ConnectionSpec) -> dict[str, Any]:
    """A declared connection in the same shape `AirbyteClient.connections` gives an existing one."""
    request = models.ConnectionCreateRequest(source_id="-", destination_id="-", **_connection_fields(spec))
    document = _connection_document(_dump(request), {}, {})
    return {**document, "source": spec.source, "destination": spec.destination}


def _connection_fields(spec: ConnectionSpec) -> dict[str, Any]:
    streams = [
        models.StreamConfiguration(
            name=stream.name,
            sync_mode=models.ConnectionSyncModeEnum(stream.sync_mode),
            cursor_field=stream.cursor_field,
            primary_key=stream.primary_key,
            namespace=stream.namespace,
        )
        for stream in spec.streams
    ]
    schedule = models.AirbyteAPIConnectionSchedule(
        schedule_type=models.ScheduleTypeEnum(spec.schedule.schedule_type),
        cron_expression=spec.schedule.cron_expression,
    )
    return {
        "configurations": models.StreamConfigurations(streams=streams),
        "schedule": schedule,
        "status": models.ConnectionStatusEnum(spec.status),
        "namespace_definition": models.NamespaceDefinitionEnum(spec.namespace_definition),
        "namespace_format": spec.namespace_format,
        "prefix": spec.prefix,
    }


def _connection_document(raw: dict[str, Any], sources: dict[str, str], destinations: dict[str, str]) -> dict[str, Any]:
    streams = {}
    for stream in (raw.get("configurations") or {}).get("streams") or []:
        streams[stream["name"]] = {
            key: stream.get(key) for key in ("syncMode", "cursorField", "primaryKey", "namespace") if stream.get(key)
        }
    schedule = raw.get("schedule") or {}
    return {
        "source": sources.get(raw.get("sourceId", ""), raw.get("sourceId")),
        "destination": destinations.get(raw.get("destinationId", ""), raw.get("destinationId")),
        "status": raw.get("status"),
        "schedule": {k: schedule[k] for k in ("scheduleType", "cronExpression") if schedule.get(k)},
        "namespaceDefinition": raw.get("namespaceDefinition"),
        "namespaceFormat": raw.get("namespaceFormat") or None,
        "prefix": raw.get("prefix") or "",
        "streams": streams,
    }


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


def wait_for(
    client: AirbyteClient,
    job_id: int,
    *,
    timeout_s: float,
    poll_s: float,
    on_poll: Callable[[models.JobResponse], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> models.JobResponse:
    """Poll the job until it ends; on timeout cancel it and raise, naming the job."""
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.job(job_id)
        if on_poll is not None:
            on_poll(job)
        if str(job.status.value if hasattr(job.status, "value") else job.status) in TERMINAL:
            return job
        if time.monotonic() >= deadline:
            client.cancel(job_id)
            raise SourceError(
                f"Airbyte sync job {job_id} was still {job.status} after {timeout_s:.0f}s; it was cancelled",
                "raise --timeout for large syncs, or look at the job's logs in Airbyte",
            )
        sleep(poll_s)
