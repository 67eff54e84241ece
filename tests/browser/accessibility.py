"""axe-core, run in the page by Playwright: the accessibility check of the browser tests.

The axe script ships inside the ``axe-playwright-python`` package (no fetching at run
time). Serious and critical violations fail a test; the others are only reported.
"""

from __future__ import annotations

from typing import Any

FAILING_IMPACTS = ("serious", "critical")


def serious_violations(page: Any) -> list[str]:
    """``rule: target`` lines for every serious or critical violation on ``page`` now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page).response
    return [
        f"{violation['id']} ({violation['impact']}): {', '.join(map(str, node['target']))}"
        f" — {violation['help']}"
        for violation in results["violations"]
        if violation["impact"] in FAILING_IMPACTS
        for node in violation["nodes"]
    ]
