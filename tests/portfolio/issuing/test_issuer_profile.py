"""The issuer's profile is data (issue 18 §6): administrators edit name, web site, email, logo
and description on the issuer page or with `credfolio issuer set`; new credentials, the DID
document's web-site entry and the home page use it; credentials already issued keep theirs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from portfolio.core.db import db
from portfolio.core.models import AuditEvent
from portfolio.issuing import service as services
from tests.conftest import unsigned_badge
from tests.portfolio.accounts.test_auth import PASSWORD, make_user, sign_in

PROFILE = {
    "name": "Northfield Community School",
    "url": "https://northfield.example/",
    "email": "office@northfield.example",
    "image": "https://northfield.example/logo.png",
    "description": "A school where students show what they can do.",
}


@pytest.fixture
def admin(app: Any, issuer: Any) -> Any:
    app.config["WTF_CSRF_ENABLED"] = False
    make_user(app, "head@school.example", "admin")
    client = app.test_client()
    assert sign_in(client, "head@school.example", PASSWORD).status_code == 303
    return client


def test_the_profile_edited_on_the_page_reaches_new_credentials_and_the_did_document(
    app, admin, issuer
):
    before = services.issue(unsigned_badge(), issuer=issuer)
    response = admin.post("/admin/issuer/profile", data=PROFILE)
    assert response.status_code == 303
    assert "Profile saved" in admin.get("/admin/issuer").get_data(as_text=True)

    after = json.loads(services.issue(unsigned_badge(), issuer=issuer).document)["issuer"]
    assert after["name"] == PROFILE["name"] and after["url"] == PROFILE["url"]
    assert after["email"] == PROFILE["email"]
    assert after["image"] == {"id": PROFILE["image"], "type": "Image"}
    assert after["description"] == PROFILE["description"]
    # What was signed before stays as it was signed.
    assert json.loads(before.document)["issuer"]["name"] != PROFILE["name"]

    did = app.test_client().get("/.well-known/did.json").get_json()
    assert did["service"] == [
        {"id": f"{issuer.did}#website", "type": "LinkedDomains", "serviceEndpoint": PROFILE["url"]}
    ]
    assert PROFILE["name"] in app.test_client().get("/").get_data(as_text=True)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "issuer_profile_changed" in actions


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "   ", "Enter the school"),
        ("url", "javascript:alert(1)", "must be a web address"),
        ("email", "not an address", "Enter an email address"),
        ("image", "ftp://northfield.example/logo.png", "must be a web address"),
        ("description", "x" * 2001, "at most 2000 characters"),
    ],
)
def test_a_bad_field_is_refused_and_nothing_changes(app, admin, issuer, field, value, message):
    name = issuer.name
    response = admin.post("/admin/issuer/profile", data={**PROFILE, field: value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert issuer.name == name and issuer.email is None


def test_the_command_sets_and_shows_the_profile(app, issuer, runner):
    result = runner.invoke(args=["issuer", "set", "--name", PROFILE["name"], "--email", ""])
    assert result.exit_code == 0, result.output
    assert "Changed: name." in result.output
    shown = runner.invoke(args=["issuer", "show"]).output
    assert PROFILE["name"] in shown and "Email:           -" in shown
    refused = runner.invoke(args=["issuer", "set", "--url", "not a link"])
    assert refused.exit_code == 2 and "--url" in refused.output
