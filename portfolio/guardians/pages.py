"""The ``guardians`` blueprint (issue 17 §3): the administrators' guardians pages (invite,
link, unlink, the age rule), a student's minor status and the school's recorded consent, and
the guardian's own consent page.  Thin: the rules are in :mod:`portfolio.guardians.admin` and
:mod:`portfolio.guardians.service`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.sansio.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portfolio.accounts.auth import login_required, signed_in_user
from portfolio.accounts.models import Issuer, Role, User
from portfolio.accounts.service import INVITATION_ACCEPTED
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import ConflictError, CredfolioError, NotFoundError
from portfolio.guardians import admin, service
from portfolio.guardians.consent import active_consent, is_minor
from portfolio.guardians.forms import (
    AgeRuleForm,
    ConfirmForm,
    GiveConsentForm,
    GuardianInvitationForm,
    LinkStudentForm,
    MinorForm,
    SchoolConsentForm,
)
from portfolio.guardians.links import guardians_of, is_guardian_of

bp = Blueprint("guardians", __name__)


@bp.record_once
def _link_on_acceptance(state: BlueprintSetupState) -> None:
    """Accepting a guardian invitation links the new account to its students, inside the
    acceptance's transaction (accounts cannot import this package: it asks this hook)."""
    hooks = state.app.extensions.setdefault(INVITATION_ACCEPTED, [])
    hooks.append(admin.link_invited_students)


def _admin_issuer() -> tuple[User, Issuer]:
    user = signed_in_user()
    if user.issuer is None:
        abort(404)
    return user, user.issuer


def _student(issuer: Issuer, student_id: int) -> User:
    try:
        return admin.school_student(issuer, student_id)
    except NotFoundError:
        abort(404)


def _guardian(issuer: Issuer, guardian_id: int) -> User:
    try:
        return admin.school_guardian(issuer, guardian_id)
    except NotFoundError:
        abort(404)


# -- administrators: guardians ---------------------------------------------------------------


def _index_page(
    issuer: Issuer, form: GuardianInvitationForm, *, status: int = 200
) -> ResponseReturnValue:
    return (
        render_template(
            "guardians/admin_index.html",
            form=form,
            rows=admin.guardians(issuer),
            pending=admin.pending_guardian_invitations(issuer),
            students=admin.students(issuer),
            overview=admin.students_overview(issuer),
            link_form=LinkStudentForm(),
            issuer=issuer,
        ),
        status,
    )


@bp.route("/admin/guardians", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def admin_index() -> ResponseReturnValue:
    """The school's guardians with their students and consent, and the invitation form."""
    user, issuer = _admin_issuer()
    form = GuardianInvitationForm()
    if form.validate_on_submit():
        chosen = [s for s in admin.students(issuer) if s.id in set(form.students.data or [])]
        try:
            invitation, sent = admin.invite_guardian(
                user,
                issuer,
                email=form.email.data or "",
                name=form.name.data or "",
                students=chosen,
            )
        except CredfolioError as refused:
            about_students = refused.code in ("NO_STUDENTS", "NOT_YOUR_STUDENT")
            (form.students if about_students else form.email).errors = [refused.message]
        else:
            if sent:
                flash(_("Invited %(email)s as a guardian.", email=invitation.email), "success")
            else:
                flash(
                    _(
                        "Invited %(email)s, but the mail could not be sent: revoke and "
                        "retry later.",
                        email=invitation.email,
                    ),
                    "warning",
                )
            return redirect(url_for(".admin_index"), 303)
    return _index_page(issuer, form, status=422 if form.is_submitted() else 200)


@bp.post("/admin/guardians/<int:guardian_id>/links")
@login_required(role=Role.ADMIN)
def link_student(guardian_id: int) -> ResponseReturnValue:
    """Link an existing guardian of the school to one more of its students."""
    user, issuer = _admin_issuer()
    guardian = _guardian(issuer, guardian_id)
    form = LinkStudentForm()
    if not form.validate_on_submit():
        flash(_("Choose a student."), "error")
        return redirect(url_for(".admin_index"), 303)
    student = _student(issuer, int(form.student.data))
    try:
        admin.link(user, guardian, student)
    except ConflictError as refused:
        flash(refused.message, "warning")
    else:
        flash(
            _(
                "%(guardian)s is now linked to %(student)s.",
                guardian=guardian.display_name,
                student=student.display_name,
            ),
            "success",
        )
    return redirect(url_for(".admin_index"), 303)


@bp.route(
    "/admin/guardians/<int:guardian_id>/students/<int:student_id>/unlink",
    methods=["GET", "POST"],
)
@login_required(role=Role.ADMIN)
def unlink(guardian_id: int, student_id: int) -> ResponseReturnValue:
    """Unlink a guardian from a student, after a confirmation step."""
    user, issuer = _admin_issuer()
    guardian = _guardian(issuer, guardian_id)
    student = _student(issuer, student_id)
    if not admin.is_linked(guardian, student):
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            admin.unlink(user, guardian, student)
        except NotFoundError:
            abort(404)
        flash(
            _(
                "%(guardian)s is no longer linked to %(student)s.",
                guardian=guardian.display_name,
                student=student.display_name,
            ),
            "success",
        )
        return redirect(url_for(".admin_index"), 303)
    status = 422 if form.is_submitted() else 200
    page = render_template("guardians/unlink.html", form=form, guardian=guardian, student=student)
    return page, status


@bp.route("/admin/guardians/settings", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def settings() -> ResponseReturnValue:
    """The school's age rule: students under this age are minors."""
    user, issuer = _admin_issuer()
    form = AgeRuleForm(data={"minor_below_age": issuer.minor_below_age})
    if form.validate_on_submit():
        try:
            changed = admin.set_age_rule(user, issuer, form.minor_below_age.data)
        except CredfolioError as refused:
            form.minor_below_age.errors = [refused.message]
        else:
            flash(
                _("The age rule is saved.") if changed else _("Nothing changed."),
                "success" if changed else "info",
            )
            return redirect(url_for(".settings"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("guardians/settings.html", form=form, issuer=issuer), status


# -- administrators: a student's minor status and consent ------------------------------------


def _student_page(
    issuer: Issuer,
    student: User,
    *,
    minor_form: MinorForm | None = None,
    consent_form: SchoolConsentForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    page = render_template(
        "guardians/admin_student.html",
        student=student,
        issuer=issuer,
        minor=is_minor(student),
        consent=active_consent(student),
        history=service.consent_history(student),
        guardians=guardians_of(student),
        minor_form=minor_form
        or MinorForm(data={"minor": student.minor, "birth_date": student.birth_date}),
        consent_form=consent_form or SchoolConsentForm(),
    )
    return page, status


@bp.get("/admin/students/<int:student_id>/guardians")
@login_required(role=Role.ADMIN)
def admin_student(student_id: int) -> ResponseReturnValue:
    """A student's guardians, minor status, and consent (with its history)."""
    _user, issuer = _admin_issuer()
    return _student_page(issuer, _student(issuer, student_id))


@bp.post("/admin/students/<int:student_id>/minor")
@login_required(role=Role.ADMIN)
def set_minor(student_id: int) -> ResponseReturnValue:
    """Mark a student a minor (or not) and record her birth date."""
    user, issuer = _admin_issuer()
    student = _student(issuer, student_id)
    form = MinorForm()
    if form.validate_on_submit():
        try:
            changed = admin.set_minor(
                user, student, minor=bool(form.minor.data), birth_date=form.birth_date.data
            )
        except CredfolioError as refused:
            form.birth_date.errors = [refused.message]
        else:
            flash(
                _("Saved.") if changed else _("Nothing changed."),
                "success" if changed else "info",
            )
            return redirect(url_for(".admin_student", student_id=student.id), 303)
    return _student_page(issuer, student, minor_form=form, status=422)


@bp.post("/admin/students/<int:student_id>/consent")
@login_required(role=Role.ADMIN)
def school_consent(student_id: int) -> ResponseReturnValue:
    """Record the school's consent on the family's behalf, with a note."""
    user, issuer = _admin_issuer()
    student = _student(issuer, student_id)
    form = SchoolConsentForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                service.give_consent(student, user, note=form.note.data or "")
        except CredfolioError as refused:
            flash(refused.message, "warning")
        else:
            flash(_("The school's consent is recorded."), "success")
        return redirect(url_for(".admin_student", student_id=student.id), 303)
    return _student_page(issuer, student, consent_form=form, status=422)


@bp.route("/admin/students/<int:student_id>/consent/withdraw", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def school_withdraw(student_id: int) -> ResponseReturnValue:
    """Withdraw the student's consent (whoever gave it), after a confirmation step."""
    user, issuer = _admin_issuer()
    student = _student(issuer, student_id)
    back = url_for(".admin_student", student_id=student.id)
    return _withdraw(student, user, back=back, cancel=back)


# -- the guardian's consent page -------------------------------------------------------------


def _linked_student(student_id: int) -> tuple[User, User]:
    """The signed-in guardian and her linked student with that id; 404 for any other."""
    guardian = signed_in_user()
    student = db.session.get(User, student_id)
    if student is None or student.deleted_at is not None or not is_guardian_of(guardian, student):
        abort(404)
    return guardian, student


def _consent_context(student: User) -> dict[str, Any]:
    consent = active_consent(student)
    return {"student": student, "consent": consent, "minor": is_minor(student)}


@bp.route("/family/students/<int:student_id>/consent", methods=["GET", "POST"])
@login_required(role=Role.GUARDIAN)
def consent_page(student_id: int) -> ResponseReturnValue:
    """What publishing means, in plain words, and the guardian's consent given or withdrawn."""
    guardian, student = _linked_student(student_id)
    form = GiveConsentForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                service.give_consent(student, guardian)
        except CredfolioError as refused:
            flash(refused.message, "warning")
        else:
            flash(
                _(
                    "Thank you: %(name)s's portfolios and credentials can now be made public.",
                    name=student.display_name,
                ),
                "success",
            )
        return redirect(url_for(".consent_page", student_id=student.id), 303)
    status = 422 if form.is_submitted() else 200
    page = render_template("guardians/consent.html", form=form, **_consent_context(student))
    return page, status


@bp.route("/family/students/<int:student_id>/consent/withdraw", methods=["GET", "POST"])
@login_required(role=Role.GUARDIAN)
def consent_withdraw(student_id: int) -> ResponseReturnValue:
    """Withdraw consent, after a confirmation step: her public pages hide at once."""
    guardian, student = _linked_student(student_id)
    back = url_for(".consent_page", student_id=student.id)
    return _withdraw(student, guardian, back=back, cancel=back)


def _withdraw(student: User, actor: User, *, back: str, cancel: str) -> ResponseReturnValue:
    """The confirmation page, then the withdrawal (shared by the school and guardians)."""
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                service.withdraw_consent(student, actor)
        except CredfolioError as refused:
            flash(refused.message, "warning")
        else:
            flash(
                _(
                    "Consent is withdrawn: %(name)s's public pages are hidden from now on.",
                    name=student.display_name,
                ),
                "success",
            )
        return redirect(back, 303)
    if active_consent(student) is None:
        flash(_("There is no consent to withdraw."), "info")
        return redirect(back, 303)
    status = 422 if form.is_submitted() else 200
    page = render_template("guardians/withdraw.html", form=form, student=student, cancel=cancel)
    return page, status
