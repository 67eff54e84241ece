"""Stacked bar charts as inline SVG, drawn on the server: no script, no CDN.

The SVG uses presentation attributes only (no ``style``), so it renders under
the dashboard's strict Content-Security-Policy.
"""

from __future__ import annotations

from datetime import date
from html import escape

from markupsafe import Markup

#: Okabe-Ito colours: told apart by people with any common colour blindness.
CHANNEL_COLOURS = {
    "whatsapp": "#009E73",
    "telegram": "#0072B2",
    "sms": "#E69F00",
    "web": "#CC79A7",
}
OTHER_COLOUR = "#666666"
# Small enough a viewBox that 13-unit text stays legible when a phone shrinks it.
WIDTH, HEIGHT = 420, 210
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 10, 26
MONTHS = tuple("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())


def colour(channel: str) -> str:
    """The colour a channel has in every chart and legend."""
    return CHANNEL_COLOURS.get(channel, OTHER_COLOUR)


def nice_ceiling(value: int) -> tuple[int, int]:
    """``(top, step)`` for a y axis reaching ``value`` in at most five 1-2-5 steps.

    >>> nice_ceiling(37)
    (40, 10)
    """
    if value <= 0:
        return 1, 1
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if step * 5 >= value:
                return step * -(-value // step), step
        magnitude *= 10


def stacked_bars(
    days: list[date],
    series: dict[str, list[int]],
    title: str,
    empty: str = "No messages in this period",
    months: tuple[str, ...] = MONTHS,
) -> Markup:
    """One bar per day, stacked by channel, with a y axis and a few date labels.

    Every segment carries a ``<title>`` ("2025-03-04 whatsapp: 12") for hover
    and screen readers. ``series`` maps channel to one count per day; ``empty``
    is written across a chart with no bar, ``months`` name the months under the axis.
    """
    channels = sorted(series, key=lambda ch: (ch not in CHANNEL_COLOURS, ch))
    totals = [sum(series[ch][i] for ch in channels) for i in range(len(days))]
    top, step = nice_ceiling(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(days), 1)
    bar = max(slot * 0.8, 1.0)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        'font-family="system-ui, sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(0, top + 1, step):
        y = TOP + plot_h - plot_h * tick / top
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{"#333" if tick == 0 else "#ddd"}" stroke-width="1"/>'
            f'<text x="{LEFT - 5}" y="{y + 4:.1f}" text-anchor="end" fill="#333">{tick}</text>'
        )
    for i, day in enumerate(days):
        x = LEFT + i * slot + (slot - bar) / 2
        base = float(TOP + plot_h)
        for channel in channels:
            count = series[channel][i]
            if not count:
                continue
            height = plot_h * count / top
            base -= height
            parts.append(
                f'<rect class="bar" x="{x:.2f}" y="{base:.2f}" width="{bar:.2f}" '
                f'height="{height:.2f}" fill="{colour(channel)}">'
                f"<title>{day.isoformat()} {escape(channel)}: {count}</title></rect>"
            )
    positions = _label_positions(len(days))
    for n, i in enumerate(positions):
        x, anchor = LEFT + i * slot + slot / 2, "middle"
        # With many days the outer labels lean inwards, so the chart's edges do not cut them.
        if len(positions) > 2 and n == 0:
            x, anchor = LEFT, "start"
        elif len(positions) > 2 and n == len(positions) - 1:
            x, anchor = WIDTH - RIGHT, "end"
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}" fill="#333">'
            f"{days[i].day:02d} {escape(months[days[i].month - 1])}</text>"
        )
    if not any(totals):
        parts.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
            f'fill="#555" font-size="14">{escape(empty)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _label_positions(count: int, most: int = 5) -> list[int]:
    """Indexes of the days that get a date under the axis: first, last, evenly between."""
    if count <= most:
        return list(range(count))
    return sorted({round(n * (count - 1) / (most - 1)) for n in range(most)})
