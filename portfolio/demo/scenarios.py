"""What happens to the demo's submissions: ten scenarios played through the assessment
services (so endorsed ones carry real signed credentials and every transition is in the audit
trail), and one credential revoked.  (The demo school does not offer suspension, so every
credential it issues matches the 1EdTech schema as published: docs/verification.md.)"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from portfolio.accounts.models import User
from portfolio.assessment import service as assessment
from portfolio.assessment.models import Decision, Submission
from portfolio.catalogue.models import Competency
from portfolio.core.db import db
from portfolio.evidence.models import Evidence
from portfolio.issuing import service as services


@dataclass(frozen=True)
class Assess:
    """An assessor's decision (levels are rubric level indexes, one per criterion)."""

    assessor: str
    decision: Decision
    levels: tuple[int, ...]
    feedback: str = ""
    criterion_feedback: tuple[str, ...] = ()


@dataclass(frozen=True)
class Revise:
    """The student changes the evidence and note, then resubmits."""

    evidence: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class SetStatus:
    """An administrator revokes or suspends the credential the submission earned."""

    action: str
    reason: str
    actor: str = "admin"


Step = Assess | Revise | SetStatus


@dataclass(frozen=True)
class Scenario:
    """One student's submission for one competency, and what happens to it, in order."""

    key: str
    student: str
    competency: str
    evidence: tuple[str, ...]
    note: str
    steps: tuple[Step, ...] = ()
    submit: bool = True


SCENARIOS = (
    Scenario(
        "maya-song",
        "maya",
        "song",
        ("maya-song",),
        "My first real song. I am not sure about the chorus.",
        (
            Assess(
                "amara",
                Decision.REVISE,
                (2, 1, 1),
                feedback="A lovely melody, Maya. The chorus tells us what we can already see: "
                "what do the harbour lights mean to you? And try moving the bridge.",
                criterion_feedback=(
                    "Singable and it suits the words.",
                    "Verse 2 is strong; the chorus is generic.",
                    "The bridge comes too early and the song stalls.",
                ),
            ),
            Revise(
                ("maya-song", "maya-song-reflection"),
                "New chorus and the bridge moved to the end; my reflection explains why.",
            ),
            Assess(
                "amara",
                Decision.ENDORSE,
                (3, 2, 2),
                feedback="The new chorus lands — “every window on the water” is the heart of "
                "the song. Mastery, with a melody people will hum.",
                criterion_feedback=("Memorable.", "Fresh images now.", "It builds."),
            ),
        ),
    ),
    Scenario(
        "maya-story",
        "maya",
        "story",
        ("maya-story",),
        "Written for the Night prompt.",
        (
            Assess(
                "amara",
                Decision.ENDORSE,
                (3, 3, 2),
                feedback="The three sugars at the end say everything. 11 of 12 points.",
            ),
        ),
    ),
    Scenario(
        "maya-performance",
        "maya",
        "performance",
        ("maya-live",),
        "From the spring concert. I was terrified.",
    ),
    Scenario(
        "leo-song",
        "leo",
        "song",
        ("leo-song",),
        "The chorus is the whole song, is that allowed?",
        (
            Assess(
                "amara",
                Decision.REVISE,
                (1, 2, 0),
                feedback="There is a real hook here, Leo, but the song needs somewhere to go. "
                "Write a verse that tells us what happened on the Tuesday, and a bridge.",
                criterion_feedback=(
                    "The tune sits on three notes; give the chorus a lift.",
                    "The chorus line is fun. Now show us the day.",
                    "One section repeated: add verses and a bridge.",
                ),
            ),
        ),
    ),
    Scenario(
        "leo-story",
        "leo",
        "story",
        ("leo-story",),
        "A mystery with the clue in plain sight.",
        (
            Assess(
                "amara",
                Decision.ENDORSE,
                (2, 2, 2),
                feedback="A neat, fair-play mystery and a very good cat. 9 of 12 points.",
            ),
        ),
    ),
    Scenario(
        "leo-reflection",
        "leo",
        "reflection",
        ("leo-reflection",),
        "Draft — still writing.",
        submit=False,
    ),
    Scenario(
        "priya-story",
        "priya",
        "story",
        ("priya-story",),
        "Based on my grandmother's letters.",
        (
            Assess(
                "amara",
                Decision.ENDORSE,
                (3, 2, 2),
                feedback="Warm and funny; the goat on the car is perfect. 10 of 12 points.",
            ),
            SetStatus(
                "revoke",
                "Issued in error: the story was assessed as individual work but was written "
                "in a group",
            ),
        ),
    ),
    Scenario(
        "priya-project",
        "priya",
        "project",
        ("priya-project",),
        "The garden is planted and the path stays dry.",
        (
            Assess(
                "daniel",
                Decision.ENDORSE,
                (3, 2, 3, 2),
                feedback="A real problem, measured and solved. 14 of 16 points.",
            ),
            Assess(
                "amara",
                Decision.REVISE,
                (2, 1, 2, 1),
                feedback="Impressive making, but I cannot see the design process: where are "
                "the three layouts you sketched and why did you choose this one?",
                criterion_feedback=(
                    "",
                    "Show the sketches and the test that made you choose.",
                    "",
                    "Add a labelled photo of the finished garden.",
                ),
            ),
        ),
    ),
    Scenario(
        "tomas-project",
        "tomas",
        "project",
        ("tomas-project",),
        "Version 3 is in the feeder now.",
        (
            Assess(
                "daniel",
                Decision.ENDORSE,
                (3, 3, 2, 3),
                feedback="Three honest iterations, each driven by a test. 15 of 16 points.",
            ),
            Assess(
                "amara",
                Decision.ENDORSE,
                (3, 2, 2, 3),
                feedback="Clear enough for the club to build a second one. 14 of 16 points.",
            ),
        ),
    ),
    Scenario(
        "tomas-reflection",
        "tomas",
        "reflection",
        ("tomas-journal",),
        "Six weeks of notes.",
        (
            Assess(
                "daniel",
                Decision.NOT_YET,
                (1, 0),
                feedback="You describe what happened well. Next: why did it happen, and what "
                "will you do differently? Start a new submission when you have four more "
                "weeks of notes with next steps.",
                criterion_feedback=(
                    "“I should have tested outside earlier” is the start of an insight — "
                    "follow it.",
                    "No next steps yet.",
                ),
            ),
        ),
    ),
)


def play(
    scenario: Scenario,
    people: Mapping[str, User],
    competencies: Mapping[str, Competency],
    evidence: Mapping[str, Evidence],
    created: Counter[str],
) -> Submission | None:
    """Run ``scenario`` through the assessment services, unless its submission exists (then
    return that one, as it is now); None when its competency was removed from the catalogue."""
    student = people[scenario.student]
    competency = competencies.get(scenario.competency)
    if competency is None:
        return None
    existing: Submission | None = db.session.scalar(
        select(Submission)
        .where(Submission.student_id == student.id, Submission.competency_id == competency.id)
        .order_by(Submission.id.desc())
        .limit(1)
    )
    if existing is not None:
        return existing
    submission = assessment.create_submission(
        student,
        competency,
        evidence_ids=[evidence[key].public_id for key in scenario.evidence],
        note=scenario.note,
        submit=scenario.submit,
    )
    created["submissions"] += 1
    for step in scenario.steps:
        if isinstance(step, Assess):
            outcome = assessment.assess(
                submission,
                people[step.assessor],
                decision=step.decision,
                levels=step.levels,
                criterion_feedback=step.criterion_feedback,
                feedback=step.feedback,
            )
            created["credentials"] += (outcome.credential is not None) + len(outcome.stacks)
        elif isinstance(step, Revise):
            assessment.update_submission(
                submission,
                student,
                evidence_ids=[evidence[key].public_id for key in step.evidence],
                note=step.note,
            )
            assessment.submit(submission, student)
        else:
            credential = submission.credential
            if credential is None:
                raise RuntimeError(f"demo scenario {scenario.key}: no credential to {step.action}")
            services.set_status(
                credential,
                step.action,
                reason=step.reason,
                actor=f"user:{people[step.actor].id}",
            )
            created["revoked" if step.action == "revoke" else "suspended"] += 1
    return submission
