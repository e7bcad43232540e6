"""SFTP: the vendors' and partners' file drops, put on a real SSH server as the senders would leave them.

    --sftp sftp://USER@HOST[:PORT][/PATH]      the password from LAKEHOUSE_SFTP_PASSWORD, or a key file
                                               from LAKEHOUSE_SFTP_PRIVATE_KEY (its passphrase from
                                               LAKEHOUSE_SFTP_PRIVATE_KEY_PASSPHRASE)

PATH plays the real server's `/outbound` (its default). The real system drops one file a day: vendor
feeds as `vendor_data/vendor_feed_YYYYMMDD.csv` (business days), partner reports as
`partner_reports/weekly_partner_sales_YYYYMMDD.csv` (Mondays, for the week before). The generator's
batch files hold every day of a batch (the history, then one day), so a batch's CSV is cut into one
file per date of its cursor column (`as_of_date`, `week_end`), byte for byte the generator's lines.
Each file is written as `<name>.part` and renamed into place, so a loader listing the folder never
sees half a file. The batches dropped are listed in a publish log beside them
(`_lakehouse_publish_log.jsonl`, rewritten through a rename after each batch): publishing again drops
only later batches. File drops have no deletes: a later day is new files.

The files loader's source file (`type: files`, the embedded default's stream names and key) reads
them with `url: sftp://USER@HOST:PORT/PATH` and the secret as `${LAKEHOUSE_SFTP_PASSWORD}` or
`${LAKEHOUSE_SFTP_PRIVATE_KEY}`. The server's host key is accepted as offered, as the loader does.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import posixpath
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlsplit

from company.manifest import BatchStats
from company.publish.base import PUBLISH_LOG, check_same_company, guarded
from company.publish.changes import company_of, load_manifest
from company.spec import StreamDef
from company.systems import SYSTEMS
from lakehouse.core.errors import ConfigError, LakehouseError, SourceError
from loaders.core.redact import Redactor

T = TypeVar("T")
PASSWORD = "LAKEHOUSE_SFTP_PASSWORD"
PRIVATE_KEY = "LAKEHOUSE_SFTP_PRIVATE_KEY"
PASSPHRASE = "LAKEHOUSE_SFTP_PRIVATE_KEY_PASSPHRASE"
DEFAULT_PATH = "/outbound"
LOG_FILE = f"{PUBLISH_LOG}.jsonl"
DATE = "YYYYMMDD"  # where a drop's file name carries its date
TIMEOUT_S = 15.0
USAGE = "use --sftp sftp://USER@HOST:PORT/PATH and set LAKEHOUSE_SFTP_PASSWORD or LAKEHOUSE_SFTP_PRIVATE_KEY"


@dataclass(frozen=True)
class SftpTarget:
    host: str
    port: int
    user: str
    path: str  # the folder that plays /outbound, absolute
    password: str = field(default="", repr=False)
    private_key: str = ""  # a key file on this machine
    passphrase: str = field(default="", repr=False)

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def display(self) -> str:
        """The URI without a secret: safe to print and to write into files."""
        return f"sftp://{quote(self.user, safe='')}@{self.netloc}{quote(self.path)}"

    def redactor(self) -> Redactor:
        return Redactor([secret for secret in (self.password, self.passphrase) if secret])


def parse_target(uri: str) -> SftpTarget:
    """The server and folder `uri` names, the secret from it or the environment; errors never repeat it."""
    try:
        parts = urlsplit(uri.strip())
        port = parts.port or 22
    except ValueError:
        raise ConfigError(
            "--sftp: the URI's HOST:PORT cannot be read (the port is not a number)",
            f"{USAGE} (URL-encode `:`, `/`, `@` in a password, or leave it to LAKEHOUSE_SFTP_PASSWORD)",
        ) from None
    if parts.scheme != "sftp":
        raise ConfigError(f"--sftp: an SFTP URI starts with sftp://, not {parts.scheme or '(none)'}", USAGE)
    if not parts.hostname or not parts.username:
        raise ConfigError("--sftp: the URI names no user or no host", USAGE)
    password = unquote(parts.password) if parts.password is not None else os.environ.get(PASSWORD, "")
    key = os.environ.get(PRIVATE_KEY, "")
    if not password and not key:
        raise ConfigError(f"--sftp: no password or key for {unquote(parts.username)}@{parts.hostname}", USAGE)
    if key and not Path(key).expanduser().is_file():
        raise ConfigError(f"{PRIVATE_KEY} names {key}, which is not a file", "set it to the private key file's path")
    path = posixpath.normpath("/" + unquote(parts.path).strip("/")) if parts.path.strip("/") else DEFAULT_PATH
    return SftpTarget(
        host=parts.hostname,
        port=port,
        user=unquote(parts.username),
        path=path,
        password=password,
        private_key=str(Path(key).expanduser()) if key else "",
        passphrase=os.environ.get(PASSPHRASE, ""),
    )


@dataclass
class DropReport:
    stream: str
    folder: str  # where the stream's files are, as the server names them
    batches: int = 0  # batches dropped by this run
    files: int = 0  # files written by this run
    rows: int = 0  # CSV rows in them


def drop_folder(spec: StreamDef) -> str:
    """The stream's folder under the drop (`vendor_data`), from the real system's path."""
    return posixpath.basename(posixpath.dirname(spec.native_name))


def file_pattern(spec: StreamDef) -> str:
    return f"{drop_folder(spec)}/{posixpath.basename(spec.native_name).replace(DATE, '*')}"


def drop_files(folder: Path, spec: StreamDef, stats: BatchStats) -> dict[str, tuple[bytes, int]]:
    """A batch's CSV as the sender's files: relative name -> (content, rows), one file per date."""
    if stats.file is None:
        return {}
    with (folder / stats.file).open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    at = header.index(spec.cursor_field) if spec.cursor_field in header else None
    by_date: dict[str, list[list[str]]] = {}
    for row in rows:
        day = "".join(ch for ch in row[at] if ch.isdigit())[:8] if at is not None else ""
        by_date.setdefault(day, []).append(row)
    template = posixpath.basename(spec.native_name)
    files = {}
    for day, lines in by_date.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n" if spec.csv_dialect == "excel" else "\n")
        writer.writerows([header, *lines])
        name = template.replace(DATE, day or posixpath.splitext(posixpath.basename(stats.file))[0])
        files[f"{drop_folder(spec)}/{name}"] = (buffer.getvalue().encode("utf-8"), len(lines))
    return files


class SftpPublisher:
    system = "sftp"

    def __init__(self, target: SftpTarget, ssh: Any, sftp: Any) -> None:
        self.target = target
        self.ssh = ssh
        self.sftp = sftp
        self.where = f"SFTP at {target.display()}"

    def check_writable(self) -> None:
        """The drop folder exists (made if missing) and takes a file: checked before anything is generated."""

        def probe() -> None:
            self._mkdirs(self.target.path)
            probe = self._remote(f"{LOG_FILE}.probe")
            with self.sftp.open(probe, "wb") as handle:
                handle.write(b"")
            self.sftp.remove(probe)

        self.guard(f"writing into {self.target.path}", probe)

    def publish(self, folder: Path, *, replace: bool = False) -> list[DropReport]:
        """Drop every batch the server does not hold yet; `replace` removes the company's files first."""
        manifest = load_manifest(folder)
        company = company_of(manifest)
        specs = SYSTEMS["sftp"].streams
        if replace:
            self.guard("removing the company's files", self._remove_published)
        log = self.guard("reading the publish log", self._read_log)
        check_same_company({(e["stream"], e["batch"]): e["company"] for e in log}, company, self.where)
        done = {(e["stream"], e["batch"]) for e in log}
        reports = {spec.stream: DropReport(spec.stream, self._remote(drop_folder(spec))) for spec in specs}
        written = manifest.systems["sftp"].streams
        for batch in manifest.batches:
            entries = []
            for spec in specs:
                stats = written[spec.stream].batches.get(batch)
                if stats is None or (spec.stream, batch) in done:
                    continue
                files = drop_files(folder, spec, stats)
                self.guard(f"dropping batch {batch} of {spec.stream}", lambda files=files: self._put_all(files))
                entries.append({"stream": spec.stream, "batch": batch, "company": company, "files": sorted(files)})
                report = reports[spec.stream]
                report.batches += 1
                report.files += len(files)
                report.rows += sum(rows for _, rows in files.values())
            if entries:
                log += entries
                self.guard("writing the publish log", lambda log=log: self._write_log(log))
        return list(reports.values())

    def _remote(self, name: str) -> str:
        return posixpath.join(self.target.path, name)

    def _put_all(self, files: dict[str, tuple[bytes, int]]) -> None:
        for name, (content, _rows) in sorted(files.items()):
            self._put(name, content)

    def _put(self, name: str, content: bytes) -> None:
        final = self._remote(name)
        self._mkdirs(posixpath.dirname(final))
        with self.sftp.open(final + ".part", "wb") as handle:
            handle.write(content)
        self.sftp.posix_rename(final + ".part", final)

    def _mkdirs(self, path: str) -> None:
        if path in ("", "/"):
            return
        try:
            if stat.S_ISDIR(self.sftp.stat(path).st_mode or 0):
                return
        except FileNotFoundError:
            self._mkdirs(posixpath.dirname(path))
            self.sftp.mkdir(path)

    def _read_log(self) -> list[dict[str, Any]]:
        try:
            with self.sftp.open(self._remote(LOG_FILE), "rb") as handle:
                text = handle.read().decode("utf-8")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def _write_log(self, entries: list[dict[str, Any]]) -> None:
        text = "".join(json.dumps(entry, sort_keys=True) + "\n" for entry in entries)
        self._put(LOG_FILE, text.encode("utf-8"))

    def _remove_published(self) -> None:
        for entry in self._read_log():
            for name in entry.get("files", []):
                with contextlib.suppress(FileNotFoundError):
                    self.sftp.remove(self._remote(name))
        with contextlib.suppress(FileNotFoundError):
            self.sftp.remove(self._remote(LOG_FILE))

    def loader_source(self) -> dict[str, Any]:
        options: dict[str, Any] = {"url": self.target.display()}
        if self.target.password:
            options["password"] = f"${{{PASSWORD}}}"
        if self.target.private_key:
            options["private_key"] = f"${{{PRIVATE_KEY}}}"
            if self.target.passphrase:
                options["private_key_passphrase"] = f"${{{PASSPHRASE}}}"
        streams = [
            {
                "name": spec.stream,
                "format": "csv",
                "pattern": file_pattern(spec),
                "frequency": spec.frequency,
                "primary_key": list(spec.primary_key),
                "cursor_field": spec.cursor_field,
            }
            for spec in SYSTEMS["sftp"].streams
        ]
        return {
            "source": "sftp",
            "type": "files",
            "description": f"The synthetic company's SFTP file drops, published into {self.target.display()}.",
            "frequency": "daily",
            "options": options,
            "streams": streams,
        }

    def close(self) -> None:
        self.sftp.close()
        self.ssh.close()

    def guard(self, doing: str, work: Callable[[], T]) -> T:
        """Run `work`; a refusal of the server's becomes cause + fix, without a secret."""
        return guarded(work, lambda exc: self._failure(exc, doing))

    def _failure(self, exc: Exception, doing: str) -> SourceError:
        message = " ".join(self.target.redactor().scrub(f"{type(exc).__name__}: {exc}").split())
        return SourceError(
            f"{self.where}: {doing} failed: {message}",
            f"check that {self.target.user} may create folders and write files under {self.target.path}, "
            "or name another folder in --sftp",
        )


def connection_error(target: SftpTarget, exc: BaseException) -> SourceError:
    import paramiko

    message = " ".join(target.redactor().scrub(f"{type(exc).__name__}: {exc}").split())
    cause = f"cannot connect to SFTP at {target.display()}: {message}"
    if isinstance(exc, paramiko.AuthenticationException):
        return SourceError(
            cause,
            f"check the user and the password ({PASSWORD}) or the private key ({PRIVATE_KEY}) "
            "the server accepts for that user",
        )
    if target.private_key and isinstance(exc, paramiko.SSHException) and "key" in message.lower():
        return SourceError(cause, f"check the key file {PRIVATE_KEY} names and its passphrase ({PASSPHRASE})")
    return SourceError(
        cause, f"check that the SSH server runs and listens on {target.netloc}, or correct the host and port in --sftp"
    )


def connect(target: SftpTarget) -> SftpPublisher:
    """Logged in, with the drop folder made and writable: all checked before anything is generated."""
    ssh, sftp = _open(target)
    publisher = SftpPublisher(target, ssh, sftp)
    try:
        publisher.check_writable()
    except LakehouseError:
        publisher.close()
        raise
    return publisher


def _open(target: SftpTarget) -> tuple[Any, Any]:
    import paramiko

    ssh = paramiko.SSHClient()
    ssh.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    try:
        ssh.connect(
            target.host,
            port=target.port,
            username=target.user,
            password=target.password or None,
            key_filename=target.private_key or None,
            passphrase=target.passphrase or None,
            timeout=TIMEOUT_S,
            banner_timeout=TIMEOUT_S,
            auth_timeout=TIMEOUT_S,
            allow_agent=False,
            look_for_keys=False,
        )
        return ssh, ssh.open_sftp()
    except Exception as exc:
        failure = connection_error(target, exc)
    ssh.close()
    raise failure
