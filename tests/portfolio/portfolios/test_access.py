"""Per-object authorization: who may see which portfolio, evidence and artefact — the owner
always, others only through a public portfolio or the current share link, nobody else; a
guessed id gives 404 to everyone who may not see it, and nobody can change another's work."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.accounts.models import User
from portfolio.core.db import db
from portfolio.evidence.models import Evidence
from portfolio.portfolios.access import can_view_evidence, can_view_portfolio
from portfolio.portfolios.models import Portfolio
from tests.portfolio.evidence.test_evidence_pages import (
    artefacts_of,
    student_client,
)
from tests.portfolio.portfolios.test_portfolios import get_portfolio, shared_portfolio

# (viewer, visibility, how) -> may see.  "how": no slug, the current slug, a wrong slug, the
# slug from before the link was replaced (revoked).
TABLE = [
    ("owner", "private", "none", True),
    ("owner", "link", "none", True),
    ("owner", "public", "none", True),
    ("other", "private", "none", False),
    ("other", "private", "revoked", False),
    ("other", "link", "none", False),
    ("other", "link", "slug", True),
    ("other", "link", "wrong", False),
    ("other", "link", "revoked", False),
    ("other", "public", "none", True),
    ("anonymous", "private", "none", False),
    ("anonymous", "link", "none", False),
    ("anonymous", "link", "slug", True),
    ("anonymous", "link", "wrong", False),
    ("anonymous", "link", "revoked", False),
    ("anonymous", "public", "none", True),
]


@pytest.fixture
def pages(app: Flask) -> Flask:
    """The app with CSRF checks off (CSRF itself is tested in test_auth)."""
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _viewer(app: Flask, who: str) -> Any:
    if who == "owner":
        return None  # replaced by the owner's own client below
    if who == "other":
        return student_client(app, "mallory@school.example")
    return app.test_client()


def _prepare(app: Flask, visibility: str, how: str) -> tuple[dict[str, Any], str | None]:
    """A shared portfolio at ``visibility`` and the slug the viewer holds."""
    shared = shared_portfolio(app, "link" if how == "revoked" else visibility)
    slug = shared["slug"]
    if how == "revoked":
        shared["owner"].post(
            f"/portfolios/{shared['portfolio_id']}/revoke-link", data={"replace": "1"}
        )
        if visibility != "link":
            shared["owner"].post(
                f"/portfolios/{shared['portfolio_id']}/visibility", data={"visibility": visibility}
            )
        return shared, slug
    return shared, {"none": None, "slug": slug, "wrong": "x" * 22}[how]


@pytest.mark.parametrize(("who", "visibility", "how", "allowed"), TABLE)
def test_who_sees_a_portfolio_and_its_artefacts(
    pages: Flask, who: str, visibility: str, how: str, allowed: bool
) -> None:
    shared, slug = _prepare(pages, visibility, how)
    client = shared["owner"] if who == "owner" else _viewer(pages, who)
    portfolio_id, image = shared["portfolio_id"], shared["image"]
    if slug is None:
        page_url = f"/portfolios/{portfolio_id}"
        file_url = f"/portfolios/{portfolio_id}/artefacts/{image}"
    else:
        page_url, file_url = f"/p/{slug}", f"/p/{slug}/artefacts/{image}"
    expected = 200 if allowed else 404
    assert client.get(page_url).status_code == expected
    assert client.get(file_url).status_code == expected
    # Evidence outside the portfolio is never served through it, to anyone.
    private_url = file_url.replace(image, shared["private_image"])
    assert client.get(private_url).status_code == 404

    # The same decision from the functions the views use.
    with pages.app_context():
        portfolio = db.session.scalar(select(Portfolio).where(Portfolio.public_id == portfolio_id))
        evidence = db.session.scalar(
            select(Evidence).where(Evidence.public_id == shared["evidence_id"])
        )
        private = db.session.scalar(
            select(Evidence).where(Evidence.public_id == shared["private_evidence_id"])
        )
        assert portfolio is not None and evidence is not None and private is not None
        email = {"owner": "ada@school.example", "other": "mallory@school.example"}.get(who)
        viewer = db.session.scalar(select(User).where(User.email == email)) if email else None
        assert can_view_portfolio(portfolio, viewer, share_slug=slug) is allowed
        assert can_view_evidence(evidence, viewer, share_slug=slug) is allowed
        assert can_view_evidence(private, viewer, share_slug=slug) is (who == "owner")


def test_a_student_guessing_ids_can_neither_read_nor_change_anothers_work(pages: Flask) -> None:
    shared = shared_portfolio(pages, "link")
    mallory = student_client(pages, "mallory@school.example")
    evidence_id, portfolio_id = shared["evidence_id"], shared["portfolio_id"]
    artefact = artefacts_of(pages, evidence_id)[0].public_id
    section_id = shared["section_id"]
    item_id = get_portfolio(pages, portfolio_id).sections[0].items[0].id
    reads = [
        f"/evidence/{evidence_id}",
        f"/evidence/{evidence_id}/edit",
        f"/evidence/{shared['private_evidence_id']}",
        f"/artefacts/{artefact}",
        f"/artefacts/{artefact}/thumbnail",
        f"/artefacts/{shared['private_image']}",
        f"/portfolios/{portfolio_id}/edit",
        f"/portfolios/{portfolio_id}/export.pdf",
        f"/portfolios/{portfolio_id}/export.zip",
    ]
    for url in reads:
        assert mallory.get(url).status_code == 404, url
    writes = [
        (f"/evidence/{evidence_id}/edit", {"title": "pwned"}),
        (f"/evidence/{evidence_id}/delete", {}),
        (
            f"/evidence/{evidence_id}/artefacts/link",
            {"link_title": "x", "url": "https://x.example"},
        ),
        (f"/evidence/{evidence_id}/artefacts/{artefact}/delete", {}),
        (f"/evidence/{evidence_id}/artefacts/{artefact}/move", {"direction": "down"}),
        (f"/portfolios/{portfolio_id}/details", {"title": "pwned"}),
        (f"/portfolios/{portfolio_id}/visibility", {"visibility": "public"}),
        (f"/portfolios/{portfolio_id}/revoke-link", {}),
        (f"/portfolios/{portfolio_id}/sections", {"section_title": "pwned"}),
        (f"/portfolios/{portfolio_id}/sections/{section_id}/rename", {"title": "pwned"}),
        (f"/portfolios/{portfolio_id}/sections/{section_id}/delete", {}),
        (f"/portfolios/{portfolio_id}/items/{item_id}/delete", {}),
        (f"/portfolios/{portfolio_id}/delete", {}),
    ]
    for url, data in writes:
        assert mallory.post(url, data=data).status_code == 404, url
    # Unknown ids look exactly like someone else's.
    assert mallory.get("/evidence/00000000-0000-4000-8000-000000000000").status_code == 404

    after = get_portfolio(pages, portfolio_id)
    assert (after.title, after.visibility, after.share_slug) == ("Art", "link", shared["slug"])
    assert [s.title for s in after.sections] == ["Drawings"]
    assert len(after.sections[0].items) == 1
    assert [a.title for a in artefacts_of(pages, evidence_id)] == ["Drawing", "More"]


def test_mallory_cannot_move_her_items_into_anothers_portfolio(pages: Flask) -> None:
    shared = shared_portfolio(pages, "private")
    mallory = student_client(pages, "mallory@school.example")
    from tests.portfolio.evidence.test_evidence_pages import create_evidence

    hers = create_evidence(mallory, title="Spam")
    url = f"/portfolios/{shared['portfolio_id']}/sections/{shared['section_id']}/items"
    assert mallory.post(url, data={"evidence": hers}).status_code == 404
    assert len(get_portfolio(pages, shared["portfolio_id"]).sections[0].items) == 1


def test_anonymous_writes_are_refused(pages: Flask) -> None:
    shared = shared_portfolio(pages, "public")
    anonymous = pages.test_client()
    assert anonymous.post(f"/portfolios/{shared['portfolio_id']}/delete").status_code == 401
    assert anonymous.get(f"/portfolios/{shared['portfolio_id']}/export.zip").status_code == 302
    assert get_portfolio(pages, shared["portfolio_id"]).title == "Art"
