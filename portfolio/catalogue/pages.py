"""The competency catalogue pages for issuer administrators: competencies grouped by framework,
their fields, image, prerequisites, stack components and versioned rubrics; CASE and CSV import
and export.  Also the public route of uploaded competency images.

Every page works without JavaScript, and every object is looked up within the administrator's
own issuer (anything else is a 404, the same as a missing one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from portfolio.accounts.auth import current_user, login_required
from portfolio.accounts.models import Issuer, User
from portfolio.catalogue import case, rubrics
from portfolio.catalogue import csv_io as catalogue_csv
from portfolio.catalogue.models import (
    ACHIEVEMENT_TYPES,
    Competency,
    CompetencyFramework,
    RubricVersion,
)
from portfolio.catalogue.service import (
    ALIGNMENT_PARTS,
    ALIGNMENT_TARGET_TYPES,
    MAX_ALIGNMENTS,
    CatalogueError,
    alignment_row,
    archive,
    delete_competency,
    find_competency,
    find_framework,
    has_uploaded_image,
    image_blob,
    in_use,
    issuer_competencies,
    issuer_frameworks,
    lock_catalogue,
    new_framework,
    next_position,
    public_url,
    set_components,
    set_image_url,
    set_prerequisites,
    store_image,
    unarchive,
)
from portfolio.catalogue.service import clean_values as clean_competency_values
from portfolio.core import audit
from portfolio.core.db import db
from portfolio.core.markdown import render_markdown
from portfolio.core.models import utcnow
from portfolio.files import uploads

bp = Blueprint("catalogue", __name__)

#: The default grid of a new rubric (points from 1, "Proficient" is mastery).
DEFAULT_LEVELS = (
    ("Beginning", "1"),
    ("Developing", "2"),
    ("Proficient", "3"),
    ("Extending", "4"),
)


# -- who is asking, and for what ------------------------------------------------------------


def _admin() -> User:
    user = current_user()
    if user is None:  # login_required ran first; this only narrows the type
        abort(401)
    return user


def _issuer_id() -> int:
    """The signed-in administrator's issuer (404 for an administrator without one)."""
    issuer_id = _admin().issuer_id
    if issuer_id is None:
        abort(404)
    return issuer_id


def _admin_issuer() -> Issuer:
    issuer = _admin().issuer
    if issuer is None:
        abort(404)
    return issuer


def own_competency(public_id: str) -> Competency:
    """The administrator's issuer's competency; 404 for another issuer's or a missing one."""
    competency = find_competency(_issuer_id(), public_id)
    if competency is None:
        abort(404)
    return competency


def own_framework(public_id: str) -> CompetencyFramework:
    """The administrator's issuer's framework; 404 for another issuer's or a missing one."""
    framework = find_framework(_issuer_id(), public_id)
    if framework is None or framework.public_id != public_id:
        abort(404)
    return framework


def _chosen_competencies(public_ids: list[str], owner: Competency) -> list[Competency]:
    """The competencies picked in a form; 404 when one is not the issuer's (a forged form)."""
    chosen = []
    for public_id in dict.fromkeys(public_ids):
        competency = find_competency(owner.issuer_id, public_id)
        if competency is None:
            abort(404)
        chosen.append(competency)
    return chosen


def _upload(name: str, limit: int) -> bytes | None:
    """The bytes of an uploaded file field (at most ``limit`` + 1), or None when none was
    chosen."""
    upload = request.files.get(name)
    if not isinstance(upload, FileStorage) or not upload.filename:
        return None
    return upload.stream.read(limit + 1)


# -- the list --------------------------------------------------------------------------------


def _groups(issuer_id: int) -> list[tuple[CompetencyFramework | None, list[Competency]]]:
    """Frameworks (by title) with their competencies, then the competencies of none."""
    frameworks = issuer_frameworks(issuer_id)
    groups: dict[int | None, list[Competency]] = {each.id: [] for each in frameworks}
    groups[None] = []
    for competency in issuer_competencies(issuer_id):
        groups.setdefault(competency.framework_id, []).append(competency)
    result: list[tuple[CompetencyFramework | None, list[Competency]]] = [
        (framework, groups[framework.id]) for framework in frameworks
    ]
    if groups[None]:
        result.append((None, groups[None]))
    return result


@bp.get("/admin/catalogue")
@login_required(role="admin")
def index() -> ResponseReturnValue:
    """The issuer's competencies, grouped by framework, with their archive state."""
    return _index_page()


def _index_page(errors: dict[str, str] | None = None, status: int = 200) -> ResponseReturnValue:
    page = render_template(
        "catalogue/index.html",
        groups=_groups(_issuer_id()),
        errors=errors or {},
        form=request.form if errors else {},
    )
    return page, status


@bp.post("/admin/catalogue/frameworks")
@login_required(role="admin")
def create_framework() -> ResponseReturnValue:
    """Start an empty framework (title and description)."""
    try:
        framework = new_framework(
            _issuer_id(),
            title=request.form.get("title", ""),
            description=request.form.get("framework_description", ""),
        )
    except CatalogueError as error:
        field = "framework_description" if error.field == "description" else "title"
        return _index_page({field: error.message}, 422)
    db.session.commit()
    flash(f"Framework “{framework.title}” created.")
    return redirect(url_for(".index", _anchor=f"framework-{framework.public_id}"), 303)


# -- a competency's fields -------------------------------------------------------------------


def _alignment_rows(form: Mapping[str, Any], extra: int = 0) -> list[dict[str, str]]:
    try:
        count = int(form.get("alignment_count", "0"))
    except ValueError:
        count = 0
    count = max(0, min(count, MAX_ALIGNMENTS)) + extra
    rows = [
        {part: str(form.get(f"alignment-{index}-{part}", "")) for part in ALIGNMENT_PARTS}
        for index in range(count)
    ]
    return rows or [dict.fromkeys(ALIGNMENT_PARTS, "")]


def _state_of(competency: Competency | None) -> dict[str, Any]:
    """What the competency form shows for a competency (or a new one)."""
    if competency is None:
        return {
            "achievement_type": "Competency",
            "required_endorsements": "1",
            "alignments": [dict.fromkeys(ALIGNMENT_PARTS, "")],
        }
    framework = competency.framework
    return {
        "identifier": competency.identifier,
        "name": competency.name,
        "description": competency.description,
        "criteria_narrative": competency.criteria_narrative,
        "achievement_type": competency.achievement_type,
        "tags": "; ".join(competency.tags or []),
        "level": competency.level or "",
        "credits": catalogue_csv.format_number(competency.credits),
        "human_code": competency.human_code or "",
        "required_endorsements": str(competency.required_endorsements),
        "is_stack": competency.is_stack,
        "framework": framework.public_id if framework else "",
        "alignments": [alignment_row(each) for each in competency.alignments or []]
        + [dict.fromkeys(ALIGNMENT_PARTS, "")],
    }


def _state_from_form(form: Mapping[str, Any], extra_alignments: int = 0) -> dict[str, Any]:
    state: dict[str, Any] = {
        name: str(form.get(name, ""))
        for name in (
            "identifier",
            "name",
            "description",
            "criteria_narrative",
            "achievement_type",
            "tags",
            "level",
            "credits",
            "human_code",
            "required_endorsements",
            "framework",
        )
    }
    state["is_stack"] = form.get("is_stack") == "on"
    state["alignments"] = _alignment_rows(form, extra_alignments)
    return state


def check_competency_form(
    state: Mapping[str, Any], *, issuer_id: int, competency: Competency | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check the competency form's ``state``; returns ``(values, errors)``.

    ``values`` holds the model's fields (``framework_id`` included); ``errors`` maps a form
    field to its message.  A new competency without an identifier gets a UUID.
    """
    raw = {name: state.get(name) for name in catalogue_csv.FIELD_OF_COLUMN.values()}
    raw["alignments"] = state.get("alignments", [])
    if competency is None and not str(state.get("identifier") or "").strip():
        raw.pop("identifier")
    values, errors = clean_competency_values(raw)
    identifier = values.get("identifier")
    if identifier and identifier != (competency.identifier if competency else None):
        taken = db.session.scalar(
            select(Competency.id).where(
                Competency.issuer_id == issuer_id, Competency.identifier == identifier
            )
        )
        if taken is not None:
            errors["identifier"] = "Another competency already uses this identifier."
    values["framework_id"] = None
    if state.get("framework"):
        framework = find_framework(issuer_id, str(state["framework"]))
        if framework is None:
            errors["framework"] = "Choose one of the frameworks listed."
        else:
            values["framework_id"] = framework.id
    values["is_stack"] = bool(state.get("is_stack"))
    dropping_stack = competency is not None and competency.is_stack and not values["is_stack"]
    if dropping_stack and competency is not None and competency.components:
        errors["is_stack"] = "Remove the stack's components before it stops being a stack."
    return values, errors


def _form_page(
    competency: Competency | None,
    state: Mapping[str, Any],
    errors: Mapping[str, str],
    status: int,
) -> ResponseReturnValue:
    page = render_template(
        "catalogue/form.html",
        competency=competency,
        state=state,
        errors=errors,
        frameworks=issuer_frameworks(_issuer_id()),
        achievement_types=ACHIEVEMENT_TYPES,
        target_types=ALIGNMENT_TARGET_TYPES,
        max_alignments=MAX_ALIGNMENTS,
    )
    return page, status


def _save_fields(competency: Competency, values: Mapping[str, Any]) -> None:
    if values["framework_id"] != competency.framework_id:
        competency.position = next_position(competency.issuer_id, values["framework_id"])
    for name, value in values.items():
        setattr(competency, name, value)
    competency.updated_at = utcnow()


@bp.route("/admin/catalogue/new", methods=["GET", "POST"])
@login_required(role="admin")
def create() -> ResponseReturnValue:
    """The new-competency form; on success the competency's page (303), else 422."""
    issuer_id = _issuer_id()
    if request.method == "GET":
        state = _state_of(None)
        if request.args.get("framework"):
            state["framework"] = request.args["framework"]
        return _form_page(None, state, {}, 200)
    add_row = request.form.get("action") == "add-alignment"
    state = _state_from_form(request.form, 1 if add_row else 0)
    if add_row:
        return _form_page(None, state, {}, 200)
    values, errors = check_competency_form(state, issuer_id=issuer_id, competency=None)
    if errors:
        return _form_page(None, state, errors, 422)
    values.setdefault("description", "")
    position = next_position(issuer_id, values["framework_id"])
    competency = Competency(issuer_id=issuer_id, position=position, **values)
    db.session.add(competency)
    db.session.commit()
    flash(f"Competency “{competency.name}” created.")
    return redirect(url_for(".show", public_id=competency.public_id), 303)


@bp.route("/admin/catalogue/competencies/<public_id>/edit", methods=["GET", "POST"])
@login_required(role="admin")
def edit(public_id: str) -> ResponseReturnValue:
    """Edit a competency's fields and alignments; 422 with messages when they are not valid."""
    competency = own_competency(public_id)
    if request.method == "GET":
        return _form_page(competency, _state_of(competency), {}, 200)
    add_row = request.form.get("action") == "add-alignment"
    state = _state_from_form(request.form, 1 if add_row else 0)
    if add_row:
        return _form_page(competency, state, {}, 200)
    values, errors = check_competency_form(
        state, issuer_id=competency.issuer_id, competency=competency
    )
    if errors:
        return _form_page(competency, state, errors, 422)
    _save_fields(competency, values)
    db.session.commit()
    flash(f"Competency “{competency.name}” saved.")
    return redirect(url_for(".show", public_id=competency.public_id), 303)


# -- a competency's page: image, archive, delete ---------------------------------------------


@bp.get("/admin/catalogue/competencies/<public_id>")
@login_required(role="admin")
def show(public_id: str) -> ResponseReturnValue:
    """One competency: its fields, image, prerequisites, components and rubric."""
    return _show_page(own_competency(public_id))


def _show_page(
    competency: Competency,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    page = render_template(
        "catalogue/show.html",
        competency=competency,
        criteria_html=render_markdown(competency.criteria_narrative or ""),
        rubric=rubrics.current_version(competency),
        describe_rule=rubrics.describe_rule,
        uploaded_image=has_uploaded_image(competency),
        in_use=in_use(competency),
        format_number=catalogue_csv.format_number,
        errors=errors or {},
        form=request.form if errors else {},
    )
    return page, status


@bp.post("/admin/catalogue/competencies/<public_id>/image")
@login_required(role="admin")
def image(public_id: str) -> ResponseReturnValue:
    """Upload an image (``action=upload``), use an https address (``url``), or ``remove``."""
    competency = own_competency(public_id)
    action = request.form.get("action", "")
    try:
        if action == "upload":
            upload = request.files.get("image")
            if not isinstance(upload, FileStorage) or not upload.filename:
                raise CatalogueError("Choose an image to upload.", "image")
            store_image(competency, upload, uploader=_admin())
        elif action == "url":
            set_image_url(competency, request.form.get("image_url", ""))
        elif action == "remove":
            competency.image_url = None
            competency.updated_at = utcnow()
        else:
            abort(400)
    except CatalogueError as error:
        db.session.rollback()
        competency = own_competency(public_id)
        return _show_page(competency, {error.field or "image": error.message}, 422)
    db.session.commit()
    flash("Image removed." if action == "remove" else "Image saved.")
    return redirect(url_for(".show", public_id=public_id, _anchor="image"), 303)


@bp.post("/admin/catalogue/competencies/<public_id>/archive")
@login_required(role="admin")
def archive_competency(public_id: str) -> ResponseReturnValue:
    """Archive: students can no longer choose it; issued credentials stay valid."""
    competency = own_competency(public_id)
    if archive(competency):
        db.session.commit()
        flash(f"“{competency.name}” is archived.")
    return redirect(url_for(".show", public_id=public_id), 303)


@bp.post("/admin/catalogue/competencies/<public_id>/unarchive")
@login_required(role="admin")
def unarchive_competency(public_id: str) -> ResponseReturnValue:
    """Bring an archived competency back."""
    competency = own_competency(public_id)
    if unarchive(competency):
        db.session.commit()
        flash(f"“{competency.name}” is active again.")
    return redirect(url_for(".show", public_id=public_id), 303)


@bp.post("/admin/catalogue/competencies/<public_id>/delete")
@login_required(role="admin")
def delete(public_id: str) -> ResponseReturnValue:
    """Delete a competency nobody has used (one with submissions or masteries: 409)."""
    competency = own_competency(public_id)
    name = competency.name
    try:
        lock_catalogue(competency.issuer_id)
        delete_competency(competency)
    except CatalogueError as error:
        db.session.rollback()
        return _show_page(own_competency(public_id), {"delete": error.message}, 409)
    db.session.commit()
    flash(f"“{name}” is deleted.")
    return redirect(url_for(".index"), 303)


# -- prerequisites and stack components ------------------------------------------------------


def _choices_page(
    competency: Competency,
    *,
    kind: str,
    selected: set[str],
    error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    candidates = [
        (framework, [each for each in rows if each.id != competency.id])
        for framework, rows in _groups(competency.issuer_id)
    ]
    page = render_template(
        "catalogue/choose.html",
        competency=competency,
        kind=kind,
        groups=[(framework, rows) for framework, rows in candidates if rows],
        selected=selected,
        error=error,
    )
    return page, status


def _edit_links(public_id: str, kind: str) -> ResponseReturnValue:
    competency = own_competency(public_id)
    current = competency.prerequisites if kind == "prerequisites" else competency.components
    if request.method == "GET":
        return _choices_page(competency, kind=kind, selected={each.public_id for each in current})
    picked = request.form.getlist("chosen")
    chosen = _chosen_competencies(picked, competency)
    try:
        lock_catalogue(competency.issuer_id)
        if kind == "prerequisites":
            set_prerequisites(competency, chosen)
        else:
            set_components(competency, chosen)
    except CatalogueError as error:
        db.session.rollback()
        competency = own_competency(public_id)
        return _choices_page(
            competency, kind=kind, selected=set(picked), error=error.message, status=422
        )
    competency.updated_at = utcnow()
    db.session.commit()
    flash("Prerequisites saved." if kind == "prerequisites" else "Stack components saved.")
    return redirect(url_for(".show", public_id=public_id, _anchor=kind), 303)


@bp.route("/admin/catalogue/competencies/<public_id>/prerequisites", methods=["GET", "POST"])
@login_required(role="admin")
def prerequisites(public_id: str) -> ResponseReturnValue:
    """Choose the competencies to master first; a choice that makes a loop is refused."""
    return _edit_links(public_id, "prerequisites")


@bp.route("/admin/catalogue/competencies/<public_id>/components", methods=["GET", "POST"])
@login_required(role="admin")
def components(public_id: str) -> ResponseReturnValue:
    """Choose a stack's components; the stack itself, or a stack containing it, is refused."""
    return _edit_links(public_id, "components")


# -- rubrics ---------------------------------------------------------------------------------


def _blank_rubric(title: str) -> dict[str, Any]:
    levels = [
        {"name": name, "points": points, "description": ""} for name, points in DEFAULT_LEVELS
    ]
    return {
        "title": title,
        "levels": levels,
        "criteria": [{"name": "", "description": "", "levels": [""] * len(levels)}],
        "rule_kind": "min_level",
        "rule_level": "2",
        "rule_threshold": "",
    }


def rubric_state(version: RubricVersion) -> dict[str, Any]:
    """A stored rubric version as the editor's form state."""
    rule = version.mastery_rule
    return {
        "title": version.title,
        "levels": [
            {
                "name": level["name"],
                "points": catalogue_csv.format_number(level["points"]),
                "description": level.get("description", ""),
            }
            for level in version.levels
        ],
        "criteria": [
            {
                "name": criterion["name"],
                "description": criterion.get("description", ""),
                "levels": list(criterion.get("levels") or []),
            }
            for criterion in version.criteria
        ],
        "rule_kind": rule["kind"],
        "rule_level": str(rule.get("level", "")),
        "rule_threshold": catalogue_csv.format_number(rule.get("threshold")),
    }


def _count(form: Mapping[str, Any], name: str, highest: int) -> int:
    try:
        return max(1, min(int(form.get(name, "1")), highest))
    except ValueError:
        return 1


def rubric_state_from_form(form: Mapping[str, Any]) -> dict[str, Any]:
    """The editor's state as submitted: ``level_count`` levels and ``criterion_count``
    criteria, each cell ``criterion-<i>-level-<j>``."""
    level_count = _count(form, "level_count", rubrics.MAX_LEVELS)
    criterion_count = _count(form, "criterion_count", rubrics.MAX_CRITERIA)

    def get(name: str) -> str:
        return str(form.get(name, ""))

    return {
        "title": get("title"),
        "levels": [
            {
                "name": get(f"level-{j}-name"),
                "points": get(f"level-{j}-points"),
                "description": get(f"level-{j}-description"),
            }
            for j in range(level_count)
        ],
        "criteria": [
            {
                "name": get(f"criterion-{i}-name"),
                "description": get(f"criterion-{i}-description"),
                "levels": [get(f"criterion-{i}-level-{j}") for j in range(level_count)],
            }
            for i in range(criterion_count)
        ],
        "rule_kind": get("rule_kind") or "min_level",
        "rule_level": get("rule_level"),
        "rule_threshold": get("rule_threshold"),
    }


def apply_rubric_action(state: dict[str, Any], action: str) -> str | None:
    """Add or remove a level or criterion in ``state`` (the no-JavaScript grid buttons).

    Returns a message when the action cannot be done (too many, or too few left).
    """
    levels, criteria = state["levels"], state["criteria"]
    if action == "add-level":
        if len(levels) >= rubrics.MAX_LEVELS:
            return f"A rubric has at most {rubrics.MAX_LEVELS} levels."
        levels.append({"name": "", "points": "", "description": ""})
        for criterion in criteria:
            criterion["levels"].append("")
    elif action == "add-criterion":
        if len(criteria) >= rubrics.MAX_CRITERIA:
            return f"A rubric has at most {rubrics.MAX_CRITERIA} criteria."
        criteria.append({"name": "", "description": "", "levels": [""] * len(levels)})
    elif match := re.fullmatch(r"remove-level-(\d+)", action):
        index = int(match[1])
        if len(levels) <= 2 or index >= len(levels):
            return "A rubric needs at least 2 levels."
        del levels[index]
        for criterion in criteria:
            del criterion["levels"][index]
        if state["rule_level"].isdigit() and int(state["rule_level"]) >= len(levels):
            state["rule_level"] = str(len(levels) - 1)
    elif match := re.fullmatch(r"remove-criterion-(\d+)", action):
        index = int(match[1])
        if len(criteria) <= 1 or index >= len(criteria):
            return "A rubric needs at least 1 criterion."
        del criteria[index]
    return None


def _index(number: str) -> int:
    return int(number) - 1  # messages count from 1, field names from 0


#: A :class:`portfolio.catalogue.rubrics.RubricError` message → the editor field it is about.
_RUBRIC_FIELDS: tuple[tuple[str, Callable[[re.Match[str]], str]], ...] = (
    (
        r"criterion (\d+), level (\d+) text",
        lambda m: f"criterion-{_index(m[1])}-level-{_index(m[2])}",
    ),
    (r"level (\d+) (name|description|points)", lambda m: f"level-{_index(m[1])}-{m[2]}"),
    (r"criterion (\d+) (name|description)", lambda m: f"criterion-{_index(m[1])}-{m[2]}"),
    (r"points threshold", lambda m: "rule_threshold"),
    (r"mastery rule", lambda m: "rule_level"),
    (r"rubric title", lambda m: "title"),
)


def rubric_error_field(message: str) -> str:
    """The editor field a :class:`portfolio.catalogue.rubrics.RubricError` message is about
    (``rubric``
    for the rubric as a whole)."""
    for pattern, field in _RUBRIC_FIELDS:
        match = re.search(pattern, message)
        if match:
            return field(match)
    return "rubric"


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
    rule: dict[str, Any] = {"kind": state["rule_kind"]}
    rule["level" if state["rule_kind"] == "min_level" else "threshold"] = (
        state["rule_level"] if state["rule_kind"] == "min_level" else state["rule_threshold"]
    )
    try:
        version = rubrics.save_new_version(
            competency,
            title=state["title"],
            levels=state["levels"],
            criteria=state["criteria"],
            rule=rule,
            author=_admin(),
        )
        competency.updated_at = utcnow()
        db.session.commit()
    except rubrics.RubricError as error:
        db.session.rollback()
        message = str(error)
        return {rubric_error_field(message): message[:1].upper() + message[1:] + "."}
    except IntegrityError:
        db.session.rollback()
        return {"rubric": "Someone saved this rubric at the same moment: save again."}
    flash(f"Rubric version {version.version} saved.")
    return {}


@bp.route("/admin/catalogue/competencies/<public_id>/rubric", methods=["GET", "POST"])
@login_required(role="admin")
def rubric(public_id: str) -> ResponseReturnValue:
    """The rubric editor: a criteria × levels grid and the mastery rule.  Saving always adds
    a new version; "add"/"remove" buttons re-show the grid with a row more or less."""
    competency = own_competency(public_id)
    if request.method == "GET":
        current = rubrics.current_version(competency)
        state = rubric_state(current) if current else _blank_rubric(competency.name)
        return _rubric_page(competency, state, {}, 200)
    state = rubric_state_from_form(request.form)
    action = request.form.get("action", "save")
    if action != "save":
        problem = apply_rubric_action(state, action)
        return _rubric_page(competency, state, {"rubric": problem} if problem else {}, 200)
    errors = _save_rubric(competency, state)
    if errors:
        return _rubric_page(own_competency(public_id), state, errors, 422)
    return redirect(url_for(".rubric", public_id=public_id), 303)


@bp.get("/admin/catalogue/competencies/<public_id>/rubric/versions/<int:version>")
@login_required(role="admin")
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


# -- CASE and CSV ----------------------------------------------------------------------------


def _download(data: bytes, media_type: str, filename: str) -> Response:
    response = Response(data, mimetype=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/admin/catalogue/import/case", methods=["GET", "POST"])
@login_required(role="admin")
def import_case() -> ResponseReturnValue:
    """Upload a CASE package (JSON); the answer is what was created, updated and archived."""
    summary, error = None, None
    if request.method == "POST":
        data = _upload("file", case.MAX_BYTES)
        if data is None:
            error = "Choose a CASE JSON file."
        else:
            try:
                summary = case.import_package(data, issuer=_admin_issuer())
            except case.CaseError as problem:
                error = f"This file cannot be imported: {problem}."
            else:
                _audit(
                    "catalogue_imported",
                    f"framework:{summary.framework.public_id}",
                    format="case",
                    result=summary.describe(),
                )
    status = 422 if error else 200
    return render_template("catalogue/import_case.html", summary=summary, error=error), status


@bp.get("/admin/catalogue/frameworks/<public_id>/case.json")
@login_required(role="admin")
def export_case(public_id: str) -> ResponseReturnValue:
    """Download a framework as a CASE package (JSON)."""
    framework = own_framework(public_id)
    package = case.export_package(framework, public_url=public_url())
    _audit("catalogue_exported", f"framework:{framework.public_id}", format="case")
    return _download(case.dumps(package), "application/json", f"{framework.public_id}.json")


@bp.route("/admin/catalogue/import/csv", methods=["GET", "POST"])
@login_required(role="admin")
def import_csv() -> ResponseReturnValue:
    """Upload a catalogue CSV; the answer is the per-row report."""
    report, error = None, None
    if request.method == "POST":
        data = _upload("file", catalogue_csv.MAX_BYTES)
        if data is None:
            error = "Choose a CSV file."
        else:
            try:
                report = catalogue_csv.import_csv(data, issuer=_admin_issuer())
            except catalogue_csv.CatalogueCsvError as problem:
                error = f"This file cannot be imported: {problem}."
            else:
                _audit("catalogue_imported", "catalogue", format="csv", result=report.describe())
    status = 422 if error else 200
    page = render_template(
        "catalogue/import_csv.html", report=report, error=error, columns=catalogue_csv.COLUMNS
    )
    return page, status


@bp.get("/admin/catalogue/catalogue.csv")
@login_required(role="admin")
def export_csv() -> ResponseReturnValue:
    """Download every competency of the issuer as CSV."""
    data = catalogue_csv.export_csv(_admin_issuer())
    _audit("catalogue_exported", "catalogue", format="csv")
    return _download(data, "text/csv", "catalogue.csv")


def _audit(action: str, target: str, **detail: str) -> None:
    """Record an import or export of the catalogue and commit it.  The importers commit their
    own transaction, so an import's event follows right after it, in the next one."""
    audit.record(action, actor=_admin(), issuer_id=_issuer_id(), target=target, detail=detail)
    db.session.commit()


# -- public ----------------------------------------------------------------------------------


@bp.get("/achievements/<public_id>/image")
def achievement_image(public_id: str) -> ResponseReturnValue:
    """A competency's uploaded image, for anyone (it is part of the public Achievement).

    The URL's ``v`` is the image's SHA-256: the current one is served with a long cache life;
    an older or missing ``v`` is redirected to the current image.
    """
    competency: Competency | None = db.session.scalar(
        select(Competency).where(Competency.public_id == public_id)
    )
    blob = image_blob(competency) if competency is not None else None
    if competency is None or blob is None:
        abort(404)
    if request.args.get("v") != blob.sha256:
        return redirect(url_for(".achievement_image", public_id=public_id, v=blob.sha256), 302)
    response = uploads.send_blob(blob, filename=None, inline=True)
    # A badge image is public and unchanging under this URL; other sites (wallets, verifiers)
    # may show it.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
