"""The demo's families (issue 17 §3): Maya and Tomás are minors; Grace, Maya's guardian, has
consented to Maya's public pages; Rui, Tomás's guardian, has not, so nothing of Tomás's is
public.  Idempotent, like the rest of the demo."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from portfolio.accounts.models import User
from portfolio.core.db import db, unit_of_work
from portfolio.guardians import service as guardians
from portfolio.guardians.consent import active_consent
from portfolio.guardians.models import GuardianLink

#: guardian key → the student keys they are linked to.
FAMILIES = {"grace": ("maya",), "rui": ("tomas",)}
#: The students the school marked as minors.
MINORS = ("maya", "tomas")
#: Guardians who gave consent for their (first) student.
CONSENTING = ("grace",)


def seed_families(people: Mapping[str, User]) -> None:
    """Link the guardians, mark the minors and record Grace's consent (one transaction)."""
    with unit_of_work(write=True):
        for guardian_key, student_keys in FAMILIES.items():
            guardian = people[guardian_key]
            for student_key in student_keys:
                student = people[student_key]
                linked = db.session.scalar(
                    select(GuardianLink.id).where(
                        GuardianLink.guardian_id == guardian.id,
                        GuardianLink.student_id == student.id,
                    )
                )
                if linked is None:
                    db.session.add(GuardianLink(guardian_id=guardian.id, student_id=student.id))
        for key in MINORS:
            people[key].minor = True
        db.session.flush()
        for guardian_key in CONSENTING:
            student = people[FAMILIES[guardian_key][0]]
            if active_consent(student) is None:
                guardians.give_consent(student, people[guardian_key])
