"""Building and signing the credentials the assessment flow issues.

* :func:`issue_mastery` — the AchievementCredential of an endorsed submission: the competency's
  Achievement with its rubric (``resultDescription``), the achieved level per criterion
  (``result``), the pages of the evidence frozen at issuance and a SHA-256 digest of every
  uploaded file (``evidence``), and
  each endorsing assessor's EndorsementCredential (``endorsement``);
* :func:`issue_stack` — the badge of a stack whose components are all mastered;
* :func:`endorse_achievement` — an assessor's standalone EndorsementCredential of an Achievement.

Assessors sign endorsements with their own ``did:key`` (:func:`endorser_issuer`), kept encrypted
by the service like every issuer key, so any verifier checks them offline.  The recipient is
identified as their school chose (a salted hash of their email, their DID, or their name only;
the default is ``CREDFOLIO_RECIPIENT_IDENTITY``), plus their name as printed on credentials.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from flask import current_app
from sqlalchemy.exc import IntegrityError

from credentials import build
from credentials.proof import Eddsa2022Suite
from portfolio.accounts import recipient_identity
from portfolio.accounts.models import Issuer, LearnerProfile, RecipientIdentity, Role, User
from portfolio.assessment.endorsement_text import (
    HowAssessed,
    cohort_evidence_narrative,
    endorsement_comment,
    rubric_label,
)
from portfolio.assessment.mastery import mastered
from portfolio.assessment.models import Assessment, Submission
from portfolio.catalogue.achievements import achievement_for, achievement_url, results
from portfolio.catalogue.models import Competency, RubricVersion
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import ConflictError, InvalidInputError, NotFoundError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.models import new_public_id
from portfolio.evidence.models import EvidenceSnapshot
from portfolio.evidence.snapshots import attach, freeze
from portfolio.issuing.models import Endorser, IssuedCredential
from portfolio.issuing.service import ServiceConfig, issue, issue_in_transaction

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

MAX_COMMENT = 8000


class IssuingError(InvalidInputError):
    """A credential the flow cannot issue as asked (the message is safe to show)."""


class IssuingNotFoundError(IssuingError, NotFoundError):
    """No such competency for the asker to endorse."""


class IssuingConflictError(IssuingError, ConflictError):
    """The state does not allow it (a stack's component is no longer mastered)."""


@dataclass(frozen=True)
class Recipient:
    """Who a credential names as its subject: a DID (``id``) or a salted hash of an email in
    ``identifier``, and the name printed on it."""

    id: str | None
    identifier: tuple[build.IdentityObject, ...]
    name: str


def endorser_issuer(user: User) -> Issuer:
    """The assessor's own signing identity (a did:key), created on first use."""
    row = db.session.get(Endorser, user.id)
    if row is not None:
        return row.issuer
    key_store = current_app.extensions["credfolio"].key_store
    record = key_store.create_did_key()
    issuer = Issuer(
        slug=f"endorser-{uuid.uuid4().hex[:16]}", did=record.controller, name=user.display_name
    )
    try:
        with unit_of_work() as session:
            session.add(issuer)
            session.flush()
            session.add(Endorser(user_id=user.id, issuer_id=issuer.id))
    except IntegrityError:  # created at the same moment by another request
        row = db.session.get(Endorser, user.id)
        if row is None:
            raise
        return row.issuer
    return issuer


def _endorsement(
    assessor: User, subject_id: str, comment: str, name: str, config: ServiceConfig
) -> dict[str, Any]:
    """An EndorsementCredential signed with the assessor's did:key (embedded, no status)."""
    endorser = db.session.get(Endorser, assessor.id)
    if endorser is None:  # assess() creates it before its transaction
        raise IssuingError(_l("%(name)s has no signing identity yet", name=assessor.display_name))
    issuer = endorser.issuer
    unsigned = build.build_endorsement_credential(
        id=f"urn:uuid:{uuid.uuid4()}",
        issuer=build.Profile(id=issuer.did, name=assessor.display_name),
        subject=build.EndorsementSubject(id=subject_id, endorsement_comment=comment),
        name=name,
        valid_from=datetime.now(UTC),
    )
    key = config.key_store.signing_key(issuer.did)
    suite = Eddsa2022Suite(loader=config.loader)
    return suite.create_proof(
        unsigned,
        # An IssuerKey signs like the Ed25519 private key create_proof is annotated with (it
        # only calls .sign), and never hands out its secret half.
        key=cast("Ed25519PrivateKey", key),
        verification_method=key.verification_method_id(issuer.did),
    )


def recipient(student: User) -> Recipient:
    """Identify the student as their school chose (portfolio/accounts/recipient_identity.py):
    a salted hash of their email, their DID, or their name only; always with the name they
    want on credentials (their display name by default)."""
    profile = db.session.get(LearnerProfile, student.id)
    name = (profile.credential_name if profile else None) or student.display_name
    identifiers = []
    identity = recipient_identity.of_issuer(student.issuer)
    use_did = identity == RecipientIdentity.DID
    subject_id = profile.did if (use_did and profile is not None and profile.did) else None
    if subject_id is None and identity != RecipientIdentity.NAME:
        identifiers.append(build.IdentityObject.hashed_email(student.email, secrets.token_hex(16)))
    identifiers.append(build.IdentityObject(identity_hash=name, identity_type="name", hashed=False))
    return Recipient(id=subject_id, identifier=tuple(identifiers), name=name)


def _sri_sha256(hex_digest: str) -> str:
    return "sha256-" + base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def _genre(media_type: str | None) -> str:
    kind = (media_type or "").split("/")[0]
    return {"audio": "Audio recording", "video": "Video", "image": "Image"}.get(kind, "Document")


def evidence_entries(
    snapshots: Sequence[EvidenceSnapshot], credential_public_id: str
) -> list[build.Evidence]:
    """OB 3.0 Evidence: the page of each piece's snapshot (frozen at issuance, see
    :mod:`portfolio.evidence.snapshots`), each link, and each file with its SHA-256."""
    base = f"{ServiceConfig.current().public_url}/c/{credential_public_id}/evidence"
    entries = []
    for snapshot in snapshots:
        page = f"{base}/{snapshot.public_id}"
        entries.append(
            build.Evidence(
                id=page,
                name=snapshot.title,
                narrative=snapshot.narrative or None,
                genre=snapshot.genre or None,
            )
        )
        for artefact in snapshot.artefacts:
            if artefact.kind == "link" and artefact.url:
                entries.append(
                    build.Evidence(
                        id=artefact.url,
                        name=artefact.title,
                        genre="Link",
                        description=f"Part of “{snapshot.title}”",
                    )
                )
            elif artefact.blob_sha256:
                entries.append(
                    build.Evidence(
                        id=f"{page}/artefacts/{artefact.public_id}",
                        name=artefact.title,
                        genre=_genre(artefact.media_type),
                        description=f"Part of “{snapshot.title}” ({artefact.media_type})",
                        digest_sri=_sri_sha256(artefact.blob_sha256),
                    )
                )
    return entries


def issue_mastery(
    submission: Submission, endorsing: Sequence[Assessment], *, cohort: str | None = None
) -> IssuedCredential:
    """Build, sign and store the AchievementCredential for an endorsed submission (``cohort``:
    endorsed with that whole cohort; the texts say so, see :mod:`.endorsement_text`).

    Runs inside the caller's write transaction (see :func:`assess`).
    """
    config = ServiceConfig.current()
    competency = submission.competency
    issuer = competency.issuer
    public_id = new_public_id()
    credential_url = config.credential_url(public_id)
    version = endorsing[-1].rubric_version if endorsing else None
    subject_fields = recipient(submission.student)
    # What was assessed, frozen now: the credential's evidence URLs name these copies.
    snapshots = freeze([item.evidence for item in submission.items])
    chosen = _agreed_levels(endorsing, version)
    base = achievement_url(competency, public_url=config.public_url)
    subject = build.AchievementSubject(
        id=subject_fields.id,
        identifier=subject_fields.identifier,
        achievement=achievement_for(competency, version, public_url=config.public_url),
        result=tuple(results(base, version, chosen)) if version is not None else (),
        credits_earned=competency.credits,
    )
    rubric = rubric_label(version.title, version.version) if version else None
    titles = [snapshot.title for snapshot in snapshots]
    facts = [
        HowAssessed(a.assessor.display_name, competency.name, rubric, titles, cohort)
        for a in endorsing
    ]
    endorsements = [
        _endorsement(
            a.assessor,
            credential_url,
            endorsement_comment(how),
            f"Endorsement of mastery: {competency.name}",
            config,
        )
        for a, how in zip(endorsing, facts, strict=True)
    ]
    evidence = evidence_entries(snapshots, public_id)
    if cohort is not None and facts:
        # What was assessed: the cohort's judgement (the levels are the credential's result).
        day = datetime.now(UTC).strftime("%-d %B %Y")
        narrative = cohort_evidence_narrative(facts[-1], day)
        evidence.append(
            build.Evidence(name="Cohort endorsement", narrative=narrative, genre="Assessment")
        )
    unsigned = build.build_achievement_credential(
        id=credential_url,
        issuer=issuer_profile(issuer),
        subject=subject,
        valid_from=datetime.now(UTC),
        name=competency.name,
        description=f"{subject_fields.name} demonstrated mastery of “{competency.name}”.",
        evidence=evidence,
        endorsement=endorsements,
        awarded_date=datetime.now(UTC),
    )
    credential = issue_in_transaction(
        unsigned,
        issuer=issuer,
        public_id=public_id,
        recipient_name=subject_fields.name,
        recipient_user_id=submission.student_id,
        actor=f"user:{endorsing[-1].assessor_id}" if endorsing else "service",
        config=config,
    )
    attach(snapshots, credential)
    return credential


def _agreed_levels(endorsing: Sequence[Assessment], version: RubricVersion | None) -> list[int]:
    """The levels the credential reports: the last endorsing assessor's, on its version."""
    if version is None or not endorsing:
        return []
    return list(endorsing[-1].levels)


def issuer_profile(issuer: Issuer) -> build.Profile:
    """The issuer as credentials name it: its DID, name, and URL, email, description and image
    when it has them."""
    fields: dict[str, Any] = {"id": issuer.did, "name": issuer.name}
    if issuer.url:
        fields["url"] = issuer.url
    if issuer.email:
        fields["email"] = issuer.email
    if issuer.description:
        fields["description"] = issuer.description
    if issuer.image:
        fields["image"] = build.Image(id=issuer.image)
    return build.Profile(**fields)


def issue_stack(student: User, stack: Competency) -> IssuedCredential:
    """Build, sign and store the badge of ``stack`` for ``student``, who mastered every one of
    its components (in the caller's write transaction)."""
    config = ServiceConfig.current()
    public_id = new_public_id()
    subject_fields = recipient(student)
    evidence = []
    for component in stack.components:
        row = mastered(student, component)
        if row is None:  # checked by the caller in this transaction
            raise IssuingConflictError(_l("“%(name)s” is not mastered", name=component.name))
        evidence.append(
            build.Evidence(
                id=config.credential_url(row.credential.public_id),
                name=f"Credential: {component.name}",
                genre="Credential",
            )
        )
    unsigned = build.build_achievement_credential(
        id=config.credential_url(public_id),
        issuer=issuer_profile(stack.issuer),
        subject=build.AchievementSubject(
            id=subject_fields.id,
            identifier=subject_fields.identifier,
            achievement=achievement_for(stack, None, public_url=config.public_url),
            credits_earned=stack.credits,
        ),
        valid_from=datetime.now(UTC),
        name=stack.name,
        description=f"{subject_fields.name} mastered every competency of “{stack.name}”.",
        evidence=evidence,
        awarded_date=datetime.now(UTC),
    )
    return issue_in_transaction(
        unsigned,
        issuer=stack.issuer,
        public_id=public_id,
        recipient_name=subject_fields.name,
        recipient_user_id=student.id,
        config=config,
    )


def endorse_achievement(assessor: User, competency: Competency, comment: str) -> IssuedCredential:
    """An EndorsementCredential by ``assessor`` for the competency's Achievement (committed).

    Signed with the assessor's did:key and given status-list positions like every credential,
    so the assessor's issuer can revoke it.
    """
    if (
        assessor.role not in (Role.ASSESSOR, Role.ADMIN)
        or assessor.issuer_id != competency.issuer_id
    ):
        raise IssuingNotFoundError(_l("no such competency"))
    comment = (comment or "").strip()
    if not comment:
        raise IssuingError(_l("write what you endorse about this competency"))
    if len(comment) > MAX_COMMENT:
        raise IssuingError(_l("the comment is longer than %(max)d characters", max=MAX_COMMENT))
    issuer = endorser_issuer(assessor)
    config = ServiceConfig.current()
    unsigned = build.build_endorsement_credential(
        id=f"urn:uuid:{uuid.uuid4()}",
        issuer=build.Profile(id=issuer.did, name=assessor.display_name),
        subject=build.EndorsementSubject(
            id=achievement_url(competency, public_url=config.public_url),
            endorsement_comment=comment,
        ),
        name=f"Endorsement of “{competency.name}”",
        valid_from=datetime.now(UTC),
    )
    unsigned.pop("id")  # the service gives it its public page URL
    return issue(unsigned, issuer=issuer, recipient_name=competency.name, config=config)
