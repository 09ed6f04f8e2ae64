"""The /verify page names a broken VC Data Model 2.0 rule: the "Credential rules" check fails,
in words, at desktop and phone widths."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from issuer_keys.multikey import decode_secret_key, encode_public_key
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import ASSETS, load_json

if TYPE_CHECKING:
    from playwright.sync_api import Page


def _signed_evidence_without_type() -> str:
    demo = load_json("ob3/signed-examples/DEMO-KEY.json")
    key = decode_secret_key(demo["secretKeyMultibase"])
    public = encode_public_key(key.public_key())
    document = json.loads((ASSETS / "vc-rules" / "evidence-without-type.json").read_text())
    suite = Eddsa2022Suite(loader=DocumentLoader.bundled())
    signed = suite.create_proof(document, key=key, verification_method=f"did:key:{public}#{public}")
    return json.dumps(signed)


def test_a_credential_breaking_a_vc_rule_shows_the_failed_check(
    page: Page, live_server: str
) -> None:
    from playwright.sync_api import expect

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server}/verify")
        page.get_by_label("Paste a credential (JSON)").fill(_signed_evidence_without_type())
        page.get_by_role("button", name="Verify").click()
        expect(page.locator("#verdict")).not_to_contain_text("Genuine, unchanged since")
        expect(page.locator("#verdict")).to_be_in_viewport()
        page.get_by_text("How this was checked").click()
        panel = page.get_by_role("region", name="Each check")
        rule = panel.locator(".checks li", has_text="Credential rules")
        expect(rule).to_contain_text("Failed")
        expect(rule).to_contain_text("evidence has no type")
        # Nothing wider than the screen (390 px phones included).
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow
        page.screenshot(path=str(SCREENSHOTS / f"vc-rules-verify-{width}.png"), full_page=True)
