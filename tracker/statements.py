"""Built statements kept for reuse (:func:`built_once`), and lists read by them (load_lists).

Building a large SQLAlchemy statement (aliases, subqueries, CASE expressions, a few
dozen columns) costs milliseconds of Python on every request, often more than running
it on its indexes: SQLAlchemy caches the compiled SQL of a statement, not the work of
putting the statement together. A list page asked again with the same arguments (the
same filters, day and page) gets the statement built the first time; the query itself
runs every time.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from flask import current_app
from sqlalchemy import (
    CursorResult,
    Executable,
    FunctionElement,
    Select,
    String,
    bindparam,
    cast,
    exists,
    func,
    inspect,
    literal_column,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from tracker.db import as_utc
from tracker.extensions import db

P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M")

#: Built statements kept per app, the least recently used dropped first.
SIZE = 512


class _Built:
    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[Hashable, object] = OrderedDict()
        self.lock = threading.Lock()


def built_once(builder: Callable[P, T]) -> Callable[P, T]:
    """Keep what ``builder`` returns per app and per arguments (which must be hashable).

    The builder must depend on nothing but its arguments and the app's configuration:
    never on the clock (pass the day in), the signed-in user (pass the id in) or the
    database. Statements are immutable, so one is shared safely between requests and
    threads. Kept per app, not per process: each app reads its own configuration.
    """
    name = f"{builder.__module__}.{builder.__qualname__}"

    @functools.wraps(builder)
    def built(*args: P.args, **kwargs: P.kwargs) -> T:
        store: _Built = current_app.extensions.setdefault("built_statements", _Built(SIZE))
        key = (name, args, tuple(sorted(kwargs.items())))
        with store.lock:
            if key in store.entries:
                store.entries.move_to_end(key)
                return store.entries[key]  # type: ignore[return-value]
        statement = builder(*args, **kwargs)
        with store.lock:
            store.entries[key] = statement
            while len(store.entries) > store.size:
                store.entries.popitem(last=False)
        return statement

    return built


def read(statement: Executable, params: Mapping[str, Any] | None = None) -> CursorResult[Any]:
    """The rows of a statement that reads columns, not mapped objects, run on the
    session's connection (its transaction) past the ORM's execution layer.

    ``db.session.execute`` prepares every statement for objects it may return, events
    and options: 35-60 µs of Python a statement, a tenth of a page's SQL on SQLite.
    Anything pending in the session is flushed first, as the session's own
    ``execute`` would."""
    if db.session.autoflush:
        db.session.flush()
    return db.session.connection().execute(statement, params)


def labelled_columns(model: type, prefix: str = "") -> list[Any]:
    """Every column of ``model``'s row, labelled with its attribute's name (after
    ``prefix``): a row of them holds the values an object of the model would, under the
    same names."""
    return [attribute.expression.label(prefix + attribute.key)
            for attribute in inspect(model).column_attrs]


@built_once
def _columns_by_id(model: type, also: tuple[Any, ...]) -> Select[Any]:
    (primary_key,) = inspect(model).primary_key
    return (select(*labelled_columns(model), *also)
            .where(primary_key == bindparam("object_id")))


def get_as_loaded(model: type[M], object_id: int, also: tuple[Any, ...] = ()) -> M | None:
    """``db.session.get(model, object_id)``, with the row read past the ORM's loading path
    and handed to the session as if it had loaded it (``make_transient_to_detached``):
    attributes, relationships, expiry and changes behave as for any loaded object.

    For the one object a request looks up first (its user, a patient's own record): the
    ORM's whole loading path for one row cost a tenth of a short page. An object the
    session already holds is returned as it is.

    ``also``: labelled columns (built once, correlated to the model's row) read in the
    same statement; their values go in the object's ``inspect(...).info`` by label, where
    an object the session already held has none.
    """
    held = db.session.identity_map.get(identity_key(model, object_id))
    if held is not None:
        return held  # type: ignore[no-any-return]
    row = read(_columns_by_id(model, also), {"object_id": object_id}).first()
    if row is None:
        return None
    values = dict(row._mapping)
    facts = {column.name: values.pop(column.name) for column in also}
    instance = model(**values)
    make_transient_to_detached(instance)
    db.session.add(instance)
    if facts:
        inspect(instance).info.update(facts)
    return instance


def reads_objects(statement: Select[Any]) -> bool:
    """Whether ``statement`` selects mapped objects (which only the ORM's ``execute``
    makes), rather than columns alone (which :func:`read` reads)."""
    return any(isinstance(column["type"], type) for column in statement.column_descriptions)


def load_lists(instance: object, statements: dict[str, Select[Any]],
               params: dict[str, Any], holding: Mapping[str, Any] | None = None) -> None:
    """Read each of ``instance``'s lists by its statement (built once, keyed by the
    relationship's name) and hand it over as loaded: SQLAlchemy's ``selectinload`` builds
    its statement again on every request, which cost a record page more than its SQL.

    A list that ``holding`` (by the same name, e.g. the row of an ``EXISTS`` per list
    read with the instance: :func:`has_rows`) says is empty is handed over empty
    without a statement."""
    for attribute, statement in statements.items():
        if holding is not None and not holding.get(attribute, True):
            set_committed_value(instance, attribute, [])
            continue
        set_committed_value(instance, attribute, db.session.scalars(statement, params).all())


def has_rows(lists: dict[str, Any], parent_id: Any) -> list[Any]:
    """For each list (by name, the column of its rows that holds the parent's id), a
    labelled ``EXISTS`` to read with the parent: whether the parent has any."""
    return [exists().where(column == parent_id).label(name) for name, column in lists.items()]


def load_children(parents: Sequence[Any], attribute: str, statement: Select[Any],
                  params: dict[str, Any], parent_key: str, *, any_children: bool = True
                  ) -> None:
    """Read the ``attribute`` list of all of ``parents`` by one statement (built once,
    each parent's children in their order; ``parent_key`` names a child's parent id) and
    hand each parent its own as loaded. No statement when there are no parents, or when
    ``any_children`` says (from an ``EXISTS`` read with them) that none has any."""
    children: dict[int, list[Any]] = {}
    if parents and any_children:
        for child in db.session.scalars(statement, params):
            children.setdefault(getattr(child, parent_key), []).append(child)
    for parent in parents:
        set_committed_value(parent, attribute, children.get(parent.id, []))


#: Between the entries of a :func:`joined_entries` column: written into the SQL, since a
#: separator given as text is a parameter SQLAlchemy writes into the SQL on every run.
_ENTRY_SEPARATOR = literal_column("','")


def joined_entries(columns: Sequence[Any], *, where: Any, parent: Any, label: str) -> Any:
    """A short list as one column of its parent's row: each of its rows' ``columns`` as
    text joined by colons, the rows joined by commas (``group_concat`` on SQLite,
    ``string_agg`` on PostgreSQL), in no set order; :func:`split_entries` reads it back.

    For lists of codes and numbers only, never free text: a statement of their own cost
    a page a round trip on PostgreSQL."""
    entry = cast(columns[0], String)
    for column in columns[1:]:
        entry = entry.op("||")(":").op("||")(cast(column, String))
    return (select(func.aggregate_strings(entry, _ENTRY_SEPARATOR)).where(where)
            .correlate(parent).scalar_subquery().label(label))


def split_entries(text: str | None) -> list[list[str]]:
    """The rows of a :func:`joined_entries` column, each as its columns' text."""
    return [entry.split(":") for entry in text.split(",")] if text else []


class _JsonRows(FunctionElement[str]):
    """The rows of ``clauses`` as a JSON array of arrays, as text (:func:`json_rows`)."""

    type = String()
    inherit_cache = True
    name = "json_rows"


@compiles(_JsonRows, "postgresql")
def _json_rows_on_postgresql(element: _JsonRows, compiler: Any, **kw: Any) -> str:
    # As text: psycopg would read json into Python lists, which a kept part's key can't hold.
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))::text"


@compiles(_JsonRows, "sqlite")
def _json_rows_on_sqlite(element: _JsonRows, compiler: Any, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


def json_rows(columns: Sequence[Any], *, select_from: Any, where: Any, parent: Any,
              label: str) -> Any:
    """A list, free text included, as one column of its parent's row: its rows'
    ``columns`` as a JSON array of arrays (``json_group_array`` on SQLite, ``json_agg``
    on PostgreSQL), in no set order; none is `[]` on SQLite and NULL on PostgreSQL.

    The values come back as JSON has them: numbers and text. A timestamp is text in the
    database's own form (:func:`utc_from_json`), a decimal a number; an enum its value."""
    return (select(_JsonRows(*columns)).select_from(select_from).where(where)
            .correlate(parent).scalar_subquery().label(label))


def utc_from_json(text: str) -> datetime:
    """A timestamp of a :func:`json_rows` column as the aware UTC datetime its column
    reads as: SQLite keeps UTC without an offset, PostgreSQL writes its own offset."""
    return as_utc(datetime.fromisoformat(text))
