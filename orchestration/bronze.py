"""The loader streams as Dagster assets: one asset per stream, keyed `["bronze", source, stream]`.

Each asset runs `loaders.pipeline.load_source(..., streams=[stream])` on the lakehouse root of the
environment (`LAKEHOUSE_ROOT`), registers the bronze table in the metastore when the load committed
data, and reports the load's ledger figures (rows read, loaded, quarantined, cursor) as materialization
metadata. A failed load raises its (secret-free) error; Dagster retries it with exponential backoff,
and the load itself resumes from the last committed cursor, so a retry never loads a batch twice.
"""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as a real type.

import os

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Backoff,
    Jitter,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)

from lakehouse.core.frequency import Frequency
from lakehouse.core.storage import LakehouseRoot
from lakehouse.platform.spark import ThriftEndpoint
from lakehouse.source_files import all_sources, find_source
from loaders.core.config import SourceConfig, StreamConfig
from loaders.core.result import StreamResult

# Three more attempts, 30 s, 60 s, 120 s apart (±jitter): outlasts a source's short outage.
LOAD_RETRY = RetryPolicy(max_retries=3, delay=30, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)
MAX_CURSOR_CHARS = 2000  # a files cursor lists every loaded file: keep the metadata readable


def bronze_key(source: str, stream: str) -> AssetKey:
    return AssetKey(["bronze", source, stream])


def stream_frequency(config: SourceConfig, stream: StreamConfig) -> Frequency:
    """A stream runs at its own frequency, else at its source's."""
    return stream.frequency or config.frequency


def stream_frequencies(configs: list[SourceConfig]) -> dict[AssetKey, Frequency]:
    return {
        bronze_key(config.source, stream.name): stream_frequency(config, stream)
        for config in configs
        for stream in config.streams
    }


def loader_assets(
    configs: list[SourceConfig] | None = None,
    *,
    retry_policy: RetryPolicy = LOAD_RETRY,
    upstream: dict[tuple[str, str], AssetKey] | None = None,
) -> list[AssetsDefinition]:
    """One asset per stream of every source (the source files of `LAKEHOUSE_SOURCES` by default);
    `upstream`: (source, stream) -> the asset that produces what the stream reads (an Airbyte connection)."""
    configs = all_sources() if configs is None else configs
    upstream = upstream or {}
    return [
        _stream_asset(config, stream, retry_policy, upstream.get((config.source, stream.name)))
        for config in configs
        for stream in config.streams
    ]


def _stream_asset(
    config: SourceConfig, stream: StreamConfig, retry_policy: RetryPolicy, upstream: AssetKey | None
) -> AssetsDefinition:
    source, name = config.source, stream.name
    frequency = stream_frequency(config, stream)

    @asset(
        key=bronze_key(source, name),
        group_name=f"bronze_{source}",
        description=f"Stream `{name}` of {config.description or source}, loaded {frequency.value} "
        f"(`lakehouse load {source} --stream {name}`).",
        kinds={"python", "delta"},
        tags={"frequency": frequency.value, "source": source},
        retry_policy=retry_policy,
        deps=[upstream] if upstream is not None else None,
    )
    def _load(context: AssetExecutionContext) -> MaterializeResult:
        return load_stream_asset(context, source, name)

    return _load


def load_stream_asset(context: AssetExecutionContext, source: str, stream: str) -> MaterializeResult:
    """Load one stream (raises the load's error, already recorded in the ledger and free of secrets)."""
    root = LakehouseRoot.from_env()
    config = find_source(source)  # read at run time: an edited source file applies to the next run
    [result] = _load(root, config, stream)
    context.log.info(
        f"{source}.{stream}: {result.rows_read} rows read, {result.rows_loaded} loaded, "
        f"{result.rows_quarantined} quarantined in {result.batches} batch(es)"
    )
    if result.batches:
        register_stream(root, config, stream)
    return MaterializeResult(metadata=load_metadata(result))


def _load(root: LakehouseRoot, config: SourceConfig, stream: str) -> list[StreamResult]:
    from loaders.pipeline import load_source

    return load_source(root, config, streams=[stream])  # the default pipeline: the cursor `lakehouse load` keeps


def load_metadata(result: StreamResult) -> dict[str, MetadataValue]:
    """The ledger's figures of one load."""
    metadata: dict[str, MetadataValue] = {
        "load_id": MetadataValue.text(result.load_id),
        "mode": MetadataValue.text(result.mode),
        "rows_read": MetadataValue.int(result.rows_read),
        "rows_loaded": MetadataValue.int(result.rows_loaded),
        "rows_quarantined": MetadataValue.int(result.rows_quarantined),
        "rows_rescued": MetadataValue.int(result.rows_rescued),
        "batches": MetadataValue.int(result.batches),
        "bytes": MetadataValue.int(result.bytes),
        "seconds": MetadataValue.float(round(result.seconds, 3)),
    }
    for name, cursor in (("cursor_before", result.cursor_before), ("cursor", result.cursor_after)):
        if cursor is not None:
            text = cursor if len(cursor) <= MAX_CURSOR_CHARS else cursor[:MAX_CURSOR_CHARS] + "…"
            metadata[name] = MetadataValue.text(text)
    return metadata


def register_stream(root: LakehouseRoot, config: SourceConfig, stream: str) -> None:
    """Make the bronze table visible to dbt: register it in the metastore (idempotent)."""
    from lakehouse.catalog import ensure_layer_databases, register_bronze, thrift_cursor

    only = config.model_copy(update={"streams": [config.stream(stream)]})
    with thrift_cursor(metastore_endpoint()) as cursor:
        ensure_layer_databases(cursor, root)
        register_bronze(cursor, root, [only])


def metastore_endpoint() -> ThriftEndpoint:
    """The Thrift server dbt uses: EMR's for `DBT_TARGET=emr`, else the local one (LAKEHOUSE_THRIFT_*)."""
    if os.environ.get("DBT_TARGET", "local") == "emr":
        return ThriftEndpoint(os.environ.get("EMR_THRIFT_HOST", ""), int(os.environ.get("EMR_THRIFT_PORT", "10001")))
    return ThriftEndpoint.from_env()
