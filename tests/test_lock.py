"""The lock files pin every dependency pyproject.toml declares, within its bounds: a
dependency added without `make lock` fails here instead of installing differently per machine."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    found = {canonicalize_name(name): version
             for name, version in re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+) \\$", text, re.M)}
    assert found, f"{lock} pins nothing"
    # Every pin carries its hashes (pip install --require-hashes refuses one without).
    assert len(re.findall(r"^[A-Za-z0-9_.\-]+==\S+ \\\n    --hash=sha256:", text, re.M)) == len(found)
    return found


def declared(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize(("lock", "extras"), [("requirements.lock", ("sentry",)),
                                              ("requirements-dev.lock", ("sentry", "dev"))])
def test_every_declared_dependency_is_pinned_within_its_bounds(lock, extras):
    pinned = pins(lock)
    for requirement in declared(*extras):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement} is not in {lock}: run `make lock`"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock} pins {name}=={pinned[name]}, outside {requirement.specifier}: run `make lock`")
