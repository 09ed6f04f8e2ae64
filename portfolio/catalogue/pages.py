"""The catalogue's competency pages for issuer administrators (blueprint ``catalogue``, which
:mod:`.rubric_pages` and :mod:`.transfer_pages` extend) and the public competency image; every
object is looked up within the administrator's own issuer (another issuer's is a 404)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select

from portfolio.accounts.auth import current_user, login_required
from portfolio.accounts.models import Issuer, Role, User
from portfolio.catalogue import rubrics
from portfolio.catalogue.csv_io import format_number
from portfolio.catalogue.fields import (
    ALIGNMENT_TARGET_TYPES,
    MAX_ALIGNMENTS,
    CatalogueError,
)
from portfolio.catalogue.forms import (
    ChoicesForm,
    CompetencyForm,
    FrameworkForm,
    ImageForm,
    ImageQuery,
    NewCompetencyQuery,
    competency_state,
    uploaded_file,
)
from portfolio.catalogue.models import (
    ACHIEVEMENT_TYPES,
    Competency,
    CompetencyFramework,
    RubricVersion,
)
from portfolio.catalogue.service import (
    archive,
    check_competency,
    choose_components,
    choose_prerequisites,
    create_competency,
    create_framework,
    find_competency,
    find_framework,
    has_uploaded_image,
    image_blob,
    in_use,
    issuer_competencies,
    issuer_frameworks,
    remove_competency,
    remove_image,
    set_image_url,
    store_image,
    unarchive,
    update_competency,
)
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import status_for
from portfolio.core.markdown import render_markdown
from portfolio.files import uploads

bp = Blueprint("catalogue", __name__)


# -- who is asking, and for what ------------------------------------------------------------


def current_admin() -> User:
    """The signed-in administrator (``login_required`` ran first)."""
    user = current_user()
    if user is None:  # login_required ran first; this only narrows the type
        abort(401)
    return user


def admin_issuer_id() -> int:
    """The signed-in administrator's issuer (404 for an administrator without one)."""
    issuer_id = current_admin().issuer_id
    if issuer_id is None:
        abort(404)
    return issuer_id


def admin_issuer() -> Issuer:
    """The signed-in administrator's issuer row (404 for an administrator without one)."""
    issuer = current_admin().issuer
    if issuer is None:
        abort(404)
    return issuer


def own_competency(public_id: str) -> Competency:
    """The administrator's issuer's competency; 404 for another issuer's or a missing one."""
    competency = find_competency(admin_issuer_id(), public_id)
    if competency is None:
        abort(404)
    return competency


def own_framework(public_id: str) -> CompetencyFramework:
    """The administrator's issuer's framework; 404 for another issuer's or a missing one."""
    framework = find_framework(admin_issuer_id(), public_id)
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


def _rubric_versions(issuer_id: int) -> dict[int, int]:
    """The newest rubric version number of each of the issuer's competencies that has a
    rubric, by competency id (one query)."""
    rows = db.session.execute(
        select(RubricVersion.competency_id, func.max(RubricVersion.version))
        .join(Competency, Competency.id == RubricVersion.competency_id)
        .where(Competency.issuer_id == issuer_id)
        .group_by(RubricVersion.competency_id)
    )
    return {competency_id: version for competency_id, version in rows}


@bp.get("/admin/catalogue")
@login_required(role=Role.ADMIN)
def index() -> ResponseReturnValue:
    """The issuer's competencies, grouped by framework, with their archive state."""
    return _index_page()


def _index_page(
    errors: dict[str, str] | None = None,
    form: Mapping[str, Any] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    issuer_id = admin_issuer_id()
    page = render_template(
        "catalogue/index.html",
        groups=_groups(issuer_id),
        rubric_versions=_rubric_versions(issuer_id),
        errors=errors or {},
        form=form if errors and form is not None else {},
    )
    return page, status


@bp.post("/admin/catalogue/frameworks", endpoint="create_framework")
@login_required(role=Role.ADMIN)
def create_framework_page() -> ResponseReturnValue:
    """Start an empty framework (title and description)."""
    form = FrameworkForm()
    try:
        framework = create_framework(
            admin_issuer_id(),
            title=form.title.data,
            description=form.framework_description.data,
        )
    except CatalogueError as error:
        field = "framework_description" if error.field == "description" else "title"
        return _index_page({field: error.message}, form.data, status_for(error))
    flash(_("Framework “%(title)s” created.", title=framework.title), "success")
    return redirect(url_for(".index", _anchor=f"framework-{framework.public_id}"), 303)


# -- a competency's fields -------------------------------------------------------------------


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
        frameworks=issuer_frameworks(admin_issuer_id()),
        achievement_types=ACHIEVEMENT_TYPES,
        target_types=ALIGNMENT_TARGET_TYPES,
        max_alignments=MAX_ALIGNMENTS,
    )
    return page, status


@bp.route("/admin/catalogue/new", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def create() -> ResponseReturnValue:
    """The new-competency form; on success the competency's page (303), else 422."""
    issuer_id = admin_issuer_id()
    if request.method == "GET":
        state = competency_state(None)
        query = NewCompetencyQuery(formdata=request.args)
        if query.framework.data:
            state["framework"] = query.framework.data
        return _form_page(None, state, {}, 200)
    form = CompetencyForm()
    state = form.state()
    if form.adds_row():
        return _form_page(None, state, {}, 200)
    values, errors = check_competency(state, issuer_id=issuer_id, competency=None)
    if errors:
        return _form_page(None, state, errors, 422)
    competency = create_competency(issuer_id, values)
    flash(_("Competency “%(name)s” created.", name=competency.name), "success")
    return redirect(url_for(".show", public_id=competency.public_id), 303)


@bp.route("/admin/catalogue/competencies/<public_id>/edit", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def edit(public_id: str) -> ResponseReturnValue:
    """Edit a competency's fields and alignments; 422 with messages when they are not valid."""
    competency = own_competency(public_id)
    if request.method == "GET":
        return _form_page(competency, competency_state(competency), {}, 200)
    form = CompetencyForm()
    state = form.state()
    if form.adds_row():
        return _form_page(competency, state, {}, 200)
    values, errors = check_competency(state, issuer_id=competency.issuer_id, competency=competency)
    if errors:
        return _form_page(competency, state, errors, 422)
    update_competency(competency, values)
    flash(_("Competency “%(name)s” saved.", name=competency.name), "success")
    return redirect(url_for(".show", public_id=competency.public_id), 303)


# -- a competency's page: image, archive, delete ---------------------------------------------


@bp.get("/admin/catalogue/competencies/<public_id>")
@login_required(role=Role.ADMIN)
def show(public_id: str) -> ResponseReturnValue:
    """One competency: its fields, image, prerequisites, components and rubric."""
    return _show_page(own_competency(public_id))


def _show_page(
    competency: Competency,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
    form: Mapping[str, Any] | None = None,
) -> ResponseReturnValue:
    page = render_template(
        "catalogue/show.html",
        competency=competency,
        criteria_html=render_markdown(competency.criteria_narrative or ""),
        rubric=rubrics.current_version(competency),
        describe_rule=rubrics.describe_rule,
        uploaded_image=has_uploaded_image(competency),
        in_use=in_use(competency),
        format_number=format_number,
        errors=errors or {},
        form=form if errors and form is not None else {},
    )
    return page, status


def _change_image(competency: Competency, form: ImageForm) -> None:
    """Do what the image form asks (upload, https address, remove); 400 for anything else."""
    action = form.action.data
    if action == "upload":
        upload = uploaded_file(form.image)
        if upload is None:
            raise CatalogueError(_("Choose an image to upload."), "image")
        store_image(competency, upload, uploader=current_admin())
    elif action == "url":
        set_image_url(competency, form.image_url.data)
    elif action == "remove":
        remove_image(competency)
    else:
        abort(400)


@bp.post("/admin/catalogue/competencies/<public_id>/image")
@login_required(role=Role.ADMIN)
def image(public_id: str) -> ResponseReturnValue:
    """Upload an image (``action=upload``), use an https address (``url``), or ``remove``."""
    competency = own_competency(public_id)
    form = ImageForm()
    try:
        with unit_of_work():
            _change_image(competency, form)
    except CatalogueError as error:
        errors = {error.field or "image": error.message}
        return _show_page(own_competency(public_id), errors, status_for(error), form.data)
    flash(_("Image removed.") if form.action.data == "remove" else _("Image saved."), "success")
    return redirect(url_for(".show", public_id=public_id, _anchor="image"), 303)


@bp.post("/admin/catalogue/competencies/<public_id>/archive")
@login_required(role=Role.ADMIN)
def archive_competency(public_id: str) -> ResponseReturnValue:
    """Archive: students can no longer choose it; issued credentials stay valid."""
    competency = own_competency(public_id)
    with unit_of_work():
        archived = archive(competency)
    if archived:
        flash(_("“%(name)s” is archived.", name=competency.name), "success")
    return redirect(url_for(".show", public_id=public_id), 303)


@bp.post("/admin/catalogue/competencies/<public_id>/unarchive")
@login_required(role=Role.ADMIN)
def unarchive_competency(public_id: str) -> ResponseReturnValue:
    """Bring an archived competency back."""
    competency = own_competency(public_id)
    with unit_of_work():
        restored = unarchive(competency)
    if restored:
        flash(_("“%(name)s” is active again.", name=competency.name), "success")
    return redirect(url_for(".show", public_id=public_id), 303)


@bp.post("/admin/catalogue/competencies/<public_id>/delete")
@login_required(role=Role.ADMIN)
def delete(public_id: str) -> ResponseReturnValue:
    """Delete a competency nobody has used (one with submissions or masteries: 409)."""
    competency = own_competency(public_id)
    name = competency.name
    try:
        remove_competency(competency)
    except CatalogueError as error:
        return _show_page(own_competency(public_id), {"delete": error.message}, status_for(error))
    flash(_("“%(name)s” is deleted.", name=name), "success")
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
    picked = ChoicesForm().public_ids()
    chosen = _chosen_competencies(picked, competency)
    choose = choose_prerequisites if kind == "prerequisites" else choose_components
    try:
        choose(competency, chosen)
    except CatalogueError as error:
        return _choices_page(
            own_competency(public_id),
            kind=kind,
            selected=set(picked),
            error=error.message,
            status=status_for(error),
        )
    flash(
        _("Prerequisites saved.") if kind == "prerequisites" else _("Stack components saved."),
        "success",
    )
    return redirect(url_for(".show", public_id=public_id, _anchor=kind), 303)


@bp.route("/admin/catalogue/competencies/<public_id>/prerequisites", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def prerequisites(public_id: str) -> ResponseReturnValue:
    """Choose the competencies to master first; a choice that makes a loop is refused."""
    return _edit_links(public_id, "prerequisites")


@bp.route("/admin/catalogue/competencies/<public_id>/components", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def components(public_id: str) -> ResponseReturnValue:
    """Choose a stack's components; the stack itself, or a stack containing it, is refused."""
    return _edit_links(public_id, "components")


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
    if ImageQuery(formdata=request.args).v.data != blob.sha256:
        return redirect(url_for(".achievement_image", public_id=public_id, v=blob.sha256), 302)
    response = uploads.send_blob(blob, filename=None, inline=True)
    # A badge image is public and unchanging under this URL; other sites (wallets, verifiers)
    # may show it.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


# The rubric editor and the imports and exports add their routes to ``bp``: importing them here
# means that whoever registers ``bp`` registers every catalogue page.
from portfolio.catalogue import rubric_pages, transfer_pages  # noqa: E402, F401
