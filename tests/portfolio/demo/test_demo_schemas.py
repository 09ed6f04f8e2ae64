"""Every credential the demo issues — masteries, the stack badge, the assessors' endorsements
(embedded and standalone), one issued through the VC-API — matches the 1EdTech OB 3.0 JSON
Schema exactly as published, judged by Python ``jsonschema`` and by ``ajv`` (2019-09 draft,
formats on) as outside verifiers run them (issue 14 §1).  The status lists, which no 1EdTech
schema describes, verify as the credentials they are."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from portfolio.core.db import db
from tests.conftest import TEST_KEK, unsigned_badge
from tests.portfolio.issuing.test_oauth import bearer, create_client, get_token
from tests.strict_validators import ajv_errors, jsonschema_errors, kind_of
from wsgi import create_app

pytestmark = pytest.mark.slow


def _embedded(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The EndorsementCredentials embedded in a credential and in its achievement (OB 3.0)."""
    found = list(document.get("endorsement", []))
    subject = document.get("credentialSubject", {})
    found += subject.get("achievement", {}).get("endorsement", [])
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo school, seeded once; what it issued, and one credential from its VC-API."""
    from portfolio.issuing.models import IssuedCredential, StatusListRow

    folder: Path = tmp_path_factory.mktemp("demo")
    app = create_app(
        {
            "INSTANCE_PATH": str(folder),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite3'}",
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            "WTF_CSRF_ENABLED": False,
        }
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo-setup"])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    token = get_token(client, create_client(runner))
    response = client.post(
        "/credentials/issue", json={"credential": unsigned_badge()}, headers=bearer(token)
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    with app.app_context():
        stored = [json.loads(row.document) for row in db.session.scalars(select(IssuedCredential))]
        lists = [json.loads(row.credential) for row in db.session.scalars(select(StatusListRow))]
        verifier = app.extensions["credfolio"].verifier()
        list_results = [verifier.verify(document) for document in lists]
        db.session.remove()
        db.engine.dispose()
    credentials = [*stored, *(e for document in stored for e in _embedded(document))]
    return {"credentials": credentials, "lists": lists, "list_results": list_results}


def test_the_demo_issues_masteries_a_stack_badge_endorsements_and_a_vc_api_credential(demo):
    names = [
        c.get("name") or c["credentialSubject"].get("achievement", {}).get("name")
        for c in demo["credentials"]
    ]
    kinds = [kind_of(c) for c in demo["credentials"]]
    assert kinds.count("endorsementcredential") >= 2
    assert kinds.count("achievementcredential") >= 7  # six from the demo, one from the VC-API
    assert "Young creator" in names  # the stack badge


def test_every_demo_credential_has_one_credential_status_object(demo):
    for credential in demo["credentials"]:
        assert not isinstance(credential.get("credentialStatus"), list), credential["id"]


def test_every_demo_credential_passes_python_jsonschema(demo):
    for credential in demo["credentials"]:
        assert jsonschema_errors(credential, kind_of(credential)) == [], credential["id"]


def test_every_demo_credential_passes_ajv(demo):
    documents = [(kind_of(c), c) for c in demo["credentials"]]
    errors = ajv_errors(documents)
    assert errors == [[] for _ in documents], [
        (c["id"], e) for (_, c), e in zip(documents, errors, strict=True) if e
    ]


def test_the_status_lists_verify_and_no_open_badges_schema_is_claimed_for_them(demo):
    assert demo["lists"]
    for document, result in zip(demo["lists"], demo["list_results"], strict=True):
        assert "BitstringStatusListCredential" in document["type"]
        assert result.verified, result.errors
        assert result.check("schema").status == "not-applicable"
