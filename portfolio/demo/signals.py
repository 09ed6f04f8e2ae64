"""The demo's early signals (issue 17 §4): the teacher's cohort view flags students for each
reason it knows.  Leo has a plan item due soon and one overdue, and has submitted nothing of
his own for three weeks; Priya has had two revision rounds on her reflection.  (The "far from
the assessor's" self-assessment is seeded with the self-assessments, for Leo.)

Idempotent: a plan item is added only when the student has none for that competency, Priya's
reflection only when she has no submission for it, and Leo's own submission events are moved
back only while they are recent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select, update

from portfolio.accounts.models import User
from portfolio.assessment.models import Decision, Submission, SubmissionEvent
from portfolio.catalogue.models import Competency
from portfolio.core.db import db, unit_of_work
from portfolio.core.models import utcnow
from portfolio.demo.scenarios import Assess, Revise, Scenario, play
from portfolio.evidence.models import Evidence
from portfolio.planning.models import PlanItem

#: (student, competency, days from today to the target date, milestones).
PLAN_ITEMS = (
    ("leo", "project", 5, "Build the practice-pad stand and write up the three designs."),
    ("leo", "reflection", -7, "Two pages on finishing things: what stops me, what helps."),
)
#: How long Leo has been quiet (more than the default 14 days).
LEO_QUIET_DAYS = 21

PRIYA_REFLECTION = Scenario(
    "priya-reflection",
    "priya",
    "reflection",
    ("priya-story",),
    "What I learned writing from my grandmother's letters.",
    (
        Assess(
            "amara",
            Decision.REVISE,
            (1, 0),
            feedback="You tell us what happened; now tell us why, and what you would change.",
            criterion_feedback=("Say why the letters mattered.", "No next steps yet."),
        ),
        Revise(("priya-story",), "Added why the letters mattered and two next steps."),
        Assess(
            "amara",
            Decision.REVISE,
            (1, 1),
            feedback="Better. Make the next steps concrete: what, and by when?",
            criterion_feedback=("Clearer.", "“Write more” is not yet a step."),
        ),
    ),
)


def seed_signals(
    people: Mapping[str, User],
    competencies: Mapping[str, Competency],
    evidence: Mapping[str, Evidence],
) -> None:
    """Give the demo's cohort view a flagged student for each reason it can."""
    _seed_plan_items(people, competencies)
    _quiet_leo(people["leo"])
    if PRIYA_REFLECTION.competency in competencies and "priya-story" in evidence:
        # Its own counter: the demo's summary counts what the scenarios created.
        play(PRIYA_REFLECTION, people, competencies, evidence, Counter())


def _seed_plan_items(people: Mapping[str, User], competencies: Mapping[str, Competency]) -> None:
    today = utcnow().date()
    with unit_of_work(write=True):
        for student_key, competency_key, days, milestones in PLAN_ITEMS:
            student, competency = people[student_key], competencies.get(competency_key)
            if competency is None:
                continue
            exists = db.session.scalar(
                select(PlanItem.id).where(
                    PlanItem.student_id == student.id, PlanItem.competency_id == competency.id
                )
            )
            if exists is None:
                db.session.add(
                    PlanItem(
                        student_id=student.id,
                        competency_id=competency.id,
                        target_date=today + timedelta(days=days),
                        milestones=milestones,
                        position=len(PLAN_ITEMS),
                    )
                )


def _quiet_leo(leo: User) -> None:
    """Move Leo's own submission events back three weeks (his work was real; he has simply
    not been back since)."""
    cutoff = utcnow() - timedelta(days=LEO_QUIET_DAYS)
    own = select(Submission.id).where(Submission.student_id == leo.id)
    with unit_of_work(write=True):
        db.session.execute(
            update(SubmissionEvent)
            .where(
                SubmissionEvent.actor_id == leo.id,
                SubmissionEvent.submission_id.in_(own),
                SubmissionEvent.at > cutoff,
            )
            .values(at=cutoff)
        )
