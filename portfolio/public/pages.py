"""Public pages: a credential's page (``/c/<id>``) with a live verification panel, its downloads
(JSON, baked PNG/SVG badges, PDF certificate) and the ``/verify`` form.  No JavaScript needed.

Everything shown comes from the stored, signed JSON and is treated as untrusted text: Jinja2
escapes it, only http(s) URLs become links, and the PDF renderer fetches nothing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import segno
from flask import Blueprint, Response, abort, render_template, request
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from flask_wtf.file import FileField
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from wtforms import SubmitField, TextAreaField

from credentials import baking
from credentials.errors import BakingError, MalformedInputError
from credentials.verify import VerificationResult, issuer_id, parse_credential
from portfolio.core import metrics, request_limits
from portfolio.core.db import db
from portfolio.core.pdf import RestrictedFetcher, render_pdf
from portfolio.issuing import badges
from portfolio.issuing import service as services
from portfolio.issuing.models import IssuedCredential
from portfolio.public import explanations

bp = Blueprint("public", __name__)

#: Largest upload or pasted credential /verify accepts (a 413 page beyond it).
MAX_VERIFY_BYTES = 5 * 1024 * 1024
#: Image types an achievement's own ``data:`` image may have to be shown as ``<img>``.
DATA_IMAGE_PREFIXES = tuple(
    f"data:image/{kind}" for kind in ("png", "jpeg", "gif", "webp", "svg+xml")
)
MAX_DESCRIPTION_CHARS = 200
LINKEDIN_ADD_URL = "https://www.linkedin.com/profile/add"

_IDENTITY_TYPES = {
    "emailAddress": "email address",
    "telephone": "telephone number",
    "url": "web address",
    "studentId": "student ID",
    "sourcedId": "student information system ID",
    "name": "name",
}


# -- what a credential says, read defensively from its JSON ----------------------------------


@dataclass(frozen=True)
class Link:
    """A named link; ``url`` is ``None`` when the address is not http(s) (shown as text)."""

    name: str
    url: str | None
    text: str


@dataclass
class CredentialView:
    """The displayable facts of a credential: plain strings (never markup) and safe links."""

    achievement_name: str = "Untitled achievement"
    description: str = ""
    criteria: str = ""
    image_url: str | None = None
    image_alt: str = ""
    issuer_name: str = "Unknown issuer"
    issuer_id: str = ""
    recipient: str = ""
    recipient_is_name: bool = False
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    evidence: list[Link] = field(default_factory=list)
    #: (criterion, level reached) pairs read from the results and the achievement's rubric.
    results: list[tuple[str, str]] = field(default_factory=list)
    #: (endorser's name, comment) of each embedded endorsement (verified by the panel).
    endorsements: list[tuple[str, str]] = field(default_factory=list)


def _text(value: Any) -> str:
    """A string value as plain text (strings only: objects and numbers become ``""``)."""
    return value.strip() if isinstance(value, str) else ""


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def http_url(value: Any) -> str | None:
    """``value`` if it is an absolute http(s) URL with a host, else ``None`` (so ``javascript:``,
    ``data:`` and relative URLs are never rendered as links)."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc and url == value:
        return url
    return None


def image_url(value: Any) -> str | None:
    """An achievement's image (a URL or an Image object) if it is safe to show as ``<img>``:
    an https URL or a ``data:image/...`` URI of a common type; else ``None``."""
    if isinstance(value, dict):
        value = value.get("id")
    if not isinstance(value, str):
        return None
    if value.lower().startswith(DATA_IMAGE_PREFIXES):
        return value
    url = http_url(value)
    return url if url and url.lower().startswith("https:") else None


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def recipient_description(subject: Mapping[str, Any]) -> str:
    """How the recipient is identified, without revealing a hashed identifier or its salt."""
    identifiers = subject.get("identifier")
    for identity in identifiers if isinstance(identifiers, list) else []:
        if not isinstance(identity, dict):
            continue
        kind = _IDENTITY_TYPES.get(_text(identity.get("identityType")), "identifier")
        if identity.get("hashed") is True:
            return f"Recipient identified by a hashed {kind} (not shown)"
        return f"Recipient identified by {'an' if kind[0] in 'aeiou' else 'a'} {kind} (not shown)"
    subject_id = _text(subject.get("id"))
    if subject_id:
        return f"Recipient identified by {subject_id}"
    return "Recipient not identified"


def describe(document: Mapping[str, Any], *, recipient_name: str | None = None) -> CredentialView:
    """The displayable facts of ``document`` (a credential's JSON object); never raises."""
    view = CredentialView()
    subject = _first(document.get("credentialSubject"))
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, dict) else {}
    view.achievement_name = (
        _text(achievement.get("name")) or _text(document.get("name")) or view.achievement_name
    )
    view.description = _text(achievement.get("description")) or _text(document.get("description"))
    criteria = achievement.get("criteria")
    if isinstance(criteria, dict):
        view.criteria = _text(criteria.get("narrative"))
    image = achievement.get("image") or document.get("image")
    view.image_url = image_url(image)
    caption = _text(image.get("caption")) if isinstance(image, dict) else ""
    view.image_alt = caption or f"Badge: {view.achievement_name}"
    issuer = document.get("issuer")
    if isinstance(issuer, dict):
        view.issuer_name = _text(issuer.get("name")) or view.issuer_name
    try:
        view.issuer_id = issuer_id(document)
    except MalformedInputError:
        view.issuer_id = ""
    if recipient_name:
        view.recipient, view.recipient_is_name = recipient_name, True
    elif _text(subject.get("name")):
        view.recipient, view.recipient_is_name = _text(subject.get("name")), True
    else:
        view.recipient = recipient_description(subject)
    view.valid_from = _datetime(document.get("validFrom") or document.get("issuanceDate"))
    view.valid_until = _datetime(document.get("validUntil") or document.get("expirationDate"))
    evidence = document.get("evidence")
    for item in evidence if isinstance(evidence, list) else [evidence] if evidence else []:
        if isinstance(item, dict):
            raw = _text(item.get("id"))
            url = http_url(item.get("id"))
            name = _text(item.get("name")) or _text(item.get("description")) or "Evidence"
            view.evidence.append(Link(name=name, url=url, text=raw))
    view.results = _results(subject, achievement)
    view.endorsements = _endorsements(document)
    return view


def _results(subject: Mapping[str, Any], achievement: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Each result as (what was assessed, what was achieved), names looked up by id (OB 3.0
    Result.resultDescription and achievedLevel refer to the achievement's definitions)."""
    names: dict[str, str] = {}
    descriptions = achievement.get("resultDescription")
    for description in descriptions if isinstance(descriptions, list) else []:
        if not isinstance(description, dict):
            continue
        names[_text(description.get("id"))] = _text(description.get("name"))
        levels = description.get("rubricCriterionLevel")
        for level in levels if isinstance(levels, list) else []:
            if isinstance(level, dict):
                names[_text(level.get("id"))] = _text(level.get("name"))
    out = []
    results = subject.get("result")
    for result in results if isinstance(results, list) else []:
        if not isinstance(result, dict):
            continue
        what = names.get(_text(result.get("resultDescription"))) or "Result"
        achieved = names.get(_text(result.get("achievedLevel"))) or _text(result.get("value"))
        achieved = achieved or _text(result.get("status"))
        if achieved:
            out.append((what, achieved))
    return out


def _endorsements(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    endorsements = document.get("endorsement")
    for item in endorsements if isinstance(endorsements, list) else []:
        if not isinstance(item, dict):
            continue
        issuer = item.get("issuer")
        name = _text(issuer.get("name")) if isinstance(issuer, dict) else ""
        subject = _first(item.get("credentialSubject"))
        comment = _text(subject.get("endorsementComment")) if isinstance(subject, dict) else ""
        out.append((name or "An endorser", comment))
    return out


def format_date(moment: datetime | None) -> str:
    """``3 March 2024`` (UTC), or ``""``."""
    if moment is None:
        return ""
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%B %Y}"


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {"format_date": format_date}


# -- status banners and the verification panel -----------------------------------------------


@dataclass(frozen=True)
class Notice:
    """A prominent statement at the top of a credential page."""

    kind: str  # revoked | suspended | expired | not-yet-valid | not-verified
    title: str
    text: str


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _reason(reason: str | None) -> str:
    """``Reason given: …`` ending with exactly one full stop."""
    text = (reason or "none").strip()
    return f"Reason given: {text}" + ("" if text.endswith((".", "!", "?")) else ".")


def notices(
    row: IssuedCredential, result: VerificationResult | None, *, now: datetime
) -> list[Notice]:
    """What a reader must know before anything else: revoked, suspended, expired, not yet
    valid, or not verified (for any other reason)."""
    found: list[Notice] = []
    if row.revoked_at is not None:
        found.append(
            Notice(
                "revoked",
                "This credential has been revoked",
                f"The issuer revoked it on {format_date(_aware(row.revoked_at))}. "
                + _reason(row.revocation_reason),
            )
        )
    if row.suspended_at is not None:
        found.append(
            Notice(
                "suspended",
                "This credential is suspended",
                f"The issuer suspended it on {format_date(_aware(row.suspended_at))}. "
                + _reason(row.suspension_reason),
            )
        )
    valid_until, valid_from = _aware(row.valid_until), _aware(row.valid_from)
    if valid_until is not None and valid_until < now:
        found.append(
            Notice(
                "expired",
                "This credential has expired",
                f"It was valid until {format_date(valid_until)}.",
            )
        )
    if valid_from is not None and valid_from > now:
        found.append(
            Notice(
                "not-yet-valid",
                "This credential is not valid yet",
                f"It becomes valid on {format_date(valid_from)}.",
            )
        )
    if not found and (result is None or not result.verified):
        found.append(
            Notice(
                "not-verified",
                "This credential could not be verified",
                "At least one check below failed or could not be completed. Do not rely on it.",
            )
        )
    return found


@dataclass
class Report:
    """The verification panel's content: one row per check, or an error, or both."""

    verified: bool
    checks: list[dict[str, str]]
    warnings: list[str]
    error: str | None = None


def report(result: VerificationResult | None, error: MalformedInputError | None = None) -> Report:
    """Turn a verification result (or a refusal with its partial result) into panel rows, each
    with a title, the status in words and a plain-language explanation."""
    if result is None and error is not None and isinstance(error.result, VerificationResult):
        result = error.result
    rows = [
        {
            "name": check.name,
            "title": explanations.title(check.name),
            "status": check.status,
            "label": explanations.status_label(check.status),
            "explanation": explanations.explain(check.name, check.status),
            "detail": check.detail,
        }
        for check in (result.checks if result else [])
    ]
    return Report(
        verified=bool(result and result.verified and error is None),
        checks=rows,
        warnings=list(result.warnings) if result else [],
        error=error.message if error is not None else None,
    )


def _verify(credential: Any) -> tuple[VerificationResult | None, MalformedInputError | None]:
    try:
        return services.service_verifier().verify(credential), None
    except MalformedInputError as exc:
        return None, exc


# -- the credential page and its downloads ---------------------------------------------------


def _credential(public_id: str) -> IssuedCredential:
    """The credential with that public id (only that: no numeric ids to enumerate), or 404."""
    row: IssuedCredential | None = db.session.scalar(
        select(IssuedCredential).where(IssuedCredential.public_id == public_id)
    )
    if row is None:
        abort(404)
    return row


def _document(row: IssuedCredential) -> dict[str, Any]:
    try:
        document = json.loads(row.document)
    except (ValueError, RecursionError):
        return {}
    return document if isinstance(document, dict) else {}


def linkedin_url(view: CredentialView, *, page_url: str, public_id: str) -> str:
    """LinkedIn's "add certification" link, every value URL-encoded."""
    params: dict[str, str] = {
        "startTask": "CERTIFICATION_NAME",
        "name": view.achievement_name,
        "organizationName": view.issuer_name,
    }
    if view.valid_from is not None:
        issued = view.valid_from.astimezone(UTC)
        params["issueYear"], params["issueMonth"] = str(issued.year), str(issued.month)
    params["certUrl"] = page_url
    params["certId"] = public_id
    return f"{LINKEDIN_ADD_URL}?{urlencode(params, quote_via=quote)}"


def _page_url(public_id: str) -> str:
    return services.ServiceConfig.current().credential_url(public_id)


def _meta_description(view: CredentialView) -> str:
    who = f" to {view.recipient}" if view.recipient_is_name else ""
    text = f"{view.achievement_name}, awarded{who} by {view.issuer_name}."
    if view.description:
        text += f" {view.description}"
    return text if len(text) <= MAX_DESCRIPTION_CHARS else text[:197].rstrip() + "…"


@bp.get("/c/<public_id>")
def credential_page(public_id: str) -> str:
    """The credential's public page: what it says, its status and a live verification."""
    row = _credential(public_id)
    view = describe(_document(row), recipient_name=row.recipient_name)
    result, error = _verify(row.document)
    page_url = _page_url(public_id)
    return render_template(
        "public/credential.html",
        row=row,
        view=view,
        report=report(result, error),
        notices=notices(row, result, now=datetime.now(UTC)),
        page_url=page_url,
        og_image=f"{page_url}/badge.png",
        meta_description=_meta_description(view),
        linkedin_url=linkedin_url(view, page_url=page_url, public_id=public_id),
        issued_on=_aware(row.issued_at),
    )


@bp.get("/c/<public_id>/credential.json")
def credential_json(public_id: str) -> Response:
    """The stored credential, byte for byte, as a JSON-LD download."""
    row = _credential(public_id)
    response = Response(row.document.encode("utf-8"), mimetype="application/ld+json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="credential-{row.public_id}.json"'
    )
    return response


def _image_response(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    # An SVG opened directly is a document of our origin: forbid scripts and fetches outright
    # (ours has none; the header keeps it that way whatever a credential contains).
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _baked(row: IssuedCredential, kind: str) -> bytes:
    document = _document(row)
    view = describe(document)
    if kind == "svg":
        return baking.bake_svg(badges.badge_svg(view.achievement_name, view.issuer_name), document)
    return baking.bake_png(badges.badge_png(view.achievement_name, view.issuer_name), document)


@bp.get("/c/<public_id>/badge.svg")
def badge_svg(public_id: str) -> Response:
    """Our generated badge as SVG with the credential baked in (Open Badges 3.0 baking)."""
    row = _credential(public_id)
    return _image_response(_baked(row, "svg"), "image/svg+xml", f"badge-{row.public_id}.svg")


@bp.get("/c/<public_id>/badge.png")
def badge_png(public_id: str) -> Response:
    """Our generated badge as PNG with the credential baked in (``iTXt`` chunk)."""
    row = _credential(public_id)
    return _image_response(_baked(row, "png"), "image/png", f"badge-{row.public_id}.png")


def _data_uri(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


@bp.get("/c/<public_id>/certificate.pdf")
def certificate_pdf(public_id: str) -> Response:
    """A printable PDF certificate with a QR code of the public page."""
    row = _credential(public_id)
    view = describe(_document(row), recipient_name=row.recipient_name)
    page_url = _page_url(public_id)
    result, _error = _verify(row.document)
    html = render_template(
        "pdf/certificate.html",
        row=row,
        view=view,
        page_url=page_url,
        notices=notices(row, result, now=datetime.now(UTC)),
        qr_uri=segno.make(page_url, error="m").png_data_uri(scale=6, border=2),
        badge_uri=_data_uri("image/png", badges.badge_png(view.achievement_name, view.issuer_name)),
        issued_on=_aware(row.issued_at),
    )
    response = Response(render_pdf(html, fetcher=RestrictedFetcher()), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="certificate-{row.public_id}.pdf"'
    return response


# -- /verify ---------------------------------------------------------------------------------


class VerifyForm(FlaskForm):  # type: ignore[misc]
    """Paste a credential or upload one (JSON, or a baked PNG/SVG badge)."""

    credential = TextAreaField("Paste a credential (JSON)")
    upload = FileField("Or choose a file: a credential (.json) or a baked badge (.png, .svg)")
    submit = SubmitField("Verify")


def _submitted_bytes(form: VerifyForm) -> bytes:
    upload = form.upload.data
    if upload is not None and upload.filename:
        data = bytes(upload.read(MAX_VERIFY_BYTES + 1))
        if len(data) > MAX_VERIFY_BYTES:
            raise RequestEntityTooLarge()
        if data:
            return data
    return (form.credential.data or "").encode("utf-8")


def load_submission(data: bytes) -> Any:
    """The credential in submitted bytes: unbaked from a PNG or SVG badge, else JSON text.

    Raises :class:`MalformedInputError` (or its ``BakingError``) naming the problem: an empty
    submission, a hostile or broken image, a badge without a credential, a JWT credential.
    """
    if not data.strip():
        raise MalformedInputError(
            "Nothing was submitted: paste a credential or choose a file.", code="EMPTY"
        )
    stripped = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    # A file starting with "<" is meant as an SVG: unbake it directly so that a refused
    # (hostile) SVG is reported as such, not as "not JSON".
    if baking.sniff_image_type(data) == "png" or stripped.startswith(b"<"):
        credential = baking.unbake(data)
        if isinstance(credential, str):
            raise BakingError(
                "the badge holds a JWT-secured credential (VC-JWT); this service verifies "
                "credentials with embedded Data Integrity proofs only"
            )
        return credential
    return data


@bp.url_value_preprocessor
def _limit_upload_size(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    # Per-request limit (Flask 3.1): the form parser raises 413 beyond it.  Set here because
    # URL value preprocessors run before every before_request hook, and CSRFProtect's hook
    # parses the form (an unlimited upload) before any view or blueprint hook could run.
    if endpoint == "public.verify_page":
        request.max_content_length = MAX_VERIFY_BYTES + 64 * 1024


@bp.route("/verify", methods=["GET", "POST"])
def verify_page() -> tuple[str, int]:
    """The verification form; on POST, the check-by-check report (400 for malformed input)."""
    form = VerifyForm()
    if request.method == "GET":
        return render_template("public/verify.html", form=form, report=None, view=None), 200
    if not form.validate_on_submit():
        problems = "; ".join(
            str(message) for messages in form.errors.values() for message in messages
        )
        form_error = MalformedInputError(
            f"The form could not be read ({problems or 'unknown problem'}). Reload the page and "
            "submit again.",
            code="FORM_ERROR",
        )
        rendered = render_template(
            "public/verify.html", form=form, report=report(None, form_error), view=None
        )
        return rendered, 400
    view = None
    error: MalformedInputError | None
    try:
        credential = parse_credential(load_submission(_submitted_bytes(form)))
        request_limits.check_json(credential)  # before any JSON-LD work (portfolio/request_limits)
        result, error = _verify(credential)
        if result is not None:
            view = describe(result.credential or {})
    except MalformedInputError as exc:
        result, error = None, exc
    partial = result or (error.result if error is not None else None)
    metrics.count_verification(
        verified=bool(result is not None and result.verified and error is None),
        checks=[check.to_dict() for check in partial.checks]
        if isinstance(partial, VerificationResult)
        else [],
        malformed=error is not None,
    )
    status = 400 if error is not None else 200
    rendered = render_template(
        "public/verify.html", form=form, report=report(result, error), view=view
    )
    return rendered, status


# -- error pages (this blueprint's; see the report for app-wide handlers) --------------------


@bp.errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> tuple[str, int]:
    """A missing or expired CSRF token on the /verify form: the form again, with the reason."""
    problem = MalformedInputError(
        f"The form could not be accepted ({error.description}). Reload the page and submit again.",
        code="CSRF_ERROR",
    )
    rendered = render_template(
        "public/verify.html", form=VerifyForm(), report=report(None, problem), view=None
    )
    return rendered, 400


@bp.errorhandler(404)
@bp.errorhandler(413)
def error_page(error: HTTPException) -> tuple[str, int]:
    """A readable HTML page for "not found" and "too large"."""
    code = error.code or 500
    limit_mib = MAX_VERIFY_BYTES // (1024 * 1024)
    return render_template(f"errors/{code}.html", limit_mib=limit_mib), code
