"""Students' Markdown becomes safe HTML: formatting survives, script and dangerous URLs never
do, and every link is marked nofollow/noopener."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from portfolio.core.markdown import ALLOWED_TAGS, render_markdown

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "<iframe src=https://evil.example></iframe>",
    "<svg onload=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '[x](https://example.org "a" onmouseover="alert(1)")',
    "![x](https://tracker.example/pixel.png)",
    "<!-- <script>alert(1)</script> -->",
    "`<script>alert(1)</script>`",
]


class _Tags(HTMLParser):
    """Every real element and attribute in an HTML fragment (escaped text is not a tag)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_payload_leaves_a_live_tag_attribute_or_dangerous_url(payload: str) -> None:
    for tag, attrs in elements(str(render_markdown(payload))):
        assert tag in ALLOWED_TAGS
        for name, value in attrs.items():
            assert not name.startswith("on")
            assert name in {"href", "title", "rel", "start"}
            if name == "href":
                assert (value or "").split(":")[0].lower() in {"http", "https", "mailto"}


def test_the_payloads_do_not_survive_as_text_that_a_browser_would_run() -> None:
    html = "".join(str(render_markdown(p)) for p in XSS_PAYLOADS)
    assert "<script" not in html.lower()
    assert "javascript:" not in "".join(str(a.get("href")) for _, a in elements(html))


def test_raw_html_is_shown_as_text() -> None:
    assert str(render_markdown("<b>bold?</b>")) == "<p>&lt;b&gt;bold?&lt;/b&gt;</p>\n"


def test_formatting_survives() -> None:
    html = str(render_markdown("# Song\n\n*soft* **loud** `code`\n\n- one\n- two\n\n> quote"))
    for tag in ("<h1>Song</h1>", "<em>soft</em>", "<strong>loud</strong>", "<code>code</code>",
                "<li>one</li>", "<blockquote>"):  # fmt: skip
        assert tag in html


@pytest.mark.parametrize(
    "url", ["https://example.org/a?b=1", "http://example.org/", "mailto:me@example.org"]
)
def test_allowed_links_keep_their_url_and_get_rel(url: str) -> None:
    html = str(render_markdown(f"[see]({url})"))
    assert f'href="{url.replace("&", "&amp;")}"' in html
    assert 'rel="nofollow noopener noreferrer"' in html


def test_relative_links_lose_their_target() -> None:
    html = str(render_markdown("[admin](/admin/credentials)"))
    assert "href" not in html
    assert "admin" in html


def test_images_are_not_embedded() -> None:
    # A remote image would be fetched by every visitor's browser (a tracking pixel).
    html = str(render_markdown("![a cat](https://example.org/cat.png)"))
    assert "<img" not in html


def test_result_is_markup_and_empty_text_is_empty() -> None:
    assert isinstance(render_markdown("x"), Markup)
    assert str(render_markdown("")) == ""


def test_a_line_break_the_writer_typed_is_kept() -> None:
    # Lyrics and poems: each line stays a line, without CommonMark's two trailing spaces.
    html = str(render_markdown("The river runs\nthe lights come on"))
    assert html == "<p>The river runs<br>\nthe lights come on</p>\n"


def test_headings_are_renumbered_from_the_level_their_place_needs() -> None:
    # Whatever levels the writer used, the page's outline never skips one (axe heading-order).
    html = str(render_markdown("# A\n\n#### B\n\n## C", first_level=3))
    assert "<h3>A</h3>" in html and "<h5>B</h5>" in html and "<h4>C</h4>" in html
