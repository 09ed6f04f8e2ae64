"""The ``auth`` blueprint: the sign-in page (with lockout's 429), signing out here and
everywhere; and the per-request hooks that make ``current_user`` fresh and known to templates."""

from __future__ import annotations

import math
from datetime import datetime

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from portfolio.accounts import sign_in_service
from portfolio.accounts.auth import (
    current_user,
    current_user_in_templates,
    forget_cached_user,
    login_required,
    sign_in,
    sign_out,
    signed_in_user,
)
from portfolio.accounts.forms import NextPageForm, SignInForm, SignOutEverywhereForm
from portfolio.accounts.models import User
from portfolio.core.models import utcnow

bp = Blueprint("auth", __name__)
bp.before_app_request(forget_cached_user)
bp.app_context_processor(current_user_in_templates)

#: One message for an unknown address, a wrong password and a disabled account, so that the
#: sign-in form does not tell anyone which addresses have accounts (no account enumeration).
#: (English; the page shows it in the reader's language.)
WRONG_CREDENTIALS = "The email address or password is wrong."


#: Each role's home, by endpoint name: where a sign-in without ``next`` lands and where ``/``
#: sends a signed-in person (the pages belong to features above this one, so they are named,
#: not imported).
ROLE_HOMES = {
    "student": "learner.home",
    "admin": "admin.home",
    "assessor": "review.index",
    "guardian": "family.home",
}


def role_home(user: User) -> str:
    """The URL of ``user``'s role home (the public home for a role without one)."""
    endpoint = ROLE_HOMES.get(str(user.role), "home.index")
    # A role home belongs to a feature above this one; an app built without that feature
    # sends the person to their profile (the public home would send them back here).
    if endpoint not in current_app.view_functions:
        endpoint = "accounts.profile"
    return url_for(endpoint)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in_page() -> ResponseReturnValue:
    """The sign-in form; on success a new session and a redirect (303) to ``next`` or home.

    Failed submissions are shown again with 422: field errors next to their fields, and one
    message for wrong credentials that does not say which part was wrong.
    """
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        try:
            user = sign_in_service.authenticate(form.email.data or "", form.password.data or "")
        except sign_in_service.SignInLocked as locked:
            return _locked_page(form, locked.until)
        if user is not None:
            sign_in(user)
            flash(_("Welcome back, %(name)s.", name=user.display_name), "success")
            target = NextPageForm(formdata=request.args).target()
            return redirect(target or role_home(user), 303)
        error = _("The email address or password is wrong.")
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/sign_in.html", form=form, error=error), status


def _locked_page(form: SignInForm, until: datetime) -> ResponseReturnValue:
    """429 with ``Retry-After``: the form again, saying when to try again (the same page
    whether or not the address has an account)."""
    seconds = max(1, math.ceil((until - utcnow()).total_seconds()))
    minutes = math.ceil(seconds / 60)
    wait = ngettext("about a minute", "about %(num)d minutes", minutes)
    page = render_template("accounts/sign_in.html", form=form, locked_until=until, wait=wait)
    return page, 429, {"Retry-After": str(seconds)}


@bp.post("/sign-out")
def sign_out_page() -> ResponseReturnValue:
    """End this session and go home (POST only, with a CSRF token: no sign-out by a link)."""
    user = current_user()
    sign_out()
    if user is not None:
        sign_in_service.record_sign_out(user)
    flash(_("You are signed out."), "success")
    return redirect(url_for("home.index"), 303)


@bp.route("/sign-out-everywhere", methods=["GET", "POST"])
@login_required()
def sign_out_everywhere_page() -> ResponseReturnValue:
    """End every session of the signed-in user, on every device (after a confirmation).

    Every session cookie carries the account's ``session_version``; bumping it makes all of
    them, including copies an attacker may hold, worthless at their next request.
    """
    user = signed_in_user()
    form = SignOutEverywhereForm()
    error = None
    if form.is_submitted():
        if form.validate():
            sign_in_service.record_sign_out(user, everywhere=True)
            sign_out()
            flash(_("You are signed out on every device. Sign in again here."), "success")
            return redirect(url_for(".sign_in_page"), 303)
        # The box unticked (or, with CSRF checks on, a form that expired): the first error.
        error = [*form.confirm.errors, *form.errors.get("csrf_token", [])][0]
    page = render_template("accounts/sign_out_everywhere.html", error=error)
    return page, 422 if error else 200
