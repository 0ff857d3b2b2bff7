"""Built statements kept for reuse (tracker.statements): per app, per arguments."""

from __future__ import annotations

from sqlalchemy import literal, select

from tests import conftest
from tracker import create_app
from tracker.statements import built_once


@built_once
def _setting_and_number(number: int):
    from flask import current_app

    return select(literal(current_app.config["DUE_SOON_DAYS"]), literal(number))


def test_a_statement_is_built_once_per_app_and_arguments(app, database, tmp_path):
    other = create_app(conftest.make_test_config(database.url, tmp_path / "other",
                                                 DUE_SOON_DAYS=3))
    with app.app_context():
        first = _setting_and_number(1)
        assert _setting_and_number(1) is first
        assert _setting_and_number(2) is not first
        mine = first.compile().params
    with other.app_context():
        theirs = _setting_and_number(1)
        assert theirs is not first
    # Each app's statement carries its own configuration.
    assert sorted(mine.values()) == [1, app.config["DUE_SOON_DAYS"]]
    assert sorted(theirs.compile().params.values()) == [1, 3]
