"""Portfolios' pages (blueprint ``portfolios``): students arrange evidence into sections and share
them (private, by link, public); the public and link-shared pages, their artefact files, and the
owner's exports.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import IO

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portfolio.accounts.auth import current_user, login_required
from portfolio.accounts.models import Role, User
from portfolio.core import audit
from portfolio.core.db import unit_of_work
from portfolio.core.errors import NotAllowedError
from portfolio.core.links import public_url
from portfolio.core.markdown import render_markdown
from portfolio.evidence.forms import MoveForm
from portfolio.evidence.models import Artefact
from portfolio.evidence.pages import serve_artefact
from portfolio.guardians.links import guardians_of
from portfolio.portfolios import service
from portfolio.portfolios.access import (
    artefact_in_portfolio,
    can_view_portfolio,
    hidden_for_consent,
    is_owner,
)
from portfolio.portfolios.export import image_data_uris, render_portfolio_pdf, write_zip
from portfolio.portfolios.forms import (
    VISIBILITIES,
    GuardiansForm,
    PlacementForm,
    PortfolioForm,
    RenameSectionForm,
    RevokeLinkForm,
    SectionForm,
    VisibilityForm,
)
from portfolio.portfolios.models import Portfolio, PortfolioItem, PortfolioSection, Visibility

bp = Blueprint("portfolios", __name__)


def _student() -> User:
    user = current_user()
    if user is None:
        abort(401)
    return user


def own_portfolio(public_id: str) -> Portfolio:
    """The signed-in student's portfolio with that public id; 404 for anyone else's."""
    portfolio = service.find_portfolio(public_id)
    if portfolio is None or portfolio.owner_id != _student().id:
        abort(404)
    return portfolio


def _own_section(portfolio: Portfolio, section_id: str) -> PortfolioSection:
    for section in portfolio.sections:
        if str(section.id) == section_id:
            return section
    abort(404)


def _own_item(portfolio: Portfolio, item_id: str) -> PortfolioItem:
    for section in portfolio.sections:
        for item in section.items:
            if str(item.id) == item_id:
                return item
    abort(404)


def _back(portfolio: Portfolio, anchor: str | None = None) -> ResponseReturnValue:
    return redirect(url_for(".manage", public_id=portfolio.public_id, _anchor=anchor), 303)


# -- the owner's pages -----------------------------------------------------------------------


@bp.route("/portfolios", methods=["GET", "POST"])
@login_required(role=Role.STUDENT)
def index() -> ResponseReturnValue:
    """My portfolios, and the form to create one (POST: title and cover text)."""
    user = _student()
    errors: dict[str, str] = {}
    values = {"title": "", "cover_text": ""}
    if request.method == "POST":
        form = PortfolioForm()
        values = {"title": form.title.data, "cover_text": form.cover_text.data}
        if form.validate():
            portfolio = service.create_portfolio(user, **values)
            flash(_("Created the portfolio “%(title)s”.", title=portfolio.title), "success")
            return _back(portfolio)
        errors = form.errors_by_field()
    page = render_template(
        "portfolios/index.html",
        portfolios=service.owned_portfolios(user),
        errors=errors,
        values=values,
    )
    return page, 422 if errors else 200


def _manage_page(
    portfolio: Portfolio, *, errors: dict[str, str] | None = None, status: int = 200
) -> ResponseReturnValue:
    share_url = (
        url_for(".shared", slug=portfolio.share_slug, _external=True)
        if portfolio.visibility == Visibility.LINK and portfolio.share_slug
        else None
    )
    page = render_template(
        "portfolios/manage.html",
        portfolio=portfolio,
        evidence=service.owned_evidence(portfolio),
        visibilities=VISIBILITIES,
        share_url=share_url,
        cover_html=render_markdown(portfolio.cover_text),
        errors=errors or {},
        guardians=guardians_of(portfolio.owner),
        hidden_for_consent=hidden_for_consent(portfolio),
    )
    return page, status


@bp.get("/portfolios/<public_id>/edit")
@login_required(role=Role.STUDENT)
def manage(public_id: str) -> ResponseReturnValue:
    """The owner's page to arrange a portfolio: details, sharing, sections and their items."""
    return _manage_page(own_portfolio(public_id))


@bp.post("/portfolios/<public_id>/details")
@login_required(role=Role.STUDENT)
def update_details(public_id: str) -> ResponseReturnValue:
    """Change the title and cover text (Markdown)."""
    portfolio = own_portfolio(public_id)
    form = PortfolioForm()
    if not form.validate():
        return _manage_page(portfolio, errors=form.errors_by_field(), status=422)
    service.update_details(portfolio, title=form.title.data, cover_text=form.cover_text.data)
    flash(_("Portfolio saved."), "success")
    return _back(portfolio)


@bp.post("/portfolios/<public_id>/visibility")
@login_required(role=Role.STUDENT)
def set_visibility(public_id: str) -> ResponseReturnValue:
    """Make the portfolio private, shared by link, or public.

    Only a link-shared portfolio has a slug: choosing "anyone with the link" creates one (if
    there is none yet), and any other choice clears it, so the old link stops working.
    """
    portfolio = own_portfolio(public_id)
    form = VisibilityForm()
    if not form.validate():
        return _manage_page(portfolio, errors=form.errors_by_field(), status=422)
    visibility = Visibility(form.visibility.data)
    try:
        service.set_visibility(portfolio, visibility)
    except NotAllowedError as refused:
        return _manage_page(portfolio, errors={"visibility": str(refused.message)}, status=403)
    flash(_("Visibility: %(visibility)s.", visibility=VISIBILITIES[visibility]), "success")
    return _back(portfolio, "sharing")


@bp.post("/portfolios/<public_id>/guardians")
@login_required(role=Role.STUDENT)
def share_with_guardians(public_id: str) -> ResponseReturnValue:
    """Share the portfolio with my linked guardians (read only), or stop sharing it."""
    portfolio = own_portfolio(public_id)
    shared = GuardiansForm().shared
    service.share_with_guardians(portfolio, shared=shared)
    flash(
        _("Your guardians can now read this portfolio.")
        if shared
        else _("Your guardians no longer see this portfolio."),
        "success",
    )
    return _back(portfolio, "guardians")


@bp.post("/portfolios/<public_id>/revoke-link")
@login_required(role=Role.STUDENT)
def revoke_link(public_id: str) -> ResponseReturnValue:
    """Revoke the shared link: the old link answers 404 at once.

    With ``replace`` in the form a new link replaces it; otherwise the portfolio becomes
    private.
    """
    portfolio = own_portfolio(public_id)
    replace = bool(RevokeLinkForm().replace.data)
    service.revoke_link(portfolio, replace=replace)
    if replace:
        flash(_("The old link no longer works; a new link was made."), "success")
    else:
        flash(_("The link no longer works; the portfolio is private."), "success")
    return _back(portfolio, "sharing")


@bp.post("/portfolios/<public_id>/delete")
@login_required(role=Role.STUDENT)
def remove(public_id: str) -> ResponseReturnValue:
    """Delete the portfolio, its sections and placements (the evidence itself stays)."""
    service.delete_portfolio(own_portfolio(public_id))
    flash(_("Portfolio deleted; your evidence is kept."), "success")
    return redirect(url_for(".index"), 303)


@bp.post("/portfolios/<public_id>/sections")
@login_required(role=Role.STUDENT)
def add_section(public_id: str) -> ResponseReturnValue:
    """Add a section at the end."""
    portfolio = own_portfolio(public_id)
    form = SectionForm()
    if not form.validate():
        return _manage_page(portfolio, errors=form.errors_by_field(), status=422)
    service.add_section(portfolio, form.section_title.data)
    return _back(portfolio, "sections")


@bp.post("/portfolios/<public_id>/sections/<section_id>/rename")
@login_required(role=Role.STUDENT)
def rename_section(public_id: str, section_id: str) -> ResponseReturnValue:
    """Rename a section."""
    portfolio = own_portfolio(public_id)
    section = _own_section(portfolio, section_id)
    form = RenameSectionForm()
    if not form.validate():
        errors = {f"section-{section.id}": form.title.errors[0]}
        return _manage_page(portfolio, errors=errors, status=422)
    service.rename_section(portfolio, section, form.title.data)
    return _back(portfolio, f"section-{section.id}")


@bp.post("/portfolios/<public_id>/sections/<section_id>/move")
@login_required(role=Role.STUDENT)
def move_section(public_id: str, section_id: str) -> ResponseReturnValue:
    """Move a section one place up or down."""
    portfolio = own_portfolio(public_id)
    section = _own_section(portfolio, section_id)
    service.move_section(portfolio, section, MoveForm().direction.data)
    return _back(portfolio, f"section-{section.id}")


@bp.post("/portfolios/<public_id>/sections/<section_id>/delete")
@login_required(role=Role.STUDENT)
def delete_section(public_id: str, section_id: str) -> ResponseReturnValue:
    """Delete a section and its placements (the evidence itself stays)."""
    portfolio = own_portfolio(public_id)
    service.delete_section(portfolio, _own_section(portfolio, section_id))
    return _back(portfolio, "sections")


@bp.post("/portfolios/<public_id>/sections/<section_id>/items")
@login_required(role=Role.STUDENT)
def add_item(public_id: str, section_id: str) -> ResponseReturnValue:
    """Place one of my pieces of evidence at the end of a section (once per section)."""
    portfolio = own_portfolio(public_id)
    section = _own_section(portfolio, section_id)
    try:
        service.place_evidence(portfolio, section, PlacementForm().evidence.data)
    except service.PlacementError as error:
        # Shown next to the section's form with 422, whatever the kind of refusal.
        return _manage_page(portfolio, errors={f"items-{section.id}": error.message}, status=422)
    return _back(portfolio, f"section-{section.id}")


@bp.post("/portfolios/<public_id>/items/<item_id>/move")
@login_required(role=Role.STUDENT)
def move_item(public_id: str, item_id: str) -> ResponseReturnValue:
    """Move a placed piece of evidence one place up or down within its section."""
    portfolio = own_portfolio(public_id)
    item = _own_item(portfolio, item_id)
    service.move_item(portfolio, item, MoveForm().direction.data)
    return _back(portfolio, f"section-{item.section_id}")


@bp.post("/portfolios/<public_id>/items/<item_id>/delete")
@login_required(role=Role.STUDENT)
def delete_item(public_id: str, item_id: str) -> ResponseReturnValue:
    """Take a piece of evidence out of a section (the evidence itself stays)."""
    portfolio = own_portfolio(public_id)
    item = _own_item(portfolio, item_id)
    section_id = item.section_id
    service.delete_item(portfolio, item)
    return _back(portfolio, f"section-{section_id}")


# -- the shared pages ------------------------------------------------------------------------


def _view_page(portfolio: Portfolio, *, share_slug: str | None) -> ResponseReturnValue:
    def artefact_url(artefact: Artefact, part: str = "file") -> str:
        if share_slug is not None:
            return url_for(
                ".shared_artefact", slug=share_slug, artefact_id=artefact.public_id, part=part
            )
        return url_for(
            ".public_artefact",
            public_id=portfolio.public_id,
            artefact_id=artefact.public_id,
            part=part,
        )

    response = render_template(
        "portfolios/view.html",
        portfolio=portfolio,
        cover_html=render_markdown(portfolio.cover_text),
        render_markdown=render_markdown,
        artefact_url=artefact_url,
        credentials=service.earned_credentials(portfolio.owner),
        noindex=share_slug is not None or portfolio.visibility != Visibility.PUBLIC,
        is_owner=is_owner(portfolio, current_user()),
        hidden_for_consent=hidden_for_consent(portfolio),
    )
    return response


@bp.get("/portfolios/<public_id>")
def public_view(public_id: str) -> ResponseReturnValue:
    """A public portfolio (its owner sees any of their own here as a preview); else 404."""
    portfolio = service.find_portfolio(public_id)
    if portfolio is None or not can_view_portfolio(portfolio, current_user()):
        abort(404)
    return _view_page(portfolio, share_slug=None)


def _shared_portfolio(slug: str) -> Portfolio:
    portfolio = service.shared_portfolio(slug)
    if portfolio is None or not can_view_portfolio(portfolio, current_user(), share_slug=slug):
        abort(404)
    return portfolio


@bp.get("/p/<slug>")
def shared(slug: str) -> ResponseReturnValue:
    """A portfolio shared by link; 404 once the link is revoked or replaced."""
    return _view_page(_shared_portfolio(slug), share_slug=slug)


def _artefact_part(part: str) -> str:
    return {"file": "file", "thumbnail": "thumbnail", "captions.vtt": "captions"}.get(part, "")


@bp.get("/p/<slug>/artefacts/<artefact_id>", defaults={"part": "file"})
@bp.get("/p/<slug>/artefacts/<artefact_id>/<part>")
def shared_artefact(slug: str, artefact_id: str, part: str) -> ResponseReturnValue:
    """An artefact of evidence in the link-shared portfolio (and only such an artefact)."""
    artefact = artefact_in_portfolio(_shared_portfolio(slug), artefact_id)
    if artefact is None or not _artefact_part(part):
        abort(404)
    return serve_artefact(artefact, _artefact_part(part))


@bp.get("/portfolios/<public_id>/artefacts/<artefact_id>", defaults={"part": "file"})
@bp.get("/portfolios/<public_id>/artefacts/<artefact_id>/<part>")
def public_artefact(public_id: str, artefact_id: str, part: str) -> ResponseReturnValue:
    """An artefact of evidence in a portfolio the viewer may see (public, or their own)."""
    portfolio = service.find_portfolio(public_id)
    if portfolio is None or not can_view_portfolio(portfolio, current_user()):
        abort(404)
    artefact = artefact_in_portfolio(portfolio, artefact_id)
    if artefact is None or not _artefact_part(part):
        abort(404)
    return serve_artefact(artefact, _artefact_part(part))


# -- exports ---------------------------------------------------------------------------------


def portfolio_pdf_html(portfolio: Portfolio) -> str:
    """The HTML of the portfolio's PDF export: images as ``data:`` URIs from storage, every
    other artefact listed with its SHA-256 (needs an application context)."""
    return render_template(
        "portfolios/export.html",
        portfolio=portfolio,
        cover_html=render_markdown(portfolio.cover_text),
        render_markdown=render_markdown,
        credentials=service.earned_credentials(portfolio.owner),
        public_url=public_url(),
        image_uris=image_data_uris(portfolio),
    )


@bp.get("/portfolios/<public_id>/export.pdf")
@login_required(role=Role.STUDENT)
def export_pdf(public_id: str) -> ResponseReturnValue:
    """The whole portfolio as one PDF (owner only)."""
    portfolio = own_portfolio(public_id)
    body = render_portfolio_pdf(portfolio_pdf_html(portfolio))
    _audit_export(portfolio, "pdf")
    return _download(body, "application/pdf", f"portfolio-{portfolio.public_id}.pdf")


def _audit_export(portfolio: Portfolio, kind: str) -> None:
    with unit_of_work():
        audit.record(
            "portfolio_exported",
            actor=_student(),
            target=f"portfolio:{portfolio.public_id}",
            detail={"format": kind},
        )


def _download(body: bytes | Iterable[bytes], media_type: str, filename: str) -> Response:
    response = Response(body, mimetype=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/portfolios/<public_id>/export.zip")
@login_required(role=Role.STUDENT)
def export_zip(public_id: str) -> ResponseReturnValue:
    """The portfolio's artefact files and ``manifest.json`` as one ZIP (owner only)."""
    portfolio = own_portfolio(public_id)
    archive = write_zip(portfolio, public_url=public_url())
    _audit_export(portfolio, "zip")
    size = archive.seek(0, os.SEEK_END)
    archive.seek(0)
    response = _download(
        _read_and_close(archive),
        "application/zip",
        f"portfolio-{portfolio.public_id}.zip",
    )
    response.headers["Content-Length"] = str(size)
    return response


def _read_and_close(archive: IO[bytes], chunk: int = 1024 * 1024) -> Iterator[bytes]:
    """The file's bytes in chunks; the file is closed when they are all sent or the response
    is closed early (the generator's ``finally``)."""
    try:
        while data := archive.read(chunk):
            yield data
    finally:
        archive.close()
