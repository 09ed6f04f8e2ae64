"""In-app notifications (the :class:`~portfolio.accounts.models.Notification` table) and the mail
that repeats them: :func:`notify` adds a notice in the caller's transaction and queues its mail;
:func:`send_mail` sends that outbox once the transaction is committed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import func, select, update

from portfolio.accounts.models import Notification, User
from portfolio.core import mail
from portfolio.core.db import db, unit_of_work
from portfolio.core.i18n import in_language
from portfolio.core.links import public_link

#: How many unread notices a page lists at most.
UNREAD_SHOWN = 20


@dataclass(frozen=True)
class Mail:
    """A notice to mail once the transaction that made it is committed."""

    to: str
    subject: str
    body: str


def notify(
    user: User, message: str | Callable[[], str], link: str, outbox: list[Mail] | None = None
) -> None:
    """Add a notice for ``user`` (in the caller's transaction) pointing at ``link``, a path
    inside the service; with ``outbox``, also queue a mail of it for :func:`send_mail`.

    ``message`` is best a function making the sentence with ``gettext``: it is called in the
    recipient's language (their profile's, else English), not the language of whoever caused
    the notice."""
    with in_language(user.locale):
        text = message() if callable(message) else message
        body = f"{text}\n\n{public_link(link)}"
    db.session.add(Notification(user_id=user.id, message=text, link=link))
    if outbox is not None:
        outbox.append(Mail(to=user.email, subject=text, body=body))


def send_mail(messages: Iterable[Mail]) -> None:
    """Mail notices after the commit (SMTP when configured, else the outbox folder); a mail
    failure never undoes what was committed (it is logged).  ``CREDFOLIO_NOTIFY_BY_MAIL =
    False`` (the demo seeding sets it) keeps notices in-app only."""
    if not current_app.config.get("CREDFOLIO_NOTIFY_BY_MAIL", True):
        return
    for message in messages:
        try:
            mail.send(to=message.to, subject=message.subject, body=message.body)
        except (mail.MailError, ValueError, OSError) as exc:
            current_app.logger.warning("notification mail to a user failed: %s", exc)


def unread_count(user: User) -> int:
    """How many notifications ``user`` has not read."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


@dataclass(frozen=True)
class Notice:
    """An unread notification; ``link`` is as stored (a page checks it is a local path)."""

    message: str
    link: str | None
    created_at: datetime


def unread(user_id: int, *, limit: int = UNREAD_SHOWN) -> list[Notice]:
    """The user's unread notifications, newest first."""
    rows = db.session.execute(
        select(Notification.message, Notification.link, Notification.created_at)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return [Notice(row.message, row.link, row.created_at) for row in rows]


def recent(user: User, *, limit: int) -> list[Notification]:
    """The user's latest ``limit`` notifications, read or not, newest first."""
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_all_read(user: User) -> None:
    """Mark every unread notification of ``user`` read (committed)."""
    with unit_of_work() as session:
        session.execute(
            update(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=datetime.now(UTC))
        )
