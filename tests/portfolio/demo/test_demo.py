"""`credfolio demo-setup`: a working demo school from an empty instance, safe to run again."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from portfolio.core.db import db
from tests.conftest import TEST_KEK
from wsgi import create_app


def _app(tmp_path: Path) -> Any:
    return create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            # Its own embedded database: the demo migrates, it must not touch a shared one.
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
        }
    )


def _snapshot(app: Any) -> dict[str, Any]:
    """Row counts of every table the demo writes, and each submission's and credential's state."""
    from portfolio.accounts.models import Issuer, LearnerProfile, Notification, User
    from portfolio.assessment.models import (
        Assessment,
        Mastery,
        PeerReview,
        SelfAssessment,
        Submission,
        SubmissionEvent,
    )
    from portfolio.catalogue.models import (
        Competency,
        CompetencyFramework,
        Prerequisite,
        RubricVersion,
        StackComponent,
    )
    from portfolio.evidence.models import Artefact, Evidence
    from portfolio.files.models import Blob
    from portfolio.issuing.models import (
        CredentialEvent,
        IssuedCredential,
        IssuerKeyRow,
        StatusListRow,
    )
    from portfolio.planning.models import JournalEntry, PlanComment, PlanItem

    tables = (
        Issuer,
        IssuerKeyRow,
        User,
        LearnerProfile,
        CompetencyFramework,
        Competency,
        Prerequisite,
        StackComponent,
        RubricVersion,
        Evidence,
        Artefact,
        Blob,
        Submission,
        SubmissionEvent,
        Assessment,
        Mastery,
        IssuedCredential,
        CredentialEvent,
        StatusListRow,
        Notification,
        SelfAssessment,
        PeerReview,
        PlanItem,
        JournalEntry,
        PlanComment,
    )
    with app.app_context():
        snapshot: dict[str, Any] = {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in tables
        }
        snapshot["submissions"] = sorted(
            (s.public_id, s.state, s.round) for s in db.session.scalars(select(Submission))
        )
        snapshot["credentials"] = sorted(
            (c.public_id, c.state) for c in db.session.scalars(select(IssuedCredential))
        )
        db.session.remove()
    return snapshot


@pytest.mark.slow
def test_demo_setup_seeds_a_school_that_verifies_and_is_idempotent(tmp_path: Path) -> None:
    app = _app(tmp_path)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo-setup"])
    assert first.exit_code == 0, first.output
    output = first.output

    # Every account's sign-in details, from the accounts file (owner-only), are printed.
    accounts_file = tmp_path / "demo-accounts.txt"
    assert accounts_file.stat().st_mode & 0o777 == 0o600
    accounts = [line.split() for line in accounts_file.read_text().splitlines()]
    assert Counter(role for role, _, _ in accounts) == {
        "admin": 1,
        "assessor": 2,
        "student": 4,
        "guardian": 2,
    }
    assert len({password for _, _, password in accounts}) == 9
    for role, email, password in accounts:
        label = {
            "admin": "Administrator:",
            "assessor": "Assessor:",
            "student": "Student:",
            "guardian": "Guardian:",
        }[role]
        assert f"{label:<14} {email} / {password}" in output
    assert "Administrator: admin@demo.credfolio.test / " in output
    assert "Public credential (Maya, Song writing):" in output
    for path in ("/sign-in", "/review", "/progress", "http://127.0.0.1:5000/c/"):
        assert path in output

    before = _snapshot(app)
    second = runner.invoke(args=["demo-setup"])
    assert second.exit_code == 0, second.output
    assert "Demo school: already seeded, nothing added." in second.output
    assert _snapshot(app) == before  # nothing twice, nothing changed
    assert [line.split() for line in accounts_file.read_text().splitlines()] == accounts
    assert "Administrator: admin@demo.credfolio.test / " in second.output

    with app.app_context():
        _check_school(app, {email: password for _, email, password in accounts})
        # What an administrator changes in the demo catalogue stays changed.
        from portfolio.catalogue.models import Prerequisite

        db.session.query(Prerequisite).delete()
        db.session.commit()
        db.session.remove()
    third = runner.invoke(args=["demo-setup"])
    assert third.exit_code == 0, third.output
    assert "nothing added" in third.output
    with app.app_context():
        assert db.session.query(Prerequisite).count() == 0
        db.session.remove()
        db.engine.dispose()


def _check_school(app: Any, passwords: dict[str, str]) -> None:
    from portfolio.accounts import sign_in_service
    from portfolio.accounts.models import LearnerProfile, User
    from portfolio.assessment.models import Mastery, Submission
    from portfolio.catalogue import rubrics
    from portfolio.catalogue.models import Competency, CompetencyFramework
    from portfolio.evidence.models import Artefact
    from portfolio.issuing.models import IssuedCredential

    # People: passwords work, students are in two cohorts and have profiles.
    for email, password in passwords.items():
        assert sign_in_service.authenticate(email, password) is not None, email
    students = db.session.scalars(select(User).where(User.role == "student")).all()
    assert Counter(s.cohort for s in students) == {"Year 8 Willow": 2, "Year 8 Rowan": 2}
    assert all(db.session.get(LearnerProfile, s.id) is not None for s in students)

    # The catalogue: a framework, five competencies and a stack, rubrics of both rule kinds.
    (framework,) = db.session.scalars(select(CompetencyFramework)).all()
    competencies = {c.name: c for c in framework.competencies}
    assert set(competencies) == {
        "Song writing",
        "Storytelling",
        "Performance",
        "Project design",
        "Reflection",
        "Young creator",
    }
    assert [p.name for p in competencies["Performance"].prerequisites] == ["Song writing"]
    creator = competencies["Young creator"]
    assert creator.is_stack and [c.name for c in creator.components] == [
        "Song writing",
        "Storytelling",
    ]
    assert competencies["Project design"].required_endorsements == 2
    kinds = set()
    for competency in competencies.values():
        version = rubrics.current_version(competency)
        if competency.is_stack:
            assert version is None
            continue
        assert version is not None and len(version.levels) == 4
        assert 2 <= len(version.criteria) <= 4
        assert competency.tags and competency.alignments and competency.criteria_narrative
        kinds.add(version.mastery_rule["kind"])
    assert kinds == {"min_level", "points"}

    # Real files: a WAV song of about three seconds, a PNG with a thumbnail, Markdown, links.
    artefacts = db.session.scalars(select(Artefact)).all()
    wavs = [a for a in artefacts if a.media_type == "audio/wav"]
    assert wavs and all(2.5 <= (a.duration_seconds or 0) <= 4 for a in wavs)
    pngs = [a for a in artefacts if a.media_type == "image/png"]
    assert pngs and all(a.thumbnail_sha256 and a.alt_text for a in pngs)
    assert any(a.media_type == "text/markdown" for a in artefacts)
    assert any(a.kind == "link" and a.url for a in artefacts)

    # Submissions in their states; one flagged by the moderators' disagreement.
    submissions = db.session.scalars(select(Submission)).all()
    assert Counter(s.state for s in submissions) == {
        "endorsed": 5,
        "submitted": 1,
        # Leo's song, and Priya's reflection after two rounds (portfolio/demo/signals.py).
        "revision_requested": 2,
        "in_review": 1,
        "draft": 1,
        "not_yet": 1,
    }
    (flagged,) = [s for s in submissions if s.flagged_at is not None]
    assert flagged.state == "in_review" and flagged.competency.name == "Project design"
    assert {a.decision for a in flagged.assessments} == {"endorse", "revise"}
    revised = next(s for s in submissions if s.state == "revision_requested")
    assert revised.assessments[-1].feedback
    resubmitted = next(
        s for s in submissions if s.state == "endorsed" and s.competency.name == "Song writing"
    )
    assert resubmitted.round == 2  # endorsed after a revision round

    # Credentials: five masteries and one stack badge; all verify, except the one revoked,
    # which fails on exactly that check.  The school does not offer suspension.
    credentials = db.session.scalars(select(IssuedCredential)).all()
    assert len(credentials) == 6
    assert Counter(c.state for c in credentials) == {"active": 5, "revoked": 1}
    verifier = app.extensions["credfolio"].verifier()
    for row in credentials:
        result = verifier.verify(json.loads(row.document))
        failed = {c.name for c in result.checks if c.status not in ("passed", "not-applicable")}
        if row.state == "active":
            assert result.verified, result.errors
        else:
            assert failed == {"revocation"} and row.revocation_reason
    maya = db.session.scalar(select(User).where(User.email == "maya.okafor@demo.credfolio.test"))
    badge = db.session.scalar(
        select(Mastery).where(Mastery.student_id == maya.id, Mastery.competency_id == creator.id)
    )
    assert badge is not None and badge.credential.achievement_name == "Young creator"
    moderated = next(
        s for s in submissions if s.state == "endorsed" and s.competency.name == "Project design"
    )
    document = json.loads(moderated.credential.document)
    assert len(document["endorsement"]) == 2  # both assessors' endorsements, signed

    # Pages work on the seeded data.
    client = app.test_client()
    page = client.get(f"/c/{resubmitted.credential.public_id}")
    assert page.status_code == 200 and "Song writing" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Competency)) == 6


def test_a_new_public_url_for_an_existing_demo_is_refused_with_what_to_do(tmp_path: Path) -> None:
    """Issue 18 §6: `PORT=8000 scripts/demo` after a first run on port 5000 died with an
    IntegrityError on issuers.slug."""
    first = _app(tmp_path)
    assert first.test_cli_runner().invoke(args=["demo-setup"]).exit_code == 0
    moved = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SQLALCHEMY_DATABASE_URI": first.config["SQLALCHEMY_DATABASE_URI"],
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            "CREDFOLIO_PUBLIC_URL": "http://127.0.0.1:8000",
        }
    )
    result = moved.test_cli_runner().invoke(args=["demo-setup"])
    assert result.exit_code == 1
    assert "this database's issuer is did:web:" in result.output
    assert "CREDFOLIO_ISSUER_DID=" in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
