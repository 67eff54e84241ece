"""``pana chat``: the engine in a terminal, with no server and no database."""

from __future__ import annotations

import sys
from datetime import date

from bot.runtime import build_engine
from bot.settings import Settings
from flows.turn import Incoming, State


def run_console(stdin=sys.stdin, stdout=sys.stdout) -> int:  # type: ignore[no-untyped-def]
    engine = build_engine(Settings())
    state = State()
    print("Pana (escribe 'salir' para terminar)\n", file=stdout)
    for line in stdin:
        text = line.rstrip("\n")
        if text.strip().lower() in {"salir", "exit", "quit"}:
            break
        turn = engine.handle(state, Incoming("console", text, today=date.today()))
        state = turn.state
        for reply in turn.replies:
            print(reply.text.replace("*", ""), end="\n\n", file=stdout)
        stdout.flush()
    return 0
