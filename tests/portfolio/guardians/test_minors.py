"""Who is a minor (``guardians.consent.is_minor``, the one rule): the school's mark, or a
recorded birth date younger than the school's age rule — on the birthday itself she is that
age, and a 29 February birthday counts on 1 March in other years.  No app, no database."""

from __future__ import annotations

from datetime import date

import pytest

from portfolio.accounts.models import Issuer, User
from portfolio.guardians.consent import age_on, is_minor


def student(*, minor: bool = False, born: date | None = None, rule: int | None = 18) -> User:
    return User(minor=minor, birth_date=born, issuer=Issuer(minor_below_age=rule))


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (date(2008, 12, 6), date(2026, 12, 6), 18),  # the 18th birthday is today
        (date(2008, 12, 7), date(2026, 12, 6), 17),  # tomorrow
        (date(2008, 2, 29), date(2026, 2, 28), 17),  # a leap-day birthday: not yet
        (date(2008, 2, 29), date(2026, 3, 1), 18),  # ... counted on 1 March
        (date(2008, 2, 29), date(2028, 2, 29), 20),  # ... and on the day in a leap year
    ],
)
def test_age_counts_whole_years(born: date, today: date, age: int) -> None:
    assert age_on(born, today) == age


def test_a_student_is_an_adult_on_her_birthday_under_an_18_rule() -> None:
    today = date(2026, 12, 6)
    assert not is_minor(student(born=date(2008, 12, 6)), today=today)
    assert is_minor(student(born=date(2008, 12, 7)), today=today)


def test_a_leap_day_birthday_comes_of_age_on_1_march() -> None:
    born = date(2008, 2, 29)
    assert is_minor(student(born=born), today=date(2026, 2, 28))
    assert not is_minor(student(born=born), today=date(2026, 3, 1))


def test_the_schools_mark_makes_a_minor_whatever_her_age() -> None:
    assert is_minor(student(minor=True, born=date(1990, 1, 1)), today=date(2026, 1, 1))
    assert is_minor(student(minor=True, rule=None), today=date(2026, 1, 1))


def test_without_a_rule_or_a_birth_date_only_the_mark_counts() -> None:
    assert not is_minor(student(born=date(2020, 1, 1), rule=None), today=date(2026, 1, 1))
    assert not is_minor(student(born=None), today=date(2026, 1, 1))
