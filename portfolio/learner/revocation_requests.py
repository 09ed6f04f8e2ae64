"""A learner asks for one of their credentials to be revoked: the way to have the evidence
frozen in it removed, since a standing credential keeps its evidence
(:mod:`portfolio.evidence.snapshots`).  The request reaches every administrator of the issuer
(in-app and by mail) and the audit log; revoking stays the administrators' decision.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from portfolio.accounts.models import Role, User
from portfolio.accounts.notifications import Mail, notify, send_mail
from portfolio.core import audit
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import ConflictError, InvalidInputError, NotFoundError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.issuing.models import IssuedCredential

MAX_REASON = 2000


def ask_for_revocation(student: User, credential_public_id: str, reason: str) -> IssuedCredential:
    """Tell the issuer's administrators that ``student`` asks for the credential to be revoked,
    and why (committed; mail after the commit).

    Raises :class:`NotFoundError` (not theirs), :class:`ConflictError` (already revoked),
    :class:`InvalidInputError` (no reason, or a reason that is too long).
    """
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInputError(_l("Say why you want the credential revoked."), code="NO_REASON")
    if len(reason) > MAX_REASON:
        raise InvalidInputError(
            _l("The reason is longer than %(max)d characters.", max=MAX_REASON),
            code="REASON_TOO_LONG",
        )
    outbox: list[Mail] = []
    with unit_of_work():
        credential: IssuedCredential | None = db.session.scalar(
            select(IssuedCredential).where(IssuedCredential.public_id == credential_public_id)
        )
        if credential is None or credential.recipient_user_id != student.id:
            raise NotFoundError(_l("no such credential"))
        if credential.revoked_at is not None:
            raise ConflictError(_l("This credential is already revoked."), code="ALREADY_REVOKED")
        admins = db.session.scalars(
            select(User).where(
                User.issuer_id == credential.issuer_id,
                User.role == Role.ADMIN,
                User.disabled_at.is_(None),
            )
        )
        for admin in admins:
            notify(
                admin,
                lambda: _(
                    "%(student)s asks for their credential “%(name)s” to be revoked: %(reason)s",
                    student=student.display_name,
                    name=credential.achievement_name or _("a credential"),
                    reason=reason,
                ),
                f"/admin/credentials/{credential.public_id}",
                outbox,
            )
        audit.record(
            "revocation_requested",
            actor=student,
            issuer_id=credential.issuer_id,
            target=f"credential:{credential.public_id}",
            detail={"reason": reason},
        )
    send_mail(outbox)
    return credential
