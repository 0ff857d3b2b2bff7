"""Database foundations: the declarative base, a UTC datetime type and SQLite settings."""

from __future__ import annotations

import enum
import sqlite3
from datetime import UTC, date, datetime
from select import select as wait_until_readable
from typing import Any

import psycopg
from flask import g, has_request_context, request
from psycopg import pq
from sqlalchemy import (
    Date,
    DateTime,
    Enum,
    Executable,
    Index,
    Integer,
    MetaData,
    Table,
    bindparam,
    event,
    func,
    insert,
    literal_column,
    select,
    true,
)
from sqlalchemy.engine import Connection, Engine, ExecutionContext
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.pool import Pool
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert, UpdateBase
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import GenerativeSelect, _OffsetLimitParam
from sqlalchemy.types import TypeDecorator

from tracker.kept import kept_value

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (used as a callable column default)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and hands them back aware.

    Naive datetimes are refused: a time without a zone is a bug waiting to show up
    as a session logged an hour off.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused; pass an aware datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


def as_utc(value: datetime) -> datetime:
    """A stored moment as an aware UTC datetime: SQLite keeps UTC without an offset,
    PostgreSQL hands it back in its session's zone."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def enum_column(enum_class: type[enum.Enum], name: str) -> Enum:
    """An enum stored by its value in a VARCHAR with a named CHECK constraint.

    Values rather than member names, and no native PostgreSQL enum type, so that
    adding a value later is a one-line migration on both databases.
    """
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def only_on(dialect_name: str, index: Index) -> Index:
    """``index`` built on one database alone: ``create_all`` skips it elsewhere, and so
    does the comparison of models and migrations (:func:`in_schema_of`)."""
    index.info["only_on"] = dialect_name
    return index.ddl_if(dialect=dialect_name)


def in_schema_of(schema_object: Any, dialect_name: str) -> bool:
    """Whether ``schema_object`` of the models belongs in a database of ``dialect_name``
    (an Alembic ``include_object`` test, with :func:`only_on`)."""
    wanted = getattr(schema_object, "info", {}).get("only_on")
    return wanted is None or wanted == dialect_name


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


#: Each SQLite connection's page cache, in KiB (SQLite's default is 2,000). The lot trace
#: reads 867 sessions spread over the table, and Today's lists and reports a few hundred
#: rows each: 3-4 MB of pages that a 2 MB cache lost between two requests, read again
#: from the OS. At 10,000 patients the lot trace's CPU per request went 5.9 -> 4.0 ms in
#: process with 32 MB, Today "only mine" 5.3 -> 4.7 ms. A worker holds one or two
#: connections: up to 64 MB each, filled only as pages are read.
SQLITE_CACHE_KIB = 32_000


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL, a busy timeout, foreign keys, full sync and a larger page cache
    (:data:`SQLITE_CACHE_KIB`) for every SQLite connection.

    ``isolation_level = None`` hands transaction control to SQLAlchemy so that the
    ``begin`` listener below can start every writing transaction with ``BEGIN
    IMMEDIATE``: without it concurrent writers silently lose updates (see
    shared/security.md).
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()
    connection_record.info["sqlite_synchronous"] = "FULL"


def _is_psycopg(dbapi_connection: Any) -> bool:
    return type(dbapi_connection).__module__.startswith("psycopg")


#: At most this many result shapes' descriptions are kept (:class:`DescribedOnceCursor`);
#: past it, all are dropped. The app's pages read a few dozen shapes.
KEPT_DESCRIPTIONS_LIMIT = 512

_kept_descriptions: dict[Any, list[Any]] = {}


class DescribedOnceCursor(psycopg.Cursor[Any]):
    """psycopg's cursor, with the description of each shape of result built once and kept.

    psycopg builds a ``Column`` object per column each time ``description`` is read, and
    SQLAlchemy reads it for every statement: 1-2 µs a column, 20-60 µs a statement of the
    record pages. The key is every field's name, type, modifier and size, read from the
    result itself, and the connection's encoding: a result of another shape, a renamed or
    retyped column included, is a new key."""

    __slots__ = ()

    @property
    def description(self) -> list[Any] | None:
        result = self.pgresult
        if result is None or not result.nfields:
            return super().description
        key = (self._encoding, *[
            (result.fname(index), result.ftype(index), result.fmod(index),
             result.fsize(index)) for index in range(result.nfields)])
        kept = kept_value(_kept_descriptions, key,
                          lambda: super(DescribedOnceCursor, self).description or [],
                          KEPT_DESCRIPTIONS_LIMIT)
        return list(kept)


@event.listens_for(Engine, "connect")
def _configure_postgresql(dbapi_connection: Any, connection_record: Any) -> None:
    """No parallel workers for the app's queries on PostgreSQL, and cursors that keep
    their results' descriptions (:class:`DescribedOnceCursor`).

    A page's statements read a few index ranges and return tens of rows, yet for some (the
    lot trace's union of two lot indexes) the planner's estimate crosses the threshold for
    a parallel plan: starting two workers then costs several times the query (9 ms for a
    1.5 ms read at 10,000 patients) and takes cores the other requests need.
    """
    if not _is_psycopg(dbapi_connection):
        return
    dbapi_connection.cursor_factory = DescribedOnceCursor
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
    dbapi_connection.commit()


@event.listens_for(Pool, "checkout")
def _check_postgresql_connection(dbapi_connection: Any, connection_record: Any,
                                 connection_proxy: Any) -> None:
    """Hand out a PostgreSQL connection only if it is still open, without a round trip.

    SQLAlchemy's ``pool_pre_ping`` sent an empty query on every checkout: a round trip
    per request, to find the rare connection that the server closed (a restart, an idle
    timeout, ``pg_terminate_backend``). A server that closes a connection says so on its
    socket: an error message, then the end of the stream. An idle connection has nothing
    to read, so one with something to read is pinged for real, and a connection that
    fails the ping, or that psycopg already knows is closed, is replaced by the pool
    (``DisconnectionError``), as pre-ping did. SQLite has no server to lose.
    """
    if not _is_psycopg(dbapi_connection):
        return
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the connection to PostgreSQL is closed")
    readable, _, _ = wait_until_readable([dbapi_connection.fileno()], [], [], 0)
    if not readable:
        return
    # Something waits: a notice or a changed server setting, or the server's farewell.
    pgconn = dbapi_connection.pgconn
    try:
        answer = pgconn.exec_(b"").status
    except psycopg.Error as error:
        raise DisconnectionError("the connection to PostgreSQL is closed") from error
    if pgconn.status != pq.ConnStatus.OK or answer != pq.ExecStatus.EMPTY_QUERY:
        raise DisconnectionError("the connection to PostgreSQL did not answer a ping")


@compiles(_OffsetLimitParam, "postgresql")
def _limit_in_the_sql(element: _OffsetLimitParam, compiler: SQLCompiler, **kw: Any) -> str:
    """On PostgreSQL every ``.limit(n)`` and ``.offset(n)`` is written into the statement's
    text (still bound in SQLAlchemy's cached compilation, rendered as the statement runs).

    psycopg prepares a statement run again and again; PostgreSQL then weighs a generic
    plan, made once, against planning anew each time. With LIMIT a parameter the generic
    plan must allow for any number of rows, so it loses, and a page's short list was
    planned on every request: 0.7-1.5 ms of planning for 0.1-0.3 ms of reading
    (Today's lists, the recall worklist). With the number in the text the generic plan is
    as good and is kept."""
    return compiler.visit_bindparam(element, **{**kw, "literal_execute": True})


def in_sql(value: Any, type_: Any, *, name: str | None = None,
           expanding: bool = False) -> Any:
    """A value written into the statement's text as it runs, not sent as a parameter
    (given here, or at execution under ``name``; ``expanding`` for an IN list).

    For values a statement built by :func:`built_once` is built for anyway (the clinic's
    day, a practitioner) or that change seldom. On PostgreSQL a statement without
    parameters is planned once, when psycopg prepares it; with parameters PostgreSQL
    planned some of them anew on every request (Today's counts: a generic plan never
    looked as good as one for the day)."""
    return bindparam(name, value, type_=type_, expanding=expanding, literal_execute=True)


def day_in_sql(day: date) -> Any:
    """``day`` written into the statement's text (:func:`in_sql`)."""
    return in_sql(day, Date())


#: What ``g.audit_writing`` holds while tracker.audit stores a refusal's audit row in a
#: transaction of its own, in a request that otherwise only reads.
AUDIT_WRITE_DURABLE = "durable"

#: Request methods that only read: they never write to the database.
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _read_only_request() -> bool:
    """A GET or HEAD, except while it stores an audit row (tracker.audit)."""
    return (has_request_context() and request.method in READ_ONLY_METHODS
            and not g.get("audit_writing", False))


def _use_synchronous(pooled: Any, level: str) -> None:
    """Set how the SQLite connection's commits wait for the disk, when it differs.

    On the driver's connection, as at connect: a setting, not a page's query."""
    if pooled.info.get("sqlite_synchronous") != level:
        pooled.driver_connection.execute(f"PRAGMA synchronous={level}")
        pooled.info["sqlite_synchronous"] = level


@event.listens_for(Engine, "begin")
def _begin_immediate_on_sqlite(connection: Any) -> None:
    """On SQLite, writers take the write lock when their transaction begins (``BEGIN
    IMMEDIATE``), so that no read-modify-write loses an update. A request that only
    reads (GET, HEAD) begins a deferred transaction instead: in WAL mode it reads a
    snapshot without the lock, so pages render in parallel and never wait on a writer.
    Everything outside a request (CLI, tests' setup) writes, and locks as before.

    Every write begun here commits with ``synchronous=FULL`` (an fsync of the WAL). The
    page-view audit rows (:func:`write_after_read_on_sqlite`) use ``NORMAL``: committed
    and consistent, on disk with the next FULL commit or checkpoint. The WAL is appended
    to in order, so a FULL commit makes every earlier one durable too."""
    if connection.dialect.name == "sqlite":
        if _read_only_request():
            connection.exec_driver_sql("BEGIN")
            return
        _use_synchronous(connection.connection, "FULL")
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@event.listens_for(Engine, "begin")
def _read_without_transaction_on_postgresql(connection: Any) -> None:
    """On PostgreSQL, a request that only reads runs its statements in autocommit: no
    ``BEGIN`` before them and no ``COMMIT`` after, two round trips of the four to seven a
    page made. PostgreSQL's READ COMMITTED takes a new snapshot for every statement of a
    transaction anyway, so the page reads what it read in one.

    Should such a request write all the same (a refusal's audit row, or a careless view),
    :func:`_write_in_a_transaction_on_postgresql` opens a transaction before the first
    write, which the request then commits or rolls back as any other."""
    if connection.dialect.name != "postgresql":
        return
    driver = connection.connection.driver_connection
    reading = _read_only_request()
    if driver.autocommit != reading:
        driver.autocommit = reading


def _only_reads(context: ExecutionContext | None) -> bool:
    """Whether the statement is a SELECT that neither locks rows nor writes in a CTE."""
    compiled = getattr(context, "compiled", None)
    statement = getattr(compiled, "statement", None)
    if not isinstance(statement, GenerativeSelect) or statement._for_update_arg is not None:
        return False
    return not any(isinstance(cte.element, UpdateBase) for cte in compiled.ctes or ())


@event.listens_for(Engine, "before_cursor_execute")
def _write_in_a_transaction_on_postgresql(connection: Any, cursor: Any, statement: str,
                                          parameters: Any, context: Any,
                                          executemany: bool) -> None:
    """Begin a transaction before a statement that may write or lock, or that streams
    its rows (a server-side cursor, as the CSV exports read), if the request's reads run
    in autocommit (:func:`_read_without_transaction_on_postgresql`): its writes then
    stand or fall together, its row locks and its cursor last until the end."""
    if connection.dialect.name != "postgresql":
        return
    driver = connection.connection.driver_connection
    if (driver.autocommit and driver.pgconn.transaction_status == pq.TransactionStatus.IDLE
            and (isinstance(cursor, psycopg.ServerCursor) or not _only_reads(context))
            and not (context is not None
                     and context.execution_options.get(ITS_OWN_TRANSACTION))):
        driver.execute("BEGIN")


def write_after_read_on_sqlite(connection: Connection, statement: Executable,
                               rows: list[dict[str, Any]]) -> None:
    """End the read transaction in progress on ``connection``, then run ``statement`` for
    ``rows`` in a transaction of its own that begins IMMEDIATE and commits without waiting
    for the disk (``NORMAL``).

    The same driver connection, its transactions begun and ended by hand: the session's
    commit, a second checkout from the pool and a begin through the engine's events cost
    a page view 0.2 ms, ten times the write itself. The session still counts its read
    transaction as open; closing the session at the end of the request rolls back
    nothing, since the driver holds no transaction by then.
    """
    pooled = connection.connection
    driver = pooled.driver_connection
    driver.execute("COMMIT")
    _use_synchronous(pooled, "NORMAL")
    driver.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(statement, rows)
        driver.execute("COMMIT")
    except BaseException:
        if driver.in_transaction:
            driver.execute("ROLLBACK")
        raise


#: An execution option: the statement is a transaction of its own when the request's
#: reads run in autocommit, so :func:`_write_in_a_transaction_on_postgresql` begins none
#: for it (see :func:`inserted_without_waiting`).
ITS_OWN_TRANSACTION = "its_own_transaction"


def inserted_without_waiting(table: Table) -> Insert:
    """An INSERT of one row into ``table`` (its columns but the key, as parameters of
    the same names) that, run on its own in autocommit on PostgreSQL, is a transaction
    that commits without waiting for the WAL to reach the disk: SQLite's ``NORMAL``.

    ``set_config('synchronous_commit', 'off', true)`` in its ``FROM`` sets the setting
    for its own transaction only, and PostgreSQL reads it when that transaction commits.
    One statement and one round trip: no ``BEGIN``, no ``SET LOCAL``, no ``COMMIT`` and
    no pipeline, each of which cost the worker psycopg's Python and the server a turn on
    the two cores. PostgreSQL only."""
    columns = [column for column in table.columns if not column.primary_key]
    lazy_commit = select(
        func.set_config(literal_column("'synchronous_commit'"), literal_column("'off'"),
                        true()).label("synchronous_commit")
    ).subquery("lazy_commit")
    row = select(*[bindparam(column.key, type_=column.type) for column in columns]
                 ).select_from(lazy_commit)
    return (insert(table).from_select([column.key for column in columns], row)
            .execution_options(**{ITS_OWN_TRANSACTION: True}))


def write_after_read_on_postgresql(connection: Connection, statement: Executable,
                                   row: dict[str, Any]) -> bool:
    """Run ``statement`` (made by :func:`inserted_without_waiting`) for ``row`` after a
    request's reads, as a transaction of its own that commits without waiting for the
    disk.

    Only if the request's reads ran in autocommit and nothing is open on the connection
    (:func:`_read_without_transaction_on_postgresql`); otherwise it returns False and
    does nothing, and the caller writes in the transaction in progress."""
    driver = connection.connection.driver_connection
    if not (driver.autocommit and driver.pgconn.transaction_status == pq.TransactionStatus.IDLE):
        return False
    connection.execute(statement, row)
    return True


def commit_without_waiting_on_postgresql(connection: Connection) -> None:
    """Let the PostgreSQL transaction on ``connection`` commit before its WAL is flushed,
    which the WAL writer does within moments (wal_writer_delay): SQLite's ``NORMAL``
    above. The transaction begins here if the request's reads ran in autocommit: the
    setting holds only inside one."""
    driver = connection.connection.driver_connection
    if driver.autocommit and driver.pgconn.transaction_status == pq.TransactionStatus.IDLE:
        driver.execute("BEGIN")
    driver.execute("SET LOCAL synchronous_commit TO OFF")


class add_days(FunctionElement[Any]):  # noqa: N801 - reads as the SQL function it renders
    """``day + days`` as a date, in SQL, on SQLite and PostgreSQL alike (``days`` >= 0).

    Past the calendar's end SQLite's date() gives NULL; it is held at 9999-12-31 as
    :func:`tracker.clock.add_days` does. PostgreSQL's dates reach much further, and
    compare the same way with any real today."""

    type = Date()
    inherit_cache = True
    name = "add_days"


@compiles(add_days)
def _add_days_default(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    day, days = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({day} + {days})"


@compiles(add_days, "sqlite")
def _add_days_sqlite(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    day, days = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"coalesce(date({day}, ({days}) || ' days'), '9999-12-31')"


class days_between(FunctionElement[Any]):  # noqa: N801 - reads as the SQL function it renders
    """Whole days from the first date to the second (``later - earlier``), in SQL, on
    SQLite and PostgreSQL alike. Both are clinic-local dates (``performed_on``), so a
    clock change in between never makes a day of 23 or 25 hours count differently."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between)
def _days_between_default(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    earlier, later = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(({later}) - ({earlier}))"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    earlier, later = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(round(julianday({later}) - julianday({earlier})) AS INTEGER)"
