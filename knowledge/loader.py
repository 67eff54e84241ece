"""Read the YAML files under ``knowledge/data`` into a :class:`KnowledgeBase`.

Errors carry the file, the entry id and the field, so an editor who is not a
programmer can find and fix the line::

    knowledge/data/health/sis.yaml: topics[2] (sis-gratuito).links[0].url:
        link 'www.gob.pe' is not an http(s) URL
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from knowledge.base import KnowledgeBase
from knowledge.check import validate
from knowledge.files import KnowledgeFile
from knowledge.problems import KnowledgeError, Problem

DATA_DIR = Path(__file__).parent / "data"
KINDS = ("topics", "organisations", "consulates", "cities", "services", "menus", "sources")


def _describe_location(raw: object, loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic error location into ``topics[2] (sis-gratuito).links[0].url``."""
    parts: list[str] = []
    node = raw
    for i, step in enumerate(loc):
        if isinstance(step, int):
            parts[-1] += f"[{step}]"
        else:
            parts.append(str(step))
        try:
            node = node[step]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            node = None
        if i == 1 and isinstance(node, dict) and "id" in node:
            parts[-1] += f" ({node['id']})"
    return ".".join(parts) or "(file)"


def read_file(path: Path, rel: str) -> tuple[KnowledgeFile | None, list[Problem]]:
    """Parse and validate one YAML file; ``rel`` is how problems name it."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return None, [Problem(rel, "(file)", f"not valid YAML: {exc}")]
    if not isinstance(raw, dict):
        return None, [Problem(rel, "(file)", "must be a mapping with keys like 'topics:'")]
    try:
        return KnowledgeFile.model_validate(raw), []
    except ValidationError as exc:
        return None, [
            Problem(rel, _describe_location(raw, err["loc"]), err["msg"]) for err in exc.errors()
        ]


def load_files(root: Path = DATA_DIR) -> tuple[KnowledgeBase, list[Problem]]:
    """Load every ``*.yaml`` under ``root``; return the base and any problems found."""
    kb = KnowledgeBase()
    problems: list[Problem] = []
    for path in sorted(root.rglob("*.yaml")):
        rel = str(path.relative_to(root.parent.parent))
        content, file_problems = read_file(path, rel)
        problems.extend(file_problems)
        if content is None:
            continue
        for kind in KINDS:
            table = getattr(kb, kind)
            for index, item in enumerate(getattr(content, kind)):
                if item.id in table:
                    first = kb.origins[f"{kind}:{item.id}"]
                    problems.append(
                        Problem(rel, f"{kind}[{index}] ({item.id})", f"duplicate id, see {first}")
                    )
                    continue
                table[item.id] = item
                kb.origins[f"{kind}:{item.id}"] = rel
        for ident, said in content.questions.items():
            if ident in kb.questions:
                problems.append(Problem(rel, f"questions.{ident}", "duplicate question list"))
            kb.questions[ident] = said
            kb.origins[f"questions:{ident}"] = rel
        kb.danger_ordinary.extend(content.danger_ordinary)
        kb.intent_examples.update(content.intents)
        kb.other_languages.update(content.other_languages)
        kb.aspects.update(content.aspects)
        kb.area_services.update(content.area_services)
        kb.foreign_offices = content.foreign_offices or kb.foreign_offices
        if content.handoff is not None:
            kb.handoff = content.handoff
        if content.safety is not None:
            if kb.safety.kinds:
                problems.append(Problem(rel, "safety", "a second safety section"))
            kb.safety = content.safety
            kb.origins["safety"] = rel
        for key, text in content.messages.items():
            if key in kb.messages:
                problems.append(Problem(rel, f"messages.{key}", "duplicate message key"))
            kb.messages[key] = text
    return kb, problems


def load_knowledge(root: Path = DATA_DIR) -> KnowledgeBase:
    """Load and check the knowledge base; raise :class:`KnowledgeError` on any problem.

    The messages the code says are checked by ``pana kb check``, which knows the code.
    """
    kb, problems = load_files(root)
    problems.extend(validate(kb))
    if problems:
        raise KnowledgeError(problems)
    return kb
