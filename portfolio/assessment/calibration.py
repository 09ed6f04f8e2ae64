"""Calibration: how far a student's rating of her own work is from an assessor's, criterion by
criterion (issue 17 §2).  Pure: no Flask, no database; levels are the rubric's level indexes
(higher index, higher level), in the rubric version's criteria order."""

from __future__ import annotations

from collections.abc import Sequence


def _level(levels: Sequence[int | None], index: int) -> int | None:
    if index >= len(levels):
        return None
    value = levels[index]
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def criterion_gaps(
    self_levels: Sequence[int | None], assessor_levels: Sequence[int | None]
) -> list[int | None]:
    """Per criterion, the student's level minus the assessor's: positive when she rated
    herself higher, negative when lower, 0 when they agree, None when either did not rate it.
    The list is as long as the longer of the two."""
    count = max(len(self_levels), len(assessor_levels))
    gaps: list[int | None] = []
    for index in range(count):
        mine, theirs = _level(self_levels, index), _level(assessor_levels, index)
        gaps.append(None if mine is None or theirs is None else mine - theirs)
    return gaps


def largest_gap(
    self_levels: Sequence[int | None], assessor_levels: Sequence[int | None]
) -> int | None:
    """The largest distance (in levels, never negative) between the two ratings on any
    criterion both rated; None when no criterion was rated by both."""
    known = [abs(gap) for gap in criterion_gaps(self_levels, assessor_levels) if gap is not None]
    return max(known) if known else None
