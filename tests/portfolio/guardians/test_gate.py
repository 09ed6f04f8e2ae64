"""The consent gate (issue 17 §3): every public view of a minor's credential and portfolios is
served only while a consent of hers stands — a withdrawal hides them from the next request on,
a new consent shows them again — while verification and her own views keep working."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.portfolio.guardians.world import Family

#: Every public address of Mia's credential and portfolios (values from the family's ids).
PUBLIC_VIEWS: dict[str, Callable[[dict[str, Any]], str]] = {
    "credential page": lambda ids: f"/c/{ids['credential']}",
    "credential.json": lambda ids: f"/c/{ids['credential']}/credential.json",
    "badge.png": lambda ids: f"/c/{ids['credential']}/badge.png",
    "badge.svg": lambda ids: f"/c/{ids['credential']}/badge.svg",
    "certificate.pdf": lambda ids: f"/c/{ids['credential']}/certificate.pdf",
    "evidence page": lambda ids: f"/c/{ids['credential']}/evidence/{ids['frozen']}",
    "evidence file": lambda ids: (
        f"/c/{ids['credential']}/evidence/{ids['frozen']}/artefacts/{ids['frozen_file']}"
    ),
    "public portfolio": lambda ids: f"/portfolios/{ids['public']}",
    "public portfolio's file": lambda ids: (
        f"/portfolios/{ids['public']}/artefacts/{ids['public_file']}"
    ),
    "portfolio shared by link": lambda ids: f"/p/{ids['slug']}",
    "shared portfolio's file": lambda ids: f"/p/{ids['slug']}/artefacts/{ids['public_file']}",
}


@pytest.fixture
def consenting(family: Family) -> Iterator[Family]:
    """The family with Gwen's consent standing before and after the test."""
    family.give()
    yield family
    family.give()


@pytest.mark.parametrize("view", PUBLIC_VIEWS, ids=list(PUBLIC_VIEWS))
def test_withdrawal_hides_a_public_view_at_once_and_consent_shows_it_again(
    consenting: Family, view: str
) -> None:
    url = PUBLIC_VIEWS[view](consenting.ids)
    anyone = consenting.client()
    assert anyone.get(url).status_code == 200

    consenting.withdraw()
    hidden = anyone.get(url)
    assert hidden.status_code == 404
    if url.startswith("/c/"):
        assert hidden.headers["Cache-Control"] == "no-store"
        assert "page is not public" in hidden.get_data(as_text=True)

    consenting.give()
    assert anyone.get(url).status_code == 200


@pytest.mark.parametrize("who", ["other_student", "unlinked_guardian"])
def test_nobody_but_her_sees_the_credential_page_without_consent(
    consenting: Family, who: str
) -> None:
    consenting.withdraw()
    assert consenting.client(who).get(f"/c/{consenting.ids['credential']}").status_code == 404


@pytest.mark.parametrize("who", ["student", "assessor", "admin", "guardian"])
def test_her_school_and_her_guardians_still_see_it_and_are_told_it_is_not_public(
    consenting: Family, who: str
) -> None:
    consenting.withdraw()
    page = consenting.client(who).get(f"/c/{consenting.ids['credential']}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "This page is not public" in text
    assert "linkedin.com" not in text


def test_she_still_sees_her_own_credential_and_portfolio_and_is_told_why(
    consenting: Family,
) -> None:
    consenting.withdraw()
    mia = consenting.client("student")
    assert mia.get(f"/c/{consenting.ids['credential']}").status_code == 200
    page = mia.get(f"/portfolios/{consenting.ids['public']}")
    assert page.status_code == 200
    assert "consent is needed before it is shown" in page.get_data(as_text=True)
    manage = mia.get(f"/portfolios/{consenting.ids['public']}/edit").get_data(as_text=True)
    assert "Nobody else can see this portfolio for now" in manage


def test_status_lists_and_verification_stay_public_without_consent(consenting: Family) -> None:
    consenting.withdraw()
    anyone = consenting.client()
    assert anyone.get(f"/status/{consenting.ids['status_list']}").status_code == 200
    verdict = anyone.post("/verify", data={"credential": consenting.ids["document"]})
    assert verdict.status_code == 200
    assert "verified" in verdict.get_data(as_text=True).lower()


def test_a_minor_without_consent_cannot_make_a_portfolio_public_or_shared(
    consenting: Family,
) -> None:
    consenting.withdraw()
    mia = consenting.client("student")
    for visibility in ("public", "link"):
        refused = mia.post(
            f"/portfolios/{consenting.ids['linked']}/visibility", data={"visibility": visibility}
        )
        assert refused.status_code == 403
        assert "consent is needed before this portfolio" in refused.get_data(as_text=True)
    # Making it private is always allowed.
    done = mia.post(
        f"/portfolios/{consenting.ids['linked']}/visibility", data={"visibility": "private"}
    )
    assert done.status_code == 303
    consenting.give()
    back = mia.post(
        f"/portfolios/{consenting.ids['linked']}/visibility", data={"visibility": "link"}
    )
    assert back.status_code == 303
    with consenting.app.app_context():
        from sqlalchemy import select

        from portfolio.core.db import db
        from portfolio.portfolios.models import Portfolio

        row = db.session.scalar(
            select(Portfolio).where(Portfolio.public_id == consenting.ids["linked"])
        )
        assert row is not None
        consenting.ids["slug"] = row.share_slug


def test_the_share_panel_offers_no_linkedin_or_embed_without_consent(consenting: Family) -> None:
    mia = consenting.client("student")
    with_consent = mia.get("/my/credentials").get_data(as_text=True)
    assert "Add to LinkedIn" in with_consent
    consenting.withdraw()
    without = mia.get("/my/credentials").get_data(as_text=True)
    assert "Add to LinkedIn" not in without
    assert "Embed on your website" not in without
    assert "consent is needed before this credential" in without


def test_showing_a_credential_on_her_portfolios_again_needs_consent(consenting: Family) -> None:
    mia = consenting.client("student")
    url = f"/my/credentials/{consenting.ids['credential']}/visibility"
    assert mia.post(url, data={"hidden": "1"}).status_code == 303
    consenting.withdraw()
    refused = mia.post(url, data={"hidden": "0"}, follow_redirects=True)
    assert "consent is needed before your credentials can be shown" in refused.get_data(
        as_text=True
    )
    consenting.give()
    assert mia.post(url, data={"hidden": "0"}).status_code == 303
