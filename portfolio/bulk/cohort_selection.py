"""Whom a cohort endorsement issues to: every student of the cohort is listed with a checkbox,
and the ones whose credential for the competency was revoked are left out unless the assessor
ticks them — a revocation is a decision, and a bulk job must not quietly undo it.

:func:`cohort_candidates` lists the students with what the job would do for each;
:func:`chosen_students` checks a posted selection against that list.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select

from portfolio.accounts.models import User
from portfolio.assessment.mastery import missing_prerequisites
from portfolio.assessment.models import Mastery
from portfolio.bulk.errors import BulkError
from portfolio.catalogue.models import Competency
from portfolio.core.db import db
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.issuing.models import IssuedCredential


@dataclass(frozen=True)
class Candidate:
    """A student of the cohort: ticked by default or not, and what the page says about them
    (why they are left out, or what the job will do)."""

    student: User
    chosen_by_default: bool
    note: str | None = None
    #: Their credential for the competency was revoked (ticking them issues it again).
    revoked: bool = False


def revoked_note(credential: IssuedCredential) -> str:
    """Why a student is left out: their credential was revoked, when and why."""
    when = credential.revoked_at.strftime("%-d %B %Y") if credential.revoked_at else "earlier"
    reason = f": {credential.revocation_reason}" if credential.revocation_reason else ""
    return f"left out: their credential for it was revoked on {when}{reason}"


def _credentials_held(competency: Competency, ids: Collection[int]) -> dict[int, IssuedCredential]:
    """``{student id: the credential of their mastery of competency}`` (one query)."""
    rows = db.session.execute(
        select(Mastery.student_id, IssuedCredential)
        .join(IssuedCredential, IssuedCredential.id == Mastery.credential_id)
        .where(Mastery.competency_id == competency.id, Mastery.student_id.in_(list(ids)))
    ).all()
    return {student_id: credential for student_id, credential in rows}


def cohort_candidates(competency: Competency, students: list[User]) -> list[Candidate]:
    """Each of ``students`` (the cohort, by name) with the job's default choice and a note."""
    credentials = _credentials_held(competency, [s.id for s in students])
    candidates = []
    for student in students:
        credential = credentials.get(student.id)
        if credential is not None and credential.state == "revoked":
            candidates.append(Candidate(student, False, revoked_note(credential), revoked=True))
        elif credential is not None:
            candidates.append(
                Candidate(student, True, f"already holds it ({credential.state}): skipped")
            )
        else:
            missing = missing_prerequisites(student, competency)
            names = ", ".join(f"“{c.name}”" for c in missing)
            note = f"prerequisite not mastered yet: {names}" if missing else None
            candidates.append(Candidate(student, True, note))
    return candidates


def chosen_students(candidates: list[Candidate], posted: Collection[str] | None) -> list[Candidate]:
    """The candidates the assessor ticked (``posted``: student ids as sent), or the default
    choice when nothing was posted at all (None).  Raises
    :class:`~portfolio.bulk.errors.BulkError` for an id that is not one of the cohort's and
    for an empty choice."""
    if posted is None:
        chosen = [c for c in candidates if c.chosen_by_default]
    else:
        by_id = {str(c.student.id): c for c in candidates}
        unknown = [value for value in posted if value not in by_id]
        if unknown:
            raise BulkError(_l("one of the chosen students is not in this cohort"))
        wanted = set(posted)
        chosen = [c for c in candidates if str(c.student.id) in wanted]
    if not chosen:
        raise BulkError(_l("choose at least one student to endorse"))
    return chosen
