"""What a status change reaches beyond the status list: the recipient is told (in-app and by
mail, with the reason), and the features above issuing that keep their own view of a
credential follow it — the assessment layer revokes the stack badges a revoked component
completed (docs/assessment.md, "When a credential is revoked or suspended").

Issuing is a lower layer than those features and must not import them, so they register a
*follower* when the app is made (``wsgi.Feature.status_followers``), kept in
``app.extensions``.  A follower runs inside the change's transaction: if it raises, the change
is not made.  Mail is queued in the change's outbox and sent after the commit, so a mail
failure never undoes a revocation.

Only deliberate changes run here (:func:`portfolio.issuing.service.set_status`: the
administrators' pages, the CLI, the demo).  A credential replaced after a key compromise is
revoked with ``set_status_in_transaction`` alone: the student keeps the replacement, so
nothing follows and nobody is told that a credential was taken away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import Flask, current_app
from flask_babel import gettext as _

from portfolio.accounts.models import User
from portfolio.accounts.notifications import Mail, notify
from portfolio.core.db import db

if TYPE_CHECKING:
    from portfolio.issuing.models import IssuedCredential
    from portfolio.issuing.service import ServiceConfig

#: ``app.extensions`` key of the registered followers.
EXTENSION = "credfolio.status_followers"
#: What each action is called once done (the credential events use the same words).
DONE = {"revoke": "revoked", "suspend": "suspended", "unsuspend": "unsuspended"}


@dataclass
class StatusChange:
    """A change just made to ``credential`` (in the open transaction): ``action`` is
    ``revoked``, ``suspended`` or ``unsuspended``.  ``outbox`` collects mail to send after the
    commit; ``config`` lets a follower change other credentials in the same transaction."""

    credential: IssuedCredential
    action: str
    reason: str
    actor: str
    config: ServiceConfig
    outbox: list[Mail] = field(default_factory=list)


Follower = Callable[[StatusChange], None]


def register_followers(app: Flask, followers: tuple[Follower, ...]) -> None:
    """Add ``followers`` to the app's (each once, in order)."""
    known: list[Follower] = app.extensions.setdefault(EXTENSION, [])
    known.extend(follower for follower in followers if follower not in known)


def _followers() -> list[Follower]:
    found: list[Follower] = current_app.extensions.get(EXTENSION, [])
    return found


def change_status_in_transaction(
    row: IssuedCredential,
    action: str,
    *,
    reason: str,
    actor: str,
    config: ServiceConfig,
    outbox: list[Mail],
) -> StatusChange:
    """Revoke, suspend or unsuspend ``row`` in the caller's write transaction, tell its
    recipient and run the followers (which may change further credentials the same way).
    Raises what ``set_status_in_transaction`` raises; nothing is kept then."""
    from portfolio.issuing.service import set_status_in_transaction

    set_status_in_transaction(row, action, reason=reason, actor=actor, config=config)
    change = StatusChange(
        credential=row,
        action=DONE[action],
        reason=" ".join(str(reason or "").split())[:500],
        actor=actor,
        config=config,
        outbox=outbox,
    )
    tell_recipient(change)
    for follower in _followers():
        follower(change)
    return change


def notice_text(change: StatusChange) -> str:
    """The sentence the recipient reads: what happened to which credential, and why (in the
    current language: :func:`tell_recipient` calls it in the recipient's)."""
    name = change.credential.achievement_name or _("a credential")
    if change.action == "revoked":
        text = _("Your credential “%(name)s” was revoked and no longer verifies.", name=name)
    elif change.action == "suspended":
        text = _(
            "Your credential “%(name)s” is suspended: it does not verify until the suspension "
            "is lifted.",
            name=name,
        )
    else:
        text = _(
            "The suspension of your credential “%(name)s” is lifted: it verifies again.",
            name=name,
        )
    if change.reason:
        text = _("%(notice)s Reason: %(reason)s", notice=text, reason=change.reason)
    return str(text)


def tell_recipient(change: StatusChange) -> None:
    """Notify the student the credential was issued to (when they have an account here that
    is not deleted), in-app and by mail, linking to their list of credentials."""
    user_id = change.credential.recipient_user_id
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or user.deleted_at is not None:
        return
    notify(user, lambda: notice_text(change), "/my/credentials", change.outbox)
