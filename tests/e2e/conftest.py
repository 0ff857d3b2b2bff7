"""The app as a person meets it: served by ``flask run`` on 127.0.0.1 from a fresh SQLite
database (``db upgrade`` then ``seed-demo``, as ``make run`` does), and driven with
Playwright in Debian's Chromium.

Chromium comes from ``apt-get install chromium``; without ``/usr/bin/chromium`` every test
here is skipped with a reason that says so (``make test`` prints it plainly).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.browsing import ARTEFACTS, CHROMIUM, CHROMIUM_ARGS, Browsing

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PORTS = range(5200, 5300)
TRACKER_TEST_PORT = os.environ.get("TRACKER_E2E_PORT")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason=f"end-to-end tests need Chromium at {CHROMIUM} "
                                   "(apt-get install -y chromium)")
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)
            if not CHROMIUM.exists() and os.environ.get("CI") != "true":
                item.add_marker(skip)


def free_ports() -> Iterator[int]:
    """Ports of the range this project's test servers may use that nothing listens on now,
    each xdist worker starting at its own place in the range so that they rarely meet."""
    candidates = [int(TRACKER_TEST_PORT)] if TRACKER_TEST_PORT else list(PORTS)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    start = (int(worker) * 7 if worker.isdigit() else 0) % len(candidates)
    for port in candidates[start:] + candidates[:start]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        yield port


def serving(port: int, server: subprocess.Popen, log: Path) -> bool:
    """Whether ``server`` answers on ``port``; False if another process took the port first.

    A port found free may be taken by another test session's server before this one binds
    it, and then a probe would reach the other server: so the server's own word that it
    runs on the port counts, not a probe."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            if "Address already in use" in log.read_text():
                return False
            raise RuntimeError(f"the app stopped while starting:\n{log.read_text()}")
        if f"Running on http://127.0.0.1:{port}" in log.read_text():
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return True
        time.sleep(0.1)
    raise RuntimeError(f"the app did not answer on port {port}:\n{log.read_text()}")


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a fresh database with the demo clinic, as ``make run`` serves it."""
    folder = tmp_path_factory.mktemp("e2e-app")
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("TRACKER_", "FLASK_")) and key not in {"DATABASE_URL",
                                                                       "SECRET_KEY"}
    }
    env.update(TRACKER_INSTANCE_PATH=str(folder / "instance"),
               DATABASE_URL=f"sqlite:///{folder / 'tracker.sqlite'}")
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for command in (["db", "upgrade"], ["seed-demo", "--if-empty"]):
        subprocess.run(flask + command, cwd=PROJECT_ROOT, env=env, check=True,
                       capture_output=True)
    for port in free_ports():
        log = folder / f"server-{port}.log"
        with log.open("w") as output:
            server = subprocess.Popen(
                [*flask, "run", "--host", "127.0.0.1", "--port", str(port)],
                cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            if serving(port, server, log):
                break
        except BaseException:
            server.terminate()
            server.wait(timeout=10)
            raise
    else:
        raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"CI must run the end-to-end tests: install Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artefacts() -> Path:
    """Screenshots land here (git-ignored), for a person to look at."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS


@pytest.fixture
def browse(chromium, base_url: str) -> Iterator:
    """Open a browsing context at a viewport; every page it loads is checked as it goes."""
    opened: list[Browsing] = []

    def open_at(width: int, height: int) -> Browsing:
        browsing = Browsing(chromium, base_url, width, height)
        opened.append(browsing)
        return browsing

    yield open_at
    for browsing in opened:
        browsing.close()
