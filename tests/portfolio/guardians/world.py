"""A school with a minor and her guardian, for the guardians tests: Mia (a minor, Sam in the
school's helpers) has an endorsed credential with frozen evidence, a public portfolio and one
shared by link; Gwen is her guardian and has consented; Uma is a guardian linked to nobody."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.accounts.issuers import default_issuer
from portfolio.accounts.models import User
from portfolio.assessment import service as assessment
from portfolio.core.db import db, unit_of_work
from portfolio.evidence.snapshots import snapshots_of
from portfolio.guardians import service as consents
from portfolio.guardians.consent import active_consent
from portfolio.guardians.models import GuardianLink
from portfolio.portfolios.models import Portfolio, PortfolioItem, PortfolioSection
from portfolio.portfolios.service import new_share_slug
from tests.portfolio.school import evidence, make_school, person
from tests.portfolio.security_world import client_with, module_app, session_cookie


@dataclass
class Family:
    app: Flask
    ids: dict[str, Any] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    def client(self, who: str | None = None) -> Any:
        """A test client signed in as ``who`` (a key of ``emails``), or anonymous."""
        cookie = session_cookie(self.app, self.emails[who]) if who else None
        return client_with(self.app, cookie)

    def user(self, who: str) -> User:
        found = db.session.scalar(select(User).where(User.email == self.emails[who]))
        assert found is not None
        return found

    def withdraw(self) -> None:
        with self.app.app_context(), unit_of_work():
            consents.withdraw_consent(self.user("student"), self.user("guardian"))

    def give(self) -> None:
        with self.app.app_context():
            student = self.user("student")
            if active_consent(student) is None:
                with unit_of_work():
                    consents.give_consent(student, self.user("guardian"))


def _portfolio(owner: User, item: Any, *, title: str, visibility: str) -> Portfolio:
    row = Portfolio(
        owner_id=owner.id,
        title=title,
        cover_text="",
        visibility=visibility,
        share_slug=new_share_slug() if visibility == "link" else None,
    )
    section = PortfolioSection(title="Songs", position=0)
    section.items.append(PortfolioItem(evidence=item, position=0))
    row.sections.append(section)
    db.session.add(row)
    db.session.commit()
    return row


def build_family(app: Flask) -> Family:
    family = Family(app=app)
    ids = family.ids
    with app.app_context():
        issuer = default_issuer()
        app.extensions["credfolio"].key_store.create(issuer.did)
        school = make_school(issuer)
        mia = school.student
        mia.minor = True
        gwen = person(issuer, "guardian", "Gwen Guardian")
        uma = person(issuer, "guardian", "Uma Unlinked")
        db.session.add(GuardianLink(guardian_id=gwen.id, student_id=mia.id))
        db.session.commit()
        with unit_of_work():
            consents.give_consent(mia, gwen)
        song = evidence(mia, "My song")
        done = assessment.create_submission(
            mia, school.competency, evidence_ids=[song.public_id], submit=True
        )
        assessment.assess(done, school.assessor, decision="endorse", levels=[2, 2])
        db.session.refresh(done)
        credential = done.credential
        assert credential is not None
        (frozen,) = snapshots_of(credential)
        public = _portfolio(mia, song, title="Songbook", visibility="public")
        linked = _portfolio(mia, song, title="Drafts", visibility="link")
        ids.update(
            credential=credential.public_id,
            status_list=credential.revocation_list.public_id,
            frozen=frozen.public_id,
            frozen_file=frozen.artefacts[0].public_id,
            public=public.public_id,
            public_file=song.artefacts[0].public_id,
            slug=linked.share_slug,
            linked=linked.public_id,
            mia=mia.id,
            oli=school.other_student.id,
            gwen=gwen.id,
            uma=uma.id,
            document=credential.document,
        )
        family.emails = {
            "student": mia.email,
            "other_student": school.other_student.email,
            "admin": school.admin.email,
            "assessor": school.assessor.email,
            "guardian": gwen.email,
            "unlinked_guardian": uma.email,
        }
    return family


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Family]:
    with module_app(Path(tmp_path_factory.mktemp("family"))) as app:
        yield build_family(app)
