"""The progress chart (pure, no app): weeks and running totals, and an SVG that is well-formed,
labelled for assistive technology, and escapes every name it shows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from defusedxml import ElementTree

from portfolio.assessment.progress_chart import (
    MAX_WEEKS,
    MIN_WEEKS,
    WeekPoint,
    describe,
    render_chart,
    week_start,
    weekly_progress,
)

SVG = "{http://www.w3.org/2000/svg}"
TODAY = date(2025, 3, 19)  # a Wednesday; its week starts on Monday 17 March


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def parse(svg: str):
    return ElementTree.fromstring(svg)


def texts(root) -> list[str]:
    return ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]


# -- weeks and totals ---------------------------------------------------------------------------


def test_weeks_start_on_monday():
    assert week_start(date(2025, 3, 19)) == date(2025, 3, 17)
    assert week_start(date(2025, 3, 17)) == date(2025, 3, 17)
    assert week_start(date(2025, 3, 23)) == date(2025, 3, 17)


def test_masteries_add_up_week_by_week_up_to_this_week():
    history = [
        (at("2025-02-04"), "Melody"),
        (at("2025-02-06"), "Story"),
        (at("2025-03-18"), "Song"),
    ]
    points = weekly_progress(history, today=TODAY)
    assert points[0] == WeekPoint(date(2025, 1, 27), (), 0)  # at least MIN_WEEKS weeks
    assert len(points) == MIN_WEEKS
    assert points[1] == WeekPoint(date(2025, 2, 3), ("Melody", "Story"), 2)
    assert [p.total for p in points] == [0, 2, 2, 2, 2, 2, 2, 3]
    assert points[-1] == WeekPoint(date(2025, 3, 17), ("Song",), 3)


def test_a_long_history_starts_at_its_first_week():
    points = weekly_progress([(at("2024-11-05"), "Melody")], today=TODAY)
    assert points[0] == WeekPoint(date(2024, 11, 4), ("Melody",), 1)
    assert points[-1].start == date(2025, 3, 17)


def test_weeks_older_than_the_limit_count_in_the_first_total():
    history = [(at("2019-01-01"), "Ancient"), (at("2025-03-18"), "Song")]
    points = weekly_progress(history, today=TODAY)
    assert len(points) == MAX_WEEKS
    assert points[0].total == 1 and points[0].names == ()
    assert points[-1].total == 2


def test_naive_times_are_utc_and_future_ones_count_this_week():
    history = [(datetime(2025, 3, 17, 0, 30), "Naive"), (at("2025-04-30"), "Future")]
    points = weekly_progress(history, today=TODAY)
    assert points[-1] == WeekPoint(date(2025, 3, 17), ("Naive", "Future"), 2)


def test_the_description_says_what_the_chart_shows():
    assert describe(weekly_progress([], today=TODAY)) == (
        "No competency mastered yet (from the week of 27 Jan 2025 to the week of 17 Mar 2025)."
    )
    points = weekly_progress([(at("2025-03-18"), "Song")], today=TODAY)
    assert describe(points).endswith("0 at the start, 1 competency by the end.")


# -- the SVG -------------------------------------------------------------------------------------


def test_the_chart_is_well_formed_svg_with_a_title_a_description_and_axes():
    points = weekly_progress([(at("2025-02-04"), "Melody")], today=TODAY)
    root = parse(render_chart(points, title="Competencies mastered by Ada"))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text == "Competencies mastered by Ada"
    assert "week by week" in desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    labels = texts(root)
    assert "Competencies mastered (total)" in labels
    assert "Week starting (Monday)" in labels
    assert "27 Jan 2025" in labels  # the first week, with its year
    assert {"0", "1"} <= set(labels)  # y-axis ticks
    assert root.find(f"{SVG}polyline") is not None
    assert root.find(f".//{SVG}script") is None


def test_each_week_with_masteries_names_them_in_a_tooltip():
    points = weekly_progress(
        [(at("2025-02-04"), "Melody"), (at("2025-02-05"), "Story")], today=TODAY
    )
    root = parse(render_chart(points, title="t"))
    tips = [circle.find(f"{SVG}title").text for circle in root.iter(f"{SVG}circle")]
    assert "Week of 3 Feb 2025: mastered Melody, Story (2 in total)" in tips


HOSTILE = '</title><script>alert("x")</script><desc>&amp;\x00\x1b "quoted" \'single\''


def test_a_hostile_competency_name_stays_text():
    points = weekly_progress([(at("2025-03-18"), HOSTILE)], today=TODAY)
    svg = render_chart(points, title=f"Competencies mastered by {HOSTILE}")
    assert "<script" not in svg
    root = parse(svg)
    assert root.find(f".//{SVG}script") is None
    assert len(root.findall(f"{SVG}desc")) == 1
    expected = '</title><script>alert("x")</script><desc>&amp; "quoted" \'single\''
    assert root.find(f"{SVG}title").text == f"Competencies mastered by {expected}"
    tips = [circle.find(f"{SVG}title").text for circle in root.iter(f"{SVG}circle")]
    assert f"Week of 17 Mar 2025: mastered {expected} (1 in total)" in tips


@pytest.mark.parametrize("count", [0, 1, 7, 23])
def test_the_y_axis_has_a_few_whole_number_ticks_reaching_the_total(count):
    history = [(at("2025-03-18"), f"C{i}") for i in range(count)]
    root = parse(render_chart(weekly_progress(history, today=TODAY), title="t"))
    ticks = [int(label) for label in texts(root) if label.isdigit()]
    assert ticks[0] == 0 and ticks[-1] >= count
    assert 2 <= len(ticks) <= 6
    assert len(list(root.iter(f"{SVG}circle"))) == MIN_WEEKS


def test_a_chart_without_points_is_still_valid():
    root = parse(render_chart([], title="Nothing"))
    assert root.find(f"{SVG}desc").text == "No weeks to show."
