"""Issue 16 on the public pages: the credential page shows alignments (with their frameworks),
the issuer's website and logo, results with points; nothing to share on a revoked credential;
/verify answers a non-credential in words, never a parser's; the certificate PDF of a revoked
credential shows its notice clear of the badge (measured in the PDF), and Markdown is
rendered in PDFs."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest

from portfolio.issuing import badges
from portfolio.public.credential_view import describe
from tests.conftest import unsigned_badge

PARSER_WORDS = (
    "Expecting value",
    "JSONDecodeError",
    "line 1 column",
    "Traceback",
    "not valid JSON",
)


@pytest.fixture
def no_csrf(app: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


def aligned_badge() -> dict[str, Any]:
    badge = unsigned_badge()
    achievement = badge["credentialSubject"]["achievement"]
    achievement["alignment"] = [
        {
            "type": ["Alignment"],
            "targetName": "Works with others",
            "targetUrl": "https://case.example/items/works-with-others",
            "targetFramework": "Partner Skills Framework",
            "targetCode": "PSF.2",
        }
    ]
    achievement["criteria"]["narrative"] = "Shows **why** it matters.\n\n- listens\n- helps"
    return badge


def _issue(issuer: Any, badge: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """Issued by the school, whose profile names its website and logo."""
    from portfolio.core.db import db
    from portfolio.issuing import service as services

    issuer.url, issuer.image = "https://school.example/", "https://school.example/logo.png"
    db.session.commit()

    return services.issue(badge or aligned_badge(), issuer=issuer, **kwargs)


# -- the credential page -----------------------------------------------------------------------


def test_alignments_show_their_framework_names(app: Any, issuer: Any, client: Any) -> None:
    row = _issue(issuer)
    text = client.get(f"/c/{row.public_id}").text
    section = text.split('id="alignments-heading"')[1].split("</section>")[0]
    assert (
        '<a href="https://case.example/items/works-with-others" rel="nofollow noopener noreferrer">'
        "Works with others</a>" in section
    )
    assert "Framework: Partner Skills Framework" in section
    assert "PSF.2" in section
    # Criteria are Markdown, rendered (never raw **).
    criteria = text.split('id="criteria-heading"')[1].split("</section>")[0]
    assert "<strong>why</strong>" in criteria and "**" not in criteria
    assert "<li>listens</li>" in criteria


def test_the_verdict_comes_first_then_badge_name_recipient_and_issuer(
    app: Any, issuer: Any, client: Any
) -> None:
    row = _issue(issuer, recipient_name="Ada Lovelace")
    text = client.get(f"/c/{row.public_id}").text
    main = text.split('id="main"')[1]
    order = [
        main.index('class="verdict verdict-ok'),
        main.index('class="credential-badge"'),
        main.index("<h1>"),
        main.index("Ada Lovelace"),
        main.index("(an issuer of this service)"),
        main.index('class="pill pill-ok"'),
        main.index('id="criteria-heading"'),
        main.index('id="alignments-heading"'),
        main.index("How this was checked"),
    ]
    assert order == sorted(order)
    assert '<details class="disclosure how-checked">' in text


def test_the_issuers_website_and_logo_are_shown(app: Any, issuer: Any, client: Any) -> None:
    row = _issue(issuer)
    text = client.get(f"/c/{row.public_id}").text
    assert 'href="https://school.example/"' in text
    assert 'class="issuer-logo" src="https://school.example/logo.png"' in text


@pytest.mark.parametrize("action", ["revoke", "suspend"])
def test_no_share_or_linkedin_on_a_revoked_or_suspended_credential(
    app: Any, issuer: Any, client: Any, action: str
) -> None:
    from portfolio.issuing import service as services

    row = _issue(issuer)
    before = client.get(f"/c/{row.public_id}").text
    assert "Add to LinkedIn profile" in before and "linkedin.com" in before
    services.set_status(row, action, reason="issued in error")
    after = client.get(f"/c/{row.public_id}").text
    assert "linkedin.com" not in after and "LinkedIn" not in after
    assert 'badge.png" download' not in after
    assert f"/c/{row.public_id}/certificate.pdf" in after  # the record stays downloadable


def test_results_with_points_and_language_maps_read_from_the_credential() -> None:
    document = {
        "credentialSubject": {
            "achievement": {
                "name": [
                    {"@value": "Teamwork", "@language": "en"},
                    {"@value": "Trabajo en equipo", "@language": "es"},
                ],
                "description": {"en": "Working together", "es": "Trabajar juntos"},
                "tag": ["collaboration", "listening"],
                "resultDescription": [
                    {
                        "id": "urn:rd:1",
                        "name": "Listening",
                        "rubricCriterionLevel": [
                            {"id": "urn:lv:1", "name": "Secure", "points": "3"},
                        ],
                    }
                ],
            },
            "result": [{"resultDescription": "urn:rd:1", "achievedLevel": "urn:lv:1"}],
        }
    }
    english, spanish = describe(document), describe(document, language="es")
    assert english.achievement_name == "Teamwork" and english.description == "Working together"
    assert spanish.achievement_name == "Trabajo en equipo"
    assert spanish.description == "Trabajar juntos"
    assert describe(document, language="fr").achievement_name == "Teamwork"  # first given
    assert [(r.criterion, r.level, r.points) for r in english.results] == [
        ("Listening", "Secure", "3")
    ]
    assert english.skills == ["collaboration", "listening"]


# -- /verify -------------------------------------------------------------------------------------


def _verdict_heading(text: str) -> str:
    match = re.search(r'<h2 class="verdict-title" id="verdict-heading">(.*?)</h2>', text, re.S)
    assert match, "no verdict headline"
    return re.sub(r'<span aria-hidden="true">.*?</span>', "", match.group(1)).strip()


@pytest.mark.parametrize(
    ("content", "filename", "holds"),
    [
        (b"hello, this is a letter", "letter.json", ""),
        (b'{"name": "not a credential"}', "thing.json", ""),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "cv.pdf", "a PDF document"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 32, "photo.jpg", "a JPEG image"),
        (badges.badge_png("T", "I"), "plain.png", "an image with no readable credential inside"),
    ],
)
def test_a_non_credential_upload_is_answered_in_words(
    app: Any, client: Any, no_csrf: None, content: bytes, filename: str, holds: str
) -> None:
    response = client.post(
        "/verify",
        data={"upload": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    text = response.text
    assert _verdict_heading(text) == "Not a credential"
    assert "This file is not a credential" in text
    assert holds in text
    for words in PARSER_WORDS:
        assert words not in text
    assert text.index('id="verdict-heading"') < text.index("<form")


def test_a_pasted_non_credential_never_shows_a_parser_message(
    app: Any, client: Any, no_csrf: None
) -> None:
    response = client.post("/verify", data={"credential": "Dear hiring manager,"})
    assert response.status_code == 400
    assert _verdict_heading(response.text) == "Not a credential"
    for words in PARSER_WORDS:
        assert words not in response.text


def test_verifying_our_revoked_credential_says_when_and_why(
    app: Any, issuer: Any, client: Any, no_csrf: None
) -> None:
    from portfolio.issuing import service as services

    row = _issue(issuer)
    services.set_status(row, "revoke", reason="awarded in error")
    response = client.post("/verify", data={"credential": row.document})
    assert response.status_code == 200
    assert _verdict_heading(response.text) == "Revoked"
    assert re.search(
        r"Revoked by the issuer on [A-Z][a-z]+ \d+, \d{4}: awarded in error\.", response.text
    )
    claims = response.text.split("What the credential claims")[1]
    assert "Unverified claims" in claims.split("</section>")[0]


def test_verify_is_translated_for_a_spanish_reader(app: Any, client: Any, no_csrf: None) -> None:
    response = client.post(
        "/verify", data={"credential": "hola"}, headers={"Accept-Language": "es"}
    )
    assert 'lang="es"' in response.text


# -- PDFs ----------------------------------------------------------------------------------------


def _boxes(data: bytes, needle: str) -> tuple[list[tuple[float, ...]], list[tuple[float, ...]]]:
    """On the first page: the boxes of each character of ``needle``, and of every image."""
    document = pypdfium2.PdfDocument(data)
    try:
        page = document[0]
        textpage = page.get_textpage()
        searcher = textpage.search(needle, match_case=True)
        found = searcher.get_next()
        assert found, f"{needle!r} is not in the PDF"
        start, count = found
        chars = [textpage.get_charbox(i) for i in range(start, start + count)]
        images = [
            obj.get_bounds() for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])
        ]
        return chars, images
    finally:
        document.close()


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    left, bottom, right, top = a
    b_left, b_bottom, b_right, b_top = b
    return left < b_right and b_left < right and bottom < b_top and b_bottom < top


def test_the_revoked_notice_on_the_certificate_is_never_under_the_badge(
    app: Any, issuer: Any, client: Any
) -> None:
    from portfolio.issuing import service as services

    badge = aligned_badge()
    badge["credentialSubject"]["achievement"]["name"] = "A very long achievement name " * 3
    row = _issue(issuer, badge)
    services.set_status(row, "revoke", reason="the evidence was not the student's own work")
    response = client.get(f"/c/{row.public_id}/certificate.pdf")
    assert response.status_code == 200
    chars, images = _boxes(response.data, "This credential has been revoked")
    _more, _ = _boxes(response.data, "the evidence was not the student's own work")
    assert len(images) >= 2  # the badge and the QR code
    for char in chars + _more:
        for image in images:
            assert not _overlaps(char, image), (char, image)
    document = pypdfium2.PdfDocument(response.data)
    assert len(document) == 1  # still one page
    document.close()


def test_markdown_is_rendered_in_the_certificate(app: Any, issuer: Any, client: Any) -> None:
    row = _issue(issuer)
    response = client.get(f"/c/{row.public_id}/certificate.pdf")
    document = pypdfium2.PdfDocument(response.data)
    try:
        text = " ".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()
    assert "Shows why it matters." in " ".join(text.split())
    assert "**" not in text
    assert "Partner Skills Framework" in text


def test_certificate_strings_follow_the_readers_language(
    app: Any, issuer: Any, client: Any
) -> None:
    row = _issue(issuer)
    response = client.get(f"/c/{row.public_id}/certificate.pdf", headers={"Accept-Language": "es"})
    assert response.status_code == 200
    document = pypdfium2.PdfDocument(response.data)
    try:
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    assert json.loads(row.document)["credentialSubject"]["achievement"]["name"] in text
