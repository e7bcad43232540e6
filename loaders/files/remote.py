"""The files family's `options:`: a local folder, or a remote location named by a URL (or protocol + path).

    path: ../samples/shop                          # a local folder (relative to the source file)
    url: sftp://etl@files.example.com:22/outbound  # SFTP (paramiko): password or private_key
    url: ftp://reports.example.com/reports         # FTP; ftps:// for explicit TLS (ca_file: a private CA)
    url: s3://company-landing/3pl                  # S3 (endpoint_url for S3-compatible stores)
    url: gs://company-gcs-data                     # Google Cloud Storage (STORAGE_EMULATOR_HOST honoured)
    url: az://company-data/powerbi_exports         # Azure Blob Storage (account_name, account_key)

Credentials are accepted only as `${ENV}` (or `${secretsmanager:...}`) references, never written
into the file or the URL; a literal secret is a configuration error that says so.
"""

from __future__ import annotations

import os
import ssl
from datetime import timedelta
from ftplib import FTP_TLS
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from fsspec.implementations.ftp import FTPFileSystem
from pydantic import BaseModel, ConfigDict

from lakehouse.core.errors import ConfigError
from loaders.core.config import SourceConfig
from loaders.files.stores import FileStore, LocalStore, ObjectStoreFileSystem, RemoteStore

Protocol_ = Literal["file", "sftp", "ftp", "ftps", "s3", "gs", "az"]
ALIASES = {"gcs": "gs", "abfs": "az", "abfss": "az", "azure": "az", "local": "file"}
SECRET_KEYS = ("password", "private_key_passphrase", "secret_access_key", "session_token", "account_key")
DEFAULT_PORTS = {"sftp": 22, "ftp": 21, "ftps": 21}


class FilesOptions(BaseModel):
    """The files family's source options (secrets resolved)."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = None
    url: str | None = None
    protocol: str | None = None
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = None
    private_key: str | None = None  # SFTP: a private key file
    private_key_passphrase: str | None = None
    ca_file: str | None = None  # FTPS: the CA (or the server's own certificate) to verify the server by
    endpoint_url: str | None = None  # S3, GCS, Azure: an emulator or S3-compatible store
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    account_name: str | None = None
    account_key: str | None = None
    anonymous: bool = False  # GCS: no credentials (public buckets, emulators)
    timeout: float = 30.0


def build_store(config: SourceConfig) -> FileStore:
    _refuse_literal_secrets(config)
    options = config.family_options(FilesOptions)
    protocol, host, port, path, username = _location(config, options)
    if protocol == "file":
        return LocalStore(config.relative_path(path))
    builder = {"sftp": _sftp, "ftp": _ftp, "ftps": _ftp, "s3": _s3, "gs": _gcs, "az": _azure}[protocol]
    base = path if protocol in ("sftp", "ftp", "ftps") else path.strip("/")
    where = f"{protocol}://{host}{f':{port}' if port else ''}/{path.lstrip('/')}" if host else f"{protocol}://{base}"
    return RemoteStore(lambda: builder(options, protocol, host, port, username), base, where)


def _refuse_literal_secrets(config: SourceConfig) -> None:
    for key in SECRET_KEYS:
        value = config.options.get(key)
        if value is not None and not (isinstance(value, str) and "${" in value):
            raise ConfigError(
                f"{config.path}: key `options.{key}` holds a literal secret",
                f"reference it instead, e.g. `{key}: ${{{config.source.upper()}_{key.upper()}}}`, "
                "and set that environment variable (or use ${secretsmanager:id#key})",
            )
    url = config.options.get("url")
    if isinstance(url, str) and "${" not in url and urlsplit(url).password is not None:
        raise ConfigError(
            f"{config.path}: key `options.url` holds a password",
            "remove it from the URL and set `password: ${SOME_VARIABLE}` instead",
        )


def _location(config: SourceConfig, options: FilesOptions) -> tuple[str, str, int | None, str, str | None]:
    """(protocol, host, port, path, username) from `url`, or from `protocol` + `host` + `path`."""
    if options.url:
        parts = urlsplit(options.url)
        protocol = _protocol(config, parts.scheme or "file")
        host, path = parts.hostname or "", unquote(parts.path)
        if protocol in ("s3", "gs", "az"):  # the bucket (container) is the URL's host
            host, path = "", f"{parts.netloc}{path}"
        try:
            port = parts.port or options.port
        except ValueError:
            raise ConfigError(f"{config.path}: key `options.url`: the port is not a number", "use HOST:PORT") from None
        username = unquote(parts.username) if parts.username else options.username
        return protocol, host, port or DEFAULT_PORTS.get(protocol), path or options.path or "", username
    protocol = _protocol(config, options.protocol or "file")
    if options.path is None:
        raise ConfigError(
            f"{config.path}: key `options.path` is missing",
            "set options.path to the folder of files, or options.url to a remote location (sftp://host/path, s3://bucket/prefix)",
        )
    if protocol in ("sftp", "ftp", "ftps") and not options.host:
        raise ConfigError(f"{config.path}: key `options.host` is missing", f"set options.host for {protocol}")
    port = options.port or DEFAULT_PORTS.get(protocol)
    return protocol, options.host or "", port, options.path, options.username


def _protocol(config: SourceConfig, name: str) -> str:
    protocol = ALIASES.get(name.lower(), name.lower())
    if protocol not in ("file", "sftp", "ftp", "ftps", "s3", "gs", "az"):
        raise ConfigError(
            f"{config.path}: unknown file protocol {name!r}", "use one of: file, sftp, ftp, ftps, s3, gs, az"
        )
    return protocol


def _sftp(options: FilesOptions, protocol: str, host: str, port: int | None, user: str | None) -> Any:
    from fsspec.implementations.sftp import SFTPFileSystem

    kwargs: dict[str, Any] = {"port": port or 22, "username": user, "timeout": options.timeout}
    kwargs |= {"allow_agent": False, "look_for_keys": False, "banner_timeout": options.timeout}
    if options.password:
        kwargs["password"] = options.password
    if options.private_key:
        kwargs["key_filename"] = options.private_key
        if options.private_key_passphrase:
            kwargs["passphrase"] = options.private_key_passphrase
    try:
        fs = SFTPFileSystem(host, skip_instance_cache=True, **kwargs)
    except Exception as exc:
        raise _connection_error(protocol, host, port, exc) from None
    return fs


class VerifiedFtpsFileSystem(FTPFileSystem):
    """FTPS (explicit TLS) that verifies the server's certificate and protects every data connection.

    fsspec's own `tls=True` uses ftplib's default context, which accepts any certificate, and when it
    reconnects after an aborted transfer it does not ask for a protected data channel again.
    """

    def __init__(self, host: str, *, context: ssl.SSLContext, **kwargs: Any) -> None:
        self._context = context
        super().__init__(host, **kwargs)

    def _connect(self) -> None:
        self.ftp = FTP_TLS(context=self._context, timeout=self.timeout, encoding=self.encoding)
        self.ftp.connect(self.host, self.port)
        self.ftp.login(*self.cred)
        self.ftp.prot_p()


def _ftp(options: FilesOptions, protocol: str, host: str, port: int | None, user: str | None) -> Any:
    kwargs: dict[str, Any] = {"port": port or 21, "username": user or "anonymous", "password": options.password or ""}
    kwargs |= {"timeout": options.timeout, "skip_instance_cache": True}
    context = _tls_context(options) if protocol == "ftps" else None
    try:
        if context is not None:
            fs = VerifiedFtpsFileSystem(host, context=context, **kwargs)
        else:
            fs = FTPFileSystem(host, **kwargs)
    except Exception as exc:
        raise _connection_error(protocol, host, port, exc) from None
    return fs


def _tls_context(options: FilesOptions) -> ssl.SSLContext:
    """The system's CAs, or `ca_file`; the server's name (or IP address) must match its certificate."""
    if options.ca_file and not Path(options.ca_file).is_file():
        raise ConfigError(
            f"files source: key `options.ca_file` names {options.ca_file}, which is not a file",
            "point it at the PEM file of the CA (or of the server's own certificate) that signs the server",
        )
    return ssl.create_default_context(cafile=options.ca_file)


def _s3(options: FilesOptions, protocol: str, host: str, port: int | None, user: str | None) -> Any:
    from pyarrow.fs import S3FileSystem

    kwargs: dict[str, Any] = {}
    endpoint = options.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        parts = urlsplit(endpoint)
        kwargs |= {"endpoint_override": parts.netloc or endpoint, "scheme": parts.scheme or "https"}
    if options.access_key_id:
        kwargs |= {"access_key": options.access_key_id, "secret_key": options.secret_access_key}
        kwargs |= {"session_token": options.session_token} if options.session_token else {}
    kwargs["region"] = options.region or os.environ.get("AWS_REGION") or "us-east-1"
    return _wrapped(S3FileSystem(**kwargs))


def _gcs(options: FilesOptions, protocol: str, host: str, port: int | None, user: str | None) -> Any:
    """Google's default credentials, or none (`anonymous`, or an emulator named by STORAGE_EMULATOR_HOST).

    Like Google's own clients, STORAGE_EMULATOR_HOST (`host:port` or a URL; plain HTTP unless it says
    https) points the client at an emulator and drops the credentials; `endpoint_url` wins over it.
    """
    from pyarrow.fs import GcsFileSystem

    kwargs: dict[str, Any] = {"anonymous": options.anonymous, "retry_time_limit": timedelta(seconds=options.timeout)}
    emulator = os.environ.get("STORAGE_EMULATOR_HOST")
    if options.endpoint_url:
        parts = urlsplit(options.endpoint_url)
        kwargs |= {"endpoint_override": parts.netloc, "scheme": parts.scheme or "https"}
    elif emulator:
        parts = urlsplit(emulator if "://" in emulator else f"http://{emulator}")
        kwargs |= {"endpoint_override": parts.netloc, "scheme": parts.scheme, "anonymous": True}
    return _wrapped(GcsFileSystem(**kwargs))


def _azure(options: FilesOptions, protocol: str, host: str, port: int | None, user: str | None) -> Any:
    from pyarrow.fs import AzureFileSystem

    if not options.account_name:
        raise ConfigError("files source on Azure Blob: key `options.account_name` is missing", "set the account name")
    kwargs: dict[str, Any] = {"account_name": options.account_name}
    if options.account_key:
        kwargs["account_key"] = options.account_key
    if options.endpoint_url:
        parts = urlsplit(options.endpoint_url)
        kwargs |= {"blob_storage_authority": parts.netloc, "blob_storage_scheme": parts.scheme or "https"}
        kwargs |= {"dfs_storage_authority": parts.netloc, "dfs_storage_scheme": parts.scheme or "https"}
    return _wrapped(AzureFileSystem(**kwargs))


def _wrapped(arrow_fs: Any) -> Any:
    return ObjectStoreFileSystem(arrow_fs, skip_instance_cache=True)


def _connection_error(protocol: str, host: str, port: int | None, exc: BaseException) -> Exception:
    from lakehouse.core.errors import SourceError
    from loaders.core.retry import TransientSourceError

    where = f"{protocol}://{host}:{port}"
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SourceError(
            f"cannot verify the TLS certificate of {where}: {exc.verify_message}",
            "if the server's certificate is signed by a private CA (or by itself), set options.ca_file "
            "to that CA's PEM file (or the server's certificate); the name in the URL must be one it names",
        )
    if "auth" in text.lower() or "password" in text.lower() or "login" in text.lower():
        return SourceError(
            f"cannot log in to {where}: {text}", "check options.username and the password or private key it references"
        )
    return TransientSourceError(
        f"cannot connect to {where}: {text}", f"check that the server runs and listens on {host}:{port}"
    )
