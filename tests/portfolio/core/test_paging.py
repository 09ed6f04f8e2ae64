"""Pages of long lists: the total is exact up to a limit and "more than" beyond it, so that
page 1 costs the same at any size; whether there is a next page is known without counting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.core.db import db
from portfolio.core.models import AuditEvent
from portfolio.core.paging import DEFAULT_COUNT_LIMIT, count_limit, paginate
from tests.conftest import TEST_KEK
from wsgi import create_app

START = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture
def seven_events(app):
    """Seven audit events, the newest numbered 6; the statement lists them newest first."""
    with app.app_context():
        for number in range(7):
            db.session.add(
                AuditEvent(
                    action="sign_in", at=START + timedelta(minutes=number), target=str(number)
                )
            )
        db.session.commit()
        yield select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def targets(page) -> list[str]:
    return [event.target for event in page.items]


def test_under_the_limit_the_total_and_the_number_of_pages_are_exact(seven_events):
    page = paginate(seven_events, page=1, per_page=3, limit=7)
    assert targets(page) == ["6", "5", "4"]
    assert (page.total, page.total_is_lower_bound, page.pages) == (7, False, 3)
    assert (page.has_prev, page.has_next, page.prev_num, page.next_num) == (False, True, None, 2)


def test_beyond_the_limit_the_total_is_a_lower_bound_and_pages_are_unknown(seven_events):
    page = paginate(seven_events, page=1, per_page=3, limit=4)
    assert (page.total, page.total_is_lower_bound, page.pages) == (4, True, None)
    assert targets(page) == ["6", "5", "4"] and page.has_next


def test_pages_past_the_counted_rows_still_know_whether_another_follows(seven_events):
    # Rows 4-6 lie beyond a limit of 2: the extra row read says whether page 3 is the last.
    middle = paginate(seven_events, page=2, per_page=3, limit=2)
    last = paginate(seven_events, page=3, per_page=3, limit=2)
    assert targets(middle) == ["3", "2", "1"] and middle.has_next and middle.has_prev
    assert targets(last) == ["0"] and not last.has_next and last.prev_num == 2
    assert last.total_is_lower_bound and last.pages is None


def test_a_page_beyond_the_end_is_empty_and_a_page_below_one_is_the_first(seven_events):
    beyond = paginate(seven_events, page=9, per_page=3, limit=10)
    assert (targets(beyond), beyond.has_next, beyond.total, beyond.pages) == ([], False, 7, 3)
    assert targets(paginate(seven_events, page=-4, per_page=3, limit=10)) == ["6", "5", "4"]
    # Far beyond any offset the databases take: empty, not an error.
    huge = paginate(seven_events, page=10**20, per_page=3, limit=10)
    assert (targets(huge), huge.has_next, huge.total, huge.prev_num) == ([], False, 7, 10**20 - 1)


def test_an_empty_list_has_one_empty_page(app):
    with app.app_context():
        page = paginate(select(AuditEvent).order_by(AuditEvent.id), page=1, per_page=3)
        assert (page.items, page.total, page.pages, page.has_other_pages) == ([], 0, 1, False)


def test_the_limit_comes_from_the_configuration_and_a_bad_one_stops_the_start(app, tmp_path):
    def started(limit: str) -> Flask:
        return create_app(
            {
                "INSTANCE_PATH": str(tmp_path),
                "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
                "CREDFOLIO_LIST_COUNT_LIMIT": limit,
            }
        )

    with app.app_context():
        assert count_limit() == DEFAULT_COUNT_LIMIT
    with started(" 250 ").app_context():  # as read from the environment
        assert count_limit() == 250
    for bad in ("many", "0", "-3", "2.5"):
        with pytest.raises(ValueError, match="CREDFOLIO_LIST_COUNT_LIMIT must be a whole number"):
            started(bad)
