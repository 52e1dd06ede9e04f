"""Charts drawn on the server as inline SVG: no JavaScript, no third-party library.

Each chart is an image to assistive technologies (``role="img"`` named by its ``<title>``
and described by its ``<desc>``); the page always puts a data table beside it, which is
the text alternative. Shapes are styled by classes in agora.css (``.chart__bar`` ...), so
they follow the brand colours and forced-colours mode. Every text is escaped here.

The view box is about a phone's width, so labels are drawn near their real size on a
phone and scale up, within the stylesheet's maximum width, on larger screens.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import formats
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 360
FONT_SIZE = 13
BAR_ROW = 42  # label line + bar + gap
BAR_HEIGHT = 16
VALUE_SPACE = 76  # room at the right of the longest bar for its value


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    value_label: str


def format_number(value: float, decimals: int = 0) -> str:
    """A number as the current language writes it (``12,345.6`` / ``12 345,6``)."""
    # Rounded first: number_format cuts the extra decimals of a float off instead.
    return str(
        formats.number_format(round(value, decimals), decimals, use_l10n=True, force_grouping=True)
    )


def _open_svg(chart_id: str, css_class: str, height: int, title: str, description: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
    )


def bar_chart(bars: Sequence[Bar], *, chart_id: str, title: str, description: str) -> SafeString:
    """Horizontal bars, each under its label: long region names never collide."""
    if not bars:
        return SafeString("")
    top = max(bar.value for bar in bars) or 1
    scale = (WIDTH - VALUE_SPACE) / top
    height = len(bars) * BAR_ROW + 4
    parts = [_open_svg(chart_id, "chart--bars", height, title, description)]
    for index, bar in enumerate(bars):
        y = index * BAR_ROW
        width = max(bar.value * scale, 1.5 if bar.value > 0 else 0)
        parts.append(
            f'<g class="chart__row">'
            f'<text class="chart__label" x="0" y="{y + FONT_SIZE + 1}">{escape(bar.label)}</text>'
            f'<rect class="chart__bar" x="0" y="{y + 19}" width="{width:.1f}" '
            f'height="{BAR_HEIGHT}"></rect>'
            f'<text class="chart__value" x="{width + 6:.1f}" y="{y + 19 + BAR_HEIGHT - 3}">'
            f"{escape(bar.value_label)}</text>"
            f"</g>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least ``value``."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop ends at 10


@dataclass(frozen=True)
class Point:
    day: date
    total: int


LINE_HEIGHT = 220
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 56, WIDTH - 8, 12, LINE_HEIGHT - 28


def _filled(points: Sequence[Point]) -> list[Point]:
    """One point a day from the first to the last, carrying the total over quiet days;
    a single day starts from zero the day before, so the chart still shows a rise."""
    by_day = {point.day: point.total for point in points}
    first, last = points[0].day, points[-1].day
    days: list[Point] = []
    if first == last:
        days.append(Point(first - timedelta(days=1), 0))
    total = 0
    day = first
    while day <= last:
        total = by_day.get(day, total)
        days.append(Point(day, total))
        day += timedelta(days=1)
    return days


def cumulative_chart(
    points: Sequence[Point],
    *,
    chart_id: str,
    title: str,
    description: str,
    format_day: Callable[[date], str],
) -> SafeString:
    """An area chart of the running total of signatures, one point a day."""
    if not points:
        return SafeString("")
    days = _filled(points)
    top = nice_ceiling(max(point.total for point in days))
    span = max(len(days) - 1, 1)
    plot_width, plot_height = PLOT_RIGHT - PLOT_LEFT, PLOT_BOTTOM - PLOT_TOP

    def x(index: int) -> float:
        return PLOT_LEFT + plot_width * index / span

    def y(total: float) -> float:
        return PLOT_BOTTOM - plot_height * total / top

    parts = [_open_svg(chart_id, "chart--line", LINE_HEIGHT, title, description)]
    for tick in (0, top / 2, top):
        parts.append(
            f'<line class="chart__grid" x1="{PLOT_LEFT}" x2="{PLOT_RIGHT}" '
            f'y1="{y(tick):.1f}" y2="{y(tick):.1f}"></line>'
            f'<text class="chart__axis" x="{PLOT_LEFT - 6}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end">{escape(format_number(tick, 0 if tick == int(tick) else 1))}</text>'
        )
    line = " ".join(f"{x(i):.1f},{y(p.total):.1f}" for i, p in enumerate(days))
    area = f"{x(0):.1f},{y(0):.1f} {line} {x(len(days) - 1):.1f},{y(0):.1f}"
    parts.append(f'<polygon class="chart__area" points="{area}"></polygon>')
    parts.append(f'<polyline class="chart__line" points="{line}"></polyline>')
    label_y = LINE_HEIGHT - 8
    parts.append(
        f'<text class="chart__axis" x="{PLOT_LEFT}" y="{label_y}" text-anchor="start">'
        f"{escape(format_day(days[0].day))}</text>"
        f'<text class="chart__axis" x="{PLOT_RIGHT}" y="{label_y}" text-anchor="end">'
        f"{escape(format_day(days[-1].day))}</text>"
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
