"""Students' evidence pages: list, create, edit and delete evidence; add, remove and reorder
its artefacts (uploaded files or links); serve the owner's artefact files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape
from sqlalchemy import select
from werkzeug.wrappers import Response

from portfolio.accounts.auth import current_user, login_required
from portfolio.accounts.models import User
from portfolio.catalogue.models import Competency
from portfolio.core.db import db
from portfolio.core.markdown import render_markdown
from portfolio.core.models import utcnow
from portfolio.evidence.artefacts import add_file_artefact, add_link_artefact
from portfolio.evidence.models import Artefact, Evidence
from portfolio.files import uploads
from portfolio.files.models import Blob
from portfolio.files.storage import BlobNotFoundError, storage

bp = Blueprint("evidence", __name__)

MAX_TITLE = 256
MAX_NARRATIVE = 50_000
MAX_COMPETENCIES = 50
MAX_GENRE = 128


class _Positioned(Protocol):
    position: int


T = TypeVar("T", bound=_Positioned)


def move(items: Sequence[T], item: T, direction: str) -> bool:
    """Move ``item`` one place ``up`` or ``down`` among ``items`` (in their display order).

    Positions are renumbered 0, 1, 2, ... first, so gaps and ties left by deletions or old
    data never make a move do nothing.  Returns False when the item is already at that end
    or ``direction`` is neither ``up`` nor ``down``.
    """
    ordered = list(items)
    if direction not in ("up", "down") or item not in ordered:
        return False
    for index, each in enumerate(ordered):
        each.position = index
    index = ordered.index(item)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return False
    ordered[index].position, ordered[other].position = other, index
    return True


def next_position(items: Sequence[_Positioned]) -> int:
    """The position after the last of ``items`` (0 when there are none)."""
    return max((each.position for each in items), default=-1) + 1


def parse_evidence_form(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Read title, narrative, genre (the kind of work) and competencies from a submitted form.

    Returns ``(values, errors)``: ``errors`` maps a field name to a message (empty when the
    values can be saved).  Competencies are one absolute http(s) URL a line.
    """
    title = (form.get("title") or "").strip()
    narrative = form.get("narrative") or ""
    genre = " ".join((form.get("genre") or "").split()) or None
    lines = [line.strip() for line in (form.get("competencies") or "").splitlines()]
    # Catalogue competencies come as checkboxes (their Achievement ids), others one URL a line.
    picked = form.getlist("catalogue") if hasattr(form, "getlist") else []
    chosen = [value.strip() for value in picked if value.strip()]
    competencies = list(dict.fromkeys([*chosen, *(line for line in lines if line)]))
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Enter a title."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"The title must have at most {MAX_TITLE} characters."
    if genre is not None and len(genre) > MAX_GENRE:
        errors["genre"] = f"The kind of work must have at most {MAX_GENRE} characters."
    if len(narrative) > MAX_NARRATIVE:
        errors["narrative"] = f"The narrative must have at most {MAX_NARRATIVE} characters."
    if len(competencies) > MAX_COMPETENCIES:
        errors["competencies"] = f"List at most {MAX_COMPETENCIES} competencies."
    else:
        for line in competencies:
            try:
                uploads.check_link(line)
            except uploads.UploadError:
                errors["competencies"] = f"Not a web address: {line[:80]}"
                break
    values = {"title": title, "narrative": narrative, "genre": genre, "competencies": competencies}
    return values, errors


def catalogue_choices(student: User) -> list[tuple[str, str]]:
    """(Achievement id, name) of the competencies of the student's school, for the form."""
    from portfolio.catalogue.achievements import achievement_url

    rows = db.session.scalars(
        select(Competency)
        .where(
            Competency.issuer_id == student.issuer_id,
            Competency.archived_at.is_(None),
            Competency.is_stack.is_(False),
        )
        .order_by(Competency.position, Competency.name)
    )
    return [(achievement_url(row), row.name) for row in rows]


def competency_names(student: User) -> dict[str, str]:
    """Names of catalogue competencies by Achievement id (archived ones too), for display."""
    from portfolio.catalogue.achievements import achievement_url

    rows = db.session.scalars(select(Competency).where(Competency.issuer_id == student.issuer_id))
    return {achievement_url(row): row.name for row in rows}


def _student() -> User:
    user = current_user()
    if user is None:  # login_required ran first; this keeps the type checker honest
        abort(401)
    return user


def own_evidence(public_id: str) -> Evidence:
    """The signed-in student's evidence with that public id; 404 for anyone else's.

    Someone else's evidence and evidence that does not exist look the same (no enumeration).
    """
    evidence: Evidence | None = db.session.scalar(
        select(Evidence).where(Evidence.public_id == public_id)
    )
    if evidence is None or evidence.owner_id != _student().id:
        abort(404)
    return evidence


def _own_artefact(evidence: Evidence, artefact_public_id: str) -> Artefact:
    for artefact in evidence.artefacts:
        if artefact.public_id == artefact_public_id:
            return artefact
    abort(404)


#: The parts of an artefact that can be fetched: its file, its thumbnail, its captions.
ARTEFACT_PARTS = ("file", "thumbnail", "captions")


def owner_artefact_url(artefact: Artefact, part: str = "file") -> str:
    """The owner's URL of an artefact's ``part`` (see :data:`ARTEFACT_PARTS`)."""
    return url_for(f"evidence.artefact_{part}", public_id=artefact.public_id)


#: Text artefacts up to this size are shown inline (stories, write-ups); longer ones as a link.
TEXT_PREVIEW_BYTES = 200_000


@bp.app_template_global()
def text_preview(artefact: Artefact) -> Markup | None:
    """A text or Markdown artefact's content as safe HTML for reading in the page, else None.

    Markdown goes through the sanitizing renderer; plain text is escaped inside ``<pre>``.
    """
    if (
        artefact.kind != "file"
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
        # The page shows the artefact under an h3 (evidence) or h2: its headings nest below.
        return render_markdown(text, heading_offset=3)
    return Markup('<pre class="text-artefact">') + escape(text) + Markup("</pre>")


def serve_artefact(artefact: Artefact, part: str) -> Response:
    """An artefact's file, thumbnail or captions; 404 when it has none.

    Files and thumbnails go through the uploads module (stored type, nosniff, CSP, ranges);
    captions are the stored WebVTT text.  Only file artefacts have content.
    """
    if artefact.kind != "file" or part not in ARTEFACT_PARTS:
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
@login_required(role="student")
def index() -> ResponseReturnValue:
    """My evidence, newest first."""
    items = db.session.scalars(
        select(Evidence)
        .where(Evidence.owner_id == _student().id)
        .order_by(Evidence.created_at.desc(), Evidence.id.desc())
    ).all()
    return render_template("evidence/index.html", items=items)


@bp.route("/evidence/new", methods=["GET", "POST"])
@login_required(role="student")
def create() -> ResponseReturnValue:
    """The new-evidence form; on success the evidence's page (303), else the form with 422."""
    values: dict[str, Any] = {"title": "", "narrative": "", "genre": None, "competencies": []}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, errors = parse_evidence_form(request.form)
        if not errors:
            evidence = Evidence(owner_id=_student().id, **values)
            db.session.add(evidence)
            db.session.commit()
            flash("Evidence saved.")
            return redirect(url_for(".show", public_id=evidence.public_id), 303)
    status = 422 if errors else 200
    page = render_template(
        "evidence/form.html",
        evidence=None,
        values=values,
        errors=errors,
        catalogue=catalogue_choices(_student()),
    )
    return page, status


@bp.get("/evidence/<public_id>")
@login_required(role="student")
def show(public_id: str) -> ResponseReturnValue:
    """One piece of my evidence: the sanitized narrative, its artefacts and their forms."""
    evidence = own_evidence(public_id)
    return _show_page(evidence)


def _show_page(
    evidence: Evidence, *, errors: dict[str, str] | None = None, form: Any = None, status: int = 200
) -> ResponseReturnValue:
    page = render_template(
        "evidence/show.html",
        evidence=evidence,
        competency_names=competency_names(_student()),
        narrative_html=render_markdown(evidence.narrative),
        artefact_url=owner_artefact_url,
        errors=errors or {},
        form=form or {},
    )
    return page, status


@bp.route("/evidence/<public_id>/edit", methods=["GET", "POST"])
@login_required(role="student")
def edit(public_id: str) -> ResponseReturnValue:
    """Edit the title, narrative and competencies; 422 with messages when they are not valid."""
    evidence = own_evidence(public_id)
    values: dict[str, Any] = {
        "title": evidence.title,
        "narrative": evidence.narrative,
        "genre": evidence.genre,
        "competencies": list(evidence.competencies or []),
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, errors = parse_evidence_form(request.form)
        if not errors:
            evidence.title = values["title"]
            evidence.narrative = values["narrative"]
            evidence.genre = values["genre"]
            evidence.competencies = values["competencies"]
            evidence.updated_at = utcnow()
            db.session.commit()
            flash("Evidence saved.")
            return redirect(url_for(".show", public_id=evidence.public_id), 303)
    status = 422 if errors else 200
    page = render_template(
        "evidence/form.html",
        evidence=evidence,
        values=values,
        errors=errors,
        catalogue=catalogue_choices(_student()),
    )
    return page, status


@bp.post("/evidence/<public_id>/delete")
@login_required(role="student")
def remove(public_id: str) -> ResponseReturnValue:
    """Delete the evidence, its artefacts and its places in portfolios (one transaction)."""
    evidence = own_evidence(public_id)
    db.session.delete(evidence)
    db.session.commit()
    flash("Evidence deleted.")
    return redirect(url_for(".index"), 303)


#: HTTP status of an upload refusal (``UploadError.code``): too big 413, nothing sent 400,
#: anything else (wrong type, damaged content, bad text) 422.
_STATUS_BY_CODE = {"too-large": 413, "quota-exceeded": 413, "empty": 400, "no-file": 400}
#: The form field next to which an upload refusal is shown (default: the file field).
_FIELD_BY_CODE = {"bad-title": "file_title", "bad-captions": "captions_vtt", "bad-url": "url"}


def upload_status(code: str) -> int:
    """The HTTP status for an ``UploadError`` code (413, 400 or 422)."""
    return _STATUS_BY_CODE.get(code, 422)


@bp.post("/evidence/<public_id>/artefacts/file")
@login_required(role="student")
def add_file(public_id: str) -> ResponseReturnValue:
    """Upload a file as a new artefact; on an error nothing is stored and the page says why."""
    evidence = own_evidence(public_id)
    form = request.form
    title = (form.get("file_title") or "").strip()
    upload = request.files.get("file")
    errors: dict[str, str] = {}
    if not title:
        errors["file_title"] = "Enter a title for the file."
    elif len(title) > MAX_TITLE:
        errors["file_title"] = f"The title must have at most {MAX_TITLE} characters."
    if upload is None or not upload.filename:
        errors["file"] = "Choose a file to upload."
    if errors or upload is None:  # no upload means errors["file"] is set
        return _show_page(evidence, errors=errors, form=form, status=400)
    try:
        artefact = add_file_artefact(
            evidence,
            upload,
            title=title,
            alt_text=(form.get("alt_text") or "").strip() or None,
            captions_vtt=(form.get("captions_vtt") or "").strip() or None,
            transcript=(form.get("transcript") or "").strip() or None,
        )
        artefact.position = next_position([a for a in evidence.artefacts if a is not artefact])
        evidence.updated_at = utcnow()
        db.session.commit()
    except uploads.UploadError as error:
        # Nothing of a refused upload stays: not the artefact, not a new blob row.
        db.session.rollback()
        evidence = own_evidence(public_id)
        errors[_FIELD_BY_CODE.get(error.code, "file")] = error.message
        return _show_page(evidence, errors=errors, form=form, status=upload_status(error.code))
    flash(f"Added “{artefact.title}”.")
    return redirect(url_for(".show", public_id=evidence.public_id), 303)


@bp.post("/evidence/<public_id>/artefacts/link")
@login_required(role="student")
def add_link(public_id: str) -> ResponseReturnValue:
    """Add an external link (title and http(s) URL) as a new artefact."""
    evidence = own_evidence(public_id)
    form = request.form
    title = (form.get("link_title") or "").strip()
    url = (form.get("url") or "").strip()
    errors: dict[str, str] = {}
    if not title:
        errors["link_title"] = "Enter a title for the link."
    elif len(title) > MAX_TITLE:
        errors["link_title"] = f"The title must have at most {MAX_TITLE} characters."
    if not url:
        errors["url"] = "Enter the link's address."
    if errors:
        return _show_page(evidence, errors=errors, form=form, status=422)
    try:
        artefact = add_link_artefact(evidence, url=url, title=title)
    except uploads.UploadError as error:
        db.session.rollback()
        evidence = own_evidence(public_id)
        field = "link_title" if error.code == "bad-title" else "url"
        return _show_page(evidence, errors={field: error.message}, form=form, status=422)
    artefact.position = next_position([a for a in evidence.artefacts if a is not artefact])
    evidence.updated_at = utcnow()
    db.session.commit()
    flash(f"Added “{artefact.title}”.")
    return redirect(url_for(".show", public_id=evidence.public_id), 303)


@bp.post("/evidence/<public_id>/artefacts/<artefact_id>/delete")
@login_required(role="student")
def remove_artefact(public_id: str, artefact_id: str) -> ResponseReturnValue:
    """Remove an artefact (its stored content stays: blobs are shared by SHA-256)."""
    evidence = own_evidence(public_id)
    artefact = _own_artefact(evidence, artefact_id)
    evidence.artefacts.remove(artefact)
    evidence.updated_at = utcnow()
    db.session.commit()
    flash(f"Removed “{artefact.title}”.")
    return redirect(url_for(".show", public_id=evidence.public_id), 303)


@bp.post("/evidence/<public_id>/artefacts/<artefact_id>/move")
@login_required(role="student")
def move_artefact(public_id: str, artefact_id: str) -> ResponseReturnValue:
    """Move an artefact one place up or down (``direction`` in the form)."""
    evidence = own_evidence(public_id)
    artefact = _own_artefact(evidence, artefact_id)
    if move(evidence.artefacts, artefact, request.form.get("direction", "")):
        db.session.commit()
    return redirect(url_for(".show", public_id=evidence.public_id, _anchor="artefacts"), 303)


@bp.get("/artefacts/<public_id>")
@login_required(role="student")
def artefact_file(public_id: str) -> ResponseReturnValue:
    """An artefact's file, for its owner (shared copies go through the portfolio routes)."""
    return serve_artefact(_viewable_artefact(public_id), "file")


@bp.get("/artefacts/<public_id>/thumbnail")
@login_required(role="student")
def artefact_thumbnail(public_id: str) -> ResponseReturnValue:
    """An artefact's thumbnail, for its owner."""
    return serve_artefact(_viewable_artefact(public_id), "thumbnail")


@bp.get("/artefacts/<public_id>/captions.vtt")
@login_required(role="student")
def artefact_captions(public_id: str) -> ResponseReturnValue:
    """An artefact's captions (WebVTT), for its owner."""
    return serve_artefact(_viewable_artefact(public_id), "captions")


def _viewable_artefact(public_id: str) -> Artefact:
    artefact: Artefact | None = db.session.scalar(
        select(Artefact).where(Artefact.public_id == public_id)
    )
    # Only the owner here: others see an artefact only through a portfolio (or a credential)
    # that shows it, whose own route serves the file.
    if artefact is None or artefact.evidence.owner_id != _student().id:
        abort(404)
    return artefact
