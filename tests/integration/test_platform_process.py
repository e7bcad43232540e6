"""Background servers the platform starts (`lakehouse.platform.process`): one server however many
`start`s race, and a state file is trusted only for the very process that wrote it."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

from lakehouse.platform.process import ManagedServer, ServerState, free_ports, process_start_time


def processes_serving(port: int) -> list[int]:
    """Pids whose command line is our `http.server` on `port` (its own, independent count)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"http.server" in words and str(port).encode() in words:
            found.append(int(entry.name))
    return found


def test_two_starts_at_once_start_one_server(tmp_path: Path) -> None:
    server = ManagedServer("test web server", tmp_path / "web")
    [port] = free_ports(1)
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    barrier = threading.Barrier(2)
    outcomes: list[tuple[ServerState, bool]] = []

    def start() -> None:
        barrier.wait(timeout=30)
        outcomes.append(
            server.start(command, host="127.0.0.1", port=port, env=dict(os.environ), details={}, timeout=30)
        )

    threads = [threading.Thread(target=start) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(outcomes) == 2, "a start failed"
        assert sorted(started for _, started in outcomes) == [False, True], "one starts it, the other finds it"
        assert len({state.pid for state, _ in outcomes}) == 1
        assert processes_serving(port) == [outcomes[0][0].pid]
    finally:
        server.stop(timeout=5)
    assert processes_serving(port) == []


def test_a_state_file_naming_a_live_pid_with_another_start_time_is_stale(tmp_path: Path) -> None:
    server = ManagedServer("test web server", tmp_path / "web")
    server.state_dir.mkdir()
    mine = ServerState("test web server", os.getpid(), "127.0.0.1", 1, "log", {}, process_start_time(os.getpid()))
    server.state_file.write_text(json.dumps(mine.__dict__))
    assert server.read_state() == mine, "the process that wrote the state is recognised"

    reused = {**mine.__dict__, "started": (mine.started or 0) + 1}  # the pid now belongs to another process
    server.state_file.write_text(json.dumps(reused))
    assert server.read_state() is None
    assert not server.state_file.exists(), "the stale state is removed"
