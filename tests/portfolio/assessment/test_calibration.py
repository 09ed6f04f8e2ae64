"""Calibration gaps between a student's rating of her own work and an assessor's (pure)."""

from __future__ import annotations

from portfolio.assessment.calibration import criterion_gaps, largest_gap


def test_a_gap_is_her_level_minus_the_assessors() -> None:
    assert criterion_gaps([3, 1, 2], [2, 1, 0]) == [1, 0, 2]


def test_she_may_rate_herself_lower() -> None:
    assert criterion_gaps([0, 1], [2, 3]) == [-2, -2]


def test_a_criterion_either_did_not_rate_has_no_gap() -> None:
    assert criterion_gaps([1, None], [1, 2]) == [0, None]
    assert criterion_gaps([1], [1, 2]) == [0, None]
    assert criterion_gaps([1, 2, 3], [1]) == [0, None, None]


def test_anything_but_a_level_index_has_no_gap() -> None:
    assert criterion_gaps([True, "2"], [1, 2]) == [None, None]  # type: ignore[list-item]


def test_the_largest_gap_is_a_distance() -> None:
    assert largest_gap([3, 1], [2, 3]) == 2
    assert largest_gap([1, 1], [1, 1]) == 0


def test_no_largest_gap_without_a_criterion_both_rated() -> None:
    assert largest_gap([], []) is None
    assert largest_gap([None], [2]) is None
