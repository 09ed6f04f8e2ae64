"""The kinds of bulk job (see :mod:`portfolio.bulk.jobs` for how they run):

* ``cohort_endorsement`` — an assessor or administrator endorses one competency for every
  student of a cohort, with one rubric judgement and feedback.  Each student gets what a
  one-by-one endorsement gives (:func:`portfolio.assessment.service.assess`): a submission endorsed
  with an :class:`~portfolio.assessment.models.Assessment`, the signed credential carrying the
  assessor's
  own endorsement, the mastery, any stack badge it completes, a notice.  A student's open
  submission awaiting assessment is the one endorsed (its evidence goes into the credential);
  otherwise a submission is recorded for the cohort endorsement.  A student who already holds
  the mastery is skipped — the unique (student, competency) key of masteries makes issuing
  twice impossible.  The job issues only to the students chosen on its page
  (:mod:`portfolio.bulk.cohort_selection`): a student whose credential for the competency was
  revoked is left out unless ticked, and a revocation made while the job runs is respected.
* ``csv_issue`` — one credential per row of a CSV file (:mod:`portfolio.bulk.csv_file`): the
  competency's Achievement, to the person the row names.  When the email is a student account
  of the issuer, the credential is linked to it and the mastery recorded.  Each row's
  idempotency key is stored with its credential (``IdempotencyRecord`` of the client
  ``bulk-csv:<issuer>``), so a row is never issued twice, even from a new job.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, or_, select

from credentials import build
from portfolio.accounts import recipient_identity
from portfolio.accounts.models import Issuer, RecipientIdentity, Role, User
from portfolio.accounts.notifications import Mail, send_mail
from portfolio.assessment import credentials as issuing
from portfolio.assessment.endorsement import (
    credit_mastery,
    endorse,
    record_assessment,
    round_assessments,
)
from portfolio.assessment.errors import AssessmentError
from portfolio.assessment.events import transition
from portfolio.assessment.judgement import Judgement, check_judgement
from portfolio.assessment.mastery import mastered, missing_prerequisites
from portfolio.assessment.models import (
    Decision,
    Mastery,
    Submission,
    SubmissionEvent,
    SubmissionState,
)
from portfolio.assessment.states import AWAITING_ASSESSMENT
from portfolio.bulk.cohort_selection import (
    Candidate,
    chosen_students,
    cohort_candidates,
    revoked_note,
)
from portfolio.bulk.csv_file import file_digest, parse_issue_csv
from portfolio.bulk.errors import BulkError, BulkNotFoundError, ItemProblem
from portfolio.bulk.items import Handler, ItemResult
from portfolio.bulk.models import BulkJob, BulkJobItem, ItemState
from portfolio.bulk.states import ACTIVE
from portfolio.catalogue.achievements import achievement_for
from portfolio.catalogue.models import Competency, RubricVersion
from portfolio.catalogue.rubrics import current_version
from portfolio.core import audit
from portfolio.core.db import db, unit_of_work
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.models import new_public_id
from portfolio.issuing.models import IdempotencyRecord, IssuedCredential
from portfolio.issuing.service import ServiceConfig, issue_in_transaction

ASSESSORS = (Role.ASSESSOR, Role.ADMIN)
COHORT_ENDORSEMENT = "cohort_endorsement"
CSV_ISSUE = "csv_issue"
KIND_LABELS = {COHORT_ENDORSEMENT: "Cohort endorsement", CSV_ISSUE: "Issue from CSV"}


def _request_key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _open_job(request_key: str) -> BulkJob | None:
    job: BulkJob | None = db.session.scalar(
        select(BulkJob)
        .where(BulkJob.request_key == request_key, BulkJob.state.in_(ACTIVE))
        .order_by(BulkJob.id.desc())
        .limit(1)
    )
    return job


def _add_items(job: BulkJob, rows: list[dict[str, object]]) -> None:
    db.session.execute(
        insert(BulkJobItem),
        [{"job_id": job.id, "state": ItemState.PENDING, "message": "", **row} for row in rows],
    )


def _send(outbox: list[Mail]) -> list[Callable[[], None]]:
    """The item's after-commit action: mail the notices (none when there are none)."""
    return [lambda: send_mail(outbox)] if outbox else []


# -- cohort endorsement ----------------------------------------------------------------------


def may_endorse(user: User | None, competency: Competency) -> bool:
    """Assessors and administrators of the competency's issuer (the queue's rule)."""
    return (
        user is not None
        and user.is_active
        and user.role in ASSESSORS
        and user.issuer_id == competency.issuer_id
    )


def cohort_students(issuer_id: int, cohort: str) -> list[User]:
    """The active students of the cohort, by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.issuer_id == issuer_id,
                User.role == Role.STUDENT,
                User.cohort == cohort,
                User.disabled_at.is_(None),
                User.deleted_at.is_(None),
            )
            .order_by(User.display_name, User.id)
        )
    )


@dataclass(frozen=True)
class CohortPlan:
    """A checked cohort endorsement, before its job exists: what the confirm step shows."""

    competency: Competency
    cohort: str
    version: RubricVersion | None
    judgement: Judgement
    chosen: list[Candidate]


def plan_cohort_endorsement(
    starter: User,
    competency: Competency,
    cohort: str,
    *,
    levels: Sequence[object] = (),
    criterion_feedback: Sequence[str] = (),
    feedback: str = "",
    students: Collection[str] | None = None,
) -> CohortPlan:
    """Check a cohort endorsement and the students it would issue to, without starting it.

    ``students`` are the ids of the students ticked on the page; None takes the default
    choice (everyone but those whose credential for it was revoked).

    Raises :class:`~portfolio.bulk.errors.BulkError`: not found for a competency the starter
    may not endorse; invalid for an inconsistent judgement, an empty cohort or choice, a
    student not in the cohort, or a competency needing several assessors when the starter is
    not an administrator.
    """
    cohort = _check_cohort_request(starter, competency, cohort)
    version = current_version(competency)
    try:
        judgement = check_judgement(
            version, list(levels), list(criterion_feedback), feedback, Decision.ENDORSE
        )
    except AssessmentError as exc:
        raise BulkError(exc.message) from None
    everyone = cohort_students(competency.issuer_id, cohort)
    if not everyone:
        raise BulkError(_l("the cohort “%(cohort)s” has no students", cohort=cohort))
    chosen = chosen_students(cohort_candidates(competency, everyone), students)
    return CohortPlan(competency, cohort, version, judgement, chosen)


def start_cohort_endorsement(
    starter: User,
    competency: Competency,
    cohort: str,
    *,
    levels: Sequence[object] = (),
    criterion_feedback: Sequence[str] = (),
    feedback: str = "",
    students: Collection[str] | None = None,
) -> tuple[BulkJob, bool]:
    """The job endorsing ``competency`` for the chosen students of ``cohort`` (committed), and
    whether it is new: the same request while its job is open returns that job.  Checked and
    refused as :func:`plan_cohort_endorsement` says."""
    plan = plan_cohort_endorsement(
        starter,
        competency,
        cohort,
        levels=levels,
        criterion_feedback=criterion_feedback,
        feedback=feedback,
        students=students,
    )
    ids = sorted(c.student.id for c in plan.chosen)
    key = _request_key(
        COHORT_ENDORSEMENT, competency.issuer_id, competency.id, plan.cohort, starter.id, ids
    )
    existing = _open_job(key)
    if existing is not None:
        return existing, False
    # The assessor's signing identity is made (and committed) before any item's transaction.
    issuing.endorser_issuer(starter)
    version, judgement = plan.version, plan.judgement
    with unit_of_work(write=True):
        job = _add_cohort_job(
            starter,
            competency,
            plan.cohort,
            key,
            [c.student for c in plan.chosen],
            {
                "competency_id": competency.id,
                "cohort": plan.cohort,
                "assessor_id": starter.id,
                "rubric_version_id": version.id if version is not None else None,
                "levels": judgement.levels,
                "criterion_feedback": judgement.criterion_feedback,
                "feedback": judgement.feedback,
                # Ticked although their credential for it was revoked: issued again.
                "include_revoked": _revoked_ids(plan.chosen),
            },
        )
    return job, True


def _revoked_ids(chosen: Sequence[Candidate]) -> list[int]:
    return [c.student.id for c in chosen if c.revoked]


def _check_cohort_request(starter: User, competency: Competency, cohort: str) -> str:
    """The cohort's name, once the starter may endorse the competency for a whole cohort."""
    if not may_endorse(starter, competency) or competency.archived_at is not None:
        raise BulkNotFoundError(_l("no such competency"))
    if competency.is_stack:
        raise BulkError(_l("a stack badge is issued when its competencies are mastered"))
    if competency.required_endorsements > 1 and not starter.is_admin:
        raise BulkError(
            _l(
                "“%(name)s” needs %(num)d assessors to agree: endorse its submissions in the "
                "queue, or ask an administrator",
                name=competency.name,
                num=competency.required_endorsements,
            )
        )
    cohort = (cohort or "").strip()
    if not cohort:
        raise BulkError(_l("choose a cohort"))
    return cohort


def _add_cohort_job(
    starter: User,
    competency: Competency,
    cohort: str,
    key: str,
    students: list[User],
    params: dict[str, object],
) -> BulkJob:
    """Add the job, one item per student and its audit event (in the caller's transaction)."""
    job = BulkJob(
        kind=COHORT_ENDORSEMENT,
        issuer_id=competency.issuer_id,
        started_by_id=starter.id,
        title=f"Endorse “{competency.name}” for cohort “{cohort}”",
        request_key=key,
        params=params,
        total=len(students),
    )
    db.session.add(job)
    db.session.flush()
    _add_items(
        job,
        [
            {
                "row": position,
                "key": f"student:{student.id}",
                "label": f"{student.display_name} <{student.email}>",
                "data": {"student_id": student.id},
            }
            for position, student in enumerate(students, start=1)
        ],
    )
    audit.record(
        "bulk_job_started",
        actor=starter,
        issuer_id=job.issuer_id,
        target=f"job:{job.public_id}",
        detail={"kind": job.kind, "competency": competency.public_id, "cohort": cohort},
    )
    return job


def _awaiting_submission(student: User, competency: Competency) -> Submission | None:
    row: Submission | None = db.session.scalar(
        select(Submission)
        .where(
            Submission.student_id == student.id,
            Submission.competency_id == competency.id,
            Submission.state.in_(AWAITING_ASSESSMENT),
        )
        .order_by(Submission.id)
        .limit(1)
        .with_for_update()
    )
    return row


def endorse_item(job: BulkJob, item: BulkJobItem) -> ItemResult:
    """Endorse one student of the cohort (inside the item's transaction): what a one-by-one
    endorsement does, with the job's judgement."""
    params = job.params
    competency, assessor, student = _endorsement_parties(params, item)
    held = mastered(student, competency)
    if held is not None:
        return ItemResult(ItemState.SKIPPED, "already mastered", held.credential_id)
    revoked = _revoked_credential(student, competency)
    if revoked is not None and student.id not in (params.get("include_revoked") or []):
        # Revoked after the job was started, or before it without being ticked.
        return ItemResult(ItemState.SKIPPED, revoked_note(revoked), revoked.id)
    missing = missing_prerequisites(student, competency)
    if missing:
        names = ", ".join(f"“{c.name}”" for c in missing)
        raise ItemProblem(f"prerequisite not mastered yet: {names}")
    version_id = params.get("rubric_version_id")
    version = db.session.get(RubricVersion, version_id) if version_id else None
    submission = _cohort_submission(student, competency, assessor, str(params["cohort"]))
    judgement = Judgement(
        levels=list(params.get("levels") or []),
        criterion_feedback=list(params.get("criterion_feedback") or []),
        feedback=params.get("feedback") or "",
    )
    record_assessment(submission, assessor, version, Decision.ENDORSE, judgement)
    outbox: list[Mail] = []
    try:
        endorsed = endorse(submission, assessor, outbox, cohort=str(params["cohort"]))
    except (AssessmentError, issuing.IssuingError) as exc:
        raise ItemProblem(exc.message) from None
    message = "endorsed: credential issued"
    if endorsed.stacks:
        message += f", and {len(endorsed.stacks)} stack badge(s)"
    return ItemResult(ItemState.DONE, message, endorsed.credential.id, _send(outbox))


def _revoked_credential(student: User, competency: Competency) -> IssuedCredential | None:
    """The student's revoked credential for ``competency``, when their mastery's is."""
    credential: IssuedCredential | None = db.session.scalar(
        select(IssuedCredential)
        .join(Mastery, Mastery.credential_id == IssuedCredential.id)
        .where(
            Mastery.student_id == student.id,
            Mastery.competency_id == competency.id,
            IssuedCredential.revoked_at.is_not(None),
        )
    )
    return credential


def _endorsement_parties(
    params: Mapping[str, Any], item: BulkJobItem
) -> tuple[Competency, User, User]:
    """The job's competency and assessor and the item's student, each checked still fit."""
    competency = db.session.get(Competency, params["competency_id"])
    if competency is None or competency.archived_at is not None:
        raise ItemProblem("the competency has been archived")
    assessor = db.session.get(User, params["assessor_id"])
    if assessor is None or not may_endorse(assessor, competency):
        raise ItemProblem("the person who started the job may no longer endorse it")
    student = db.session.get(User, item.data.get("student_id"))
    if (
        student is None
        or student.deleted_at is not None
        or not student.is_active
        or student.role != Role.STUDENT
        or student.issuer_id != competency.issuer_id
    ):
        raise ItemProblem("no longer a student of this school")
    return competency, assessor, student


def _cohort_submission(
    student: User, competency: Competency, assessor: User, cohort: str
) -> Submission:
    """The student's open submission awaiting assessment, put in review, or a new one
    recorded for the cohort endorsement."""
    reason = f"Cohort endorsement of “{cohort}” by {assessor.display_name}"
    submission = _awaiting_submission(student, competency)
    if submission is None:
        now = datetime.now(UTC)
        submission = Submission(
            student_id=student.id,
            competency_id=competency.id,
            note=f"Endorsed with the cohort “{cohort}”.",
            state=SubmissionState.IN_REVIEW,
            round=1,
            submitted_at=now,
        )
        db.session.add(submission)
        db.session.flush()
        db.session.add(
            SubmissionEvent(
                submission_id=submission.id,
                from_state=None,
                to_state=SubmissionState.IN_REVIEW,
                actor_id=assessor.id,
                reason=reason,
                at=now,
            )
        )
    elif any(a.assessor_id == assessor.id for a in round_assessments(submission)):
        raise ItemProblem("you already assessed this student's open submission")
    elif submission.state != SubmissionState.IN_REVIEW:
        transition(submission, SubmissionState.IN_REVIEW, assessor, reason)
    return submission


# -- issuing from a CSV file -----------------------------------------------------------------


def start_csv_issue(
    data: bytes,
    *,
    filename: str,
    issuer: Issuer,
    actor_label: str = "cli",
    started_by: User | None = None,
) -> tuple[BulkJob, bool]:
    """The job issuing the file's rows for ``issuer`` (committed), and whether it is new.

    The same file for the same issuer is the same job, whatever its state: running it again
    resumes it (the caller may give its failed rows another chance with
    :func:`portfolio.bulk.jobs.reopen_failed`).  Raises
    :class:`~portfolio.bulk.csv_file.IssueFileError`, or
    :class:`~portfolio.bulk.errors.BulkError` for a file without data rows.
    """
    rows = parse_issue_csv(data)
    digest = file_digest(data)
    key = _request_key(CSV_ISSUE, issuer.id, digest)
    existing = _latest_job(key)
    if existing is not None:
        return existing, False
    if not rows:
        raise BulkError(_l("the file has no data rows"))
    with unit_of_work(write=True):
        job = _add_csv_job(issuer, filename, key, digest, len(rows), actor_label, started_by)
        _add_items(
            job,
            [
                {
                    "row": row.line,
                    "key": row.key,
                    "label": f"{row.name} <{row.email}>" if row.email else row.name,
                    "data": {
                        "name": row.name,
                        "email": row.email,
                        "competency": row.competency,
                        "problem": row.problem,
                    },
                }
                for row in rows
            ],
        )
        audit.record(
            "bulk_job_started",
            actor=started_by,
            actor_label=None if started_by is not None else actor_label,
            issuer_id=issuer.id,
            target=f"job:{job.public_id}",
            detail={"kind": job.kind, "file": job.params["file"], "sha256": digest},
        )
    return job, True


def _latest_job(request_key: str) -> BulkJob | None:
    """The newest job of the request, whatever its state."""
    job: BulkJob | None = db.session.scalar(
        select(BulkJob)
        .where(BulkJob.request_key == request_key)
        .order_by(BulkJob.id.desc())
        .limit(1)
    )
    return job


def _add_csv_job(
    issuer: Issuer,
    filename: str,
    key: str,
    digest: str,
    total: int,
    actor_label: str,
    started_by: User | None,
) -> BulkJob:
    """Add the job for the file (flushed, in the caller's transaction), without its items."""
    job = BulkJob(
        kind=CSV_ISSUE,
        issuer_id=issuer.id,
        started_by_id=started_by.id if started_by is not None else None,
        actor_label=actor_label,
        title=f"Issue credentials from {filename[:200]}",
        request_key=key,
        params={"file": filename[:200], "sha256": digest},
        total=total,
    )
    db.session.add(job)
    db.session.flush()
    return job


def find_competency(issuer_id: int, reference: str) -> Competency:
    """The issuer's competency whose identifier, code or public id is ``reference``.
    Raises :class:`~portfolio.bulk.jobs.ItemProblem`."""
    found = db.session.scalars(
        select(Competency)
        .where(
            Competency.issuer_id == issuer_id,
            Competency.archived_at.is_(None),
            or_(
                Competency.identifier == reference,
                Competency.human_code == reference,
                Competency.public_id == reference,
            ),
        )
        .order_by(Competency.id)
        .limit(2)
    ).all()
    if not found:
        raise ItemProblem(f"no competency {reference!r} in the catalogue")
    if len(found) > 1:
        raise ItemProblem(f"{reference!r} names several competencies: use the identifier")
    if found[0].is_stack:
        raise ItemProblem(f"{found[0].name!r} is a stack badge, issued when its parts are")
    return found[0]


def _csv_client(issuer_id: int) -> str:
    return f"bulk-csv:{issuer_id}"


def issue_item(job: BulkJob, item: BulkJobItem) -> ItemResult:
    """Issue one CSV row (inside the item's transaction)."""
    data = item.data
    if data.get("problem"):
        raise ItemProblem(str(data["problem"]))
    issuer = job.issuer
    competency = find_competency(issuer.id, str(data["competency"]))
    fingerprint = _request_key(data["email"], competency.id)
    issued = _issued_from_row(issuer.id, item.key, fingerprint)
    if issued is not None:
        return issued
    student = _csv_student(issuer.id, str(data["email"]))
    if student is not None:
        held = mastered(student, competency)
        if held is not None:
            return ItemResult(ItemState.SKIPPED, "already mastered", held.credential_id)
    config = ServiceConfig.current()
    public_id = new_public_id()
    recipient = _csv_recipient(issuer, student, data)
    unsigned = _csv_credential(config, public_id, issuer, competency, recipient)
    credential = issue_in_transaction(
        unsigned,
        issuer=issuer,
        public_id=public_id,
        recipient_name=recipient.name,
        recipient_user_id=student.id if student is not None else None,
        actor=job.actor_label or (f"user:{job.started_by_id}" if job.started_by_id else "cli"),
        config=config,
    )
    db.session.add(
        IdempotencyRecord(
            client_id=_csv_client(issuer.id),
            key=item.key,
            request_sha256=fingerprint,
            credential_id=credential.id,
        )
    )
    outbox: list[Mail] = []
    message = "issued"
    if student is not None:
        stacks = credit_mastery(student, competency, credential, None, outbox)
        message = "issued to the student's account" + (
            f", and {len(stacks)} stack badge(s)" if stacks else ""
        )
    db.session.flush()
    return ItemResult(ItemState.DONE, message, credential.id, _send(outbox))


def _issued_from_row(issuer_id: int, key: str, fingerprint: str) -> ItemResult | None:
    """The "skipped" result when the row's key was already issued, None when it was not.
    Raises :class:`~portfolio.bulk.errors.ItemProblem` when the key was used for another
    row."""
    record = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.client_id == _csv_client(issuer_id),
            IdempotencyRecord.key == key,
        )
    )
    if record is None:
        return None
    if record.request_sha256 != fingerprint:
        raise ItemProblem(f"the key {key!r} was already used for another row")
    return ItemResult(ItemState.SKIPPED, "already issued from this row", record.credential_id)


def _csv_student(issuer_id: int, email: str) -> User | None:
    """The issuer's student account with that email, if any."""
    student: User | None = db.session.scalar(
        select(User).where(
            User.email == User.normalize_email(email),
            User.issuer_id == issuer_id,
            User.role == Role.STUDENT,
            User.deleted_at.is_(None),
        )
    )
    return student


def _csv_recipient(
    issuer: Issuer, student: User | None, data: Mapping[str, Any]
) -> issuing.Recipient:
    """Who the credential names: the student as their school chose, or the row's person (the
    plain name, after a salted hash of the email unless the school names people by name only;
    without an account there is no DID to use)."""
    if student is not None:
        return issuing.recipient(student)
    name = build.IdentityObject(identity_hash=str(data["name"]), identity_type="name", hashed=False)
    if recipient_identity.of_issuer(issuer) == RecipientIdentity.NAME:
        return issuing.Recipient(id=None, identifier=(name,), name=str(data["name"]))
    return issuing.Recipient(
        id=None,
        identifier=(
            build.IdentityObject.hashed_email(str(data["email"]), secrets.token_hex(16)),
            name,
        ),
        name=str(data["name"]),
    )


def _csv_credential(
    config: ServiceConfig,
    public_id: str,
    issuer: Issuer,
    competency: Competency,
    recipient: issuing.Recipient,
) -> dict[str, Any]:
    """The unsigned credential of the competency's Achievement for the row's recipient."""
    now = datetime.now(UTC)
    return build.build_achievement_credential(
        id=config.credential_url(public_id),
        issuer=issuing.issuer_profile(issuer),
        subject=build.AchievementSubject(
            id=recipient.id,
            identifier=recipient.identifier,
            achievement=achievement_for(competency, None, public_url=config.public_url),
            credits_earned=competency.credits,
        ),
        valid_from=now,
        name=competency.name,
        description=f"{recipient.name} demonstrated mastery of “{competency.name}”.",
        awarded_date=now,
    )


HANDLERS: dict[str, Handler] = {COHORT_ENDORSEMENT: endorse_item, CSV_ISSUE: issue_item}
