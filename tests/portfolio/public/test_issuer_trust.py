"""Trust that a forger cannot borrow (issue 15 §3).

A credential signed with a stranger's did:key whose issuer object says "Credfolio Demo School"
(tests/assets/trust/forged-demo-school.json) must never read "Verified", "Issued by Credfolio
Demo School" on the school's own /verify page or in the API: its signature is genuine, its
issuer is not confirmed.  Issuers are confirmed only by this service (its own issuers), the
administrators' local list, or a DCC registry file configured by CREDFOLIO_TRUST_REGISTRIES."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from tests.conftest import ASSETS, load_json

FORGED = "trust/forged-demo-school.json"
DEMO_NAME = "Credfolio Demo School"


@pytest.fixture
def no_csrf(app: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


def text_of(page: str) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def verify_page(client: Any, credential: dict[str, Any]) -> str:
    response = client.post("/verify", data={"credential": json.dumps(credential)})
    assert response.status_code == 200
    return text_of(response.text)


def test_a_forger_borrowing_the_schools_name_is_not_verified_on_its_verify_page(
    app: Any, issuer: Any, client: Any, no_csrf: None
) -> None:
    assert issuer.name == DEMO_NAME  # the school whose name the forger borrows
    seen = verify_page(client, load_json(FORGED))
    assert "Genuine signature, issuer not confirmed" in seen
    assert "Genuine, unchanged since it was signed" not in seen
    assert f"The issuer calls itself '{DEMO_NAME}'; this name is not confirmed" in seen
    assert f"Issued by {DEMO_NAME}" not in seen
    assert "Who the issuer is : ? Could not be checked" in seen


def test_the_schools_own_credential_says_who_vouches_for_its_issuer(
    app: Any, issuer: Any, client: Any, no_csrf: None
) -> None:
    from tests.portfolio.public.test_public_pages import issue

    row = issue(issuer=issuer)
    for seen in (
        verify_page(client, json.loads(row.document)),
        text_of(client.get(f"/c/{row.public_id}").text),
    ):
        assert "✔ Verified Genuine, unchanged since it was signed" in seen
        assert f"Issued by {DEMO_NAME} (an issuer of this service)" in seen


def test_the_schools_own_revoked_credential_still_names_its_issuer_as_a_fact(
    app: Any, issuer: Any, client: Any, no_csrf: None
) -> None:
    """Revocation says nothing against who signed: the page said "The issuer calls itself
    'Credfolio Demo School'; this name is not confirmed" on the school's own revoked credential."""
    from portfolio.issuing import service as services
    from tests.portfolio.public.test_public_pages import issue

    row = issue(issuer=issuer)
    services.set_status(row, "revoke", reason="issued in error")
    seen = text_of(client.get(f"/c/{row.public_id}").text)
    assert "✘ Revoked Revoked by the issuer on" in seen
    assert f"Issued by {DEMO_NAME} (an issuer of this service)" in seen
    assert "this name is not confirmed" not in seen
    tampered = json.loads(row.document)
    tampered["name"] = "Changed after signing"
    assert "this name is not confirmed" in verify_page(client, tampered)  # no proven issuer


def test_the_api_says_the_forgers_signature_is_genuine_but_its_issuer_unconfirmed(
    app: Any, issuer: Any, client: Any
) -> None:
    response = client.post("/credentials/verify", json={"verifiableCredential": load_json(FORGED)})
    body = response.json
    assert body["verdict"] == "genuine-issuer-not-confirmed"
    assert body["issuer"] == {
        "id": load_json(FORGED)["issuer"]["id"],
        "confirmed": False,
        "claimedName": DEMO_NAME,
    }
    assert {c["name"]: c["status"] for c in body["checks"]}["issuer-trust"] == "unknown"


def test_an_issuer_in_a_configured_dcc_registry_is_confirmed_under_the_registrys_name(
    tmp_path: Any, database_url: str, _sqlite_schema: Any
) -> None:
    import shutil

    from tests.conftest import _test_config
    from wsgi import create_app

    shutil.copyfile(_sqlite_schema(), tmp_path / "test.sqlite3")
    registry = ASSETS / "trust" / "registry-listing-the-demo-key.json"
    config = _test_config(tmp_path / "instance", f"sqlite:///{tmp_path / 'test.sqlite3'}")
    app = create_app({**config, "CREDFOLIO_TRUST_REGISTRIES": f"Partner registry={registry}"})
    app.config["WTF_CSRF_ENABLED"] = False
    seen = verify_page(app.test_client(), load_json(FORGED))
    assert "✔ Verified Genuine, unchanged since it was signed" in seen
    assert "Issued by Example Partner College (listed in Partner registry)" in seen
    assert DEMO_NAME not in seen.split("Issuer", 1)[1].split("Awarded to", 1)[0]


@pytest.mark.parametrize(
    "fixture", ["registry-entry-without-name.json", "registry-not-an-object.json", "missing.json"]
)
def test_a_configured_registry_that_cannot_be_read_stops_the_start(
    tmp_path: Any, fixture: str
) -> None:
    from tests.conftest import _test_config
    from wsgi import create_app

    config = _test_config(tmp_path / "instance", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    path = ASSETS / "trust" / fixture
    with pytest.raises(RuntimeError, match="CREDFOLIO_TRUST_REGISTRIES: the registry 'Broken'"):
        create_app({**config, "CREDFOLIO_TRUST_REGISTRIES": f"Broken={path}"})
