"""A private certificate authority for the test servers' TLS listeners, made with `openssl` (Debian).

`PrivateCa(folder)` creates a CA (its key and self-signed certificate, valid two days); `issue(name)`
signs a certificate with it: for a server (subject alternative names 127.0.0.1 and localhost, server
authentication) or for a client such as an IoT device (client authentication). Every file is PEM and
every private key PKCS#8 without a passphrase, as Mosquitto, Kafka's PEM key store and OpenSSL-based
clients (paho, librdkafka) read them; `pkcs12` bundles one with its key into a PKCS#12 key store for
a Java server (Kafka).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.servers import ServerError, find_binary

DAYS = "2"
KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


class PrivateCa:
    """A CA in `folder` (`ca.pem`, `ca.key`) that issues server and client certificates."""

    def __init__(self, folder: Path, name: str = "lakehouse test CA") -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.cert = folder / "ca.pem"
        self.key = folder / "ca.key"
        _openssl(
            "req", "-x509", *KEY, "-days", DAYS, "-subj", f"/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout", str(self.key), "-out", str(self.cert),
        )  # fmt: skip

    def issue(self, name: str, *, server: bool = False) -> Certificate:
        """A certificate for `name` signed by this CA: `<name>.pem` and `<name>.key`."""
        issued = Certificate(self.folder / f"{name}.pem", self.folder / f"{name}.key")
        usage = ["-addext", "basicConstraints=critical,CA:FALSE"]
        if server:
            usage += ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-addext", "extendedKeyUsage=serverAuth"]
        else:
            usage += ["-addext", "extendedKeyUsage=clientAuth"]
        _openssl(
            "req", "-x509", *KEY, "-days", DAYS, "-subj", f"/CN={name}", *usage,
            "-CA", str(self.cert), "-CAkey", str(self.key),
            "-keyout", str(issued.key), "-out", str(issued.cert),
        )  # fmt: skip
        return issued

    def pkcs12(self, issued: Certificate, password: str) -> Path:
        """`issued` and its key as a PKCS#12 key store (`<name>.p12`) under `password`, for a Java server."""
        store = issued.cert.with_suffix(".p12")
        _openssl(
            "pkcs12", "-export", "-in", str(issued.cert), "-inkey", str(issued.key), "-certfile", str(self.cert),
            "-name", issued.cert.stem, "-passout", "env:KEYSTORE_PASSWORD", "-out", str(store),
            env={"KEYSTORE_PASSWORD": password},
        )  # fmt: skip
        return store


def _openssl(*arguments: str, env: dict[str, str] | None = None) -> None:
    command = [find_binary("openssl", "openssl"), *arguments]
    environment = {**os.environ, **(env or {})}
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=environment)
    if done.returncode != 0:
        raise ServerError(f"openssl {arguments[0]} failed ({done.returncode}): {done.stderr.strip()}")
