"""Reading pages like a browser: the visible text, and what a form would send as it stands."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from typing import Any

from flask import template_rendered


def text(response) -> str:
    """The page with entities decoded, so messages can be matched as the user reads them."""
    return unescape(response.get_data(as_text=True))


def words(response) -> str:
    """The page's words as a reader meets them: tags dropped, entities decoded, each run
    of spaces one space, so a table row reads as its cells in order."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, object]] = []
        self._form: dict[str, object] | None = None
        self._select: tuple[str, bool] | None = None
        self._options: list[tuple[str, bool]] = []
        self._option_value: str | None = None
        self._option_selected = False
        self._option_text: list[str] = []
        self._textarea: str | None = None
        self._textarea_text: list[str] = []

    def _add(self, name: str, value: str) -> None:
        if self._form is not None:
            self._form["fields"].append((name, value))  # type: ignore[union-attr]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._form = {"action": attributes.get("action", ""), "fields": []}
            self.forms.append(self._form)
        elif tag == "input" and "name" in attributes:
            kind = attributes.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            default = "on" if kind in ("checkbox", "radio") else ""
            self._add(attributes["name"], attributes.get("value", default))
        elif tag == "select" and "name" in attributes:
            self._select = (attributes["name"], "multiple" in attributes)
            self._options = []
        elif tag == "option" and self._select is not None:
            self._option_value = attributes.get("value")
            self._option_selected = "selected" in attributes
            self._option_text = []
        elif tag == "textarea" and "name" in attributes:
            self._textarea = attributes["name"]
            self._textarea_text = []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea_text.append(data)
        elif self._option_value is None and self._select is not None:
            self._option_text.append(data)

    def _close_option(self) -> None:
        if self._select is not None and (self._option_value is not None or self._option_text):
            value = self._option_value
            if value is None:
                value = "".join(self._option_text).strip()
            self._options.append((value, self._option_selected))
        self._option_value = None
        self._option_text = []
        self._option_selected = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "option":
            self._close_option()
        elif tag == "select" and self._select is not None:
            self._close_option()
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]
            for value in chosen:
                self._add(name, value)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            content = "".join(self._textarea_text)
            self._add(self._textarea, content.removeprefix("\r").removeprefix("\n"))
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms(html: str) -> list[dict[str, object]]:
    reader = _FormReader()
    reader.feed(html)
    return reader.forms


def form_data(response, action: str | None = None) -> dict[str, str | list[str]]:
    """What a form of the page would submit: the first posting back to the page itself, or
    the first whose action contains ``action``. A name sent more than once maps to a list,
    as a checkbox list does."""
    page = response.get_data(as_text=True)
    for form in forms(page):
        target = str(form["action"])
        if (target == "") if action is None else (action in target):
            data: dict[str, str | list[str]] = {}
            for name, value in form["fields"]:  # type: ignore[union-attr]
                if name in data:
                    previous = data[name]
                    data[name] = [*previous, value] if isinstance(previous, list) else [
                        previous, value]
                else:
                    data[name] = value
            return data
    raise AssertionError(f"no form with action {action!r} on the page")


def values_of(data: dict[str, str | list[str]], pattern: str) -> list[str]:
    """Values of the fields named like ``areas-<n>-area``, in page order."""
    regex = re.compile(pattern)
    found: list[str] = []
    for name, value in data.items():
        if regex.fullmatch(name):
            found.extend([value] if isinstance(value, str) else value)
    return found


def field_error(response, field_id: str) -> str:
    """The error message shown next to one form field ('' when it has none)."""
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>',
                      response.get_data(as_text=True), re.S)
    return unescape(match.group(1)) if match else ""


class WrittenTemplates:
    """Which of some templates an app writes during each request made through :meth:`get`,
    in order, in :attr:`written`: a kept part's tests check that a view writes it again
    exactly when something it shows has changed."""

    def __init__(self, app: Any, *names: str) -> None:
        self.app = app
        self.names = set(names)
        self.written: list[str] = []

    def _note(self, sender: Any, template: Any, context: Any, **extra: Any) -> None:
        if template.name in self.names:
            self.written.append(template.name)

    def get(self, client: Any, url: str, **options: Any) -> Any:
        """``client.get(url, **options)``; :attr:`written` then holds this request's."""
        self.written.clear()
        with template_rendered.connected_to(self._note, self.app):
            return client.get(url, **options)
