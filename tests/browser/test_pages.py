"""What a person sees in a browser: the home page, a credential's public page and its downloads,
revocation, and the /verify form (paste and upload)."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from portfolio.accounts.issuers import default_issuer
from tests.conftest import unsigned_badge

pytestmark = pytest.mark.browser

RECIPIENT = "Ada Lovelace"
ISSUER_NAME = "Credfolio Demo School"  # the default CREDFOLIO_ISSUER_NAME


def issue_badge(app: Flask, **changes: Any) -> str:
    """Issue the basic OB 3.0 example through the service; return its public id."""
    from portfolio.issuing import service as services

    with app.app_context():
        row = services.issue(
            unsigned_badge(**changes), issuer=default_issuer(), recipient_name=RECIPIENT
        )
        return row.public_id


def fact(page: Page, term: str) -> Locator:
    """The ``<dd>`` that follows the ``<dt>`` named ``term`` in a facts list."""
    return page.locator(f"dt:text-is('{term}') + dd")


def headings(page: Page) -> list[tuple[int, str]]:
    return [
        (int(tag[1]), text)
        for tag, text in page.eval_on_selector_all(
            "h1, h2, h3, h4, h5, h6",
            "els => els.map(e => [e.tagName.toLowerCase(), e.textContent.trim()])",
        )
    ]


def assert_heading_outline(page: Page) -> None:
    """One ``h1``, first; no level skipped on the way down (WCAG 1.3.1, 2.4.6)."""
    levels = [level for level, _ in headings(page)]
    assert levels[0] == 1 and levels.count(1) == 1, headings(page)
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, headings(page)


def assert_images_have_alt_text(page: Page) -> None:
    images = page.locator("img")
    assert images.count() > 0
    for index in range(images.count()):
        alt = images.nth(index).get_attribute("alt")
        assert alt is not None and alt.strip(), images.nth(index).evaluate("e => e.outerHTML")


def tab_to(page: Page, link: Locator, *, limit: int = 60) -> None:
    """Press Tab until ``link`` has the keyboard focus (fails after ``limit`` presses)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if link.evaluate("e => e === document.activeElement"):
            return
    pytest.fail(f"Tab never reached {link}")


def assert_focus_is_visible(link: Locator) -> None:
    style = link.evaluate(
        "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert style[0] != "none" and style[1] != "0px", style


# -- home page -------------------------------------------------------------------------------


def test_home_page_shows_the_issuer_and_its_keys(
    page: Page, live_app: Flask, live_server: str, live_issuer: str
) -> None:
    page.goto(live_server + "/")
    expect(page).to_have_title(re.compile(ISSUER_NAME))
    expect(page.locator("main .kicker")).to_have_text(ISSUER_NAME)
    expect(page.get_by_role("link", name="Verify a credential").first).to_be_visible()
    expect(fact(page, "Decentralized identifier")).to_have_text(live_issuer)
    assert live_issuer.startswith("did:web:127.0.0.1%3A")

    # The keys are folded away in a disclosure: open it as a person would.
    page.get_by_text("Signing keys", exact=True).click()
    table = page.get_by_role("table")
    expect(table.locator("caption")).to_contain_text("rotated-out keys still verify")
    expect(table.get_by_role("columnheader")).to_have_text(
        ["Public key (Multikey)", "Status", "Created"]
    )
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(1)
    with live_app.app_context():
        (key,) = live_app.extensions["credfolio"].key_store.list(live_issuer)
    expect(rows.first.locator("td")).to_have_text(
        [key.public_key_multibase, "active", re.compile(r"\d")]
    )
    assert_heading_outline(page)


def test_home_page_without_a_key_says_how_to_make_one(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    page.get_by_text("Signing keys", exact=True).click()
    expect(page.get_by_text("No signing key yet")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)


def test_the_did_document_link_serves_the_issuer_keys(
    page: Page, live_app: Flask, live_server: str, live_issuer: str
) -> None:
    page.goto(live_server + "/")
    link = page.get_by_role("link", name="/.well-known/did.json")
    with page.expect_navigation() as navigation:
        link.click()
    response = navigation.value
    assert response is not None and response.ok
    assert page.url == live_server + "/.well-known/did.json"
    assert response.header_value("content-type") == "application/did+json"
    document = response.json()
    assert document["id"] == live_issuer
    with live_app.app_context():
        (key,) = live_app.extensions["credfolio"].key_store.list(live_issuer)
    assert [m["publicKeyMultibase"] for m in document["verificationMethod"]] == [
        key.public_key_multibase
    ]
    assert document["assertionMethod"] == [document["verificationMethod"][0]["id"]]


def test_the_skip_link_is_the_first_tab_stop_and_visible(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).not_to_be_in_viewport()  # hidden until focused
    tab_to(page, skip, limit=1)
    expect(skip).to_be_in_viewport()
    assert_focus_is_visible(skip)


# -- a credential's public page --------------------------------------------------------------


def test_a_credential_page_shows_the_credential_and_that_it_verifies(
    page: Page, live_app: Flask, live_server: str, live_issuer: str
) -> None:
    public_id = issue_badge(live_app)
    page.goto(f"{live_server}/c/{public_id}")

    expect(page).to_have_title(f"Teamwork — {ISSUER_NAME} — Credfolio")
    expect(page.get_by_role("heading", level=1)).to_have_text("Teamwork")
    expect(fact(page, "Awarded to")).to_have_text(RECIPIENT)
    expect(fact(page, "Issuer")).to_contain_text(ISSUER_NAME)
    expect(fact(page, "Issuer")).to_contain_text(live_issuer)
    expect(page.get_by_text("This badge recognizes the development")).to_be_visible()
    expect(page.locator(".notice")).to_have_count(0)  # no revoked/expired/... banner

    # The verdict first, in words and colour, above the fold on a phone too (issue 16).
    verdict = page.locator("#verdict")
    expect(verdict).to_have_class(re.compile(r"\bverdict-ok\b"))
    expect(verdict.locator(".verdict-title")).to_have_text(re.compile(r"Verified$"))
    expect(verdict).to_contain_text("Genuine, unchanged since it was signed")
    expect(verdict).to_be_in_viewport()
    # "How this was checked" is folded; opened, it lists each check.
    page.get_by_text("How this was checked").click()
    panel = page.get_by_role("region", name="Verification")
    signature = panel.locator("li", has=page.locator("strong", has_text=re.compile("^Signature$")))
    expect(signature.locator(".check-status")).to_have_text(re.compile("Passed"))
    # Every check is said in words, not only in colour or a symbol.
    labels = panel.locator(".check-status").all_inner_texts()
    assert len(labels) >= 8
    assert all(re.search(r"Passed|Not applicable", label) for label in labels), labels

    assert [text for level, text in headings(page) if level == 2] == [
        "Description",
        "Criteria",
        "Verification",
        "Download and share",
    ]
    assert_heading_outline(page)
    assert_images_have_alt_text(page)
    expect(page.get_by_role("img", name="Badge: Teamwork")).to_be_visible()
    # The badge image really loaded (not a broken-image icon with alt text).
    assert page.get_by_role("img").first.evaluate("img => img.complete && img.naturalWidth > 0")


def test_the_download_links_work(
    page: Page, live_app: Flask, live_server: str, live_issuer: str
) -> None:
    public_id = issue_badge(live_app)
    page.goto(f"{live_server}/c/{public_id}")
    downloads = page.get_by_role("list").filter(has_text="Credential (JSON)")

    def fetch(name: str) -> Any:
        href = downloads.get_by_role("link", name=name).get_attribute("href")
        assert href is not None
        response = page.request.get(live_server + href if href.startswith("/") else href)
        assert response.ok, (name, response.status)
        return response

    document = fetch("Credential (JSON)")
    assert document.headers["content-type"].startswith("application/ld+json")
    credential = document.json()
    assert credential["id"] == f"{live_server}/c/{public_id}"
    assert credential["issuer"]["id"] == live_issuer
    png = fetch("Badge with the credential inside (PNG)")
    assert png.headers["content-type"] == "image/png"
    assert png.body().startswith(b"\x89PNG\r\n\x1a\n") and b"openbadgecredential" in png.body()
    svg = fetch("Badge with the credential inside (SVG)")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.body() and b"openbadges:credential" in svg.body()
    pdf = fetch("Certificate (PDF)")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")


def test_tab_reaches_the_download_links_with_a_visible_focus(
    page: Page, live_app: Flask, live_server: str, live_issuer: str
) -> None:
    public_id = issue_badge(live_app)
    page.goto(f"{live_server}/c/{public_id}")
    for name in ("Certificate (PDF)", "Badge with the credential inside (PNG)"):
        link = page.get_by_role("link", name=name)
        tab_to(page, link)
        expect(link).to_be_focused()
        assert_focus_is_visible(link)


def test_a_revoked_credential_says_so_first(
    page: Page, live_app: Flask, live_server: str, live_issuer: str
) -> None:
    from portfolio.issuing import service as services

    public_id = issue_badge(live_app)
    with live_app.app_context():
        row = services.find_credential(public_id)
        assert row is not None
        services.set_status(row, "revoke", reason="Issued to the wrong student")
    page.goto(f"{live_server}/c/{public_id}")

    banner = page.locator("#verdict")
    expect(banner).to_have_class(re.compile(r"\bverdict-bad\b"))
    expect(banner.locator(".verdict-title")).to_have_text(re.compile("Revoked$"))
    expect(banner).to_contain_text(
        re.compile(r"Revoked by the issuer on .+: Issued to the wrong student\.")
    )
    # The banner comes first, before the title and anything the credential claims.
    first = page.evaluate(
        "() => [...document.querySelectorAll('#verdict, h1')].map(e => e.id || e.tagName)"
    )
    assert first[:2] == ["verdict", "H1"]
    expect(banner).to_be_in_viewport()
    # Nothing to share on a revoked credential.
    expect(page.get_by_role("link", name="Add to LinkedIn profile")).to_have_count(0)
    page.get_by_text("How this was checked").click()
    panel = page.get_by_role("region", name="Verification")
    revocation = panel.locator("li", has_text="Technical detail (revocation)")
    expect(revocation.locator(".check-status")).to_have_text(re.compile("Failed"))


# -- /verify ---------------------------------------------------------------------------------


def test_pasting_a_credential_on_the_verify_page_shows_each_check(
    page: Page, live_app: Flask, live_server: str, live_issuer: str
) -> None:
    public_id = issue_badge(live_app)
    credential = page.request.get(f"{live_server}/c/{public_id}/credential.json").text()
    page.goto(f"{live_server}/verify")
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify a credential")
    page.get_by_label("Paste a credential (JSON)").fill(credential)
    page.get_by_role("button", name="Verify").click()

    verdict = page.get_by_role("region", name=re.compile("Verified"))
    expect(verdict.get_by_role("heading", level=2)).to_have_text(re.compile("Verified$"))
    expect(verdict).to_be_in_viewport()
    expect(fact(page, "Achievement")).to_have_text("Teamwork")
    expect(fact(page, "Awarded to")).to_contain_text("did:example:ebfeb1f712ebc6f1c276e12ec21")
    page.get_by_text("How this was checked").click()
    panel = page.get_by_role("region", name="Each check")
    titles = panel.locator(".checks li > strong").all_inner_texts()
    assert {"Signature", "Issuer", "Open Badges format"} <= set(titles), titles
    assert_heading_outline(page)


def test_a_changed_credential_is_not_verified(
    page: Page, live_app: Flask, live_server: str, live_issuer: str
) -> None:
    public_id = issue_badge(live_app)
    credential = page.request.get(f"{live_server}/c/{public_id}/credential.json").json()
    credential["credentialSubject"]["achievement"]["name"] = "Leadership"
    page.goto(f"{live_server}/verify")
    page.get_by_label("Paste a credential (JSON)").fill(json.dumps(credential))
    page.get_by_role("button", name="Verify").click()

    verdict = page.get_by_role("region", name=re.compile("Altered"))
    expect(verdict.get_by_role("heading", level=2)).to_have_text(re.compile("Altered$"))
    expect(verdict).to_contain_text("Altered after signing: the signature does not match.")
    expect(verdict).to_be_in_viewport()
    # The claims come after the verdict, marked as unverified.
    claims = page.get_by_role("region", name="What the credential claims")
    expect(claims).to_contain_text("Unverified claims")
    expect(fact(page, "Achievement")).to_have_text("Leadership")
    page.get_by_text("How this was checked").click()
    panel = page.get_by_role("region", name="Each check")
    signature = panel.locator("li", has=page.locator("strong", has_text=re.compile("^Signature$")))
    expect(signature.locator(".check-status")).to_have_text(re.compile("Failed"))


def test_uploading_the_baked_badge_verifies_it(
    page: Page, live_app: Flask, live_server: str, live_issuer: str
) -> None:
    public_id = issue_badge(live_app)
    badge = page.request.get(f"{live_server}/c/{public_id}/badge.png")
    assert badge.ok
    page.goto(f"{live_server}/verify")
    page.get_by_label(re.compile("Or choose a file")).set_input_files(
        {"name": "badge.png", "mimeType": "image/png", "buffer": badge.body()}
    )
    page.get_by_role("button", name="Verify").click()

    verdict = page.get_by_role("region", name=re.compile("Verified"))
    expect(verdict.get_by_role("heading", level=2)).to_have_text(re.compile("Verified$"))
    expect(fact(page, "Achievement")).to_have_text("Teamwork")
    expect(fact(page, "Issuer")).to_contain_text(live_issuer)
