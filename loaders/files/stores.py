"""Where a files source's files live: a local folder, or a remote file system (SFTP, FTP, object stores).

A store lists the files under its base that match a glob, each with a *stat* (`size:mtime`, cheap to
get from a listing), and fetches one file as a local path together with the SHA-256 of its content.
The stream decides from the stat whether a file may have changed and from the digest whether it
really did, so a file dropped again with the same content is not loaded twice.

Remote stores are fsspec file systems: SFTP (paramiko), FTP/FTPS (ftplib), and S3, Google Cloud
Storage and Azure Blob through pyarrow's own clients wrapped as fsspec file systems
(`ObjectStoreFileSystem`). A remote file is downloaded to a temporary file (streamed, bounded memory)
and removed once it has been read.
"""

from __future__ import annotations

import hashlib
import posixpath
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from fsspec.implementations.arrow import ArrowFSWrapper

from lakehouse.core.errors import LakehouseError
from loaders.core.retry import TransientSourceError

CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Fetched:
    path: Path  # a local file holding the content
    digest: str  # SHA-256 of the content, hex


class FileStore(Protocol):
    def describe(self, name: str = "") -> str:
        """The file (or the base) as messages name it, with no credentials."""
        ...

    def list(self, pattern: str) -> dict[str, str]:
        """Files under the base matching `pattern`: name relative to the base -> `size:mtime`."""
        ...

    def fetch(self, name: str) -> Any:
        """A context manager yielding `Fetched` for one file."""
        ...

    def exists(self) -> bool: ...


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


class LocalStore:
    """A folder on this machine (or a mounted share): files are read in place."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def describe(self, name: str = "") -> str:
        return str(self.folder / name) if name else str(self.folder)

    def list(self, pattern: str) -> dict[str, str]:
        found = {}
        for path in self.folder.glob(pattern):
            if path.is_file():
                stat = path.stat()
                found[path.relative_to(self.folder).as_posix()] = f"{stat.st_size}:{stat.st_mtime_ns}"
        return found

    @contextmanager
    def fetch(self, name: str) -> Iterator[Fetched]:
        path = self.folder / name
        yield Fetched(path, file_digest(path))

    def exists(self) -> bool:
        return self.folder.is_dir()


class RemoteStore:
    """An fsspec file system and a base path on it; `where` is the base as a URL without credentials.

    The file system is made (and, for SFTP and FTP, connected) on first use, not when the source is built.
    """

    def __init__(self, connect: Callable[[], Any], base: str, where: str) -> None:
        self._connect = connect
        self._fs: Any = None
        self.base = base.rstrip("/")
        self.where = where.rstrip("/")

    @property
    def fs(self) -> Any:
        if self._fs is None:
            self._fs = self._connect()
        return self._fs

    def describe(self, name: str = "") -> str:
        return f"{self.where}/{name}" if name else self.where

    def list(self, pattern: str) -> dict[str, str]:
        glob = posixpath.join(self.base, pattern) if self.base else pattern
        try:
            self.fs.invalidate_cache()
            matches = self.fs.glob(glob, detail=True)
        except FileNotFoundError:
            return {}
        except LakehouseError:  # refused credentials or certificate, bad options: says what to fix
            raise
        except Exception as exc:  # a dropped connection or a refused listing: worth another try
            raise TransientSourceError(f"cannot list {self.describe(pattern)}: {type(exc).__name__}: {exc}") from None
        found = {}
        for path, info in matches.items():
            if info.get("type") != "file":
                continue
            name = _relative(self.fs._strip_protocol(path), self.fs._strip_protocol(self.base))
            found[name] = f"{int(info.get('size') or 0)}:{_mtime(info)}"
        return found

    @contextmanager
    def fetch(self, name: str) -> Iterator[Fetched]:
        with tempfile.TemporaryDirectory(prefix="lakehouse-fetch-") as folder:
            local = Path(folder) / posixpath.basename(name)
            digest = hashlib.sha256()
            try:
                with self.fs.open(posixpath.join(self.base, name), "rb") as remote, local.open("wb") as out:
                    while chunk := remote.read(CHUNK_BYTES):
                        digest.update(chunk)
                        out.write(chunk)
            except Exception as exc:
                raise TransientSourceError(
                    f"cannot download {self.describe(name)}: {type(exc).__name__}: {exc}"
                ) from None
            yield Fetched(local, digest.hexdigest())

    def exists(self) -> bool:
        return bool(self.fs.exists(self.base)) if self.base else True


def _relative(path: str, base: str) -> str:
    path, base = path.strip("/"), base.strip("/")
    return path[len(base) :].lstrip("/") if base and path.startswith(base) else path


def _mtime(info: dict[str, Any]) -> str:
    """The modification time as a token without `:` (stats are `size:mtime`)."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "modify", "time"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, datetime):
            return str(int(value.timestamp() * 1_000_000))
        if isinstance(value, int | float):
            return str(int(value * 1_000_000))
        return "".join(ch for ch in str(value) if ch.isalnum())
    etag = info.get("ETag") or info.get("etag")
    return "".join(ch for ch in str(etag) if ch.isalnum()) if etag else "0"


class ObjectStoreFileSystem(ArrowFSWrapper):
    """pyarrow's S3, GCS or Azure client as an fsspec file system that finds files with one recursive listing.

    fsspec's `find` (under `glob`) walks the tree folder by folder. Object stores have no folders, only
    names with `/`, and pyarrow's GCS client lists a "folder" without the folders below it unless
    someone wrote folder marker objects, which uploaders (and this loader's users) mostly do not: a
    pattern with a wildcard folder (`*/orders.csv`) found nothing there. One recursive listing under
    the pattern's fixed prefix sees every object, and costs one request per page, not one per folder.
    """

    def find(
        self, path: str, maxdepth: int | None = None, withdirs: bool = False, detail: bool = False, **kwargs: Any
    ) -> Any:
        from pyarrow.fs import FileSelector, FileType

        root = self._strip_protocol(path).rstrip("/")
        try:
            infos = self.fs.get_file_info(FileSelector(root, recursive=True, allow_not_found=True))
        except NotADirectoryError:
            infos = []
        found: dict[str, dict[str, Any]] = {}
        for info in infos:
            parts = _relative(info.path, root).split("/")
            if info.type == FileType.File and (maxdepth is None or len(parts) <= maxdepth):
                found[info.path] = self._make_entry(info)
            if withdirs:  # the folders a name implies, whether or not a marker object exists
                last = len(parts) if info.type == FileType.Directory else len(parts) - 1
                for depth in range(1, min(last, maxdepth or last) + 1):
                    folder = posixpath.join(root, *parts[:depth])
                    found.setdefault(folder, {"name": folder, "size": 0, "type": "directory", "mtime": None})
        if withdirs and found and root:
            found.setdefault(root, {"name": root, "size": 0, "type": "directory", "mtime": None})
        if not found and root and self.isfile(root):
            found[root] = self.info(root)
        names = sorted(found)
        return {name: found[name] for name in names} if detail else names
