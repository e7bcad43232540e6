"""Environment settings, read from CDK context (`-c env=dev|prod`, `-c emr_release=...`).

Every value has a per-environment default here; any context key of the same name overrides it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Classification = Literal["public", "internal", "confidential", "pii", "restricted"]

# Years an object tagged with a classification is kept (the seed: 3-10 years by data type).
# PII is kept the shortest (GDPR/CCPA minimisation); restricted data (HR, financial transactions,
# payment data) the longest (SOX and employment records).
RETENTION_YEARS: dict[str, int] = {
    "public": 3,
    "internal": 5,
    "confidential": 7,
    "pii": 3,
    "restricted": 10,
}

# The sources that land a bronze database `bronze_<source>` (sources/embedded/*.yml).
DEFAULT_SOURCES: tuple[str, ...] = (
    "amplitude", "azure_blob_storage", "bigquery", "dynamodb", "facebook_ads", "ftp", "google_ads",
    "google_cloud_storage", "hubspot", "iot_core", "kafka", "kinesis", "mixpanel", "mongodb", "mysql",
    "netsuite", "oracle", "postgres", "redshift", "s3", "salesforce", "sap", "segment", "sftp", "shopify",
    "snowflake", "sqlserver", "stripe", "workday",
)  # fmt: skip

# Sources whose loaders need credentials (a Secrets Manager secret each); file drops read from S3 need none.
DEFAULT_CREDENTIAL_SOURCES: tuple[str, ...] = (
    "amplitude", "bigquery", "facebook_ads", "ftp", "google_ads", "hubspot", "mixpanel", "mongodb", "mysql",
    "netsuite", "oracle", "postgres", "redshift", "salesforce", "sap", "sftp", "shopify", "snowflake",
    "sqlserver", "stripe", "workday",
)  # fmt: skip


class ClusterSize(BaseModel):
    model_config = ConfigDict(frozen=True)

    instance_type: str
    core_nodes: int = Field(ge=1)
    max_spot_task_units: int = Field(ge=0)


class LakehouseConfig(BaseModel):
    """Everything that differs between dev and prod, resolved once from context."""

    model_config = ConfigDict(frozen=True)

    env: Literal["dev", "prod"]
    region: str
    replica_region: str
    emr_release: str
    cluster: ClusterSize
    replication: bool
    retain: bool
    noncurrent_version_days: int
    sla_minutes: int = 120
    # Whether the freshness SLA alarm reads "no MartsFreshnessMinutes published" as a miss (monitoring.py).
    sla_silence_is_miss: bool
    dagster_image_tag: str
    sources: tuple[str, ...] = DEFAULT_SOURCES
    credential_sources: tuple[str, ...] = DEFAULT_CREDENTIAL_SOURCES
    retention_years: dict[str, int] = Field(default_factory=lambda: dict(RETENTION_YEARS))

    @property
    def prefix(self) -> str:
        return f"lakehouse-{self.env}"


_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {
        "cluster": {"instance_type": "m5.xlarge", "core_nodes": 2, "max_spot_task_units": 2},
        "replication": False,
        "retain": False,
        "noncurrent_version_days": 30,
        "sla_silence_is_miss": False,
    },
    "prod": {
        "cluster": {"instance_type": "m5.2xlarge", "core_nodes": 4, "max_spot_task_units": 8},
        "replication": True,
        "retain": True,
        "noncurrent_version_days": 365,
        "sla_silence_is_miss": True,
    },
}

_COMMON: dict[str, Any] = {
    "region": "us-east-1",
    "replica_region": "us-west-2",
    "emr_release": "emr-spark-8.0.0",
    "dagster_image_tag": "0.1.0",
}


def _parse(key: str, value: Any) -> Any:
    """Context from the command line arrives as strings: turn them into the model's types."""
    if not isinstance(value, str):
        return value
    if key in {"replication", "retain", "sla_silence_is_miss"}:
        return value.lower() in {"1", "true", "yes", "on"}
    if key in {"sources", "credential_sources"}:
        return tuple(s.strip() for s in value.split(",") if s.strip())
    return value


def load_config(context: dict[str, Any]) -> LakehouseConfig:
    """Build the config for `context["env"]` (default dev): per-env defaults, then context overrides."""
    env = str(context.get("env", "dev"))
    if env not in _DEFAULTS:
        raise ValueError(f"unknown env {env!r}: pass -c env=dev or -c env=prod")
    values: dict[str, Any] = {**_COMMON, **_DEFAULTS[env], "env": env}
    for key in LakehouseConfig.model_fields:
        if key != "env" and key in context:
            values[key] = _parse(key, context[key])
    return LakehouseConfig(**values)
