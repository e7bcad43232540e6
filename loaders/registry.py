"""Source families by `type:`. A new family is one module with a `build(config) -> Source`."""

from __future__ import annotations

import importlib

from lakehouse.core.errors import ConfigError
from loaders.core.config import SourceConfig
from loaders.core.protocol import Source

FAMILIES: dict[str, str] = {
    "files": "loaders.files",
    "mongodb": "loaders.mongodb",
    "dynamodb": "loaders.dynamodb",
    # Airbyte: a PyPI connector run locally (`airbyte`), and the S3 destination's landing files (`airbyte_landing`)
    "airbyte": "loaders.airbyte.connector",
    "airbyte_landing": "loaders.airbyte.landing",
    "rest": "loaders.rest",  # SaaS APIs (see loaders/rest/README.md)
    "kafka": "loaders.kafka",
    "kinesis": "loaders.kinesis",
    "mqtt": "loaders.mqtt",
    # SQL databases and warehouses: one family, the engine chosen by `type:` (see loaders/sql/README.md)
    **dict.fromkeys(("postgres", "mysql", "sqlserver", "oracle", "snowflake", "redshift", "bigquery"), "loaders.sql"),
}


def build_source(config: SourceConfig) -> Source:
    module_name = FAMILIES.get(config.type)
    if module_name is None:
        raise ConfigError(
            f"{config.path}: key `type`: unknown source type {config.type!r}",
            f"use one of: {', '.join(sorted(FAMILIES))}",
        )
    return importlib.import_module(module_name).build(config)
