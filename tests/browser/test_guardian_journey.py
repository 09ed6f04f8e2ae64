"""Issue 17 §3's journey for families, in a browser: Grace, Maya's guardian, signs in and lands
on her family home, opens Maya, and reads her progress, the feedback she received, her
credentials and the portfolio Maya shares with her guardians — each step inspected (axe-core,
320/390 px, screenshots on desktop and phone), and the overview once more in Spanish."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Demo, Inspector

pytestmark = pytest.mark.browser


def test_grace_reads_what_maya_shares(demo: Demo, as_role, inspect: Inspector) -> None:
    page = as_role("grace")
    # Signing in lands on the family home, with a card for Maya.
    assert page.url.endswith("/family"), page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Grace Okafor")
    expect(page.get_by_role("link", name="Family")).to_have_attribute("aria-current", "page")
    card = page.locator(".family-card").filter(has_text="Maya")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("credential")
    inspect(page, "family home")

    card.get_by_role("heading", level=2).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(demo.people["maya"].name)
    # Maya is a minor; Grace gave consent, so the credentials link to their public pages.
    expect(page.locator(".family-consent")).to_contain_text("You gave consent on")
    credentials = page.locator("section").filter(
        has=page.get_by_role("heading", name="Credentials", exact=True)
    )
    expect(credentials.locator("a[href^='/c/']").first).to_be_visible()
    expect(credentials.locator(".pill").first).to_be_visible()
    inspect(page, "maya overview")

    page.get_by_role("navigation", name=f"Pages about {demo.people['maya'].name}").get_by_role(
        "link", name="Progress"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Progress of")
    # Read only: no form and no link to act on her work.
    expect(page.locator("main form")).to_have_count(0)
    expect(page.locator("main a[href*='/submissions']")).to_have_count(0)
    inspect(page, "maya progress")

    page.get_by_role("navigation", name=f"Pages about {demo.people['maya'].name}").get_by_role(
        "link", name="Feedback"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Feedback for")
    expect(page.locator(".feedback-round").first).to_be_visible()
    inspect(page, "maya feedback")

    page.get_by_role("navigation", name=f"Pages about {demo.people['maya'].name}").get_by_role(
        "link", name="Overview"
    ).click()
    page.get_by_role("link", name="For my family").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("For my family")
    expect(page.locator(".portfolio-view .card.evidence").first).to_be_visible()
    # Its files come through the family route, which checks the same sharing.
    artefacts = page.locator("main [src*='/family/students/'], main a[href*='/artefacts/']")
    expect(artefacts.first).to_be_attached()
    inspect(page, "maya shared portfolio")

    # Spanish, once: the overview.
    page.set_extra_http_headers({"Accept-Language": "es"})
    page.go_back()
    page.reload()
    expect(page.get_by_role("heading", level=2, name="Credenciales")).to_be_visible()
    inspect(page, "maya overview es")


def test_rui_sees_that_nothing_of_tomas_is_public(demo: Demo, as_role) -> None:
    page = as_role("rui")
    page.get_by_role("link", name=demo.people["tomas"].name).first.click()
    expect(page.locator(".family-consent")).to_contain_text("no consent is recorded")
    expect(page.locator("main a[href^='/c/']")).to_have_count(0)


def test_maya_sees_her_guardians_and_what_she_shares_with_them(
    demo: Demo, as_role, inspect: Inspector
) -> None:
    page = as_role("maya")
    guardians = page.locator("section").filter(
        has=page.get_by_role("heading", name="Your guardians")
    )
    expect(guardians).to_contain_text("Grace Okafor")
    page.get_by_role("link", name="For my family").click()
    box = page.get_by_label("Share with my guardians")
    expect(box).to_be_checked()
    # She stops sharing, and Grace no longer finds the portfolio; then she shares it again.
    box.uncheck()
    page.get_by_role("button", name="Save sharing with guardians").click()
    expect(page.locator(".flashes")).to_contain_text("no longer see this portfolio")
    inspect(page, "maya's sharing with guardians")
    grace = as_role("grace")
    grace.get_by_role("link", name=demo.people["maya"].name).first.click()
    expect(grace.get_by_role("link", name="For my family")).to_have_count(0)
    page.get_by_label("Share with my guardians").check()
    page.get_by_role("button", name="Save sharing with guardians").click()
    expect(page.locator(".flashes")).to_contain_text("can now read this portfolio")
