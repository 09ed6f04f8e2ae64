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
    assert '<img src="https://images.example/teamwork.png" alt="A circle of hands"' in text
    assert "This badge recognizes the development of the capacity to collaborate" in text
    assert "Team members are nominated for this badge by their peers" in text
    assert "<dd>Ada Lovelace</dd>" in text
    assert "Credfolio Demo School" in text and "did:web:credfolio.test" in text
    assert "<dd>1 January 2010</dd>" in text  # valid from
    assert "<dd>No expiry date</dd>" in text
    assert (
        '<a href="https://portfolio.example/song.mp3" rel="nofollow noopener noreferrer">'
        "My song</a>" in text
    )
    assert (
        "Essay (<code>urn:uuid:4f6c0c1e-93a1-4a6e-a3d0-3a1f1a9d3c11</code>, not a web link)" in text
    )
    assert "Verified: every check below passed" in text
    assert not re.search(r'class="notice', text)


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
    assert f'<img src="/c/{row.public_id}/badge.svg" alt="Badge: Teamwork"' in text
    assert "insecure.example" not in text


def test_data_uri_images_are_shown(app: Any, issuer: Any, client: Any) -> None:
    badge = unsigned_badge()
    uri = "data:image/png;base64,iVBORw0KGgo="
    badge["credentialSubject"]["achievement"]["image"] = {"id": uri, "type": "Image"}
    from portfolio.issuing import service as services

    row = services.issue(badge, issuer=issuer)
    assert f'<img src="{uri}" alt="Badge: Teamwork"' in page(client, row)


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
    href = html.unescape(re.search(r'<a href="([^"]+)"[^>]*>Add to LinkedIn profile</a>', text)[1])
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
    ("action", "title", "check"),
    [
        ("revoke", "This credential has been revoked", "revocation"),
        ("suspend", "This credential is suspended", "suspension"),
    ],
)
def test_revoked_and_suspended_credentials_say_so_at_the_top(
    app: Any, issuer: Any, client: Any, action: str, title: str, check: str
) -> None:
    from portfolio.issuing import service as services

    row = issue(issuer=issuer)
    services.set_status(row, action, reason="plagiarised <b>evidence</b>")
    text = page(client, row)
    top = text.split('<div class="badge-figure">')[0]
    assert f"<h2>{title}</h2>" in top
    assert "Reason given: plagiarised &lt;b&gt;evidence&lt;/b&gt;." in top
    today = datetime.now(UTC)
    assert f"on {today.day} {today:%B %Y}" in top
    assert "Not verified" in text
    assert f"Technical detail ({check})" in text


def test_expired_credential_says_so(app: Any, issuer: Any, client: Any) -> None:
    row = issue(issuer=issuer, changes={"validUntil": "2011-06-30T00:00:00Z"})
    top = page(client, row).split('<div class="badge-figure">')[0]
    assert "<h2>This credential has expired</h2>" in top
    assert "It was valid until 30 June 2011." in top


def test_not_yet_valid_credential_says_so(app: Any, issuer: Any, client: Any) -> None:
    start = datetime.now(UTC) + timedelta(days=40)
    row = issue(issuer=issuer, changes={"validFrom": start.strftime("%Y-%m-%dT%H:%M:%SZ")})
    top = page(client, row).split('<div class="badge-figure">')[0]
    assert "<h2>This credential is not valid yet</h2>" in top
    assert f"It becomes valid on {start.day} {start:%B %Y}." in top


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
    assert "<h2>This credential could not be verified</h2>" in text
    assert "Not verified" in text
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
    assert ATTRIBUTE not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34; onmouseover=&#34;alert(2)" in text
    assert 'href="javascript:' not in text and 'src="javascript:' not in text
    assert f"<code>{JS_URL}</code>, not a web link" in text  # shown, not linked
    assert f'<img src="/c/{row.public_id}/badge.svg"' in text
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
    assert "Verified: every check below passed" in response.text
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
    assert "Not verified" in response.text


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
    assert "Verified: every check below passed" in response.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"credential": "{not json"}, "the credential is not valid JSON"),
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
    assert "This could not be checked as a credential." in response.text
    assert html.escape(message, quote=True).replace("&#x27;", "&#39;") in response.text


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
    assert "Verified: every check below passed" in with_token.text
