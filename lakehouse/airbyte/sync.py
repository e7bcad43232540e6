"""Running a connection's sync: what `lakehouse airbyte sync CONNECTION` and the scheduler's Airbyte
assets (orchestration/airbyte.py) both call.

The connection is found by its declared name among the workspace's connections (only those are listed:
the SDK's models of some sources' configurations cannot be read back, see airbyte/README.md), a sync job
is started and followed to its end (cancelled when it outlasts the timeout). The caller decides what a status other than
`succeeded` means: the command exits 1, the asset fails its step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from airbyte_api import models

from lakehouse.airbyte.client import AirbyteClient, wait_for
from lakehouse.airbyte.spec import WorkspaceSpec
from lakehouse.core.errors import SourceError


@dataclass(frozen=True)
class SyncOutcome:
    connection: str
    connection_id: str
    job_id: int
    status: str
    rows_synced: int
    bytes_synced: int

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


def sync_connection(
    spec: WorkspaceSpec,
    connection: str,
    *,
    timeout_s: float,
    poll_s: float,
    on_start: Callable[[int], None] | None = None,
    on_poll: Callable[[models.JobResponse], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncOutcome:
    """Start a sync job of `connection` and follow it to its end; raises when it cannot be started or
    times out (the job is then cancelled)."""
    client = AirbyteClient(spec)
    existing = client.connections({}, {}).get(connection)  # by name; the ids of its source and destination unused
    if existing is None:
        raise SourceError(
            f"the workspace has no connection {connection!r}",
            "declare it in the workspace file and run `lakehouse airbyte apply` first",
        )
    job_id = client.start_sync(existing.id)
    if on_start is not None:
        on_start(job_id)
    job = wait_for(client, job_id, timeout_s=timeout_s, poll_s=poll_s, on_poll=on_poll, sleep=sleep)
    return SyncOutcome(
        connection=connection,
        connection_id=existing.id,
        job_id=job_id,
        status=job_status(job),
        rows_synced=int(getattr(job, "rows_synced", None) or 0),
        bytes_synced=int(getattr(job, "bytes_synced", None) or 0),
    )


def job_status(job: object) -> str:
    value = getattr(job, "status", "?")
    return str(getattr(value, "value", value))
