"""Issue 17 §3 in a browser: Grace, Maya's guardian, reads what publishing means and withdraws
her consent — Maya's credential page is gone for everyone else at once; she gives it again —
the page is back.  The school's guardians page, and the consent page once in Spanish.  Every
step passes axe, fits 320 px and is photographed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import Demo, Inspector

pytestmark = pytest.mark.browser


def _student_id(demo: Demo, key: str) -> int:
    from portfolio.accounts.models import User
    from portfolio.core.db import db

    with demo.app.app_context():
        found = db.session.scalar(select(User.id).where(User.email == demo.people[key].email))
        assert found is not None
        return int(found)


def test_consent_withdrawn_and_given_again(demo: Demo, inspect: Inspector) -> None:
    maya = _student_id(demo, "maya")
    credential_url = f"{demo.url}/c/{demo.credentials['maya-song']}"
    visitor = demo.signed_in(None)
    visitor.goto(credential_url)
    expect(visitor.locator("h1")).not_to_contain_text("not public")

    grace = demo.signed_in("grace")
    grace.goto(f"{demo.url}/family/students/{maya}/consent")
    expect(grace.get_by_role("heading", name="What publishing means")).to_be_visible()
    inspect(grace, "the guardian's consent page")

    grace.get_by_role("link", name="Withdraw consent").click()
    expect(grace.get_by_role("heading", level=1)).to_contain_text("Withdraw consent for")
    inspect(grace, "confirm the withdrawal")
    grace.get_by_role("button", name="Withdraw consent").click()
    expect(grace.locator(".flashes")).to_contain_text("Consent is withdrawn")

    response = visitor.goto(credential_url)
    assert response is not None and response.status == 404
    expect(visitor.get_by_role("heading", level=1)).to_have_text(
        "This credential's page is not public"
    )
    inspect(visitor, "the credential page, not public")

    grace.get_by_label("I have read what publishing means, and I give my consent.").check()
    grace.get_by_role("button", name="Give consent").click()
    expect(grace.locator(".flashes")).to_contain_text("Thank you")
    inspect(grace, "consent given again")
    response = visitor.goto(credential_url)
    assert response is not None and response.status == 200

    admin = demo.signed_in("admin")
    admin.goto(f"{demo.url}/admin/guardians")
    expect(admin.get_by_role("heading", name="Grace Okafor")).to_be_visible()
    expect(admin.get_by_text("Consent given by a guardian").first).to_be_visible()
    inspect(admin, "the school's guardians page")
    admin.get_by_role("link", name="Tomás", exact=False).first.click()
    expect(admin.get_by_role("heading", name="Consent to publish")).to_be_visible()
    inspect(admin, "a student's guardians and consent")

    # Grace's session in a browser that asks for Spanish.
    spanish = demo.new_page(locale="es-ES", extra_http_headers={"Accept-Language": "es"})
    spanish.context.add_cookies(grace.context.cookies())  # type: ignore[arg-type]
    spanish.goto(f"{demo.url}/family/students/{maya}/consent")
    expect(spanish.locator("html")).to_have_attribute("lang", "es")
    expect(spanish.get_by_role("heading", name="Qué significa publicar")).to_be_visible()
    inspect(spanish, "the consent page in Spanish")
