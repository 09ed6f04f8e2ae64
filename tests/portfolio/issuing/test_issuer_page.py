"""The administrators' issuer page and ``credfolio issuer``: suspension is an option of each
issuer, off by default, and wherever it is switched on the page and the command say plainly
that strict OB 3.0 validators will flag the credentials' status list (issue 14 §1)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portfolio.accounts.issuers import default_issuer, ensure_issuer
from portfolio.accounts.models import User
from portfolio.core.db import db
from portfolio.core.models import AuditEvent
from portfolio.issuing.status_options import STRICT_VALIDATORS_WARNING
from tests.portfolio.accounts.test_auth import OTHER_ISSUER_DID, make_user, sign_in

ADMIN = "alice@school.example"
OTHER_ADMIN = "olga@other-school.example"
PLAINLY = "strict OB 3.0 validators"


@pytest.fixture
def admin(app, client):
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        app.extensions["credfolio"].key_store.create(default_issuer().did)
        ensure_issuer(did=OTHER_ISSUER_DID, name="Other School", slug="other")
    make_user(app, ADMIN)
    make_user(app, OTHER_ADMIN, issuer_did=OTHER_ISSUER_DID)
    assert sign_in(client, ADMIN).status_code == 303
    return client


def offers(app, did: str) -> bool:
    with app.app_context():
        return bool(ensure_issuer(did=did, name="-").offers_suspension)


def test_the_page_shows_the_issuer_its_key_and_that_suspension_is_off(app, admin):
    page = admin.get("/admin/issuer").get_data(as_text=True)
    with app.app_context():
        did = default_issuer().did
        method = app.extensions["credfolio"].key_store.active(did).verification_method
    assert did in page and method in page
    assert "Status entries in new credentials</dt><dd>revocation</dd>" in page
    assert 'name="offers_suspension"' in page and " checked" not in page
    assert PLAINLY in page  # said before anyone switches it on


def test_switching_suspension_on_says_what_validators_will_do_and_is_audited(app, admin):
    response = admin.post("/admin/issuer/status", data={"offers_suspension": "y"})
    assert response.status_code == 303
    with app.app_context():
        did = default_issuer().did
    assert offers(app, did) and not offers(app, OTHER_ISSUER_DID)
    page = admin.get("/admin/issuer").get_data(as_text=True)
    assert "Suspension is on for new credentials." in page
    assert "Warning:" in page and PLAINLY in page
    assert "revocation and suspension" in page
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "issuer_suspension_changed")
        )
        admin_user = db.session.scalar(select(User).where(User.email == ADMIN))
        assert (event.actor_id, event.detail) == (admin_user.id, {"offers_suspension": "on"})


def test_switching_it_off_again(app, admin):
    admin.post("/admin/issuer/status", data={"offers_suspension": "y"})
    assert admin.post("/admin/issuer/status", data={}).status_code == 303
    with app.app_context():
        assert not offers(app, default_issuer().did)
    assert "Suspension is off" in admin.get("/admin/issuer").get_data(as_text=True)


def test_the_form_needs_its_csrf_token(app, admin):
    app.config["WTF_CSRF_ENABLED"] = True
    assert admin.post("/admin/issuer/status", data={"offers_suspension": "y"}).status_code == 400
    page = admin.get("/admin/issuer").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert not offers(app, OTHER_ISSUER_DID)
    response = admin.post(
        "/admin/issuer/status", data={"offers_suspension": "y", "csrf_token": token}
    )
    assert response.status_code == 303


def test_another_issuers_administrator_changes_only_their_own_issuer(app, admin, client):
    client.post("/sign-out")
    other = app.test_client()
    assert sign_in(other, OTHER_ADMIN).status_code == 303
    assert other.post("/admin/issuer/status", data={"offers_suspension": "y"}).status_code == 303
    with app.app_context():
        assert offers(app, OTHER_ISSUER_DID) and not offers(app, default_issuer().did)


def test_the_cli_switches_suspension_and_says_plainly_what_it_means(app, runner):
    result = runner.invoke(args=["issuer", "suspension", "on"])
    assert result.exit_code == 0, result.output
    assert "Suspension is now on" in result.output
    assert STRICT_VALIDATORS_WARNING in result.output.replace("\n", " ")
    shown = runner.invoke(args=["issuer", "show"])
    assert "Status entries:  revocation, suspension" in shown.output
    assert PLAINLY in shown.output
    again = runner.invoke(args=["issuer", "suspension", "on"])
    assert "Suspension was already on" in again.output
    off = runner.invoke(args=["issuer", "suspension", "off"])
    assert "Suspension is now off" in off.output and PLAINLY not in off.output
    assert "Status entries:  revocation\n" in runner.invoke(args=["issuer", "show"]).output


def test_the_cli_names_an_unknown_issuer(runner):
    result = runner.invoke(args=["issuer", "suspension", "on", "--issuer-did", "did:web:nope.test"])
    assert result.exit_code == 2 and "no issuer 'did:web:nope.test'" in result.output
