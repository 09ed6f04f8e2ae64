"""The student's own corner: notifications, and the credentials they earned.

Notifications are in-app notices (feedback arrived, a credential was issued, a moderation flag
for administrators); every signed-in user has them.  Students see their credentials, hide one
from their public portfolios (it stays verifiable at its public link), and reach the public page
and the downloads from there.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from portfolio.accounts import notifications as notices
from portfolio.accounts.auth import current_user, login_required, signed_in_user
from portfolio.accounts.models import Role
from portfolio.core.errors import NotFoundError
from portfolio.learner import service
from portfolio.learner.forms import VisibilityForm

bp = Blueprint("learner", __name__)

NOTIFICATIONS_SHOWN = 100


@bp.app_context_processor
def _unread() -> dict[str, Any]:
    def unread_notifications() -> int:
        user = current_user()
        return notices.unread_count(user) if user is not None else 0

    return {"unread_notifications": unread_notifications}


@bp.get("/notifications")
@login_required()
def notifications() -> ResponseReturnValue:
    """My notifications, newest first (unread ones marked)."""
    rows = notices.recent(signed_in_user(), limit=NOTIFICATIONS_SHOWN)
    return render_template("learner/notifications.html", notifications=rows)


@bp.post("/notifications/read")
@login_required()
def mark_read() -> ResponseReturnValue:
    """Mark all my notifications read."""
    notices.mark_all_read(signed_in_user())
    flash("All notifications marked as read.")
    return redirect(url_for(".notifications"), 303)


@bp.get("/my/credentials")
@login_required(role=Role.STUDENT)
def credentials() -> ResponseReturnValue:
    """The credentials issued to me, newest first."""
    rows = service.my_credentials(signed_in_user())
    return render_template("learner/credentials.html", credentials=rows)


@bp.post("/my/credentials/<public_id>/visibility")
@login_required(role=Role.STUDENT)
def visibility(public_id: str) -> ResponseReturnValue:
    """Hide a credential from my public portfolios, or show it again."""
    hide = VisibilityForm().hide
    try:
        row = service.set_hidden(signed_in_user(), public_id, hidden=hide)
    except NotFoundError:
        abort(404)
    name = row.achievement_name or "The credential"
    flash(
        f"“{name}” is hidden from your portfolios; its public link still verifies."
        if hide
        else f"“{name}” is shown on your portfolios again."
    )
    return redirect(url_for(".credentials"), 303)
