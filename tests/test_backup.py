"""`flask backup` and `flask restore`: a backup taken while writes go on restores to the
database as it was at the backup's moment, on SQLite and PostgreSQL; damaged backups and
non-empty targets are refused."""

from __future__ import annotations

import stat
import threading
import time
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import insert, select, text

from tests.conftest import make_test_config
from tests.factories import make_note, make_series, make_session, make_user
from tracker import create_app
from tracker.db import utcnow
from tracker.extensions import db

WRITTEN_TABLE = "login_failures"


def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table, in key order."""
    with app.app_context():
        tables = [table.name for table in db.metadata.sorted_tables] + ["alembic_version"]
        with db.engine.connect() as connection:
            return {name: [tuple(row) for row in connection.execute(
                text(f'SELECT * FROM "{name}" ORDER BY 1'))] for name in tables}  # noqa: S608


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


class Writer(threading.Thread):
    """Inserts rows one transaction at a time until stopped, as sign-in failures do."""

    def __init__(self, app) -> None:
        super().__init__(daemon=True)
        self.app = app
        self.count = 0
        self.stopped = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.app.app_context():
                table = db.metadata.tables[WRITTEN_TABLE]
                while not self.stopped.is_set():
                    with db.engine.begin() as connection:
                        connection.execute(insert(table).values(key=f"ip:writer-{self.count}",
                                                                at=utcnow()))
                    self.count += 1
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error


@pytest.fixture
def clinic(records):
    with records():
        practitioner = make_user("practitioner")
        make_user("manager")
        series = make_series(lead=practitioner)
        make_note(make_session(series))


def test_backup_while_writing_restores_the_database_of_that_moment(app, runner, clinic,
                                                                   tmp_path: Path):
    writer = Writer(app)
    writer.start()
    try:
        wait_until(lambda: writer.count >= 20, "writes before the backup")
        written_before = writer.count
        backup_file = tmp_path / "backups" / "tracker.bak"
        result = runner.invoke(args=["backup", "--output", str(backup_file)])
        assert result.exit_code == 0, result.output
        written_during = writer.count
        wait_until(lambda: writer.count >= written_during + 20, "writes after the backup")
    finally:
        writer.stopped.set()
        writer.join()
    assert writer.error is None, writer.error

    checksum_file = backup_file.with_name("tracker.bak.sha256")
    for path in (backup_file, checksum_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert checksum_file.read_text().endswith("  tracker.bak\n")

    source = snapshot(app)
    refused = runner.invoke(args=["restore", str(backup_file)])
    assert refused.exit_code != 0
    assert "--force" in refused.output
    assert snapshot(app) == source  # nothing touched

    restored_result = runner.invoke(args=["restore", "--force", str(backup_file)])
    assert restored_result.exit_code == 0, restored_result.output
    restored = snapshot(app)

    # The rows written go on after the backup; the backup holds an unbroken prefix of
    # them, at least those written before it started: one moment, not a blend.
    rows, source_rows = restored.pop(WRITTEN_TABLE), source.pop(WRITTEN_TABLE)
    assert written_before <= len(rows) < len(source_rows)
    assert rows == source_rows[:len(rows)]
    assert restored == source  # every other table, row for row
    assert restored["patients"] and restored["post_session_notes"]


def test_sqlite_backup_restores_into_a_new_database(tmp_path):
    source = create_app(make_test_config(f"sqlite:///{tmp_path / 'live.sqlite'}", tmp_path))
    with source.app_context():
        upgrade()
        make_note(make_session(make_series()))
        db.session.commit()
    backup_file = tmp_path / "tracker.sqlite.bak"
    assert source.test_cli_runner().invoke(
        args=["backup", "--output", str(backup_file)]).exit_code == 0

    target = create_app(make_test_config(f"sqlite:///{tmp_path / 'new' / 'restored.sqlite'}",
                                         tmp_path))
    result = target.test_cli_runner().invoke(args=["restore", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert snapshot(target) == snapshot(source)
    assert snapshot(target)["post_session_notes"]
    assert target.test_client().get("/readyz").status_code == 200
    for app in (source, target):
        with app.app_context():
            db.engine.dispose()


def test_a_damaged_backup_is_refused_and_nothing_is_restored(app, runner, clinic, tmp_path):
    backup_file = tmp_path / "tracker.bak"
    assert runner.invoke(args=["backup", "--output", str(backup_file)]).exit_code == 0
    data = bytearray(backup_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    backup_file.write_bytes(bytes(data))
    before = snapshot(app)

    result = runner.invoke(args=["restore", "--force", str(backup_file)])
    assert result.exit_code != 0
    assert "does not match" in result.output
    assert snapshot(app) == before

    backup_file.with_name("tracker.bak.sha256").unlink()
    result = runner.invoke(args=["restore", "--force", str(backup_file)])
    assert result.exit_code != 0
    assert "checksum file" in result.output


def test_backup_never_overwrites_a_file(app, runner, tmp_path):
    existing = tmp_path / "keep.bak"
    existing.write_text("an older backup")
    result = runner.invoke(args=["backup", "--output", str(existing)])
    assert result.exit_code != 0
    assert existing.read_text() == "an older backup"
    with app.app_context():
        assert db.session.scalar(select(1)) == 1
