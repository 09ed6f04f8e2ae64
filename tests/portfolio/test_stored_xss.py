"""Stored cross-site scripting: hostile text planted in every field a person can type into stays
text wherever it is shown — in every HTML page, in the PDFs and in the SVGs.

Each field gets its own payload: a tag naming the field (``@bio@``) followed by a ``<script>``
element, an attribute break-out with an ``onerror`` handler and a CDATA break-out with an
``onload`` handler.  URL fields get ``javascript:`` URLs (refused) or URLs carrying an attribute
break-out (kept, and escaped); Markdown fields also get a ``[x](javascript:…)`` link.  Everything
is planted through the forms, as the people of a small school would type it; then every page
those people (and anonymous visitors) can reach is rendered and parsed as a browser would parse
it.  No page may contain a script element, an event-handler attribute or a script URL, and each
field's payload must be found somewhere as visible text — proof that it was shown, escaped.
"""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import lxml.html
import pypdfium2
import pytest
from defusedxml import ElementTree
from flask import Flask
from sqlalchemy import select

from portfolio.accounts.issuers import default_issuer
from portfolio.accounts.models import Notification, User
from portfolio.assessment.models import Submission
from portfolio.catalogue.models import Competency, CompetencyFramework
from portfolio.core import mail
from portfolio.core import pdf as pdf_module
from portfolio.core.db import db
from portfolio.evidence.models import Artefact, Evidence
from portfolio.issuing.models import IssuedCredential
from portfolio.portfolios.models import Portfolio
from tests.conftest import offer_suspension, unsigned_badge
from tests.portfolio.school import make_school
from tests.portfolio.security_world import client_with, module_app, png, session_cookie

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
CDATA = "]]><svg onload=alert(1)>"
MARKDOWN_LINK = "[x](javascript:alert(1))"
SCRIPT_URL = "javascript:alert(1)"


def hostile(name: str) -> str:
    """The payload planted in the field ``name``."""
    return f"@{name}@{SCRIPT}{ATTRIBUTE}{CDATA}"


def short(name: str) -> str:
    """A payload for a field of at most 64 characters."""
    return f'@{name}@{SCRIPT}"><img src=x onerror=1>'


def hostile_url(name: str) -> str:
    """A valid http(s) URL that breaks out of a single-quoted attribute if it is not escaped
    (URL fields refuse blanks, double quotes and angle brackets, so they are not tried)."""
    return f"https://evil.example/@{name}@'/onmouseover='alert(1)'/"


def marker(name: str) -> str:
    """What a reader must see where the field is shown: its tag and the script, as text."""
    return f"@{name}@{SCRIPT}"


#: Every planted field: name → the text that proves it was shown escaped.
FIELDS: dict[str, str] = {
    name: marker(name)
    for name in (
        # people
        "student_name", "assessor_name", "credential_name", "pronouns", "bio", "goals",
        "interests", "cohort", "invitee_name", "failed_sign_in",
        # evidence and its artefacts
        "evidence_title", "narrative", "genre", "audio_title", "transcript", "captions",
        "image_title", "alt_text", "link_title", "markdown_file", "text_file",
        # portfolios
        "portfolio_title", "cover_text", "section_title",
        # assessment
        "note", "revise_feedback", "revise_criterion_feedback", "endorse_feedback",
        "endorse_criterion_feedback", "endorsement_comment", "suspension_reason", "notification",
        # the catalogue (a framework's description is planted too, but no page shows it)
        "framework_title", "competency_name", "description", "criteria", "tag", "level",
        "human_code", "alignment_name", "alignment_code", "alignment_framework", "rubric_title",
        "level_name", "level_description", "criterion_name", "criterion_description", "cell",
    )
}  # fmt: skip
FIELDS["link_url"] = hostile_url("link_url")
FIELDS["alignment_url"] = hostile_url("alignment_url")
#: An uploaded file's name loses its "/" and '"' on the way in: a script tag without its slash.
FILENAME = "@filename@<script>alert(1)<script><img src=x onerror=alert(1)>"
FIELDS["filename"] = FILENAME


def wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(struct.pack("<h", 0) * 800)
    return out.getvalue()


# -- what a browser would run ----------------------------------------------------------------

URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "poster", "data", "background",
     "cite", "srcset", "ping", "manifest"}
)  # fmt: skip
FORBIDDEN_ELEMENTS = frozenset({"script", "iframe", "frame", "object", "embed", "base", "applet"})


def script_url(tag: str, name: str, value: str) -> bool:
    """Whether a URL attribute would run script (``javascript:``, ``vbscript:``, or a
    ``data:`` URL anywhere but an image's source), after the blanks browsers ignore."""
    url = re.sub(r"[\x00-\x20\x7f]", "", value).lower()
    if url.startswith(("javascript:", "vbscript:")):
        return True
    return url.startswith("data:") and not (
        tag == "img" and name == "src" and url[5:11] == "image/"
    )


def _outer(element: Any) -> str:
    return lxml.html.tostring(element, encoding="unicode", with_tail=False)


def html_problems(text: str) -> list[str]:
    """What in ``text`` (an HTML document) a browser would run: script elements, event
    handlers, script URLs, a refresh to somewhere."""
    problems = []
    # The app's own first-party scripts (a versioned /static/*.js, empty element) may enhance
    # a page; any other script element is a problem.
    own = re.compile(r'<script src="/static/[a-z0-9_-]+\.js\?v=[0-9a-f]+" defer></script>')
    if re.search(r"<\s*script", own.sub("", text), re.IGNORECASE):
        problems.append("a <script> tag in the source")
    document = lxml.html.document_fromstring(text)
    for element in document.iter():
        if not isinstance(element.tag, str):  # comments, processing instructions
            continue
        tag = element.tag.lower()
        if tag in FORBIDDEN_ELEMENTS and not (tag == "script" and own.fullmatch(_outer(element))):
            problems.append(f"a <{tag}> element")
        if tag == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
            problems.append("a meta refresh")
        for name, value in element.attrib.items():
            name = name.lower()
            if name.startswith("on"):
                problems.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and script_url(tag, name, value):
                problems.append(f"<{tag} {name}={value!r}>")
    return problems


def html_text(text: str) -> str:
    """What a reader of the page sees or a screen reader reads: the text and every attribute
    value, blanks collapsed."""
    document = lxml.html.document_fromstring(text)
    parts = [document.text_content()]
    for element in document.iter():
        if isinstance(element.tag, str):
            parts += element.attrib.values()
    return " ".join(" ".join(parts).split())


def svg_problems(data: bytes) -> list[str]:
    """What in an SVG document could run: script or foreignObject elements, event handlers,
    script URLs, or an ``<svg>`` element planted inside the image."""
    problems = []
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        return [f"not well-formed XML ({error}): markup was planted"]
    for index, element in enumerate(root.iter()):
        local = element.tag.rsplit("}", 1)[-1].lower()
        if local in ("script", "foreignobject") or (local == "svg" and index > 0):
            problems.append(f"a <{local}> element")
        for name, value in element.attrib.items():
            local_name = name.rsplit("}", 1)[-1].lower()
            if local_name.startswith("on"):
                problems.append(f"<{local} {local_name}={value!r}>")
            if local_name == "href" and script_url(local, local_name, value):
                problems.append(f"<{local} href={value!r}>")
    return problems


def svg_text(data: bytes) -> str:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return ""
    parts = [text for element in root.iter() for text in (element.text, element.tail) if text]
    return " ".join(" ".join(parts).split())


def pdf_text(data: bytes) -> str:
    document = pypdfium2.PdfDocument(data)
    try:
        parts = []
        for page in document:
            textpage = page.get_textpage()
            parts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return " ".join(" ".join(parts).split())
    finally:
        document.close()


# -- the school, planted through its forms ---------------------------------------------------


@dataclass
class School:
    app: Flask
    cookies: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def client(self, role: str | None) -> Any:
        return client_with(self.app, self.cookies[role] if role else None)

    def post(self, role: str, url: str, data: dict[str, Any], expect: int = 303) -> Any:
        response = self.client(role).post(url, data=data)
        assert response.status_code == expect, (
            f"planting through {url} as {role}: {response.status_code}\n"
            + "\n".join(re.findall(r"role=\"alert\"[^\n]*", response.get_data(as_text=True)))
        )
        return response


def _one(model: Any, *where: Any) -> Any:
    row = db.session.scalar(select(model).where(*where))
    assert row is not None
    return row


def plant_catalogue(school: School) -> None:
    school.post(
        "admin",
        "/admin/catalogue/frameworks",
        {
            "title": hostile("framework_title"),
            "framework_description": hostile("framework_description"),
        },
    )
    with school.app.app_context():
        framework = _one(
            CompetencyFramework, CompetencyFramework.title.contains("@framework_title@")
        )
        school.ids["framework"] = framework.public_id
    response = school.post(
        "admin",
        "/admin/catalogue/new",
        {
            "name": hostile("competency_name"),
            "description": hostile("description"),
            "criteria_narrative": hostile("criteria") + " " + MARKDOWN_LINK,
            "achievement_type": "Competency",
            "tags": hostile("tag") + "; harmless",
            "level": hostile("level"),
            "human_code": hostile("human_code"),
            "required_endorsements": "1",
            "framework": school.ids["framework"],
            "alignment_count": "1",
            "alignment-0-name": hostile("alignment_name"),
            "alignment-0-url": hostile_url("alignment_url"),
            "alignment-0-code": hostile("alignment_code"),
            "alignment-0-framework": hostile("alignment_framework"),
        },
    )
    competency = urlsplit(response.headers["Location"]).path.rsplit("/", 1)[-1]
    school.ids["competency"] = competency
    levels = ("Beginning", "Developing", "Proficient", "Advanced")
    rubric: dict[str, str] = {
        "title": hostile("rubric_title"),
        "level_count": "4",
        "criterion_count": "2",
        "rule_kind": "min_level",
        "rule_level": "2",
        "action": "save",
    }
    for j, name in enumerate(levels):
        rubric[f"level-{j}-name"] = short("level_name") if j == 2 else name
        rubric[f"level-{j}-points"] = str(j + 1)
        rubric[f"level-{j}-description"] = hostile("level_description") if j == 2 else ""
    for i in range(2):
        rubric[f"criterion-{i}-name"] = hostile("criterion_name") if i == 0 else "Reflection"
        rubric[f"criterion-{i}-description"] = hostile("criterion_description")
        for j in range(4):
            rubric[f"criterion-{i}-level-{j}"] = hostile("cell") if (i, j) == (0, 2) else ""
    school.post("admin", f"/admin/catalogue/competencies/{competency}/rubric", rubric)


def plant_people(school: School) -> None:
    school.post(
        "student",
        "/profile",
        {
            "display_name": hostile("student_name"),
            "credential_name": hostile("credential_name"),
            "pronouns": short("pronouns"),
            "bio": hostile("bio"),
            "learning_goals": hostile("goals"),
            "interests": hostile("interests"),
        },
    )
    school.post("assessor", "/profile", {"display_name": hostile("assessor_name")})
    # Anyone can type anything as an email address at the sign-in form: a failed sign-in is
    # recorded, and administrators read the record.
    response = school.client(None).post(
        "/sign-in", data={"email": hostile("failed_sign_in"), "password": "not the password"}
    )
    assert response.status_code == 422
    school.post(
        "admin",
        "/admin/invitations",
        {"email": "invitee@school.test", "name": hostile("invitee_name"), "role": "student"},
    )
    # A class roster puts Sam in a cohort with a hostile name.
    roster = io.StringIO()
    writer = csv.writer(roster)
    writer.writerow(["name", "email", "role", "cohort"])
    writer.writerow(["Sam", "sam.student@school.test", "student", hostile("cohort")])
    school.post(
        "admin",
        "/admin/roster",
        {"roster": (io.BytesIO(roster.getvalue().encode()), "roster.csv")},
        expect=200,
    )


def plant_evidence(school: School) -> None:
    response = school.post(
        "student",
        "/evidence/new",
        {
            "title": hostile("evidence_title"),
            "narrative": hostile("narrative") + "\n\n" + MARKDOWN_LINK,
            "genre": hostile("genre"),
            "catalogue": ["https://credfolio.test/achievements/" + school.ids["competency"]],
        },
    )
    evidence = urlsplit(response.headers["Location"]).path.rsplit("/", 1)[-1]
    school.ids["evidence"] = evidence
    base = f"/evidence/{evidence}/artefacts"
    captions = f"WEBVTT\n\n00:00.000 --> 00:00.100\n{hostile('captions')}\n"
    school.post(
        "student",
        f"{base}/file",
        {
            "file_title": hostile("audio_title"),
            "transcript": hostile("transcript"),
            "captions_vtt": captions,
            "file": (io.BytesIO(wav()), f"{FILENAME}.wav"),
        },
    )
    school.post(
        "student",
        f"{base}/file",
        {
            "file_title": hostile("image_title"),
            "alt_text": hostile("alt_text"),
            "file": (io.BytesIO(png()), "cover.png"),
        },
    )
    school.post(
        "student",
        f"{base}/file",
        {
            "file_title": "Story (Markdown)",
            "file": (
                io.BytesIO((hostile("markdown_file") + "\n\n" + MARKDOWN_LINK).encode()),
                "story.md",
            ),
        },
    )
    school.post(
        "student",
        f"{base}/file",
        {"file_title": "Lyrics", "file": (io.BytesIO(hostile("text_file").encode()), "lyrics.txt")},
    )
    school.post(
        "student",
        f"{base}/link",
        {"link_title": hostile("link_title"), "url": hostile_url("link_url")},
    )
    with school.app.app_context():
        audio = _one(Artefact, Artefact.title.contains("@audio_title@"))
        school.ids["audio"] = audio.public_id


def plant_portfolio(school: School) -> None:
    response = school.post(
        "student",
        "/portfolios",
        {
            "title": hostile("portfolio_title"),
            "cover_text": hostile("cover_text") + "\n\n" + MARKDOWN_LINK,
        },
    )
    with school.app.app_context():
        portfolio = _one(Portfolio, Portfolio.title.contains("@portfolio_title@"))
        public_id = portfolio.public_id
    assert public_id in response.headers["Location"]
    school.post("student", f"/portfolios/{public_id}/visibility", {"visibility": "link"})
    school.post(
        "student", f"/portfolios/{public_id}/sections", {"section_title": hostile("section_title")}
    )
    with school.app.app_context():
        portfolio = _one(Portfolio, Portfolio.public_id == public_id)
        section_id = portfolio.sections[0].id
        school.ids.update(portfolio=public_id, slug=str(portfolio.share_slug))
    school.post(
        "student",
        f"/portfolios/{public_id}/sections/{section_id}/items",
        {"evidence": school.ids["evidence"]},
    )


def plant_assessment(school: School) -> None:
    school.post(
        "student",
        "/submissions/new",
        {
            "competency": school.ids["competency"],
            "evidence": [school.ids["evidence"]],
            "note": hostile("note"),
            "action": "submit",
        },
    )
    with school.app.app_context():
        submission = _one(Submission, Submission.note.contains("@note@")).public_id
    school.ids["submission"] = submission
    school.post(
        "assessor",
        f"/review/{submission}/assess",
        {
            "decision": "revise",
            "level-0": "1",
            "level-1": "1",
            "feedback": hostile("revise_feedback") + "\n\n" + MARKDOWN_LINK,
            "feedback-0": hostile("revise_criterion_feedback"),
        },
    )
    school.post(
        "student",
        f"/submissions/{submission}",
        {"evidence": [school.ids["evidence"]], "note": hostile("note"), "action": "submit"},
    )
    school.post(
        "assessor",
        f"/review/{submission}/assess",
        {
            "decision": "endorse",
            "level-0": "2",
            "level-1": "3",
            "feedback": hostile("endorse_feedback"),
            "feedback-1": hostile("endorse_criterion_feedback"),
        },
    )
    response = school.post(
        "assessor",
        "/review/endorse",
        {"competency": school.ids["competency"], "comment": hostile("endorsement_comment")},
    )
    endorsement = urlsplit(response.headers["Location"]).path.rsplit("/", 1)[-1]
    with school.app.app_context():
        mastery = _one(Submission, Submission.public_id == submission).credential
        assert mastery is not None
    school.post(
        "admin",
        f"/admin/credentials/{mastery.public_id}/suspend",
        {"suspend-reason": hostile("suspension_reason")},
    )
    with school.app.app_context():
        student = _one(User, User.email == "sam.student@school.test")
        # Notifications are written by the service; one more carries a message of its own.
        db.session.add(
            Notification(user_id=student.id, message=hostile("notification"), link="/progress")
        )
        db.session.commit()
        school.ids.update(credential=mastery.public_id, endorsement=endorsement)
    # The invitation's link exists only in the mail it was sent in.
    (invitation,) = [
        message
        for message in mail.read_outbox(Path(school.app.instance_path) / "outbox")
        if message["To"] == "invitee@school.test"
    ]
    link = re.search(r"/join/([A-Za-z0-9_-]+)", invitation.get_content())
    assert link is not None
    school.ids["join"] = link.group(1)


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[School]:
    with module_app(tmp_path_factory.mktemp("xss")) as app:
        with app.app_context():
            issuer = offer_suspension(default_issuer())  # the suspension reason is shown too
            app.extensions["credfolio"].key_store.create(issuer.did)
            people = make_school(issuer)
            emails = {
                "student": people.student.email,
                "assessor": people.assessor.email,
                "admin": people.admin.email,
            }
        world = School(app=app)
        world.cookies = {role: session_cookie(app, email) for role, email in emails.items()}
        plant_catalogue(world)
        plant_people(world)
        plant_evidence(world)
        plant_portfolio(world)
        plant_assessment(world)
        yield world


# -- rendering everything --------------------------------------------------------------------


@dataclass
class Rendered:
    """Every page rendered: problems found and the text shown, by URL."""

    problems: dict[str, list[str]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    def add(self, where: str, problems: list[str], text: str) -> None:
        if problems:
            self.problems[where] = problems
        self.texts[where] = text

    def shown(self, needle: str) -> list[str]:
        """Where ``needle`` is shown (blanks aside: a PDF breaks long lines anywhere)."""
        return [where for where, text in self.texts.items() if contains(text, needle)]


def contains(text: str, needle: str) -> bool:
    return "".join(needle.split()) in "".join(text.split())


PUBLIC_URL = "https://credfolio.test"
#: Downloads the crawler leaves to their own tests (binary, or slow to render).
SKIPPED = re.compile(r"\.(pdf|zip|png|json|csv)$|/artefacts/|/thumbnail$|/photo$|/image$")
MAX_PAGES_PER_PERSON = 120


def crawl(school: School, role: str | None, seeds: list[str], rendered: Rendered) -> None:
    """Render every page ``role`` can reach from ``seeds`` by following links (GET only)."""
    client = school.client(role)
    queue, seen = list(seeds), set(seeds)
    count = 0
    while queue and count < MAX_PAGES_PER_PERSON:
        url = queue.pop(0)
        response = client.get(url)
        count += 1
        where = f"{role or 'anonymous'} GET {url}"
        if response.mimetype == "image/svg+xml":
            rendered.add(where, svg_problems(response.data), svg_text(response.data))
            continue
        if response.mimetype != "text/html" or response.status_code >= 300:
            continue
        text = response.get_data(as_text=True)
        rendered.add(where, html_problems(text), html_text(text))
        for link in lxml.html.document_fromstring(text).iterlinks():
            element, attribute, target, _pos = link
            if element.tag not in ("a", "img") or attribute not in ("href", "src"):
                continue
            target = target.split("#", 1)[0].removeprefix(PUBLIC_URL)
            if not target.startswith("/") or target.startswith("//") or SKIPPED.search(target):
                continue
            if target not in seen and not target.startswith(("/sign-", "/static")):
                seen.add(target)
                queue.append(target)


class CapturingHTML:
    """Stands in for WeasyPrint's ``HTML`` in :mod:`portfolio.core.pdf`: records the HTML it is
    given."""

    captured: ClassVar[list[str]] = []

    def __init__(self, *args: Any, string: str | None = None, **kwargs: Any) -> None:
        CapturingHTML.captured.append(string or "")
        self._html = ORIGINAL_HTML(*args, string=string, **kwargs)

    def write_pdf(self, *args: Any, **kwargs: Any) -> Any:
        return self._html.write_pdf(*args, **kwargs)


ORIGINAL_HTML = pdf_module.HTML


def render_pdf(school: School, role: str | None, url: str, rendered: Rendered) -> None:
    """Download a PDF; check the HTML WeasyPrint was given, and keep the PDF's text."""
    CapturingHTML.captured = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pdf_module, "HTML", CapturingHTML)
        response = school.client(role).get(url)
    assert response.status_code == 200, url
    assert response.mimetype == "application/pdf"
    (html,) = CapturingHTML.captured
    where = f"{role or 'anonymous'} GET {url}"
    rendered.add(f"{where} (HTML given to WeasyPrint)", html_problems(html), html_text(html))
    rendered.add(f"{where} (text of the PDF)", [], pdf_text(response.data))


@pytest.fixture(scope="module")
def rendered(school: School) -> Rendered:
    ids = school.ids
    result = Rendered()
    seeds: dict[str | None, list[str]] = {
        None: [
            "/",
            f"/p/{ids['slug']}",
            f"/c/{ids['credential']}",
            f"/c/{ids['endorsement']}",
            "/verify",
            f"/join/{ids['join']}",
        ],
        "student": [
            "/",
            "/home",
            "/profile",
            "/evidence",
            f"/evidence/{ids['evidence']}/edit",
            "/portfolios",
            f"/portfolios/{ids['portfolio']}",
            "/submissions",
            "/submissions/new",
            "/my/credentials",
            "/notifications",
            "/progress",
            "/progress/chart.svg",
        ],
        "assessor": [
            "/review",
            f"/review/{ids['submission']}",
            "/review/endorse",
            "/cohort",
            "/notifications",
            "/profile",
        ],
        "admin": [
            "/admin/catalogue",
            "/admin/credentials",
            f"/admin/credentials/{ids['credential']}/revoke",
            "/admin/invitations",
            "/admin/audit",
            "/admin/catalogue/import/case",
            "/cohort",
            "/review",
        ],
    }
    for role, urls in seeds.items():
        crawl(school, role, urls, result)
    for role, url in (
        (None, f"/c/{ids['credential']}/badge.svg"),
        (None, f"/c/{ids['endorsement']}/badge.svg"),
    ):
        data = school.client(role).get(url).data
        result.add(f"anonymous GET {url}", svg_problems(data), svg_text(data))
    render_pdf(school, "student", f"/portfolios/{ids['portfolio']}/export.pdf", result)
    render_pdf(school, None, f"/c/{ids['credential']}/certificate.pdf", result)
    render_pdf(school, None, f"/c/{ids['endorsement']}/certificate.pdf", result)
    captions = school.client("student").get(f"/artefacts/{ids['audio']}/captions.vtt")
    result.add("student GET captions.vtt", [], captions.get_data(as_text=True))
    return result


# -- the tests -------------------------------------------------------------------------------


def test_no_page_runs_anything_planted(rendered: Rendered) -> None:
    assert len(rendered.texts) > 40, sorted(rendered.texts)
    assert not rendered.problems, json.dumps(rendered.problems, indent=1)


def test_every_planted_field_is_shown_somewhere_as_text(rendered: Rendered) -> None:
    unseen = sorted(name for name, needle in FIELDS.items() if not rendered.shown(needle))
    assert not unseen, f"fields never shown as text (so never proven escaped): {unseen}"


#: Where a field must be shown (a pattern of the page's description, as in ``Rendered``) — the
#: fields a reader of that page, PDF or image most depends on.
ID = "[0-9a-f-]{36}"
MUST_SHOW = {
    rf"^anonymous GET /c/{ID}$": ("competency_name", "description", "criteria", "credential_name",
                                  "criterion_name", "level_name", "evidence_title",
                                  "assessor_name", "suspension_reason"),
    rf"^anonymous GET /c/{ID}/evidence/{ID}$": ("evidence_title", "narrative", "genre",
                                                "audio_title", "transcript", "alt_text",
                                                "link_title", "link_url", "markdown_file"),
    r"^anonymous GET /p/": ("portfolio_title", "cover_text", "section_title", "evidence_title",
                            "narrative", "audio_title", "transcript", "alt_text", "link_title",
                            "link_url", "markdown_file", "text_file", "student_name"),
    r"^anonymous GET /join/": ("invitee_name",),
    r"/certificate\.pdf \(text of the PDF\)$": ("competency_name", "credential_name"),
    r"/export\.pdf \(text of the PDF\)$": ("portfolio_title", "section_title", "evidence_title",
                                           "transcript", "filename", "image_title"),
    r"/export\.pdf \(HTML given to WeasyPrint\)$": ("alt_text", "cover_text", "narrative"),
    rf"^anonymous GET /c/{ID}/badge\.svg$": ("competency_name",),
    r"^student GET /progress/chart\.svg$": ("student_name",),
    rf"^assessor GET /review/{ID}$": ("student_name", "note", "narrative", "revise_feedback",
                                      "revise_criterion_feedback", "criterion_name", "cell",
                                      "level_name", "audio_title", "transcript"),
    rf"^student GET /submissions/{ID}$": ("revise_feedback", "revise_criterion_feedback",
                                          "endorse_feedback", "endorse_criterion_feedback",
                                          "assessor_name"),
    rf"^admin GET /admin/catalogue/competencies/{ID}$": ("competency_name", "tag", "level",
                                                         "human_code", "alignment_name",
                                                         "alignment_url", "alignment_code",
                                                         "alignment_framework", "rubric_title"),
    r"GET /cohort$": ("cohort", "student_name", "competency_name"),
    r"^student GET /notifications$": ("notification", "competency_name"),
    r"^student GET /progress$": ("competency_name", "notification"),
    r"^student GET /profile$": ("pronouns", "bio", "goals", "interests", "credential_name"),
    r"^admin GET /admin/invitations$": ("invitee_name",),
    r"^admin GET /admin/audit$": ("failed_sign_in",),
    r"^admin GET /admin/catalogue$": ("framework_title", "competency_name"),
    r"^admin GET /admin/credentials$": ("competency_name", "credential_name"),
}  # fmt: skip


@pytest.mark.parametrize("page", sorted(MUST_SHOW))
def test_the_fields_a_page_is_about_are_shown_there_as_text(rendered: Rendered, page: str) -> None:
    pages = {where: text for where, text in rendered.texts.items() if re.search(page, where)}
    assert pages, f"no page rendered matches {page!r}"
    missing = [
        name
        for name in MUST_SHOW[page]
        if not any(contains(text, FIELDS[name]) for text in pages.values())
    ]
    assert not missing, f"{page}: not shown as text: {missing}"


def test_markdown_links_to_scripts_stay_text(rendered: Rendered) -> None:
    """``[x](javascript:…)`` in narratives, cover texts, criteria, feedback and Markdown files
    is shown as the text that was typed, never as a link (no page has a script URL: see
    :func:`test_no_page_runs_anything_planted`)."""
    shown = rendered.shown(MARKDOWN_LINK)
    for page in (
        "anonymous GET /p/",
        "assessor GET /review/",
        "admin GET /admin/catalogue/",
        "anonymous GET /c/",
    ):
        assert any(page in where for where in shown), f"{page}: the Markdown link is not shown"


def test_the_captions_file_is_served_as_inert_text(school: School) -> None:
    response = school.client("student").get(f"/artefacts/{school.ids['audio']}/captions.vtt")
    assert response.status_code == 200
    assert response.mimetype == "text/vtt"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


# -- refused forms show what was typed, escaped -----------------------------------------------


REFUSED_FORMS = {
    "evidence without a title": (
        "student",
        "/evidence/new",
        lambda ids: {"title": "", "narrative": hostile("echo"), "genre": hostile("echo")},
        422,
    ),
    "an upload without a file": (
        "student",
        "/evidence/{evidence}/artefacts/file",
        lambda ids: {
            "file_title": hostile("echo"),
            "alt_text": hostile("echo"),
            "transcript": hostile("echo"),
            "captions_vtt": hostile("echo"),
        },
        400,
    ),
    "a link to a script": (
        "student",
        "/evidence/{evidence}/artefacts/link",
        lambda ids: {"link_title": hostile("echo"), "url": SCRIPT_URL},
        422,
    ),
    "a competency without a name": (
        "admin",
        "/admin/catalogue/new",
        lambda ids: {
            "name": "",
            "description": hostile("echo"),
            "tags": hostile("echo"),
            "alignment_count": "1",
            "alignment-0-name": hostile("echo"),
            "alignment-0-url": SCRIPT_URL,
        },
        422,
    ),
    "a rubric without levels": (
        "admin",
        "/admin/catalogue/competencies/{competency}/rubric",
        lambda ids: {
            "title": hostile("echo"),
            "criterion-0-name": hostile("echo"),
            "action": "save",
        },
        422,
    ),
    "a portfolio without a title": (
        "student",
        "/portfolios",
        lambda ids: {"title": "", "cover_text": hostile("echo")},
        422,
    ),
    "an endorsement without a competency": (
        "assessor",
        "/review/endorse",
        lambda ids: {"competency": "", "comment": hostile("echo")},
        422,
    ),
    "a profile with a bad DID": (
        "student",
        "/profile",
        lambda ids: {"display_name": hostile("echo"), "did": SCRIPT_URL, "bio": hostile("echo")},
        422,
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED_FORMS))
def test_a_refused_form_shows_what_was_typed_as_text(school: School, case: str) -> None:
    role, url, data, status = REFUSED_FORMS[case]
    response = school.client(role).post(url.format(**school.ids), data=data(school.ids))
    assert response.status_code == status
    text = response.get_data(as_text=True)
    assert html_problems(text) == []
    assert marker("echo") in html_text(text)


# -- URL fields: no script URLs, ever ---------------------------------------------------------


SCRIPT_URL_FIELDS = {
    "an evidence link": (
        "student",
        "/evidence/{evidence}/artefacts/link",
        {"link_title": "Click", "url": SCRIPT_URL},
    ),
    "an evidence link hidden behind blanks": (
        "student",
        "/evidence/{evidence}/artefacts/link",
        {"link_title": "Click", "url": " \tJaVaScRiPt:alert(1)"},
    ),
    "a competency an evidence shows": (
        "student",
        "/evidence/{evidence}/edit",
        {"title": "Song", "competencies": SCRIPT_URL},
    ),
    "an alignment's address": (
        "admin",
        "/admin/catalogue/competencies/{competency}/edit",
        {
            "name": "Song writing",
            "achievement_type": "Competency",
            "required_endorsements": "1",
            "alignment_count": "1",
            "alignment-0-name": "Standard",
            "alignment-0-url": SCRIPT_URL,
        },
    ),
    "an evidence link that breaks out of an attribute": (
        "student",
        "/evidence/{evidence}/artefacts/link",
        {"link_title": "Click", "url": 'https://evil.example/"><img/src=x/onerror=alert(1)>'},
    ),
    "an alignment's address that breaks out of an attribute": (
        "admin",
        "/admin/catalogue/competencies/{competency}/edit",
        {
            "name": "Song writing",
            "achievement_type": "Competency",
            "required_endorsements": "1",
            "alignment_count": "1",
            "alignment-0-name": "Standard",
            "alignment-0-url": 'https://evil.example/"><img/src=x/onerror=alert(1)>',
        },
    ),
    "a competency's image address": (
        "admin",
        "/admin/catalogue/competencies/{competency}/image",
        {"action": "url", "image_url": SCRIPT_URL},
    ),
}


@pytest.mark.parametrize("case", sorted(SCRIPT_URL_FIELDS))
def test_a_script_url_is_refused_where_an_address_is_asked_for(school: School, case: str) -> None:
    from tests.portfolio.security_world import changed_tables, snapshot

    role, url, data = SCRIPT_URL_FIELDS[case]
    before = snapshot(school.app)
    response = school.client(role).post(url.format(**school.ids), data=data)
    assert response.status_code == 422
    assert changed_tables(before, snapshot(school.app)) == []
    assert html_problems(response.get_data(as_text=True)) == []


def case_package(uri: str) -> dict[str, Any]:
    """A CASE package whose framework (CFDocument) has ``uri`` and hostile texts."""
    return {
        "CFDocument": {
            "uri": uri,
            "identifier": "d1000000-0000-0000-0000-000000000001",
            "title": hostile("case_title"),
            "creator": hostile("case_creator"),
            "description": hostile("case_description"),
            "version": hostile("case_version"),
            "lastChangeDateTime": "2024-01-01T00:00:00+00:00",
        },
        "CFItems": [
            {
                "uri": "https://case.example/items/1",
                "identifier": "i1000000-0000-0000-0000-000000000001",
                "fullStatement": hostile("case_item"),
                "humanCodingScheme": "C1",
                "lastChangeDateTime": "2024-01-01T00:00:00+00:00",
            }
        ],
        "CFAssociations": [],
    }


def test_an_imported_case_framework_never_links_a_script_url(school: School) -> None:
    """A CASE file comes from outside (an OpenSALT server, a colleague): its framework's
    ``uri`` is shown as a link only when it is a web address, and its texts stay text."""
    package = json.dumps(case_package(SCRIPT_URL)).encode()
    school.post(
        "admin",
        "/admin/catalogue/import/case",
        {"file": (io.BytesIO(package), "framework.json")},
        expect=200,
    )
    text = school.client("admin").get("/admin/catalogue").get_data(as_text=True)
    assert html_problems(text) == []
    shown = html_text(text)
    assert marker("case_title") in shown and marker("case_version") in shown
    with school.app.app_context():
        competency = _one(Competency, Competency.name.contains("@case_item@"))
        page = school.client("admin").get(f"/admin/catalogue/competencies/{competency.public_id}")
    assert html_problems(page.get_data(as_text=True)) == []
    assert marker("case_item") in html_text(page.get_data(as_text=True))


# -- foreign credentials on /verify -----------------------------------------------------------


def hostile_credential() -> dict[str, Any]:
    """Someone else's credential with markup in every field the verify page shows."""
    badge = unsigned_badge()
    badge["issuer"] = {
        # A double quote is not allowed in an IRI (such a credential is refused as data loss
        # before anything is shown); a single quote is, so it tries single-quoted attributes.
        "id": hostile_url("foreign_issuer_id"),
        "type": ["Profile"],
        "name": hostile("foreign_issuer"),
    }
    subject = badge["credentialSubject"]
    subject["name"] = hostile("foreign_recipient")
    achievement = subject["achievement"]
    achievement["name"] = hostile("foreign_achievement")
    achievement["description"] = hostile("foreign_description")
    achievement["criteria"]["narrative"] = hostile("foreign_criteria") + MARKDOWN_LINK
    achievement["image"] = {
        "id": SCRIPT_URL,
        "type": "Image",
        "caption": hostile("foreign_caption"),
    }
    badge["evidence"] = [
        {"id": SCRIPT_URL, "type": ["Evidence"], "name": hostile("foreign_evidence")}
    ]
    return badge


def hostile_svg() -> bytes:
    return (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script>'
        b'<foreignObject><img xmlns="http://www.w3.org/1999/xhtml" src="x" onerror="alert(1)"/>'
        b"</foreignObject></svg>"
    )


FOREIGN = {
    "a credential with markup in its fields": (
        lambda: {"credential": json.dumps(hostile_credential())},
        200,
        ("foreign_issuer", "foreign_recipient", "foreign_achievement"),
    ),
    "a credential with a property named with markup": (
        lambda: {
            "credential": json.dumps(
                {**hostile_credential(), hostile("foreign_property"): "undefined"}
            )
        },
        400,
        ("foreign_property",),
    ),
    "a credential with a context URL that breaks out of an attribute": (
        lambda: {
            "credential": json.dumps(
                {
                    **hostile_credential(),
                    "@context": [*unsigned_badge()["@context"], hostile_url("foreign_context")],
                }
            )
        },
        400,
        (),
    ),
    "a baked badge whose SVG holds a script": (
        lambda: {"upload": (io.BytesIO(hostile_svg()), "badge.svg")},
        400,
        (),
    ),
    "markup instead of JSON": (
        lambda: {"credential": hostile("foreign_text")},
        400,
        (),
    ),
}


@pytest.mark.parametrize("case", sorted(FOREIGN))
def test_a_foreign_credential_is_shown_as_text_on_the_verify_page(
    school: School, case: str
) -> None:
    data, status, fields = FOREIGN[case]
    response = school.client(None).post("/verify", data=data(), content_type="multipart/form-data")
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    text = response.get_data(as_text=True)
    assert html_problems(text) == []
    shown = html_text(text)
    missing = [name for name in fields if marker(name) not in shown]
    assert not missing, f"not shown as text: {missing}"


# -- the checks themselves can fail ------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    [
        f"<p>{SCRIPT}</p>",
        f'<p title="{ATTRIBUTE}">',
        f"<p>{CDATA}</p>",
        f'<a href="{SCRIPT_URL}">x</a>',
        '<a href=" &#x09;java&#x0A;script:alert(1)">x</a>',
        '<iframe src="https://evil.example"></iframe>',
        '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    ],
)
def test_the_page_check_finds_what_a_browser_would_run(page: str) -> None:
    assert html_problems(f"<!doctype html><html><body>{page}</body></html>")


def test_the_page_check_accepts_the_same_text_escaped() -> None:
    from markupsafe import escape

    page = f'<p>{escape(hostile("x"))}</p><p title="{escape(ATTRIBUTE)}">ok</p>'
    assert html_problems(f"<!doctype html><html><body>{page}</body></html>") == []
    assert marker("x") in html_text(page)


def test_the_svg_check_finds_script_and_planted_elements() -> None:
    assert svg_problems(hostile_svg())
    planted = (
        b'<svg xmlns="http://www.w3.org/2000/svg"><title>x</title><svg onload="alert(1)"/></svg>'
    )
    assert svg_problems(planted)


def test_the_model_fields_planted_exist(school: School) -> None:
    """The planting went through: the stored values are the hostile ones, unchanged."""
    with school.app.app_context():
        evidence = _one(Evidence, Evidence.public_id == school.ids["evidence"])
        assert evidence.title == hostile("evidence_title")
        credential = _one(IssuedCredential, IssuedCredential.public_id == school.ids["credential"])
        assert credential.recipient_name == hostile("credential_name")
        assert credential.achievement_name == hostile("competency_name")


@pytest.mark.parametrize("character", list('<>"{}|\\^`'))
def test_a_web_address_with_a_character_a_uri_cannot_carry_is_refused(character: str) -> None:
    """Such an address would break out of an attribute if it were ever left unescaped, and
    could not be signed into a credential: endorsing evidence with such a link, or a
    competency aligned to such an address, would fail."""
    from portfolio.files import uploads

    with pytest.raises(uploads.UploadError):
        uploads.check_link(f"https://example.org/a{character}b")


def test_a_web_address_the_forms_accept_can_be_signed_into_a_credential() -> None:
    from credentials import build
    from portfolio.files import uploads

    url = uploads.check_link("https://example.org/a'b(c)!*;d=e&f%20g~h@i:j?k=l#m")
    build.Evidence(id=url, name="Link")
    build.Alignment(target_name="Standard", target_url=url)
