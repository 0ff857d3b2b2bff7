"""Database foundations: the declarative base, a UTC datetime type and SQLite settings."""

from __future__ import annotations

import enum
import sqlite3
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app, g, has_request_context, request
from sqlalchemy import (
    Date,
    DateTime,
    Enum,
    Executable,
    Index,
    Integer,
    MetaData,
    bindparam,
    event,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import _OffsetLimitParam
from sqlalchemy.types import TypeDecorator

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
        if value is None:
            return None
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


@event.listens_for(Engine, "connect")
def _configure_postgresql(dbapi_connection: Any, connection_record: Any) -> None:
    """No parallel workers for the app's queries on PostgreSQL.

    A page's statements read a few index ranges and return tens of rows, yet for some (the
    lot trace's union of two lot indexes) the planner's estimate crosses the threshold for
    a parallel plan: starting two workers then costs several times the query (9 ms for a
    1.5 ms read at 10,000 patients) and takes cores the other requests need.
    """
    if not type(dbapi_connection).__module__.startswith("psycopg"):
        return
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
    dbapi_connection.commit()


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


def commit_without_waiting_on_postgresql(connection: Connection) -> None:
    """Let the PostgreSQL transaction in progress on ``connection`` commit before its WAL
    is flushed, which the WAL writer does within moments (wal_writer_delay): SQLite's
    ``NORMAL`` above."""
    connection.connection.driver_connection.execute("SET LOCAL synchronous_commit TO OFF")


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


def _note_write(state: Any) -> None:
    """``do_orm_execute``: the session ran an INSERT, UPDATE or DELETE statement."""
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


def _note_flush(session: Any, *args: Any) -> None:
    session.info["wrote"] = True


def _forget_writes(session: Any, *args: Any) -> None:
    session.info.pop("wrote", None)


def _end_read_with_commit(error: BaseException | None) -> None:
    """On PostgreSQL, a request that only read ends its transaction with COMMIT instead of
    the ROLLBACK that closing the session sends.

    For a transaction that wrote nothing the two are the same to the database, but not to
    psycopg: it forgets every statement it has prepared on the connection at each
    ROLLBACK (a rollback may undo the objects they name). The pages' statements were thus
    never prepared, and PostgreSQL planned each of them on every request: 0.2-1.4 ms per
    statement, the planning often dearer than the reading. A request that wrote, or
    failed, still rolls back.
    """
    from tracker.extensions import db

    if error is not None or request.method not in READ_ONLY_METHODS:
        return
    if not db.session.registry.has():
        return
    session = db.session()
    transaction = session.get_transaction()
    if (transaction is None or not transaction.is_active or session.info.get("wrote")
            or session.new or session.dirty or session.deleted):
        return
    if session.get_bind().dialect.name != "postgresql":
        return
    try:
        session.commit()
    except SQLAlchemyError:
        # Nothing was written: the response stands, and closing the session rolls back.
        current_app.logger.warning("a read-only request could not end with COMMIT",
                                   exc_info=True)


def init_read_transactions(app: Any) -> None:
    """Requests that only read end with COMMIT on PostgreSQL (:func:`_end_read_with_commit`)."""
    from tracker.extensions import db

    if not event.contains(db.session, "do_orm_execute", _note_write):
        event.listen(db.session, "do_orm_execute", _note_write)
        event.listen(db.session, "after_flush", _note_flush)
        event.listen(db.session, "after_commit", _forget_writes)
        event.listen(db.session, "after_rollback", _forget_writes)
    app.teardown_request(_end_read_with_commit)
