"""SQL Server, Oracle, BigQuery and Redshift UNLOAD at the level of generated SQL and driver calls.

No server of these engines can run here: each test drives the real stream code (planning, chunking,
resume) with the driver mocked at its boundary (`connectorx.read_sql`, the oracledb connection, the
BigQuery clients) and checks what the loader asked of it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from lakehouse.core.errors import ConfigError, SourceError
from loaders.core.config import SourceConfig
from loaders.core.retry import TransientSourceError
from loaders.sql import build
from loaders.sql.arrow import iso_duration
from loaders.sql.dialect import Column, KeyRange, TableName, Window
from loaders.sql.state import SqlState

Responder = Callable[[str], pa.Table]
ROWS = pa.table(
    {
        "ID": pa.array(range(1, 11), pa.int64()),
        "AMOUNT": pa.array([f"{i}.50" for i in range(1, 11)]),
        "UPDATED_AT": pa.array([datetime(2026, 1, i) for i in range(1, 11)], pa.timestamp("us")),
    }
)


def config(kind: str, options: dict[str, Any], **stream: Any) -> SourceConfig:
    streams = [{"name": "orders", "mode": "merge", "primary_key": ["ID"], "cursor_field": "UPDATED_AT"} | stream]
    return SourceConfig.model_validate({"source": "erp", "type": kind, "options": options, "streams": streams})


def responder(columns: pa.Table, log: list[str]) -> Responder:
    """Answers the catalogue, stats and chunk queries from ROWS, honouring the chunk's id range."""

    def answer(sql: str) -> pa.Table:
        log.append(sql)
        if "all_tab_columns" in sql or "information_schema" in sql:
            return columns
        if "COUNT(*)" in sql:
            ids = ROWS["ID"].to_pylist()
            stats = [len(ids), ROWS["UPDATED_AT"][-1].as_py(), None, len(ids), min(ids), max(ids)]
            names = ["n", "top", "now", "nk", "lo", "hi"]
            return pa.table({name: [value] for name, value in zip(names, stats, strict=True)})
        low = re.search(r"ID\W* >= (\d+)", sql)
        high = re.search(r"ID\W* < (\d+)", sql)
        keep = [(not low or i >= int(low.group(1))) and (not high or i < int(high.group(1))) for i in range(1, 11)]
        return ROWS.filter(pa.array(keep))

    return answer


CATALOGUE = pa.table(
    {
        "column_name": ["ID", "AMOUNT", "UPDATED_AT"],
        "data_type": ["bigint", "decimal", "datetime2"],
        "numeric_precision": [19, 12, None],
        "numeric_scale": [0, 2, None],
    }
)


def read_all(source: Any, cursor: str | None = None) -> list[tuple[pa.Table, str | None]]:
    return [(pa.table(batch.data), batch.cursor) for batch in source.streams()[0].read(cursor)]


# --- SQL Server (ConnectorX) --------------------------------------------------------------------


@pytest.fixture
def connectorx_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import connectorx

    calls: list[dict[str, Any]] = []
    log: list[str] = []
    answer = responder(CATALOGUE, log)

    def read_sql(url: str, sql: str, **options: Any) -> pa.RecordBatchReader:
        calls.append({"url": url, "sql": sql, **options})
        table = answer(sql)
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())

    monkeypatch.setattr(connectorx, "read_sql", read_sql)
    return calls


SQLSERVER = {"host": "erp-db", "database": "erp_system", "user": "loader", "password": "p@ss;word", "parallel": 2}


def test_sqlserver_loads_in_key_range_chunks_through_connectorx(connectorx_calls: list[dict[str, Any]]) -> None:
    source = build(config("sqlserver", SQLSERVER, table="sales.orders", chunk_rows=5))
    batches = read_all(source)
    assert sum(t.num_rows for t, _ in batches) == 10
    assert batches[0][0].schema.field("AMOUNT").type == pa.decimal128(12, 2)
    assert {call["url"] for call in connectorx_calls} == {
        "mssql://loader:p%40ss%3Bword@erp-db:1433/erp_system?encrypt=true&trust_server_certificate=false"
    }
    assert all(call["return_type"] == "arrow_stream" for call in connectorx_calls)
    sqls = [call["sql"] for call in connectorx_calls]
    assert sqls[1] == (
        "SELECT COUNT(*), MAX([UPDATED_AT]), CAST(NULL AS NVARCHAR(1)), COUNT([ID]), MIN([ID]), MAX([ID]) "
        "FROM [sales].[orders]"
    )
    chunk = "SELECT [ID], CAST([AMOUNT] AS VARCHAR(60)) AS [AMOUNT], [UPDATED_AT] FROM [sales].[orders] WHERE "
    window = "([UPDATED_AT] <= CAST('2026-01-10T00:00:00.000000' AS DATETIME2(7)) OR [UPDATED_AT] IS NULL)"
    assert sorted(sqls[2:]) == sorted([f"{chunk}{window} AND [ID] < 6", f"{chunk}{window} AND [ID] >= 6"])
    state = SqlState.load(batches[-1][1], "orders")
    assert state.watermark == datetime(2026, 1, 10) and state.run is None


def test_sqlserver_literals_and_type_casts() -> None:
    dialect = build(config("sqlserver", SQLSERVER)).engine.dialect
    assert dialect.quote("we]ird") == "[we]]ird]"
    assert dialect.literal("O'Brien") == "N'O''Brien'"
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert dialect.literal(moment) == "CAST('2026-03-01T12:00:00.000000+00:00' AS DATETIMEOFFSET(7))"
    assert dialect.literal(date(2026, 3, 1)) == "CAST('2026-03-01' AS DATE)"
    assert dialect.literal(True) == "1"
    assert dialect.expression(Column("Id", "uniqueidentifier")) == "LOWER(CAST([Id] AS CHAR(36)))"
    assert dialect.expression(Column("At", "datetimeoffset")) == "CAST(SWITCHOFFSET([At], '+00:00') AS DATETIME2(6))"
    assert dialect.arrow_type(Column("M", "money"), pa.string()) == pa.decimal128(19, 4)


def test_sqlserver_windows_authentication_and_tls_ca() -> None:
    options = SQLSERVER | {"trusted_connection": True, "sslrootcert": "/etc/ssl/erp-ca.pem", "password": None}
    url = build(config("sqlserver", options)).engine.url()
    assert url.startswith("mssql://erp-db:1433/erp_system?")
    assert "trusted_connection=true" in url and "trust_server_certificate_ca=%2Fetc%2Fssl%2Ferp-ca.pem" in url


def stalled_reader(release: threading.Event, *, first: bool) -> pa.RecordBatchReader:
    """A result whose batches stop coming: the first one arrives (when `first`), then the server goes quiet."""

    def batches() -> Iterator[pa.RecordBatch]:
        if first:
            yield from ROWS.slice(0, 2).to_batches()
        release.wait(10)  # long past the timeout; a missing timeout shows as rows read without an error
        yield from ROWS.slice(2).to_batches()

    return pa.RecordBatchReader.from_batches(ROWS.schema, batches())


@pytest.mark.parametrize("stalls", ["before answering", "between batches"])
def test_sqlserver_ends_a_query_that_outlives_statement_timeout(monkeypatch: pytest.MonkeyPatch, stalls: str) -> None:
    import connectorx

    release = threading.Event()
    calls: list[str] = []

    def read_sql(url: str, sql: str, **options: Any) -> pa.RecordBatchReader:
        calls.append(sql)
        if stalls == "before answering":
            release.wait(10)
        return stalled_reader(release, first=stalls == "between batches")

    monkeypatch.setattr(connectorx, "read_sql", read_sql)
    source = build(config("sqlserver", SQLSERVER | {"statement_timeout": 0.2, "connect_timeout": 1}))
    try:
        with pytest.raises(SourceError) as failure:
            source.check()
    finally:
        release.set()
    assert calls == ["SELECT 1"]
    assert "statement_timeout (0.2 s)" in str(failure.value) and "statement_timeout" in failure.value.fix
    assert not isinstance(failure.value, TransientSourceError), "the same query would run out again"


def test_mysql_queries_are_bounded_on_the_client_too(monkeypatch: pytest.MonkeyPatch) -> None:
    import connectorx

    release = threading.Event()
    monkeypatch.setattr(connectorx, "read_sql", lambda url, sql, **o: stalled_reader(release, first=True))
    options = {"host": "legacy.db", "database": "legacy_systems", "user": "etl", "statement_timeout": 0.2}
    options["flavor"] = "mysql"  # `auto` would ask the (stalled) server its version first
    try:
        with pytest.raises(SourceError, match="statement_timeout"):
            build(config("mysql", options)).check()
    finally:
        release.set()


def test_every_engine_bounds_connects_and_statements_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    postgres = build(config("postgres", {"host": "db"})).engine.uri()
    assert "connect_timeout=10" in postgres and "statement_timeout%3D1800000" in postgres
    assert "keepalives_idle=" in postgres, "a dead peer mid-result is noticed"
    redshift = build(config("redshift", {"host": "cluster"})).engine.uri()
    assert "connect_timeout=10" in redshift and "statement_timeout%3D1800000" in redshift
    mysql = build(config("mysql", {"host": "db", "flavor": "mysql"})).engine
    assert "tcp_connect_timeout_ms=10000" in mysql.url()
    assert "SET SESSION max_execution_time = 1800000" in mysql.setup()
    mariadb = build(config("mysql", {"host": "db", "flavor": "mariadb"})).engine
    assert "SET SESSION max_statement_time = 1800" in mariadb.setup()
    none = build(config("postgres", {"host": "db", "statement_timeout": 0})).engine.uri()
    assert "statement_timeout" not in none, "0 means no statement timeout"


@pytest.mark.parametrize(
    ("version", "setting"),
    [("10.11.6-MariaDB-0+deb12u1", "max_statement_time = 1800"), ("8.0.36", "max_execution_time = 1800000")],
)
def test_mysql_flavor_auto_asks_the_server_once(monkeypatch: pytest.MonkeyPatch, version: str, setting: str) -> None:
    import connectorx

    asked: list[str] = []

    def read_sql(url: str, sql: str, **options: Any) -> pa.RecordBatchReader:
        asked.append(sql)
        return pa.RecordBatchReader.from_batches(
            pa.schema([("version", pa.string())]), [pa.record_batch([pa.array([version])], names=["version"])]
        )

    monkeypatch.setattr(connectorx, "read_sql", read_sql)
    engine = build(config("mysql", {"host": "db"})).engine
    assert f"SET SESSION {setting}" in engine.setup()
    assert f"SET SESSION {setting}" in engine.setup()
    assert asked == ["SELECT VERSION() AS version"]


def test_snowflake_timeouts_reach_the_connector(monkeypatch: pytest.MonkeyPatch) -> None:
    import snowflake.connector

    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(snowflake.connector, "connect", lambda **arguments: seen.append(arguments) or object())
    build(config("snowflake", {"account": "acme", "user": "loader", "connect_timeout": 15})).engine.connect()
    [arguments] = seen
    assert arguments["login_timeout"] == 15
    assert arguments["session_parameters"]["STATEMENT_TIMEOUT_IN_SECONDS"] == 1800
    assert arguments["network_timeout"] == 1815, "a query the server does not end is ended by the client"


def test_redshift_unload_files_are_read_with_s3_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyarrow import fs

    from loaders.sql import redshift

    seen: list[dict[str, Any]] = []

    class Recorder:
        def __init__(self, **options: Any) -> None:
            seen.append(options)

        def open_input_file(self, path: str) -> Any:
            return path

    monkeypatch.setattr(fs, "S3FileSystem", Recorder)
    engine = build(config("redshift", {"host": "cluster", "statement_timeout": 120})).engine
    assert isinstance(engine, redshift.RedshiftEngine)
    engine.s3_open("s3://bucket/unload/0000_part_00.parquet")
    assert seen[0]["connect_timeout"] == 10 and seen[0]["request_timeout"] == 120


def test_connectorx_errors_name_the_server_and_hide_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    import connectorx

    def refuse(url: str, sql: str, **options: Any) -> Any:
        raise RuntimeError(f"Login failed for user 'loader' using {url}")

    monkeypatch.setattr(connectorx, "read_sql", refuse)
    with pytest.raises(SourceError) as failure:
        build(config("sqlserver", SQLSERVER)).check()
    assert "sqlserver at erp-db:1433/erp_system" in str(failure.value)
    assert "p@ss;word" not in str(failure.value) and "p%40ss%3Bword" not in str(failure.value)


# --- Oracle (python-oracledb thin) --------------------------------------------------------------


class FakeOracle:
    """The oracledb connection at its boundary: `fetch_df_batches` answers with Arrow tables."""

    def __init__(self, answer: Responder) -> None:
        self.answer = answer
        self.call_timeout = 0
        self.closed = False
        self.fetches: list[dict[str, Any]] = []

    def fetch_df_batches(self, statement: str, size: int, fetch_decimals: bool) -> Iterator[pa.Table]:
        self.fetches.append({"statement": statement, "size": size, "fetch_decimals": fetch_decimals})
        yield self.answer(statement)

    def close(self) -> None:
        self.closed = True


ORACLE = {"host": "hr-db", "service_name": "HRPROD", "user": "loader", "password": "s3cret", "statement_timeout": 30}


def test_oracle_fetches_arrow_data_frames_with_decimals(monkeypatch: pytest.MonkeyPatch) -> None:
    import oracledb

    log: list[str] = []
    catalogue = pa.table(
        {
            "COLUMN_NAME": ["ID", "AMOUNT", "UPDATED_AT"],
            "DATA_TYPE": ["number", "number", "timestamp(6) with time zone"],
            "DATA_PRECISION": [None, 12, None],
            "DATA_SCALE": [None, 2, None],
        }
    )
    connections: list[FakeOracle] = []
    seen: list[dict[str, Any]] = []

    def connect(**arguments: Any) -> FakeOracle:
        seen.append(arguments)
        connections.append(FakeOracle(responder(catalogue, log)))
        return connections[-1]

    monkeypatch.setattr(oracledb, "connect", connect)
    source = build(config("oracle", ORACLE, table="hr.payroll_records", chunk_rows=5))
    batches = read_all(source)
    assert sum(t.num_rows for t, _ in batches) == 10
    assert seen[0] == {
        "user": "loader",
        "password": "s3cret",
        "tcp_connect_timeout": 10.0,
        "host": "hr-db",
        "port": 1521,
        "protocol": "tcp",
        "service_name": "HRPROD",
    }
    assert all(c.call_timeout == 30_000 for c in connections)
    assert all(f["fetch_decimals"] for c in connections for f in c.fetches)
    assert log[0] == (
        "SELECT column_name, LOWER(data_type), data_precision, data_scale FROM all_tab_columns "
        "WHERE owner = 'HR' AND table_name = 'PAYROLL_RECORDS' ORDER BY column_id"
    )
    assert 'FROM "HR"."PAYROLL_RECORDS"' in log[1]
    chunks = log[2:]
    select = 'SELECT TO_CHAR("ID", \'TM9\') AS "ID", "AMOUNT", SYS_EXTRACT_UTC("UPDATED_AT")'
    assert all(sql.startswith(select) for sql in chunks)
    assert "TIMESTAMP '2026-01-10 00:00:00.000000'" in chunks[0]


def test_oracle_statements_time_out_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    import oracledb

    connections: list[FakeOracle] = []
    monkeypatch.setattr(
        oracledb, "connect", lambda **a: connections.append(FakeOracle(lambda _: ROWS)) or connections[-1]
    )
    options = {key: value for key, value in ORACLE.items() if key != "statement_timeout"}
    build(config("oracle", options)).engine.connect()
    assert connections[0].call_timeout == 1_800_000


def test_oracle_literals_and_wallet_connection() -> None:
    options = {"dsn": "hrprod_high", "config_dir": "/etc/oracle", "wallet_location": "/etc/oracle/wallet"}
    engine = build(config("oracle", {"user": "loader", "password": "x", "protocol": "tcps", **options})).engine
    arguments = engine.connect_arguments()
    assert arguments["dsn"] == "hrprod_high" and arguments["wallet_location"] == "/etc/oracle/wallet"
    assert arguments["ssl_server_dn_match"] is True and "host" not in arguments
    moment = datetime(2026, 3, 1, 12, 0, 1, 5, tzinfo=UTC)
    assert engine.dialect.literal(moment) == (
        "TO_TIMESTAMP_TZ('2026-03-01 12:00:01.000005 +00:00', 'YYYY-MM-DD HH24:MI:SS.FF6 TZH:TZM')"
    )
    assert engine.dialect.ping_sql() == "SELECT 1 FROM DUAL"


# --- BigQuery (Storage Read API) ----------------------------------------------------------------


class FakePage:
    def __init__(self, batch: pa.RecordBatch) -> None:
        self.batch = batch

    def to_arrow(self) -> pa.RecordBatch:
        return self.batch


class FakeReadClient:
    def __init__(self) -> None:
        self.sessions: list[dict[str, Any]] = []
        self.reads: list[tuple[str, int]] = []
        self.calls: list[dict[str, Any]] = []

    def create_read_session(self, parent: str, read_session: Any, max_stream_count: int, **call: Any) -> Any:
        self.sessions.append({"parent": parent, "session": read_session, "max": max_stream_count, **call})
        streams = [type("Stream", (), {"name": f"sessions/s1/streams/{i}"})() for i in range(2)]
        return type("Session", (), {"name": "sessions/s1", "streams": streams})()

    def read_rows(self, name: str, offset: int = 0, **call: Any) -> Any:
        self.reads.append((name, offset))
        self.calls.append(call)
        half = ROWS.slice(0, 5) if name.endswith("/0") else ROWS.slice(5, 5)
        pages = [FakePage(batch) for batch in half.slice(offset).to_batches(max_chunksize=2)]
        rows = type("Rows", (), {"pages": pages})()
        return type("Reader", (), {"rows": lambda self: rows})()


class FakeBigQuery:
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.calls: list[dict[str, Any]] = []

    def query(self, sql: str, **call: Any) -> Any:
        self.log.append(sql)
        self.calls.append(call)
        calls = self.calls
        ids = ROWS["ID"].to_pylist()
        table = pa.table({f"c{i}": [v] for i, v in enumerate([10, ROWS["UPDATED_AT"][-1].as_py(), None, 10, 1, 10])})
        result = type("Result", (), {"to_arrow_iterable": lambda self, bqstorage_client: iter(table.to_batches())})
        assert ids
        return type("Job", (), {"result": lambda self, **waited: calls.append({"result": waited}) or result()})()

    def get_table(self, name: str) -> Any:
        self.log.append(f"get_table {name}")
        fields = [("ID", "INTEGER"), ("AMOUNT", "STRING"), ("UPDATED_AT", "DATETIME")]
        field = type("Field", (), {"precision": None, "scale": None})
        schema = [type("F", (field,), {"name": n, "field_type": t})() for n, t in fields]
        return type("Table", (), {"schema": schema})()

    def close(self) -> None:
        pass


def test_bigquery_reads_storage_streams_and_resumes_at_an_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    from loaders.sql import bigquery

    log: list[str] = []
    read_client = FakeReadClient()
    client = FakeBigQuery(log)
    monkeypatch.setattr(
        bigquery.BigQueryEngine, "connect", lambda self: bigquery.BigQuerySession(client, read_client, 600.0)
    )
    options = {"project": "company-analytics", "dataset": "events", "billing_project": "company-etl", "parallel": 2}
    source = build(config("bigquery", options, chunk_rows=2))
    batches = []
    reader = source.streams()[0].read(None)
    for _ in range(2):
        batches.append(next(reader))
    reader.close()  # stop part way: the cursor knows each stream's offset
    created = read_client.sessions[0]
    assert created["parent"] == "projects/company-etl" and created["max"] == 2
    assert created["session"].table == "projects/company-analytics/datasets/events/tables/orders"
    assert list(created["session"].read_options.selected_fields) == ["ID", "AMOUNT", "UPDATED_AT"]
    assert created["session"].read_options.row_restriction == (
        "(`UPDATED_AT` <= DATETIME '2026-01-10 00:00:00.000000' OR `UPDATED_AT` IS NULL)"
    )
    assert log[:2] == [
        "get_table company-analytics.events.orders",
        "SELECT COUNT(*), MAX(`UPDATED_AT`), NULL, COUNT(`ID`), MIN(`ID`), MAX(`ID`) "
        "FROM `company-analytics.events.orders`",
    ]
    run = SqlState.load(batches[-1].cursor, "orders").run
    assert run is not None and run.partial
    read_client.reads.clear()
    rest = list(source.streams()[0].read(batches[-1].cursor))
    resumed = {name: offset for name, offset in read_client.reads}
    assert any(offset > 0 for offset in resumed.values()), "a stream left part way resumes at its offset"
    ids = [i for b in batches for i in pa.table(b.data)["ID"].to_pylist()]
    ids += [i for b in rest for i in pa.table(b.data)["ID"].to_pylist()]
    assert sorted(ids) == list(range(1, 11)), "every row once, none twice"
    assert len(read_client.sessions) == 1, "the resumed load reuses the stored read session"
    # every call to the service is bounded: the query job, the wait for it, the read session, each stream
    assert client.calls[0]["job_config"].job_timeout_ms == "600000" and client.calls[0]["timeout"] == 600.0
    assert client.calls[1] == {"result": {"timeout": 600.0}}
    assert created["timeout"] == 600.0 and all(call["timeout"] == 600.0 for call in read_client.calls)


# --- Redshift UNLOAD ------------------------------------------------------------------------------


def test_redshift_unload_sql_escapes_the_inner_query() -> None:
    from loaders.sql.redshift import RedshiftDialect

    dialect = RedshiftDialect()
    table = TableName(("public", "events"))
    window = Window("updated_at", datetime(2026, 1, 1, tzinfo=UTC), None)
    query = dialect.chunk_sql(table, [Column("id", "int8"), Column("note", "text")], window, None, "note <> 'x'")
    sql = dialect.unload_sql(query, "s3://lake/unload/events/run1/", "arn:aws:iam::1:role/unload", 256)
    assert sql == (
        'UNLOAD (\'SELECT "id", "note" FROM "public"."events" WHERE '
        "(\"updated_at\" >= ''2026-01-01 00:00:00+00:00''::timestamptz) AND (note <> ''x'')') "
        "TO 's3://lake/unload/events/run1/' IAM_ROLE 'arn:aws:iam::1:role/unload' "
        "FORMAT AS PARQUET MANIFEST MAXFILESIZE 256 MB"
    )


def test_redshift_unload_needs_a_bucket_and_a_role() -> None:
    source = build(config("redshift", {"host": "rs", "database": "dw", "user": "u"}, unload=True))
    with pytest.raises(ConfigError, match="unload_s3_uri"):
        source.engine.planner(TableName(("orders",)), [], source.streams()[0].options)


# --- shared pieces ------------------------------------------------------------------------------


def test_key_ranges_cover_the_table_with_open_ends() -> None:
    from loaders.sql.engine import RangePlanner, Stats
    from loaders.sql.postgres import PostgresDialect

    planner = RangePlanner(PostgresDialect(), TableName(("t",)), [Column("id", "int8")], None)
    plan = planner.plan(None, Stats(1000, None, None, 990, 1, 1000), Window(), 300, "id")  # type: ignore[arg-type]
    assert plan["chunks"] == 5 and plan["nulls"] is True
    ranges = [planner.key_range(plan, chunk) for chunk in range(plan["chunks"])]
    assert ranges[0] == KeyRange("id", None, 251)
    assert ranges[3] == KeyRange("id", 751, None)
    assert ranges[4] == KeyRange("id", nulls=True)
    timed = planner.plan(
        None,  # type: ignore[arg-type]
        Stats(10, None, None, 10, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)),
        Window(),
        5,
        "id",
    )
    assert planner.key_range(timed, 1).start == datetime(2026, 1, 1, 12, 0, 0, 1, tzinfo=UTC)


def test_iso_durations_keep_months_days_and_time_apart() -> None:
    assert iso_duration(14, 3, 14_706_789_000_000) == "P1Y2M3DT4H5M6.789S"
    assert iso_duration(-1, 2, 0) == "P-1M2D"
    assert iso_duration(0, 0, 0) == "PT0S"


def test_cursor_round_trips_typed_values() -> None:
    from loaders.sql.state import Run

    run = Run(Decimal("1.50"), datetime(2026, 1, 1, tzinfo=UTC), False, {"chunks": 4})
    run.mark_done(2)
    run.mark_done(0)
    run.mark_done(1)
    state = SqlState(date(2026, 1, 1), ["k"], None, run)
    again = SqlState.load(state.dump(), "s")
    assert again.watermark == date(2026, 1, 1) and again.run is not None
    assert again.run.lower == Decimal("1.50") and again.run.done == [[0, 2]]
    with pytest.raises(SourceError, match="full-refresh"):
        SqlState.load('{"file": "a.csv"}', "s")


# --- connection strings of the engines tested against real servers --------------------------------


def test_postgres_uri_carries_tls_timeouts_and_the_replica() -> None:
    options = {
        "host": "primary.db",
        "replica_host": "replica.db",
        "database": "company_production",
        "user": "loader",
        "password": "p@ss/word",
        "sslmode": "verify-full",
        "sslrootcert": "/etc/ssl/rds.pem",
        "statement_timeout": 600,
    }
    uri = build(config("postgres", options)).engine.uri()
    assert uri.startswith("postgresql://loader:p%40ss%2Fword@replica.db:5432/company_production?")
    assert "sslmode=verify-full" in uri and "sslrootcert=%2Fetc%2Fssl%2Frds.pem" in uri
    assert "options=-c%20statement_timeout%3D600000" in uri and "connect_timeout=10" in uri


def test_mysql_url_and_session_setup() -> None:
    options = {"host": "legacy.db", "replica_host": "legacy-ro.db", "database": "legacy_systems", "user": "etl"}
    options |= {
        "password": "pw",
        "sslmode": "verify-ca",
        "sslrootcert": "/ca.pem",
        "statement_timeout": 60,
        "flavor": "mysql",
    }
    engine = build(config("mysql", options)).engine
    assert engine.url() == (
        "mysql://etl:pw@legacy-ro.db:3306/legacy_systems?tcp_connect_timeout_ms=10000&ssl-mode=VERIFY_CA&ssl-ca=%2Fca.pem"
    )
    assert engine.setup() == ["SET time_zone = '+00:00'", "SET SESSION max_execution_time = 60000"]
    assert engine.dialect.literal("a\\'b") == "'a\\\\''b'"


def test_unknown_options_fail_with_the_key_and_the_fix() -> None:
    with pytest.raises(ConfigError) as failure:
        build(config("postgres", {"host": "db", "pasword": "x"}))
    assert "options.pasword" in str(failure.value) and "password" in failure.value.fix
    with pytest.raises(ConfigError, match="cdc"):
        build(config("postgres", {"host": "db"}, mode="cdc"))
