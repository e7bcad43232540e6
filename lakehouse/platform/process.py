"""Background servers the platform starts itself (Spark Thrift, SeaweedFS): state file, ports, stop.

Each server runs in its own process group so `stop` ends it with every child it spawned, and its
state (pid, process start time, port, what it serves) is kept in a JSON file, so `start` is idempotent
and `status` survives the command that started it. Starts are serialised by an flock on a file in the
server's state folder (two `lakehouse spark start` at once start one server), the state file is
replaced atomically (temp file + rename: a reader never sees half of it), and a state names the server
only while its pid is alive *and* started at the recorded time (a pid reused by another process after
a reboot or a crash is not mistaken for the server).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lakehouse.core.errors import PlatformError


@dataclass
class ServerState:
    name: str
    pid: int
    host: str
    port: int
    log: str
    details: dict[str, str] = field(default_factory=dict)
    started: int | None = None  # the process's start time (clock ticks after boot), to tell a reused pid


def stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat from its field 3 on (after the command name, which may hold spaces): field N
    of proc(5) is at index N - 3. Raises OSError when the process is gone."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def process_start_time(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat: when the process started; None when it cannot be read."""
    try:
        return int(stat_fields(pid)[19])
    except (OSError, IndexError, ValueError):
        return None


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_ports(count: int) -> list[int]:
    """Distinct ports free right now on loopback (held open together so none repeats)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); treat it as gone. The process's own stat is its main thread's:
    # a JVM whose main thread has ended shows "Z" there while its shutdown hooks still run and hold its
    # port, so the process is alive while any of its threads is.
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return True
    for thread in threads:
        try:
            with open(f"/proc/{pid}/task/{thread}/stat") as stat:
                if stat.read().split(") ", 1)[1][0] not in "ZX":
                    return True
        except OSError:
            continue  # that thread ended while we looked
    return False


class ManagedServer:
    """Start, find and stop one background server described by a state file."""

    def __init__(self, name: str, state_dir: Path) -> None:
        self.name = name
        self.state_dir = state_dir
        self.state_file = state_dir / "server.json"

    def read_state(self) -> ServerState | None:
        """The running server, or None. A stale state file (process gone, or its pid now another
        process's) is removed."""
        try:
            state = ServerState(**json.loads(self.state_file.read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return None
        if pid_alive(state.pid) and (state.started is None or process_start_time(state.pid) == state.started):
            return state
        self.state_file.unlink(missing_ok=True)
        return None

    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Held while a start looks for a running server and launches one: starts happen one at a time."""
        return file_lock(self.state_dir / "start.lock")

    def _write_state(self, state: ServerState) -> None:
        handle, temporary = tempfile.mkstemp(dir=self.state_dir, prefix=".server-", suffix=".json")
        try:
            with os.fdopen(handle, "w") as out:
                out.write(json.dumps(asdict(state), indent=2))
            os.replace(temporary, self.state_file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def start(
        self,
        command: list[str],
        *,
        host: str,
        port: int,
        env: dict[str, str],
        details: dict[str, str],
        timeout: float,
        ready: Callable[[], bool] | None = None,
    ) -> tuple[ServerState, bool]:
        """The running server, or a new one: (state, started_now). Concurrent starts start one server."""
        with self.lock():
            running = self.read_state()
            if running is not None:
                return running, False
            return self.launch(
                command, host=host, port=port, env=env, details=details, timeout=timeout, ready=ready
            ), True

    def launch(
        self,
        command: list[str],
        *,
        host: str,
        port: int,
        env: dict[str, str],
        details: dict[str, str],
        timeout: float,
        ready: Callable[[], bool] | None = None,
    ) -> ServerState:
        """Start `command` detached and wait until `host:port` accepts connections (and `ready()`).

        Callers that first look for a running server hold `lock()` around both (as `start` does)."""
        if port_open(host, port):
            raise PlatformError(
                f"port {port} on {host} is already in use by another process, so the {self.name} cannot start",
                f"stop that process (`ss -ltnp | grep :{port}` shows it) or choose another port",
            )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = self.state_dir / "server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.state_dir,
                start_new_session=True,
            )
        state = ServerState(self.name, process.pid, host, port, str(log), details, process_start_time(process.pid))
        self._write_state(state)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.state_file.unlink(missing_ok=True)
                raise PlatformError(
                    f"the {self.name} exited during start-up (code {process.returncode}); last lines of {log}:\n"
                    + tail(log),
                    "read the log above for the cause (Java, jars, memory or a port are the usual ones)",
                )
            if port_open(host, port) and (ready is None or ready()):
                return state
            time.sleep(0.5)
        self.stop()
        raise PlatformError(
            f"the {self.name} did not open {host}:{port} within {timeout:.0f}s; last lines of {log}:\n" + tail(log),
            "read the log above; on a slow machine raise the timeout with --timeout",
        )

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the server and every process it spawned. Returns False when none was running."""
        state = self.read_state()
        if state is None:
            return False
        _signal_group(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(state.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        _signal_group(state.pid, signal.SIGKILL)
        while pid_alive(state.pid) and time.monotonic() < deadline + 5:
            time.sleep(0.1)
        _reap(state.pid)
        self.state_file.unlink(missing_ok=True)
        return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes on `path` (created if missing), held for the `with` block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
