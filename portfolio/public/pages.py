"""The public pages (bp ``public``): a credential's page (``/c/<id>``) with a live verification
panel, its downloads (JSON, baked PNG/SVG badges, PDF certificate) and the ``/verify`` form.
Everything shown is untrusted text, escaped (:mod:`portfolio.public.credential_view`)."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import segno
from flask import Blueprint, Response, abort, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from credentials import baking, foreign_formats
from credentials.errors import MalformedInputError
from credentials.issuer_trust import claimed_name
from credentials.verify import VerificationResult, parse_credential
from portfolio.accounts.auth import current_user
from portfolio.core import request_limits
from portfolio.core.db import db
from portfolio.core.i18n import current_language
from portfolio.core.pdf import RestrictedFetcher, render_pdf
from portfolio.issuing import badges
from portfolio.issuing import service as services
from portfolio.issuing.models import IssuedCredential
from portfolio.public import explanations
from portfolio.public.consent_gate import gate, hidden_from_public, refuse_unless_public
from portfolio.public.credential_view import (
    describe,
    document_of,
    linkedin_url,
    meta_description,
)
from portfolio.public.forms import VerifyForm
from portfolio.public.issuer_statement import issuer_statement
from portfolio.public.outsider_view import Disclosure, what_outsiders_learn
from portfolio.public.verdict_cache import cached_verdict
from portfolio.public.verdict_sentence import (
    FOREIGN_FORMATS,
    IMAGE_WITHOUT_CREDENTIAL,
    PARSER_WORDS_CODES,
    CredentialState,
    Verdict,
    verdict_sentence,
)
from portfolio.public.verification import (
    Report,
    count_verification,
    format_date,
    load_submission,
    notices,
    report,
    verify,
)

bp = gate(Blueprint("public", __name__))

#: Largest upload or pasted credential /verify accepts (a 413 page beyond it).
MAX_VERIFY_BYTES = 5 * 1024 * 1024


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {"format_date": format_date}


# -- the credential page and its downloads ---------------------------------------------------


def _credential(public_id: str) -> IssuedCredential:
    """The credential with that public id (only that: no numeric ids to enumerate), or 404."""
    row: IssuedCredential | None = db.session.scalar(
        select(IssuedCredential).where(IssuedCredential.public_id == public_id)
    )
    if row is None:
        abort(404)
    refuse_unless_public(row)
    return row


def _page_url(public_id: str, download: str | None = None) -> str:
    """The credential's page (its ``id``), or one of its downloads, at the public URL whatever
    host the request came through (canonical and social-card links)."""
    page = services.ServiceConfig.current().credential_url(public_id)
    return f"{page}/{download}" if download else page


def _for_the_recipient(row: IssuedCredential, document: dict[str, Any]) -> list[Disclosure]:
    """What an outsider learns from the credential, for its own recipient only (signed in)."""
    user = current_user()
    if user is None or row.recipient_user_id is None or row.recipient_user_id != user.id:
        return []
    return what_outsiders_learn(document)


def _verdict(
    row: IssuedCredential, document: dict[str, Any]
) -> tuple[VerificationResult | None, MalformedInputError | None]:
    """The credential's live verification, reused while nothing it depends on has changed
    (portfolio/public/verdict_cache.py: never stale, in any worker)."""
    return cached_verdict(
        row.public_id, document, lambda: verify(row.document), now=datetime.now(UTC)
    )


def _date(moment: datetime | None) -> str | None:
    """A date in the reader's language (``None`` stays ``None``)."""
    return format_date(moment) if moment is not None else None


def _row_state(row: IssuedCredential | None, *, now: datetime) -> CredentialState:
    """What this service's records say of a credential it issued (nothing for a stranger's)."""
    if row is None:
        return CredentialState()
    expired = row.valid_until is not None and row.valid_until < now
    return CredentialState(
        revoked_on=_date(row.revoked_at),
        revocation_reason=row.revocation_reason if row.revoked_at else None,
        suspended_on=_date(row.suspended_at),
        suspension_reason=row.suspension_reason if row.suspended_at else None,
        expired_on=_date(row.valid_until) if expired else None,
        valid_from=_date(row.valid_from),
    )


def _verdict_of(
    result: VerificationResult | None,
    error: MalformedInputError | None,
    *,
    state: CredentialState | None = None,
    foreign_format: str | None = None,
) -> Verdict:
    """The banner's headline and sentence (portfolio/public/verdict_sentence.py)."""
    partial = result or (error.result if error is not None else None)
    checks = partial.checks if isinstance(partial, VerificationResult) else []
    verdict = verdict_sentence(
        [(check.name, check.status) for check in checks],
        verdict=result.verdict if result is not None and error is None else None,
        error_code=error.code if error is not None else None,
        foreign_format=foreign_format,
        state=state,
        check_titles={check.name: explanations.title(check.name) for check in checks},
    )
    # The refusal's own words, when they are ours (never a parser's: "Expecting value...").
    if error is not None and error.code not in PARSER_WORDS_CODES:
        verdict = replace(verdict, detail=error.message)
    return verdict


@bp.get("/c/<public_id>")
def credential_page(public_id: str) -> str:
    """The credential's public page: the verdict first, what it says, a live verification."""
    row = _credential(public_id)
    document = document_of(row)
    view = describe(document, recipient_name=row.recipient_name, language=current_language())
    result, error = _verdict(row, document)
    page_url = _page_url(public_id)
    verdict = _verdict_of(result, error, state=_row_state(row, now=datetime.now(UTC)))
    hidden = hidden_from_public(row)
    return render_template(
        "public/credential.html",
        row=row,
        view=view,
        verdict=verdict,
        issuer=issuer_statement(result, claimed=claimed_name(document)),
        outsiders_learn=_for_the_recipient(row, document),
        report=report(result, error),
        notices=notices(row, result, now=datetime.now(UTC)),
        page_url=page_url,
        og_image=_page_url(public_id, "badge.png"),
        meta_description=meta_description(view),
        linkedin_url=linkedin_url(view, page_url=page_url, public_id=public_id),
        # Nothing to share or add to a profile while the credential does not hold, nor while
        # its page is hidden from the public (a minor without consent).
        shareable=row.state == "active"
        and verdict.kind in ("verified", "issuer-not-confirmed")
        and not hidden,
        issued_on=row.issued_at,
        hidden_from_public=hidden,
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
    document = document_of(row)
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
    document = document_of(row)
    view = describe(document, recipient_name=row.recipient_name, language=current_language())
    page_url = _page_url(public_id)
    result, error = _verdict(row, document)
    html = render_template(
        "pdf/certificate.html",
        row=row,
        view=view,
        page_url=page_url,
        notices=notices(row, result, now=datetime.now(UTC)),
        verdict=_verdict_of(result, error, state=_row_state(row, now=datetime.now(UTC))),
        qr_uri=segno.make(page_url, error="m").png_data_uri(scale=6, border=2),
        badge_uri=_data_uri("image/png", badges.badge_png(view.achievement_name, view.issuer_name)),
        issued_on=row.issued_at,
    )
    response = Response(render_pdf(html, fetcher=RestrictedFetcher()), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="certificate-{row.public_id}.pdf"'
    return response


# -- /verify ---------------------------------------------------------------------------------


def _submitted_bytes(form: VerifyForm) -> bytes:
    upload = form.upload.data
    if upload is not None and upload.filename:
        data = bytes(upload.read(MAX_VERIFY_BYTES + 1))
        if len(data) > MAX_VERIFY_BYTES:
            raise RequestEntityTooLarge()
        if data:
            return data
    return (form.credential.data or "").encode("utf-8")


@bp.url_value_preprocessor
def _limit_upload_size(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    # Per-request limit (Flask 3.1): the form parser raises 413 beyond it.  Set here because
    # URL value preprocessors run before every before_request hook, and CSRFProtect's hook
    # parses the form (an unlimited upload) before any view or blueprint hook could run.
    if endpoint == "public.verify_page":
        request.max_content_length = MAX_VERIFY_BYTES + 64 * 1024


def _what_it_holds(data: bytes, error: MalformedInputError) -> str | None:
    """What a submission that is not a credential holds, when we can tell (a JWT, a PDF, an
    image with no credential inside...): never the parser's own message."""
    if error.code == "BAKING_ERROR":
        for known in FOREIGN_FORMATS:
            if known in error.message:
                return known
        return IMAGE_WITHOUT_CREDENTIAL
    if error.code in ("NOT_JSON", "UNSUPPORTED_FORMAT"):
        return foreign_formats.describe(data)
    return None


def _known_state(credential: dict[str, Any], result: VerificationResult | None) -> CredentialState:
    """For a credential this service issued and revoked or suspended, when and why (the status
    list says only that it is): read from our records by the credential's id."""
    revoked = result is not None and any(
        check.name in ("revocation", "suspension") and check.status == "failed"
        for check in result.checks
    )
    identifier = credential.get("id")
    if not revoked or not isinstance(identifier, str):
        return CredentialState()
    row: IssuedCredential | None = db.session.scalar(
        select(IssuedCredential).where(IssuedCredential.credential_id == identifier)
    )
    return _row_state(row, now=datetime.now(UTC))


def _verify_page(
    form: VerifyForm,
    status: int,
    *,
    report_: Report | None,
    verdict: Verdict | None = None,
    view: Any = None,
    issuer: Any = None,
) -> tuple[str, int]:
    rendered = render_template(
        "public/verify.html",
        form=form,
        report=report_,
        verdict=verdict,
        view=view,
        issuer=issuer,
    )
    return rendered, status


@bp.route("/verify", methods=["GET", "POST"])
def verify_page() -> tuple[str, int]:
    """The verification form; on POST, the verdict first, then the claims and the check-by-check
    report (400 for malformed input)."""
    form = VerifyForm()
    if request.method == "GET":
        return _verify_page(form, 200, report_=None)
    if not form.validate_on_submit():
        problems = "; ".join(
            str(message) for messages in form.errors.values() for message in messages
        )
        form_error = MalformedInputError(
            f"The form could not be read ({problems or 'unknown problem'}). Reload the page and "
            "submit again.",
            code="FORM_ERROR",
        )
        return _verify_page(
            form, 400, report_=report(None, form_error), verdict=_verdict_of(None, form_error)
        )
    view = None
    issuer = None
    error: MalformedInputError | None
    data = b""
    state = CredentialState()
    try:
        data = _submitted_bytes(form)
        credential = parse_credential(load_submission(data))
        request_limits.check_json(credential)  # before any JSON-LD work (portfolio/request_limits)
        result, error = verify(credential)
        if result is not None:
            view = describe(result.credential or {}, language=current_language())
            issuer = issuer_statement(result, claimed=claimed_name(result.credential or {}))
            state = _known_state(result.credential or {}, result)
    except MalformedInputError as exc:
        result, error = None, exc
    count_verification(result, error)
    verdict = _verdict_of(
        result,
        error,
        state=state,
        foreign_format=_what_it_holds(data, error) if error is not None else None,
    )
    return _verify_page(
        form,
        400 if error is not None else 200,
        report_=report(result, error),
        verdict=verdict,
        view=view,
        issuer=issuer,
    )


# -- error pages (this blueprint's; see the report for app-wide handlers) --------------------


@bp.errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> tuple[str, int]:
    """A missing or expired CSRF token on the /verify form: the form again, with the reason."""
    problem = MalformedInputError(
        f"The form could not be accepted ({error.description}). Reload the page and submit again.",
        code="CSRF_ERROR",
    )
    return _verify_page(
        VerifyForm(), 400, report_=report(None, problem), verdict=_verdict_of(None, problem)
    )


@bp.errorhandler(404)
@bp.errorhandler(413)
def error_page(error: HTTPException) -> tuple[str, int]:
    """A readable HTML page for "not found" and "too large"."""
    code = error.code or 500
    limit_mib = MAX_VERIFY_BYTES // (1024 * 1024)
    return render_template(f"errors/{code}.html", limit_mib=limit_mib), code
