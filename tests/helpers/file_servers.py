"""Remote file servers for the files family's tests, each on a free loopback port with a private folder.

- `OpenSshServer`: OpenSSH's own `sshd` (Debian `openssh-server`), run privately with its own host
  key and config: SFTP through `internal-sftp`, key authentication (an authorized key made for the
  test) and password authentication for an OS user the fixture creates (`lakehouse-sftp`, root only).
- `FtpServer`: pyftpdlib's FTP server (PyPI) with one user and a password.
- `FakeGcsServer`: fake-gcs-server (Go module, `.ci/install.d/fake-gcs-server.sh`).
- `AzuriteServer`: Azurite's blob service (npm, `.ci/install.d/azurite.sh`).

Nothing here skips: a missing binary fails with the package or install script that provides it.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers.servers import ServerError, _run, _wait_until, find_binary
from tests.helpers.spark import free_port

SFTP_USER = "lakehouse-sftp"


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
        try:
            pwd.getpwnam(SFTP_USER)
        except KeyError:
            _run(["useradd", "--system", "--no-create-home", "--shell", "/bin/sh", SFTP_USER], "useradd")
        done = subprocess.run(["chpasswd"], input=f"{SFTP_USER}:{self.password}", text=True, capture_output=True)
        if done.returncode != 0:
            raise ServerError(f"chpasswd failed: {done.stderr.strip()}")
        return SFTP_USER

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise ServerError(f"sshd exited with {self._process.returncode}; see {self.folder}/sshd.log")
        return _listening(self.port)

    def url(self, path: str = "") -> str:
        return f"sftp://{self.user}@127.0.0.1:{self.port}{self.data / path if path else self.data}"

    def stop(self) -> None:
        _stop(self._process)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


# --- FTP: pyftpdlib -----------------------------------------------------------------------------


@dataclass
class FtpServer:
    port: int = field(default_factory=free_port)
    user: str = "reports"
    password: str = field(default_factory=lambda: "Ftp-" + secrets.token_urlsafe(12))
    folder: Path | None = None
    _process: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        assert self.folder is not None
        return self.folder / "data"

    def start(self) -> FtpServer:
        self.folder = Path(tempfile.mkdtemp(prefix="lakehouse-ftp-"))
        self.data.mkdir()
        log = self.folder / "ftp.log"
        command = [sys.executable, "-m", "pyftpdlib", "-i", "127.0.0.1", "-p", str(self.port), "-d", str(self.data)]
        command += ["-u", self.user, "-P", self.password, "-w"]
        with log.open("wb") as out:
            self._process = subprocess.Popen(command, stdout=out, stderr=out)
        _wait_until(lambda: self._alive() and _listening(self.port), "pyftpdlib FTP server", log)
        return self

    def _alive(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise ServerError(f"pyftpdlib exited with {self._process.returncode}; see {self.folder}/ftp.log")
        return True

    def url(self, path: str = "") -> str:
        return f"ftp://{self.user}@127.0.0.1:{self.port}/{path}"

    def stop(self) -> None:
        _stop(self._process)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
