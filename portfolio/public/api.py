"""The public JSON API (bp ``api``): DID documents (did:web, both forms), issuer profiles,
achievements, status lists, and the OpenAPI description of the whole JSON API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select
from werkzeug.http import unquote_etag

from credentials.jsonld import OB_V3_CONTEXT, VC_V2_CONTEXT
from issuer_keys.did import did_web_from_url
from issuer_keys.errors import InvalidDidError
from portfolio.accounts.models import Issuer
from portfolio.catalogue.achievements import achievement_document
from portfolio.catalogue.models import Competency
from portfolio.catalogue.rubrics import current_version
from portfolio.core.db import db
from portfolio.core.errors import APIError, json_response, register_api_errors
from portfolio.core.links import public_url
from portfolio.issuing import service as services
from portfolio.issuing.models import AchievementRow, StatusListRow
from portfolio.public.openapi import openapi_document

bp = Blueprint("api", __name__)
register_api_errors(
    bp, prefixes=("/.well-known/", "/issuers/", "/achievements/", "/status/", "/api/")
)

#: The media type of a status list credential.  ``application/ld+json`` (JSON-LD 1.1 §C) is
#: registered and understood by every JSON-LD document loader, which a status list must reach
#: (VC 2.0's ``application/vc`` is not yet recognised as JSON by common HTTP clients).
STATUS_LIST_MEDIA_TYPE = "application/ld+json"
#: Status lists change when a credential is revoked or suspended; verifiers may cache briefly.
STATUS_LIST_MAX_AGE = 60


def _did_response(document: dict[str, Any]) -> Response:
    response = json_response(document, mimetype="application/did+json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/.well-known/did.json")
def did_document() -> Response:
    """The service issuer's ``did:web`` document: active and rotated-out keys (assertionMethod).

    did:web method §"Read (Resolve)": ``did:web:<host>`` resolves to
    ``https://<host>/.well-known/did.json``.  404 when the service signs as a ``did:key``
    (its document is derived from the key itself, never fetched from a host).
    """
    components = current_app.extensions["credfolio"]
    if not components.issuer_did.startswith("did:web:"):
        raise APIError(404, "NOT_FOUND", "this service's issuer is not a did:web")
    return _did_response(services.did_document_for(components.issuer_did, components.key_store))


@bp.get("/<path:path>/did.json")
def path_did_document(path: str) -> Response:
    """The DID document of an issuer whose DID has a path: ``did:web:<host>:a:b`` resolves to
    ``https://<host>/a/b/did.json`` (did:web §3.2).  404 unless one of our issuers has that DID.

    The host is the one of ``CREDFOLIO_PUBLIC_URL`` or the request's ``Host``; either way only
    DIDs already registered as issuers are answered.
    """
    candidates = set()
    for host in (_public_host(), request.host.lower()):
        try:
            candidates.add(did_web_from_url(f"https://{host}/{path}"))
        except InvalidDidError:
            continue
    issuer = (
        db.session.scalar(select(Issuer).where(Issuer.did.in_(candidates))) if candidates else None
    )
    if issuer is None:
        raise APIError(404, "NOT_FOUND", f"no issuer has a DID document at /{path}/did.json")
    key_store = current_app.extensions["credfolio"].key_store
    return _did_response(services.did_document_for(issuer.did, key_store))


def _public_host() -> str:
    return urlsplit(public_url()).netloc.lower()


@bp.get("/issuers/<slug>")
def issuer_profile(slug: str) -> Response:
    """The issuer's Open Badges 3.0 Profile as a JSON-LD document (OB 3.0 §B.1 Profile)."""
    issuer = db.session.scalar(select(Issuer).where(Issuer.slug == slug))
    if issuer is None:
        raise APIError(404, "NOT_FOUND", f"no issuer {slug!r}")
    document = {"@context": [VC_V2_CONTEXT, OB_V3_CONTEXT], **issuer.profile()}
    return json_response(document, mimetype="application/ld+json")


@bp.get("/achievements/<public_id>")
def achievement(public_id: str) -> Response:
    """An Achievement (OB 3.0 §B.1): a catalogue competency as currently defined (with its
    current rubric), else the JSON stored when a credential carrying it was issued."""
    # Archived competencies are served too: credentials already issued still name them.
    competency = db.session.scalar(select(Competency).where(Competency.public_id == public_id))
    if competency is not None:
        document = achievement_document(competency, current_version(competency))
        return json_response(document, mimetype="application/ld+json")
    row = db.session.scalar(select(AchievementRow).where(AchievementRow.public_id == public_id))
    if row is None:
        raise APIError(404, "NOT_FOUND", f"no achievement {public_id!r}")
    return json_response(row.document)


@bp.get("/status/<public_id>")
def status_list(public_id: str) -> Response:
    """The signed BitstringStatusListCredential exactly as stored (Bitstring Status List §3).

    Cacheable: ``ETag`` and ``Last-Modified`` validators with ``If-None-Match`` /
    ``If-Modified-Since`` answered 304 (RFC 7232 §3.2, §3.3; ``If-None-Match`` wins, §6), and
    ``Cache-Control: public, max-age=60`` (RFC 7234 §5.2.2).
    """
    row = db.session.scalar(select(StatusListRow).where(StatusListRow.public_id == public_id))
    if row is None:
        raise APIError(404, "NOT_FOUND", f"no status list {public_id!r}")
    response = Response(row.credential, mimetype=STATUS_LIST_MEDIA_TYPE)
    etag, weak = unquote_etag(row.etag)
    response.set_etag(etag or "", weak=weak)
    response.last_modified = min(row.updated_at, datetime.now(UTC))
    response.cache_control.public = True
    response.cache_control.max_age = STATUS_LIST_MAX_AGE
    # Werkzeug implements RFC 7232 §6: a matching If-None-Match (weak comparison, §3.2) → 304;
    # If-Modified-Since only when there is no If-None-Match.  The 304 keeps ETag and
    # Cache-Control (§4.1).
    response.make_conditional(request)  # changes the response itself
    return response


@bp.get("/api/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of every JSON endpoint."""
    return json_response(openapi_document(server_url=services.ServiceConfig.current().public_url))
