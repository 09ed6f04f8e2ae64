"""The administrators' "Trust and privacy" page: the local trust list and the school's
recipient identity, through the real forms."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from tests.conftest import load_json
from tests.portfolio.school import PASSWORD, make_school

FORGED = "trust/forged-demo-school.json"


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture
def school(app: Any, issuer: Any) -> Any:
    return make_school(issuer)


@pytest.fixture
def admin_client(app: Any, school: Any) -> Any:
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    response = client.post("/sign-in", data={"email": school.admin.email, "password": PASSWORD})
    assert response.status_code in (302, 303), response.text
    return client


def test_the_page_lists_what_confirms_an_issuer(admin_client: Any) -> None:
    response = admin_client.get("/admin/trust")
    assert response.status_code == 200, response.text
    seen = text_of(response.text)
    assert "Issuers this service confirms" in seen
    assert "The trust list is empty." in seen


def verify_text(client: Any, credential: dict[str, Any]) -> str:
    response = client.post("/verify", data={"credential": json.dumps(credential)})
    assert response.status_code == 200
    return text_of(response.text)


def test_an_issuer_added_to_the_trust_list_is_confirmed_until_it_is_removed(
    admin_client: Any, app: Any
) -> None:
    from portfolio.issuing.models import TrustedIssuerRow

    forged = load_json(FORGED)
    assert "Genuine signature, issuer not confirmed" in verify_text(admin_client, forged)
    added = admin_client.post(
        "/admin/trust/issuers",
        data={"did": forged["issuer"]["id"], "name": "Partner College", "url": ""},
    )
    assert added.status_code == 303
    seen = verify_text(admin_client, forged)
    assert "✔ Verified Genuine, unchanged since it was signed" in seen
    assert (
        "Issued by Partner College (listed in the trust list of this service's administrators)"
        in seen
    )
    listed = text_of(admin_client.get("/admin/trust").text)
    assert "Partner College" in listed and forged["issuer"]["id"] in listed

    from portfolio.core.db import db

    entry = db.session.scalar(db.select(TrustedIssuerRow))
    removed = admin_client.post(f"/admin/trust/issuers/{entry.id}/remove")
    assert removed.status_code == 303
    assert "Genuine signature, issuer not confirmed" in verify_text(admin_client, forged)


@pytest.mark.parametrize(
    ("did", "url", "status", "message"),
    [
        ("did:web:credfolio.test", "", 409, "already an issuer of this service"),
        ("not a did", "", 422, "must be a DID"),
        ("did:web:partner.example", "javascript:alert(1)", 422, "must be an https:// address"),
    ],
)
def test_an_entry_the_list_cannot_take_is_refused_with_a_reason(
    admin_client: Any, did: str, url: str, status: int, message: str
) -> None:
    data = {"did": did, "name": "X", "url": url}
    response = admin_client.post("/admin/trust/issuers", data=data)
    assert response.status_code == status
    assert message in text_of(response.text)


def test_the_same_issuer_twice_is_a_conflict(admin_client: Any) -> None:
    data = {"did": "did:web:partner.example", "name": "Partner"}
    assert admin_client.post("/admin/trust/issuers", data=data).status_code == 303
    again = admin_client.post("/admin/trust/issuers", data=data)
    assert again.status_code == 409
    assert "already on the list" in text_of(again.text)
