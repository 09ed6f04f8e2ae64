"""The student's own corner: notifications, and the credentials they earned.

Notifications are in-app notices (feedback arrived, a credential was issued, a moderation flag
for administrators); every signed-in user has them.  Students see their credentials, hide one
from their public portfolios (it stays verifiable at its public link), and reach the public page
and the downloads from there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select, update

from portfolio.accounts.auth import current_user, login_required, signed_in_user
from portfolio.accounts.models import Notification, User
from portfolio.core.db import db
from portfolio.issuing.models import IssuedCredential

bp = Blueprint("learner", __name__)

NOTIFICATIONS_SHOWN = 100


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


@bp.app_context_processor
def _unread() -> dict[str, Any]:
    def unread_notifications() -> int:
        user = current_user()
        return unread_count(user) if user is not None else 0

    return {"unread_notifications": unread_notifications}


@bp.get("/notifications")
@login_required()
def notifications() -> ResponseReturnValue:
    """My notifications, newest first (unread ones marked)."""
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.user_id == signed_in_user().id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(NOTIFICATIONS_SHOWN)
    ).all()
    return render_template("learner/notifications.html", notifications=rows)


@bp.post("/notifications/read")
@login_required()
def mark_read() -> ResponseReturnValue:
    """Mark all my notifications read."""
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == signed_in_user().id, Notification.read_at.is_(None))
        .values(read_at=datetime.now(UTC))
    )
    db.session.commit()
    flash("All notifications marked as read.")
    return redirect(url_for(".notifications"), 303)


@bp.get("/my/credentials")
@login_required(role="student")
def credentials() -> ResponseReturnValue:
    """The credentials issued to me, newest first."""
    rows = db.session.scalars(
        select(IssuedCredential)
        .where(IssuedCredential.recipient_user_id == signed_in_user().id)
        .order_by(IssuedCredential.issued_at.desc(), IssuedCredential.id.desc())
    ).all()
    return render_template("learner/credentials.html", credentials=rows)


@bp.post("/my/credentials/<public_id>/visibility")
@login_required(role="student")
def visibility(public_id: str) -> ResponseReturnValue:
    """Hide a credential from my public portfolios, or show it again."""
    row: IssuedCredential | None = db.session.scalar(
        select(IssuedCredential).where(IssuedCredential.public_id == public_id)
    )
    if row is None or row.recipient_user_id != signed_in_user().id:
        abort(404)
    hide = request.form.get("hidden") == "1"
    row.hidden_by_recipient = hide
    db.session.commit()
    name = row.achievement_name or "The credential"
    flash(
        f"“{name}” is hidden from your portfolios; its public link still verifies."
        if hide
        else f"“{name}” is shown on your portfolios again."
    )
    return redirect(url_for(".credentials"), 303)
