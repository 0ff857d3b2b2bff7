"""HTML kept per key (tracker.fragments.kept_html): written once per key, dropped when full."""

from __future__ import annotations

from tracker.fragments import kept_html


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
