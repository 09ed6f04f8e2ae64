"""The administrators' credential pages (bp ``admin``): their issuer's issued credentials, and
revoking, suspending and unsuspending them (through :func:`portfolio.issuing.service.set_status`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import or_, select

from portfolio.accounts.auth import current_user, login_required
from portfolio.accounts.models import Role, User
from portfolio.core.db import db
from portfolio.core.errors import status_for
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.paging import paginate
from portfolio.issuing import admin_home
from portfolio.issuing import service as services
from portfolio.issuing.forms import CredentialSearchForm, RevokeForm, SuspendForm, UnsuspendForm
from portfolio.issuing.models import IssuedCredential

bp = Blueprint("admin", __name__, url_prefix="/admin")

PER_PAGE = 50


@dataclass(frozen=True)
class Event:
    """One line of a credential's history."""

    at: datetime
    what: str
    reason: str | None


_WORDS = {
    "issued": _l("Issued"),
    "revoked": _l("Revoked"),
    "suspended": _l("Suspended"),
    "unsuspended": _l("Suspension lifted"),
}


def history(row: IssuedCredential) -> list[Event]:
    """Every recorded change, oldest first, with its reason (see ``services.history``)."""
    events = [
        Event(event.at, str(_WORDS.get(event.action, event.action)), event.reason)
        for event in services.history(row)
    ]
    return events or [Event(row.issued_at, _("Issued"), None)]


def _admin() -> User:
    user = current_user()
    if user is None:  # login_required ran first; this only narrows the type
        abort(401)
    return user


def _own_credential(public_id: str) -> IssuedCredential:
    """The credential with that public id issued by the administrator's own issuer.

    Raises 404 (``NotFound``) for anything else — another issuer's credential included — so
    that an administrator cannot even learn whether another issuer's credential exists.
    Only the public id is accepted (not numeric ids or credential URLs) and the issuer is part
    of the query itself, not a check made after loading.
    """
    user = _admin()
    if user.issuer_id is None:
        abort(404)
    row: IssuedCredential | None = db.session.scalar(
        select(IssuedCredential).where(
            IssuedCredential.public_id == public_id,
            IssuedCredential.issuer_id == user.issuer_id,
        )
    )
    if row is None:
        abort(404)
    return row


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@bp.get("/")
@login_required(role=Role.ADMIN)
def home() -> ResponseReturnValue:
    """The administration home: the issuer's counts, its signing key, recent activity and
    shortcuts (a fixed number of queries: :mod:`portfolio.issuing.admin_home`).  The
    credentials list it used to redirect to is at ``/admin/credentials``."""
    user = _admin()
    if user.issuer_id is None:
        abort(404)
    return render_template(
        "issuing/home.html", home=admin_home.home(user, user.issuer_id), issuer=user.issuer
    )


@bp.get("/credentials")
@login_required(role=Role.ADMIN)
def credentials() -> ResponseReturnValue:
    """The issuer's credentials, newest first, 50 a page; ``q`` searches recipient and
    achievement (name or id), case-insensitively; ``page`` beyond the last shows none.
    The total is counted up to a limit (:mod:`portfolio.core.paging`)."""
    user = _admin()
    search = CredentialSearchForm(request.args)
    query: str = search.q.data
    statement = select(IssuedCredential).where(IssuedCredential.issuer_id == user.issuer_id)
    if query:
        # The search text is a bound parameter with LIKE's wildcards escaped: "%" finds a "%".
        pattern = _like_pattern(query)
        statement = statement.where(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (
                        IssuedCredential.recipient_name,
                        IssuedCredential.subject_id,
                        IssuedCredential.achievement_name,
                        IssuedCredential.achievement_id,
                    )
                )
            )
        )
    statement = statement.order_by(IssuedCredential.issued_at.desc(), IssuedCredential.id.desc())
    return render_template(
        "issuing/credentials.html",
        pagination=paginate(statement, page=search.page_number, per_page=PER_PAGE),
        query=query,
        issuer=user.issuer,
    )


def _detail(
    row: IssuedCredential,
    *,
    status: int = 200,
    error: str | None = None,
    suspend_form: SuspendForm | None = None,
    unsuspend_form: UnsuspendForm | None = None,
) -> ResponseReturnValue:
    page = render_template(
        "issuing/credential.html",
        row=row,
        history=history(row),
        error=error,
        suspend_form=suspend_form or SuspendForm(prefix="suspend", formdata=None),
        unsuspend_form=unsuspend_form or UnsuspendForm(prefix="unsuspend", formdata=None),
    )
    return page, status


@bp.get("/credentials/<public_id>")
@login_required(role=Role.ADMIN)
def credential(public_id: str) -> ResponseReturnValue:
    """One credential: what it says, its state and history, and the actions it allows."""
    return _detail(_own_credential(public_id))


@dataclass(frozen=True)
class Refusal:
    """The service's refusal of a change: a sentence to show, and the page's status (409 when
    the credential's state does not allow it)."""

    message: str
    status: int


def _change(row: IssuedCredential, action: str, reason: str) -> Refusal | None:
    """Apply ``action`` through the service; its refusal, or None on success."""
    try:
        services.set_status(row, action, reason=reason, actor=f"user:{_admin().id}")
    except services.IssueError as exc:
        message = exc.message.rstrip(".")
        return Refusal(f"{message[:1].upper()}{message[1:]}.", status_for(exc))
    return None


def _back_to(row: IssuedCredential, message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for(".credential", public_id=row.public_id), 303)


@bp.post("/credentials/<public_id>/suspend")
@login_required(role=Role.ADMIN)
def suspend(public_id: str) -> ResponseReturnValue:
    """Suspend (reason required); 303 back to the credential, 422 for a missing reason, 409
    when the service refuses (already suspended, revoked)."""
    row = _own_credential(public_id)
    form = SuspendForm(prefix="suspend")
    if not form.validate_on_submit():
        return _detail(row, status=422, suspend_form=form)
    refusal = _change(row, "suspend", form.reason.data or "")
    if refusal:
        return _detail(row, status=refusal.status, error=refusal.message)
    return _back_to(row, _("The credential is suspended. Verifiers now report it as suspended."))


@bp.post("/credentials/<public_id>/unsuspend")
@login_required(role=Role.ADMIN)
def unsuspend(public_id: str) -> ResponseReturnValue:
    """Lift a suspension (note optional); 303 back, 409 when it is not suspended or revoked."""
    row = _own_credential(public_id)
    form = UnsuspendForm(prefix="unsuspend")
    if not form.validate_on_submit():
        return _detail(row, status=422, unsuspend_form=form)
    refusal = _change(row, "unsuspend", form.reason.data or "")
    if refusal:
        return _detail(row, status=refusal.status, error=refusal.message)
    return _back_to(row, _("The suspension is lifted. The credential verifies again."))


@bp.route("/credentials/<public_id>/revoke", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def revoke(public_id: str) -> ResponseReturnValue:
    """The revocation confirmation page (GET) and the revocation itself (POST: a reason and the
    confirmation box); 303 back on success, 422 without reason or confirmation, 409 when the
    service refuses (already revoked)."""
    row = _own_credential(public_id)
    form = RevokeForm()
    refusal = None
    if form.validate_on_submit():
        refusal = _change(row, "revoke", form.reason.data or "")
        if refusal is None:
            return _back_to(
                row, _("The credential is revoked. Verifiers now report it as revoked.")
            )
    status = (refusal.status if refusal else 422) if form.is_submitted() else 200
    error = refusal.message if refusal else None
    return render_template("issuing/revoke.html", row=row, form=form, error=error), status
