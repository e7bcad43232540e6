"""NoSQL servers for the tests, each on a free loopback port with a private folder.

- `FerretDbServer`: FerretDB v1 with its SQLite backend, the MongoDB wire protocol
  (built by `.ci/install.d/ferretdb.sh` into ~/.cache/lakehouse/ferretdb/bin). It has no change
  streams, so the MongoDB loader's fallback to the update field is what runs against it. Given a
  `user`, it runs with FerretDB's SCRAM authentication (`--test-enable-new-auth`) and that user,
  defined in `admin`, with a fresh random password: the only one it accepts.
- `MotoServer`: moto's DynamoDB (and DynamoDB Streams) in server mode, in a thread of the test process.
  moto keeps one state per process: every server a test session starts shows the same tables, so a
  module keeps apart by table name or region.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers.file_servers import _cache_binary, _listening, _stop
from tests.helpers.servers import ServerError, _wait_until
from tests.helpers.spark import free_port


@dataclass
class FerretDbServer:
    port: int = field(default_factory=free_port)
    folder: Path | None = None
    user: str = ""  # empty: no authentication
    password: str = field(default_factory=lambda: "Mongo-" + secrets.token_urlsafe(12), repr=False)
    _process: subprocess.Popen[bytes] | None = None

    def start(self) -> FerretDbServer:
        binary = _cache_binary("ferretdb", "ferretdb.sh", "ferretdb/bin/ferretdb")
        self.folder = Path(tempfile.mkdtemp(prefix="lakehouse-ferretdb-"))
        (self.folder / "data").mkdir()
        log = self.folder / "ferretdb.log"
        command = [binary, "--handler=sqlite", f"--sqlite-url=file:{self.folder / 'data'}/"]
        command += [f"--listen-addr=127.0.0.1:{self.port}", f"--state-dir={self.folder}", "--telemetry=disable"]
        command += [f"--debug-addr=127.0.0.1:{free_port()}", "--log-level=WARN"]
        environment = dict(os.environ)
        if self.user:
            command += ["--test-enable-new-auth", "--setup-database=admin", f"--setup-username={self.user}"]
            environment["FERRETDB_SETUP_PASSWORD"] = self.password  # not on the command line
        with log.open("wb") as out:
            self._process = subprocess.Popen(command, stdout=out, stderr=out, env=environment)
        _wait_until(self._ready, "FerretDB", log)
        return self

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise ServerError(f"FerretDB exited with {self._process.returncode}; see {self.folder}/ferretdb.log")
        return _listening(self.port)

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def client(self) -> Any:
        import pymongo

        credentials = {"username": self.user, "password": self.password, "authSource": "admin"} if self.user else {}
        return pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=10_000, tz_aware=True, **credentials)

    def stop(self) -> None:
        _stop(self._process)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class MotoServer:
    port: int = field(default_factory=free_port)
    _server: Any = None

    def start(self) -> MotoServer:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        _wait_until(lambda: _listening(self.port), "moto server", Path("/nonexistent"))
        return self

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str = "dynamodb") -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
