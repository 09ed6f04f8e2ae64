"""The ``accounts`` blueprint: administrators' invitations and class rosters, joining by an
invitation link, password reset by a signed link, and the learner's own profile (the rules are
in :mod:`portfolio.accounts.service`)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.sansio.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import refresh
from werkzeug.datastructures import FileStorage

from portfolio.accounts import service
from portfolio.accounts.auth import login_required, sign_in, signed_in_user
from portfolio.accounts.forms import (
    ForgotForm,
    InvitationForm,
    JoinForm,
    NewPasswordForm,
    ProfileForm,
    RevokeInvitationForm,
    RosterForm,
)
from portfolio.accounts.models import Issuer, Role, User
from portfolio.accounts.roster import RosterFileError
from portfolio.core.errors import ConflictError, NotFoundError
from portfolio.core.i18n import PROFILE_LANGUAGE
from portfolio.files import uploads

bp = Blueprint("accounts", __name__)


def _invited(email: str, role: str) -> str:
    """The flash after inviting ``email`` as ``role`` (one whole sentence per role, so that
    every language can inflect it)."""
    if role == Role.ADMIN:
        return str(_("Invited %(email)s as an administrator.", email=email))
    if role == Role.ASSESSOR:
        return str(_("Invited %(email)s as an assessor.", email=email))
    if role == Role.GUARDIAN:
        return str(_("Invited %(email)s as a guardian.", email=email))
    return str(_("Invited %(email)s as a student.", email=email))


def _already(email: str, state: str) -> str:
    """The flash when revoking an invitation that is no longer pending."""
    if state == "accepted":
        return str(_("The invitation for %(email)s is already accepted.", email=email))
    if state == "revoked":
        return str(_("The invitation for %(email)s is already revoked.", email=email))
    return str(_("The invitation for %(email)s is already expired.", email=email))


def _not_pending(state: str) -> str:
    """Why an invitation in ``state`` (not pending) cannot be used (``service.NOT_PENDING``, in
    the reader's language)."""
    if state == "accepted":
        return str(_("This invitation has already been used. Sign in with the password you chose."))
    if state == "revoked":
        return str(_("This invitation was withdrawn. Ask your school for a new one."))
    return str(_("This invitation has expired. Ask your school for a new one."))


@bp.record_once
def _register_profile_language(state: BlueprintSetupState) -> None:
    """Pages are in the language a signed-in person chose on their profile (core's language
    selector asks this hook: core imports no feature)."""
    state.app.extensions[PROFILE_LANGUAGE] = service.profile_language


def _gone(title: str, message: str) -> ResponseReturnValue:
    return render_template("accounts/gone.html", title=title, message=message), 410


# -- administrators --------------------------------------------------------------------------


def _admin_issuer() -> tuple[User, Issuer]:
    user = signed_in_user()
    if user.issuer is None:
        abort(404)
    return user, user.issuer


@bp.route("/admin/invitations", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def invitations() -> ResponseReturnValue:
    """The issuer's invitations (newest first) and the form to invite one person."""
    admin, issuer = _admin_issuer()
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            invitation, sent = service.invite(
                admin,
                issuer,
                email=form.email.data or "",
                name=form.name.data or "",
                role=form.role.data,
            )
        except ConflictError as refused:
            form.email.errors = [refused.message]
        else:
            if sent:
                flash(_invited(invitation.email, invitation.role), "success")
            else:
                flash(
                    _(
                        "Invited %(email)s, but the mail could not be sent: revoke and "
                        "retry later.",
                        email=invitation.email,
                    ),
                    "warning",
                )
            return redirect(url_for(".invitations"), 303)
    status = 422 if form.is_submitted() else 200
    listed = service.invitations_of(issuer)
    return render_template("accounts/invitations.html", form=form, invitations=listed), status


@bp.post("/admin/invitations/<invitation_id>/revoke")
@login_required(role=Role.ADMIN)
def revoke_invitation(invitation_id: str) -> ResponseReturnValue:
    """Revoke a pending invitation of the administrator's own issuer (404 for any other)."""
    _admin, issuer = _admin_issuer()
    try:
        invitation = service.issuer_invitation(issuer, invitation_id)
    except NotFoundError:
        abort(404)
    if not RevokeInvitationForm().validate_on_submit():
        abort(400)
    if service.revoke_invitation(invitation):
        flash(_("The invitation for %(email)s is revoked.", email=invitation.email), "success")
    else:
        state = service.invitation_state(invitation)
        flash(_already(invitation.email, state), "warning")
    return redirect(url_for(".invitations"), 303)


@bp.route("/admin/roster", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def roster() -> ResponseReturnValue:
    """Upload a roster CSV; the answer is the per-row report."""
    admin, issuer = _admin_issuer()
    form = RosterForm()
    report = None
    if form.validate_on_submit():
        try:
            report = service.import_roster(form.roster.data.read(), issuer=issuer, invited_by=admin)
        except RosterFileError as error:
            form.roster.errors = [_("This file cannot be imported: %(problem)s.", problem=error)]
    status = 422 if form.is_submitted() and report is None else 200
    return render_template("accounts/roster.html", form=form, report=report), status


# -- joining ---------------------------------------------------------------------------------


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token: str) -> ResponseReturnValue:
    """Accept an invitation: choose a password; the account is created and signed in."""
    invitation = service.find_invitation(token)
    if invitation is None:
        abort(404)
    state = service.invitation_state(invitation)
    if state != "pending":
        return _gone(_("This invitation cannot be used"), _not_pending(state))
    form = JoinForm(data={"name": invitation.display_name or ""})
    if form.validate_on_submit() and form.password_allowed(invitation.email):
        try:
            user = service.accept_invitation(
                invitation, name=form.name.data or "", password=form.password.data or ""
            )
        except ConflictError as refused:
            message = _not_pending("accepted") if refused.code == "INVITATION_USED" else None
            return _gone(_("This invitation cannot be used"), message or refused.message)
        sign_in(user)
        flash(_("Welcome, %(name)s. Your account is ready.", name=user.display_name), "success")
        return redirect(url_for(".profile"), 303)
    status = 422 if form.is_submitted() else 200
    issuer = service.issuer_of(invitation)
    page = render_template("accounts/join.html", form=form, invitation=invitation, issuer=issuer)
    return page, status


# -- password reset --------------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> ResponseReturnValue:
    """Ask for a reset link; the answer is the same whether or not the address has an account."""
    form = ForgotForm()
    if form.validate_on_submit():
        service.send_reset_link(form.email.data or "")
        return render_template("accounts/forgot_sent.html")
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/forgot.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    """Choose a new password with a reset link; every other session of the account ends."""
    user = service.user_for_reset_token(token)
    if user is None:
        return _gone(
            _("This link cannot be used"),
            _("The link has expired or was already used. Ask for a new one."),
        )
    form = NewPasswordForm()
    if form.validate_on_submit() and form.password_allowed(user.email):
        service.set_new_password(user, form.password.data or "")
        sign_in(user)
        flash(_("Your password is changed; you are signed out everywhere else."), "success")
        return redirect(url_for("home.index"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/reset.html", form=form), status


# -- the learner profile ---------------------------------------------------------------------


@bp.route("/profile", methods=["GET", "POST"])
@login_required()
def profile() -> ResponseReturnValue:
    """The signed-in user's own profile (there is no id in the URL: nobody edits another's)."""
    user = signed_in_user()
    row = service.profile_of(user)
    data = {name: getattr(row, name) for name in service.PROFILE_FIELDS}
    form = ProfileForm(
        data={"display_name": user.display_name, "locale": user.locale or "", **data}
    )
    if form.validate_on_submit():
        photo = form.photo.data if isinstance(form.photo.data, FileStorage) else None
        try:
            service.save_profile(
                user,
                row,
                display_name=form.display_name.data or "",
                values={name: getattr(form, name).data for name in service.PROFILE_FIELDS},
                photo=photo,
                remove_photo=bool(form.remove_photo.data),
                locale=form.locale.data or None,
            )
        except uploads.UploadError as error:
            form.photo.errors = [*form.photo.errors, error.message]
        else:
            refresh()  # the confirmation is in the language just chosen
            flash(_("Your profile is saved."), "success")
            return redirect(url_for(".profile"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/profile.html", form=form, user=user, profile=row), status


@bp.get("/profile/photo")
@login_required()
def profile_photo() -> ResponseReturnValue:
    """The signed-in user's own photo (404 when they have none)."""
    try:
        blob = service.profile_photo(signed_in_user())
    except NotFoundError:
        abort(404)
    return uploads.send_blob(blob, filename=None, inline=True)
