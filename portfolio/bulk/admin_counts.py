"""The administrators' home counts of the packages above issuing: evidence items,
submissions waiting for an assessor, and bulk jobs still running.  Registered with
:func:`portfolio.issuing.admin_home.register_count` when the bulk pages are imported (bulk sits
above evidence and assessment, so it may name their tables)."""

from __future__ import annotations

from sqlalchemy import ScalarSelect, func, select

from portfolio.accounts.models import User
from portfolio.assessment.models import Submission, SubmissionState
from portfolio.bulk.models import BulkJob
from portfolio.bulk.states import ACTIVE
from portfolio.evidence.models import Evidence
from portfolio.issuing.admin_home import register_count

#: Submissions an assessor has to look at.
WAITING = (SubmissionState.SUBMITTED, SubmissionState.IN_REVIEW, SubmissionState.RESUBMITTED)


def evidence_items(issuer_id: int) -> ScalarSelect[int]:
    """Evidence items of the issuer's people."""
    return (
        select(func.count(Evidence.id))
        .where(Evidence.owner_id.in_(select(User.id).where(User.issuer_id == issuer_id)))
        .scalar_subquery()
    )


def submissions_waiting(issuer_id: int) -> ScalarSelect[int]:
    """Submissions of the issuer's students waiting for (or in) review."""
    return (
        select(func.count(Submission.id))
        .where(
            Submission.state.in_(WAITING),
            Submission.student_id.in_(select(User.id).where(User.issuer_id == issuer_id)),
        )
        .scalar_subquery()
    )


def jobs_running(issuer_id: int) -> ScalarSelect[int]:
    """Bulk jobs of the issuer queued or running."""
    return (
        select(func.count(BulkJob.id))
        .where(BulkJob.issuer_id == issuer_id, BulkJob.state.in_(ACTIVE))
        .scalar_subquery()
    )


register_count("evidence", evidence_items)
register_count("submissions_waiting", submissions_waiting)
register_count("jobs_running", jobs_running)
