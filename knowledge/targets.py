"""What a target (``kind:id``) can name: one table for the engine, understanding and checks.

A target is where a menu option, a number or an understood message leads:
``topic:sis-gratuito``, ``menu:health``, ``org:ocasiven``, ``list:ngos``. The
schema accepts a menu option's target by this table, ``pana kb check`` and
the engine ask :meth:`knowledge.base.KnowledgeBase.has_target` whether one
exists, understanding asks :meth:`~knowledge.base.KnowledgeBase.area_of` its
area, and ``flows.engine.Engine.goto`` shows each kind with one handler. A
new kind is added here first, then given its handler (a test holds them equal).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TargetKind:
    """One kind of target.

    ``table``: the :class:`~knowledge.base.KnowledgeBase` table its ids index
    (None for lists, whose ``ids`` are fixed); ``area``: the area every target of
    this kind belongs to, when it does not depend on the entry.
    """

    table: str | None = None
    ids: frozenset[str] = frozenset()
    area: str | None = None


TARGET_KINDS = {
    "menu": TargetKind("menus"),
    "topic": TargetKind("topics"),
    "org": TargetKind("organisations", area="ngos"),
    "consulate": TargetKind("consulates", area="entry"),
    "city": TargetKind("cities"),
    "service": TargetKind("services"),
    "list": TargetKind(ids=frozenset({"ngos", "consulates", "foreign-consulates", "emergency"})),
}

#: A well-formed target, whatever it names.
TARGET_PATTERN = rf"^({'|'.join(TARGET_KINDS)}):[a-z0-9-]+$"
