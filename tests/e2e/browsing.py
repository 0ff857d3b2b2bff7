"""A browser tab that checks every page it reaches, the way a careful tester would.

On each page: no console error, no failed request, no request to another origin; a
``<title>`` naming the page, one ``<h1>``, a ``<main>`` and a skip link that shows when
focused; axe-core finds nothing serious or critical. The layout is measured at 1280, 820
and 390 px wide: nothing scrolls sideways, no table cell or badge is cut off (a table may
scroll inside its own box on a phone only when a visible cue says so), and the header
stays on one line from tablet width up. ``check(name)`` also writes full-page
screenshots of the page at the three widths into ``tests/e2e/artefacts/``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).parent
AXE = HERE / "vendor" / "axe.min.js"
ARTEFACTS = HERE / "artefacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
WIDTHS = {1280: 900, 820: 1180, 390: 844}
PHONE = 390
DEMO_PASSWORD = "demo-series-2026"
CLINIC_NAME = "Demo Skin Clinic"
#: E2E_KEEP_GOING=1 prints what a page gets wrong and walks on, to survey every page.
KEEP_GOING = os.environ.get("E2E_KEEP_GOING") == "1"

STRUCTURE_JS = """() => {
  const skip = document.querySelector('a[href="#content"]');
  const focusable = document.querySelector(
    'a[href], button:not([disabled]), input:not([type=hidden]), select, textarea, [tabindex]');
  let skipShown = false;
  if (skip) {
    const before = document.activeElement;  // autofocus, say: given back afterwards
    skip.focus();
    const box = skip.getBoundingClientRect();
    skipShown = document.activeElement === skip && box.width > 20 && box.height > 10
      && box.top >= 0 && box.left >= 0;
    skip.blur();
    if (before && before !== document.body) before.focus();
  }
  const target = document.getElementById('content');
  return {
    title: document.title,
    h1: document.querySelectorAll('h1').length,
    main: document.querySelectorAll('main').length,
    skipFirst: skip !== null && focusable === skip,
    skipShown: skipShown,
    skipTarget: target !== null && target.tagName === 'MAIN',
  };
}"""

LAYOUT_JS = """async () => {
  // Let the page react to a new viewport size (tables.js marks wide tables) first.
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  const describe = (el) => {
    const text = (el.innerText || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    return el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).trim()
      .replace(/\\s+/g, '.') : '') + (text ? ' "' + text + '"' : '');
  };
  const clipsX = (el) => getComputedStyle(el).overflowX !== 'visible';
  const cued = (wrap) => {
    const cue = wrap.previousElementSibling;
    if (!wrap.classList.contains('is-scrollable') || !cue || !cue.classList.contains('scroll-cue'))
      return false;
    const box = cue.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(cue).visibility === 'visible';
  };
  const doc = document.documentElement;
  const clipped = [];
  const selector = 'main th, main td, main .badge, .role-badge, main .btn, .progress-label, '
    + '.site-header a, .site-header button, main input, main select, main label';
  for (const el of document.querySelectorAll(selector)) {
    if (el.closest('.sr-only')) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible') {
      clipped.push({what: describe(el), by: 'itself', cue: false});
    }
    let inside = true;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (!clipsX(up)) continue;
      const outer = up.getBoundingClientRect();
      if (outer.width <= 1 || outer.height <= 1) {  // visually hidden on purpose
        inside = false;
        break;
      }
      if (box.right > outer.right + 1 || box.left < outer.left - 1) {
        clipped.push({what: describe(el), by: describe(up).slice(0, 60), cue: cued(up)});
        inside = false;
        break;
      }
    }
    if (inside && (box.right > doc.clientWidth + 1 || box.left < -1)) {
      clipped.push({what: describe(el), by: 'the window', cue: false});
    }
  }
  const parts = [...document.querySelectorAll('.site-header > *')]
    .map((el) => el.getBoundingClientRect()).filter((box) => box.height > 0);
  const oneLine = parts.length === 0
    || Math.max(...parts.map((b) => b.top)) < Math.min(...parts.map((b) => b.bottom));
  return {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, clipped: clipped,
          headerOneLine: oneLine};
}"""

AXE_JS = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': '
                    + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 160))}));
}"""


@dataclass
class Browsing:
    """One signed-in (or not) browsing context at a viewport, checking as it goes."""

    browser: Any
    base_url: str
    width: int
    height: int
    problems: list[str] = field(default_factory=list)
    allowed_statuses: dict[str, int] = field(default_factory=dict)
    checked: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context = self.browser.new_context(
            viewport={"width": self.width, "height": self.height}, base_url=self.base_url)
        # An init script runs in every document before the page's own scripts and is not
        # subject to the page's CSP, so axe-core needs no change to the app's policy.
        self.context.add_init_script(path=str(AXE))
        # A wait ends as soon as what it waits for is there; the limit only bounds how long
        # a real failure takes to report. 5 s was passed on a loaded 2-core machine (two
        # test workers, Chromium and the served app sharing it) by a plain navigation.
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.base_url))
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("request", self._on_request)
        self.page.on("response", self._on_response)

    def close(self) -> None:
        self.context.close()

    # Listeners --------------------------------------------------------------------------

    def _on_console(self, message: Any) -> None:
        if message.type != "error":
            return
        if "Failed to load resource" in message.text and self._expected_failure(
                message.location.get("url", "")):
            return
        self.problems.append(f"console error: {message.text} at {message.location}")

    def _on_request_failed(self, request: Any) -> None:
        # A load the browser gave up because the user moved on (a click while the icon
        # was still loading) is not a fault of the app; an error status is caught below.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _on_request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and \
                f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.problems.append(f"request to another origin: {request.url}")

    def _on_response(self, response: Any) -> None:
        if response.status >= 400 and not self._expected_failure(response.url,
                                                                 response.status):
            self.problems.append(f"{response.status} for {response.request.method} "
                                 f"{response.url}")

    def _expected_failure(self, url: str, status: int | None = None) -> bool:
        expected = self.allowed_statuses.get(urlsplit(url).path)
        return expected is not None and (status is None or status == expected)

    # Moving around ----------------------------------------------------------------------

    def goto(self, path: str, name: str | None = None, *, status: int = 200) -> None:
        """Open ``path`` as if typed into the address bar, and check the page."""
        if status != 200:
            self.allowed_statuses[path] = status
        response = self.page.goto(path)
        assert response is not None and response.status == status, (
            f"{path}: {response.status if response else 'no response'}, expected {status}")
        self.check(name)

    def sign_in(self, email: str) -> None:
        self.goto("/login", "sign-in")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(DEMO_PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_load_state()
        assert urlsplit(self.page.url).path != "/login", self.text("main")

    def click(self, name: str, *, role: str = "link", check: str | bool = True,
              within: str = "main") -> None:
        """Follow a link (or press a button) by its accessible name, then check the page."""
        self.page.locator(within).get_by_role(role, name=name, exact=True).first.click()
        self.page.wait_for_load_state()
        if check:
            self.check(check if isinstance(check, str) else None)

    def press_to_submit(self, key: str) -> None:
        """Press a key that submits a form, and wait for the page it leads to."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)
        self.page.wait_for_load_state()

    def text(self, selector: str = "main") -> str:
        return self.page.locator(selector).first.inner_text()

    @property
    def path(self) -> str:
        return urlsplit(self.page.url).path

    # Checks -----------------------------------------------------------------------------

    def check(self, name: str | None = None) -> None:
        """Check the page on screen; with a name, also screenshot it at every width."""
        self.page.wait_for_load_state()
        where = self.path
        self.checked.append(where)
        found: list[str] = []

        def run(check: Any, *args: Any) -> None:
            try:
                check(*args)
            except AssertionError as error:
                found.append(str(error))

        run(self.assert_no_problems, where)
        run(self.assert_structure, where)
        run(self.assert_accessible, where)
        for width, height in WIDTHS.items():
            self.page.set_viewport_size({"width": width, "height": height})
            run(self.assert_layout, where, width)
            if name:
                ARTEFACTS.mkdir(parents=True, exist_ok=True)
                self.page.screenshot(path=str(ARTEFACTS / f"{name}-{width}.png"),
                                     full_page=True)
        self.page.set_viewport_size({"width": self.width, "height": self.height})
        run(self.assert_no_problems, where)
        if found and KEEP_GOING:
            print("\n".join(found))  # a developer surveying every page
        elif found:
            raise AssertionError("\n".join(found))

    def assert_no_problems(self, where: str) -> None:
        problems, self.problems[:] = list(self.problems), []
        assert not problems, f"{where}:\n" + "\n".join(problems)

    def assert_structure(self, where: str) -> None:
        found = self.page.evaluate(STRUCTURE_JS)
        page_name = found["title"].split(" · ")[0].strip()
        assert page_name and page_name != CLINIC_NAME, f"{where}: title {found['title']!r}"
        assert found["h1"] == 1, f"{where}: {found['h1']} <h1> elements"
        assert found["main"] == 1, f"{where}: {found['main']} <main> elements"
        assert found["skipFirst"] and found["skipTarget"], f"{where}: no skip link first"
        assert found["skipShown"], f"{where}: the skip link does not show when focused"

    def assert_accessible(self, where: str) -> None:
        violations = self.page.evaluate(AXE_JS)
        assert not violations, f"{where}: axe found\n" + json.dumps(violations, indent=1)

    def assert_layout(self, where: str, width: int) -> None:
        found = self.page.evaluate(LAYOUT_JS)
        assert found["scrollWidth"] <= found["clientWidth"], (
            f"{where} at {width}px scrolls sideways: {found['scrollWidth']}px wide; cut: "
            + json.dumps(found["clipped"][:8]))
        # On a phone a wide table may scroll inside its own box, with a visible cue.
        cut = [item for item in found["clipped"] if not (width == PHONE and item["cue"])]
        assert not cut, f"{where} at {width}px cuts off:\n" + json.dumps(cut[:10], indent=1)
        if width > PHONE:
            assert found["headerOneLine"], f"{where} at {width}px: the header wraps"


def series_id_from(path: str) -> int:
    found = re.search(r"/series/(\d+)", path)
    assert found, path
    return int(found.group(1))
