"""Issue 16's journeys, walked end to end in Chromium on the demo school (portfolio/demo), each
step inspected (axe-core: zero violations; no sideways scroll at 320 or 390 px) and
photographed at 1280×900 and 390×844 into test-artifacts/screenshots/<journey>/ (not
committed): the student, the assessor, the employer or college at /c/<id>, /verify, the
administrator and the certificate download."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Demo, Inspector
from tests.conftest import ASSETS

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def nav_link(page: Page, name: str) -> None:
    """Follow the header's link to one of the role's main places."""
    link = page.get_by_role("navigation").get_by_role("link", name=re.compile(name, re.I)).first
    if not link.is_visible():
        page.locator("details.menu > summary").click()  # folded on a narrow screen
    link.click()
    page.wait_for_load_state("load")


def test_student_home_evidence_upload_and_share(
    demo: Demo, as_role: Callable[..., Page], inspect: Inspector
) -> None:
    inspect.journey = "student"
    page = as_role("student")
    # Signing in lands on the student's home, not on the issuer's keys.
    assert page.url.endswith("/home"), page.url
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    inspect(page, "home")

    nav_link(page, "evidence")
    expect(page).to_have_url(re.compile(r"/evidence$"))
    cards = page.locator(".cards .card")
    expect(cards.first).to_be_visible()
    expect(cards.first.locator(".card-meta")).not_to_be_empty()
    inspect(page, "evidence gallery")

    cards.first.locator(".card-title a").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    inspect(page, "evidence")
    upload = page.locator("form[enctype='multipart/form-data']")
    upload.locator("input[type=file]").set_input_files(str(ASSETS / "uploads" / "drawing.png"))
    upload.get_by_label("Title").fill("A drawing of the chorus")
    upload.get_by_role("button", name="Upload").click()
    expect(page.locator(".alert-success, .alert[role=status]").first).to_be_visible()
    expect(page.get_by_text("A drawing of the chorus").first).to_be_visible()
    inspect(page, "uploaded")

    nav_link(page, "credentials")
    share = page.locator("details", has=page.locator("summary", has_text="Share")).first
    share.locator("summary").click()
    expect(share.get_by_role("link", name=re.compile("LinkedIn"))).to_be_visible()
    expect(share.get_by_text(re.compile("PDF")).first).to_be_visible()
    inspect(page, "credentials share panel")


def test_assessor_queue_review_rubric_grid_and_cohort(
    demo: Demo, as_role: Callable[..., Page], inspect: Inspector
) -> None:
    inspect.journey = "assessor"
    page = as_role("assessor")
    page.goto(f"{demo.url}/review")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    queue = page.locator(".cards .card")
    expect(queue.first).to_be_visible()
    inspect(page, "queue")

    queue.first.locator("a[href*='/review/']").first.click()
    expect(page).to_have_url(re.compile(r"/review/[0-9a-f-]{36}$"))
    start = page.get_by_role("button", name=re.compile("Start the review"))
    if start.count():
        start.click()
    inspect(page, "review")

    # The rubric grid: a row (fieldset) per criterion, a radio cell per level; choose the top level
    # of each criterion by clicking its cell (its label), as an assessor would.
    form = page.locator("form", has=page.get_by_role("button", name="Record the assessment"))
    expect(form.locator(".rubric").first).to_be_visible()
    names: list[str] = form.locator(".rubric-row input[type=radio]").evaluate_all(
        "els => [...new Set(els.map(e => e.name))]"
    )
    assert names, "no radio cells in the rubric grid"
    for name in names:
        cell = form.locator(f".rubric-row input[type=radio][name='{name}']").last
        label = form.locator(f"label[for='{cell.get_attribute('id')}']")
        if cell.get_attribute("id") and label.count():
            label.first.click()
        else:
            cell.check()
        expect(cell).to_be_checked()
    form.get_by_role("radio", name="Endorse").check()
    form.get_by_label(re.compile("Overall feedback")).fill("A **clear** and honest piece of work.")
    inspect(page, "rubric cells chosen")
    form.get_by_role("button", name="Record the assessment").click()
    expect(page.locator(".alert").first).to_be_visible()
    inspect(page, "assessed")

    nav_link(page, "cohort")
    waiting = page.locator("section", has=page.get_by_role("heading", name=re.compile("waiting")))
    inspect(page, "cohort")
    link = waiting.get_by_role("link").first
    response_url = link.get_attribute("href")
    link.click()
    # The cohort's "waiting longest" links open the review, not a 403.
    expect(page).to_have_url(re.compile(r"/review/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", name="Your assessment")).to_be_visible()
    assert response_url
    inspect(page, "review from cohort")


def test_employer_sees_the_verdict_above_the_fold_on_a_phone(
    demo: Demo, as_role: Callable[..., Page], inspect: Inspector
) -> None:
    inspect.journey = "employer"
    page = as_role(None, viewport=PHONE)
    page.goto(f"{demo.url}/c/{demo.credentials['maya-song']}")
    verdict = page.locator(".verdict").first
    expect(verdict).to_contain_text("Verified")
    box = verdict.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
    expect(page.locator("img").first).to_be_visible()
    inspect(page, "credential")

    page.goto(f"{demo.url}/c/{demo.revoked}")
    verdict = page.locator(".verdict").first
    expect(verdict).to_contain_text("Revoked")
    box = verdict.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
    # Nobody is offered LinkedIn for a revoked credential.
    expect(page.get_by_role("link", name=re.compile("LinkedIn"))).to_have_count(0)
    inspect(page, "revoked credential")


def test_verify_says_verified_altered_or_not_a_credential_first(
    demo: Demo, as_role: Callable[..., Page], inspect: Inspector, tmp_path: Path
) -> None:
    inspect.journey = "verify"
    page = as_role(None)
    public_id = demo.credentials["maya-song"]
    good = page.request.get(f"{demo.url}/c/{public_id}/credential.json").json()
    tampered = json.loads(json.dumps(good))
    tampered["credentialSubject"]["achievement"]["name"] = "Grammy-winning Song writing"
    not_a_credential = tmp_path / "shopping-list.txt"
    not_a_credential.write_text("eggs\nflour\n", encoding="utf-8")

    page.goto(f"{demo.url}/verify")
    inspect(page, "verify form")
    for step, document, headline in (
        ("good", good, "Verified"),
        ("tampered", tampered, "Altered"),
    ):
        page.goto(f"{demo.url}/verify")
        page.get_by_label(re.compile("Paste a credential")).fill(json.dumps(document))
        page.get_by_role("button", name="Verify").click()
        verdict = page.locator(".verdict").first
        expect(verdict).to_contain_text(headline)
        # The verdict comes before what the credential claims.
        claims = page.get_by_role("heading", name=re.compile("What the credential claims"))
        expect(claims).to_be_visible()
        verdict_y = verdict.bounding_box()["y"]  # type: ignore[index]
        assert verdict_y < claims.bounding_box()["y"]  # type: ignore[index]
        inspect(page, step)

    page.goto(f"{demo.url}/verify")
    page.get_by_label(re.compile("choose a file")).set_input_files(str(not_a_credential))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".verdict").first).to_contain_text(re.compile("not a credential", re.I))
    expect(page.get_by_text(re.compile("Traceback|JSONDecodeError|Expecting value"))).to_have_count(
        0
    )
    inspect(page, "not a credential")


def test_administrator_home_catalogue_rubric_editor_and_audit_log(
    demo: Demo, as_role: Callable[..., Page], inspect: Inspector
) -> None:
    inspect.journey = "administrator"
    page = as_role("admin")
    page.goto(f"{demo.url}/admin/")
    stats = page.locator("dl.stats .stat")
    expect(stats.first).to_be_visible()
    assert stats.count() >= 3
    inspect(page, "home")

    nav_link(page, "catalogue")
    expect(page).to_have_url(re.compile(r"/admin/catalogue$"))
    inspect(page, "catalogue")
    page.get_by_role("link", name="Song writing").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Song writing")
    inspect(page, "competency")
    page.get_by_role("link", name=re.compile("rubric", re.I)).first.click()
    expect(page).to_have_url(re.compile(r"/rubric$"))
    inspect(page, "rubric editor")

    nav_link(page, "audit")
    expect(page).to_have_url(re.compile(r"/admin/audit"))
    inspect(page, "audit log")


def test_the_certificate_pdf_downloads(
    demo: Demo, as_role: Callable[..., Page], inspect: Inspector
) -> None:
    inspect.journey = "certificate"
    page = as_role(None)
    page.goto(f"{demo.url}/c/{demo.credentials['maya-song']}")
    inspect(page, "credential")
    link = page.get_by_role("link", name=re.compile("Certificate")).first
    href = link.get_attribute("href")
    assert href is not None
    # Chromium shows a PDF it is sent inline rather than saving it: fetch what the link gives,
    # with the page's cookies, as the download would.
    response = page.request.get(demo.url + href if href.startswith("/") else href)
    assert response.ok, response.status
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.body().startswith(b"%PDF-")
