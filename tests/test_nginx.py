"""The shipped nginx sample (deploy/nginx.conf) in front of gunicorn with the shipped
gunicorn settings, as in production: TLS, nginx's default Host, one trusted proxy. A user
signs in through it and lands on the proxy's address.

Needs Debian's nginx (`apt-get install -y nginx`) and openssl; skipped without them, except
in CI (`CI=true`), where a missing nginx is a failure.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask_migrate import upgrade

from tests.conftest import CSRF_PATTERN, make_test_config
from tests.factories import PASSWORD, make_user
from tracker import PROJECT_ROOT, create_app
from tracker.extensions import db

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
OPENSSL = shutil.which("openssl")

MISSING = "nginx" if not NGINX else "openssl" if not OPENSSL else None
if MISSING and not os.environ.get("CI"):
    pytest.skip(f"{MISSING} is missing: `apt-get install -y nginx openssl` to run the test of "
                "the sample proxy configuration", allow_module_level=True)

# The sample's production values, each replaced by the test's own; each must still be in
# the sample, or the test would silently check something else.
SAMPLE = PROJECT_ROOT / "deploy" / "nginx.conf"
GUNICORN_CONF = PROJECT_ROOT / "deploy" / "gunicorn.conf.py"


def free_ports(count: int) -> list[int]:
    """``count`` different free ports on 127.0.0.1 (5100-5199, the range this project's
    tests may use). Different: picked one at a time, two picks could be the same free port,
    and gunicorn and nginx's plain-HTTP listener then shared it (a 301 where the app should
    have answered)."""
    ports = list(range(5100, 5200))
    random.shuffle(ports)
    chosen: list[int] = []
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        chosen.append(port)
        if len(chosen) == count:
            return chosen
    raise RuntimeError(f"not {count} free ports in 5100-5199")


def wait_for_port(port: int, process: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on {port}")


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return cert, key


def nginx_config(folder: Path, https_port: int, http_port: int, app_port: int,
                 cert: Path, key: Path) -> Path:
    site = SAMPLE.read_text()
    for sample_value, ours in (
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("/etc/ssl/certs/tracker.example.org.pem", str(cert)),
        ("/etc/ssl/private/tracker.example.org.key", str(key)),
        ("/var/log/nginx/tracker.access.log", str(folder / "tracker.access.log")),
    ):
        assert sample_value in site, f"deploy/nginx.conf no longer has {sample_value!r}"
        site = site.replace(sample_value, ours)
    (folder / "site.conf").write_text(site)
    temp = "\n".join(f"  {kind}_temp_path {folder / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root root;" if os.geteuid() == 0 else ""
    main = folder / "nginx.conf"
    main.write_text(f"""{user}
worker_processes 1;
pid {folder / 'nginx.pid'};
error_log {folder / 'error.log'} warn;
events {{ worker_connections 64; }}
http {{
{temp}
  access_log {folder / 'access.log'};
  include {folder / 'site.conf'};
}}
""")
    return main


@dataclass
class Proxy:
    port: int
    context: ssl.SSLContext
    folder: Path
    email: str

    def request(self, method: str, path: str, cookies: dict[str, str], body: str | None = None,
                headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        connection = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context,
                                                 timeout=30)
        sent = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        response.text = response.read().decode()
        connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name] = rest.split(";", 1)[0]
        return response


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    if MISSING:  # in CI, where this test must run
        pytest.fail(f"{MISSING} is missing; CI installs it (.ci/run: apt-get install -y nginx)",
                    pytrace=False)
    folder = tmp_path_factory.mktemp("nginx")
    database_url = f"sqlite:///{folder / 'tracker.sqlite'}"
    app = create_app(make_test_config(database_url, folder))
    with app.app_context():
        upgrade()
        user = make_user("practitioner", name="Dr Behind Proxy")
        db.session.commit()
        email = user.email
        db.engine.dispose()

    app_port, https_port, http_port = free_ports(3)
    cert, key = self_signed_certificate(folder)
    environment = {
        **os.environ,
        "BIND": f"127.0.0.1:{app_port}",
        "WORKERS": "1",
        "TRACKER_ENV_NAME": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "nginx-test-secret-key",
        "TRACKER_TRUSTED_PROXIES": "1",
        "TRACKER_INSTANCE_PATH": str(folder / "instance"),
    }
    with open(folder / "gunicorn.out", "w") as gunicorn_log, \
            open(folder / "nginx.out", "w") as nginx_log:
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "wsgi:app"],
            cwd=PROJECT_ROOT, env=environment, stdout=gunicorn_log, stderr=subprocess.STDOUT)
        nginx = subprocess.Popen(
            [NGINX, "-p", str(folder), "-c", str(nginx_config(folder, https_port, http_port,
                                                               app_port, cert, key)),
             "-e", str(folder / "error.log"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=nginx_log)
        try:
            wait_for_port(app_port, gunicorn, "gunicorn")
            wait_for_port(https_port, nginx, "nginx")
            yield Proxy(https_port, ssl.create_default_context(cafile=str(cert)), folder, email)
        finally:
            stop(nginx, signal.SIGQUIT)  # nginx's graceful shutdown
            stop(gunicorn)


def test_sign_in_through_nginx_with_its_default_host(proxy: Proxy):
    cookies: dict[str, str] = {}
    origin = f"https://127.0.0.1:{proxy.port}"

    assert proxy.request("GET", "/readyz", cookies).status == 200

    redirect = proxy.request("GET", "/patients/?q=Secretname", cookies)
    assert redirect.status == 302
    assert redirect.headers["Location"].startswith(("/login", f"{origin}/login"))

    page = proxy.request("GET", "/login", cookies)
    assert page.status == 200
    token = next(group for group in CSRF_PATTERN.search(page.text).groups() if group)
    assert "tracker_session" in cookies

    signed_in = proxy.request(
        "POST", "/login", cookies,
        body=urlencode({"csrf_token": token, "email": proxy.email, "password": PASSWORD}),
        headers={"Referer": f"{origin}/login", "Origin": origin})
    assert signed_in.status == 302, signed_in.text[:500]
    location = signed_in.headers["Location"]
    assert location in ("/", f"{origin}/"), location
    assert "Strict-Transport-Security" in signed_in.headers

    home = proxy.request("GET", "/", cookies)
    assert home.status == 200
    assert "Dr Behind Proxy" in home.text
    assert home.headers["X-Request-Id"]

    # The query string never reaches nginx's or gunicorn's access log.
    stop_logs = (proxy.folder / "tracker.access.log").read_text() + (
        proxy.folder / "gunicorn.out").read_text()
    assert "/patients/" in stop_logs
    assert "Secretname" not in stop_logs
    # nginx's request id is the app's: one id follows a request through both logs.
    assert re.search(home.headers["X-Request-Id"], (proxy.folder / "gunicorn.out").read_text())
