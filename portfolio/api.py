"""JSON endpoints: the issuer's DID document (did:web resolution)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

bp = Blueprint("api", __name__)


@bp.get("/.well-known/did.json")
def did_document() -> Response:
    """The service issuer's ``did:web`` document: active and rotated-out keys (assertionMethod).

    did:web method §"Read (Resolve)": ``did:web:<host>`` resolves to
    ``https://<host>/.well-known/did.json``.
    """
    document = current_app.extensions["credfolio"].did_document()
    response = jsonify(document)
    response.mimetype = "application/did+json"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
