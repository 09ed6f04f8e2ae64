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
  twice impossible.
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
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import or_, select

from credentials import build
from portfolio.accounts.models import Issuer, User
from portfolio.assessment import credentials as issuing
from portfolio.assessment import service as assessment
from portfolio.assessment.mastery import mastered, missing_prerequisites, record_mastery
from portfolio.assessment.models import Assessment, Submission, SubmissionEvent
from portfolio.bulk.csv_file import file_digest, parse_issue_csv
from portfolio.bulk.jobs import ACTIVE, BulkError, Handler, ItemProblem, ItemResult
from portfolio.bulk.models import BulkJob, BulkJobItem
from portfolio.catalogue.achievements import achievement_for
from portfolio.catalogue.models import Competency, RubricVersion
from portfolio.catalogue.rubrics import current_version
from portfolio.core import audit
from portfolio.core.db import begin_write, db
from portfolio.core.models import new_public_id
from portfolio.issuing.models import IdempotencyRecord
from portfolio.issuing.service import ServiceConfig, issue_in_transaction

ASSESSORS = ("assessor", "admin")
KIND_LABELS = {"cohort_endorsement": "Cohort endorsement", "csv_issue": "Issue from CSV"}


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
        BulkJobItem.__table__.insert(),
        [{"job_id": job.id, "state": "pending", "message": "", **row} for row in rows],
    )


def _send(outbox: list[assessment._Mail]) -> list[Callable[[], None]]:
    return [lambda: assessment._send_mail(outbox)] if outbox else []


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
                User.role == "student",
                User.cohort == cohort,
                User.disabled_at.is_(None),
                User.deleted_at.is_(None),
            )
            .order_by(User.display_name, User.id)
        )
    )


def start_cohort_endorsement(
    starter: User,
    competency: Competency,
    cohort: str,
    *,
    levels: list[object] | tuple[object, ...] = (),
    criterion_feedback: list[str] | tuple[str, ...] = (),
    feedback: str = "",
) -> tuple[BulkJob, bool]:
    """The job endorsing ``competency`` for every student of ``cohort`` (committed), and
    whether it is new: the same request while its job is open returns that job.

    Raises :class:`~portfolio.bulk.jobs.BulkError` (404 for a competency the starter may not
    endorse; 422 for an inconsistent judgement, an empty cohort, or a competency needing
    several assessors when the starter is not an administrator).
    """
    cohort = _check_cohort_request(starter, competency, cohort)
    version = current_version(competency)
    try:
        chosen, notes, feedback = assessment._check_decision(
            version, list(levels), list(criterion_feedback), feedback, "endorse"
        )
    except assessment.AssessmentError as exc:
        raise BulkError(exc.message) from None
    key = _request_key(
        "cohort_endorsement", competency.issuer_id, competency.id, cohort, starter.id
    )
    existing = _open_job(key)
    if existing is not None:
        return existing, False
    students = cohort_students(competency.issuer_id, cohort)
    if not students:
        raise BulkError(f"the cohort “{cohort}” has no students")
    # The assessor's signing identity is made (and committed) before any item's transaction.
    issuing.endorser_issuer(starter)
    begin_write()
    try:
        job = _add_cohort_job(
            starter,
            competency,
            cohort,
            key,
            students,
            {
                "competency_id": competency.id,
                "cohort": cohort,
                "assessor_id": starter.id,
                "rubric_version_id": version.id if version is not None else None,
                "levels": chosen,
                "criterion_feedback": notes,
                "feedback": feedback,
            },
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return job, True


def _check_cohort_request(starter: User, competency: Competency, cohort: str) -> str:
    """The cohort's name, once the starter may endorse the competency for a whole cohort."""
    if not may_endorse(starter, competency) or competency.archived_at is not None:
        raise BulkError("no such competency", status=404)
    if competency.is_stack:
        raise BulkError("a stack badge is issued when its competencies are mastered")
    if competency.required_endorsements > 1 and not starter.is_admin:
        raise BulkError(
            f"“{competency.name}” needs {competency.required_endorsements} assessors to agree: "
            "endorse its submissions in the queue, or ask an administrator"
        )
    cohort = (cohort or "").strip()
    if not cohort:
        raise BulkError("choose a cohort")
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
        kind="cohort_endorsement",
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
            Submission.state.in_(assessment.AWAITING_ASSESSMENT),
        )
        .order_by(Submission.id)
        .limit(1)
        .with_for_update()
    )
    return row


def endorse_item(job: BulkJob, item: BulkJobItem) -> ItemResult:
    """Endorse one student of the cohort (inside the item's transaction)."""
    params = job.params
    competency, assessor, student = _endorsement_parties(params, item)
    held = mastered(student, competency)
    if held is not None:
        return ItemResult("skipped", "already mastered", held.credential_id)
    missing = missing_prerequisites(student, competency)
    if missing:
        names = ", ".join(f"“{c.name}”" for c in missing)
        raise ItemProblem(f"prerequisite not mastered yet: {names}")
    version_id = params.get("rubric_version_id")
    version = db.session.get(RubricVersion, version_id) if version_id else None
    submission = _cohort_submission(student, competency, assessor, str(params["cohort"]))
    db.session.add(
        Assessment(
            submission_id=submission.id,
            round=submission.round,
            assessor_id=assessor.id,
            rubric_version_id=version.id if version is not None else None,
            decision="endorse",
            levels=list(params.get("levels") or []),
            criterion_feedback=list(params.get("criterion_feedback") or []),
            feedback=params.get("feedback") or "",
        )
    )
    db.session.flush()
    db.session.refresh(submission)
    endorsing = [a for a in assessment.round_assessments(submission) if a.decision == "endorse"]
    outbox: list[assessment._Mail] = []
    try:
        credential, stacks = assessment._endorse(submission, assessor, endorsing, outbox)
    except (assessment.AssessmentError, issuing.IssuingError) as exc:
        raise ItemProblem(exc.message) from None
    message = "endorsed: credential issued"
    if stacks:
        message += f", and {len(stacks)} stack badge(s)"
    return ItemResult("done", message, credential.id, _send(outbox))


def _endorsement_parties(
    params: dict[str, object], item: BulkJobItem
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
        or student.role != "student"
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
            state="in_review",
            round=1,
            submitted_at=now,
        )
        db.session.add(submission)
        db.session.flush()
        db.session.add(
            SubmissionEvent(
                submission_id=submission.id,
                from_state=None,
                to_state="in_review",
                actor_id=assessor.id,
                reason=reason,
                at=now,
            )
        )
    elif any(a.assessor_id == assessor.id for a in assessment.round_assessments(submission)):
        raise ItemProblem("you already assessed this student's open submission")
    elif submission.state != "in_review":
        assessment._transition(submission, "in_review", assessor, reason)
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
    :class:`~portfolio.bulk.csv_file.IssueFileError`.
    """
    rows = parse_issue_csv(data)
    digest = file_digest(data)
    key = _request_key("csv_issue", issuer.id, digest)
    existing = _latest_job(key)
    if existing is not None:
        return existing, False
    if not rows:
        raise BulkError("the file has no data rows")
    begin_write()
    try:
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
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
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
        kind="csv_issue",
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
            return ItemResult("skipped", "already mastered", held.credential_id)
    config = ServiceConfig.current()
    public_id = new_public_id()
    fields = _csv_subject(student, data)
    unsigned = _csv_credential(config, public_id, issuer, competency, fields)
    credential = issue_in_transaction(
        unsigned,
        issuer=issuer,
        public_id=public_id,
        recipient_name=fields["name"],
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
    outbox: list[assessment._Mail] = []
    message = "issued"
    if student is not None:
        message = _credit_student(student, competency, credential.id, credential.public_id, outbox)
    db.session.flush()
    return ItemResult("done", message, credential.id, _send(outbox))


def _issued_from_row(issuer_id: int, key: str, fingerprint: str) -> ItemResult | None:
    """The "skipped" result when the row's key was already issued, None when it was not.
    Raises :class:`~portfolio.bulk.ItemProblem` when the key was used for another row."""
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
    return ItemResult("skipped", "already issued from this row", record.credential_id)


def _csv_student(issuer_id: int, email: str) -> User | None:
    """The issuer's student account with that email, if any."""
    student: User | None = db.session.scalar(
        select(User).where(
            User.email == User.normalize_email(email),
            User.issuer_id == issuer_id,
            User.role == "student",
            User.deleted_at.is_(None),
        )
    )
    return student


def _csv_subject(student: User | None, data: dict[str, object]) -> dict[str, object]:
    """The subject's id, identifiers and name: the student's own, or from the row (a salted
    hash of the email and the plain name)."""
    if student is not None:
        return issuing._subject(student)
    return {
        "id": None,
        "identifier": (
            build.IdentityObject.hashed_email(str(data["email"]), secrets.token_hex(16)),
            build.IdentityObject(
                identity_hash=str(data["name"]), identity_type="name", hashed=False
            ),
        ),
        "name": str(data["name"]),
    }


def _csv_credential(
    config: ServiceConfig,
    public_id: str,
    issuer: Issuer,
    competency: Competency,
    fields: dict[str, object],
) -> dict[str, object]:
    """The unsigned credential of the competency's Achievement for the row's subject."""
    now = datetime.now(UTC)
    return build.build_achievement_credential(
        id=config.credential_url(public_id),
        issuer=build.Profile(**issuing._profile_fields(issuer)),
        subject=build.AchievementSubject(
            id=fields["id"],
            identifier=fields["identifier"],
            achievement=achievement_for(competency, None, public_url=config.public_url),
            credits_earned=competency.credits,
        ),
        valid_from=now,
        name=competency.name,
        description=f"{fields['name']} demonstrated mastery of “{competency.name}”.",
        awarded_date=now,
    )


def _credit_student(
    student: User,
    competency: Competency,
    credential_id: int,
    credential_public_id: str,
    outbox: list[assessment._Mail],
) -> str:
    """Record the student's mastery, tell them and issue the stack badges it completes; the
    item's message."""
    record_mastery(student, competency, credential_id, None)
    assessment._notify(
        student,
        f"You mastered “{competency.name}”: your credential is ready",
        f"/c/{credential_public_id}",
        outbox,
    )
    stacks = assessment._complete_stacks(student, competency, outbox)
    return "issued to the student's account" + (
        f", and {len(stacks)} stack badge(s)" if stacks else ""
    )


HANDLERS: dict[str, Handler] = {"cohort_endorsement": endorse_item, "csv_issue": issue_item}
