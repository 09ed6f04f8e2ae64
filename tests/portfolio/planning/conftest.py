"""A school for the plan's tests: Sam (a student, interested in music) and Oli, an assessor
and an administrator, Gus (Sam's guardian) and Una (a guardian of nobody here), another
school's administrator; competencies with a prerequisite and a stack."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import flask
import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage

from portfolio.accounts import auth
from portfolio.accounts.issuers import ensure_issuer
from portfolio.accounts.models import LearnerProfile, User
from portfolio.catalogue.models import Competency, Prerequisite
from portfolio.core.db import db
from portfolio.demo.evidence import sine_melody_wav
from portfolio.guardians.models import GuardianLink
from tests.portfolio.school import School, competency, make_school, person, stack


@dataclass
class World:
    school: School
    story: Competency
    performance: Competency
    creator: Competency
    guardian: User
    stranger_guardian: User
    other_admin: User

    @property
    def sam(self) -> User:
        return self.school.student


@pytest.fixture(autouse=True)
def _csrf_off(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def world(issuer: Any) -> World:
    school = make_school(issuer)
    story = competency(issuer, "Storytelling", tags=["literacy"])
    performance = competency(issuer, "Performance", tags=["music", "stage"])
    db.session.add(Prerequisite(competency_id=performance.id, prerequisite_id=school.competency.id))
    creator = stack(issuer, "Creator", [school.competency, story])
    guardian = person(issuer, "guardian", "Gus Guardian")
    stranger = person(issuer, "guardian", "Una Unlinked")
    db.session.add(GuardianLink(guardian_id=guardian.id, student_id=school.student.id))
    db.session.add(LearnerProfile(user_id=school.student.id, interests="Folk music, the sea"))
    other = ensure_issuer(did="did:web:credfolio.test:schools:other", name="Other", slug="other")
    other_admin = person(other, "admin", "Otto Otheradmin")
    db.session.commit()
    return World(school, story, performance, creator, guardian, stranger, other_admin)


def signed_in(app: Flask, user: User) -> Any:
    """A test client with a session for ``user``."""
    client = app.test_client()
    with app.test_request_context():
        auth.sign_in(user)
        state = dict(flask.session)
        flask.g.pop("credfolio_user", None)
    with client.session_transaction() as session:
        session.update(state)
    return client


def wav() -> bytes:
    """A short, valid WAV recording (two notes)."""
    return sine_melody_wav([(60, 0.1), (64, 0.1)], rate=8000)


def upload(data: bytes, name: str, media_type: str = "application/octet-stream") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type=media_type)
