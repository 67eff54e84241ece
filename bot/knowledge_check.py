"""``pana kb check``: the knowledge files, checked by themselves and against the code.

:func:`knowledge.check.validate` checks the data alone (``knowledge/`` knows
nothing of the engine or the bot). This module adds what only the code knows:

- the messages the code says: each module that says one declares it in a
  ``MESSAGES`` tuple, and :data:`SPEAKERS` lists those modules, so deleting
  ``busy`` from ``messages.yaml`` fails here, not at run time;
- the consulate answers as :mod:`flows.render` shows them: each carries its
  update line, in the text and in the SMS form.
"""

from __future__ import annotations

from bot import app, helpline
from bot.channels import telegram, twilio, web
from bot.flyer import content as flyer
from flows import engine, handoff
from flows.render import Renderer
from knowledge.base import KnowledgeBase
from knowledge.check import validate
from knowledge.problems import Problem

#: The modules that say something from the messages table, each with its ``MESSAGES``.
SPEAKERS = (engine, handoff, helpline, app, twilio, telegram, web, flyer)


def required_messages() -> tuple[str, ...]:
    """Every message key the code says, from its speakers' ``MESSAGES``, in order, once."""
    return tuple(dict.fromkeys(key for module in SPEAKERS for key in module.MESSAGES))


def check(kb: KnowledgeBase) -> list[Problem]:
    """Every problem ``pana kb check`` reports for ``kb``; empty when all is well."""
    return [*validate(kb, required_messages()), *consulate_answer_problems(kb)]


def consulate_answer_problems(kb: KnowledgeBase) -> list[Problem]:
    """Each consulate answer, and the list, shows every update line that applies.

    Renders through :mod:`flows.render`, the code users' answers come from, so a
    change there that drops a line fails here too.
    """
    needed = {"update", "consulates", "consulate_title", "source"}
    if not kb.consulates or not needed <= set(kb.messages):
        return []  # a missing message is reported by validate
    if any(c.city not in kb.cities for c in kb.consulates.values()):
        return []  # reported by validate
    render = Renderer(kb)
    problems = []
    for lang in ("es", "en"):
        listed = render.consulates(lang)
        for consulate in kb.consulates.values():
            if consulate.update is None:
                continue
            line = kb.message("update", lang, text=consulate.update.get(lang))
            answer = render.consulate(consulate, lang)
            for what, reply in (("its answer", answer), ("the consulate list", listed)):
                for form, text in (("text", reply.text), ("SMS form", reply.short or "")):
                    if line not in text:
                        problems.append(
                            Problem(
                                kb.origins.get(f"consulates:{consulate.id}", "knowledge/data"),
                                f"consulates ({consulate.id}).update.{lang}",
                                f"{what} ({form}) is shown without this update line",
                            )
                        )
    return problems
