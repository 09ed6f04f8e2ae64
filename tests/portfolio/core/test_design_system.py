"""The design system (issue 16): portfolio/static/credfolio.css styles every class of the shared
vocabulary that templates use, has the sections other pages append to, and keeps narrow screens
from scrolling sideways."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STYLESHEET = Path(__file__).resolve().parents[3] / "portfolio" / "static" / "credfolio.css"

#: The class names of the vocabulary (docs: the issue-16 notes), each needing a rule.
_VOCABULARY = """
page-head lead stack cluster split split-main split-side visually-hidden muted small
button secondary danger quiet actions
alert alert-success alert-warning alert-error alert-info alert-title
cards card card-media card-body card-title card-meta card-actions
pill pill-ok pill-bad pill-warn pill-info pill-muted
responsive table-scroll empty
verdict verdict-ok verdict-bad verdict-warn verdict-unknown
stats stat prose disclosure
field hint error-message field-error error-summary
menu site-header site-footer skip
"""
VOCABULARY = _VOCABULARY.split()


@pytest.fixture(scope="module")
def css() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", VOCABULARY)
def test_every_class_of_the_vocabulary_has_a_rule(css: str, name: str) -> None:
    assert re.search(rf"\.{re.escape(name)}(?![\w-])", css), name


def test_the_sections_are_marked_and_pages_come_last(css: str) -> None:
    sections = re.findall(r"/\* == ([\w :()-]+?) == \*/", css)
    assert sections[0] == "tokens" and sections[-1] == "pages"
    for component in ("buttons", "fields", "alerts", "cards", "pills", "tables", "header"):
        assert f"component: {component}" in sections


def test_text_colours_are_tokens_with_a_contrast_of_at_least_4_5(css: str) -> None:
    tokens = dict(re.findall(r"--(c-[\w-]+):\s*(#[0-9a-fA-F]{6})", css))

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    def contrast(a: str, b: str) -> float:
        high, low = sorted((luminance(a), luminance(b)), reverse=True)
        return (high + 0.05) / (low + 0.05)

    pairs = [
        ("c-text", "c-bg"),
        ("c-muted", "c-bg"),
        ("c-muted", "c-surface"),
        ("c-link", "c-bg"),
        ("c-link-visited", "c-bg"),
        ("c-on-primary", "c-primary"),
        ("c-on-primary", "c-primary-dark"),
        ("c-primary-dark", "c-info-bg"),
        *[(f"c-{tone}", f"c-{tone}-bg") for tone in ("ok", "bad", "warn", "info", "neutral")],
    ]
    for text, background in pairs:
        ratio = contrast(tokens[text], tokens[background])
        assert ratio >= 4.5, f"{text} on {background}: {ratio:.2f}"


def test_media_never_widen_the_page_and_responsive_tables_stack(css: str) -> None:
    assert re.search(r"img, svg, video[^{]*\{[^}]*max-width: 100%", css)
    assert "td[data-label]::before { content: attr(data-label)" in css
    assert re.search(r"@media \(max-width: 39\.99rem\)", css)
