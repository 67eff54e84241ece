"""What a knowledge check reports: each :class:`Problem` names the file, the place and the fault.

Shared by the loader and every check, so that none of them imports another
only to say what went wrong::

    knowledge/data/health/sis.yaml: topics[2] (sis-gratuito).links[0].url:
        link 'www.gob.pe' is not an http(s) URL
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the knowledge files."""

    path: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge files do not load or do not pass the checks."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problem(s) in the knowledge files:\n{lines}{more}")
