"""Portfolios: sections and items in order, visibility and share links (revoking one makes it
404), the public and link-shared pages with their artefacts and earned credentials."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.accounts.issuers import default_issuer
from portfolio.accounts.models import User
from portfolio.core.db import db
from portfolio.issuing.models import IssuedCredential
from portfolio.portfolios.models import Portfolio
from portfolio.portfolios.service import new_share_slug
from tests.portfolio.evidence.test_evidence_pages import (
    add_link,
    create_evidence,
    png_bytes,
    student_client,
    upload,
)


@pytest.fixture
def pages(app: Flask) -> Flask:
    """The app with CSRF checks off (CSRF itself is tested in test_auth)."""
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def create_portfolio(client: Any, title: str = "My portfolio", cover_text: str = "") -> str:
    """Create a portfolio through the form; its public id."""
    response = client.post("/portfolios", data={"title": title, "cover_text": cover_text})
    assert response.status_code == 303, response.get_data(as_text=True)
    return str(response.headers["Location"]).split("/")[-2]


def get_portfolio(app: Flask, public_id: str) -> Portfolio:
    """The portfolio with its sections, items and evidence loaded, detached."""
    with app.app_context():
        portfolio = db.session.scalar(select(Portfolio).where(Portfolio.public_id == public_id))
        assert portfolio is not None
        for section in portfolio.sections:
            for item in section.items:
                _ = item.evidence.title
        db.session.expunge_all()
        return portfolio


def add_section(client: Any, portfolio_id: str, title: str) -> None:
    response = client.post(f"/portfolios/{portfolio_id}/sections", data={"section_title": title})
    assert response.status_code == 303


def section_ids(app: Flask, portfolio_id: str) -> list[int]:
    return [s.id for s in get_portfolio(app, portfolio_id).sections]


def place(client: Any, portfolio_id: str, section_id: int, evidence_id: str) -> Any:
    return client.post(
        f"/portfolios/{portfolio_id}/sections/{section_id}/items", data={"evidence": evidence_id}
    )


def set_visibility(client: Any, portfolio_id: str, visibility: str) -> None:
    response = client.post(
        f"/portfolios/{portfolio_id}/visibility", data={"visibility": visibility}
    )
    assert response.status_code == 303


def shared_portfolio(app: Flask, visibility: str = "link") -> dict[str, Any]:
    """A student with a portfolio (one section, one piece of evidence with an image and a link)
    at ``visibility``, and a second, private piece of evidence outside it."""
    owner = student_client(app, "ada@school.example")
    evidence_id = create_evidence(owner, title="Drawing", narrative="I *drew* it")
    assert (
        upload(
            owner, evidence_id, png_bytes(), "drawing.png", title="Drawing", alt_text="Red"
        ).status_code
        == 303
    )
    assert add_link(owner, evidence_id, "https://example.org/more", "More").status_code == 303
    private_id = create_evidence(owner, title="Diary")
    assert (
        upload(
            owner, private_id, png_bytes((0, 0, 255)), "diary.png", title="Diary page"
        ).status_code
        == 303
    )
    portfolio_id = create_portfolio(owner, title="Art", cover_text="Hello **world**")
    add_section(owner, portfolio_id, "Drawings")
    (section_id,) = section_ids(app, portfolio_id)
    assert place(owner, portfolio_id, section_id, evidence_id).status_code == 303
    set_visibility(owner, portfolio_id, visibility)
    portfolio = get_portfolio(app, portfolio_id)
    from portfolio.evidence.models import Artefact, Evidence

    with app.app_context():
        shown = db.session.scalar(select(Evidence).where(Evidence.public_id == evidence_id))
        hidden = db.session.scalar(select(Evidence).where(Evidence.public_id == private_id))
        assert shown is not None and hidden is not None
        image = next(a.public_id for a in shown.artefacts if a.kind == "file")
        private_image = hidden.artefacts[0].public_id
        assert db.session.scalar(select(Artefact.id).where(Artefact.public_id == image))
    return {
        "owner": owner,
        "portfolio_id": portfolio_id,
        "slug": portfolio.share_slug,
        "evidence_id": evidence_id,
        "private_evidence_id": private_id,
        "image": image,
        "private_image": private_image,
        "section_id": section_id,
    }


def test_sections_are_added_renamed_reordered_and_deleted(pages: Flask) -> None:
    client = student_client(pages, "ada@school.example")
    portfolio_id = create_portfolio(client)
    for title in ("Songs", "Stories", "Links"):
        add_section(client, portfolio_id, title)
    songs, stories, links = section_ids(pages, portfolio_id)
    base = f"/portfolios/{portfolio_id}/sections"
    assert client.post(f"{base}/{links}/move", data={"direction": "up"}).status_code == 303
    assert [s.title for s in get_portfolio(pages, portfolio_id).sections] == [
        "Songs",
        "Links",
        "Stories",
    ]
    client.post(f"{base}/{songs}/move", data={"direction": "down"})
    assert [s.title for s in get_portfolio(pages, portfolio_id).sections] == [
        "Links",
        "Songs",
        "Stories",
    ]
    client.post(f"{base}/{stories}/rename", data={"title": "Writing"})
    client.post(f"{base}/{songs}/delete")
    assert [s.title for s in get_portfolio(pages, portfolio_id).sections] == ["Links", "Writing"]
    response = client.post(f"{base}/{stories}/rename", data={"title": ""})
    assert response.status_code == 422
    assert f'id="section-{stories}-error"' in response.get_data(as_text=True)


def test_evidence_is_placed_once_per_section_and_reordered(pages: Flask) -> None:
    client = student_client(pages, "ada@school.example")
    portfolio_id = create_portfolio(client)
    add_section(client, portfolio_id, "All")
    (section_id,) = section_ids(pages, portfolio_id)
    ids = [create_evidence(client, title=t) for t in ("A", "B", "C")]
    for evidence_id in ids:
        assert place(client, portfolio_id, section_id, evidence_id).status_code == 303
    assert place(client, portfolio_id, section_id, ids[0]).status_code == 422

    def order() -> list[str]:
        (section,) = get_portfolio(pages, portfolio_id).sections
        return [item.evidence.title for item in section.items]

    assert order() == ["A", "B", "C"]
    (section,) = get_portfolio(pages, portfolio_id).sections
    first, _, last = (item.id for item in section.items)
    client.post(f"/portfolios/{portfolio_id}/items/{first}/move", data={"direction": "down"})
    assert order() == ["B", "A", "C"]
    client.post(f"/portfolios/{portfolio_id}/items/{last}/move", data={"direction": "up"})
    assert order() == ["B", "C", "A"]
    client.post(f"/portfolios/{portfolio_id}/items/{first}/delete")
    assert order() == ["B", "C"]


def test_placement_refusals_are_a_not_found_and_a_conflict() -> None:
    from portfolio.core.errors import status_for
    from portfolio.portfolios.service import AlreadyPlacedError, EvidenceNotFoundError

    # The kinds a JSON API would answer; the manage page shows both next to the form (422).
    assert status_for(EvidenceNotFoundError("Choose a piece of your evidence.")) == 404
    assert status_for(AlreadyPlacedError("It is already in this section.")) == 409


def test_another_students_evidence_cannot_be_placed(pages: Flask) -> None:
    other = student_client(pages, "bob@school.example")
    bobs = create_evidence(other, title="Bob's secret")
    client = student_client(pages, "ada@school.example")
    portfolio_id = create_portfolio(client)
    add_section(client, portfolio_id, "All")
    (section_id,) = section_ids(pages, portfolio_id)
    response = place(client, portfolio_id, section_id, bobs)
    assert response.status_code == 422
    assert "Bob&#39;s secret" not in response.get_data(as_text=True)
    assert get_portfolio(pages, portfolio_id).sections[0].items == []


def test_link_sharing_makes_an_unguessable_slug_and_revoking_it_404s(pages: Flask) -> None:
    shared = shared_portfolio(pages, "link")
    slug, owner, portfolio_id = shared["slug"], shared["owner"], shared["portfolio_id"]
    assert slug and len(slug) >= 22
    anonymous = pages.test_client()
    page = anonymous.get(f"/p/{slug}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<meta name="robots" content="noindex">' in text
    assert "<h1>Art</h1>" in text and "Hello <strong>world</strong>" in text
    assert f'<img src="/p/{slug}/artefacts/{shared["image"]}" alt="Red"' in text
    assert "Diary" not in text
    assert anonymous.get(f"/portfolios/{portfolio_id}").status_code == 404

    owner.post(f"/portfolios/{portfolio_id}/revoke-link", data={"replace": "1"})
    new_slug = get_portfolio(pages, portfolio_id).share_slug
    assert new_slug and new_slug != slug
    assert anonymous.get(f"/p/{slug}").status_code == 404
    assert anonymous.get(f"/p/{slug}/artefacts/{shared['image']}").status_code == 404
    assert anonymous.get(f"/p/{new_slug}").status_code == 200

    owner.post(f"/portfolios/{portfolio_id}/revoke-link")
    assert get_portfolio(pages, portfolio_id).visibility == "private"
    assert anonymous.get(f"/p/{new_slug}").status_code == 404


def test_a_public_portfolio_is_open_to_anyone_without_noindex(pages: Flask) -> None:
    shared = shared_portfolio(pages, "public")
    anonymous = pages.test_client()
    response = anonymous.get(f"/portfolios/{shared['portfolio_id']}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'name="robots"' not in text
    assert text.count("<h1") == 1
    image = anonymous.get(f"/portfolios/{shared['portfolio_id']}/artefacts/{shared['image']}")
    assert image.status_code == 200 and image.data == png_bytes()
    assert shared["slug"] is None


def test_making_a_shared_portfolio_private_kills_the_link(pages: Flask) -> None:
    shared = shared_portfolio(pages, "link")
    set_visibility(shared["owner"], shared["portfolio_id"], "private")
    assert pages.test_client().get(f"/p/{shared['slug']}").status_code == 404
    assert get_portfolio(pages, shared["portfolio_id"]).share_slug is None


def test_only_artefacts_of_evidence_in_the_portfolio_are_served(pages: Flask) -> None:
    shared = shared_portfolio(pages, "link")
    anonymous = pages.test_client()
    slug = shared["slug"]
    assert anonymous.get(f"/p/{slug}/artefacts/{shared['image']}").status_code == 200
    assert anonymous.get(f"/p/{slug}/artefacts/{shared['private_image']}").status_code == 404
    assert anonymous.get(f"/p/{slug}/artefacts/{shared['image']}/passwd").status_code == 404


def test_the_cover_text_and_titles_are_sanitized_on_shared_pages(pages: Flask) -> None:
    client = student_client(pages, "ada@school.example")
    portfolio_id = create_portfolio(
        client,
        title="<script>t()</script>",
        cover_text="<img src=x onerror=alert(1)> [x](javascript:alert(2))",
    )
    add_section(client, portfolio_id, "<svg onload=alert(3)>")
    set_visibility(client, portfolio_id, "public")
    text = pages.test_client().get(f"/portfolios/{portfolio_id}").get_data(as_text=True)
    assert "<script>t()" not in text and "&lt;script&gt;t()&lt;/script&gt;" in text
    assert "<img src=x" not in text and "<svg" not in text
    assert 'href="javascript' not in text


def test_earned_credentials_are_listed_unless_hidden(pages: Flask) -> None:
    shared = shared_portfolio(pages, "public")
    with pages.app_context():
        owner = db.session.scalar(select(User).where(User.email == "ada@school.example"))
        assert owner is not None

        issuer = default_issuer()
        for index, (name, hidden) in enumerate([("Songwriting", False), ("Secret badge", True)]):
            db.session.add(
                IssuedCredential(
                    public_id=f"cred-{index}",
                    credential_id=f"urn:uuid:0000000{index}-0000-4000-8000-000000000000",
                    issuer_id=issuer.id,
                    document="{}",
                    achievement_name=name,
                    recipient_user_id=owner.id,
                    hidden_by_recipient=hidden,
                )
            )
        db.session.commit()
    text = pages.test_client().get(f"/portfolios/{shared['portfolio_id']}").get_data(as_text=True)
    assert '<a href="/c/cred-0">Songwriting</a>' in text
    assert "Secret badge" not in text


def test_share_slugs_are_random_and_long() -> None:
    slugs = {new_share_slug() for _ in range(100)}
    assert len(slugs) == 100
    assert all(len(slug) >= 22 for slug in slugs)
