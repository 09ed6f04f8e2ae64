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
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from portfolio.accounts import notifications as notices
from portfolio.accounts.auth import current_user, login_required, signed_in_user
from portfolio.accounts.models import Role
from portfolio.core.db import db
from portfolio.core.errors import NotFoundError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.guardians.consent import may_publish
from portfolio.guardians.links import guardians_of
from portfolio.issuing.models import IssuedCredential
from portfolio.learner import service
from portfolio.learner.forms import VisibilityForm
from portfolio.learner.home import credential_shares
from portfolio.learner.home import home as home_view
from portfolio.learner.share import public_page_url, qr_svg

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
    flash(_("All notifications marked as read."), "success")
    return redirect(url_for(".notifications"), 303)


@bp.get("/my/credentials")
@login_required(role=Role.STUDENT)
def credentials() -> ResponseReturnValue:
    """The credentials issued to me, newest first."""
    shares = credential_shares(signed_in_user())
    return render_template("learner/credentials.html", shares=shares)


@bp.get("/home")
@login_required(role=Role.STUDENT)
def home() -> ResponseReturnValue:
    """The student's home: what to do next, recent evidence, credentials to share, portfolios."""
    student = signed_in_user()
    return render_template(
        "learner/home.html", home=home_view(student), guardians=guardians_of(student)
    )


#: How long a browser may keep a QR code (it encodes a URL that never changes).
QR_MAX_AGE = 86_400


@bp.get("/my/credentials/<public_id>/qr.svg")
@login_required(role=Role.STUDENT)
def qr_code(public_id: str) -> ResponseReturnValue:
    """A QR code (SVG) of one of my credentials' public link; 404 for anyone else's."""
    row = db.session.scalar(select(IssuedCredential).where(IssuedCredential.public_id == public_id))
    if row is None or row.recipient_user_id != signed_in_user().id:
        abort(404)
    response = Response(qr_svg(public_page_url(row)), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = f"private, max-age={QR_MAX_AGE}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'inline; filename="credential-{public_id}-qr.svg"'
    return response


#: Why a minor cannot publish a credential (issue 17 §3).
CONSENT_NEEDED_FOR_CREDENTIALS = _l(
    "A guardian's consent is needed before your credentials can be shown publicly. Ask your "
    "guardian to give it on their Credfolio page, or your school to record it."
)


@bp.post("/my/credentials/<public_id>/visibility")
@login_required(role=Role.STUDENT)
def visibility(public_id: str) -> ResponseReturnValue:
    """Hide a credential from my public portfolios, or show it again."""
    hide = VisibilityForm().hide
    owned = db.session.scalar(
        select(IssuedCredential.id).where(
            IssuedCredential.public_id == public_id,
            IssuedCredential.recipient_user_id == signed_in_user().id,
        )
    )
    if owned is not None and not hide and not may_publish(signed_in_user()):
        # Showing a credential on her portfolios again publishes it: a minor needs consent.
        flash(str(CONSENT_NEEDED_FOR_CREDENTIALS), "error")
        return redirect(url_for(".credentials"), 303)
    try:
        row = service.set_hidden(signed_in_user(), public_id, hidden=hide)
    except NotFoundError:
        abort(404)
    name = row.achievement_name or _("The credential")
    flash(
        _("“%(name)s” is hidden from your portfolios; its public link still verifies.", name=name)
        if hide
        else _("“%(name)s” is shown on your portfolios again.", name=name),
        "success",
    )
    return redirect(url_for(".credentials"), 303)
