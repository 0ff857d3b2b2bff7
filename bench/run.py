"""``make bench``: how fast the key pages answer in a clinic of a given size.

For each database asked for, it seeds a fresh clinic (``flask seed-scale``), serves it with
gunicorn (2 sync workers) next to a bare one-route Flask app on the same settings, signs
in through the login form, and drives each page with wrk (16 connections, a bounded time).
The bare route is measured before, amid and after the pages; each page's share is of the
median of the three.
It also requests each page in process to count its SQL statements and bytes and to time
its CPU cost (the mean of 20 requests). It prints a table and writes everything as JSON.
A measurement, never a test.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
BIN = Path(sys.executable).parent
LUA = ROOT / "bench" / "wrk.lua"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
#: Minimum share of the bare route's requests/s each page must reach (Today: 5%).
TARGET_RATIO = 0.10
TODAY_RATIO = 0.05
TARGET_P99_MS = 100.0
#: The manager review (issue 18) aggregates the whole clinic: its dashboard and each of
#: its lists (recall, follow-ups, lot trace) 5% of the bare route and p99 under 150 ms.
REVIEW_RATIO = 0.05
REVIEW_P99_MS = 150.0
REVIEW_PAGES = ("Review", "Recall", "Follow-ups", "Lot trace")
#: A manager account the bench adds for the review pages (seed-scale makes none).
BENCH_MANAGER = "bench-manager@scale.clinic"


def pages(manifest: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(name, path, who) for every key page; who is "staff", "manager" or "patient"."""
    return [
        ("Today (all)", "/", "staff"),
        ("Today (only mine)", "/?mine=1", "staff"),
        ("Today (overdue)", "/?state=overdue", "staff"),
        ("Patient list", "/patients/", "staff"),
        ("Patient search", f"/patients/?q={manifest['search_term']}", "staff"),
        ("Patient page", f"/patients/{manifest['patient_id']}", "staff"),
        ("Series, 8 sessions", f"/series/{manifest['series_8_id']}", "staff"),
        ("Series, 32 sessions", f"/series/{manifest['series_32_id']}", "staff"),
        ("Session page", f"/sessions/{manifest['session_id']}", "staff"),
        ("Recall worklist", "/recall/?all=1", "staff"),
        ("Recall, one series", f"/recall/series/{manifest['series_8_id']}", "staff"),
        ("Follow-ups due", "/follow-ups/?all=1", "staff"),
        ("Follow-ups done", "/follow-ups/?all=1&state=done", "staff"),
        ("Lot trace", "/lots/?lot=HA-2417", "staff"),
        ("/me", "/me", "patient"),
        ("/me series, 8 sessions", f"/me/series/{manifest['series_8_id']}", "patient"),
        ("Review dashboard", "/review", "manager"),
        ("Review: series completed", "/review/series?figure=completed", "manager"),
        ("Review: overdue", "/review/overdue", "manager"),
        ("Review: lapsed", "/review/lapsed", "manager"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 5300)),
                        help="the app listens here, the bare route on the next port")
    parser.add_argument("--pg-url", default=os.environ.get(
        "BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/tracker_bench"),
        help="PostgreSQL database to drop and create afresh")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")

    WORK.mkdir(parents=True, exist_ok=True)
    backends = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    report: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "patients": args.patients,
            "duration_s": args.duration,
            "connections": args.connections,
            "workers": 2,
            "cpus": os.cpu_count(),
            "machine": platform.platform(),
            "commit": _git_commit(),
        },
        "runs": {},
    }
    for backend in backends:
        report["runs"][backend] = run_backend(backend, args)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"\nWritten to {args.out}")


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    url = _fresh_database(backend, args.pg_url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_hex(32),
        "TRACKER_INSTANCE_PATH": str(WORK / "instance"),
        "TRACKER_ENV_NAME": "development",
    }
    manifest_path = WORK / f"manifest-{backend}.json"
    _flask(env, "db", "upgrade")
    print(f"[{backend}] seeding {args.patients:,} patients", flush=True)
    started = time.monotonic()
    _flask(env, "seed-scale", "--patients", str(args.patients), "--manifest", str(manifest_path))
    manifest = json.loads(manifest_path.read_text())
    _flask(env, "create-user", "--role", "manager", "--email", BENCH_MANAGER,
           "--name", "Bench Manager", "--password", manifest["password"])
    manifest["manager_email"] = BENCH_MANAGER
    manifest_path.write_text(json.dumps(manifest))
    seed_seconds = round(time.monotonic() - started, 1)
    if backend == "postgres":
        _vacuum_analyze(url)
    manifest = json.loads(manifest_path.read_text())
    key_pages = pages(manifest)
    counted = _count_in_process(env, manifest, key_pages)

    app_port, bare_port = args.port, args.port + 1
    servers = [_serve("wsgi:app", app_port, env), _serve("bench.bare:app", bare_port, env)]
    try:
        base = f"http://127.0.0.1:{app_port}"
        bare_samples = [_bare(bare_port, backend, args)]
        results = []
        for index, (name, path, who) in enumerate(key_pages):
            if index == len(key_pages) // 2:
                bare_samples.append(_bare(bare_port, backend, args))
            email = _email_of(manifest, who)
            cookie = _sign_in(base, email, manifest["password"])
            print(f"[{backend}] {name}  {path}", flush=True)
            results.append({**_wrk(base + path, cookie, args), "name": name, "path": path,
                            **counted[path]})
        bare_samples.append(_bare(bare_port, backend, args))
        bare = {**sorted(bare_samples, key=lambda sample: sample["rps"])[1],
                "samples_rps": [sample["rps"] for sample in bare_samples]}
        for measured in results:
            name = measured["name"]
            ratio = measured["rps"] / bare["rps"] if bare["rps"] else 0.0
            review = name.startswith(REVIEW_PAGES)
            floor = (REVIEW_RATIO if review else TODAY_RATIO if name.startswith("Today")
                     else TARGET_RATIO)
            p99_limit = REVIEW_P99_MS if review else TARGET_P99_MS
            measured.update(
                ratio=round(ratio, 4),
                meets_target=(measured["errors"] == 0 and measured["non2xx"] == 0
                              and ratio >= floor and measured["p99_ms"] < p99_limit),
            )
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
    return {"database": backend, "seed_seconds": seed_seconds, "counts": manifest["counts"],
            "bare": bare, "pages": results}


def _bare(port: int, backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """One measurement of the bare route. It is taken before the pages, amid them and
    after them, and each page is compared with the median of the three: on a shared
    2-core machine one sample of a route this cheap moved by half between runs (3,690 and
    5,728 req/s) while the pages' own rates moved by a few per cent."""
    print(f"[{backend}] bare route", flush=True)
    return _wrk(f"http://127.0.0.1:{port}/", "", args)


def _email_of(manifest: dict[str, Any], who: str) -> str:
    return {"staff": manifest["practitioner_email"], "manager": manifest["manager_email"],
            "patient": manifest["patient_email"]}[who]


def _fresh_database(backend: str, pg_url: str) -> str:
    if backend == "sqlite":
        path = WORK / "bench.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    parts = urllib.parse.urlsplit(pg_url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"\w+", name):
        sys.exit(f"unexpected database name {name!r}")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return pg_url


def _vacuum_analyze(url: str) -> None:
    """What autovacuum does soon after a bulk load: planner statistics and the visibility
    map. Without them PostgreSQL plans the freshly copied tables as if they were small."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def _flask(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args],  # noqa: S603 - our own tools
                   cwd=ROOT, env=env, check=True)


def _serve(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(  # noqa: S603 - our own tools
        [str(BIN / "gunicorn"), "--workers", "2", "--worker-class", "sync",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app],
        cwd=ROOT, env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return server
        except urllib.error.HTTPError:
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit(f"{app} did not start on port {port}")


def _sign_in(base: str, email: str, password: str) -> str:
    """Sign in through the login form like a browser; the cookie header to send."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = CSRF.search(page)
    if token is None:
        sys.exit("no CSRF token on the login form")
    form = urllib.parse.urlencode({"csrf_token": token.group(1), "email": email,
                                   "password": password}).encode()
    landed = opener.open(f"{base}/login", data=form)
    if urllib.parse.urlsplit(landed.url).path == "/login":
        sys.exit(f"sign-in as {email} failed")
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def _wrk(url: str, cookie: str, args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, "BENCH_COOKIE": cookie}
    # A 10 s timeout so that a slow page shows its latency instead of only timeouts.
    command = [shutil.which("wrk") or "wrk", "-t1", f"-c{args.connections}", "--timeout", "10s",
               "--latency", "-s", str(LUA), url]
    subprocess.run([*command, "-d1s"], env=env, capture_output=True,  # noqa: S603 - warm-up
                   check=True)
    output = subprocess.run([*command, f"-d{args.duration}s"], env=env,  # noqa: S603
                            capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    measured = json.loads(line.removeprefix("BENCH_JSON "))
    measured["rps"] = round(measured["requests"] / measured["seconds"], 1)
    return measured


def _count_in_process(env: dict[str, str], manifest: dict[str, Any],
                      key_pages: list[tuple[str, str, str]]) -> dict[str, dict[str, int]]:
    """SQL statements and body bytes of one request to each page (after a warm-up)."""
    os.environ.update({key: env[key] for key in ("DATABASE_URL", "SECRET_KEY",
                                                 "TRACKER_INSTANCE_PATH")})
    from sqlalchemy import event

    from tracker import create_app
    from tracker.extensions import db
    from tracker.serving import settle_heap

    app = create_app()
    # Count what the review pages run when they compute, not their memo (cache.py).
    app.config["REVIEW_CACHE_SECONDS"] = 0
    clients = {}
    for who in ("staff", "manager", "patient"):
        email = _email_of(manifest, who)
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = CSRF.search(page).group(1)  # type: ignore[union-attr]
        response = client.post("/login", data={"csrf_token": token, "email": email,
                                               "password": manifest["password"]})
        if response.status_code != 302:
            sys.exit(f"in-process sign-in as {email} failed")
        clients[who] = client
    # As the served app does (wsgi.py), so that "CPU ms" is what a worker spends.
    settle_heap()
    statements: list[tuple[str, Any]] = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute",
                 lambda *a: statements.append((a[2], a[3])))
    counted: dict[str, dict[str, Any]] = {}
    for _, path, who in key_pages:
        statements.clear()
        clients[who].get(path)
        # The warm-up's statements are checked too: a page may read what it holds on its
        # next visit (Today's counts, series.queries._counted_states).
        first = list(statements)
        statements.clear()
        response = clients[who].get(path)
        if response.status_code != 200:
            sys.exit(f"{path} answered {response.status_code}")
        counted[path] = {"statements": len(statements), "body_bytes": len(response.data),
                         "full_scans": _full_scans(engine, first + statements),
                         "cpu_ms": _cpu_ms(clients[who], path)}
    with app.app_context():
        db.engine.dispose()
    return counted


#: Requests timed in process per page, for its CPU time.
CPU_REPEATS = 20


def _cpu_ms(client: Any, path: str) -> float:
    """The CPU time of one request to ``path`` in this process (the app, its template and,
    on SQLite, the database engine; PostgreSQL's own work is in its server): unlike
    requests per second it hardly moves when other work shares the machine."""
    started = time.process_time()
    for _ in range(CPU_REPEATS):
        client.get(path)
    return round((time.process_time() - started) / CPU_REPEATS * 1000, 1)


FULL_SCAN = {
    "sqlite": re.compile(r"\bSCAN (patients|treatment_sessions|post_session_notes)\b(?! USING)"),
    "postgresql": re.compile(r"Seq Scan on (patients|treatment_sessions|post_session_notes)\b"),
}


def _full_scans(engine: Any, statements: list[tuple[str, Any]]) -> list[str]:
    """The plan lines of the page's queries that read a large table from end to end."""
    pattern = FULL_SCAN[engine.dialect.name]
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    found = []
    with engine.connect() as connection:
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            plan = connection.exec_driver_sql(explain + statement, parameters).all()
            text = "\n".join(str(row[-1]) for row in plan)
            found += [line.strip() for line in text.splitlines() if pattern.search(line)]
    return found


def _git_commit() -> str:
    try:
        return subprocess.run([shutil.which("git") or "git", "rev-parse", "--short", "HEAD"],  # noqa: S603
                              cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def print_table(report: dict[str, Any]) -> None:
    runs = report["runs"]
    names = list(runs)
    header = ["page"]
    for backend in names:
        header += [f"{backend} req/s", "p50 ms", "p99 ms", "err", "% bare"]
    header += ["SQL", "KB", "CPU ms", "full scans"]
    rows = [header]
    first = runs[names[0]]
    for index, page in enumerate(first["pages"]):
        row = [page["name"]]
        for backend in names:
            measured = runs[backend]["pages"][index]
            errors = measured["errors"] + measured["non2xx"]
            row += [f"{measured['rps']:.0f}", f"{measured['p50_ms']:.1f}",
                    f"{measured['p99_ms']:.1f}", str(errors),
                    f"{100 * measured['ratio']:.1f}" + ("" if measured["meets_target"] else " ✗")]
        scans = sorted({scan for backend in names
                        for scan in runs[backend]["pages"][index].get("full_scans", [])})
        cpu = " / ".join(str(runs[backend]["pages"][index].get("cpu_ms", "?"))
                         for backend in names)
        row += [str(page["statements"]), f"{page['body_bytes'] / 1024:.1f}", cpu,
                "; ".join(scans) or "none"]
        rows.append(row)
    bare = ["bare route"]
    for backend in names:
        measured = runs[backend]["bare"]
        bare += [f"{measured['rps']:.0f}", f"{measured['p50_ms']:.1f}",
                 f"{measured['p99_ms']:.1f}", str(measured["errors"] + measured["non2xx"]),
                 "100"]
    rows.append([*bare, "", "", "", ""])
    print(f"\n{report['meta']['patients']:,} patients, {report['meta']['connections']}"
          f" connections, {report['meta']['duration_s']} s per page, 2 gunicorn sync workers")
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows[1:]:
        print("| " + " | ".join(row) + " |")
    for backend in names:
        samples = " / ".join(f"{rps:.0f}" for rps in runs[backend]["bare"]["samples_rps"])
        print(f"{backend}: the bare route's median of {samples} req/s (before, amid and "
              "after the pages)")


if __name__ == "__main__":
    main()
