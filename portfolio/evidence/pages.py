"""Students' evidence pages (blueprint ``evidence``): list, create, edit and delete evidence; add,
remove and reorder its artefacts (uploaded files or links); serve the owner's artefact files.
Also :func:`serve_artefact`, how every page serves an artefact's file, thumbnail or captions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from portfolio.accounts.auth import current_user, login_required
from portfolio.accounts.models import Role, User
from portfolio.core.db import db
from portfolio.core.errors import status_for
from portfolio.core.markdown import render_markdown
from portfolio.evidence import gallery, service
from portfolio.evidence.forms import EvidenceForm, FileArtefactForm, LinkArtefactForm, MoveForm
from portfolio.evidence.models import Artefact, ArtefactKind, Evidence, SnapshotArtefact
from portfolio.evidence.snapshots import standing_credentials_using
from portfolio.files import uploads
from portfolio.files.models import Blob
from portfolio.files.storage import BlobNotFoundError, storage

bp = Blueprint("evidence", __name__)


def _student() -> User:
    user = current_user()
    if user is None:  # login_required ran first; this keeps the type checker honest
        abort(401)
    return user


def own_evidence(public_id: str) -> Evidence:
    """The signed-in student's evidence with that public id; 404 for anyone else's.

    Someone else's evidence and evidence that does not exist look the same (no enumeration).
    """
    evidence = service.find_evidence(_student(), public_id)
    if evidence is None:
        abort(404)
    return evidence


def _own_artefact(evidence: Evidence, artefact_public_id: str) -> Artefact:
    for artefact in evidence.artefacts:
        if artefact.public_id == artefact_public_id:
            return artefact
    abort(404)


# -- serving artefacts -----------------------------------------------------------------------

#: The parts of an artefact that can be fetched: its file, its thumbnail, its captions.
ARTEFACT_PARTS = ("file", "thumbnail", "captions")


def owner_artefact_url(artefact: Artefact, part: str = "file") -> str:
    """The owner's URL of an artefact's ``part`` (see :data:`ARTEFACT_PARTS`)."""
    return url_for(f"evidence.artefact_{part}", public_id=artefact.public_id)


#: Text artefacts up to this size are shown inline (stories, write-ups); longer ones as a link.
TEXT_PREVIEW_BYTES = 200_000


@bp.app_template_global()
def text_preview(artefact: Artefact | SnapshotArtefact, first_level: int = 4) -> Markup | None:
    """A text or Markdown artefact's content as safe HTML for reading in the page, else None.

    A Markdown artefact's headings start at ``first_level``: one below the heading the page
    shows the artefact under (h3 for evidence cards, so h4; the evidence pages pass 3).

    Markdown goes through the sanitizing renderer; plain text is escaped inside ``<pre>``.
    """
    if (
        artefact.kind != ArtefactKind.FILE
        or artefact.media_type not in ("text/plain", "text/markdown")
        or not artefact.blob_sha256
        or (artefact.size or 0) > TEXT_PREVIEW_BYTES
    ):
        return None
    try:
        data = storage().get(artefact.blob_sha256)
    except BlobNotFoundError:
        return None
    text = data.decode("utf-8", errors="replace")
    if artefact.media_type == "text/markdown":
        return render_markdown(text, first_level=first_level)
    return Markup('<pre class="text-artefact">') + escape(text) + Markup("</pre>")


def serve_artefact(artefact: Artefact | SnapshotArtefact, part: str) -> Response:
    """An artefact's file, thumbnail or captions; 404 when it has none.

    Files and thumbnails go through the uploads module (stored type, nosniff, CSP, ranges);
    captions are the stored WebVTT text.  Only file artefacts have content.
    """
    if artefact.kind != ArtefactKind.FILE or part not in ARTEFACT_PARTS:
        abort(404)
    if part == "captions":
        if not artefact.captions_vtt:
            abort(404)
        response = Response(artefact.captions_vtt, mimetype="text/vtt")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response
    if part == "thumbnail":
        blob = (
            db.session.get(Blob, artefact.thumbnail_sha256) if artefact.thumbnail_sha256 else None
        )
        filename, inline = "thumbnail", True
    else:
        blob = artefact.blob
        filename = artefact.original_filename or "artefact"
        inline = (artefact.media_type or "").split("/")[0] in ("image", "audio", "video")
    if blob is None:
        abort(404)
    return uploads.send_blob(blob, filename=filename, inline=inline)


# -- pages -----------------------------------------------------------------------------------


@bp.get("/evidence")
@login_required(role=Role.STUDENT)
def index() -> ResponseReturnValue:
    """My evidence as a gallery (newest first; ``?sort=oldest`` or ``title``), each card with
    its type, thumbnail, date and whether a credential keeps a frozen copy."""
    sort = request.args.get("sort", "newest")
    if sort not in gallery.SORTS:
        sort = "newest"
    cards = gallery.cards(_student(), sort=sort)
    return render_template("evidence/index.html", cards=cards, sort=sort)


def _form_page(
    evidence: Evidence | None, values: Mapping[str, Any], errors: Mapping[str, str]
) -> ResponseReturnValue:
    page = render_template(
        "evidence/form.html",
        evidence=evidence,
        values=values,
        errors=errors,
        catalogue=service.catalogue_choices(_student()),
    )
    return page, 422 if errors else 200


@bp.route("/evidence/new", methods=["GET", "POST"])
@login_required(role=Role.STUDENT)
def create() -> ResponseReturnValue:
    """The new-evidence form; on success the evidence's page (303), else the form with 422."""
    if request.method == "GET":
        blank: dict[str, Any] = {"title": "", "narrative": "", "genre": None, "competencies": []}
        return _form_page(None, blank, {})
    form = EvidenceForm()
    if not form.validate():
        return _form_page(None, form.values(), form.errors_by_field())
    evidence = service.create_evidence(_student(), form.values())
    flash(_("Evidence saved."), "success")
    return redirect(url_for(".show", public_id=evidence.public_id), 303)


@bp.get("/evidence/<public_id>")
@login_required(role=Role.STUDENT)
def show(public_id: str) -> ResponseReturnValue:
    """One piece of my evidence: the sanitized narrative, its artefacts and their forms."""
    evidence = own_evidence(public_id)
    return _show_page(evidence)


def _show_page(
    evidence: Evidence,
    *,
    errors: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    page = render_template(
        "evidence/show.html",
        evidence=evidence,
        competency_names=service.competency_names(_student()),
        narrative_html=render_markdown(evidence.narrative),
        artefact_url=owner_artefact_url,
        frozen_in=standing_credentials_using(evidence),
        errors=errors or {},
        form=form or {},
    )
    return page, status


@bp.route("/evidence/<public_id>/edit", methods=["GET", "POST"])
@login_required(role=Role.STUDENT)
def edit(public_id: str) -> ResponseReturnValue:
    """Edit the title, narrative and competencies; 422 with messages when they are not valid."""
    evidence = own_evidence(public_id)
    if request.method == "GET":
        stored = {
            "title": evidence.title,
            "narrative": evidence.narrative,
            "genre": evidence.genre,
            "competencies": list(evidence.competencies or []),
        }
        return _form_page(evidence, stored, {})
    form = EvidenceForm()
    if not form.validate():
        return _form_page(evidence, form.values(), form.errors_by_field())
    service.update_evidence(evidence, form.values())
    flash(_("Evidence saved."), "success")
    return redirect(url_for(".show", public_id=evidence.public_id), 303)


@bp.get("/evidence/<public_id>/delete")
@login_required(role=Role.STUDENT)
def confirm_removal(public_id: str) -> ResponseReturnValue:
    """The confirmation step before deleting: what goes, and the credentials that keep a
    frozen copy of this evidence (deleting does not remove those copies)."""
    return _confirm_page(own_evidence(public_id))


def _confirm_page(evidence: Evidence, status: int = 200) -> ResponseReturnValue:
    page = render_template(
        "evidence/delete.html",
        evidence=evidence,
        credentials=standing_credentials_using(evidence),
        unconfirmed=status != 200,
    )
    return page, status


@bp.post("/evidence/<public_id>/delete")
@login_required(role=Role.STUDENT)
def remove(public_id: str) -> ResponseReturnValue:
    """Delete the evidence, its artefacts and its places in portfolios (one transaction), once
    confirmed on :func:`confirm_removal`'s page; unconfirmed, that page again (422)."""
    evidence = own_evidence(public_id)
    if request.form.get("confirm") != "yes":
        return _confirm_page(evidence, status=422)
    service.delete_evidence(evidence)
    flash(_("Evidence deleted."), "success")
    return redirect(url_for(".index"), 303)


#: The form field next to which an upload refusal is shown (default: the file field).
_FIELD_BY_CODE = {"bad-title": "file_title", "bad-captions": "captions_vtt", "bad-url": "url"}


@bp.post("/evidence/<public_id>/artefacts/file")
@login_required(role=Role.STUDENT)
def add_file(public_id: str) -> ResponseReturnValue:
    """Upload a file as a new artefact; on an error nothing is stored and the page says why
    (a missing title or file: 400; a refused upload: :func:`uploads.upload_status`)."""
    evidence = own_evidence(public_id)
    form = FileArtefactForm()
    if not form.validate():
        errors = form.errors_by_field()
        return _show_page(evidence, errors=errors, form=form.as_sent(), status=400)
    try:
        artefact = service.add_file(
            evidence,
            form.upload(),
            title=form.file_title.data,
            alt_text=form.alt_text.data,
            captions_vtt=form.captions_vtt.data,
            transcript=form.transcript.data,
        )
    except uploads.UploadError as error:
        errors = {_FIELD_BY_CODE.get(error.code, "file"): error.message}
        status = uploads.upload_status(error)
        return _show_page(
            own_evidence(public_id), errors=errors, form=form.as_sent(), status=status
        )
    flash(_("Added “%(title)s”.", title=artefact.title), "success")
    location = url_for(".show", public_id=evidence.public_id)
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        # upload.js sent it (to show progress): it goes to the page itself, where the flash
        # message is shown (a redirect would be followed, and the message read, by the XHR).
        return jsonify(location=location)
    return redirect(location, 303)


@bp.post("/evidence/<public_id>/artefacts/link")
@login_required(role=Role.STUDENT)
def add_link(public_id: str) -> ResponseReturnValue:
    """Add an external link (title and http(s) URL) as a new artefact."""
    evidence = own_evidence(public_id)
    form = LinkArtefactForm()
    if not form.validate():
        errors = form.errors_by_field()
        return _show_page(evidence, errors=errors, form=form.as_sent(), status=422)
    try:
        artefact = service.add_link(evidence, url=form.url.data, title=form.link_title.data)
    except uploads.UploadError as error:
        errors = {"link_title" if error.code == "bad-title" else "url": error.message}
        return _show_page(
            own_evidence(public_id), errors=errors, form=form.as_sent(), status=status_for(error)
        )
    flash(_("Added “%(title)s”.", title=artefact.title), "success")
    return redirect(url_for(".show", public_id=evidence.public_id), 303)


@bp.post("/evidence/<public_id>/artefacts/<artefact_id>/delete")
@login_required(role=Role.STUDENT)
def remove_artefact(public_id: str, artefact_id: str) -> ResponseReturnValue:
    """Remove an artefact (its stored content stays: blobs are shared by SHA-256)."""
    evidence = own_evidence(public_id)
    artefact = _own_artefact(evidence, artefact_id)
    service.remove_artefact(evidence, artefact)
    flash(_("Removed “%(title)s”.", title=artefact.title), "success")
    return redirect(url_for(".show", public_id=evidence.public_id), 303)


@bp.post("/evidence/<public_id>/artefacts/<artefact_id>/move")
@login_required(role=Role.STUDENT)
def move_artefact(public_id: str, artefact_id: str) -> ResponseReturnValue:
    """Move an artefact one place up or down (``direction`` in the form)."""
    evidence = own_evidence(public_id)
    artefact = _own_artefact(evidence, artefact_id)
    service.move_artefact(evidence, artefact, MoveForm().direction.data)
    return redirect(url_for(".show", public_id=evidence.public_id, _anchor="artefacts"), 303)


@bp.get("/artefacts/<public_id>")
@login_required(role=Role.STUDENT)
def artefact_file(public_id: str) -> ResponseReturnValue:
    """An artefact's file, for its owner (shared copies go through the portfolio routes)."""
    return serve_artefact(_viewable_artefact(public_id), "file")


@bp.get("/artefacts/<public_id>/thumbnail")
@login_required(role=Role.STUDENT)
def artefact_thumbnail(public_id: str) -> ResponseReturnValue:
    """An artefact's thumbnail, for its owner."""
    return serve_artefact(_viewable_artefact(public_id), "thumbnail")


@bp.get("/artefacts/<public_id>/captions.vtt")
@login_required(role=Role.STUDENT)
def artefact_captions(public_id: str) -> ResponseReturnValue:
    """An artefact's captions (WebVTT), for its owner."""
    return serve_artefact(_viewable_artefact(public_id), "captions")


def _viewable_artefact(public_id: str) -> Artefact:
    # Only the owner here: others see an artefact only through a portfolio (or a credential)
    # that shows it, whose own route serves the file.
    artefact = service.find_artefact(_student(), public_id)
    if artefact is None:
        abort(404)
    return artefact
