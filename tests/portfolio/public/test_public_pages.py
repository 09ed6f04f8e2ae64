"""The public credential page (/c/<id>) and the /verify form: what a visitor sees, read as
specifications.  Every credential field is untrusted text."""

from __future__ import annotations

import html
import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.dates import format_date

from credentials import baking
from portfolio.issuing import badges
from tests.conftest import unsigned_badge

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '" onmouseover="alert(2)'
JS_URL = "javascript:alert(3)"


def issue(**kwargs: Any) -> Any:
    from portfolio.issuing import service as services

    changes = kwargs.pop("changes", {})
    return services.issue(unsigned_badge(**changes), **kwargs)


def page(client: Any, row: Any) -> str:
    response = client.get(f"/c/{row.public_id}")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return str(response.text)


def meta(text: str, key: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">', text)
    assert match, f"no <meta> {key}"
    return html.unescape(match.group(1))


def long_date(moment: datetime) -> str:
    """A date as the pages write it in English (Babel's long format: "June 30, 2011")."""
    return str(format_date(moment, "long", locale="en"))


def verdict_heading(text: str) -> str:
    """The words of /verify's verdict headline (its h2), without the icon."""
    match = re.search(r'<h2 class="verdict-title" id="verdict-heading">(.*?)</h2>', text, re.S)
    assert match, "no verdict headline"
    return re.sub(r"<span aria-hidden=\"true\">.*?</span>", "", match.group(1)).strip()


def headings(text: str) -> list[tuple[int, str]]:
    return [(int(level), body) for level, body in re.findall(r"<h([1-6])[^>]*>(.*?)</h\1>", text)]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def parse_html(text: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every start tag and its attributes, as an HTML parser sees them."""
    parser = _Elements()
    parser.feed(text)
    return parser.found


def rich_badge() -> dict[str, Any]:
    badge = unsigned_badge()
    badge["evidence"] = [
        {"id": "https://portfolio.example/song.mp3", "type": ["Evidence"], "name": "My song"},
        {
            "id": "urn:uuid:4f6c0c1e-93a1-4a6e-a3d0-3a1f1a9d3c11",
            "type": ["Evidence"],
            "name": "Essay",
        },
    ]
    badge["credentialSubject"]["achievement"]["image"] = {
        "id": "https://images.example/teamwork.png",
        "type": "Image",
        "caption": "A circle of hands",
    }
    return badge


# -- what the page shows ---------------------------------------------------------------------


def test_page_shows_every_element_of_the_credential(app: Any, issuer: Any, client: Any) -> None:
    from portfolio.issuing import service as services

    row = services.issue(rich_badge(), issuer=issuer, recipient_name="Ada Lovelace")
    text = page(client, row)
    assert headings(text)[0] == (1, "Teamwork")
    assert 'src="https://images.example/teamwork.png" alt="A circle of hands"' in text
    assert "This badge recognizes the development of the capacity to collaborate" in text
    assert "Team members are nominated for this badge by their peers" in text
    assert "<dd>Ada Lovelace</dd>" in text
    assert "Credfolio Demo School" in text and "did:web:credfolio.test" in text
    assert "<dd>January 1, 2010</dd>" in text  # valid from, in the reader's locale
    assert "<dd>No expiry date</dd>" in text
    assert (
        '<a href="https://portfolio.example/song.mp3" rel="nofollow noopener noreferrer">'
        "My song</a>" in text
    )
    assert (
        "Essay</h3>" in text
        and "<code>urn:uuid:4f6c0c1e-93a1-4a6e-a3d0-3a1f1a9d3c11</code> — not a web link" in text
    )
    assert 'class="verdict verdict-ok verdict-kind-verified"' in text
    assert "Genuine, unchanged since it was signed" in text
    assert not re.search(r'class="[^"]*notice', text)


def test_page_uses_our_generated_badge_when_the_image_is_not_https(
    app: Any, issuer: Any, client: Any
) -> None:
    badge = unsigned_badge()
    badge["credentialSubject"]["achievement"]["image"] = {
        "id": "http://insecure.example/x.png",
        "type": "Image",
    }
    from portfolio.issuing import service as services

    row = services.issue(badge, issuer=issuer)
    text = page(client, row)
    assert f'src="/c/{row.public_id}/badge.svg" alt="Badge: Teamwork"' in text
    assert "insecure.example" not in text


def test_data_uri_images_are_shown(app: Any, issuer: Any, client: Any) -> None:
    badge = unsigned_badge()
    uri = "data:image/png;base64,iVBORw0KGgo="
    badge["credentialSubject"]["achievement"]["image"] = {"id": uri, "type": "Image"}
    from portfolio.issuing import service as services

    row = services.issue(badge, issuer=issuer)
    assert f'src="{uri}" alt="Badge: Teamwork"' in page(client, row)


def test_verification_panel_lists_every_check_in_plain_language(
    app: Any, issuer: Any, client: Any
) -> None:
    from portfolio.issuing import service as services

    row = issue(issuer=issuer)
    text = page(client, row)
    result = services.service_verifier().verify(row.document)
    for check in result.checks:
        assert f"Technical detail ({check.name})" in text
    assert "Signature</strong>:" in text
    assert "nothing has been changed since the credential was issued" in text
    assert "The issuer has not revoked the credential." in text
    assert "The credential does not expire." in text  # not-applicable, said in words
    assert text.count('<span aria-hidden="true">✔</span> Passed</span>') >= 8


def test_meta_description_and_social_cards(app: Any, issuer: Any, client: Any) -> None:
    row = issue(issuer=issuer, recipient_name="Ada Lovelace")
    text = page(client, row)
    url = f"https://credfolio.test/c/{row.public_id}"
    description = meta(text, "description")
    assert description.startswith("Teamwork, awarded to Ada Lovelace by Credfolio Demo School.")
    assert len(description) <= 200
    assert meta(text, "og:title") == "Teamwork"
    assert meta(text, "og:description") == description
    assert meta(text, "og:url") == url
    assert meta(text, "og:type") == "website"
    assert meta(text, "og:image") == f"{url}/badge.png"
    assert meta(text, "twitter:card") == "summary"
    assert meta(text, "twitter:image") == f"{url}/badge.png"


def test_linkedin_link_carries_each_value_url_encoded(app: Any, issuer: Any, client: Any) -> None:
    badge = unsigned_badge(validFrom="2024-03-05T10:00:00Z")
    badge["credentialSubject"]["achievement"]["name"] = "Songs & Stories"
    from portfolio.issuing import service as services

    row = services.issue(badge, issuer=issuer)
    text = page(client, row)
    href = html.unescape(
        re.search(r'<a [^>]*href="([^"]+)"[^>]*>Add to LinkedIn profile</a>', text)[1]
    )
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    assert "Songs%20%26%20Stories" in parts.query
    assert parse_qs(parts.query) == {
        "startTask": ["CERTIFICATION_NAME"],
        "name": ["Songs & Stories"],
        "organizationName": ["Credfolio Demo School"],
        "issueYear": ["2024"],
        "issueMonth": ["3"],
        "certUrl": [f"https://credfolio.test/c/{row.public_id}"],
        "certId": [row.public_id],
    }


def test_recipient_without_a_name_is_described_without_its_hash_or_salt(
    app: Any, issuer: Any, client: Any
) -> None:
    badge = unsigned_badge()
    subject = badge["credentialSubject"]
    del subject["id"]
    subject["identifier"] = [
        {
            "type": "IdentityObject",
            "identityHash": "sha256$c7ef86405ba71b85acd8e2e95166c4b111448089f2e1599f42fe1bba46e8",
            "identityType": "emailAddress",
            "hashed": True,
            "salt": "deadbeefsalt",
        }
    ]
    from portfolio.issuing import service as services

    row = services.issue(badge, issuer=issuer)
    text = page(client, row)
    assert "Recipient identified by a hashed email address (not shown)" in text
    assert "deadbeefsalt" not in text and "c7ef86405ba7" not in text


def test_recipient_identified_by_id_says_so(app: Any, issuer: Any, client: Any) -> None:
    row = issue(issuer=issuer)
    assert "Recipient identified by did:example:ebfeb1f712ebc6f1c276e12ec21" in page(client, row)


def test_accessible_structure(app: Any, issuer: Any, client: Any) -> None:
    row = issue(issuer=issuer)
    text = page(client, row)
    levels = [level for level, _ in headings(text)]
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))
    assert '<html lang="en">' in text
    assert all(' alt="' in tag for tag in re.findall(r"<img [^>]*>", text))
    assert '<a class="skip" href="#main">' in text


def test_unknown_credential_is_a_readable_404(app: Any, client: Any) -> None:
    for path in ("/c/no-such-id", "/c/1", "/c/no-such-id/badge.png", "/c/x/certificate.pdf"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert "<h1>Page not found</h1>" in response.text


# -- status banners --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "headline", "sentence", "tone", "check"),
    [
        ("revoke", "Revoked", "Revoked by the issuer on", "bad", "revocation"),
        ("suspend", "Suspended", "Suspended by the issuer on", "warn", "suspension"),
    ],
)
def test_revoked_and_suspended_credentials_say_so_at_the_top(
    app: Any,
    issuer: Any,
    client: Any,
    action: str,
    headline: str,
    sentence: str,
    tone: str,
    check: str,
) -> None:
    from portfolio.issuing import service as services

    row = issue(issuer=issuer)
    services.set_status(row, action, reason="plagiarised <b>evidence</b>")
    text = page(client, row)
    top = text.split('<div class="credential-head">')[0]
    assert f'class="verdict verdict-{tone} verdict-kind-{action}' in top
    assert f"</span> {headline}</p>" in top
    today = long_date(datetime.now(UTC))
    assert f"{sentence} {today}: plagiarised &lt;b&gt;evidence&lt;/b&gt;." in top
    assert f"Technical detail ({check})" in text
    # Nothing to share or add to a profile while it does not hold (issue 16).
    assert "linkedin.com" not in text and "Add to LinkedIn" not in text
    assert f"/c/{row.public_id}/certificate.pdf" in text


def test_expired_credential_says_so(app: Any, issuer: Any, client: Any) -> None:
    row = issue(issuer=issuer, changes={"validUntil": "2011-06-30T00:00:00Z"})
    top = page(client, row).split('<div class="credential-head">')[0]
    assert "</span> Expired</p>" in top
    assert "Expired on June 30, 2011." in top


def test_not_yet_valid_credential_says_so(app: Any, issuer: Any, client: Any) -> None:
    start = datetime.now(UTC) + timedelta(days=40)
    row = issue(issuer=issuer, changes={"validFrom": start.strftime("%Y-%m-%dT%H:%M:%SZ")})
    top = page(client, row).split('<div class="credential-head">')[0]
    assert "</span> Not valid yet</p>" in top
    assert f"It becomes valid on {long_date(start)}." in top


def test_tampered_stored_credential_fails_the_signature_check(
    app: Any, issuer: Any, client: Any
) -> None:
    from portfolio.core.db import db

    row = issue(issuer=issuer)
    document = json.loads(row.document)
    document["credentialSubject"]["achievement"]["name"] = "Grand Master of Everything"
    row.document = json.dumps(document)
    db.session.commit()
    text = page(client, row)
    top = text.split('<div class="credential-head">')[0]
    assert "</span> Altered</p>" in top
    assert "Altered after signing: the signature does not match." in top
    assert "Unverified claims" in text
    assert "Add to LinkedIn" not in text
    signature = text.split("<strong>Signature</strong>:")[1].split("</li>")[0]
    assert "Failed" in signature
    assert "the credential was changed after it was issued" in signature


# -- untrusted text --------------------------------------------------------------------------


def hostile_badge() -> dict[str, Any]:
    badge = unsigned_badge()
    achievement = badge["credentialSubject"]["achievement"]
    achievement["name"] = SCRIPT + ATTRIBUTE
    achievement["description"] = SCRIPT + ATTRIBUTE
    achievement["criteria"]["narrative"] = SCRIPT + ATTRIBUTE
    achievement["image"] = {"id": JS_URL, "type": "Image", "caption": ATTRIBUTE}
    badge["evidence"] = [
        {"id": JS_URL, "type": ["Evidence"], "name": SCRIPT},
        # An id with a quote and spaces is not a URL: issuing refuses it (INVALID_ID), so the
        # attribute-breaking text rides in the name.
        {"id": "https://ok.example/quoted", "type": ["Evidence"], "name": ATTRIBUTE},
    ]
    return badge


def test_markup_and_script_urls_in_the_credential_are_escaped(
    app: Any, issuer: Any, client: Any
) -> None:
    from portfolio.issuing import service as services

    row = services.issue(hostile_badge(), issuer=issuer, recipient_name=SCRIPT + ATTRIBUTE)
    text = page(client, row)
    assert "<script>" not in text
    # Outside rendered Markdown (where a quote in a text node is harmless text), attribute-
    # breaking quotes are escaped; inside it, the sanitizer escapes the markup.
    outside = re.sub(r'<div class="prose">.*?</div>', "", text, flags=re.S)
    assert ATTRIBUTE not in outside
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34; onmouseover=&#34;alert(2)" in outside
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text.split('<div class="prose">')[1]
    assert 'href="javascript:' not in text and 'src="javascript:' not in text
    assert f"<code>{JS_URL}</code> — not a web link" in text  # shown, not linked
    assert f'src="/c/{row.public_id}/badge.svg"' in text
    # Parsed as a browser would: no script element, no event-handler attribute, no script URL.
    elements = parse_html(text)
    assert "script" not in [tag for tag, _ in elements]
    for _tag, attributes in elements:
        assert not any(name.startswith("on") for name in attributes)
        assert not any(
            (value or "").strip().lower().startswith("javascript:") for value in attributes.values()
        )


# -- /verify ---------------------------------------------------------------------------------


@pytest.fixture
def no_csrf(app: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


def test_verify_form_is_labelled(app: Any, client: Any) -> None:
    text = client.get("/verify").text
    assert headings(text)[0] == (1, "Verify a credential")
    for field in ("credential", "upload"):
        assert f'<label for="{field}">' in text
        assert f'id="{field}"' in text
    assert 'enctype="multipart/form-data"' in text
    assert 'name="csrf_token"' in text


def test_verify_pasted_json(app: Any, issuer: Any, client: Any, no_csrf: None) -> None:
    row = issue(issuer=issuer)
    response = client.post("/verify", data={"credential": row.document})
    assert response.status_code == 200
    assert verdict_heading(response.text) == "Verified"
    assert "<dd>Teamwork</dd>" in response.text
    assert "The issuer&#39;s digital signature is valid" in response.text


def test_verify_reports_a_tampered_credential(
    app: Any, issuer: Any, client: Any, no_csrf: None
) -> None:
    row = issue(issuer=issuer)
    document = json.loads(row.document)
    document["validFrom"] = "2009-01-01T00:00:00Z"
    response = client.post("/verify", data={"credential": json.dumps(document)})
    assert response.status_code == 200
    text = response.text
    assert verdict_heading(text) == "Altered"
    assert "Altered after signing: the signature does not match." in text
    # The verdict first, then the claims, marked as unverified, then the checks, then the form.
    order = [
        text.index('id="verdict-heading"'),
        text.index("What the credential claims"),
        text.index("How this was checked"),
        text.index("<form"),
    ]
    assert order == sorted(order)
    claims = text.split("What the credential claims")[1].split("How this was checked")[0]
    assert "Unverified claims" in claims


@pytest.mark.parametrize(
    ("kind", "bake"),
    [
        ("png", lambda d: baking.bake_png(badges.badge_png("T", "I"), d)),
        ("svg", lambda d: baking.bake_svg(badges.badge_svg("T", "I"), d)),
        ("json", lambda d: json.dumps(d).encode()),
    ],
)
def test_verify_uploaded_files(
    app: Any, issuer: Any, client: Any, no_csrf: None, kind: str, bake: Any
) -> None:
    import io

    row = issue(issuer=issuer)
    data = bake(json.loads(row.document))
    response = client.post(
        "/verify",
        data={"upload": (io.BytesIO(data), f"badge.{kind}")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.text
    assert verdict_heading(response.text) == "Verified"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"credential": "{not json"}, ""),
        ({"credential": "[1, 2]"}, "a credential must be a JSON object"),
        ({"credential": "   "}, "Nothing was submitted: paste a credential or choose a file."),
        ({}, "Nothing was submitted"),
        ({"credential": "<svg/>"}, "the SVG image holds no baked credential"),
        ({"credential": "<html></html>"}, "not an SVG image: the root element is 'html'"),
    ],
)
def test_malformed_submissions_are_a_readable_400(
    app: Any, client: Any, no_csrf: None, data: dict[str, str], message: str
) -> None:
    response = client.post("/verify", data=data)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert verdict_heading(response.text) == "Not a credential"
    assert "This file is not a credential" in response.text
    assert html.escape(message, quote=True).replace("&#x27;", "&#39;") in response.text
    # Never a parser's own words (issue 16).
    for words in ("not valid JSON", "Expecting", "JSONDecodeError", "line 1 column", "char 1"):
        assert words not in response.text


def test_a_hostile_svg_is_refused_by_name(
    app: Any, client: Any, no_csrf: None, assets: Path
) -> None:
    import io

    data = (assets / "hostile" / "billion-laughs.svg").read_bytes()
    response = client.post(
        "/verify",
        data={"upload": (io.BytesIO(data), "laughs.svg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "refusing hostile SVG" in response.text
    assert "lollol" not in response.text


def test_a_badge_without_a_credential_is_a_400(app: Any, client: Any, no_csrf: None) -> None:
    import io

    response = client.post(
        "/verify",
        data={"upload": (io.BytesIO(badges.badge_png("T", "I")), "plain.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "the PNG image holds no baked credential" in response.text


def test_uploads_over_5_mib_get_a_readable_413(app: Any, client: Any, no_csrf: None) -> None:
    # The multipart body is built by hand: the test client would spool it to a temporary file.
    body = (
        b"--B\r\n"
        b'Content-Disposition: form-data; name="upload"; filename="big.json"\r\n\r\n'
        + b"{"
        + b" " * (6 * 1024 * 1024)
        + b"}\r\n--B--\r\n"
    )
    response = client.post("/verify", data=body, content_type="multipart/form-data; boundary=B")
    assert response.status_code == 413
    assert "<h1>What you sent is too large</h1>" in response.text
    assert "The limit is 5 MiB." in response.text


def test_the_form_works_with_csrf_protection_enabled(app: Any, issuer: Any, client: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    row = issue(issuer=issuer)
    without = client.post("/verify", data={"credential": row.document})
    assert without.status_code == 400
    assert "CSRF token is missing" in without.text

    form = client.get("/verify").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)[1]
    with_token = client.post("/verify", data={"credential": row.document, "csrf_token": token})
    assert with_token.status_code == 200
    assert verdict_heading(with_token.text) == "Verified"
