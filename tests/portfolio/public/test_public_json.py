"""Public JSON endpoints: DID documents (both did:web forms), issuer profiles, achievements and
status lists with HTTP caching (RFC 7232)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from werkzeug.http import http_date

from portfolio.accounts.models import Issuer
from portfolio.core.db import db
from portfolio.issuing import service as services
from portfolio.issuing.models import AchievementRow, StatusListRow
from tests.conftest import unsigned_badge


def _issue(app: Any, issuer: Any) -> Any:
    row = services.issue(unsigned_badge(), issuer=issuer)
    return json.loads(row.document), row


def _status_list(app: Any) -> StatusListRow:
    return db.session.scalar(select(StatusListRow).where(StatusListRow.purpose == "revocation"))


# -- DID documents ----------------------------------------------------------------------------


def test_the_did_document_lists_active_and_retired_keys_after_rotation(client, runner, issuer):
    before = client.get("/.well-known/did.json").json
    assert len(before["assertionMethod"]) == 1
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    response = client.get("/.well-known/did.json")
    assert response.mimetype == "application/did+json"
    document = response.json
    assert document["id"] == issuer.did
    assert len(document["assertionMethod"]) == 2
    assert before["assertionMethod"][0] in document["assertionMethod"]  # the retired key
    assert document["authentication"] != before["authentication"]  # the new active key


def test_a_path_did_resolves_to_its_issuer(client, app, issuer):
    did = "did:web:credfolio.test:schools:music"
    with app.app_context():
        db.session.add(Issuer(slug="music", did=did, name="Music School"))
        db.session.commit()
        app.extensions["credfolio"].key_store.create(did)
    response = client.get("/schools/music/did.json")
    assert response.status_code == 200
    assert response.mimetype == "application/did+json"
    assert response.json["id"] == did
    assert response.json["verificationMethod"][0]["controller"] == did


def test_unknown_path_dids_are_404_json(client, issuer):
    for path in ("/schools/nobody/did.json", "/a/../b/did.json", "/x%20y/did.json"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json["error"] == "NOT_FOUND"


# -- profiles and achievements ----------------------------------------------------------------


def test_the_issuer_profile_is_json_ld(client, issuer):
    response = client.get("/issuers/default")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    profile = response.json
    assert profile["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert profile["id"] == issuer.did
    assert profile["type"] == ["Profile"]
    assert profile["name"] == issuer.name


def test_an_unknown_issuer_is_404_json(client, issuer):
    response = client.get("/issuers/nobody")
    assert response.status_code == 404
    assert response.json == {"error": "NOT_FOUND", "detail": "no issuer 'nobody'"}


def test_an_issued_achievement_is_published(client, app, issuer):
    credential, _ = _issue(app, issuer)
    row = db.session.scalar(select(AchievementRow))
    response = client.get(f"/achievements/{row.public_id}")
    assert response.status_code == 200
    assert response.json == credential["credentialSubject"]["achievement"]
    assert client.get("/achievements/unknown").status_code == 404


# -- status lists -----------------------------------------------------------------------------


def test_the_status_list_is_served_exactly_as_stored(client, app, issuer):
    credential, _ = _issue(app, issuer)
    row = _status_list(app)
    url = credential["credentialStatus"][0]["statusListCredential"]
    assert url == f"https://credfolio.test/status/{row.public_id}"
    response = client.get(f"/status/{row.public_id}")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == row.credential
    assert response.mimetype == "application/ld+json"
    assert response.headers["ETag"] == row.etag
    assert response.headers["Cache-Control"] in ("public, max-age=60", "max-age=60, public")
    assert response.last_modified is not None
    assert "BitstringStatusListCredential" in response.json["type"]


def test_etag_round_trip_gives_304_until_the_list_changes(client, app, issuer):
    _, issued = _issue(app, issuer)
    row = _status_list(app)
    first = client.get(f"/status/{row.public_id}")
    etag = first.headers["ETag"]
    again = client.get(f"/status/{row.public_id}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag  # RFC 7232 §4.1
    assert "max-age=60" in again.headers["Cache-Control"]
    services.set_status(issued, "revoke", reason="test")
    changed = client.get(f"/status/{row.public_id}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_if_modified_since(client, app, issuer):
    _issue(app, issuer)
    row = _status_list(app)
    later = http_date(datetime.now(UTC) + timedelta(hours=1))
    earlier = http_date(datetime.now(UTC) - timedelta(days=1))
    url = f"/status/{row.public_id}"
    assert client.get(url, headers={"If-Modified-Since": later}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": earlier}).status_code == 200
    # RFC 7232 §6: If-None-Match wins over If-Modified-Since.
    both = client.get(url, headers={"If-None-Match": '"other"', "If-Modified-Since": later})
    assert both.status_code == 200


def test_an_unknown_status_list_is_404_json(client, issuer):
    response = client.get("/status/unknown")
    assert response.status_code == 404
    assert response.json["error"] == "NOT_FOUND"
