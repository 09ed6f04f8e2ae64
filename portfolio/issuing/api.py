"""The issuing JSON API: the W3C VC-API (bp ``vcapi``: issue with an OAuth 2.0 bearer token,
verify a credential or a presentation, as the W3C VC 2.0 and vc-di-eddsa test suites expect) and
the OAuth 2.0 token endpoint (bp ``oauth``; the machinery is :mod:`portfolio.issuing.oauth`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from credentials.budget import WorkBudget, WorkBudgetExceeded
from credentials.errors import CannotDecideError, MalformedInputError
from credentials.foreign_formats import describe_token
from credentials.presentation import credential_result, refusal_body, verify_presentation
from issuer_keys.did import resolve_did_key
from portfolio.core import metrics, request_limits
from portfolio.core.db import db
from portfolio.core.errors import APIError, ConflictError, json_response, register_api_errors
from portfolio.issuing import oauth
from portfolio.issuing import service as services
from portfolio.issuing.models import IdempotencyRecord, IssuedCredential, OAuthClient

bp = Blueprint("vcapi", __name__)
register_api_errors(bp, prefixes=("/credentials/", "/presentations/"))

oauth_bp = Blueprint("oauth", __name__)
oauth_bp.record_once(oauth.init_server)
register_api_errors(oauth_bp, prefixes=("/oauth/",))

#: VC-API IssueCredentialOptions we accept.  ``credentialStatus`` asks for our
#: BitstringStatusListEntry (added anyway unless the credential brings its own status); anything
#: else we cannot do is refused rather than ignored.
ISSUE_OPTIONS = frozenset({"credentialStatus"})
#: VC-API VerifyOptions we accept.  ``checks`` is accepted for compatibility: every check
#: always runs, and every one is reported.
VERIFY_OPTIONS = frozenset({"checks", "controllerDocuments"})
#: At most this many documents in ``options.controllerDocuments`` (as many as proofs).
MAX_CONTROLLER_DOCUMENTS = 8
PRESENTATION_OPTIONS = frozenset({"challenge", "domain", "checks"})
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 255


# -- request bodies ---------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_json_object() -> dict[str, Any]:
    """The request body as a JSON object.

    Raises :class:`APIError`: 415 unless the body is declared JSON (VC-API: ``application/json``),
    400 when it is not UTF-8 JSON (``NaN`` and ``Infinity`` included), not an object, or over
    one of the :mod:`~portfolio.core.request_limits` (nesting, array lengths, string sizes, values,
    proofs), 413 (via Werkzeug) when it is larger than the blueprint's limit.
    """
    if not request.mimetype or not (
        request.mimetype == "application/json" or request.mimetype.endswith("+json")
    ):
        raise APIError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"send the body as application/json (got {request.mimetype or 'no Content-Type'})",
        )
    data = request.get_data(cache=True)
    try:
        body = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise APIError(400, "NOT_JSON", "the request body is not UTF-8 text") from None
    except RecursionError:
        # The parser recurses once per level and gives up near a thousand: far past max_depth.
        detail = request_limits.too_deep().message
        raise APIError(400, "NOT_JSON", f"the request body is not valid JSON: {detail}") from None
    except ValueError as exc:
        raise APIError(400, "NOT_JSON", f"the request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise APIError(
            400, "NOT_AN_OBJECT", f"the request body must be a JSON object, not {_kind(body)}"
        )
    try:
        request_limits.check_json(body)
    except request_limits.JsonLimitError as exc:
        raise APIError(400, exc.code, exc.message) from None
    return body


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _options(body: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    options = body.get("options", {})
    if not isinstance(options, dict):
        raise APIError(400, "INVALID_OPTIONS", "options must be a JSON object")
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise APIError(
            400,
            "UNSUPPORTED_OPTION",
            f"unsupported option(s) {', '.join(unknown)}; supported: "
            f"{', '.join(sorted(allowed)) or 'none'}",
        )
    checks = options.get("checks")
    if checks is not None and not (
        isinstance(checks, list) and all(isinstance(c, str) for c in checks)
    ):
        raise APIError(400, "INVALID_OPTIONS", "options.checks must be an array of strings")
    return options


def _controller_documents(options: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """``options.controllerDocuments``: DID documents or HTTPS controller documents, by ``id``,
    for verification methods the service cannot resolve itself (never for its own issuers)."""
    documents = options.get("controllerDocuments", [])
    if not isinstance(documents, list) or len(documents) > MAX_CONTROLLER_DOCUMENTS:
        raise APIError(
            400,
            "INVALID_OPTIONS",
            f"options.controllerDocuments must be an array of at most "
            f"{MAX_CONTROLLER_DOCUMENTS} documents",
        )
    if not all(isinstance(d, dict) and isinstance(d.get("id"), str) for d in documents):
        raise APIError(
            400,
            "INVALID_OPTIONS",
            "each of options.controllerDocuments must be a JSON object with a string id",
        )
    return {d["id"]: d for d in documents}


def _required(body: Mapping[str, Any], name: str) -> dict[str, Any]:
    unknown = sorted(set(body) - {name, "options"})
    if unknown:
        raise APIError(400, "UNKNOWN_MEMBER", f"unknown member(s) {', '.join(unknown)}")
    if name not in body:
        raise APIError(400, "MISSING_" + _snake(name).upper(), f"the body has no {name!r}")
    value = body[name]
    what = describe_token(value) if isinstance(value, str) else None
    if what is not None:  # e.g. a VC-JWT: say what it is, not only that it is no object
        raise APIError(
            400,
            "UNSUPPORTED_FORMAT",
            f"{name} holds {what}; this service takes credentials with embedded Data "
            "Integrity proofs (JSON objects)",
        )
    if not isinstance(value, dict):
        raise APIError(400, "NOT_AN_OBJECT", f"{name} must be a JSON object, not {_kind(value)}")
    return value


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


# -- POST /credentials/issue ------------------------------------------------------------------


@bp.post("/credentials/issue")
def issue_credential() -> Response:
    """VC-API "Issue Credential": sign ``credential`` as the token's client's issuer.

    201 ``{"verifiableCredential": ...}`` — the signed credential exactly as stored; 200 with
    ``Idempotent-Replayed: true`` when an ``Idempotency-Key`` repeats an earlier request; 400
    malformed body or credential; 401/403 token; 422 a well-formed request we refuse (issuer not
    ours, not a valid Open Badge, an ``Idempotency-Key`` reused for another body).
    """
    client = oauth.require_token()
    body = read_json_object()
    credential = _required(body, "credential")
    options = _options(body, ISSUE_OPTIONS)
    status = options.get("credentialStatus")
    if status is not None and (
        not isinstance(status, dict) or status.get("type") != "BitstringStatusListEntry"
    ):
        raise APIError(
            400,
            "UNSUPPORTED_OPTION",
            "options.credentialStatus may only ask for {'type': 'BitstringStatusListEntry'}",
        )
    key = request.headers.get(IDEMPOTENCY_HEADER)
    add_status = status is not None
    if key is None:
        row = services.issue(
            credential, issuer=client.issuer, client_id=client.client_id, add_status=add_status
        )
        return _credential_response(row, 201)
    return _issue_idempotently(
        client, credential, _check_key(key), _body_sha256(body), add_status=add_status
    )


def _check_key(key: str) -> str:
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isascii() or not key.isprintable():
        raise APIError(
            400,
            "INVALID_IDEMPOTENCY_KEY",
            f"{IDEMPOTENCY_HEADER} must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters",
        )
    return key


def _body_sha256(body: Mapping[str, Any]) -> str:
    # The same JSON in another spelling (spacing, member order) is the same request.
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _KeyTaken(ConflictError):
    """Another request with the same Idempotency-Key committed first (caught below: the winner's
    credential is the answer)."""


def _issue_idempotently(
    client: OAuthClient,
    credential: dict[str, Any],
    key: str,
    request_sha256: str,
    *,
    add_status: bool = False,
) -> Response:
    """Issue at most one credential per (client, key) (draft-ietf-httpapi-idempotency-key).

    The idempotency record is inserted in the *same transaction* as the credential (just
    before ``services.issue`` commits), under the table's unique (client_id, key) constraint.
    Two concurrent requests with one key can therefore never both commit a credential: the
    second insert waits for the first transaction and fails, its own credential is rolled back
    with it, and it answers with the winner's credential.
    """
    existing = _record(client.client_id, key)
    if existing is None:
        try:
            row = services.issue(
                credential,
                issuer=client.issuer,
                client_id=client.client_id,
                before_commit=_idempotency_record(client.client_id, key, request_sha256),
                add_status=add_status,
            )
            return _credential_response(row, 201)
        except _KeyTaken:
            existing = _record(client.client_id, key)
            if existing is None:  # pragma: no cover - the winner's row is committed
                raise
    if existing.request_sha256 != request_sha256:
        # draft-ietf-httpapi-idempotency-key-header §2.7: a key reused with another payload.
        raise APIError(
            422,
            "IDEMPOTENCY_KEY_REUSED",
            f"this {IDEMPOTENCY_HEADER} was already used for a different request body; "
            "use a new key for a new credential",
        )
    replayed = db.session.get(IssuedCredential, existing.credential_id)
    if replayed is None:  # pragma: no cover - a foreign key guarantees it
        raise APIError(500, "INTERNAL_ERROR", "the credential of this key is missing")
    response = _credential_response(replayed, 200)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _record(client_id: str, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.client_id == client_id, IdempotencyRecord.key == key
        )
    )


def _idempotency_record(
    client_id: str, key: str, request_sha256: str
) -> Callable[[IssuedCredential], None]:
    """Store the key's record in the credential's own transaction (``services.issue`` calls it
    just before committing).  A concurrent request that took the key first makes the unique
    (client_id, key) constraint fail: :class:`_KeyTaken` rolls this credential back, and the
    caller answers with the winner's credential instead."""

    def record(row: IssuedCredential) -> None:
        db.session.add(
            IdempotencyRecord(
                client_id=client_id, key=key, request_sha256=request_sha256, credential_id=row.id
            )
        )
        try:
            db.session.flush()
        except IntegrityError:
            raise _KeyTaken(f"{IDEMPOTENCY_HEADER} {key!r} was taken meanwhile") from None

    return record


def _credential_response(row: IssuedCredential, status: int) -> Response:
    # The stored text is embedded verbatim: the client receives exactly what was signed.
    text = '{"verifiableCredential":' + row.document + "}"
    return Response(text, status=status, mimetype="application/json")


# -- POST /credentials/verify -----------------------------------------------------------------


@bp.post("/credentials/verify")
def verify_credential() -> Response:
    """VC-API "Verify Credential".  Public.

    200 verified, 422 not verified (a failed or undecidable check), both with
    ``{"verified", "checks", "warnings", "errors"}``; 400 malformed, with ``{"error", "detail"}``
    and the checks that ran before the input was refused.
    """
    body = read_json_object()
    credential = _required(body, "verifiableCredential")
    options = _options(body, VERIFY_OPTIONS)
    # One work budget for the whole request (credentials/budget.py): a 400 when it runs out.
    verifier = services.service_verifier(
        did_documents=_controller_documents(options), budget=WorkBudget()
    )
    try:
        result = credential_result(verifier, credential)
    except WorkBudgetExceeded as exc:
        result = refusal_body(exc)
    metrics.count_verification(
        verified=bool(result.get("verified")),
        checks=result.get("checks", []),
        malformed="error" in result,
    )
    if "error" in result:
        return json_response(result, 400)
    return json_response(result, 200 if result["verified"] else 422)


# -- POST /presentations/verify ---------------------------------------------------------------


def holder_did_document(did: str) -> Mapping[str, Any]:
    """A holder's DID document: ``did:key`` offline, our own issuers' ``did:web`` from the key
    store; anything else cannot be decided (fetching is disabled)."""
    if did.startswith("did:key:"):
        return resolve_did_key(did)
    key_store = current_app.extensions["credfolio"].key_store
    if did.startswith("did:web:") and key_store.list(did):
        return services.did_document_for(did, key_store)
    raise CannotDecideError(f"the DID document of {did} is not available (fetching is disabled)")


@bp.post("/presentations/verify")
def verify_presentation_endpoint() -> Response:
    """VC-API "Verify Presentation".  Public.

    Verifies the holder's proof (proofPurpose ``authentication``; ``options.challenge`` and
    ``options.domain`` must match when given) and every embedded credential.  200 verified, 422
    not verified, 400 malformed; body ``{"verified", "checks", "credentialResults", "warnings",
    "errors"}``.
    """
    body = read_json_object()
    presentation = _required(body, "verifiablePresentation")
    options = _options(body, PRESENTATION_OPTIONS)
    for name in ("challenge", "domain"):
        if name in options and not isinstance(options[name], str):
            raise APIError(400, "INVALID_OPTIONS", f"options.{name} must be a string")
    try:
        result = verify_presentation(
            presentation,
            verifier=services.service_verifier(budget=WorkBudget()),  # one per request
            resolve_did_document=holder_did_document,
            challenge=options.get("challenge"),
            domain=options.get("domain"),
        )
    except MalformedInputError as exc:
        return json_response({"verified": False, "checks": [], **exc.to_dict()}, 400)
    for embedded in result.credential_results:  # each embedded credential is a verification
        metrics.count_verification(
            verified=embedded.get("verified") is True,
            checks=embedded.get("checks", []),
            malformed="error" in embedded,
        )
    return json_response(result.to_dict(), 200 if result.verified else 422)


# -- POST /oauth/token ------------------------------------------------------------------------


@oauth_bp.post(oauth.TOKEN_PATH)
def token() -> Response:
    """RFC 6749 §4.4.2 access token request → §5.1 response, or a §5.2 error response.

    Errors keep the RFC's ``error`` / ``error_description`` members and add ``detail`` (the
    same text) so that every API error has the same shape.  ``invalid_client`` is 401 with
    ``WWW-Authenticate: Basic`` (§5.2).
    """
    response = oauth.token_response()
    if response.status_code >= 400:
        try:
            body = json.loads(response.get_data(as_text=True))
        except ValueError:
            body = {"error": "invalid_request"}
        body["detail"] = body.get("error_description") or body.get("error")
        response.set_data(json.dumps(body))
        response.mimetype = "application/json"
        if body.get("error") == "invalid_client" and response.status_code == 401:
            response.headers.setdefault("WWW-Authenticate", f'Basic realm="{oauth.REALM}"')
    return response
