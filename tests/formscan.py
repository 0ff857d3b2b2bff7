"""Finding the app's forms and query arguments by reading its pages, as a browser would.

The hostile-input tests use this so that a new form or a new query argument is covered
without anyone listing it: a crawler signs in as each role, opens every GET route and the
links on its pages, and records each form (the controls it has, what they send as they
stand) and each query argument a link or a GET form uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter

from tests.pages import forms as sent_values


@dataclass
class Control:
    """One named form control: its tag, type and attributes, and a select's options."""

    name: str
    tag: str
    kind: str
    attributes: dict[str, str]
    options: list[str] = field(default_factory=list)

    @property
    def required(self) -> bool:
        return "required" in self.attributes

    @property
    def is_button(self) -> bool:
        return self.kind in ("submit", "button", "image", "reset")


@dataclass
class ScannedForm:
    method: str
    action: str
    controls: list[Control]
    #: What the form sends as it stands (checked boxes, selected options, typed text).
    values: list[tuple[str, str]]


class _ControlReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[ScannedForm] = []
        self._form: ScannedForm | None = None
        self._select: Control | None = None
        self.links: list[str] = []
        #: Same-site paths named in data-* attributes: URLs a page's script posts to.
        self.script_targets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        self.script_targets += [value for key, value in attributes.items()
                                if key.startswith("data-") and value.startswith("/")]
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        elif tag == "form":
            self._form = ScannedForm(attributes.get("method", "get").lower(),
                                     attributes.get("action", ""), [], [])
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag in ("input", "button", "textarea", "select") and attributes.get("name"):
            default_kind = {"input": "text", "button": "submit"}.get(tag, tag)
            control = Control(attributes["name"], tag,
                              attributes.get("type", default_kind).lower(), attributes)
            self._form.controls.append(control)
            if tag == "select":
                self._select = control
        elif tag == "option" and self._select is not None and "value" in attributes:
            self._select.options.append(attributes["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._form = None


@dataclass
class Page:
    html: str
    forms: list[ScannedForm]
    links: list[str]
    script_targets: list[str]


def read_page(html: str) -> Page:
    reader = _ControlReader()
    reader.feed(html)
    for scanned, sent in zip(reader.forms, sent_values(html), strict=True):
        scanned.values = list(sent["fields"])  # type: ignore[arg-type]
    return Page(html, reader.forms, reader.links, reader.script_targets)


@dataclass(frozen=True)
class Site:
    """Where a POST route's form is found: the page's route and query, and who sees it."""

    role: str
    page_endpoint: str
    page_query: str
    action_endpoint: str
    #: Posted by the page's script (a data-* URL), not by a form: it sends the page's
    #: CSRF token and nothing else.
    scripted: bool = False


@dataclass
class Scan:
    #: POST endpoint -> the first page (in crawl order) offering a form for it.
    forms: dict[str, Site] = field(default_factory=dict)
    #: GET endpoint -> the first role that is shown the page (200).
    pages: dict[str, str] = field(default_factory=dict)
    #: Every query argument name a link or a GET form uses, anywhere.
    query_names: set[str] = field(default_factory=set)


def endpoint_of(adapter: MapAdapter, path: str, method: str) -> tuple[str, dict] | None:
    try:
        return adapter.match(path, method=method)
    except HTTPException:
        return None


def crawl(get: Callable[[str, str], tuple[int, str]], roles: Iterable[str],
          start_urls: Callable[[str], list[str]], adapter: MapAdapter,
          limit: int = 400) -> Scan:
    """Visit the start URLs and the same-site links of their pages, as each role.

    ``get(role, url)`` answers (status, body); ``start_urls(role)`` gives every GET route
    built with ids that role may see.
    """
    scan = Scan()
    for role in roles:
        queue = list(start_urls(role))
        seen: set[str] = set()
        while queue and len(seen) < limit:
            url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            parts = urlsplit(url)
            matched = endpoint_of(adapter, parts.path, "GET")
            if matched is None or matched[0] == "static":
                continue
            status, body = get(role, url)
            if status != 200:
                continue
            scan.pages.setdefault(matched[0], role)
            page = read_page(body)
            for link in page.links:
                target = urlsplit(link)
                if target.scheme or target.netloc or not target.path.startswith("/"):
                    continue
                scan.query_names.update(name for name, _ in parse_qsl(target.query))
                queue.append(link.split("#")[0])
            for form in page.forms:
                action = urlsplit(form.action or url)
                if form.method == "get":
                    scan.query_names.update(c.name for c in form.controls if not c.is_button)
                    continue
                target = endpoint_of(adapter, action.path, "POST")
                if target is not None:
                    scan.forms.setdefault(target[0], Site(role, matched[0], parts.query,
                                                          target[0]))
            for path in page.script_targets:
                target = endpoint_of(adapter, urlsplit(path).path, "POST")
                if target is not None:
                    scan.forms.setdefault(target[0], Site(role, matched[0], parts.query,
                                                          target[0], scripted=True))
    return scan


def with_query(url: str, query: str | dict[str, str]) -> str:
    encoded = query if isinstance(query, str) else urlencode(query)
    return f"{url}?{encoded}" if encoded else url


def fill_value(control: Control, today: str, now: str, known: dict[str, str]) -> str | None:
    """A plausible valid value for an empty required control, from its type and bounds
    alone (``known`` supplies what a page cannot tell, such as a password)."""
    if control.name in known:
        return known[control.name]
    if control.tag == "select":
        return next((option for option in control.options if option), None)
    if control.kind == "date":
        return today
    if control.kind == "datetime-local":
        return now
    if control.kind == "number":
        low = Decimal(control.attributes.get("min") or "1")
        high = Decimal(control.attributes.get("max") or low + 10)
        middle = (low + high) / 2
        if control.attributes.get("step") == "any":
            return str(middle.quantize(Decimal("0.01")))
        return str(int(middle))
    if control.kind == "radio" and control.attributes.get("value") in ("yes", "no"):
        return "no"  # a checklist question: the benign answer
    if control.kind in ("checkbox", "radio"):
        return control.attributes.get("value", "on")
    if control.kind == "email":
        return "someone@example.com"
    if control.kind in ("text", "textarea", "search", "tel"):
        return "Fuzz1"
    return None
