"""The administrators' "Trust and privacy" page (bp ``admin_trust``, under /admin/trust): the
issuers verification confirms (this service's, the local list, the configured registry files;
portfolio/issuing/trust.py), adding to and removing from the local list, and the school's
choice of recipient identity (portfolio/accounts/recipient_identity.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portfolio.accounts import recipient_identity
from portfolio.accounts.auth import current_user, login_required
from portfolio.accounts.models import Issuer, Role, User
from portfolio.core.db import db
from portfolio.core.errors import CredfolioError, status_for
from portfolio.issuing import trust
from portfolio.issuing.forms import (
    RecipientIdentityForm,
    RemoveTrustedIssuerForm,
    TrustedIssuerForm,
)

bp = Blueprint("admin_trust", __name__, url_prefix="/admin/trust")


def _admin() -> tuple[User, Issuer]:
    user = current_user()
    issuer = db.session.get(Issuer, user.issuer_id) if user and user.issuer_id else None
    if user is None or issuer is None:
        abort(404)
    return user, issuer


def _page(
    *,
    add_form: TrustedIssuerForm | None = None,
    identity_form: RecipientIdentityForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    _user, issuer = _admin()
    identity_form = identity_form or RecipientIdentityForm(
        recipient_identity=recipient_identity.of_issuer(issuer).value
    )
    context: dict[str, Any] = {
        "issuer": issuer,
        "entries": trust.local_list(),
        "registries": trust.registries(),
        "add_form": add_form or TrustedIssuerForm(),
        "remove_form": RemoveTrustedIssuerForm(),
        "identity_form": identity_form,
        "identity_choices": recipient_identity.CHOICES,
        "current_identity": recipient_identity.of_issuer(issuer),
        "error": error,
    }
    return render_template("issuing/trust.html", **context), status


@bp.get("")
@login_required(role=Role.ADMIN)
def page() -> ResponseReturnValue:
    """The trust list, the registries and the recipient identity."""
    return _page()


@bp.post("/issuers")
@login_required(role=Role.ADMIN)
def add_issuer() -> ResponseReturnValue:
    """Add an issuer to the local list; 422 with the form's errors, 409 when already known."""
    user, _issuer = _admin()
    form = TrustedIssuerForm()
    if not form.validate_on_submit():
        return _page(add_form=form, status=422)
    try:
        trust.add(did=form.did.data, name=form.name.data, url=form.url.data, actor=user)
    except CredfolioError as exc:
        return _page(add_form=form, error=exc.message, status=status_for(exc))
    flash(_("%(name)s is now on the trust list.", name=form.name.data), "success")
    return redirect(url_for(".page"), 303)


@bp.post("/issuers/<int:entry_id>/remove")
@login_required(role=Role.ADMIN)
def remove_issuer(entry_id: int) -> ResponseReturnValue:
    """Remove an entry the administrator's school added (404 for any other)."""
    user, _issuer = _admin()
    form = RemoveTrustedIssuerForm()
    if not form.validate_on_submit():
        return _page(error=_("The form could not be accepted; reload the page."), status=400)
    try:
        trust.remove(entry_id, actor=user)
    except CredfolioError as exc:
        if status_for(exc) == 404:
            abort(404)
        return _page(error=exc.message, status=status_for(exc))
    flash(_("The issuer was removed from the trust list."), "success")
    return redirect(url_for(".page"), 303)


@bp.post("/recipient-identity")
@login_required(role=Role.ADMIN)
def choose_recipient_identity() -> ResponseReturnValue:
    """Set how the school's new credentials name the student; 422 without a valid choice."""
    user, issuer = _admin()
    form = RecipientIdentityForm()
    if not form.validate_on_submit():
        return _page(identity_form=form, status=422)
    recipient_identity.choose(issuer, form.recipient_identity.data, actor=user)
    flash(
        _("New credentials will name students as chosen; issued ones keep their identity."),
        "success",
    )
    return redirect(url_for(".page"), 303)
