"""Issue #4's journey, as people do it in a browser: an administrator invites a student; the
student joins through the emailed link, uploads a song and a story, adds a link, builds a
portfolio and shares its link; a signed-out visitor opens the link and sees the work."""

from __future__ import annotations

import email
import re
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.conftest import ASSETS

pytestmark = pytest.mark.browser

ADMIN_EMAIL = "head@riverside.example"
ADMIN_PASSWORD = "a long admin passphrase"
STUDENT_EMAIL = "ada@student.example"
STUDENT_PASSWORD = "my own long passphrase"


@pytest.fixture
def admin(live_app: Flask, live_issuer: str) -> None:
    from portfolio.accounts.auth import hash_password
    from portfolio.accounts.models import Issuer, User
    from portfolio.core.db import db

    with live_app.app_context():
        issuer = db.session.query(Issuer).filter_by(did=live_issuer).one()
        db.session.add(
            User(
                email=ADMIN_EMAIL,
                password_hash=hash_password(ADMIN_PASSWORD),
                display_name="Head of School",
                role="admin",
                issuer_id=issuer.id,
            )
        )
        db.session.commit()


def invitation_link(outbox: Path) -> str:
    (message_file,) = outbox.glob("*.eml")
    message = email.message_from_bytes(message_file.read_bytes())
    body = message.get_body(("plain",)) if hasattr(message, "get_body") else message
    text = (body or message).get_payload(decode=True).decode()
    return re.search(r"https?://\S+/join/\S+", text).group()


def sign_in(page: Page, server: str, address: str, password: str) -> None:
    page.goto(f"{server}/sign-in")
    page.get_by_label("Email address").fill(address)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def add_evidence(page: Page, server: str, title: str, narrative: str) -> None:
    page.goto(f"{server}/evidence/new")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Narrative or reflection (Markdown)").fill(narrative)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def upload(page: Page, path: Path, title: str) -> None:
    form = page.locator("form[enctype='multipart/form-data']")
    form.get_by_label("File (audio, video, image, PDF, text)").set_input_files(str(path))
    form.get_by_label("Title").fill(title)
    # upload.js sends the form itself, then opens the page the server names: wait for it.
    with page.expect_navigation():
        form.get_by_role("button", name="Upload").click()


def test_a_student_builds_and_shares_a_portfolio(
    browser, live_app, live_server, admin, page: Page, tmp_path
):
    server = live_server
    # 1. The administrator invites the student.
    sign_in(page, server, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto(f"{server}/admin/invitations")
    page.get_by_label("Email address").fill(STUDENT_EMAIL)
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Role").select_option("student")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text(STUDENT_EMAIL).first).to_be_visible()

    # 2. The student follows the emailed link in a fresh browser and creates the account.
    link = invitation_link(Path(live_app.instance_path) / "outbox")
    student = browser.new_context().new_page()
    student.goto(link)
    student.get_by_label("Your name").fill("Ada Lovelace")
    student.get_by_label("New password").fill(STUDENT_PASSWORD)
    student.get_by_label("Repeat the password").fill(STUDENT_PASSWORD)
    student.get_by_role("button", name="Create my account").click()
    expect(student.get_by_text("Ada Lovelace").first).to_be_visible()

    # 3. A song, a story and a link.
    add_evidence(student, server, "My first song", "I wrote and **recorded** this song.")
    upload(student, ASSETS / "uploads" / "tone.wav", "Song recording")
    expect(student.locator("audio")).to_have_count(1)
    song_page = student.url
    add_evidence(student, server, "A short story", "A story about a river.")
    upload(student, ASSETS / "uploads" / "story.txt", "The story")
    link_form = student.locator("form", has=student.get_by_role("button", name="Add link"))
    link_form.get_by_label("Title").fill("Project on GitHub")
    link_form.get_by_label("Address (https://…)").fill("https://github.com/ada/river-story")
    link_form.get_by_role("button", name="Add link").click()
    expect(student.get_by_role("link", name="Project on GitHub")).to_be_visible()

    # 4. A portfolio with a section holding both pieces, shared by link.
    student.goto(f"{server}/portfolios")
    student.get_by_label("Title").fill("Ada's creative work")
    student.get_by_label("Cover text (Markdown)").fill("Songs and stories from this year.")
    student.get_by_role("button", name="Create portfolio").click()
    student.get_by_label("Section title").last.fill("Music and writing")
    student.get_by_role("button", name="Add section").click()
    for title in ("My first song", "A short story"):
        student.get_by_label("Add evidence to “Music and writing”").select_option(label=title)
        student.get_by_role("button", name="Add", exact=True).click()
    student.get_by_label("Anyone with the link").check()
    student.get_by_role("button", name="Save visibility").click()
    share_url = student.get_by_label("Link to share").input_value()
    assert "/p/" in share_url
    student.screenshot(path=str(Path("test-artifacts/screenshots/student-portfolio-manage.png")))

    # 5. A signed-out visitor opens the link and sees the work.
    visitor = browser.new_context().new_page()
    visitor.goto(share_url)
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Ada's creative work")
    expect(visitor.get_by_text("Songs and stories from this year.")).to_be_visible()
    expect(visitor.get_by_text("My first song").first).to_be_visible()
    expect(visitor.get_by_text("A short story").first).to_be_visible()
    expect(visitor.locator("audio")).to_have_count(1)
    audio_src = visitor.locator("audio source, audio").first.get_attribute("src") or (
        visitor.locator("audio source").first.get_attribute("src")
    )
    assert audio_src, "the song is playable"
    response = visitor.request.get(server + audio_src if audio_src.startswith("/") else audio_src)
    assert response.status == 200 and response.headers["content-type"].startswith("audio/")
    expect(visitor.get_by_role("link", name="Project on GitHub")).to_be_visible()
    visitor.screenshot(path=str(Path("test-artifacts/screenshots/student-portfolio-shared.png")))

    # The evidence page itself stays private: the visitor is sent to sign in.
    visitor.goto(song_page)
    assert "/sign-in" in visitor.url
    assert "I wrote and" not in visitor.content()
