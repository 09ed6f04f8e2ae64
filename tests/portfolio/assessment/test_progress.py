"""Learner progress: how a (student, competency) pair gets its state, what is next on a
student's map, the feedback waiting for them, and the cohort views (matrix, submissions waiting
longest, students with no progress in N weeks, CSV rows) — read from the database in a fixed
number of queries, whatever the number of students.

The helpers here build test data straight through the models (and ``services.issue`` for real
credentials); the page tests import them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from portfolio.accounts.issuers import ensure_issuer
from portfolio.accounts.models import Issuer, Notification, User
from portfolio.assessment import progress, progress_csv, progress_queries
from portfolio.assessment.models import Assessment, Mastery, Submission, SubmissionEvent
from portfolio.assessment.progress import (
    IN_PROGRESS,
    IN_REVIEW,
    MASTERED,
    NOT_STARTED,
    REVOKED,
    SUSPENDED,
    CohortFilter,
    CohortFilterError,
)
from portfolio.catalogue.models import Competency, Prerequisite, StackComponent
from portfolio.core.csv_cells import csv_safe
from portfolio.core.db import db
from portfolio.issuing import service as services
from portfolio.issuing.models import IssuedCredential
from tests.conftest import unsigned_badge

# -- building test data -----------------------------------------------------------------------


def now() -> datetime:
    return datetime.now(UTC)


def ago(*, days: float = 0, weeks: float = 0) -> datetime:
    return now() - timedelta(days=days, weeks=weeks)


def add_competency(
    issuer: Issuer,
    name: str,
    *,
    requires: Sequence[Competency] = (),
    components: Sequence[Competency] = (),
    position: int = 0,
    archived: bool = False,
) -> Competency:
    """A competency of ``issuer`` (a stack badge when it has ``components``)."""
    competency = Competency(
        issuer_id=issuer.id,
        name=name,
        description=f"About {name}",
        position=position,
        is_stack=bool(components),
        archived_at=ago(days=1) if archived else None,
    )
    db.session.add(competency)
    db.session.flush()
    for prerequisite in requires:
        db.session.add(Prerequisite(competency_id=competency.id, prerequisite_id=prerequisite.id))
    for component in components:
        db.session.add(StackComponent(stack_id=competency.id, component_id=component.id))
    db.session.commit()
    return competency


def add_student(
    issuer: Issuer, email: str, *, cohort: str | None = None, joined: datetime | None = None
) -> User:
    """A student account (that cannot sign in: its password hash is not a hash)."""
    user = User(
        email=email,
        password_hash="not-a-password-hash",
        display_name=email.split("@")[0].title(),
        role="student",
        issuer_id=issuer.id,
        cohort=cohort,
        created_at=joined or ago(weeks=20),
    )
    db.session.add(user)
    db.session.commit()
    return user


def add_submission(
    student: User,
    competency: Competency,
    state: str,
    *,
    created: datetime | None = None,
    submitted: datetime | None = None,
) -> Submission:
    created = created or now()
    row = Submission(
        student_id=student.id,
        competency_id=competency.id,
        state=state,
        created_at=created,
        updated_at=created,
        submitted_at=submitted,
    )
    db.session.add(row)
    db.session.commit()
    return row


def add_assessment(
    submission: Submission, assessor: User, decision: str, feedback: str, *, at: datetime
) -> Assessment:
    row = Assessment(
        submission_id=submission.id,
        round=len(submission.assessments) + 1,
        assessor_id=assessor.id,
        decision=decision,
        feedback=feedback,
        created_at=at,
    )
    db.session.add(row)
    db.session.commit()
    return row


def add_event(submission: Submission, actor: User, to_state: str, *, at: datetime) -> None:
    db.session.add(
        SubmissionEvent(submission_id=submission.id, to_state=to_state, actor_id=actor.id, at=at)
    )
    db.session.commit()


def issue_credential(issuer: Issuer) -> IssuedCredential:
    """A real, signed credential (masteries point at one)."""
    return services.issue(unsigned_badge(), issuer=issuer)


def add_mastery(
    student: User,
    competency: Competency,
    credential: IssuedCredential,
    *,
    at: datetime | None = None,
) -> Mastery:
    row = Mastery(
        student_id=student.id,
        competency_id=competency.id,
        credential_id=credential.id,
        at=at or now(),
    )
    db.session.add(row)
    db.session.commit()
    return row


def states_of(student: User) -> dict[str, str]:
    """``{competency name: state}`` on the student's map."""
    view = progress_queries.student_map(student)
    return {entry.competency.name: entry.cell.state for entry in view.entries}


@contextmanager
def counting_queries() -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


# -- the rules (pure) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credential", "latest", "state"),
    [
        ("active", None, MASTERED),
        ("active", "draft", MASTERED),
        ("suspended", "endorsed", SUSPENDED),
        (None, "submitted", IN_REVIEW),
        (None, "in_review", IN_REVIEW),
        (None, "resubmitted", IN_REVIEW),
        (None, "draft", IN_PROGRESS),
        (None, "revision_requested", IN_PROGRESS),
        (None, "not_yet", IN_PROGRESS),
        (None, None, NOT_STARTED),
        # The credential was revoked: it says so until work starts again.
        ("revoked", "endorsed", REVOKED),
        ("revoked", "draft", IN_PROGRESS),
        ("revoked", "submitted", IN_REVIEW),
    ],
)
def test_a_state_comes_from_the_credential_then_the_latest_submission(credential, latest, state):
    assert (
        progress.derive_state(credential_state=credential, latest_submission_state=latest) == state
    )


@pytest.mark.parametrize(
    ("own", "components", "state"),
    [
        (MASTERED, [NOT_STARTED], MASTERED),
        (SUSPENDED, [MASTERED], SUSPENDED),
        (NOT_STARTED, [MASTERED, MASTERED], IN_PROGRESS),
        (NOT_STARTED, [NOT_STARTED, IN_REVIEW], IN_PROGRESS),
        (NOT_STARTED, [NOT_STARTED, NOT_STARTED], NOT_STARTED),
        (NOT_STARTED, [], NOT_STARTED),
        (REVOKED, [REVOKED, MASTERED], REVOKED),
        (REVOKED, [IN_PROGRESS, MASTERED], IN_PROGRESS),
    ],
)
def test_a_stack_is_held_only_by_its_own_credential(own, components, state):
    assert progress.stack_state(own_state=own, component_states=components) == state


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil.example")', '\'=HYPERLINK("http://evil.example")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Ada Lovelace", "Ada Lovelace"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_made_text(cell, written):
    assert csv_safe(cell) == written


@pytest.mark.parametrize(("raw", "weeks"), [(None, 3), ("", 3), ("1", 1), (" 52 ", 52), ("7", 7)])
def test_weeks_default_to_three_and_accept_one_to_fifty_two(raw, weeks):
    assert progress.parse_weeks(raw) == weeks


@pytest.mark.parametrize("raw", ["0", "53", "-1", "abc", "2.5", "1e3", "٣", "9" * 40])
def test_other_weeks_are_refused_with_a_readable_message(raw):
    with pytest.raises(CohortFilterError, match="whole number from 1 to 52"):
        progress.parse_weeks(raw)


@pytest.mark.parametrize("raw", ["0", "-3", "x", "100001"])
def test_a_page_must_be_a_whole_number_of_one_or_more(raw):
    with pytest.raises(CohortFilterError, match="The page must be"):
        progress.parse_page(raw)


def test_a_cohort_filter_is_trimmed_and_bounded():
    assert progress.parse_cohort("  Year 9  ") == "Year 9"
    assert progress.parse_cohort("") is None
    with pytest.raises(CohortFilterError, match="at most 128 characters"):
        progress.parse_cohort("x" * 129)


# -- states from the database ----------------------------------------------------------------


def test_each_state_is_derived_from_masteries_and_the_latest_submission(issuer):
    melody, story, song, essay, film = (
        add_competency(issuer, name, position=index)
        for index, name in enumerate(["Melody", "Story", "Song", "Essay", "Film"])
    )
    ada = add_student(issuer, "ada@school.example")
    add_mastery(ada, melody, issue_credential(issuer))
    # An older "not yet", then a new submission waiting for an assessor.
    add_submission(ada, story, "not_yet", created=ago(days=10))
    add_submission(ada, story, "submitted", created=ago(days=2))
    # An older submission in review, then a fresh draft: the latest one decides.
    add_submission(ada, song, "submitted", created=ago(days=10))
    add_submission(ada, song, "draft", created=ago(days=1))
    add_submission(ada, essay, "revision_requested")
    assert states_of(ada) == {
        "Melody": MASTERED,
        "Story": IN_REVIEW,
        "Song": IN_PROGRESS,
        "Essay": IN_PROGRESS,
        "Film": NOT_STARTED,
    }
    assert film  # (never touched: not started)


def test_a_mastery_whose_credential_was_revoked_shows_revoked_until_work_starts_again(issuer):
    melody = add_competency(issuer, "Melody")
    ada = add_student(issuer, "ada@school.example")
    add_submission(ada, melody, "endorsed", created=ago(days=5))
    credential = issue_credential(issuer)
    add_mastery(ada, melody, credential)
    assert states_of(ada) == {"Melody": MASTERED}
    services.set_status(credential, "revoke", reason="Issued in error")
    assert states_of(ada) == {"Melody": REVOKED}
    add_submission(ada, melody, "draft")
    assert states_of(ada) == {"Melody": IN_PROGRESS}


def test_a_suspended_credential_shows_suspended_until_the_suspension_is_lifted(issuer):
    melody = add_competency(issuer, "Melody")
    ada = add_student(issuer, "ada@school.example")
    credential = issue_credential(issuer)
    add_mastery(ada, melody, credential)
    services.set_status(credential, "suspend", reason="Under review")
    assert states_of(ada) == {"Melody": SUSPENDED}
    services.set_status(credential, "unsuspend", reason="")
    assert states_of(ada) == {"Melody": MASTERED}


def test_only_the_students_own_issuers_competencies_that_are_not_archived_count(issuer):
    other = ensure_issuer(did="did:web:other-school.example", name="Other", slug="other")
    add_competency(issuer, "Melody")
    add_competency(issuer, "Old melody", archived=True)
    add_competency(other, "Their melody")
    ada = add_student(issuer, "ada@school.example")
    assert states_of(ada) == {"Melody": NOT_STARTED}


def test_a_student_of_no_issuer_has_an_empty_map(issuer):
    add_competency(issuer, "Melody")
    nobody = User(email="x@school.example", password_hash="-", display_name="X", role="student")
    db.session.add(nobody)
    db.session.commit()
    view = progress_queries.student_map(nobody)
    assert view.entries == [] and view.next_up == [] and view.feedback == []


def test_a_stack_shows_its_components_and_is_mastered_by_its_own_mastery(issuer):
    melody = add_competency(issuer, "Melody", position=1)
    lyrics = add_competency(issuer, "Lyrics", position=2)
    songwriter = add_competency(issuer, "Songwriter", components=[melody, lyrics], position=3)
    ada = add_student(issuer, "ada@school.example")
    credential = issue_credential(issuer)
    assert states_of(ada)["Songwriter"] == NOT_STARTED

    add_mastery(ada, melody, credential)
    view = progress_queries.student_map(ada)
    stack = next(entry for entry in view.entries if entry.competency.name == "Songwriter")
    assert stack.cell.state == IN_PROGRESS
    assert [(c.name, cell.state) for c, cell in stack.components] == [
        ("Melody", MASTERED),
        ("Lyrics", NOT_STARTED),
    ]
    assert stack.components_mastered == 1

    add_mastery(ada, lyrics, credential)
    assert states_of(ada)["Songwriter"] == IN_PROGRESS  # not until the stack itself is issued
    add_mastery(ada, songwriter, credential)
    assert states_of(ada)["Songwriter"] == MASTERED


# -- what is next ----------------------------------------------------------------------------


def next_names(student: User) -> list[str]:
    return [entry.competency.name for entry in progress_queries.student_map(student).next_up]


def test_what_is_next_needs_every_prerequisite_mastered_and_puts_started_work_first(issuer):
    scales = add_competency(issuer, "Scales", position=1)
    melody = add_competency(issuer, "Melody", requires=[scales], position=2)
    harmony = add_competency(issuer, "Harmony", requires=[scales], position=3)
    rhythm = add_competency(issuer, "Rhythm", position=4)
    song = add_competency(issuer, "Song", requires=[melody, rhythm], position=5)
    ada = add_student(issuer, "ada@school.example")
    credential = issue_credential(issuer)

    assert next_names(ada) == ["Scales", "Rhythm"]

    add_mastery(ada, scales, credential)
    add_submission(ada, harmony, "draft")
    assert next_names(ada) == ["Harmony", "Melody", "Rhythm"]

    add_mastery(ada, melody, credential)
    add_submission(ada, rhythm, "submitted")
    # Song still needs Rhythm; work waiting for an assessor comes last.
    assert next_names(ada) == ["Harmony", "Rhythm"]

    add_mastery(ada, rhythm, credential)
    assert next_names(ada) == ["Harmony", "Song"]
    entry = next(
        e for e in progress_queries.student_map(ada).entries if e.competency.name == "Song"
    )
    assert [(p.name, met) for p, met in entry.prerequisites] == [
        ("Melody", True),
        ("Rhythm", True),
    ]
    assert song


def test_an_unmet_prerequisite_is_shown_as_not_met(issuer):
    scales = add_competency(issuer, "Scales", position=1)
    add_competency(issuer, "Melody", requires=[scales], position=2)
    ada = add_student(issuer, "ada@school.example")
    entry = progress_queries.student_map(ada).entries[1]
    assert entry.competency.name == "Melody"
    assert [(p.name, met) for p, met in entry.prerequisites] == [("Scales", False)]
    assert not entry.prerequisites_met


def test_an_archived_prerequisite_blocks_nothing_and_stacks_are_never_next(issuer):
    old = add_competency(issuer, "Old scales", archived=True)
    melody = add_competency(issuer, "Melody", requires=[old], position=1)
    add_competency(issuer, "Musician", components=[melody], position=2)
    ada = add_student(issuer, "ada@school.example")
    assert next_names(ada) == ["Melody"]


# -- feedback and notifications ----------------------------------------------------------------


def test_feedback_waiting_is_the_latest_assessments_words_on_work_sent_back(issuer):
    melody = add_competency(issuer, "Melody", position=1)
    story = add_competency(issuer, "Story", position=2)
    song = add_competency(issuer, "Song", position=3)
    essay = add_competency(issuer, "Essay", position=4)
    ada = add_student(issuer, "ada@school.example")
    grace = User(
        email="grace@school.example",
        password_hash="-",
        display_name="Grace",
        role="assessor",
        issuer_id=issuer.id,
    )
    db.session.add(grace)
    db.session.commit()

    sent_back = add_submission(ada, melody, "revision_requested", created=ago(days=9))
    sent_back.decided_at = ago(days=1)
    add_assessment(sent_back, grace, "revise", "First round: tune the bridge.", at=ago(days=5))
    add_assessment(sent_back, grace, "revise", "Second round: <b>nearly</b> there.", at=ago(days=1))
    not_yet = add_submission(ada, story, "not_yet", created=ago(days=9))
    not_yet.decided_at = ago(days=3)
    add_assessment(not_yet, grace, "not_yet", "The ending is missing.", at=ago(days=3))
    # Superseded: the student started again, so the old feedback no longer waits.
    old = add_submission(ada, song, "not_yet", created=ago(days=20))
    add_assessment(old, grace, "not_yet", "Old words.", at=ago(days=19))
    add_submission(ada, song, "draft", created=ago(days=2))
    # Waiting for an assessor: nothing to read yet.
    add_submission(ada, essay, "submitted")

    feedback = progress_queries.student_map(ada).feedback
    assert [(item.competency_name, item.state, item.feedback) for item in feedback] == [
        ("Melody", "revision_requested", "Second round: <b>nearly</b> there."),
        ("Story", "not_yet", "The ending is missing."),
    ]
    assert feedback[0].submission_public_id == sent_back.public_id


def test_only_the_students_own_unread_notifications_are_listed(issuer):
    ada = add_student(issuer, "ada@school.example")
    bob = add_student(issuer, "bob@school.example")
    db.session.add_all(
        [
            Notification(user_id=ada.id, message="Old news", created_at=ago(days=3)),
            Notification(user_id=ada.id, message="Feedback arrived", created_at=ago(days=1)),
            Notification(user_id=ada.id, message="Read", read_at=now()),
            Notification(user_id=bob.id, message="Bob's"),
        ]
    )
    db.session.commit()
    view = progress_queries.student_map(ada)
    assert [note.message for note in view.notifications] == ["Feedback arrived", "Old news"]


def test_the_history_lists_only_masteries_that_count_oldest_first(issuer):
    melody = add_competency(issuer, "Melody")
    story = add_competency(issuer, "Story")
    song = add_competency(issuer, "Song")
    ada = add_student(issuer, "ada@school.example")
    add_mastery(ada, story, issue_credential(issuer), at=ago(days=3))
    add_mastery(ada, melody, issue_credential(issuer), at=ago(days=10))
    revoked = issue_credential(issuer)
    add_mastery(ada, song, revoked, at=ago(days=1))
    services.set_status(revoked, "revoke", reason="Issued in error")
    assert [name for _at, name in progress_queries.student_map(ada).history] == ["Melody", "Story"]


def test_the_student_map_takes_the_same_number_of_queries_however_much_there_is(issuer):
    ada = add_student(issuer, "ada@school.example")
    add_submission(ada, add_competency(issuer, "First"), "not_yet")
    db.session.expire_all()
    with counting_queries() as few:
        progress_queries.student_map(db.session.get(User, ada.id))
    credential = issue_credential(issuer)
    for index in range(15):
        competency = add_competency(issuer, f"C{index}")
        add_submission(ada, competency, "not_yet")
        add_mastery(ada, competency, credential)
    db.session.expire_all()
    with counting_queries() as many:
        progress_queries.student_map(db.session.get(User, ada.id))
    assert len(many) == len(few)


# -- the cohort ------------------------------------------------------------------------------


@pytest.fixture
def school(issuer) -> dict[str, Any]:
    """Two competencies, four students in two cohorts (one disabled), and another issuer's
    student who must never appear."""
    other = ensure_issuer(did="did:web:other-school.example", name="Other", slug="other")
    melody = add_competency(issuer, "Melody", position=1)
    story = add_competency(issuer, "Story", position=2)
    ada = add_student(issuer, "ada@school.example", cohort="Year 9")
    bob = add_student(issuer, "bob@school.example", cohort="Year 10")
    cleo = add_student(issuer, "cleo@school.example", cohort="Year 9")
    gone = add_student(issuer, "gone@school.example", cohort="Year 9")
    gone.disabled_at = ago(days=1)
    stranger = add_student(other, "stranger@other.example", cohort="Year 9")
    db.session.commit()
    return {
        "issuer": issuer,
        "melody": melody,
        "story": story,
        "ada": ada,
        "bob": bob,
        "cleo": cleo,
        "stranger": stranger,
        "catalogue": progress_queries.load_catalogue(issuer.id),
    }


def test_the_cohorts_are_the_issuers_students_groups(school):
    assert progress_queries.cohorts(school["issuer"].id) == ["Year 10", "Year 9"]


def test_the_students_are_the_issuers_active_ones_by_name(school):
    everyone = progress_queries.students(school["issuer"].id, None)
    assert [(s.name, s.cohort) for s in everyone] == [
        ("Ada", "Year 9"),
        ("Bob", "Year 10"),
        ("Cleo", "Year 9"),
    ]
    year9 = progress_queries.students(school["issuer"].id, "Year 9")
    assert [s.id for s in year9] == [school["ada"].id, school["cleo"].id]


def test_the_matrix_filters_by_cohort_and_by_competency(school):
    ada, cleo = school["ada"], school["cleo"]
    add_submission(ada, school["story"], "submitted")
    add_mastery(cleo, school["melody"], issue_credential(school["issuer"]))
    catalogue = school["catalogue"]

    everyone = progress_queries.cohort_matrix(school["issuer"].id, catalogue, CohortFilter())
    assert [s.name for s in everyone.students] == ["Ada", "Bob", "Cleo"]
    assert [c.name for c in everyone.competencies] == ["Melody", "Story"]

    year9 = progress_queries.cohort_matrix(
        school["issuer"].id,
        catalogue,
        CohortFilter(cohort="Year 9", competency=catalogue.find(school["story"].public_id)),
    )
    assert year9.total == 2
    assert [c.name for c in year9.competencies] == ["Story"]
    grid = {
        (s.name, c.name): year9.cells[s.id][c.id].state
        for s in year9.students
        for c in year9.competencies
    }
    assert grid == {("Ada", "Story"): IN_REVIEW, ("Cleo", "Story"): NOT_STARTED}
    assert year9.cells[cleo.id][school["melody"].id].state == MASTERED


def test_the_matrix_pages_through_students_by_name(school):
    matrix = progress_queries.cohort_matrix(
        school["issuer"].id, school["catalogue"], CohortFilter(), page=2, per_page=2
    )
    assert (matrix.total, matrix.pages, [s.name for s in matrix.students]) == (3, 2, ["Cleo"])


def test_a_competency_filter_accepts_only_the_issuers_own_competencies(school):
    catalogue = school["catalogue"]
    assert progress.parse_competency(school["melody"].public_id, catalogue).name == "Melody"
    assert progress.parse_competency("", catalogue) is None
    with pytest.raises(CohortFilterError, match="no such competency"):
        progress.parse_competency("not-a-competency", catalogue)


def test_the_cohort_page_takes_the_same_number_of_queries_for_many_students(school):
    issuer, catalogue = school["issuer"], school["catalogue"]

    def run() -> int:
        db.session.expire_all()
        with counting_queries() as statements:
            progress_queries.cohort_matrix(issuer.id, catalogue, CohortFilter())
            progress_queries.waiting_longest(issuer.id, CohortFilter(), now=now())
            progress_queries.stalled_students(issuer.id, CohortFilter(), weeks=3, now=now())
            list(progress_csv.cohort_csv_rows(issuer.id, catalogue, CohortFilter()))
        return len(statements)

    few = run()
    credential = issue_credential(issuer)
    for index in range(30):
        student = add_student(issuer, f"s{index}@school.example", cohort="Year 9")
        add_submission(student, school["melody"], "submitted", submitted=ago(days=index))
        add_mastery(student, school["story"], credential, at=ago(weeks=5))
    assert run() == few


def test_submissions_waiting_longest_come_oldest_first_with_their_age(school):
    ada, bob, cleo = school["ada"], school["bob"], school["cleo"]
    melody, story = school["melody"], school["story"]
    add_submission(ada, melody, "submitted", submitted=ago(days=2, weeks=0))
    add_submission(bob, melody, "in_review", submitted=ago(days=9))
    add_submission(cleo, story, "resubmitted", submitted=ago(days=4))
    add_submission(cleo, melody, "draft", created=ago(days=30))  # not waiting
    add_submission(ada, story, "revision_requested", submitted=ago(days=40))  # not waiting
    add_submission(school["stranger"], melody, "submitted", submitted=ago(days=99))
    issuer_id = school["issuer"].id

    waiting, total = progress_queries.waiting_longest(issuer_id, CohortFilter(), now=now())
    assert total == 3
    assert [(w.student_name, w.competency_name, w.state, w.age_days) for w in waiting] == [
        ("Bob", "Melody", "in_review", 9),
        ("Cleo", "Story", "resubmitted", 4),
        ("Ada", "Melody", "submitted", 2),
    ]
    year9, _ = progress_queries.waiting_longest(issuer_id, CohortFilter(cohort="Year 9"), now=now())
    assert [w.student_name for w in year9] == ["Cleo", "Ada"]
    melody_only = CohortFilter(competency=school["catalogue"].find(melody.public_id))
    first, total = progress_queries.waiting_longest(issuer_id, melody_only, now=now(), limit=1)
    assert ([w.student_name for w in first], total) == (["Bob"], 2)


def test_students_with_no_progress_in_n_weeks(school):
    ada, bob, cleo = school["ada"], school["bob"], school["cleo"]
    melody, story = school["melody"], school["story"]
    grace = User(
        email="grace@school.example",
        password_hash="-",
        display_name="Grace",
        role="assessor",
        issuer_id=school["issuer"].id,
    )
    db.session.add(grace)
    db.session.commit()
    # Ada submitted two weeks ago; an assessor acted on Bob's work yesterday (that is not
    # Bob's progress) and Bob's own last step was six weeks ago; Cleo mastered Story five days ago.
    ada_work = add_submission(ada, melody, "submitted")
    add_event(ada_work, ada, "submitted", at=ago(weeks=2))
    bob_work = add_submission(bob, melody, "in_review")
    add_event(bob_work, bob, "submitted", at=ago(weeks=6))
    add_event(bob_work, grace, "in_review", at=ago(days=1))
    add_mastery(cleo, story, issue_credential(school["issuer"]), at=ago(days=5))
    # A student who joined yesterday has not stalled yet.
    add_student(school["issuer"], "new@school.example", joined=ago(days=1))
    issuer_id = school["issuer"].id

    def stalled(weeks: int, filters: CohortFilter | None = None) -> list[tuple[str, bool]]:
        found, total = progress_queries.stalled_students(
            issuer_id, filters or CohortFilter(), weeks=weeks, now=now()
        )
        assert total == len(found)
        return [(s.student.name, s.last_activity is not None) for s in found]

    assert stalled(3) == [("Bob", True)]
    assert stalled(1) == [("Bob", True), ("Ada", True)]  # longest silent first
    assert stalled(8) == []
    assert stalled(3, CohortFilter(cohort="Year 9")) == []
    story_only = CohortFilter(competency=school["catalogue"].find(story.public_id))
    # On Story alone, Ada and Bob have never done anything; Cleo mastered it five days ago.
    assert stalled(3, story_only) == [("Ada", False), ("Bob", False)]


def test_the_csv_rows_are_one_per_student_and_competency(school):
    ada, melody = school["ada"], school["melody"]
    credential = issue_credential(school["issuer"])
    at = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
    add_mastery(ada, melody, credential, at=at)
    add_submission(school["bob"], school["story"], "draft")
    rows = list(
        progress_csv.cohort_csv_rows(
            school["issuer"].id, school["catalogue"], CohortFilter(), batch=2
        )
    )
    stamp, public_id = at.isoformat(), credential.public_id
    assert rows == [
        ["Ada", "ada@school.example", "Year 9", "Melody", MASTERED, stamp, public_id, ""],
        ["Ada", "ada@school.example", "Year 9", "Story", NOT_STARTED, "", "", ""],
        ["Bob", "bob@school.example", "Year 10", "Melody", NOT_STARTED, "", "", ""],
        ["Bob", "bob@school.example", "Year 10", "Story", IN_PROGRESS, "", "", ""],
        ["Cleo", "cleo@school.example", "Year 9", "Melody", NOT_STARTED, "", "", ""],
        ["Cleo", "cleo@school.example", "Year 9", "Story", NOT_STARTED, "", "", ""],
    ]  # fmt: skip


def test_csv_rows_guard_every_user_supplied_cell(school):
    issuer = school["issuer"]
    evil = add_student(issuer, "evil@school.example", cohort="+cmd|' /C calc'!A0")
    evil.display_name = '=HYPERLINK("http://evil.example","Click")'
    school["melody"].name = "@SUM(1+1)"
    db.session.commit()
    catalogue = progress_queries.load_catalogue(issuer.id)
    filters = CohortFilter(cohort="+cmd|' /C calc'!A0")
    rows = list(progress_csv.cohort_csv_rows(issuer.id, catalogue, filters))
    assert rows[0][:4] == [
        '\'=HYPERLINK("http://evil.example","Click")',
        "evil@school.example",
        "'+cmd|' /C calc'!A0",
        "'@SUM(1+1)",
    ]
