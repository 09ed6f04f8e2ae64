"""A small school for assessment tests: an issuer, people, a competency with a rubric, evidence.

Used by the assessment, issuing and page tests; everything is created through the models and
the services, as the application itself does.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from werkzeug.datastructures import FileStorage

from portfolio.accounts.models import Issuer, User
from portfolio.catalogue import rubrics
from portfolio.catalogue.models import Competency, StackComponent
from portfolio.core.db import db
from portfolio.core.hashing import password_hasher
from portfolio.evidence.artefacts import add_file_artefact, add_link_artefact
from portfolio.evidence.models import Evidence

PASSWORD = "correct horse battery staple"
#: A four-level rubric: every criterion at "Proficient" (index 2) or above is mastery.
LEVELS = [
    {"name": "Beginning", "points": 1},
    {"name": "Developing", "points": 2},
    {"name": "Proficient", "points": 3},
    {"name": "Advanced", "points": 4},
]
CRITERIA = [
    {
        "name": "Melody",
        "description": "A memorable, singable melody.",
        "levels": ["No clear melody", "A melody that wanders", "A clear melody", "A haunting one"],
    },
    {"name": "Reflection", "description": "What the student learnt.", "levels": []},
]
MIN_PROFICIENT = {"kind": "min_level", "level": 2}


@dataclass
class School:
    issuer: Issuer
    admin: User
    assessor: User
    second_assessor: User
    student: User
    other_student: User
    competency: Competency


def password_hash() -> str:
    """One argon2 hash (per hasher) for every test person (hashing is deliberately slow)."""
    return _password_hash(password_hasher())


@functools.cache
def _password_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(PASSWORD)


def person(issuer: Issuer, role: str, name: str, *, cohort: str | None = None) -> User:
    email = name.lower().replace(" ", ".") + "@school.test"
    user = User(
        email=email,
        password_hash=password_hash(),
        display_name=name,
        role=role,
        issuer_id=issuer.id,
        cohort=cohort,
    )
    db.session.add(user)
    db.session.commit()
    return user


def competency(issuer: Issuer, name: str, *, rubric: bool = True, **fields: Any) -> Competency:
    row = Competency(
        issuer_id=issuer.id,
        name=name,
        description=f"Shows {name.lower()}.",
        criteria_narrative=f"Submit evidence of {name.lower()}; it is judged against the rubric.",
        **fields,
    )
    db.session.add(row)
    db.session.commit()
    if rubric:
        rubrics.save_new_version(
            row, title=f"{name} rubric", levels=LEVELS, criteria=CRITERIA, rule=MIN_PROFICIENT
        )
        db.session.commit()
    return row


def stack(issuer: Issuer, name: str, components: list[Competency]) -> Competency:
    row = competency(issuer, name, rubric=False, is_stack=True, achievement_type="Badge")
    for component in components:
        db.session.add(StackComponent(stack_id=row.id, component_id=component.id))
    db.session.commit()
    return row


def evidence(
    owner: User, title: str, *, text: bytes = b"la la la", genre: str = "Song"
) -> Evidence:
    item = Evidence(owner_id=owner.id, title=title, narrative=f"How I made *{title}*.", genre=genre)
    db.session.add(item)
    db.session.flush()
    upload = FileStorage(io.BytesIO(text), filename="lyrics.txt", content_type="text/plain")
    add_file_artefact(item, upload, title=f"{title} (lyrics)")
    add_link_artefact(item, url="https://video.example/watch?v=1", title="Performance")
    db.session.commit()
    return item


def make_school(issuer: Issuer) -> School:
    return School(
        issuer=issuer,
        admin=person(issuer, "admin", "Ada Admin"),
        assessor=person(issuer, "assessor", "Asa Assessor"),
        second_assessor=person(issuer, "assessor", "Bea Second"),
        student=person(issuer, "student", "Sam Student", cohort="7B"),
        other_student=person(issuer, "student", "Oli Other", cohort="7C"),
        competency=competency(issuer, "Song writing"),
    )
