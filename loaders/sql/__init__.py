"""Database and warehouse sources: one table per stream, extracted as Arrow, chunked and resumable.

`type:` picks the engine: postgres, mysql (also MariaDB), sqlserver, oracle, snowflake, redshift,
bigquery. Every engine shares the same stream behaviour (see `loaders.sql.stream`): an incremental
window on `cursor_field` with an inclusive lower bound and key de-duplication (or `lag_seconds`),
parallel key-range chunks committed and resumed one by one, full refresh, soft deletes
(`soft_delete_field`) and key reconciliation (`deletes: reconcile`). Engines differ only in SQL text
and driver calls. See loaders/sql/README.md for options, type mapping and how each is verified.
"""

from __future__ import annotations

import importlib
from typing import Any

from lakehouse.core.errors import ConfigError
from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import SourceConfig
from loaders.sql.engine import Engine, Pool, read_all
from loaders.sql.options import parse_options, parse_stream_options
from loaders.sql.reconcile import BronzeKeys
from loaders.sql.stream import SqlStream

ENGINES: dict[str, str] = {
    "postgres": "loaders.sql.postgres",
    "mysql": "loaders.sql.mysql",
    "sqlserver": "loaders.sql.sqlserver",
    "oracle": "loaders.sql.oracle",
    "snowflake": "loaders.sql.snowflake",
    "redshift": "loaders.sql.redshift",
    "bigquery": "loaders.sql.bigquery",
}

__all__ = ["ENGINES", "SqlSource", "SqlStream", "build"]


class SqlSource:
    def __init__(self, config: SourceConfig, engine: Engine) -> None:
        self.name = config.source
        self.engine = engine
        bronze = _bronze_keys_root(config)
        self._streams = [
            SqlStream(
                engine,
                stream,
                parse_stream_options(stream, config),
                parallel=engine.options.parallel,
                bronze_keys=BronzeKeys(bronze, config.source, stream.name) if bronze else None,
            )
            for stream in config.streams
        ]

    def streams(self) -> list[SqlStream]:
        return self._streams

    def check(self) -> None:
        """Connect and run a trivial query: a wrong host, password or certificate fails here, named."""
        pool = Pool(self.engine, 1)
        try:
            with pool.session() as session:
                read_all(session, self.engine.dialect.ping_sql())
        except Exception as exc:
            raise self.engine.failure(exc, "checking the connection") from None
        finally:
            pool.close()


def _bronze_keys_root(config: SourceConfig) -> LakehouseRoot | None:
    """Where reconciliation reads bronze's keys: `options.lakehouse_root`, else LAKEHOUSE_ROOT."""
    if not any(stream.extra.get("deletes") == "reconcile" for stream in config.streams):
        return None
    raw = config.options.get("lakehouse_root")
    return LakehouseRoot.parse(str(raw)) if raw else LakehouseRoot.from_env()


def engine_module(kind: str, where: Any) -> Any:
    name = ENGINES.get(kind)
    if name is None:
        raise ConfigError(f"{where}: key `type`: {kind!r} is not a SQL engine", f"use one of: {', '.join(ENGINES)}")
    return importlib.import_module(name)


def build(config: SourceConfig) -> SqlSource:
    module = engine_module(config.type, config.path)
    options = parse_options(module.Options, _without_root(config))
    return SqlSource(config, module.engine(options))


def _without_root(config: SourceConfig) -> SourceConfig:
    options = {k: v for k, v in config.options.items() if k != "lakehouse_root"}
    return config.model_copy(update={"options": options})
