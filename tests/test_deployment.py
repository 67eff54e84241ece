"""The image and the compose file: reproducible builds, and the proxy settings they need."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: An exact release (python:3.11.13-slim-bookworm), not a moving tag (python:3.11-slim).
EXACT_TAG = re.compile(r"^[\w./-]+:\d+\.\d+(\.\d+)?-[a-z]+(-[a-z]+)?(@sha256:[0-9a-f]{64})?$")


def lock() -> dict[str, str]:
    """The lock file as ``{name: requirement block}``."""
    text = (ROOT / "requirements.lock").read_text()
    entries = {}
    for block in re.split(r"\n(?=[a-z0-9])", text):  # one block per package
        if block.strip() and not block.startswith("#"):
            entries[re.split(r"[=\s;\[]", block, maxsplit=1)[0].lower().replace("_", "-")] = block
    return entries


def test_base_images_are_exact_releases() -> None:
    images = re.findall(r"^FROM\s+(\S+)", (ROOT / "Dockerfile").read_text(), flags=re.M)
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    images += [s["image"] for s in compose["services"].values() if "image" in s]
    assert images
    for image in images:
        assert EXACT_TAG.match(image), image


def test_every_package_the_image_installs_is_pinned_with_a_hash() -> None:
    entries = lock()
    for name, block in entries.items():
        assert re.search(r"==[\w.]+", block.splitlines()[0]), name
        assert "--hash=sha256:" in block, name
    wanted = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in wanted:
        name = re.split(r"[<>=\[;\s]", requirement, maxsplit=1)[0].lower()
        assert name in entries, f"{name} is in pyproject.toml but not in requirements.lock"
    assert "setuptools" in entries  # the build backend, so building Pana fetches nothing


def test_the_image_installs_from_the_lock_only() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes --no-deps -r requirements.lock" in dockerfile
    installs = re.findall(r"pip install[^\n]*", dockerfile)
    assert all("--no-deps" in line for line in installs), installs


def test_compose_says_which_proxy_may_name_the_client() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert compose["services"]["pana"]["environment"]["FORWARDED_ALLOW_IPS"]
    assert "FORWARDED_ALLOW_IPS" in (ROOT / ".env.example").read_text()
