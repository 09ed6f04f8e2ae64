"""The home page (issue 16): a visitor sees what Credfolio is for, the way to verify a
credential and the issuer's identity; a signed-in person is sent to their role's home, once the
app has one; the header shows each role's main places, the current one marked, and "Signed in
as" once; flash messages are alerts of their category."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, flash, redirect
from lxml import html
from werkzeug.routing import Rule

from tests.portfolio.accounts.test_auth import make_user, sign_in


@pytest.fixture(autouse=True)
def _csrf_off(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


def _add_view(app: Flask, endpoint: str, path: str) -> None:
    """A stand-in page at ``path`` named ``endpoint`` (the role homes other pages provide)."""
    app.url_map.add(Rule(path, endpoint=endpoint, methods=["GET"]))
    app.view_functions[endpoint] = lambda: f"the page {endpoint}"


def test_a_visitor_sees_the_landing_with_verify_and_the_issuer_keys_folded(client: Any) -> None:
    page = html.fromstring(client.get("/").get_data(as_text=True))
    verify = page.xpath("//main//a[@class='button' and @href='/verify']")
    assert verify and verify[0].text_content().strip() == "Verify a credential"
    assert page.xpath("//main//a[@href='/sign-in']")
    cards = page.xpath("//ul[contains(@class, 'cards')]//h3[@class='card-title']")
    assert [c.text_content() for c in cards] == ["Students", "Assessors", "Employers", "Colleges"]
    (disclosure,) = page.xpath("//details[@class='disclosure']")
    assert disclosure.xpath("summary")[0].text_content() == "Signing keys"
    assert page.xpath("//a[@href='/.well-known/did.json']")


def test_the_keys_table_stacks_its_cells_with_their_labels(client: Any, issuer: Any) -> None:
    page = html.fromstring(client.get("/").get_data(as_text=True))
    (table,) = page.xpath("//table[@class='responsive']")
    labels = [td.get("data-label") for td in table.xpath(".//tbody/tr[1]/td")]
    assert labels == ["Public key (Multikey)", "Status", "Created"]


@pytest.mark.parametrize(("role", "path"), [("student", "/home"), ("admin", "/admin/")])
def test_a_signed_in_person_goes_to_their_role_home(
    app: Flask, client: Any, role: str, path: str
) -> None:
    make_user(app, f"{role}@school.example", role)
    sign_in(client, f"{role}@school.example")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith(path)


def test_an_assessor_goes_to_the_queue(app: Flask, client: Any) -> None:
    make_user(app, "ada@school.example", "assessor")
    sign_in(client, "ada@school.example")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/review")


def _nav(page: Any) -> list[str]:
    return [a.text_content().strip() for a in page.xpath("//nav[@aria-label='Main']//a")]


def test_the_header_shows_each_roles_places_and_signed_in_as_once(app: Flask) -> None:
    expected = {
        "student": [
            "Home",
            "Evidence",
            "Portfolios",
            "Submissions",
            "Progress",
            "My plan",
            "Credentials",
        ],
        "assessor": ["Queue", "Cohort"],
        "admin": [
            "Home",
            "Queue",
            "Cohort",
            "Catalogue",
            "Credentials",
            "People",
            "Audit log",
            "Trust and privacy",
        ],
    }
    for role, places in expected.items():
        client = app.test_client()
        make_user(app, f"{role}@school.example", role)
        sign_in(client, f"{role}@school.example")
        text = client.get("/", follow_redirects=True).get_data(as_text=True)
        page = html.fromstring(text)
        assert _nav(page) == places, role
        assert text.count("Signed in as") == 1, role
        account = page.xpath("//nav[@aria-label='Account']")[0]
        assert [a.text_content().strip() for a in account.xpath(".//a")] == [
            "Notifications",
            "Profile",
        ]
        assert account.xpath(".//form[@action='/sign-out']//button")


def test_the_current_place_is_marked(app: Flask, client: Any) -> None:
    make_user(app, "sam@school.example", "student")
    sign_in(client, "sam@school.example")
    page = html.fromstring(client.get("/evidence").get_data(as_text=True))
    current = page.xpath("//header//a[@aria-current='page']")
    assert [a.text_content().strip() for a in current] == ["Evidence"]


def test_a_visitors_header_offers_verify_and_sign_in(client: Any) -> None:
    page = html.fromstring(client.get("/sign-in").get_data(as_text=True))
    assert _nav(page) == ["Verify a credential", "Sign in"]
    assert page.xpath("//nav[@aria-label='Main']//a[@aria-current='page']/@href") == ["/sign-in"]
    assert "Signed in as" not in html.tostring(page, encoding="unicode")


def test_flash_messages_are_alerts_of_their_category(app: Flask) -> None:
    def flashes() -> Any:
        flash("Saved.", "success")
        flash("Heads up.")
        flash("Broken.", "error")
        return redirect("/sign-in")

    _add_view(app, "test.flashes", "/test-flashes")
    app.view_functions["test.flashes"] = flashes
    page = html.fromstring(app.test_client().get("/test-flashes", follow_redirects=True).text)
    alerts = [
        (a.get("class"), a.get("role"), a.text_content().strip())
        for a in page.xpath("//div[@class='flashes']/div")
    ]
    assert alerts == [
        ("alert alert-success", "status", "Saved."),
        ("alert alert-info", "status", "Heads up."),
        ("alert alert-error", "alert", "Broken."),
    ]


def test_the_footer_links_to_verify_and_the_did_document(client: Any) -> None:
    page = html.fromstring(client.get("/sign-in").get_data(as_text=True))
    links = page.xpath("//footer//a/@href")
    assert "/verify" in links and "/.well-known/did.json" in links
