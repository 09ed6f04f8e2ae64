"""Early signals for teachers (issue 17 §4): the rules of assessment's two signals (pure, then on
the database), a school's thresholds (service and ``/admin/signals``), the cohort view's
"Needs attention" column, its "Only flagged students" filter and the CSV's reasons, and the
query budget — the same number of statements for 10 students as for 1,000.

The plan's own two signals are in tests/portfolio/planning/test_signals.py;
:func:`seed_cohort` (a bulk-inserted school, flagged for every reason) is also what
bench/signals.py times.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert, select

from portfolio.accounts.models import Issuer, User
from portfolio.assessment import signals as early
from portfolio.assessment.models import (
    Assessment,
    SelfAssessment,
    SignalThresholds,
    Submission,
    SubmissionEvent,
)
from portfolio.catalogue.models import Competency
from portfolio.core.audit import AuditEvent
from portfolio.core.db import db
from portfolio.planning.models import PlanItem
from portfolio.planning.signals import plan_signals
from tests.portfolio.accounts.test_auth import OTHER_ISSUER_DID, make_user, sign_in
from tests.portfolio.assessment.test_progress import (
    add_assessment,
    add_competency,
    add_event,
    add_student,
    add_submission,
    ago,
    counting_queries,
    now,
)

# -- building test data -----------------------------------------------------------------------


def add_self_assessment(submission: Submission, round_: int, levels: list[int]) -> None:
    db.session.add(SelfAssessment(submission_id=submission.id, round=round_, levels=levels))
    db.session.commit()


def judged(
    submission: Submission, assessor: User, round_: int, levels: list[int], *, at: datetime
) -> Assessment:
    row = add_assessment(submission, assessor, "revise", "", at=at)
    row.round, row.levels = round_, levels
    db.session.commit()
    return row


def revised(submission: Submission, assessor: User, times: int) -> None:
    """``times`` revision rounds asked for by ``assessor``."""
    for index in range(times):
        add_event(submission, assessor, "revision_requested", at=ago(days=10 - index))


def seed_cohort(issuer: Issuer, count: int, *, start: int = 100_000) -> dict[str, Any]:
    """``count`` students (bulk inserted, ids from ``start``); every other one is flagged for
    all four reasons: an overdue plan item and nothing submitted in 30 days, two revision
    rounds on Story, and a self-assessment three levels from the assessor's."""
    melody = add_competency(issuer, f"Melody {start}", position=1)
    story = add_competency(issuer, f"Story {start}", position=2)
    assessor = add_student(issuer, f"assessor{start}@school.example")
    assessor.role = "assessor"
    db.session.commit()
    old, today = ago(days=30), now().date()
    flagged = [start + index for index in range(0, count, 2)]
    db.session.execute(
        insert(User),
        [
            {
                "id": start + index,
                "email": f"s{start + index}@school.example",
                "password_hash": "x",
                "display_name": f"Student {index:05d}",
                "role": "student",
                "issuer_id": issuer.id,
                "cohort": "Year 9" if index % 4 < 2 else "Year 10",
                "created_at": ago(weeks=20),
            }
            for index in range(count)
        ],
    )
    db.session.execute(
        insert(PlanItem),
        [
            {
                "student_id": sid,
                "competency_id": melody.id,
                "target_date": today - timedelta(days=3),
                "public_id": f"plan-{sid}",
            }
            for sid in flagged
        ],
    )
    db.session.execute(
        insert(Submission),
        [
            {
                "id": sid,
                "public_id": f"sub-{sid}",
                "student_id": sid,
                "competency_id": story.id,
                "state": "revision_requested",
                "round": 2,
                "created_at": old,
                "updated_at": old,
            }
            for sid in flagged
        ],
    )
    events = []
    for sid in flagged:
        events.append({"submission_id": sid, "to_state": "submitted", "actor_id": sid, "at": old})
        for _round in range(2):
            events.append(
                {
                    "submission_id": sid,
                    "to_state": "revision_requested",
                    "actor_id": assessor.id,
                    "at": old,
                }
            )
    db.session.execute(insert(SubmissionEvent), events)
    db.session.execute(
        insert(SelfAssessment),
        [{"submission_id": sid, "round": 2, "levels": [3, 1]} for sid in flagged],
    )
    db.session.execute(
        insert(Assessment),
        [
            {
                "public_id": f"as-{sid}",
                "submission_id": sid,
                "round": 2,
                "assessor_id": assessor.id,
                "decision": "revise",
                "levels": [0, 1],
                "created_at": old,
            }
            for sid in flagged
        ],
    )
    db.session.commit()
    return {"melody": melody, "story": story, "assessor": assessor, "flagged": flagged}


def scope_of(issuer: Issuer, **kwargs: Any) -> early.SignalScope:
    return early.SignalScope(issuer.id, **kwargs)


# -- the rules (pure) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("own", "assessor", "gap", "flag"),
    [
        ([3, 2, 1], [3, 2, 1], 2, None),
        ([3, 2, 1], [1, 2, 1], 2, 2),
        ([0, 3], [1, 0], 2, 3),
        ([2, 2], [1, 3], 2, None),
        # A criterion one side did not rate is not compared.
        ([3], [0, 0], 2, 3),
        ([], [2, 2], 1, None),
    ],
)
def test_a_self_assessment_is_far_off_when_any_criterion_is_gap_levels_away(
    own, assessor, gap, flag
):
    assert early.far_off(own, assessor, gap=gap) == flag


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"quiet_days": 0, "revision_rounds": 2, "calibration_gap": 2}, "quiet_days"),
        ({"quiet_days": 366, "revision_rounds": 2, "calibration_gap": 2}, "quiet_days"),
        ({"quiet_days": 14, "revision_rounds": 21, "calibration_gap": 2}, "revision_rounds"),
        ({"quiet_days": 14, "revision_rounds": 2, "calibration_gap": 0}, "calibration_gap"),
        ({"quiet_days": 14, "revision_rounds": 2}, "calibration_gap"),
        ({"quiet_days": True, "revision_rounds": 2, "calibration_gap": 2}, "quiet_days"),
    ],
)
def test_thresholds_outside_their_range_are_refused_naming_the_field(values, field):
    with pytest.raises(early.ThresholdError) as refused:
        early.check_thresholds(values)
    assert refused.value.field == field


def test_signals_are_listed_in_a_fixed_order_and_counted_once_per_student(app):
    with app.test_request_context():
        calibration = early.calibration_signal("Song", 3)
        revisions = early.revisions_signal("Song", 2)
        quiet = early.Signal(early.QUIET, early.LABELS[early.QUIET])
        assert early.sort_signals([calibration, revisions, quiet]) == [
            quiet,
            revisions,
            calibration,
        ]
        counts = early.signal_counts({1: [revisions, early.revisions_signal("Story", 4)], 2: []})
        assert counts == {"quiet": 0, "overdue": 0, "revisions": 1, "calibration": 0}
        assert revisions.text == "2 revision rounds on “Song”"
        assert early.revisions_signal("Song", 1).text == "1 revision round on “Song”"
        assert calibration.text == "Self-assessment 3 levels from the assessor’s on “Song”"
        assert early.reasons_text([revisions, calibration]) == (
            "2 revision rounds on “Song”; Self-assessment 3 levels from the assessor’s on “Song”"
        )


def test_the_words_are_translated_when_shown(app):
    signal = early.revisions_signal("Canción", 2)
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert "Canción" in signal.text and "revision" not in signal.text


# -- assessment's signals on the database ------------------------------------------------------


@pytest.fixture
def studio(app: Flask, issuer: Issuer) -> dict[str, Any]:
    melody = add_competency(issuer, "Melody", position=1)
    story = add_competency(issuer, "Story", position=2)
    grace = add_student(issuer, "grace@school.example")
    grace.role = "assessor"
    ada = add_student(issuer, "ada@school.example", cohort="Year 9")
    bob = add_student(issuer, "bob@school.example", cohort="Year 10")
    db.session.commit()
    return {"issuer": issuer, "melody": melody, "story": story, "grace": grace, "ada": ada,
            "bob": bob}  # fmt: skip


def test_revision_rounds_at_the_threshold_flag_the_competency(studio):
    ada, bob, grace = studio["ada"], studio["bob"], studio["grace"]
    work = add_submission(ada, studio["melody"], "revision_requested")
    revised(work, grace, 2)
    # Bob's two rounds are on two submissions of the same competency: they add up.
    first = add_submission(bob, studio["story"], "revision_requested", created=ago(days=20))
    second = add_submission(bob, studio["story"], "revision_requested")
    revised(first, grace, 1)
    revised(second, grace, 1)
    found = early.revision_signals(scope_of(studio["issuer"]), early.DEFAULTS, now=now())
    assert {sid: [s.detail["rounds"] for s in signals] for sid, signals in found.items()} == {
        ada.id: [2],
        bob.id: [2],
    }
    assert found[ada.id][0].detail["competency"] == "Melody"
    stricter = early.Thresholds(revision_rounds=3)
    assert early.revision_signals(scope_of(studio["issuer"]), stricter, now=now()) == {}
    # The competency filter and the cohort filter narrow the scope.
    story_only = scope_of(studio["issuer"], competency_id=studio["story"].id)
    assert set(early.revision_signals(story_only, early.DEFAULTS, now=now())) == {bob.id}
    year9 = scope_of(studio["issuer"], cohort="Year 9")
    assert set(early.revision_signals(year9, early.DEFAULTS, now=now())) == {ada.id}


def test_a_mastered_competency_is_no_longer_flagged_for_its_revisions(studio):
    from tests.portfolio.assessment.test_progress import add_mastery, issue_credential

    ada = studio["ada"]
    work = add_submission(ada, studio["melody"], "endorsed")
    revised(work, studio["grace"], 3)
    add_mastery(ada, studio["melody"], issue_credential(studio["issuer"]))
    assert early.revision_signals(scope_of(studio["issuer"]), early.DEFAULTS, now=now()) == {}


def test_the_self_assessment_is_compared_with_the_deciding_assessment_of_its_round(studio):
    ada, grace = studio["ada"], studio["grace"]
    daniel = add_student(studio["issuer"], "daniel@school.example")
    daniel.role = "assessor"
    work = add_submission(ada, studio["melody"], "revision_requested")
    add_self_assessment(work, 1, [3, 3])
    judged(work, daniel, 1, [3, 3], at=ago(days=3))
    judged(work, grace, 1, [1, 3], at=ago(days=2))  # the later one decided
    found = early.calibration_signals(scope_of(studio["issuer"]), early.DEFAULTS, now=now())
    assert [(s.code, s.detail["gap"]) for s in found[ada.id]] == [("calibration", 2)]
    assert (
        early.calibration_signals(
            scope_of(studio["issuer"]), early.Thresholds(calibration_gap=3), now=now()
        )
        == {}
    )


def test_only_the_latest_judged_round_counts_for_calibration(studio):
    ada, grace = studio["ada"], studio["grace"]
    work = add_submission(ada, studio["melody"], "resubmitted")
    add_self_assessment(work, 1, [3, 3])
    judged(work, grace, 1, [0, 3], at=ago(days=5))
    add_self_assessment(work, 2, [2, 3])
    judged(work, grace, 2, [2, 2], at=ago(days=1))
    # A self-assessment of a round no assessor has judged yet is not compared.
    add_self_assessment(work, 3, [0, 0])
    assert early.calibration_signals(scope_of(studio["issuer"]), early.DEFAULTS, now=now()) == {}


def test_another_schools_students_are_never_in_scope(app, studio):
    from portfolio.accounts.issuers import ensure_issuer

    other = ensure_issuer(did=OTHER_ISSUER_DID, name="Other School", slug="other")
    theirs = add_competency(other, "Theirs")
    stranger = add_student(other, "stranger@other.example")
    work = add_submission(stranger, theirs, "revision_requested")
    revised(work, studio["grace"], 3)
    assert early.revision_signals(scope_of(studio["issuer"]), early.DEFAULTS, now=now()) == {}
    assert set(early.revision_signals(scope_of(other), early.DEFAULTS, now=now())) == {stranger.id}


# -- thresholds --------------------------------------------------------------------------------


def test_a_school_without_thresholds_uses_the_defaults_and_saving_is_audited(app, studio):
    issuer, grace = studio["issuer"], studio["grace"]
    assert early.load_thresholds(issuer.id) == early.DEFAULTS
    values = {"quiet_days": 7, "revision_rounds": 3, "calibration_gap": 2}
    early.save_thresholds(issuer.id, values, actor=grace)
    db.session.commit()
    saved = early.load_thresholds(issuer.id)
    assert (saved.quiet_days, saved.revision_rounds, saved.calibration_gap) == (7, 3, 2)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "signal_thresholds_changed")
    )
    assert event is not None and event.actor_id == grace.id and event.issuer_id == issuer.id
    assert event.detail == {"changes": {"quiet_days": [14, 7], "revision_rounds": [2, 3]}}


def signed_in(app: Flask, email: str, role: str, *, issuer_did: str | None = None) -> Any:
    make_user(app, email, role, issuer_did=issuer_did)
    client = app.test_client()
    assert sign_in(client, email).status_code == 303
    return client


@pytest.fixture(autouse=True)
def _csrf_off(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


def test_administrators_see_and_change_the_thresholds(app, issuer):
    admin = signed_in(app, "alice@school.example", "admin")
    page = admin.get("/admin/signals").get_data(as_text=True)
    assert 'name="quiet_days"' in page and 'value="14"' in page
    assert "From 1 to 365. Default: 14." in page
    saved = admin.post(
        "/admin/signals", data={"quiet_days": "10", "revision_rounds": "3", "calibration_gap": "1"}
    )
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/admin/signals")
    page = admin.get("/admin/signals").get_data(as_text=True)
    assert "Thresholds saved" in page and 'value="10"' in page
    row = db.session.get(SignalThresholds, issuer.id)
    assert row is not None and (row.quiet_days, row.revision_rounds, row.calibration_gap) == (
        10,
        3,
        1,
    )


def test_a_threshold_out_of_range_comes_back_with_a_readable_error(app, issuer):
    admin = signed_in(app, "alice@school.example", "admin")
    refused = admin.post(
        "/admin/signals", data={"quiet_days": "0", "revision_rounds": "x", "calibration_gap": "2"}
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "There is a problem" in page and "Enter a whole number from 1 to 365." in page
    assert 'aria-invalid="true"' in page
    assert db.session.get(SignalThresholds, issuer.id) is None


def test_assessors_read_the_thresholds_on_the_cohort_page_but_cannot_change_them(app, issuer):
    assessor = signed_in(app, "grace@school.example", "assessor")
    assert assessor.get("/admin/signals").status_code == 403
    page = assessor.get("/cohort").get_data(as_text=True)
    assert "Flags use: 14 days without a submission while a plan item is due" in page
    assert "set by your school" in page and "/admin/signals" not in page
    student = signed_in(app, "ada@school.example", "student")
    assert student.get("/admin/signals").status_code == 403
    assert student.get("/cohort").status_code == 403


def test_thresholds_are_per_school(app, issuer):
    other_admin = signed_in(app, "olga@other.example", "admin", issuer_did=OTHER_ISSUER_DID)
    other_admin.post(
        "/admin/signals", data={"quiet_days": "30", "revision_rounds": "5", "calibration_gap": "4"}
    )
    assert early.load_thresholds(issuer.id) == early.DEFAULTS
    assessor = signed_in(app, "grace@school.example", "assessor")
    assert "Flags use: 14 days" in assessor.get("/cohort").get_data(as_text=True)


# -- the cohort view ---------------------------------------------------------------------------


@pytest.fixture
def flagged_school(app: Flask, issuer: Issuer) -> dict[str, Any]:
    """Ada (Year 9) has an overdue plan item and has been quiet; Bob (Year 10) had three
    revision rounds on Story; Cleo (Year 9) is fine."""
    client = signed_in(app, "grace@school.example", "assessor")
    grace = db.session.scalar(select(User).where(User.email == "grace@school.example"))
    melody = add_competency(issuer, "Melody", position=1)
    story = add_competency(issuer, "Story", position=2)
    ada = add_student(issuer, "ada@school.example", cohort="Year 9")
    bob = add_student(issuer, "bob@school.example", cohort="Year 10")
    add_student(issuer, "cleo@school.example", cohort="Year 9")
    db.session.add(
        PlanItem(student_id=ada.id, competency_id=melody.id, target_date=date(2020, 5, 1))
    )
    db.session.commit()
    work = add_submission(bob, story, "revision_requested")
    add_event(work, bob, "submitted", at=ago(days=1))
    revised(work, grace, 3)
    return {"client": client, "melody": melody, "story": story, "ada": ada, "bob": bob}


def attention(page: str) -> dict[str, str]:
    """``{student name: what their "Needs attention" cell says}`` on the matrix."""
    section = page.split('id="matrix-heading"')[1].split("</section>")[0]
    found = {}
    for part in section.split('<th scope="row">')[1:]:
        name = part.split("</a>")[0].split(">")[-1]  # the name links to her plan
        cell = part.split('class="signals">')[1].split("</td>")[0]
        text = " ".join(
            piece.split(">")[-1] for piece in cell.replace("</", "<").split("<") if ">" in piece
        )
        found[name] = " ".join(text.split())
    return found


def test_the_cohort_view_lists_each_flagged_students_reasons_in_words(flagged_school):
    page = flagged_school["client"].get("/cohort").get_data(as_text=True)
    cells = attention(page)
    assert cells["Ada"] == (
        "No recent submission No submission in 14 days while a plan item is due "
        "Overdue Plan item overdue: “Melody”, due May 1, 2020"
    )
    assert cells["Bob"] == "Many revisions 3 revision rounds on “Story”"
    assert cells["Cleo"] == "No flags"
    summary = page.split('id="attention-heading"')[1].split("</section>")[0]
    assert "2 students are flagged." in summary
    assert '<span class="pill pill-bad">Overdue</span> 1 student' in summary
    assert '<span class="pill pill-warn">Many revisions</span> 1 student' in summary
    assert "Self-assessment far off</span> 0 students" in summary
    assert 'href="/cohort?flagged=1"' in summary


def test_only_flagged_students_pages_over_the_flagged_and_keeps_the_other_filters(
    flagged_school,
):
    client = flagged_school["client"]
    page = client.get("/cohort", query_string={"flagged": "1"}).get_data(as_text=True)
    assert list(attention(page)) == ["Ada", "Bob"]
    assert (
        "(flagged students only)" in page
        and 'id="flagged" name="flagged" value="1" checked' in page
    )
    year9 = client.get("/cohort", query_string={"flagged": "1", "cohort": "Year 9"})
    assert list(attention(year9.get_data(as_text=True))) == ["Ada"]
    story = flagged_school["story"].public_id
    only_story = client.get("/cohort", query_string={"flagged": "1", "competency": story})
    assert list(attention(only_story.get_data(as_text=True))) == ["Bob"]
    bad = client.get("/cohort", query_string={"flagged": "yes please"})
    assert bad.status_code == 400 and "Only flagged students" in bad.get_data(as_text=True)


def test_flagged_students_are_paged_by_name(app, issuer):
    from portfolio.assessment import progress_pages

    client = signed_in(app, "grace@school.example", "assessor")
    seed_cohort(issuer, 8)
    old = progress_pages.PER_PAGE
    progress_pages.PER_PAGE = 3
    try:
        first = client.get("/cohort?flagged=1").get_data(as_text=True)
        second = client.get("/cohort?flagged=1&page=2").get_data(as_text=True)
    finally:
        progress_pages.PER_PAGE = old
    assert list(attention(first)) == ["Student 00000", "Student 00002", "Student 00004"]
    assert list(attention(second)) == ["Student 00006"]
    assert "(page 1 of 2)" in first and 'href="/cohort?page=2&amp;flagged=1"' in first


def read_csv(response: Any) -> list[list[str]]:
    text = response.get_data().decode("utf-8")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def test_the_csv_carries_every_reason_and_honours_the_flagged_filter(flagged_school):
    client = flagged_school["client"]
    header, *rows = read_csv(client.get("/cohort.csv"))
    assert header[-1] == "reasons"
    reasons = {row[0]: row[-1] for row in rows}
    assert reasons == {
        "Ada": "No submission in 14 days while a plan item is due; "
        "Plan item overdue: “Melody”, due May 1, 2020",
        "Bob": "3 revision rounds on “Story”",
        "Cleo": "",
    }
    _header, *flagged_rows = read_csv(client.get("/cohort.csv?flagged=1"))
    assert {row[0] for row in flagged_rows} == {"Ada", "Bob"}


def test_a_reason_cannot_become_a_spreadsheet_formula(flagged_school):
    client = flagged_school["client"]
    flagged_school["story"].name = "=HYPERLINK(1)"
    flagged_school["bob"].display_name = "@Bob"
    db.session.commit()
    _header, *rows = read_csv(client.get("/cohort.csv?flagged=1"))
    bob = next(row for row in rows if row[0] == "'@Bob")
    assert bob[-1] == "3 revision rounds on “=HYPERLINK(1)”"
    page = client.get("/cohort").get_data(as_text=True)
    assert "“=HYPERLINK(1)”" in page


def test_the_cohort_page_and_csv_speak_spanish(app, flagged_school):
    client = flagged_school["client"]
    grace = db.session.scalar(select(User).where(User.email == "grace@school.example"))
    grace.locale = "es"
    db.session.commit()
    # A fresh application context per request: the fixtures' one remembers the language.
    with app.app_context():
        page = client.get("/cohort").get_data(as_text=True)
    assert "Necesita atención" in page and "3 rondas de revisión en «Story»" in page
    with app.app_context():
        _header, *rows = read_csv(client.get("/cohort.csv"))
    assert {row[0]: row[-1] for row in rows}["Bob"] == "3 rondas de revisión en «Story»"


# -- the query budget --------------------------------------------------------------------------


def test_signals_and_the_cohort_page_take_the_same_queries_for_10_and_1000_students(app, issuer):
    client = signed_in(app, "grace@school.example", "assessor")
    sources = [early.revision_signals, early.calibration_signals, plan_signals]
    scope = scope_of(issuer)

    def run() -> tuple[int, int, int, int]:
        db.session.expire_all()
        with counting_queries() as computing:
            found = early.cohort_signals(
                scope, early.DEFAULTS, now=datetime.now(UTC), sources=sources
            )
        with counting_queries() as page:
            assert client.get("/cohort").status_code == 200
        with counting_queries() as flagged_page:
            assert client.get("/cohort?flagged=1").status_code == 200
        return len(found), len(computing), len(page), len(flagged_page)

    seed_cohort(issuer, 10, start=100_000)
    few = run()
    seed_cohort(issuer, 990, start=200_000)
    many = run()
    assert few[0] == 5 and many[0] == 500
    assert few[1:] == many[1:]
    # Each of the three sources: assessment's two take one query each, the plan's two.
    assert few[1] == 4


def test_the_scale_seed_flags_every_other_student_for_all_four_reasons(app, issuer):
    world = seed_cohort(issuer, 4)
    with app.test_request_context():
        found = early.cohort_signals(
            scope_of(issuer),
            early.DEFAULTS,
            now=now(),
            sources=[early.revision_signals, early.calibration_signals, plan_signals],
        )
    assert sorted(found) == world["flagged"]
    assert [s.code for s in found[world["flagged"][0]]] == list(early.CODES)
    assert db.session.scalar(select(Competency.id).where(Competency.id == world["story"].id))


def test_a_guardian_sees_no_flags_and_no_thresholds(app, issuer, flagged_school):
    guardian = signed_in(app, "gus@family.example", "guardian")
    for path in ("/cohort", "/cohort?flagged=1", "/cohort.csv", "/admin/signals"):
        assert guardian.get(path).status_code == 403, path
    refused = guardian.post("/admin/signals", data={"quiet_days": "1"})
    assert refused.status_code == 403
    assert db.session.get(SignalThresholds, issuer.id) is None
