"""The package metadata installs without setuptools' deprecation warnings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_license_is_an_spdx_expression_that_the_required_setuptools_reads() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    # A table ({text = "MIT"}) makes setuptools 77+ warn on every install.
    assert project["project"]["license"] == "MIT"
    assert not any("License ::" in c for c in project["project"].get("classifiers", []))
    requires = " ".join(project["build-system"]["requires"])
    # Setuptools reads PEP 639 license expressions from version 77 on.
    found = re.search(r"setuptools>=(\d+)", requires)
    assert found and int(found.group(1)) >= 77
