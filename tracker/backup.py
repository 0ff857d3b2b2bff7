"""Backups taken while the app runs, and restores that check what they restore.

SQLite is copied with its backup API (a plain copy of a live WAL database misses committed
rows); PostgreSQL with ``pg_dump -Fc``, which reads one consistent snapshot. Each backup
is written with mode 600 next to a ``<file>.sha256`` in ``sha256sum`` format; a restore
checks it first and refuses to overwrite a database that holds tables unless forced.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why."""


@dataclass(frozen=True)
class Backup:
    path: Path
    checksum_path: Path
    sha256: str


def default_backup_path(folder: Path, engine: Engine) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite" if engine.dialect.name == "sqlite" else "dump"
    return folder / f"tracker-{stamp}.{suffix}"


def checksum_path(backup_file: Path) -> Path:
    return backup_file.with_name(backup_file.name + ".sha256")


def backup(engine: Engine, destination: Path) -> Backup:
    """Write a consistent copy of the database to ``destination`` (mode 600) and its
    checksum file; writes may go on meanwhile."""
    if destination.exists():
        raise BackupError(f"{destination} already exists; choose another file.")
    destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _create_private(destination)
    try:
        if engine.dialect.name == "sqlite":
            _backup_sqlite(_sqlite_path(engine.url), destination)
        else:
            _backup_postgres(engine, destination)
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    digest = _sha256(destination)
    checksum = checksum_path(destination)
    _create_private(checksum)
    checksum.write_text(f"{digest}  {destination.name}\n")
    return Backup(destination, checksum, digest)


def restore(engine: Engine, source: Path, *, force: bool = False) -> None:
    """Replace the database's contents with the backup ``source``, after checking it."""
    verify(source)
    if not force and _has_tables(engine):
        raise BackupError("The database already holds tables; restoring would overwrite "
                          "them. Pass --force to replace its contents with the backup.")
    engine.dispose()  # no pooled connection may hold the old contents open
    if engine.dialect.name == "sqlite":
        _restore_sqlite(source, _sqlite_path(engine.url))
    else:
        _restore_postgres(engine, source, clean=force)


def verify(source: Path) -> None:
    """Refuse a backup whose checksum file is missing or does not match."""
    checksum = checksum_path(source)
    if not checksum.exists():
        raise BackupError(f"{checksum} is missing; a backup is only restored with its "
                          "checksum file.")
    recorded = checksum.read_text().split()
    if not recorded or _sha256(source) != recorded[0]:
        raise BackupError(f"{source} does not match {checksum.name}: the file is damaged or "
                          "not the one that was backed up. Nothing was restored.")


def _create_private(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    os.chmod(path, 0o600)  # whatever the umask


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _has_tables(engine: Engine) -> bool:
    if engine.dialect.name == "sqlite" and not _sqlite_path(engine.url).exists():
        return False
    with engine.connect() as connection:
        return bool(inspect(connection).get_table_names())


# SQLite ---------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(url.database)


def _backup_sqlite(source: Path, destination: Path) -> None:
    if not source.exists():
        raise BackupError(f"{source} does not exist.")
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)) as live, \
            closing(sqlite3.connect(destination)) as copy:
        live.backup(copy)  # all pages in one step: one consistent snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal


def _restore_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        _create_private(target)
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as saved, \
            closing(sqlite3.connect(target, timeout=30)) as live:
        saved.backup(live)  # replaces every page of the target in one transaction
        live.execute("PRAGMA journal_mode=WAL")  # as the app runs it


# PostgreSQL -----------------------------------------------------------------------------


def _libpq_environment(url: URL) -> dict[str, str]:
    """Connection settings for pg_dump/pg_restore as libpq variables: the password never
    appears on a command line."""
    environment = dict(os.environ)
    for variable, value in (("PGHOST", url.host), ("PGPORT", url.port),
                            ("PGUSER", url.username), ("PGPASSWORD", url.password),
                            ("PGDATABASE", url.database)):
        if value is not None:
            environment[variable] = str(value)
    for key, variable in (("options", "PGOPTIONS"), ("sslmode", "PGSSLMODE")):
        value = url.query.get(key)
        if value:
            environment[variable] = value if isinstance(value, str) else value[0]
    return environment


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return found


def _run(arguments: list[str], engine: Engine, **kwargs: object) -> None:
    result = subprocess.run(arguments, env=_libpq_environment(engine.url),  # noqa: S603
                            stderr=subprocess.PIPE, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise BackupError(f"{Path(arguments[0]).name} failed: {result.stderr.strip()}")


def _current_schema(engine: Engine) -> str:
    with engine.connect() as connection:
        return connection.execute(text("SELECT current_schema()")).scalar_one()


def _backup_postgres(engine: Engine, destination: Path) -> None:
    arguments = [_tool("pg_dump"), "--format=custom", "--file", str(destination)]
    schema = _current_schema(engine)
    if schema != "public":
        # The app lives in a schema of its own (search_path): back up that schema only.
        arguments += ["--schema", schema]
    _run(arguments, engine)


def _restore_postgres(engine: Engine, source: Path, *, clean: bool) -> None:
    database = engine.url.database or ""
    arguments = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                 "--single-transaction", "--dbname", database]
    if clean:
        arguments += ["--clean", "--if-exists"]
    _run([*arguments, str(source)], engine)
