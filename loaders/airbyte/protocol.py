"""The Airbyte protocol, spoken to a connector process: spec, check, discover, read.

A connector is an executable (`source-faker`, from its own venv, see `venv.py`) that takes a command
and JSON files (`--config`, `--catalog`, `--state`) and prints one Airbyte message per line on stdout:
RECORD, STATE, LOG, TRACE, SPEC, CATALOG, CONNECTION_STATUS. `ConnectorProcess` hands those files over
without writing them to disk, because the config holds credentials. On Linux each one is an anonymous
in-memory file (memfd) that the connector opens as `/dev/fd/N`; it vanishes with the last process
holding it, so a SIGKILLed load leaves nothing behind. Elsewhere they go into a private temporary
folder (mode 0600), removed when the command ends. `ConnectorProcess` then runs the command and yields
the messages. The process dies with its parent (PR_SET_PDEATHSIG on Linux), so a loader killed
mid-read leaves no connector behind. A TRACE error, or a non-zero exit, becomes a `SourceError`
carrying the connector's own message (secrets are scrubbed by the pipeline).

A connector that prints nothing for `max_seconds_between_messages` (3 hours by default, Airbyte's own
heartbeat limit) is taken for hung: it is killed with every process it started (it runs in a process
group of its own) and the command fails with a `SourceError`. Without the limit a hung connector held
the load forever: source-faker's multiprocessing pool once deadlocked in a test run, its worker waiting
on a lock that no thread would release.
"""

from __future__ import annotations

import ctypes
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog

from lakehouse.core.errors import SourceError

log = structlog.get_logger("loaders.airbyte")
Message = dict[str, Any]
_STDERR_LINES = 20
MAX_SECONDS_BETWEEN_MESSAGES = 3 * 3600.0  # as Airbyte's platform: a source silent this long is hung


def _die_with_parent() -> None:
    """In the child, before exec: receive SIGKILL when the loader process dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1


class ConnectorProcess:
    """One connector executable; every method runs one protocol command in a fresh process."""

    def __init__(
        self,
        executable: Path,
        config: dict[str, Any],
        *,
        name: str,
        max_seconds_between_messages: float = MAX_SECONDS_BETWEEN_MESSAGES,
    ) -> None:
        self.executable = executable
        self.config = config
        self.name = name
        self.max_seconds_between_messages = max_seconds_between_messages

    def spec(self) -> dict[str, Any]:
        return self._single("spec", "SPEC", "spec", with_config=False)

    def check(self) -> None:
        status = self._single("check", "CONNECTION_STATUS", "connectionStatus")
        if status.get("status") != "SUCCEEDED":
            raise SourceError(
                f"Airbyte connector {self.name} check failed: {status.get('message') or 'no message'}",
                "fix the connector's `options.config` in the source file (see `lakehouse airbyte spec`)",
            )

    def discover(self) -> list[dict[str, Any]]:
        """The connector's streams (name, json_schema, supported_sync_modes, cursor and key defaults)."""
        return list(self._single("discover", "CATALOG", "catalog").get("streams", []))

    def read(self, catalog: dict[str, Any], state: list[dict[str, Any]] | None) -> Iterator[Message]:
        files = {"catalog": catalog} if state is None else {"catalog": catalog, "state": state}
        yield from self._messages("read", files)

    def _single(self, command: str, kind: str, key: str, *, with_config: bool = True) -> dict[str, Any]:
        for message in self._messages(command, {}, with_config=with_config):
            if message.get("type") == kind:
                return dict(message.get(key) or {})
        raise SourceError(
            f"Airbyte connector {self.name} printed no {kind} message for `{command}`",
            "check that the executable is an Airbyte source connector",
        )

    def _messages(self, command: str, files: dict[str, Any], *, with_config: bool = True) -> Iterator[Message]:
        documents = {"config": self.config, **files} if with_config else files
        with _document_paths(documents) as (paths, inherited):
            arguments = [str(self.executable), command]
            for flag, path in paths.items():
                arguments += [f"--{flag}", path]
            yield from self._run(arguments, command, inherited)

    def _run(self, arguments: list[str], command: str, inherited: tuple[int, ...]) -> Iterator[Message]:
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after the generator's last message
        process = subprocess.Popen(
            arguments,
            stdout=subprocess.PIPE,
            stderr=stderr,
            preexec_fn=_die_with_parent,
            env=_connector_env(),
            pass_fds=inherited,
            start_new_session=True,  # its own process group: a kill reaches the processes it started
        )
        assert process.stdout is not None
        failure: str | None = None
        finished = False
        try:
            for line in _lines(process.stdout.fileno(), self.max_seconds_between_messages, self.name, command):
                message = _parse(line)
                if message is None:
                    continue
                failure = _trace_error(message) or failure
                _log(message, self.name)
                yield message
            finished = True
        finally:
            if not finished:  # the consumer stopped early (or failed): do not leave the connector running
                _kill_group(process)
            code = process.wait()
            process.stdout.close()
        stderr.seek(0)
        tail = deque(stderr.read().decode("utf-8", errors="replace").splitlines(), maxlen=_STDERR_LINES)
        stderr.close()
        if failure is not None or code != 0:
            detail = failure or " | ".join(tail) or f"exit status {code}"
            raise SourceError(
                f"Airbyte connector {self.name} `{command}` failed: {detail}",
                "check the connector's config and the error above; re-run the load to resume from the last state",
            )


@contextmanager
def _document_paths(documents: dict[str, Any]) -> Iterator[tuple[dict[str, str], tuple[int, ...]]]:
    """The path the connector reads each JSON document from (`--config` and the rest), and the file
    descriptors it must inherit for them: memfds on Linux, a private temporary folder elsewhere."""
    if hasattr(os, "memfd_create"):
        descriptors: dict[str, int] = {}
        try:
            for flag, document in documents.items():
                descriptor = os.memfd_create(f"airbyte-{flag}", os.MFD_CLOEXEC)
                descriptors[flag] = descriptor
                os.write(descriptor, json.dumps(document).encode())
            yield {flag: f"/dev/fd/{fd}" for flag, fd in descriptors.items()}, tuple(descriptors.values())
        finally:
            for descriptor in descriptors.values():
                os.close(descriptor)
        return
    with tempfile.TemporaryDirectory(prefix="airbyte-") as folder:
        paths = {}
        for flag, document in documents.items():
            path = Path(folder) / f"{flag}.json"
            path.touch(mode=0o600)
            path.write_text(json.dumps(document))
            paths[flag] = str(path)
        yield paths, ()


def _lines(descriptor: int, seconds: float, name: str, command: str) -> Iterator[bytes]:
    """The lines read from `descriptor` until its end; a `SourceError` when nothing comes for `seconds`."""
    pending: list[bytes] = []
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        while True:
            if not selector.select(timeout=seconds):
                raise SourceError(
                    f"Airbyte connector {name} `{command}` printed nothing for {seconds:g} s and was stopped",
                    "check that the source system answers and the connector is not hung; if it is only slow, "
                    "raise `options.max_seconds_between_messages` in the source file; re-run the load to resume "
                    "from the last state",
                )
            chunk = os.read(descriptor, 1 << 16)
            if not chunk:
                break
            if b"\n" not in chunk:
                pending.append(chunk)
                continue
            *complete, rest = b"".join([*pending, chunk]).split(b"\n")
            yield from complete
            pending = [rest] if rest else []
    if pending:
        yield b"".join(pending)


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the connector and every process of its group (a pool's workers, a JVM it started)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # already gone, with its group
        process.kill()


def _connector_env() -> dict[str, str]:
    """The connector's environment: ours, minus the platform venv (the connector has its own)."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _parse(line: bytes) -> Message | None:
    text = line.strip()
    if not text.startswith(b"{"):
        return None  # connectors may print plain text; the protocol is JSON lines only
    try:
        message = json.loads(text)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def _trace_error(message: Message) -> str | None:
    if message.get("type") != "TRACE":
        return None
    trace = message.get("trace") or {}
    if trace.get("type") != "ERROR":
        return None
    error = trace.get("error") or {}
    return str(error.get("message") or error.get("internal_message") or "connector error")


def _log(message: Message, name: str) -> None:
    if message.get("type") != "LOG":
        return
    entry = message.get("log") or {}
    level = str(entry.get("level", "INFO")).upper()
    if level in ("ERROR", "FATAL", "WARN"):
        log.warning("airbyte.connector_log", connector=name, level=level, message=str(entry.get("message"))[:500])
