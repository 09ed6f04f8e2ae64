"""The database helpers every feature shares: a unit of work commits or rolls back as a whole,
moments come back as aware UTC on every database, and allowed values are written once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from portfolio.accounts.models import USER_ROLES, Role, User
from portfolio.assessment.models import SUBMISSION_STATES, SubmissionState
from portfolio.core.audit import record
from portfolio.core.db import db, one_of, unit_of_work
from portfolio.core.models import AuditEvent


def _events() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_unit_of_work_commits_what_it_added(app: Any) -> None:
    with app.app_context():
        with unit_of_work():
            record("sign_in", actor_label="cli")
        db.session.remove()  # a fresh session sees only what was committed
        assert _events() == ["sign_in"]


@pytest.mark.parametrize("stop", [ValueError("refused"), KeyboardInterrupt()])
def test_a_unit_of_work_stopped_by_anything_leaves_nothing_behind(
    app: Any, stop: BaseException
) -> None:
    with app.app_context():
        with pytest.raises(type(stop)), unit_of_work(write=True):
            record("sign_in", actor_label="cli")
            db.session.flush()
            raise stop
        assert _events() == []  # rolled back, and the session is usable again


def test_moments_come_back_aware_in_utc_whatever_zone_they_were_stored_in(app: Any) -> None:
    paris = timezone(timedelta(hours=1))
    stored = datetime(2026, 3, 1, 12, 30, tzinfo=paris)
    with app.app_context():
        with unit_of_work():
            event = record("sign_in", actor_label="cli")
            event.at = stored
        db.session.remove()
        moment = db.session.scalar(select(AuditEvent.at))
        assert moment == stored
        assert moment is not None and moment.tzinfo is not None
        assert moment.utcoffset() == timedelta(0)
        assert moment == datetime(2026, 3, 1, 11, 30, tzinfo=UTC)


def test_a_naive_moment_is_taken_as_utc(app: Any) -> None:
    with app.app_context():
        with unit_of_work():
            event = record("sign_in", actor_label="cli")
            event.at = datetime(2026, 3, 1, 12, 30)
        db.session.remove()
        assert db.session.scalar(select(AuditEvent.at)) == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def test_allowed_values_are_written_once_as_a_check_constraint() -> None:
    constraint = one_of("role", Role, name="role")
    assert str(constraint.sqltext) == "role IN ('admin', 'assessor', 'student', 'guardian')"
    assert USER_ROLES == ("admin", "assessor", "student", "guardian")
    assert SUBMISSION_STATES[0] == SubmissionState.DRAFT == "draft"


def test_the_database_refuses_a_value_outside_the_enumeration(app: Any, issuer: Any) -> None:
    user = User(email="x@example.org", display_name="X", role="owner", issuer_id=issuer.id)
    with pytest.raises(Exception, match=r"(?i)check|constraint"), unit_of_work():
        db.session.add(user)
