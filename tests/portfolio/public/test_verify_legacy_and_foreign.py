"""The public pages name the data model and legacy proofs, accept badges carrying the standard
SVG DOCTYPE line, and say what a file holds when it is something we do not verify."""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from typing import Any

import pytest

from credentials import baking
from portfolio.issuing import badges
from tests.conftest import unsigned_badge


@pytest.fixture
def no_csrf(app: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


def upload(client: Any, data: bytes, name: str) -> Any:
    return client.post(
        "/verify",
        data={"upload": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_a_vc_1_1_credential_with_an_eddsa_2022_proof_is_labelled_on_verify(
    app: Any, client: Any, no_csrf: None, assets: Path
) -> None:
    document = (assets / "legacy" / "vc11-ob302-eddsa-2022.json").read_text()
    response = client.post("/verify", data={"credential": document})
    assert response.status_code == 200, response.text
    # Genuine; its issuer is not one this service confirms (issuer-trust).
    assert "Genuine signature, issuer not confirmed" in response.text
    assert "Standard: <strong>VC 1.1</strong>" in response.text
    assert "earlier version 1.1 of the W3C Verifiable Credentials standard" in response.text
    assert "Signature: <strong>eddsa-2022 (legacy cryptosuite name" in response.text


def test_a_vc_1_1_credential_with_an_ed25519_signature_2020_proof_is_labelled(
    app: Any, client: Any, no_csrf: None, assets: Path
) -> None:
    response = upload(
        client, (assets / "legacy" / "vc11-ob301-ed25519-2020.json").read_bytes(), "badge.json"
    )
    assert response.status_code == 200, response.text
    assert "Standard: <strong>VC 1.1</strong>" in response.text
    assert "Signature: <strong>Ed25519Signature2020 (legacy proof type)</strong>" in response.text


def test_our_own_credentials_page_says_vc_2_0_and_names_no_legacy_proof(
    app: Any, issuer: Any, client: Any
) -> None:
    from portfolio.issuing import service as services

    row = services.issue(unsigned_badge(), issuer=issuer)
    text = client.get(f"/c/{row.public_id}").text
    assert "Standard: <strong>VC 2.0</strong>" in text
    assert "Signature: <strong>" not in text


def test_a_badge_with_the_standard_svg_1_1_doctype_verifies(
    app: Any, issuer: Any, client: Any, no_csrf: None
) -> None:
    from portfolio.issuing import service as services

    row = services.issue(unsigned_badge(), issuer=issuer)
    image = badges.badge_svg("T", "I").replace(
        b"<svg",
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg',
        1,
    )
    response = upload(client, baking.bake_svg(image, json.loads(row.document)), "badge.svg")
    assert response.status_code == 200, response.text
    assert "Genuine, unchanged since it was signed" in response.text


def test_a_doctype_with_an_attribute_default_is_refused_by_name(
    app: Any, client: Any, no_csrf: None, assets: Path
) -> None:
    data = (assets / "hostile" / "svg-doctype-attlist-default-verify.svg").read_bytes()
    response = upload(client, data, "badge.svg")
    assert response.status_code == 400
    assert "refusing hostile SVG: it has a DTD with an internal subset" in response.text


@pytest.mark.parametrize(
    ("fixture", "what"),
    [
        ("vc-jwt-credential.jwt", "a JWT-secured credential (VC-JWT)"),
        ("sd-jwt-credential.txt", "an SD-JWT credential (selective disclosure)"),
        ("not-a-credential.pdf", "a PDF document"),
    ],
)
def test_a_file_we_cannot_verify_says_what_it_holds(
    app: Any, client: Any, no_csrf: None, assets: Path, fixture: str, what: str
) -> None:
    response = upload(client, (assets / "foreign" / fixture).read_bytes(), fixture)
    assert response.status_code == 400
    assert html.escape(what) in response.text
    assert "not valid JSON" not in response.text


def test_a_pasted_vc_jwt_says_what_it_is(
    app: Any, client: Any, no_csrf: None, assets: Path
) -> None:
    token = (assets / "foreign" / "vc-jwt-credential.jwt").read_text()
    response = client.post("/verify", data={"credential": token})
    assert response.status_code == 400
    assert "a JWT-secured credential (VC-JWT)" in response.text


def test_an_sd_jwt_baked_in_a_png_is_named(
    app: Any, client: Any, no_csrf: None, assets: Path
) -> None:
    token = (assets / "foreign" / "sd-jwt-credential.txt").read_text().strip()
    jws = token.split("~", 1)[0]  # a PNG carries a Compact JWS; the typ header says SD-JWT
    response = upload(client, baking.bake_png(badges.badge_png("T", "I"), jws), "badge.png")
    assert response.status_code == 400
    assert "the badge holds an SD-JWT credential" in response.text


def test_the_verify_api_names_what_a_vc_jwt_is(app: Any, client: Any, assets: Path) -> None:
    token = (assets / "foreign" / "vc-jwt-credential.jwt").read_text()
    response = client.post("/credentials/verify", json={"verifiableCredential": token})
    assert response.status_code == 400
    assert response.json["error"] == "UNSUPPORTED_FORMAT"
    assert "a JWT-secured credential (VC-JWT)" in response.json["detail"]
