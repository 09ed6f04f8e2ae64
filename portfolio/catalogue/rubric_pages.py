"""The rubric editor's pages (on the ``catalogue`` blueprint): the criteria × levels grid with its
no-JavaScript add and remove buttons, saving a new version, and earlier versions read-only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from portfolio.accounts.auth import login_required
from portfolio.accounts.models import Role
from portfolio.catalogue import rubrics
from portfolio.catalogue.forms import (
    RubricForm,
    apply_rubric_action,
    blank_rubric,
    mastery_rule,
    rubric_errors,
    rubric_state,
)
from portfolio.catalogue.models import Competency, RubricVersion
from portfolio.catalogue.pages import bp, current_admin, own_competency
from portfolio.catalogue.service import RubricConflictError, save_rubric
from portfolio.core.db import db


def _rubric_page(
    competency: Competency,
    state: Mapping[str, Any],
    errors: Mapping[str, str],
    status: int,
) -> ResponseReturnValue:
    versions = db.session.scalars(
        select(RubricVersion)
        .where(RubricVersion.competency_id == competency.id)
        .order_by(RubricVersion.version.desc())
    ).all()
    page = render_template(
        "catalogue/rubric.html",
        competency=competency,
        state=state,
        errors=errors,
        versions=versions,
        max_levels=rubrics.MAX_LEVELS,
        max_criteria=rubrics.MAX_CRITERIA,
    )
    return page, status


def _save_rubric(competency: Competency, state: Mapping[str, Any]) -> dict[str, str]:
    """Store ``state`` as the next version; the errors by field (empty when saved)."""
    try:
        version = save_rubric(
            competency,
            title=state["title"],
            levels=state["levels"],
            criteria=state["criteria"],
            rule=mastery_rule(state),
            author=current_admin(),
        )
    except rubrics.RubricError as error:
        return rubric_errors(error)
    except RubricConflictError as error:
        return {"rubric": error.message}
    flash(_("Rubric version %(number)d saved.", number=version.version), "success")
    return {}


@bp.route("/admin/catalogue/competencies/<public_id>/rubric", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def rubric(public_id: str) -> ResponseReturnValue:
    """The rubric editor: a criteria × levels grid and the mastery rule.  Saving always adds
    a new version; "add"/"remove" buttons re-show the grid with a row more or less."""
    competency = own_competency(public_id)
    if request.method == "GET":
        current = rubrics.current_version(competency)
        state = rubric_state(current) if current else blank_rubric(competency.name)
        return _rubric_page(competency, state, {}, 200)
    form = RubricForm()
    state = form.state()
    action = form.action.data
    if action != "save":
        problem = apply_rubric_action(state, action)
        return _rubric_page(competency, state, {"rubric": problem} if problem else {}, 200)
    errors = _save_rubric(competency, state)
    if errors:
        # Shown again with 422, a conflict with another save included (the form is kept).
        return _rubric_page(own_competency(public_id), state, errors, 422)
    return redirect(url_for(".rubric", public_id=public_id), 303)


@bp.get("/admin/catalogue/competencies/<public_id>/rubric/versions/<int:version>")
@login_required(role=Role.ADMIN)
def rubric_version(public_id: str, version: int) -> ResponseReturnValue:
    """One earlier (or the current) rubric version, read-only, as it was saved."""
    competency = own_competency(public_id)
    row = db.session.scalar(
        select(RubricVersion).where(
            RubricVersion.competency_id == competency.id, RubricVersion.version == version
        )
    )
    if row is None:
        abort(404)
    latest = rubrics.current_version(competency)
    return render_template(
        "catalogue/rubric_version.html",
        competency=competency,
        version=row,
        is_current=latest is not None and latest.id == row.id,
        rule=rubrics.describe_rule(row),
    )
