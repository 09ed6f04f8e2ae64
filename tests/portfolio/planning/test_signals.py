"""The plan's early signals (issue 17 §4): "Plan item overdue: <competency>, due <date>" and
"No submission in N days while a plan item is due" — the rules, then on the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from portfolio.accounts.models import Issuer
from portfolio.assessment import signals as early
from portfolio.core.db import db
from portfolio.planning import signals as plan
from portfolio.planning.models import PlanItem
from tests.portfolio.assessment.test_progress import (
    add_competency,
    add_event,
    add_mastery,
    add_student,
    add_submission,
    ago,
    issue_credential,
    now,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TODAY = NOW.date()

# -- the rules (pure) --------------------------------------------------------------------------


def item(days: int, name: str = "Melody") -> plan.DueItem:
    return plan.DueItem(name, TODAY + timedelta(days=days))


@pytest.mark.parametrize(
    ("days", "overdue", "due"),
    [(-1, True, True), (0, False, True), (14, False, True), (15, False, False)],
)
def test_an_item_is_overdue_after_its_date_and_due_within_the_quiet_days(days, overdue, due):
    assert plan.is_overdue(item(days), today=TODAY) is overdue
    assert plan.is_due(item(days), today=TODAY, quiet_days=14) is due


@pytest.mark.parametrize(
    ("last", "quiet"),
    [(None, True), (NOW - timedelta(days=15), True), (NOW - timedelta(days=13), False)],
)
def test_she_is_quiet_without_a_submission_event_of_her_own_in_n_days(last, quiet):
    assert plan.is_quiet(last, now=NOW, quiet_days=14) is quiet


def codes(signals: list[early.Signal]) -> list[str]:
    return [signal.code for signal in signals]


def test_the_plan_signals_of_one_student(app):
    thresholds = early.Thresholds(quiet_days=14)
    quiet = NOW - timedelta(days=20)
    with app.test_request_context():
        both = plan.plan_signals_for(
            [item(-3), item(5, "Story")], quiet, thresholds=thresholds, now=NOW
        )
        assert codes(both) == ["quiet", "overdue"]
        assert both[0].text == "No submission in 14 days while a plan item is due"
        assert both[0].detail["due"] == ["Melody", "Story"]
        assert both[1].text == "Plan item overdue: “Melody”, due Mar 7, 2026"
        # She submitted recently: only the overdue item remains.
        active = plan.plan_signals_for(
            [item(-3)], NOW - timedelta(days=2), thresholds=thresholds, now=NOW
        )
        assert codes(active) == ["overdue"]
        # Nothing due yet: no signal, however quiet she is.
        assert plan.plan_signals_for([item(30)], None, thresholds=thresholds, now=NOW) == []
        one_day = plan.quiet_signal(1, [item(0)])
        assert one_day.text == "No submission in 1 day while a plan item is due"


# -- on the database ---------------------------------------------------------------------------


@pytest.fixture
def planned(app: Flask, issuer: Issuer) -> dict[str, Any]:
    melody = add_competency(issuer, "Melody", position=1)
    story = add_competency(issuer, "Story", position=2)
    dance = add_competency(issuer, "Dance", position=3)
    ada = add_student(issuer, "ada@school.example", cohort="Year 9")
    bob = add_student(issuer, "bob@school.example", cohort="Year 10")
    grace = add_student(issuer, "grace@school.example")
    grace.role = "assessor"
    today = now().date()
    db.session.add_all(
        [
            # Ada: one item overdue, one due in a week, one far off, one without a date.
            PlanItem(
                student_id=ada.id, competency_id=melody.id, target_date=today - timedelta(days=2)
            ),
            PlanItem(
                student_id=ada.id, competency_id=story.id, target_date=today + timedelta(days=7)
            ),
            PlanItem(student_id=ada.id, competency_id=dance.id, target_date=None),
            # Bob: overdue, but mastered.
            PlanItem(
                student_id=bob.id, competency_id=melody.id, target_date=today - timedelta(days=9)
            ),
        ]
    )
    db.session.commit()
    add_mastery(bob, melody, issue_credential(issuer))
    return {
        "issuer": issuer,
        "melody": melody,
        "story": story,
        "ada": ada,
        "bob": bob,
        "grace": grace,
    }


def run(planned: dict[str, Any], **scope: Any) -> dict[int, list[early.Signal]]:
    return plan.plan_signals(
        early.SignalScope(planned["issuer"].id, **scope), early.DEFAULTS, now=now()
    )


def test_overdue_and_quiet_come_from_the_plan_and_her_own_events(planned):
    ada = planned["ada"]
    found = run(planned)
    assert list(found) == [ada.id]  # Bob mastered his overdue item
    assert codes(found[ada.id]) == ["quiet", "overdue"]
    assert found[ada.id][1].detail["competency"] == "Melody"
    # An assessor's decision on her work is not her submitting.
    work = add_submission(ada, planned["story"], "revision_requested")
    add_event(work, planned["grace"], "revision_requested", at=ago(days=1))
    assert codes(run(planned)[ada.id]) == ["quiet", "overdue"]
    add_event(work, ada, "resubmitted", at=ago(days=3))
    assert codes(run(planned)[ada.id]) == ["overdue"]


def test_the_plan_signals_follow_the_cohort_and_competency_filters(planned):
    assert run(planned, cohort="Year 10") == {}
    story_only = run(planned, competency_id=planned["story"].id)
    assert codes(story_only[planned["ada"].id]) == ["quiet"]


def test_a_disabled_student_is_not_flagged(planned):
    planned["ada"].disabled_at = ago(days=1)
    db.session.commit()
    assert run(planned) == {}


def test_the_plan_source_is_wired_into_the_app(app):
    with app.app_context():
        sources = early.signal_sources()
    assert sources == [early.revision_signals, early.calibration_signals, plan.plan_signals]
