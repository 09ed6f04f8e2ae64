"""The student's credentials: the ones issued to them, and hiding one from their public
portfolios (it stays verifiable at its public link)."""

from __future__ import annotations

from sqlalchemy import select

from portfolio.accounts.models import User
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import NotFoundError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.issuing.models import IssuedCredential


def my_credentials(user: User) -> list[IssuedCredential]:
    """The credentials issued to ``user``, newest first."""
    return list(
        db.session.scalars(
            select(IssuedCredential)
            .where(IssuedCredential.recipient_user_id == user.id)
            .order_by(IssuedCredential.issued_at.desc(), IssuedCredential.id.desc())
        )
    )


def set_hidden(user: User, public_id: str, *, hidden: bool) -> IssuedCredential:
    """Hide the credential ``public_id`` from ``user``'s public portfolios, or show it again
    (committed).  Raises :class:`~portfolio.core.errors.NotFoundError` when it is not one of
    theirs (someone else's reads like one that does not exist)."""
    with unit_of_work() as session:
        row: IssuedCredential | None = session.scalar(
            select(IssuedCredential).where(IssuedCredential.public_id == public_id)
        )
        if row is None or row.recipient_user_id != user.id:
            raise NotFoundError(_l("no such credential"))
        row.hidden_by_recipient = hidden
    return row
