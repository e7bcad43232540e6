"""Helpers shared by the test suites (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lakehouse.core.storage import LakehouseRoot
from lakehouse.platform.jars import JarSet
from lakehouse.platform.process import free_ports
from lakehouse.platform.spark import SparkThriftServer, ThriftEndpoint

PROJECT_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    return free_ports(1)[0]


@dataclass
class SparkServer:
    root: LakehouseRoot
    endpoint: ThriftEndpoint
    server: SparkThriftServer


def start_spark(root: LakehouseRoot) -> SparkServer:
    """Start a Thrift server for `root` on a free port (the jars are fetched once if missing)."""
    JarSet.for_installed().resolve()
    endpoint = ThriftEndpoint("127.0.0.1", free_port())
    server = SparkThriftServer(root, endpoint)
    server.start()
    return SparkServer(root, endpoint, server)


def stop_spark(servers: Iterable[SparkServer], grace: float = 2.0) -> None:
    """Stop test servers at once, each killed after `grace` seconds: their homes are temporary folders."""
    servers = list(servers)
    if servers:
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(lambda spark: spark.server.stop(timeout=grace), servers))
