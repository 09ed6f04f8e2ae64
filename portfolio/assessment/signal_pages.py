"""A school's thresholds for the cohort view's early signals (issue 17 §4): administrators
set them at ``/admin/signals``; assessors read them on the cohort page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portfolio.accounts.auth import login_required, signed_in_user
from portfolio.accounts.models import Role
from portfolio.assessment import signals as early
from portfolio.assessment.signal_forms import ThresholdsForm
from portfolio.core.db import unit_of_work

bp = Blueprint("signals", __name__)


def _issuer_id() -> int:
    issuer_id = signed_in_user().issuer_id
    if issuer_id is None:
        abort(404)
    return issuer_id


def _page(
    form: ThresholdsForm, thresholds: early.Thresholds, status: int = 200
) -> ResponseReturnValue:
    body = render_template(
        "assessment/signals/thresholds.html",
        form=form,
        thresholds=thresholds,
        defaults=early.DEFAULTS,
        ranges=early.RANGES,
    )
    return body, status


@bp.get("/admin/signals")
@login_required(role=Role.ADMIN)
def thresholds() -> ResponseReturnValue:
    """The school's thresholds, with the defaults and the accepted ranges."""
    current = early.load_thresholds(_issuer_id())
    return _page(ThresholdsForm.showing(current), current)


@bp.post("/admin/signals")
@login_required(role=Role.ADMIN)
def save() -> ResponseReturnValue:
    """Save the thresholds (audited); 422 with the form and its errors when one is out of
    range; 303 back to the page when saved."""
    issuer_id = _issuer_id()
    form = ThresholdsForm()
    if not form.validate_on_submit():
        return _page(form, early.load_thresholds(issuer_id), 422)
    try:
        with unit_of_work(write=True):
            early.save_thresholds(issuer_id, form.values(), actor=signed_in_user())
    except early.ThresholdError as error:
        form[error.field].errors = [error.message]
        return _page(form, early.load_thresholds(issuer_id), 422)
    flash(_("Thresholds saved: the cohort view flags students with them from now on."), "success")
    return redirect(url_for(".thresholds"), 303)
