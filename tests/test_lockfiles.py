"""The lock files that `make run`, `make test`, CI and the Dockerfile install from agree with
setup.cfg and with each other (run `make lock` after changing a dependency)."""

from __future__ import annotations

import configparser
import re

from tracker import PROJECT_ROOT

PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", re.MULTILINE)
PINNED_WITH_HASH = re.compile(r"^[A-Za-z0-9._-]+==\S+ \\\n\s+--hash=sha256:[0-9a-f]{64}",
                              re.MULTILINE)
NAME = re.compile(r"^\s*([A-Za-z0-9._-]+)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock_file: str) -> dict[str, str]:
    text = (PROJECT_ROOT / lock_file).read_text()
    return {normalise(name): version for name, version in PIN.findall(text)}


def required(option: str, section: str = "options") -> set[str]:
    config = configparser.ConfigParser()
    config.read(PROJECT_ROOT / "setup.cfg")
    lines = config[section][option].splitlines()
    return {normalise(NAME.match(line).group(1)) for line in lines if line.strip()}


def test_every_dependency_is_pinned_with_hashes():
    runtime, test = pins("requirements.lock"), pins("requirements-test.lock")
    assert required("install_requires") <= runtime.keys()
    assert required("test", "options.extras_require") <= test.keys()
    for lock_file in ("requirements.lock", "requirements-test.lock"):
        text = (PROJECT_ROOT / lock_file).read_text()
        hashed = PINNED_WITH_HASH.findall(text)
        assert len(hashed) == len(PIN.findall(text)) > 0, f"{lock_file}: a pin without hash"


def test_the_test_lock_has_the_same_versions_as_the_runtime_lock():
    runtime, test = pins("requirements.lock"), pins("requirements-test.lock")
    assert {name: test.get(name) for name in runtime} == runtime
