"""Issue #5's "done when", as people do it in a browser: a student collects a song and a short
story as evidence and submits both for a competency; an assessor judges them against the rubric
and asks for a revision; the student reads the feedback, revises the note and resubmits; the
assessor endorses; the credential appears on the student's page, its public page verifies, and
its JSON passes ``credfolio verify`` (run offline, as an outsider would) and the OB 3.0 schema.

The school (issuer, key, people, a competency with a rubric) is made directly in the database
(``tests/portfolio/school.py``); every step under test goes through the real pages.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import os
import re
import struct
import subprocess
import sys
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from credentials.schema import errors_for
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_pages import assert_heading_outline
from tests.conftest import TEST_KEK

pytestmark = pytest.mark.browser

SONG_TITLE = "River song"
STORY_TITLE = "The lighthouse keeper"
TRANSCRIPT = "Down by the river, the water sings along\nand every stone remembers the song."
STORY = (
    b"# The lighthouse keeper\n\nEvery night, Mara climbed the hundred steps to light the lamp.\n"
)
FIRST_NOTE = "The song and the story were written this term."
SECOND_NOTE = "I rewrote the chorus so the melody comes back, and added what I learnt."
VERIFIED = "Genuine, unchanged since it was signed, in force, and its issuer confirmed."


@dataclass(frozen=True)
class Person:
    email: str
    name: str


@dataclass(frozen=True)
class SchoolPeople:
    student: Person
    assessor: Person
    competency: str
    password: str


def song_wav(*, seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A real, small WAV file: one second of a 440 Hz tone (16-bit mono PCM)."""
    samples = (
        struct.pack("<h", round(12_000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(seconds * rate))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(samples))
    return buffer.getvalue()


def sri(data: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def school(live_app: Flask, live_issuer: str) -> SchoolPeople:
    """The school of tests/portfolio/school.py, made in the live app's database."""
    from portfolio.accounts.models import Issuer
    from portfolio.core.db import db
    from tests.portfolio.school import PASSWORD, make_school

    with live_app.app_context():
        issuer = db.session.query(Issuer).filter_by(did=live_issuer).one()
        made = make_school(issuer)
        return SchoolPeople(
            student=Person(made.student.email, made.student.display_name),
            assessor=Person(made.assessor.email, made.assessor.display_name),
            competency=made.competency.name,
            password=PASSWORD,
        )


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[[], Page]]:
    """Pages in fresh browser contexts (another person, other cookies), closed at the end."""
    contexts = []

    def make() -> Page:
        context = browser.new_context(viewport={"width": 1000, "height": 800})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def outsider(tmp_path: Path) -> Iterator[Flask]:
    """Another Credfolio, with an empty database: it knows no issuer, key or status list, so
    whatever it trusts when it verifies must come from the files it is given."""
    from portfolio.core.db import db
    from wsgi import create_app

    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "outsider"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'outsider.sqlite3'}",
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
        }
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# -- what people do --------------------------------------------------------------------------


def sign_in(page: Page, server: str, person: Person, password: str) -> None:
    page.goto(f"{server}/sign-in")
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {person.name}")).to_be_visible()


def go_to(page: Page, link: str) -> None:
    """Follow a link of the header's main places, as a person would (opening the menu first
    where the screen is narrow enough to fold it)."""
    target = page.get_by_role("navigation", name="Main").get_by_role("link", name=link, exact=True)
    if not target.is_visible():
        page.locator("details.menu > summary").click()
    target.click()


def add_evidence(page: Page, title: str, genre: str, narrative: str) -> None:
    go_to(page, "Evidence")
    page.get_by_role("link", name="Add evidence").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New evidence")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Kind of work").fill(genre)
    page.get_by_label("Narrative or reflection (Markdown)").fill(narrative)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def upload(page: Page, file: dict[str, Any], title: str, *, transcript: str = "") -> None:
    form = page.get_by_role("form", name="Upload a file")
    form.get_by_label("File (audio, video, image, PDF, text)").set_input_files(file)
    form.get_by_label("Title").fill(title)
    if transcript:
        form.get_by_label("Transcript for audio or video").fill(transcript)
    # upload.js sends the form itself, then opens the page the server names: wait for it.
    with page.expect_navigation():
        form.get_by_role("button", name="Upload").click()


def open_from_the_queue(page: Page, student: Person, competency: str) -> None:
    go_to(page, "Queue")
    expect(page.get_by_role("heading", level=1)).to_have_text("Assessment queue")
    # The queue is a list of cards, one per submission (named by student and competency).
    card = page.get_by_role("article").filter(has=page.get_by_role("link", name=student.name))
    expect(card).to_contain_text(competency)
    expect(card).to_contain_text("waiting")
    assert_accessible(page)
    card.get_by_role("link", name=student.name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{competency}: {student.name}")


def assert_fields_are_labelled(page: Page) -> None:
    """Every form control has a label; radios and checkboxes sit in a fieldset with a legend
    (WCAG 1.3.1, 3.3.2, 4.1.2)."""
    problems = page.eval_on_selector_all(
        "input:not([type=hidden]), select, textarea",
        """els => els.flatMap(e => {
            const out = [];
            const named = (e.labels && [...e.labels].some(l => l.textContent.trim()))
                || (e.getAttribute('aria-label') || '').trim()
                || e.hasAttribute('aria-labelledby');
            if (!named) out.push('no label: ' + e.outerHTML);
            if (e.type === 'radio' || e.type === 'checkbox') {
                const set = e.closest('fieldset');
                const legend = set && set.querySelector(':scope > legend');
                if (!legend || !legend.textContent.trim()) {
                    out.push('not in a fieldset with a legend: ' + e.outerHTML);
                }
            }
            return out;
        })""",
    )
    assert problems == [], problems
    ids = page.eval_on_selector_all(
        "[id]",
        "els => { const ids = els.map(e => e.id);"
        " return ids.filter((id, i) => ids.indexOf(id) !== i); }",
    )
    assert ids == [], f"duplicate ids: {ids}"


def assert_accessible(page: Page) -> None:
    assert_fields_are_labelled(page)
    assert_heading_outline(page)


def wait_for_audio_metadata(page: Page) -> float:
    """The duration (seconds) of the page's one audio element, once Chromium has loaded the
    file's metadata from the server (``preload="metadata"``): the recording plays."""
    audio = page.locator("audio")
    expect(audio).to_have_count(1)
    page.wait_for_function("a => a.readyState >= 1 || a.error", arg=audio.element_handle())
    assert audio.evaluate("a => a.error && a.error.code") is None
    return float(audio.evaluate("a => a.duration"))


# -- the offline verifier --------------------------------------------------------------------


def credfolio_verify(outsider: Flask, *args: str) -> tuple[int, Any]:
    """``credfolio verify --json ARGS`` as a separate process, on the outsider's instance and
    database; (exit status, its JSON)."""
    script = Path(sys.executable).parent / "credfolio"
    env = {
        **os.environ,
        "CREDFOLIO_INSTANCE_PATH": outsider.instance_path,
        "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
        "CREDFOLIO_DATABASE_URL": outsider.config["SQLALCHEMY_DATABASE_URI"],
        "CREDFOLIO_ALLOW_FETCH": "false",
    }
    env.pop("FLASK_APP", None)
    done = subprocess.run(
        [str(script), "verify", "--json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def statuses(result: Any) -> dict[str, str]:
    return {check["name"]: check["status"] for check in result["checks"]}


# -- the flow --------------------------------------------------------------------------------


def test_a_song_and_a_story_earn_a_credential_after_one_revision(
    page: Page,
    new_page: Callable[[], Page],
    live_server: str,
    school: SchoolPeople,
    outsider: Flask,
    tmp_path: Path,
) -> None:
    server, student, assessor = live_server, school.student, school.assessor
    competency = school.competency
    wav = song_wav()

    # 1. The student signs in and collects a song (a recording with a transcript) and a story.
    sign_in(page, server, student, school.password)
    add_evidence(page, SONG_TITLE, "Song", "I wrote the words and **recorded** the tune.")
    upload(
        page,
        {"name": "river-song.wav", "mimeType": "audio/wav", "buffer": wav},
        "Recording of the river song",
        transcript=TRANSCRIPT,
    )
    expect(page.locator(".flashes")).to_contain_text("Recording of the river song")
    expect(page.locator("audio")).to_have_count(1)
    expect(page.get_by_text("Transcript of Recording of the river song")).to_be_visible()
    add_evidence(page, STORY_TITLE, "Short story", "A story about *keeping a light on*.")
    upload(
        page,
        {"name": "lighthouse.md", "mimeType": "text/markdown", "buffer": STORY},
        "The story (Markdown)",
    )
    expect(page.get_by_text("Every night, Mara climbed the hundred steps")).to_be_visible()

    # 2. … and submits both for the competency, with a note.
    go_to(page, "Submissions")
    page.get_by_role("link", name="Submit evidence for a competency").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit evidence for a competency")
    assert_accessible(page)
    page.get_by_label("Competency").select_option(label=competency)
    evidence = page.get_by_role("group", name="Evidence (choose one or more)")
    evidence.get_by_label(SONG_TITLE).check()
    evidence.get_by_label(STORY_TITLE).check()
    page.get_by_label("A note for the assessor").fill(FIRST_NOTE)
    page.get_by_role("button", name="Submit for assessment").click()
    expect(page.locator(".flashes")).to_have_text("Submitted for assessment.")
    expect(page.get_by_role("heading", level=1)).to_have_text(competency)
    expect(page.locator(".card-meta .pill").first).to_have_text("Submitted")
    submission_url = page.url
    go_to(page, "Submissions")
    expect(page.get_by_role("row", name=re.compile(competency))).to_contain_text("Submitted")
    assert_accessible(page)

    # 3. The assessor opens the queue and the submission, hears the song, reads the story.
    reviewer = new_page()
    sign_in(reviewer, server, assessor, school.password)
    open_from_the_queue(reviewer, student, competency)
    assert_accessible(reviewer)
    expect(reviewer.get_by_role("region", name="The student's note")).to_contain_text(FIRST_NOTE)
    song = reviewer.get_by_role("article", name=re.compile(SONG_TITLE))
    expect(song.locator("audio")).to_have_count(1)
    expect(song.locator("audio")).to_have_attribute("controls", "")
    assert wait_for_audio_metadata(reviewer) == pytest.approx(1.0, abs=0.05)
    song.get_by_text("Transcript of Recording of the river song").click()
    expect(song.get_by_text("Down by the river, the water sings along")).to_be_visible()
    story = reviewer.get_by_role("article", name=re.compile(STORY_TITLE))
    # The story is read in the page (its Markdown rendered and sanitized), and downloadable.
    expect(story.get_by_role("heading", name="The lighthouse keeper", level=4)).to_be_visible()
    story_href = story.get_by_role("link", name="download").get_attribute("href")
    assert story_href is not None
    story_file = reviewer.request.get(urljoin(reviewer.url, story_href))
    assert story_file.ok and story_file.body() == STORY

    # 4. … chooses rubric levels (one with the keyboard), writes feedback, asks for a revision.
    # The rubric grid: one radio per level in each criterion's row, labelled by the level's
    # name, points and descriptor; the whole cell is the label.
    melody = reviewer.get_by_role("group", name="Melody")
    expect(melody).to_have_accessible_description("A memorable, singable melody.")
    expect(melody.get_by_role("radio")).to_have_count(4)
    expect(melody.get_by_label("Beginning")).to_have_accessible_name(
        re.compile(r"^Beginning\s+1 point\s+No clear melody$")
    )
    melody.locator("label.rubric-cell", has_text="A haunting one").click()
    expect(melody.get_by_label("Advanced")).to_be_checked()
    melody.get_by_label("Beginning").focus()
    reviewer.keyboard.press("ArrowDown")  # arrow keys move through one radio group
    expect(melody.get_by_label("Developing")).to_be_checked()
    expect(melody.get_by_label("Beginning")).not_to_be_checked()
    melody.get_by_label("Feedback on “Melody”").fill("The chorus wanders: bring the tune back.")
    reflection = reviewer.get_by_role("group", name="Reflection")
    reflection.get_by_label("Developing").check()
    reflection.get_by_label("Feedback on “Reflection”").fill("Say what you learnt.")
    reviewer.get_by_label("Overall feedback").fill("A lovely start. **Revise the chorus.**")
    reviewer.get_by_role("group", name="Decision").get_by_label("Request a revision").check()
    reviewer.get_by_role("button", name="Record the assessment").click()
    expect(reviewer.locator(".flashes")).to_have_text(
        "Saved: Revision requested. The student has been notified."
    )
    expect(reviewer.get_by_text("Nothing is waiting for assessment.")).to_be_visible()

    # 5. The student is notified, reads the feedback, changes the note and resubmits.
    page.reload()
    notifications = page.get_by_role("link", name=re.compile(r"^Notifications\s*1 unread$"))
    expect(notifications).to_be_visible()
    notifications.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    assert_accessible(page)
    page.get_by_role("link", name=f"{assessor.name} asked for a revision on “{competency}”").click()
    expect(page).to_have_url(submission_url)
    expect(page.locator(".card-meta .pill").first).to_have_text("Revision requested")
    feedback = page.get_by_role("region", name="Feedback")
    expect(feedback.locator("strong", has_text="Revise the chorus.")).to_be_visible()
    melody_row = feedback.get_by_role("row", name=re.compile("^Melody"))
    expect(melody_row).to_contain_text("Developing (2 points)")
    expect(melody_row).to_contain_text("The chorus wanders: bring the tune back.")
    expect(feedback.get_by_role("row", name=re.compile("^Reflection"))).to_contain_text(
        "Say what you learnt."
    )
    expect(page.get_by_role("region", name="History")).to_contain_text(
        f"Revision requested — {assessor.name}"
    )
    assert_accessible(page)
    note = page.get_by_label("A note for the assessor")
    expect(note).to_have_value(FIRST_NOTE)
    note.fill(SECOND_NOTE)
    page.get_by_role("button", name="Resubmit for assessment").click()
    expect(page.locator(".flashes")).to_have_text("Resubmitted: an assessor will look at it soon.")
    expect(page.locator(".card-meta .pill").first).to_have_text("Resubmitted")
    expect(page.locator(".card-meta").first).to_contain_text("round 2")
    expect(page.get_by_text(f"Your note: {SECOND_NOTE}")).to_be_visible()

    # 6. The assessor sees the new round and endorses.
    open_from_the_queue(reviewer, student, competency)
    expect(reviewer.get_by_role("region", name="The student's note")).to_contain_text(SECOND_NOTE)
    expect(reviewer.get_by_role("region", name="Assessments so far")).to_contain_text("Round 1")
    reviewer.get_by_role("group", name="Melody").get_by_label("Proficient").check()
    reviewer.get_by_role("group", name="Reflection").get_by_label("Advanced").check()
    reviewer.get_by_label("Overall feedback").fill("The chorus sings now. Bravo.")
    reviewer.get_by_role("group", name="Decision").get_by_label("Endorse").check()
    reviewer.get_by_role("button", name="Record the assessment").click()
    expect(reviewer.locator(".flashes")).to_have_text(
        f"Endorsed: the credential for “{competency}” is issued."
    )

    # 7. The credential is on the student's "Credentials" page; its public page verifies.
    go_to(page, "Credentials")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your credentials")
    assert_accessible(page)
    page.get_by_role("link", name=competency, exact=True).click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(server)}/c/[^/]+$"))
    credential_url = page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(competency)
    expect(page.locator("#verdict")).to_contain_text(VERIFIED)
    page.get_by_text("How this was checked").click()
    panel = page.get_by_role("region", name="Verification")
    labels = panel.locator(".check-status").all_inner_texts()
    assert labels and all(re.search("Passed|Not applicable", label) for label in labels), labels
    results = page.get_by_role("table", name="What the assessment found")
    expect(results.get_by_role("row", name=re.compile("^Melody"))).to_contain_text("Proficient")
    expect(results.get_by_role("row", name=re.compile("^Reflection"))).to_contain_text("Advanced")
    assert_heading_outline(page)

    # The evidence it links to is public: a visitor opens the song and can play it.
    visitor = new_page()
    visitor.goto(credential_url)
    visitor.get_by_role("link", name=SONG_TITLE, exact=True).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(SONG_TITLE)
    assert wait_for_audio_metadata(visitor) == pytest.approx(1.0, abs=0.05)
    assert_accessible(visitor)

    # 8. The credential JSON, from the page's link, passes the OB 3.0 schema …
    href = page.get_by_role("link", name="Credential (JSON)").get_attribute("href")
    assert href is not None
    download = page.request.get(urljoin(credential_url, href))
    assert download.ok and download.headers["content-type"].startswith("application/ld+json")
    document = download.json()
    assert document["id"] == credential_url
    assert errors_for(document, allow_compacted=True) == []
    subject = document["credentialSubject"]
    assert subject["achievement"]["name"] == competency
    names = {entry.get("name") for entry in document["evidence"]}
    assert {SONG_TITLE, STORY_TITLE, "Recording of the river song"} <= names
    digests = {entry.get("digestSRI") for entry in document["evidence"]}
    assert {sri(wav), sri(STORY)} <= digests  # the very bytes that were uploaded
    assert len(document["endorsement"]) == 1

    # 9. … and `credfolio verify`, run offline by an outsider with the issuer's DID document
    # and the status lists as files (a did:web is not fetched).
    files = tmp_path / "downloads"
    files.mkdir()
    (files / "credential.json").write_bytes(download.body())
    did_document = page.request.get(f"{server}/.well-known/did.json").json()
    assert did_document["id"] == document["issuer"]["id"]
    (files / "did.json").write_text(json.dumps(did_document))
    entries = document["credentialStatus"]
    entries = entries if isinstance(entries, list) else [entries]
    status_args = []
    for index, entry in enumerate(entries):
        status_list = page.request.get(entry["statusListCredential"])
        assert status_list.ok, entry
        path = files / f"status-{index}.json"
        path.write_bytes(status_list.body())
        status_args += ["--status-list", str(path)]

    code, result = credfolio_verify(
        outsider,
        str(files / "credential.json"),
        "--did-document",
        str(files / "did.json"),
        *status_args,
    )
    assert code == 0 and result["verified"] is True, result
    checks = statuses(result)
    for name in ("proof", "issuer", "schema", "revocation", "endorsements"):
        assert checks.get(name) == "passed", (name, result)
    # The outsider's own service does not know this school: genuine, issuer not confirmed.
    assert checks.pop("issuer-trust") == "unknown", result
    assert result["verdict"] == "genuine-issuer-not-confirmed", result
    # One credentialStatus object (revocation): the school does not offer suspension.
    assert checks.get("suspension") == "not-applicable", result
    assert "unknown" not in checks.values() and "failed" not in checks.values(), result

    # Without the DID document the outsider cannot decide: it verified from the files alone.
    # (The same command through the click runner: a second process would only be slower.)
    without = outsider.test_cli_runner().invoke(
        args=["verify", "--json", str(files / "credential.json"), *status_args]
    )
    assert without.exit_code == 1, without.output
    result = json.loads(without.output)
    assert result["verified"] is False and statuses(result)["proof"] != "passed", result


def test_the_assessor_pages_are_labelled_and_say_what_is_wrong(
    page: Page, live_server: str, school: SchoolPeople
) -> None:
    sign_in(page, live_server, school.assessor, school.password)
    go_to(page, "Queue")
    expect(page.get_by_text("Nothing is waiting for assessment.")).to_be_visible()
    filters = page.get_by_role("form", name="Filter the queue")
    filters.get_by_label("Competency").select_option(label=school.competency)
    filters.get_by_label("Waiting at least (days)").fill("2")
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"[?&]age=2(&|$)"))
    expect(
        page.get_by_text("Nothing is waiting for assessment with these filters.")
    ).to_be_visible()
    expect(page.get_by_label("Competency")).not_to_have_value("")  # the filter is kept
    assert_accessible(page)

    # A filter the browser cannot check (an edited or shared address) is refused by name, in
    # an alert tied to its field.
    page.goto(f"{live_server}/review?age=soon")
    expect(page.get_by_role("alert")).to_contain_text("is a number of days from 0 to 3650")
    age = page.get_by_label("Waiting at least (days)")
    expect(age).to_have_attribute("aria-invalid", "true")
    expect(age).to_have_accessible_description(re.compile("a number of days from 0 to 3650"))
    assert_accessible(page)

    page.get_by_role("link", name="Endorse a competency").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Endorse a competency")
    assert_accessible(page)
