"""Pictures for the README: tests copy what they render into docs/ on request."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def keep_screenshot(path: Path, name: str) -> None:
    """Copy ``path`` to ``docs/<name>`` when ``PANA_UPDATE_SCREENSHOTS=1``."""
    if os.environ.get("PANA_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(path, DOCS / name)
