"""Remote file servers for the files family's tests, each on a free loopback port with a private folder.

- `OpenSshServer`: OpenSSH's own `sshd` (Debian `openssh-server`), run privately with its own host
  key and config: SFTP through `internal-sftp`, key authentication (an authorized key made for the
  test) and password authentication for an OS user the fixture creates and removes (`lakehouse-sftp-<port>`,
  one per server so two test workers never reset each other's password; root only).
- `FtpServer`: pyftpdlib's FTP server (PyPI) with one user and a password; with `tls=True` FTPS
  (explicit TLS, `AUTH TLS`) that refuses plain control and data connections, with a self-signed
  certificate for 127.0.0.1 made by the fixture (`cryptography`; pyftpdlib's TLS needs pyOpenSSL).
- `FakeGcsServer`: fake-gcs-server (Go module, `.ci/install.d/fake-gcs-server.sh`): Google Cloud
  Storage's JSON API over plain HTTP, objects in a private folder, no authentication.
- `AzuriteServer`: Azurite's blob service (npm, `.ci/install.d/azurite.sh`) with its well-known
  development account `devstoreaccount1` and published key, telemetry off.

Nothing here skips: a missing binary fails with the package or install script that provides it.
"""

from __future__ import annotations

import ipaddress
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.helpers.servers import ServerError, _run, _wait_until, find_binary
from tests.helpers.spark import free_port

SFTP_USER_PREFIX = "lakehouse-sftp"


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tail(folder: Path | None, log: str) -> str:
    """The end of a server's log, for an error raised just before its folder is removed."""
    path = (folder or Path()) / log
    return path.read_text(errors="replace")[-2000:] if path.is_file() else "(no log)"


def _cache_binary(name: str, script: str, relative: str) -> str:
    path = Path.home() / ".cache" / "lakehouse" / relative
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found:
        return found
    raise ServerError(f"`{name}` is not installed; run `bash .ci/install.d/{script}` (expected at {path})")


# --- SFTP: OpenSSH ------------------------------------------------------------------------------


@dataclass
class OpenSshServer:
    """A private sshd serving SFTP; `data` is the folder tests drop files into (readable by the user)."""

    port: int = field(default_factory=free_port)
    folder: Path | None = None
    user: str = ""
    password: str = field(default_factory=lambda: "Sftp-" + secrets.token_urlsafe(12))
    _process: subprocess.Popen[bytes] | None = None
    _created_user: bool = False

    @property
    def data(self) -> Path:
        assert self.folder is not None
        return self.folder / "data"

    @property
    def private_key(self) -> Path:
        assert self.folder is not None
        return self.folder / "client_key"

    def start(self) -> OpenSshServer:
        sshd = find_binary("sshd", "openssh-server", ("/usr/sbin/sshd",))
        keygen = find_binary("ssh-keygen", "openssh-client")
        self.folder = Path(tempfile.mkdtemp(prefix="lakehouse-sftp-"))
        self.folder.chmod(0o755)
        self.user = self._login_user()
        self.data.mkdir()
        self.data.chmod(0o777)
        host_key = self.folder / "host_key"
        _run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], "ssh-keygen (host key)")
        _run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(self.private_key)], "ssh-keygen (client key)")
        authorized = self.folder / "authorized_keys"
        shutil.copy(self.private_key.with_suffix(".pub"), authorized)
        authorized.chmod(0o644)
        config = self.folder / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {host_key}",
                    f"PidFile {self.folder}/sshd.pid",
                    f"AuthorizedKeysFile {authorized}",
                    f"AllowUsers {self.user}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication yes",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "PermitRootLogin yes",
                    "Subsystem sftp internal-sftp",
                    "LogLevel INFO",
                ]
            )
            + "\n"
        )
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder
        log = self.folder / "sshd.log"
        with log.open("wb") as out:
            self._process = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)], stdout=out, stderr=out)
        _wait_until(self._ready, "OpenSSH sshd", log)
        return self

    def _login_user(self) -> str:
        """As root: an OS user with a fresh password (password auth needs one); otherwise ourselves."""
        if os.geteuid() != 0:
            return pwd.getpwuid(os.geteuid()).pw_name
        user = f"{SFTP_USER_PREFIX}-{self.port}"
        try:
            pwd.getpwnam(user)
        except KeyError:
            _run(["useradd", "--system", "--no-create-home", "--shell", "/bin/sh", user], "useradd")
        self._created_user = True
        done = subprocess.run(["chpasswd"], input=f"{user}:{self.password}", text=True, capture_output=True)
        if done.returncode != 0:
            raise ServerError(f"chpasswd failed: {done.stderr.strip()}")
        return user

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise ServerError(f"sshd exited with {self._process.returncode}; see {self.folder}/sshd.log")
        return _listening(self.port)

    def url(self, path: str = "") -> str:
        return f"sftp://{self.user}@127.0.0.1:{self.port}{self.data / path if path else self.data}"

    def stop(self) -> None:
        _stop(self._process)
        if self._created_user:
            subprocess.run(["userdel", self.user], capture_output=True, check=False)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


# --- FTP and FTPS: pyftpdlib --------------------------------------------------------------------


@dataclass
class FtpServer:
    port: int = field(default_factory=free_port)
    user: str = "reports"
    password: str = field(default_factory=lambda: "Ftp-" + secrets.token_urlsafe(12))
    tls: bool = False  # FTPS: TLS required on the control and the data connections
    folder: Path | None = None
    _process: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        assert self.folder is not None
        return self.folder / "data"

    @property
    def certificate(self) -> Path:
        """FTPS: the server's self-signed certificate (PEM), also the CA a client trusts it by."""
        assert self.folder is not None
        return self.folder / "server.crt"

    def start(self) -> FtpServer:
        self.folder = Path(tempfile.mkdtemp(prefix="lakehouse-ftp-"))
        self.data.mkdir()
        log = self.folder / "ftp.log"
        command = [sys.executable, "-m", "pyftpdlib", "-i", "127.0.0.1", "-p", str(self.port), "-d", str(self.data)]
        command += ["-u", self.user, "-P", self.password, "-w"]
        if self.tls:
            key = self.folder / "server.key"
            _self_signed_certificate(self.certificate, key)
            command += ["--tls", "--certfile", str(self.certificate), "--keyfile", str(key)]
            command += ["--tls-control-required", "--tls-data-required"]
        with log.open("wb") as out:
            self._process = subprocess.Popen(command, stdout=out, stderr=out)
        what = "pyftpdlib FTPS server" if self.tls else "pyftpdlib FTP server"
        try:
            _wait_until(lambda: self._alive() and _listening(self.port), what, log)
        except BaseException:
            self.stop()
            raise
        return self

    def _alive(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise ServerError(f"pyftpdlib exited with {self._process.returncode}:\n{_tail(self.folder, 'ftp.log')}")
        return True

    def url(self, path: str = "") -> str:
        return f"{'ftps' if self.tls else 'ftp'}://{self.user}@127.0.0.1:{self.port}/{path}"

    def stop(self) -> None:
        _stop(self._process)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def _self_signed_certificate(certificate: Path, key: Path) -> None:
    """A P-256 key and a certificate for 127.0.0.1 and localhost, signed by that key, valid for a week."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lakehouse test FTPS server")])
    now = datetime.now(UTC)
    names = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")])
    built = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=7))
        .add_extension(names, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    certificate.write_bytes(built.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key.chmod(0o600)


# --- Google Cloud Storage: fake-gcs-server --------------------------------------------------------


@dataclass
class FakeGcsServer:
    """fake-gcs-server over HTTP; buckets and objects are made through its JSON API, not the loader's client."""

    port: int = field(default_factory=free_port)
    folder: Path | None = None
    _process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeGcsServer:
        binary = _cache_binary("fake-gcs-server", "fake-gcs-server.sh", "fake-gcs-server/bin/fake-gcs-server")
        self.folder = Path(tempfile.mkdtemp(prefix="lakehouse-gcs-"))
        log = self.folder / "fake-gcs-server.log"
        command = [binary, "-scheme", "http", "-host", "127.0.0.1", "-port", str(self.port)]
        command += ["-backend", "filesystem", "-filesystem-root", str(self.folder / "storage")]
        command += ["-public-host", f"127.0.0.1:{self.port}", "-log-level", "warn"]
        with log.open("wb") as out:
            self._process = subprocess.Popen(command, stdout=out, stderr=out)
        try:
            _wait_until(self._ready, "fake-gcs-server", log)
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            tail = _tail(self.folder, "fake-gcs-server.log")
            raise ServerError(f"fake-gcs-server exited with {self._process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(f"{self.endpoint}/storage/v1/b", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def create_bucket(self, bucket: str) -> None:
        body = json.dumps({"name": bucket}).encode()
        self._request("POST", "/storage/v1/b?project=lakehouse-test", body, "application/json")

    def put(self, bucket: str, name: str, content: bytes) -> None:
        query = urllib.parse.urlencode({"uploadType": "media", "name": name})
        self._request("POST", f"/upload/storage/v1/b/{bucket}/o?{query}", content, "application/octet-stream")

    def _request(self, method: str, path: str, body: bytes, content_type: str) -> None:
        request = urllib.request.Request(
            self.endpoint + path, data=body, method=method, headers={"Content-Type": content_type}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def stop(self) -> None:
        _stop(self._process)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


# --- Azure Blob Storage: Azurite ---------------------------------------------------------------------

AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's development account key, published in its documentation (the same on every installation).
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@dataclass
class AzuriteServer:
    """Azurite's blob service; containers and blobs are written with pyarrow's Azure client."""

    port: int = field(default_factory=free_port)
    account: str = AZURITE_ACCOUNT
    key: str = AZURITE_KEY
    folder: Path | None = None
    _process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AzuriteServer:
        binary = _cache_binary("azurite-blob", "azurite.sh", "azurite/node_modules/.bin/azurite-blob")
        self.folder = Path(tempfile.mkdtemp(prefix="lakehouse-azurite-"))
        log = self.folder / "azurite.log"
        command = [binary, "--blobHost", "127.0.0.1", "--blobPort", str(self.port)]
        command += ["--location", str(self.folder / "data"), "--disableTelemetry", "--silent"]
        command += ["--skipApiVersionCheck"]  # pyarrow's bundled Azure SDK may speak a newer API version
        with log.open("wb") as out:
            self._process = subprocess.Popen(command, stdout=out, stderr=out, cwd=self.folder)
        try:
            _wait_until(self._ready, "Azurite (blob service)", log)
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise ServerError(f"Azurite exited with {self._process.returncode}:\n{_tail(self.folder, 'azurite.log')}")
        return _listening(self.port)

    def client(self) -> Any:
        from pyarrow.fs import AzureFileSystem

        authority = f"127.0.0.1:{self.port}"
        return AzureFileSystem(
            account_name=self.account,
            account_key=self.key,
            blob_storage_authority=authority,
            blob_storage_scheme="http",
            dfs_storage_authority=authority,
            dfs_storage_scheme="http",
        )

    def stop(self) -> None:
        _stop(self._process)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
