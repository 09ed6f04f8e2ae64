"""Moving positioned rows (artefacts, sections, placed evidence) one place up or down."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portfolio.evidence.ordering import move, next_position


@dataclass(eq=False)
class Row:
    position: int


def positions(rows: list[Row]) -> list[int]:
    return [row.position for row in rows]


def test_a_move_renumbers_the_rows_then_swaps_two():
    rows = [Row(5), Row(5), Row(9)]  # ties and gaps left by deletions or old data
    assert move(rows, rows[2], "up")
    assert positions(rows) == [0, 2, 1]
    assert move(rows, rows[0], "down")
    assert positions(rows) == [1, 0, 2]


@pytest.mark.parametrize(("index", "direction"), [(0, "up"), (1, "down"), (0, "sideways")])
def test_a_move_that_cannot_be_made_changes_nothing(index, direction):
    rows = [Row(5), Row(7)]
    assert not move(rows, rows[index], direction)
    assert positions(rows) == [5, 7]
    assert not move(rows, Row(1), "up")  # not one of the rows


def test_the_next_position_follows_the_last():
    assert next_position([]) == 0
    assert next_position([Row(3), Row(1)]) == 4
