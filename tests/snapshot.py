"""Records made once through the factories and put back for each test that needs them.

Making a handful of linked records through the factories costs 60-110 ms (each session
or note written refreshes its series' review figures); putting the same rows back costs a
few milliseconds. Modules that need the same records for hundreds of cases make them
once per backend, take a snapshot, and restore it.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import Table, text

from tests.conftest import empty_postgres_tables
from tracker.extensions import db


@dataclass
class DatabaseSnapshot:
    """A database's content at one moment, to put it back as it was.

    SQLite: a copy of the whole database in memory, through SQLite's backup API, which
    copies consistently and replaces whatever the target holds. PostgreSQL: every table's
    rows, written back after the tables are emptied, with each id counter set past them.
    The ids are the same after each restore, so objects read before stay true.
    """

    sqlite_copy: sqlite3.Connection | None = None
    rows: list[tuple[Table, list[dict]]] = field(default_factory=list)

    @classmethod
    def take(cls, app: Flask) -> DatabaseSnapshot:
        with app.app_context():
            engine = db.engine
            if engine.dialect.name == "sqlite":
                copy = sqlite3.connect(":memory:")
                with closing(sqlite3.connect(engine.url.database)) as source:
                    source.backup(copy)
                return cls(sqlite_copy=copy)
            rows = []
            with engine.connect() as connection:
                for table in db.metadata.sorted_tables:
                    table_rows = [*map(dict, connection.execute(table.select()).mappings())]
                    if table_rows:
                        rows.append((table, table_rows))
            return cls(rows=rows)

    def restore(self, app: Flask) -> None:
        with app.app_context():
            engine = db.engine
            if self.sqlite_copy is not None:
                engine.dispose()  # no pooled connection keeps the old content's schema
                with closing(sqlite3.connect(engine.url.database)) as target:
                    self.sqlite_copy.backup(target)
                return
            empty_postgres_tables(engine, counts=False)
            with engine.begin() as connection:
                # The rows as they were, triggers left out: the patient counts come back
                # with them rather than counted again from the patients put back.
                connection.execute(text("SET LOCAL session_replication_role = replica"))
                for table, rows in self.rows:
                    connection.execute(table.insert(), rows)
                for table, rows in self.rows:
                    if "id" in table.c:
                        connection.execute(
                            text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :last)"),
                            {"table": table.name, "last": max(row["id"] for row in rows)})
