"""The pages of a student's own data: export all of it (``/profile/export``, one ZIP) and
delete the account (``/profile/delete``, confirmed with the password).  The work is done by
:mod:`portfolio.learner.privacy`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portfolio.accounts.auth import login_required, sign_out, signed_in_user
from portfolio.accounts.models import Role
from portfolio.core import audit
from portfolio.core.db import unit_of_work
from portfolio.learner.forms import DeleteAccountForm
from portfolio.learner.privacy import (
    delete_account,
    owned_credentials,
    password_matches,
    write_export,
)

bp = Blueprint("privacy", __name__)


@bp.get("/profile/export")
@login_required(role=Role.STUDENT)
def export() -> ResponseReturnValue:
    """Download everything about the signed-in student as a ZIP (recorded as
    ``data_exported``)."""
    user = signed_in_user()
    archive = write_export(user)
    try:
        with unit_of_work():
            audit.record("data_exported", actor=user, target=f"user:{user.id}")
    except BaseException:
        archive.close()
        raise
    size = archive.seek(0, os.SEEK_END)
    archive.seek(0)
    response = Response(_read_and_close(archive), mimetype="application/zip")
    filename = f"credfolio-data-{datetime.now(UTC).date().isoformat()}.zip"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Content-Length"] = str(size)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _read_and_close(archive: IO[bytes], chunk: int = 1024 * 1024) -> Iterator[bytes]:
    """The file's bytes in chunks; closed once sent, or when the response is closed early."""
    try:
        while data := archive.read(chunk):
            yield data
    finally:
        archive.close()


@bp.route("/profile/delete", methods=["GET", "POST"])
@login_required(role=Role.STUDENT)
def delete_page() -> ResponseReturnValue:
    """What deleting the account removes and keeps, and the confirmation form (the password);
    a wrong password gets the form back with 422."""
    user = signed_in_user()
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if password_matches(user, form.password.data or ""):
            delete_account(user)
            sign_out()
            flash(
                _(
                    "Your account and your personal data are deleted. "
                    "Thank you for using Credfolio."
                ),
                "success",
            )
            return redirect(url_for("home.index"), 303)
        form.password.errors = [_("This is not your password.")]
    status = 422 if form.is_submitted() else 200
    credentials = len(owned_credentials(user))
    page = render_template("learner/delete.html", form=form, user=user, credentials=credentials)
    return page, status
