"""The local Spark Thrift server: idempotent start, clean stop, clear errors when something is missing."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from lakehouse.core.errors import PlatformError
from lakehouse.core.storage import LakehouseRoot
from lakehouse.platform.jars import JarSet
from lakehouse.platform.process import pid_alive, port_open
from lakehouse.platform.spark import SparkThriftServer, ThriftEndpoint
from tests.helpers.spark import free_port


def java_processes_using(marker: str) -> list[int]:
    """Pids of running java processes whose command line mentions `marker` (a folder unique to one server)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue  # the process ended while we looked
        if args and args[0].endswith(b"java") and any(marker.encode() in arg for arg in args):
            found.append(int(cmdline.parent.name))
    return found


def test_start_twice_runs_one_server_and_stop_leaves_no_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "home"))
    root = LakehouseRoot.parse(str(tmp_path))
    server = SparkThriftServer(root, ThriftEndpoint("127.0.0.1", free_port()))
    JarSet.for_installed().resolve()

    first, started_first = server.start()
    second, started_second = server.start()

    assert started_first and not started_second
    assert second.pid == first.pid
    assert len(java_processes_using(str(server.metastore_dir))) == 1
    assert port_open(first.host, first.port)

    assert server.stop() is True
    assert not pid_alive(first.pid)
    assert not port_open(first.host, first.port)
    assert java_processes_using(str(server.metastore_dir)) == []
    assert server.status() is None
    assert server.stop() is False  # stopping again is harmless


def test_a_second_root_is_refused_while_a_server_runs(spark_local) -> None:
    other = SparkThriftServer(LakehouseRoot.parse("/tmp"), spark_local.endpoint)
    with pytest.raises(PlatformError, match="already runs for root") as error:
        other.start()
    assert "lakehouse spark stop" in error.value.fix


def test_taken_port_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "home"))
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        server = SparkThriftServer(LakehouseRoot.parse(str(tmp_path)), ThriftEndpoint("127.0.0.1", port))
        with pytest.raises(PlatformError, match=f"port {port} .* already in use") as error:
            server.start()
    assert "choose another port" in error.value.fix


def test_missing_java_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on this PATH
    server = SparkThriftServer(LakehouseRoot.parse(str(tmp_path)), ThriftEndpoint("127.0.0.1", free_port()))
    with pytest.raises(PlatformError, match="Java is not installed") as error:
        server.start()
    assert "openjdk-17" in error.value.fix


def test_wrong_java_home_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    server = SparkThriftServer(LakehouseRoot.parse(str(tmp_path)), ThriftEndpoint("127.0.0.1", free_port()))
    with pytest.raises(PlatformError, match="has no bin/java"):
        server.start()


def test_missing_jars_are_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LAKEHOUSE_JARS_DIR", str(tmp_path / "empty-cache"))
    server = SparkThriftServer(LakehouseRoot.parse(str(tmp_path)), ThriftEndpoint("127.0.0.1", free_port()))
    with pytest.raises(PlatformError, match=r"jars .* are not in") as error:
        server.start()
    assert "lakehouse spark setup" in error.value.fix


def test_unreachable_thrift_port_is_a_clear_error() -> None:
    endpoint = ThriftEndpoint("127.0.0.1", free_port())
    with pytest.raises(
        PlatformError, match=f"cannot reach the Spark Thrift server at 127.0.0.1:{endpoint.port}"
    ) as error:
        endpoint.require_reachable()
    assert "lakehouse spark start" in error.value.fix
