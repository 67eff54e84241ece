"""What the dashboard calls the things it counts: answered targets and kinds of danger.

A count is shown with a name from the knowledge in the page's language, never
with a bare id: an editor reads "SIS Gratuito", not ``topic:sis-gratuito``.
"""

from __future__ import annotations

from bot.admin.words import words
from flows.render import Renderer
from knowledge import KnowledgeBase


def label(kb: KnowledgeBase, target: str, lang: str = "es") -> str:
    """A readable name for an answered target in ``lang``: ``topic:sis-gratuito`` -> "SIS Gratuito".

    Never the bare target: one the knowledge no longer has is said to be gone.
    """
    w = words(lang)
    kind, _, ident = target.partition(":")
    names = Renderer(kb)
    if (kind == "topic" and ident in kb.topics) or (kind == "consulate" and ident in kb.consulates):
        return names.title_of(target, lang)
    if kind == "org" and ident in kb.organisations:
        org = kb.organisations[ident]
        return org.short_name or org.name
    if kind == "menu" and ident in kb.menus:
        return w["menu"].format(name=names.title_of(target, lang))
    if kind == "service" and ident in kb.services:
        return w["organisations_for"].format(service=kb.services[ident].label.get(lang))
    if target == "list:consulates":
        return w["consulates"]
    if target == "list:ngos":
        return w["organisations_ask_city"]
    if kind == "list" and ident.startswith("ngos:") and ident[5:] in kb.cities:
        return w["organisations_in"].format(city=kb.cities[ident[5:]].name)
    if kind == "city" and ident in kb.cities:
        return w["organisations_in"].format(city=kb.cities[ident].name)
    return w["no_longer_known"].format(target=target)


def danger_label(kb: KnowledgeBase, kind_id: str, lang: str = "es") -> str:
    """The title of a kind of danger in ``lang`` (``suicide`` -> "Pensamientos suicidas…"),
    as ``knowledge/data/safety.yaml`` words it; a kind no longer there is said to be gone."""
    kind = kb.safety.kind(kind_id)
    if kind is None:
        return words(lang)["no_longer_known"].format(target=kind_id)
    return kind.title.get(lang)
