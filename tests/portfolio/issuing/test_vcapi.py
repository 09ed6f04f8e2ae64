"""The VC-API: issuing with a bearer token, verifying credentials and presentations, malformed
and hostile bodies, Idempotency-Key, and issuing from several processes at once."""

from __future__ import annotations

import copy
import json
import multiprocessing
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite, xsd_datetime
from issuer_keys.keys import IssuerKey
from portfolio.accounts.issuers import default_issuer
from portfolio.accounts.models import Issuer
from portfolio.core.db import db
from portfolio.issuing import service as services
from portfolio.issuing.models import IdempotencyRecord, IssuedCredential, StatusListRow
from tests.conftest import TEST_KEK, load_json, unsigned_badge
from tests.portfolio.issuing.test_oauth import api_client, bearer, create_client, get_token, token

__all__ = ["api_client", "token"]  # fixtures shared with test_oauth

SUITE = Eddsa2022Suite(loader=DocumentLoader.bundled())


def post_issue(
    client: Any,
    token: str,
    credential: Any = None,
    *,
    options: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    body: dict[str, Any] = {"credential": unsigned_badge() if credential is None else credential}
    if options is not None:
        body["options"] = options
    return client.post(
        "/credentials/issue", json=body, headers={**bearer(token), **(headers or {})}
    )


def issued(client: Any, token: str, **changes: Any) -> dict[str, Any]:
    response = post_issue(client, token, unsigned_badge(**changes))
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.json["verifiableCredential"])


def post_verify(client: Any, credential: Any) -> Any:
    return client.post("/credentials/verify", json={"verifiableCredential": credential})


def failed_checks(body: dict[str, Any]) -> set[str]:
    return {c["name"] for c in body["checks"] if c["status"] in ("failed", "unknown")}


def iso(delta: timedelta) -> str:
    return xsd_datetime(datetime.now(UTC) + delta)


# -- issuing ----------------------------------------------------------------------------------


def test_issue_returns_exactly_the_stored_signed_credential(client, token, app, issuer):
    response = post_issue(client, token)
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    credential = response.json["verifiableCredential"]
    assert credential["issuer"]["id"] == issuer.did
    assert credential["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    with app.app_context():
        row = db.session.scalar(select(IssuedCredential))
        assert response.get_data(as_text=True) == '{"verifiableCredential":' + row.document + "}"
        assert row.client_id is not None


def test_issued_credential_verifies_with_the_api_and_the_cli_alike(client, token, runner, tmp_path):
    credential = issued(client, token)
    response = post_verify(client, credential)
    assert response.status_code == 200, response.json["errors"]
    assert response.json["verified"] is True
    assert response.json["errors"] == []
    path = tmp_path / "issued.json"
    path.write_text(json.dumps(credential), encoding="utf-8")
    cli = runner.invoke(args=["verify", str(path)])
    assert cli.exit_code == 0, cli.output
    cli_json = runner.invoke(args=["verify", "--json", str(path)])
    assert cli_json.exit_code == 0
    assert json.loads(cli_json.output)["checks"] == response.json["checks"]


def _revoke(app: Any, credential: dict[str, Any], action: str) -> None:
    with app.app_context():
        row = services.find_credential(credential["id"])
        services.set_status(row, action, reason="test")


def _tamper(credential: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(credential)
    changed["credentialSubject"]["achievement"]["name"] = "Something else"
    return changed


@pytest.mark.parametrize(
    ("case", "failing"),
    [
        ("tampered", "proof"),
        ("revoked", "revocation"),
        ("suspended", "suspension"),
        ("expired", "valid-until"),
        ("not-yet-valid", "valid-from"),
    ],
)
def test_each_untrustworthy_credential_is_422_naming_the_failed_check(
    client, token, app, case, failing
):
    if case == "expired":
        credential = issued(
            client, token, validFrom=iso(-timedelta(days=2)), validUntil=iso(-timedelta(days=1))
        )
    elif case == "not-yet-valid":
        credential = issued(client, token, validFrom=iso(timedelta(days=1)))
    else:
        credential = issued(client, token)
    if case == "tampered":
        credential = _tamper(credential)
    elif case in ("revoked", "suspended"):
        _revoke(app, credential, "revoke" if case == "revoked" else "suspend")
    response = post_verify(client, credential)
    assert response.status_code == 422
    assert response.json["verified"] is False
    assert failed_checks(response.json) == {failing}
    assert any(e.startswith(f"{failing}:") for e in response.json["errors"])


def test_unsuspending_makes_it_verify_again(client, token, app):
    credential = issued(client, token)
    _revoke(app, credential, "suspend")
    assert post_verify(client, credential).status_code == 422
    _revoke(app, credential, "unsuspend")
    assert post_verify(client, credential).status_code == 200


def test_a_credential_signed_by_someone_else_fails_the_issuer_check(client, issuer):
    response = post_verify(client, load_json("tampered/wrong-issuer.json"))
    assert response.status_code == 422
    assert "issuer" in failed_checks(response.json)


def test_a_key_not_ours_claiming_our_issuer_fails_the_issuer_check(client, issuer):
    key = IssuerKey.generate()
    did = f"did:key:{key.public_key_multibase}"
    document = unsigned_badge(issuer={"id": issuer.did, "type": ["Profile"], "name": "Fake"})
    document.update(
        id="urn:uuid:7f1c0de4-8a43-4c3e-9d0c-2b1f0a9e1c11", validFrom="2024-01-01T00:00:00Z"
    )
    signed = SUITE.create_proof(
        document, key=key, verification_method=f"{did}#{key.public_key_multibase}"
    )
    response = post_verify(client, signed)
    assert response.status_code == 422
    assert failed_checks(response.json) == {"issuer"}


# -- malformed and hostile bodies -------------------------------------------------------------


def _without(name: str) -> dict[str, Any]:
    document = unsigned_badge()
    del document[name]
    return document


ISSUE_CASES = [
    # (what, raw body or JSON, status, error code, words in the detail)
    ("invalid JSON", b'{"credential": {', 400, "NOT_JSON", "not valid JSON"),
    ("an array body", [unsigned_badge()], 400, "NOT_AN_OBJECT", "an array"),
    ("missing credential", {"vc": {}}, 400, "UNKNOWN_MEMBER", "vc"),
    ("empty body object", {}, 400, "MISSING_CREDENTIAL", "credential"),
    ("credential a string", {"credential": "x"}, 400, "NOT_AN_OBJECT", "credential"),
    ("missing @context", {"credential": _without("@context")}, 400, "INVALID_CONTEXT", "@context"),
    ("missing type", {"credential": _without("type")}, 400, "INVALID_TYPE", "VerifiableCredential"),
    (
        "missing subject",
        {"credential": _without("credentialSubject")},
        400,
        "MISSING_SUBJECT",
        "credentialSubject",
    ),
    (
        "bad date",
        {"credential": unsigned_badge(validFrom="yesterday")},
        400,
        "INVALID_DATETIME",
        "validFrom",
    ),
    (
        "validUntil before validFrom",
        {
            "credential": unsigned_badge(
                validFrom="2024-01-02T00:00:00Z", validUntil="2024-01-01T00:00:00Z"
            )
        },
        400,
        "INVALID_DATETIME",
        "validUntil",
    ),
    (
        "undefined term",
        {"credential": unsigned_badge(favouriteColour="green")},
        400,
        "DATA_LOSS_DETECTION_ERROR",
        "favouriteColour",
    ),
    (
        "context not bundled",
        {
            "credential": unsigned_badge(
                **{"@context": [*unsigned_badge()["@context"], "https://evil.example/ctx"]}
            )
        },
        400,
        "CONTEXT_NOT_ALLOWED",
        "evil.example",
    ),
    (
        "issuer not ours",
        {"credential": unsigned_badge(issuer="did:web:elsewhere.example")},
        422,
        "WRONG_ISSUER",
        "did:web:elsewhere.example",
    ),
    (
        "a proof sent to be issued",
        {"credential": unsigned_badge(proof=[{"type": "DataIntegrityProof"}])},
        422,
        "CANNOT_ISSUE",
        "proof",
    ),
    (
        "unknown option",
        {"credential": unsigned_badge(), "options": {"mandatoryPointers": ["/issuer"]}},
        400,
        "UNSUPPORTED_OPTION",
        "mandatoryPointers",
    ),
    (
        "options not an object",
        {"credential": unsigned_badge(), "options": []},
        400,
        "INVALID_OPTIONS",
        "options",
    ),
    ("NaN", b'{"credential": {"x": NaN}}', 400, "NOT_JSON", "NaN"),
    (
        "deeply nested",
        b'{"credential": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        400,
        "NOT_JSON",
        "JSON",
    ),
]


@pytest.mark.parametrize(
    ("body", "status", "code", "words"),
    [case[1:] for case in ISSUE_CASES],
    ids=[case[0] for case in ISSUE_CASES],
)
def test_malformed_issue_requests_get_a_clear_json_error(
    client, token, app, body, status, code, words
):
    if isinstance(body, bytes):
        response = client.post(
            "/credentials/issue",
            data=body,
            content_type="application/json",
            headers=bearer(token),
        )
    else:
        response = client.post("/credentials/issue", json=body, headers=bearer(token))
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.json["error"] == code
    assert words in response.json["detail"]
    with app.app_context():  # nothing half-written
        assert db.session.scalar(select(func.count()).select_from(IssuedCredential)) == 0


def test_a_duplicate_credential_id_is_a_clean_409_at_once(client, token, app, caplog):
    """Issue 15 §5: the second request with one ``id`` answered raw SQL after five retries."""
    wanted = "urn:uuid:6b1f3f5e-3a53-4a0e-9d55-0c1f2f5b8d11"
    first = post_issue(client, token, unsigned_badge(id=wanted))
    assert first.status_code == 201
    caplog.clear()
    again = post_issue(client, token, unsigned_badge(id=wanted))
    assert again.status_code == 409
    assert again.json["error"] == "DUPLICATE_CREDENTIAL_ID"
    assert wanted in again.json["detail"]
    text = again.get_data(as_text=True).lower()
    assert "insert" not in text and "unique" not in text and "sql" not in text
    assert "conflict on attempt" not in caplog.text  # refused before any attempt
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IssuedCredential)) == 1


def test_a_body_that_is_not_declared_json_is_415(client, token):
    response = client.post(
        "/credentials/issue",
        data=json.dumps({"credential": unsigned_badge()}),
        content_type="text/plain",
        headers=bearer(token),
    )
    assert response.status_code == 415
    assert response.json["error"] == "UNSUPPORTED_MEDIA_TYPE"


def test_a_body_over_one_mebibyte_is_413_json(client, token):
    big = json.dumps({"credential": unsigned_badge(description="x" * (1024 * 1024))})
    response = client.post(
        "/credentials/issue", data=big, content_type="application/json", headers=bearer(token)
    )
    assert response.status_code == 413
    assert response.json["error"] == "REQUEST_ENTITY_TOO_LARGE"


def test_wrong_methods_and_unknown_paths_are_json(client):
    response = client.get("/credentials/issue")
    assert response.status_code == 405
    assert response.json["error"] == "METHOD_NOT_ALLOWED"
    assert "POST" in response.headers["Allow"]
    response = client.post("/credentials/nothing-here", json={})
    assert response.status_code == 404
    assert response.json["error"] == "NOT_FOUND"


VERIFY_CASES = [
    ("invalid JSON", b"{", "NOT_JSON"),
    ("an array body", [], "NOT_AN_OBJECT"),
    ("missing verifiableCredential", {"credential": {}}, "UNKNOWN_MEMBER"),
    ("credential not an object", {"verifiableCredential": "eyJhbGciOi..."}, "NOT_AN_OBJECT"),
    ("unknown option", {"verifiableCredential": {}, "options": {"x": 1}}, "UNSUPPORTED_OPTION"),
]


@pytest.mark.parametrize(
    ("body", "code"), [c[1:] for c in VERIFY_CASES], ids=[c[0] for c in VERIFY_CASES]
)
def test_malformed_verify_requests_are_400(client, body, code):
    if isinstance(body, bytes):
        response = client.post("/credentials/verify", data=body, content_type="application/json")
    else:
        response = client.post("/credentials/verify", json=body)
    assert response.status_code == 400
    assert response.json["error"] == code
    assert response.json["detail"]


def test_a_malformed_credential_is_400_with_the_checks_run_so_far(client, token):
    credential = issued(client, token)
    credential["favouriteColour"] = "green"
    response = post_verify(client, credential)
    assert response.status_code == 400
    body = response.json
    assert body["error"] == "DATA_LOSS_DETECTION_ERROR"
    assert "favouriteColour" in body["detail"]
    assert body["verified"] is False
    assert [c["name"] for c in body["checks"]] == ["contexts", "terms"]
    assert body["checks"][1]["status"] == "failed"


def test_hostile_assets_never_cause_a_500(client, assets):
    paths = sorted((assets / "hostile").glob("*.json"))
    assert paths
    for path in paths:
        response = client.post(
            "/credentials/verify",
            data=b'{"verifiableCredential": ' + path.read_bytes() + b"}",
            content_type="application/json",
        )
        assert response.status_code in (400, 422), (path.name, response.get_data(as_text=True))
        assert response.mimetype == "application/json"


def test_an_issuer_without_a_key_is_a_safe_500(client, runner, app, issuer):
    with app.app_context():
        db.session.add(Issuer(slug="keyless", did="did:web:credfolio.test:keyless", name="K"))
        db.session.commit()
    created = create_client(runner, "--issuer-did", "did:web:credfolio.test:keyless")
    response = post_issue(
        client, get_token(client, created), unsigned_badge(issuer="did:web:credfolio.test:keyless")
    )
    assert response.status_code == 500
    assert response.json["error"] == "ISSUER_KEY_UNAVAILABLE"
    assert "keyless" not in response.get_data(as_text=True)  # nothing about our key store


def test_an_unexpected_error_is_a_bare_500_and_the_session_is_rolled_back(app, issuer):
    from flask import Blueprint

    from portfolio.core.errors import register_api_errors

    broken = Blueprint("broken", __name__)
    register_api_errors(broken)

    @broken.post("/broken")
    def explode() -> str:
        db.session.add(Issuer(slug="half-written", did="did:web:credfolio.test:half", name="H"))
        db.session.flush()
        raise RuntimeError("secret detail /etc/credfolio")

    app.extensions["csrf"].exempt(broken)  # a JSON API blueprint, like the real ones
    app.register_blueprint(broken)
    response = app.test_client().post("/broken")
    assert response.status_code == 500
    assert response.json == {"error": "INTERNAL_ERROR", "detail": "an unexpected error occurred"}
    assert db.session.scalar(select(Issuer).where(Issuer.slug == "half-written")) is None


# -- Idempotency-Key --------------------------------------------------------------------------


def _count(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)))


def test_a_retried_request_returns_the_same_credential(client, token, app):
    headers = {"Idempotency-Key": "order-42"}
    first = post_issue(client, token, headers=headers)
    again = post_issue(client, token, headers=headers)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.get_data() == first.get_data()
    with app.app_context():
        assert _count(IssuedCredential) == 1
        assert _count(IdempotencyRecord) == 1


def test_the_same_key_with_another_body_is_422(client, token, app):
    headers = {"Idempotency-Key": "order-43"}
    assert post_issue(client, token, headers=headers).status_code == 201
    other = post_issue(client, token, unsigned_badge(name="Another badge"), headers=headers)
    assert other.status_code == 422
    assert other.json["error"] == "IDEMPOTENCY_KEY_REUSED"
    assert "different request body" in other.json["detail"]
    with app.app_context():
        assert _count(IssuedCredential) == 1


def test_keys_belong_to_one_client(client, token, runner, app):
    other_token = get_token(client, create_client(runner))
    headers = {"Idempotency-Key": "shared"}
    a = post_issue(client, token, headers=headers)
    b = post_issue(client, other_token, headers=headers)
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json["verifiableCredential"]["id"] != b.json["verifiableCredential"]["id"]


def test_a_refused_request_stores_no_key(client, token, app):
    headers = {"Idempotency-Key": "bad-then-good"}
    bad = post_issue(
        client, token, unsigned_badge(issuer="did:web:elsewhere.example"), headers=headers
    )
    assert bad.status_code == 422
    with app.app_context():
        assert _count(IdempotencyRecord) == 0
    assert post_issue(client, token, headers=headers).status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve"])
def test_unusable_keys_are_400(client, token, key):
    response = post_issue(client, token, headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert response.json["error"] == "INVALID_IDEMPOTENCY_KEY"


def test_concurrent_retries_with_one_key_issue_one_credential(app, token, issuer):
    n = 4
    start = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        client = app.test_client()
        start.wait(10)
        results[i] = post_issue(client, token, headers={"Idempotency-Key": "race"})

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] * (n - 1) + [201], [r.get_data(as_text=True) for r in results]
    ids = {r.json["verifiableCredential"]["id"] for r in results}
    assert len(ids) == 1
    with app.app_context():
        assert _count(IssuedCredential) == 1


# -- presentations ----------------------------------------------------------------------------


def holder_key() -> tuple[IssuerKey, str]:
    key = IssuerKey.generate()
    return key, f"did:key:{key.public_key_multibase}"


def presentation(credentials: list[dict[str, Any]], holder: str | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": credentials,
    }
    if holder:
        document["holder"] = holder
    return document


def sign_presentation(
    document: dict[str, Any], key: IssuerKey, did: str, **options: Any
) -> dict[str, Any]:
    purpose = options.pop("proof_purpose", "authentication")
    return SUITE.create_proof(
        document,
        key=key,
        verification_method=f"{did}#{key.public_key_multibase}",
        proof_purpose=purpose,
        extra_options=options,
    )


def post_presentation(client: Any, vp: dict[str, Any], **options: Any) -> Any:
    body: dict[str, Any] = {"verifiablePresentation": vp}
    if options:
        body["options"] = options
    return client.post("/presentations/verify", json=body)


def test_a_signed_presentation_of_an_issued_credential_verifies(client, token):
    key, did = holder_key()
    vp = sign_presentation(
        presentation([issued(client, token)], holder=did),
        key,
        did,
        challenge="c-1",
        domain="d.example",
    )
    response = post_presentation(client, vp, challenge="c-1", domain="d.example")
    assert response.status_code == 200, response.json["errors"]
    body = response.json
    assert body["verified"] is True
    statuses = {c["name"]: c["status"] for c in body["checks"]}
    assert statuses == {
        "presentation-contexts": "passed",
        "presentation-proof": "passed",
        "holder": "passed",
        "challenge": "passed",
        "domain": "passed",
    }
    assert [r["verified"] for r in body["credentialResults"]] == [True]


@pytest.mark.parametrize(
    ("change", "failing"),
    [
        ({"challenge": "another"}, "challenge"),
        ({"domain": "evil.example"}, "domain"),
    ],
)
def test_a_wrong_challenge_or_domain_is_422(client, token, change, failing):
    key, did = holder_key()
    vp = sign_presentation(
        presentation([issued(client, token)], holder=did),
        key,
        did,
        challenge="c-1",
        domain="d.example",
    )
    options = {"challenge": "c-1", "domain": "d.example", **change}
    response = post_presentation(client, vp, **options)
    assert response.status_code == 422
    assert failed_checks(response.json) == {failing}


def test_a_presentation_changed_after_signing_fails_its_proof(client, token):
    key, did = holder_key()
    vp = sign_presentation(presentation([issued(client, token)]), key, did)
    vp["verifiableCredential"] = []
    response = post_presentation(client, vp)
    assert response.status_code == 422
    assert failed_checks(response.json) == {"presentation-proof"}


def test_a_presentation_signed_by_someone_other_than_the_holder_fails(client, token):
    key, did = holder_key()
    _, other = holder_key()
    vp = sign_presentation(presentation([issued(client, token)], holder=other), key, did)
    response = post_presentation(client, vp)
    assert response.status_code == 422
    assert failed_checks(response.json) == {"holder"}


def test_an_assertion_proof_is_not_a_holder_login(client, token):
    key, did = holder_key()
    vp = sign_presentation(
        presentation([issued(client, token)]), key, did, proof_purpose="assertionMethod"
    )
    response = post_presentation(client, vp)
    assert response.status_code == 422
    assert "presentation-proof" in failed_checks(response.json)


def test_a_revoked_credential_in_a_presentation_is_422(client, token, app):
    credential = issued(client, token)
    _revoke(app, credential, "revoke")
    key, did = holder_key()
    response = post_presentation(client, sign_presentation(presentation([credential]), key, did))
    assert response.status_code == 422
    assert failed_checks(response.json) == set()
    assert failed_checks(response.json["credentialResults"][0]) == {"revocation"}


def test_an_unsigned_presentation_verifies_its_credentials_but_cannot_answer_a_challenge(
    client, token
):
    vp = presentation([issued(client, token)])
    response = post_presentation(client, vp)
    assert response.status_code == 200
    assert "the presentation is not signed by its holder" in response.json["warnings"]
    response = post_presentation(client, vp, challenge="c-1")
    assert response.status_code == 422
    assert failed_checks(response.json) == {"challenge"}


@pytest.mark.parametrize(
    "body",
    [
        {
            "verifiablePresentation": {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": "X",
            }
        },
        {"verifiablePresentation": presentation(["not-an-object"])},  # type: ignore[list-item]
        {"verifiablePresentation": presentation([]), "options": {"challenge": 1}},
        {"verifiablePresentation": {**presentation([]), "@context": ["https://evil.example/"]}},
        {"presentation": {}},
    ],
    ids=[
        "not a VerifiablePresentation",
        "credential not an object",
        "challenge not a string",
        "bad context",
        "missing verifiablePresentation",
    ],
)
def test_malformed_presentations_are_400(client, body):
    response = client.post("/presentations/verify", json=body)
    assert response.status_code == 400
    assert response.json["error"]
    assert response.json["detail"]


# -- issuing from several processes at once ---------------------------------------------------

PROCESSES, ISSUES_EACH = 4, 15


def issue_many(database_url: str, instance: str, n: int, start: Any) -> None:
    """Worker (spawned): a fresh app on the shared database, then ``n`` credentials."""
    from wsgi import create_app

    app = create_app(_child_config(database_url, instance))
    with app.app_context():
        issuer = default_issuer()
        start.wait(60)
        for _ in range(n):
            services.issue(unsigned_badge(), issuer=issuer, client_id="parallel")
        db.session.remove()
        db.engine.dispose()


def _child_config(database_url: str, instance: str) -> dict[str, Any]:
    config: dict[str, Any] = {
        "INSTANCE_PATH": instance,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
        "CREDFOLIO_SECRET_KEY": "parallel-test",
        "CREDFOLIO_PUBLIC_URL": "https://credfolio.test",
    }
    if database_url.startswith("sqlite"):
        # SQLite serializes writers; wait for the lock instead of failing at once.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 60}}
    return config


@pytest.mark.slow
def test_parallel_issuance_never_gives_one_position_twice(app, issuer, database_url, tmp_path):
    ctx = multiprocessing.get_context("spawn")  # real, fresh processes, as under gunicorn
    start = ctx.Barrier(PROCESSES)
    procs = [
        ctx.Process(
            target=issue_many,
            args=(database_url, str(tmp_path / f"instance-{i}"), ISSUES_EACH, start),
        )
        for i in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(240)
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    with app.app_context():
        rows = db.session.scalars(select(IssuedCredential)).all()
        assert len(rows) == PROCESSES * ISSUES_EACH
        revocation = [(r.revocation_list_id, r.revocation_index) for r in rows]
        suspension = [(r.suspension_list_id, r.suspension_index) for r in rows]
        assert len(set(revocation)) == len(rows)
        assert len(set(suspension)) == len(rows)
        # The documents say the same as the columns: no two credentials share a status bit.
        entries = {
            (e["statusListCredential"], e["statusListIndex"])
            for r in rows
            for e in json.loads(r.document)["credentialStatus"]
        }
        assert len(entries) == 2 * len(rows)
        # No allocation was lost to a concurrent update of a list's bitmap.
        counted = []
        for purpose in ("revocation", "suspension"):
            lists = db.session.scalars(
                select(StatusListRow).where(StatusListRow.purpose == purpose)
            ).all()
            counted.append(sum(row.allocated_count for row in lists))
            counted.append(sum(bin(b).count("1") for row in lists for b in row.allocated))
    assert counted == [len(rows)] * 4
