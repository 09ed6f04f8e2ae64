"""The progress chart: competencies mastered, week by week, as an accessible SVG line chart.

Pure: plain data in, SVG text out (no database).  Its words and dates are in the reader's
language during a request (Flask-Babel), in English outside one.  Every text that reaches the SVG is
stripped of characters XML 1.0 cannot carry and escaped, so a hostile competency or student name
can never add markup; the chart uses presentation attributes only (no ``<style>``, no script), so
it renders under a ``default-src 'none'`` Content-Security-Policy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from xml.sax.saxutils import escape

from babel import Locale
from babel.dates import format_date as babel_format_date
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from portfolio.issuing.badges import clean_text

WIDTH = 640
HEIGHT = 320
LEFT, RIGHT, TOP, BOTTOM = 56, 20, 44, 64
MAX_X_LABELS = 8
MAX_Y_TICKS = 5
#: Weeks shown at least (a chart of one point says little) and at most (older masteries are
#: counted in the first week's total).
MIN_WEEKS = 8
MAX_WEEKS = 104
LINE = "#0b57d0"
GRID = "#dddddd"
INK = "#1b1b1b"
FONT = "system-ui, sans-serif"

#: Maps a week's index to its x coordinate, or a total to its y coordinate.
_Scale = Callable[[int], float]


@dataclass(frozen=True)
class WeekPoint:
    """One week of the chart: its Monday, what was mastered during it, and the running total."""

    start: date
    names: tuple[str, ...]
    total: int


def week_start(day: date) -> date:
    """The Monday of ``day``'s week (ISO 8601 weeks)."""
    return day - timedelta(days=day.weekday())


def weekly_progress(
    history: Iterable[tuple[datetime, str]],
    *,
    today: date,
    min_weeks: int = MIN_WEEKS,
    max_weeks: int = MAX_WEEKS,
) -> list[WeekPoint]:
    """Cumulative masteries per week, from the first mastery's week (or ``min_weeks`` ago, when
    that is earlier) to ``today``'s week.

    ``history`` holds ``(mastered at, competency name)`` pairs in any order.  When the span is
    longer than ``max_weeks``, the earlier weeks are left out but their masteries still count in
    the first week's total.  Masteries dated after today count in the current week.
    """
    current = week_start(today)
    # Not only the database's (aware, UTC) times reach this pure function: a naive time given
    # by a caller means UTC.
    moments = [(m if m.tzinfo else m.replace(tzinfo=UTC), name) for m, name in history]
    by_week: dict[date, list[str]] = {}
    for moment, name in sorted(moments, key=lambda pair: pair[0]):
        week = min(week_start(moment.astimezone(UTC).date()), current)
        by_week.setdefault(week, []).append(name)
    first = min([current - timedelta(weeks=min_weeks - 1), *by_week])
    first = max(first, current - timedelta(weeks=max_weeks - 1))
    total = sum(len(names) for week, names in by_week.items() if week < first)
    points = []
    week = first
    while week <= current:
        names = tuple(by_week.get(week, ()))
        total += len(names)
        points.append(WeekPoint(week, names, total))
        week += timedelta(weeks=1)
    return points


def _locale() -> Locale | str:
    """The reader's locale during a request, else English."""
    locale: Locale | None = get_locale()
    return locale if locale is not None else "en"


def format_day(day: date, *, with_year: bool = True) -> str:
    """``5 Feb 2024`` (or ``5 Feb``): day, abbreviated month, year — unambiguous in every
    locale (``5 feb 2024`` in Spanish)."""
    return str(babel_format_date(day, "d MMM y" if with_year else "d MMM", locale=_locale()))


def describe(points: Sequence[WeekPoint]) -> str:
    """A plain-language summary of the chart (its ``<desc>``, and the text next to it)."""
    if not points:
        return str(_("No weeks to show."))
    first, last = points[0], points[-1]
    span = str(
        _(
            "from the week of %(first)s to the week of %(last)s",
            first=format_day(first.start),
            last=format_day(last.start),
        )
    )
    if last.total == 0:
        return str(_("No competency mastered yet (%(span)s).", span=span))
    start = first.total - len(first.names)
    return str(
        ngettext(
            "Total competencies mastered, week by week, %(span)s: %(start)s at the start, "
            "%(num)s competency by the end.",
            "Total competencies mastered, week by week, %(span)s: %(start)s at the start, "
            "%(num)s competencies by the end.",
            last.total,
            span=span,
            start=start,
        )
    )


def _text(value: str) -> str:
    return escape(clean_text(value))


def _y_axis(top_value: int) -> tuple[int, int]:
    """(axis maximum, tick step): whole numbers, at most ``MAX_Y_TICKS`` steps."""
    step = max(1, math.ceil(top_value / MAX_Y_TICKS))
    return step * max(1, math.ceil(top_value / step)), step


def _point_title(point: WeekPoint) -> str:
    week = format_day(point.start)
    if not point.names:
        return str(_("Week of %(week)s: %(total)s in total", week=week, total=point.total))
    return str(
        _(
            "Week of %(week)s: mastered %(names)s (%(total)s in total)",
            week=week,
            names=", ".join(point.names),
            total=point.total,
        )
    )


def render_chart(
    points: Sequence[WeekPoint], *, title: str, id_prefix: str = "progress-chart"
) -> str:
    """The SVG document (no XML declaration, so it can also be placed inline in HTML).

    ``title`` becomes the chart's ``<title>`` and visible heading; ``<desc>`` is
    :func:`describe`.  ``id_prefix`` must be a fixed identifier of ours (it names the
    ``<title>`` and ``<desc>`` elements for ``aria-labelledby``), never user input.
    """
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    axis_max, step = _y_axis(max((p.total for p in points), default=0))

    def x(index: int) -> float:
        return LEFT + (plot_w * index / (len(points) - 1) if len(points) > 1 else plot_w / 2)

    def y(value: int) -> float:
        return TOP + plot_h - plot_h * value / axis_max

    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" font-family="{FONT}" font-size="12">',
        f'<title id="{title_id}">{_text(title)}</title>',
        f'<desc id="{desc_id}">{_text(describe(points))}</desc>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="24" font-size="15" font-weight="bold" fill="{INK}">'
        f"{_text(title)}</text>",
    ]
    parts += _y_axis_parts(axis_max, step, y)
    parts += _x_axis_parts(points, x)
    parts += _line_parts(points, x, y)
    parts.append("</svg>")
    return "\n".join(parts)


def _y_axis_parts(axis_max: int, step: int, y: _Scale) -> list[str]:
    parts = []
    for value in range(0, axis_max + 1, step):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="{GRID}"/>'
        )
        parts.append(
            f'<text x="{LEFT - 8}" y="{y(value) + 4:.1f}" text-anchor="end" fill="{INK}">'
            f"{value}</text>"
        )
    middle = TOP + (HEIGHT - TOP - BOTTOM) / 2
    label = _text(_("Competencies mastered (total)"))
    parts.append(
        f'<text x="16" y="{middle:.1f}" text-anchor="middle" fill="{INK}" '
        f'transform="rotate(-90 16 {middle:.1f})">{label}</text>'
    )
    parts.append(
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="{INK}"/>'
    )
    return parts


def _x_axis_parts(points: Sequence[WeekPoint], x: _Scale) -> list[str]:
    base = HEIGHT - BOTTOM
    label = _text(_("Week starting (Monday)"))
    parts = [f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" stroke="{INK}"/>']
    every = max(1, math.ceil(len(points) / MAX_X_LABELS))
    previous_year = None
    for index, point in enumerate(points):
        if index % every:
            continue
        with_year = point.start.year != previous_year
        previous_year = point.start.year
        parts.append(
            f'<line x1="{x(index):.1f}" x2="{x(index):.1f}" y1="{base}" y2="{base + 5}" '
            f'stroke="{INK}"/>'
        )
        parts.append(
            f'<text x="{x(index):.1f}" y="{base + 20}" text-anchor="middle" fill="{INK}">'
            f"{_text(format_day(point.start, with_year=with_year))}</text>"
        )
    parts.append(
        f'<text x="{LEFT + (WIDTH - LEFT - RIGHT) / 2:.1f}" y="{HEIGHT - 12}" '
        f'text-anchor="middle" fill="{INK}">{label}</text>'
    )
    return parts


def _line_parts(points: Sequence[WeekPoint], x: _Scale, y: _Scale) -> list[str]:
    if not points:
        return []
    coordinates = " ".join(f"{x(i):.1f},{y(p.total):.1f}" for i, p in enumerate(points))
    parts = [
        f'<polyline points="{coordinates}" fill="none" stroke="{LINE}" stroke-width="2.5" '
        'stroke-linejoin="round"/>'
    ]
    for index, point in enumerate(points):
        radius = 5 if point.names else 2.5
        parts.append(
            f'<circle cx="{x(index):.1f}" cy="{y(point.total):.1f}" r="{radius}" '
            f'fill="{LINE}"><title>{_text(_point_title(point))}</title></circle>'
        )
    return parts
