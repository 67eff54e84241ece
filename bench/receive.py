"""Storage and engine without HTTP: ``Helpline.receive`` timed in the benchmark's process."""

from __future__ import annotations

import time

from bot.runtime import build_runtime
from bot.settings import Settings as AppSettings
from flows.turn import Incoming


def time_receive(url: str, run: int, messages: int = 1500) -> dict[str, float]:
    """``Helpline.receive`` in this process, on the server's database while it idles.

    Storage plus engine without HTTP, threads or the network: far less noisy
    than the webhook on a shared machine, so it is what says whether a
    million stored users slow a message down.
    """
    settings = AppSettings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url, pseudonym_key="bench-" + "k" * 40,
        user_messages_per_minute=10**6, global_messages_per_minute=10**9,
    )  # fmt: skip
    runtime = build_runtime(settings)
    timings = []
    try:
        for i in range(messages):
            user = f"+5197{run:03d}{i // 8:05d}"
            text = "hola" if i % 8 == 0 else str(1 + i % 5)
            began = time.perf_counter()
            runtime.helpline.receive(
                "whatsapp", user, Incoming("whatsapp", text), delivery_id=f"BENCH{run}-{i}"
            )
            timings.append(1000 * (time.perf_counter() - began))
    finally:
        runtime.database.dispose()
    timings.sort()
    return {
        "p50": round(timings[len(timings) // 2], 3),
        "p99": round(timings[int(0.99 * len(timings))], 3),
    }
