"""HTML kept per key (tracker.fragments.kept_html): written once per key, dropped when full."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from tracker.fragments import kept_html, values_of


def test_html_is_written_once_per_key_and_the_store_starts_again_when_full(app):
    written = []

    def render(text: str):
        def write() -> str:
            written.append(text)
            return f"<p>{text}</p>"
        return write

    with app.app_context():
        assert kept_html("test_parts", "a", render("a"), limit=2) == "<p>a</p>"
        assert kept_html("test_parts", "a", render("a again"), limit=2) == "<p>a</p>"
        assert kept_html("test_parts", "b", render("b"), limit=2) == "<p>b</p>"
        assert written == ["a", "b"]
        # A third key finds the store full: it starts again, and "a" is written anew.
        kept_html("test_parts", "c", render("c"), limit=2)
        assert kept_html("test_parts", "a", render("a anew"), limit=2) == "<p>a anew</p>"
        assert written == ["a", "b", "c", "a anew"]
        assert len(app.extensions["test_parts"]) == 2


class _Area(NamedTuple):
    name: str


@dataclass
class _Listed:
    id: int
    areas: list[_Area]


def test_a_key_of_rows_holds_every_value_of_every_field_nested_lists_included():
    """Rows with lists inside (unhashable as they are) make a key that is equal exactly
    when every value, nested ones included, is the same."""
    rows = [_Listed(1, [_Area("cheeks"), _Area("chin")]), _Listed(2, [])]
    key = values_of(rows)
    assert hash(key) == hash(values_of([_Listed(1, [_Area("cheeks"), _Area("chin")]),
                                        _Listed(2, [])]))
    assert key == values_of([_Listed(1, [_Area("cheeks"), _Area("chin")]), _Listed(2, [])])
    assert key != values_of([_Listed(1, [_Area("cheeks"), _Area("neck")]), _Listed(2, [])])
    assert key != values_of([_Listed(1, [_Area("cheeks")]), _Listed(2, [])])
    assert key != values_of([_Listed(1, [_Area("cheeks"), _Area("chin")]), _Listed(3, [])])
