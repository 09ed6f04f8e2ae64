"""The public verification endpoints make one work budget per request (issue 14 §5): each hostile
shape of tests/assets/budget/ — within every request limit — is refused with a 400 naming
``WORK_BUDGET_EXCEEDED`` (JSON on the API, a readable page on /verify), never a 500 or a
worker busy for minutes; ordinary credentials are judged on their merits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portfolio.core.request_limits import check_json
from tests.conftest import ASSETS
from tests.portfolio.issuing.test_oauth import api_client, bearer, token

__all__ = ["api_client", "token"]  # fixtures shared with test_oauth

HOSTILE = [
    "subjects-16x256-shared-id.json",
    "subjects-76x256-shared-id.json",
    "endorsements-88-cliques-in-json-literal.json",
    "status-12x256-entries-one-list.json",
]


def fixture_text(name: str) -> str:
    return (ASSETS / "budget" / name).read_text(encoding="utf-8")


@pytest.fixture
def no_csrf(app: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.mark.parametrize("name", HOSTILE)
def test_each_hostile_shape_is_within_every_request_limit(name):
    # The request limits cannot see these: the cost is in the shape, not the size.
    check_json({"verifiableCredential": json.loads(fixture_text(name))})


@pytest.mark.parametrize("name", HOSTILE)
def test_the_verify_api_refuses_each_hostile_shape_with_the_budget_code(client, name):
    body = '{"verifiableCredential": ' + fixture_text(name) + "}"
    response = client.post("/credentials/verify", data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    assert response.json["error"] == "WORK_BUDGET_EXCEEDED"
    assert response.json["verified"] is False
    assert "one request" in response.json["detail"]


@pytest.mark.parametrize("name", HOSTILE)
def test_the_presentation_api_refuses_a_presentation_holding_a_hostile_shape(client, name):
    presentation = (
        '{"verifiablePresentation": {"@context": ["https://www.w3.org/ns/credentials/v2"], '
        '"type": ["VerifiablePresentation"], "verifiableCredential": [' + fixture_text(name) + "]}}"
    )
    response = client.post(
        "/presentations/verify", data=presentation, content_type="application/json"
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.json["error"] == "WORK_BUDGET_EXCEEDED"


@pytest.mark.parametrize("name", HOSTILE)
def test_the_verify_page_refuses_each_hostile_shape_with_a_readable_400(client, no_csrf, name):
    response = client.post("/verify", data={"credential": fixture_text(name)})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "one request" in response.get_data(as_text=True)


def test_the_same_shape_at_an_ordinary_size_is_judged_on_its_merits(client):
    body = '{"verifiableCredential": ' + fixture_text("subjects-4x16-shared-id.json") + "}"
    response = client.post("/credentials/verify", data=body, content_type="application/json")
    assert response.status_code == 422  # its zero signature fails the proof check
    assert "error" not in response.json
    assert response.json["checks"][0] == {
        "name": "contexts",
        "status": "passed",
        "detail": "every JSON-LD context is one of the bundled contexts",
    }


def test_issuing_a_hostile_shape_is_refused_with_the_budget_code(client, token):
    # Signing canonicalizes within a fresh budget per canonicalization: the same refusal.
    credential = json.loads(fixture_text("subjects-16x256-shared-id.json"))
    for signed_part in ("proof", "issuer", "id"):
        credential.pop(signed_part)
    response = client.post(
        "/credentials/issue", json={"credential": credential}, headers=bearer(token)
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.json["error"] == "WORK_BUDGET_EXCEEDED"


def test_a_hostile_issue_request_is_refused_before_taking_the_write_lock(app, client, token):
    """The request's budget is spent before the write transaction: while another writer holds
    SQLite's write lock, the hostile request is still refused at once (it never waits for the
    lock, and so never holds it while canonicalizing)."""
    import sqlite3

    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    credential = json.loads(fixture_text("subjects-16x256-shared-id.json"))
    for signed_part in ("proof", "issuer", "id"):
        credential.pop(signed_part)
    writer = sqlite3.connect(str(url.database), timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another writer, mid-transaction
        response = client.post(
            "/credentials/issue", json={"credential": credential}, headers=bearer(token)
        )
    finally:
        writer.rollback()
        writer.close()
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.json["error"] == "WORK_BUDGET_EXCEEDED"
