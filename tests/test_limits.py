"""The rate windows that hold the login and global ceilings."""

from __future__ import annotations

from bot.limits import RateWindow


def test_a_burst_across_the_turn_of_a_minute_gets_the_limit_not_twice_it() -> None:
    # 30 guesses just before a minute turns and 30 just after: a calendar-minute counter
    # let all 60 through; any 60 seconds may hold only 30.
    window = RateWindow(30)
    before = [window.allow(59.9) for _ in range(30)]
    after = [window.allow(60.1) for _ in range(30)]
    assert all(before) and not any(after)


def test_the_window_frees_up_sixty_seconds_after_each_event() -> None:
    window = RateWindow(2)
    assert window.allow(0.0) and window.allow(30.0) and not window.allow(59.0)
    assert window.allow(60.5)  # the first event has left the window
    assert not window.allow(61.0)
