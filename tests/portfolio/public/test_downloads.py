"""Downloads from a credential's page: the stored JSON byte for byte, and generated badges with
the credential baked in that verify again with ``credfolio verify``."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as ElementTree
import pytest
from PIL import Image

from credentials import baking
from tests.conftest import unsigned_badge

SVG = "{http://www.w3.org/2000/svg}"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def row(app: Any, issuer: Any) -> Any:
    from portfolio.issuing import service as services

    badge = unsigned_badge()
    badge["credentialSubject"]["achievement"]["name"] = "Songs & Stories — «Été»"
    return services.issue(badge, issuer=issuer, recipient_name="Ada")


def test_credential_json_is_the_stored_document_byte_for_byte(client: Any, row: Any) -> None:
    response = client.get(f"/c/{row.public_id}/credential.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/ld+json"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="credential-{row.public_id}.json"'
    )
    assert response.data == row.document.encode("utf-8")


@pytest.mark.parametrize(("kind", "media_type"), [("png", "image/png"), ("svg", "image/svg+xml")])
def test_badges_carry_the_credential_and_verify_again(
    client: Any, runner: Any, row: Any, tmp_path: Path, kind: str, media_type: str
) -> None:
    response = client.get(f"/c/{row.public_id}/badge.{kind}")
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert response.headers["Content-Disposition"] == (
        f'inline; filename="badge-{row.public_id}.{kind}"'
    )
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert baking.sniff_image_type(response.data) == kind
    assert baking.unbake(response.data) == json.loads(row.document)

    path = tmp_path / f"badge.{kind}"
    path.write_bytes(response.data)
    result = runner.invoke(args=["verify", str(path)])
    assert result.exit_code == 0, result.output
    assert "VERIFIED" in result.output


def test_png_badge_is_a_400_pixel_image(client: Any, row: Any) -> None:
    image = Image.open(io.BytesIO(client.get(f"/c/{row.public_id}/badge.png").data))
    assert (image.format, image.size) == ("PNG", (400, 400))


def test_svg_badge_shows_the_name_and_issuer_as_text(client: Any, row: Any) -> None:
    root = ElementTree.fromstring(client.get(f"/c/{row.public_id}/badge.svg").data)
    lines = [tspan.text for tspan in root.iter(f"{SVG}tspan")]
    assert " ".join(lines) == "Songs & Stories — «Été»"
    assert root.findall(f"{SVG}text")[1].text == "Credfolio Demo School"


def test_a_revoked_credential_baked_into_a_badge_no_longer_verifies(
    client: Any, runner: Any, row: Any, tmp_path: Path
) -> None:
    from portfolio.issuing import service as services

    services.set_status(row, "revoke", reason="issued in error")
    path = tmp_path / "badge.png"
    path.write_bytes(client.get(f"/c/{row.public_id}/badge.png").data)
    result = runner.invoke(args=["verify", str(path)])
    assert result.exit_code == 1, result.output
    assert "NOT VERIFIED" in result.output


def test_markup_in_the_credential_stays_text_in_the_svg(
    app: Any, issuer: Any, client: Any, runner: Any, tmp_path: Path
) -> None:
    from portfolio.issuing import service as services

    badge = unsigned_badge()
    badge["credentialSubject"]["achievement"]["name"] = SCRIPT + '" onload="alert(2)'
    badge["evidence"] = [{"id": "javascript:alert(3)", "type": ["Evidence"], "name": SCRIPT}]
    hostile = services.issue(badge, issuer=issuer)
    data = client.get(f"/c/{hostile.public_id}/badge.svg").data
    root = ElementTree.fromstring(data)
    assert root.find(f".//{SVG}script") is None
    assert all(not name.startswith("on") for e in root.iter() for name in e.attrib)
    assert b"<script>" not in data.split(b"<![CDATA[")[0]  # only inside the baked JSON text
    assert SCRIPT in "".join(root.find(f"{SVG}text").itertext()).replace(" ", "")
    path = tmp_path / "hostile.svg"
    path.write_bytes(data)
    assert runner.invoke(args=["verify", str(path)]).exit_code == 0
