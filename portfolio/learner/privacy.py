"""A student's own data, the service: export all of it (one ZIP) and delete the account (one
transaction).  The pages are :mod:`portfolio.learner.privacy_pages`.

Deletion removes the evidence, its artefacts, portfolios, the evidence links of submissions, the
learner profile, notifications, her learning plan (items, journal entries with their recordings,
the comments on it), her self-assessments, the peer comments she wrote, her guardian links, and
every stored file nobody else uses, and scrubs the account
row (no email, no name, no usable password).  It keeps what others rely on: issued credentials
and their status lists stay exactly as they are, so every credential keeps verifying (the
recipient is a salted hash in them, never the address), and the audit log keeps its events with
the account's id (the email address is removed from them).  The evidence frozen in credentials
follows its own rule (:func:`portfolio.evidence.snapshots.settle_for_account_deletion`): kept,
withdrawn from public view, while the credential stands; deleted with a revoked one.
Publication consents stay: they hold no personal text and record who allowed what.
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, String, delete, func, or_, select, update
from sqlalchemy import cast as sql_cast

from portfolio.accounts.auth import end_all_sessions
from portfolio.accounts.models import Invitation, LearnerProfile, Notification, User
from portfolio.assessment.events import trail
from portfolio.assessment.models import (
    PeerReview,
    SelfAssessment,
    Submission,
    SubmissionEvidence,
)
from portfolio.assessment.states import DECISION_LABELS, STATE_LABELS
from portfolio.catalogue.achievements import achievement_url
from portfolio.core import audit
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import NotFoundError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.models import AuditEvent
from portfolio.evidence.models import Artefact, Evidence, EvidenceSnapshot
from portfolio.evidence.snapshots import (
    release_evidence,
    settle_for_account_deletion,
    snapshots_of,
)
from portfolio.files import usage
from portfolio.files.storage import BlobNotFoundError, storage
from portfolio.guardians.models import GuardianInvitationStudent, GuardianLink
from portfolio.issuing.models import IssuedCredential
from portfolio.issuing.service import ServiceConfig
from portfolio.planning.models import JournalEntry, PlanComment, PlanItem
from portfolio.portfolios.models import Portfolio, PortfolioItem, PortfolioSection

EXPORT_FORMAT = "credfolio-personal-data"
#: What a deleted account is called from now on.
DELETED_NAME = "Deleted account"
#: Not a PHC string: argon2 refuses to verify anything against it, so no password ever works.
UNUSABLE_PASSWORD_HASH = "!account-deleted"  # noqa: S105  (a marker, not a secret)

BlobReader = Callable[[str], bytes]


def deleted_email(user_id: int) -> str:
    """The address a deleted account keeps: unique, and in a domain that can never receive
    mail (RFC 2606 ``.invalid``)."""
    return f"deleted-{user_id}@deleted.invalid"


def _iso(moment: datetime | None) -> str | None:
    """An aware moment (every datetime column is UTC) as ISO 8601 with a ``Z``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- export ----------------------------------------------------------------------------------


def _artefact(artefact: Artefact) -> dict[str, Any]:
    return {
        "id": artefact.public_id,
        "kind": artefact.kind,
        "title": artefact.title,
        "url": artefact.url,
        "originalFilename": artefact.original_filename,
        "mediaType": artefact.media_type,
        "size": artefact.size,
        "sha256": artefact.blob_sha256,
        "file": f"files/{artefact.blob_sha256}" if artefact.blob_sha256 else None,
        "thumbnailSha256": artefact.thumbnail_sha256,
        "altText": artefact.alt_text,
        "captionsVtt": artefact.captions_vtt,
        "transcript": artefact.transcript,
        "durationSeconds": artefact.duration_seconds,
        "createdAt": _iso(artefact.created_at),
    }


def _submission(submission: Submission, public_url: str) -> dict[str, Any]:
    competency = submission.competency
    assessments = []
    for item in submission.assessments:
        version = item.rubric_version
        criteria = []
        if version is not None:
            for index, criterion in enumerate(version.criteria):
                level = item.levels[index] if index < len(item.levels) else None
                criteria.append(
                    {
                        "criterion": criterion.get("name"),
                        "level": version.levels[level]["name"] if level is not None else None,
                        "feedback": item.criterion_feedback[index]
                        if index < len(item.criterion_feedback)
                        else "",
                    }
                )
        assessments.append(
            {
                "round": item.round,
                "assessor": item.assessor.display_name,
                "decision": DECISION_LABELS.get(item.decision, item.decision),
                "rubric": {"title": version.title, "version": version.version}
                if version is not None
                else None,
                "criteria": criteria,
                "feedback": item.feedback,
                "at": _iso(item.created_at),
            }
        )
    return {
        "id": submission.public_id,
        "competency": {
            "name": competency.name,
            "achievement": achievement_url(competency, public_url=public_url),
        },
        "state": STATE_LABELS.get(submission.state, submission.state),
        "note": submission.note,
        "round": submission.round,
        "createdAt": _iso(submission.created_at),
        "submittedAt": _iso(submission.submitted_at),
        "decidedAt": _iso(submission.decided_at),
        "evidence": [item.evidence.public_id for item in submission.items],
        "credential": submission.credential.public_id if submission.credential else None,
        "events": [
            {
                "from": event.from_state,
                "to": event.to_state,
                "by": event.actor.display_name if event.actor else None,
                "reason": event.reason,
                "at": _iso(event.at),
            }
            for event in trail(submission)
        ],
        "assessments": assessments,
    }


def _credential(row: IssuedCredential, config: ServiceConfig) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "page": config.credential_url(row.public_id),
        "achievement": row.achievement_name,
        "state": row.state,
        "issuedAt": _iso(row.issued_at),
        "revokedAt": _iso(row.revoked_at),
        "revocationReason": row.revocation_reason,
        "suspendedAt": _iso(row.suspended_at),
        "suspensionReason": row.suspension_reason,
        "hiddenFromPortfolios": row.hidden_by_recipient,
        "file": f"credentials/{row.public_id}.json",
        "frozenEvidence": [_frozen(snapshot) for snapshot in snapshots_of(row)],
    }


def _frozen(snapshot: EvidenceSnapshot) -> dict[str, Any]:
    """Evidence as it was frozen into a credential (its files under ``files/`` too)."""
    return {
        "id": snapshot.public_id,
        "title": snapshot.title,
        "narrative": snapshot.narrative,
        "genre": snapshot.genre,
        "takenAt": _iso(snapshot.taken_at),
        "withdrawnAt": _iso(snapshot.withdrawn_at),
        "artefacts": [
            {
                "id": artefact.public_id,
                "kind": artefact.kind,
                "title": artefact.title,
                "url": artefact.url,
                "originalFilename": artefact.original_filename,
                "mediaType": artefact.media_type,
                "size": artefact.size,
                "sha256": artefact.blob_sha256,
            }
            for artefact in snapshot.artefacts
        ],
    }


def owned_credentials(user: User) -> list[IssuedCredential]:
    """The credentials issued to ``user``, oldest first."""
    return list(
        db.session.scalars(
            select(IssuedCredential)
            .where(IssuedCredential.recipient_user_id == user.id)
            .order_by(IssuedCredential.issued_at, IssuedCredential.id)
        )
    )


def export_data(user: User) -> dict[str, Any]:
    """Everything the service holds about ``user`` (the ``data.json`` of the export).

    Links in it are built from the configured public URL, as in the credentials: the archive
    names the service by its public address, whichever host the request came through."""
    config = ServiceConfig.current()
    public_url = config.public_url
    profile = db.session.get(LearnerProfile, user.id)
    evidence = db.session.scalars(
        select(Evidence).where(Evidence.owner_id == user.id).order_by(Evidence.id)
    ).all()
    portfolios = db.session.scalars(
        select(Portfolio).where(Portfolio.owner_id == user.id).order_by(Portfolio.id)
    ).all()
    submissions = db.session.scalars(
        select(Submission).where(Submission.student_id == user.id).order_by(Submission.id)
    ).all()
    notifications = db.session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    ).all()
    return {
        "format": EXPORT_FORMAT,
        "version": 1,
        "exportedAt": _iso(datetime.now(UTC)),
        "source": public_url,
        "account": _account(user),
        "profile": None if profile is None else _profile(profile),
        "evidence": [_evidence(item) for item in evidence],
        "portfolios": [_portfolio(portfolio, public_url) for portfolio in portfolios],
        "submissions": [_submission(submission, public_url) for submission in submissions],
        "notifications": [_notification(notice) for notice in notifications],
        "credentials": [_credential(row, config) for row in owned_credentials(user)],
        **_agency(user, public_url),
    }


def _agency(user: User, public_url: str) -> dict[str, Any]:
    """Her learning plan, journal, the comments on her plan, her self-assessments and the peer
    comments she received and wrote (issue 17)."""
    items = db.session.scalars(
        select(PlanItem).where(PlanItem.student_id == user.id).order_by(PlanItem.position)
    ).all()
    entries = db.session.scalars(
        select(JournalEntry).where(JournalEntry.student_id == user.id).order_by(JournalEntry.id)
    ).all()
    comments = db.session.scalars(
        select(PlanComment).where(PlanComment.student_id == user.id).order_by(PlanComment.id)
    ).all()
    own = select(Submission.id).where(Submission.student_id == user.id)
    ratings = db.session.scalars(
        select(SelfAssessment)
        .where(SelfAssessment.submission_id.in_(own))
        .order_by(SelfAssessment.id)
    ).all()
    received = db.session.scalars(
        select(PeerReview).where(PeerReview.submission_id.in_(own)).order_by(PeerReview.id)
    ).all()
    written = db.session.scalars(
        select(PeerReview).where(PeerReview.peer_id == user.id).order_by(PeerReview.id)
    ).all()
    return {
        "plan": [_plan_item(item, public_url) for item in items],
        "journal": [_journal_entry(entry) for entry in entries],
        "planComments": [_plan_comment(comment) for comment in comments],
        "selfAssessments": [_self_assessment(rating) for rating in ratings],
        "peerCommentsReceived": [_peer_review(review, received=True) for review in received],
        "peerCommentsWritten": [_peer_review(review, received=False) for review in written],
    }


def _plan_item(item: PlanItem, public_url: str) -> dict[str, Any]:
    return {
        "id": item.public_id,
        "competency": {
            "name": item.competency.name,
            "achievement": achievement_url(item.competency, public_url=public_url),
        },
        "targetDate": item.target_date.isoformat() if item.target_date else None,
        "milestones": item.milestones,
        "position": item.position,
        "createdAt": _iso(item.created_at),
        "updatedAt": _iso(item.updated_at),
    }


def _journal_entry(entry: JournalEntry) -> dict[str, Any]:
    return {
        "id": entry.public_id,
        "title": entry.title,
        "body": entry.body,
        "planItem": entry.plan_item.public_id if entry.plan_item else None,
        "audio": f"files/{entry.audio_sha256}" if entry.audio_sha256 else None,
        "audioMediaType": entry.audio_media_type,
        "createdAt": _iso(entry.created_at),
        "updatedAt": _iso(entry.updated_at),
    }


def _plan_comment(comment: PlanComment) -> dict[str, Any]:
    return {
        "id": comment.public_id,
        "planItem": comment.plan_item.public_id if comment.plan_item else None,
        "author": comment.author.display_name,
        "body": comment.body,
        "createdAt": _iso(comment.created_at),
    }


def _self_assessment(rating: SelfAssessment) -> dict[str, Any]:
    version = rating.rubric_version
    criteria = []
    if version is not None:
        for index, criterion in enumerate(version.criteria):
            level = rating.levels[index] if index < len(rating.levels) else None
            named = (
                version.levels[level]["name"]
                if level is not None and 0 <= level < len(version.levels)
                else None
            )
            criteria.append(
                {
                    "criterion": criterion.get("name"),
                    "level": named,
                    "note": rating.criterion_notes[index]
                    if index < len(rating.criterion_notes)
                    else "",
                }
            )
    return {
        "submission": rating.submission.public_id,
        "round": rating.round,
        "rubric": {"title": version.title, "version": version.version} if version else None,
        "criteria": criteria,
        "createdAt": _iso(rating.created_at),
        "updatedAt": _iso(rating.updated_at),
    }


def _peer_review(review: PeerReview, *, received: bool) -> dict[str, Any]:
    hidden = review.hidden_at is not None
    return {
        "id": review.public_id,
        "submission": review.submission.public_id if received else None,
        "competency": review.submission.competency.name,
        ("peer" if received else "student"): (
            review.peer.display_name if received else review.submission.student.display_name
        ),
        # A comment the school hid is not hers to read (it was moderated away); her own are.
        "comment": None if received and hidden else review.comment,
        "commentedAt": _iso(review.commented_at),
        "hidden": hidden,
    }


def _account(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "displayName": user.display_name,
        "role": user.role,
        "issuer": user.issuer.name if user.issuer else None,
        "cohort": user.cohort,
        "createdAt": _iso(user.created_at),
    }


def _profile(profile: LearnerProfile) -> dict[str, Any]:
    return {
        "pronouns": profile.pronouns,
        "bio": profile.bio,
        "learningGoals": profile.learning_goals,
        "interests": profile.interests,
        "credentialName": profile.credential_name,
        "did": profile.did,
        "photo": f"files/{profile.photo_sha256}" if profile.photo_sha256 else None,
        "updatedAt": _iso(profile.updated_at),
    }


def _evidence(item: Evidence) -> dict[str, Any]:
    return {
        "id": item.public_id,
        "title": item.title,
        "narrative": item.narrative,
        "genre": item.genre,
        "competencies": list(item.competencies or []),
        "createdAt": _iso(item.created_at),
        "updatedAt": _iso(item.updated_at),
        "artefacts": [_artefact(artefact) for artefact in item.artefacts],
    }


def _portfolio(portfolio: Portfolio, public_url: str) -> dict[str, Any]:
    return {
        "id": portfolio.public_id,
        "title": portfolio.title,
        "coverText": portfolio.cover_text,
        "visibility": portfolio.visibility,
        "shareLink": f"{public_url}/p/{portfolio.share_slug}" if portfolio.share_slug else None,
        "createdAt": _iso(portfolio.created_at),
        "updatedAt": _iso(portfolio.updated_at),
        "sections": [
            {
                "title": section.title,
                "evidence": [placed.evidence.public_id for placed in section.items],
            }
            for section in portfolio.sections
        ],
    }


def _notification(notice: Notification) -> dict[str, Any]:
    return {
        "message": notice.message,
        "link": notice.link,
        "createdAt": _iso(notice.created_at),
        "readAt": _iso(notice.read_at),
    }


README = """\
Your data from Credfolio ({source})
Exported {exported_at} for {name}.

data.json        Everything the service holds about you: your account, your learner
                 profile, your evidence (with each artefact's details), your portfolios,
                 your submissions with their history and every assessment's feedback,
                 your notifications, a list of your credentials with the evidence
                 frozen in each when it was issued, your learning plan, your journal,
                 the comments on your plan, your self-assessments, and the peer
                 comments you received and wrote.
credentials/     Each credential issued to you, exactly as it was signed (Open Badges 3.0,
                 W3C Verifiable Credentials). Any conformant verifier can check them, for
                 example at {source}/verify.
files/           Your uploaded files, your journal recordings and your photo, each
                 named by the SHA-256 of its content; data.json says which artefact or
                 journal entry each one belongs to, and its original file name and type.

Keep this archive safe: it holds personal information.
"""


def write_export(user: User, *, read: BlobReader | None = None) -> IO[bytes]:
    """A temporary file holding the ZIP of everything about ``user``, positioned at its start.

    Each stored file is written once (under its SHA-256), whatever number of artefacts use it;
    files missing from storage are listed in ``data.json`` under ``missingFiles``.  The caller
    closes the file (Flask's ``send_file`` does).
    """
    read = read or storage().get
    data = export_data(user)
    wanted: list[str] = []
    for item in data["evidence"]:
        for artefact in item["artefacts"]:
            wanted += [sha for sha in (artefact["sha256"], artefact["thumbnailSha256"]) if sha]
    for credential in data["credentials"]:
        for frozen in credential["frozenEvidence"]:
            wanted += [a["sha256"] for a in frozen["artefacts"] if a["sha256"]]
    wanted += [e["audio"].removeprefix("files/") for e in data["journal"] if e["audio"]]
    if data["profile"] and data["profile"]["photo"]:
        wanted.append(data["profile"]["photo"].removeprefix("files/"))
    credentials = owned_credentials(user)
    archive = tempfile.TemporaryFile()  # noqa: SIM115  (handed to the response, which closes it)
    try:
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            missing = []
            for sha256 in dict.fromkeys(wanted):  # once each, in order
                try:
                    zf.writestr(f"files/{sha256}", read(sha256))
                except BlobNotFoundError:
                    missing.append(sha256)
            for row in credentials:
                # The signed JSON byte for byte: re-serializing could never break a Data
                # Integrity proof, but the student gets exactly what was issued.
                zf.writestr(f"credentials/{row.public_id}.json", row.document)
            data["missingFiles"] = missing
            zf.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
            zf.writestr(
                "README.txt",
                README.format(
                    source=data["source"],
                    exported_at=data["exportedAt"],
                    name=user.display_name,
                ),
            )
    except BaseException:
        archive.close()
        raise
    archive.seek(0)
    return archive


# -- deletion --------------------------------------------------------------------------------


@dataclass
class DeletionReport:
    """What deleting an account removed."""

    user_id: int
    evidence: int = 0
    portfolios: int = 0
    notifications: int = 0
    plan_items: int = 0
    journal_entries: int = 0
    #: SHA-256 of the stored files removed (nobody else used them).
    blobs: list[str] = field(default_factory=list)


def _scrub(value: Any, pattern: re.Pattern[str], replacement: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(replacement, value)
    if isinstance(value, dict):
        return {key: _scrub(item, pattern, replacement) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, pattern, replacement) for item in value]
    return value


def _scrub_audit_log(user: User, email: str, replacement: str) -> None:
    """Keep the account's events (and their actor ids) but remove its address from them."""
    pattern = re.compile(re.escape(email), re.IGNORECASE)
    events = db.session.scalars(
        select(AuditEvent).where(
            or_(
                AuditEvent.actor_id == user.id,
                func.lower(AuditEvent.actor_label) == email,
                func.lower(AuditEvent.target).contains(email),
                func.lower(sql_cast(AuditEvent.detail, String)).contains(email),
            )
        )
    )
    for event in events:
        for name in ("actor_label", "target"):
            value = getattr(event, name)
            if value and pattern.search(value):
                setattr(event, name, pattern.sub(replacement, value))
        if event.detail and pattern.search(json.dumps(event.detail, ensure_ascii=False)):
            event.detail = _scrub(event.detail, pattern, replacement)


def delete_account(user: User) -> DeletionReport:
    """Delete ``user`` 's personal data in one transaction (see the module); then remove the
    stored bytes of the files nobody uses any more.  Returns what was removed.

    Raises :class:`~portfolio.core.errors.NotFoundError` for an account that does not exist
    or is already deleted, and whatever the database raises (then nothing is changed).
    """
    report = DeletionReport(user_id=user.id)
    with unit_of_work(write=True):
        _delete_personal_data(report)
    # Only now that the deletion is committed: bytes removed before a rollback could not be
    # brought back.  A file uploaded again in the meantime has a Blob row again, and stays.
    usage.delete_released_bytes(report.blobs)
    return report


def _delete_personal_data(report: DeletionReport) -> None:
    """The deletion's transaction: lock the account row, delete and scrub, and list in
    ``report`` what was removed (the stored files' rows included, not yet their bytes)."""
    user_id = report.user_id
    user = db.session.get(User, user_id, with_for_update=True, populate_existing=True)
    if user is None or user.deleted_at is not None:
        raise NotFoundError(_l("the account does not exist or is already deleted"))
    email = user.email
    scrubbed = deleted_email(user_id)
    evidence_ids = select(Evidence.id).where(Evidence.owner_id == user_id)
    candidates = _stored_files_of(user_id, evidence_ids)
    # Evidence frozen in credentials: kept (withdrawn) while they stand, else deleted.
    candidates |= settle_for_account_deletion(user_id)
    release_evidence(evidence_ids)
    report.evidence = len(db.session.scalars(evidence_ids).all())
    portfolio_ids = select(Portfolio.id).where(Portfolio.owner_id == user_id)
    report.portfolios = len(db.session.scalars(portfolio_ids).all())
    _delete_owned_rows(user_id, evidence_ids, portfolio_ids)
    _delete_agency_rows(report)
    deleted = db.session.execute(
        delete(Notification)
        .where(Notification.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    report.notifications = cast("CursorResult[Any]", deleted).rowcount
    _clear_own_words(user_id, email, scrubbed)
    _scrub_audit_log(user, email, scrubbed)
    _anonymize(user, scrubbed)
    audit.record(
        "account_deleted",
        actor=user,
        target=f"user:{user_id}",
        detail={
            "evidence": report.evidence,
            "portfolios": report.portfolios,
            "notifications": report.notifications,
        },
    )
    report.blobs.extend(usage.release(candidates))


def _stored_files_of(user_id: int, evidence_ids: Any) -> set[str]:
    """SHA-256 of the stored files the account uses: its artefacts (``evidence_ids``: the
    subquery of its evidence), their thumbnails and its photo."""
    candidates: set[str] = set()
    for blob, thumbnail in db.session.execute(
        select(Artefact.blob_sha256, Artefact.thumbnail_sha256).where(
            Artefact.evidence_id.in_(evidence_ids)
        )
    ):
        candidates.update(sha for sha in (blob, thumbnail) if sha)
    profile = db.session.get(LearnerProfile, user_id)
    if profile is not None and profile.photo_sha256:
        candidates.add(profile.photo_sha256)
    candidates.update(
        db.session.scalars(
            select(JournalEntry.audio_sha256).where(
                JournalEntry.student_id == user_id, JournalEntry.audio_sha256.is_not(None)
            )
        )
    )
    return candidates


def _delete_owned_rows(user_id: int, evidence_ids: Any, portfolio_ids: Any) -> None:
    """Delete the account's portfolios, evidence and learner profile (``evidence_ids`` and
    ``portfolio_ids``: the subqueries of its evidence and portfolios)."""
    section_ids = select(PortfolioSection.id).where(
        PortfolioSection.portfolio_id.in_(portfolio_ids)
    )
    # Children first, so that every foreign key holds at each step (PostgreSQL checks).
    for statement in (
        delete(PortfolioItem).where(
            or_(
                PortfolioItem.evidence_id.in_(evidence_ids),
                PortfolioItem.section_id.in_(section_ids),
            )
        ),
        delete(PortfolioSection).where(PortfolioSection.portfolio_id.in_(portfolio_ids)),
        delete(Portfolio).where(Portfolio.owner_id == user_id),
        delete(SubmissionEvidence).where(SubmissionEvidence.evidence_id.in_(evidence_ids)),
        delete(Artefact).where(Artefact.evidence_id.in_(evidence_ids)),
        delete(Evidence).where(Evidence.owner_id == user_id),
        delete(LearnerProfile).where(LearnerProfile.user_id == user_id),
    ):
        db.session.execute(statement.execution_options(synchronize_session=False))


def _delete_agency_rows(report: DeletionReport) -> None:
    """Delete her learning plan, journal (the recordings' blobs are among the candidates), the
    comments on her plan, her self-assessments, the peer comments she wrote, and her guardian
    links (and pending guardian invitations naming her); count the items and entries in
    ``report``.  Her publication consents stay: no personal text, and the record of who
    allowed what."""
    user_id = report.user_id
    report.plan_items = len(
        db.session.scalars(select(PlanItem.id).where(PlanItem.student_id == user_id)).all()
    )
    report.journal_entries = len(
        db.session.scalars(select(JournalEntry.id).where(JournalEntry.student_id == user_id)).all()
    )
    own = select(Submission.id).where(Submission.student_id == user_id)
    for statement in (
        delete(PlanComment).where(
            or_(PlanComment.student_id == user_id, PlanComment.author_id == user_id)
        ),
        delete(JournalEntry).where(JournalEntry.student_id == user_id),
        delete(PlanItem).where(PlanItem.student_id == user_id),
        delete(SelfAssessment).where(SelfAssessment.submission_id.in_(own)),
        delete(PeerReview).where(PeerReview.peer_id == user_id),
        delete(GuardianLink).where(GuardianLink.student_id == user_id),
        delete(GuardianInvitationStudent).where(GuardianInvitationStudent.student_id == user_id),
    ):
        db.session.execute(statement.execution_options(synchronize_session=False))


def _clear_own_words(user_id: int, email: str, scrubbed: str) -> None:
    """Submissions stay (assessors' judgements and credentials refer to them); the student's
    own words in them go, and so do the address and name in invitations."""
    db.session.execute(
        update(Submission)
        .where(Submission.student_id == user_id)
        .values(note="")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Invitation)
        .where(Invitation.email == email)
        .values(email=scrubbed, display_name=None)
        .execution_options(synchronize_session=False)
    )


def _anonymize(user: User, scrubbed: str) -> None:
    """Leave an unusable, nameless, disabled account row and end its sessions."""
    now = datetime.now(UTC)
    user.email = scrubbed
    user.display_name = DELETED_NAME
    user.password_hash = UNUSABLE_PASSWORD_HASH
    user.cohort = None
    user.deleted_at = now
    user.disabled_at = user.disabled_at or now
    user.failed_sign_ins = 0
    user.locked_until = None
    end_all_sessions(user)


def password_matches(user: User, password: str) -> bool:
    """Whether ``password`` is the account's password (argon2 reads its parameters from the
    stored hash)."""
    try:
        return PasswordHasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
