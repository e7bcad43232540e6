"""Where the lakehouse lives: one root, a local folder or an S3 bucket.

`LAKEHOUSE_ROOT` names it. Unset, the root is the embedded default (a folder in the project's
`.lakehouse/`), created on first use. Bronze lives at `<root>/bronze/<source>/<stream>`; silver and
the marts live under `<root>/silver` and `<root>/gold`, managed by Spark.

delta-rs and Spark spell S3 differently (`s3://` vs `s3a://`); this module hands each its own form.
S3 settings come from the standard AWS variables (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`, `AWS_REGION`), so the same code runs against AWS and a local S3 server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from lakehouse.core.errors import ConfigError
from lakehouse.core.home import lakehouse_home


def default_local_root() -> Path:
    return lakehouse_home() / "data"


@dataclass(frozen=True)
class LakehouseRoot:
    """A parsed `LAKEHOUSE_ROOT`: `scheme` is "file" or "s3"."""

    scheme: str
    location: str  # absolute folder for "file", "bucket[/prefix]" for "s3"

    @classmethod
    def from_env(cls) -> LakehouseRoot:
        raw = os.environ.get("LAKEHOUSE_ROOT", "").strip()
        if not raw:
            root = default_local_root()
            root.mkdir(parents=True, exist_ok=True)
            return cls("file", str(root))
        return cls.parse(raw)

    @classmethod
    def parse(cls, raw: str) -> LakehouseRoot:
        parsed = urlparse(raw)
        if parsed.scheme in ("s3", "s3a"):
            if len(parsed.netloc) < 3:
                raise ConfigError(
                    f"LAKEHOUSE_ROOT={raw!r} has no valid bucket name",
                    "use s3://<bucket>[/prefix] with a bucket name of 3 or more characters",
                )
            prefix = parsed.path.strip("/")
            return cls("s3", f"{parsed.netloc}/{prefix}" if prefix else parsed.netloc)
        if parsed.scheme in ("", "file"):
            path = Path(parsed.path if parsed.scheme == "file" else raw).expanduser().resolve()
            if not path.is_dir():
                raise ConfigError(
                    f"LAKEHOUSE_ROOT={raw!r}: the folder {path} does not exist",
                    f"create it (mkdir -p {path}) or unset LAKEHOUSE_ROOT to use the embedded default",
                )
            return cls("file", str(path))
        raise ConfigError(
            f"LAKEHOUSE_ROOT={raw!r} uses the unsupported scheme {parsed.scheme!r}",
            "use a local folder path or s3://<bucket>[/prefix]",
        )

    @property
    def bucket(self) -> str:
        return self.location.split("/", 1)[0]

    @property
    def uri(self) -> str:
        """The root as delta-rs and boto3 spell it."""
        return self.location if self.scheme == "file" else f"s3://{self.location}"

    @property
    def spark_uri(self) -> str:
        """The root as Spark (Hadoop) spells it."""
        return f"file:{self.location}" if self.scheme == "file" else f"s3a://{self.location}"

    def bronze_uri(self, source: str, stream: str, *, spark: bool = False) -> str:
        return f"{self.spark_uri if spark else self.uri}/bronze/{source}/{stream}"

    def layer_uri(self, layer: str, *, spark: bool = True) -> str:
        return f"{self.spark_uri if spark else self.uri}/{layer}"

    def storage_options(self) -> dict[str, str]:
        """Options for delta-rs. Empty for local folders; for S3, the standard AWS variables."""
        if self.scheme == "file":
            return {}
        options = {"AWS_REGION": os.environ.get("AWS_REGION", "us-east-1")}
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            options["AWS_ENDPOINT_URL"] = endpoint
            options["AWS_ALLOW_HTTP"] = "true" if endpoint.startswith("http://") else "false"
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            if os.environ.get(name):
                options[name] = os.environ[name]
        return options

    def check(self) -> None:
        """Fail early, with the fix, when the root cannot be used."""
        if self.scheme == "file":
            return
        check_bucket(self.bucket)

    def __str__(self) -> str:
        return self.uri


def check_bucket(bucket: str) -> None:
    """Raise a ConfigError naming the cause when the bucket is missing or unreachable."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    # A fresh session: boto3's default session caches the credentials it first found.
    session = boto3.session.Session()
    client = session.client("s3", endpoint_url=endpoint, region_name=os.environ.get("AWS_REGION", "us-east-1"))
    where = endpoint or "AWS S3"
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("404", "NoSuchBucket", "NotFound"):
            raise ConfigError(
                f"the bucket {bucket!r} does not exist at {where}",
                f"create it (`aws s3 mb s3://{bucket}`, or `lakehouse s3 start` creates it locally) "
                "or point LAKEHOUSE_ROOT at an existing bucket",
            ) from None
        if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            raise ConfigError(
                f"access to the bucket {bucket!r} at {where} was denied ({code})",
                "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the instance role) for this bucket",
            ) from None
        raise ConfigError(
            f"the bucket {bucket!r} at {where} answered {code}", "check the bucket and credentials"
        ) from None
    except BotoCoreError as exc:
        raise ConfigError(
            f"cannot reach S3 at {where}: {type(exc).__name__}",
            "check AWS_ENDPOINT_URL and that the S3 server is running (`lakehouse s3 status`)",
        ) from None
