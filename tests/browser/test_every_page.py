"""Every page each kind of person can reach, inspected: as anonymous, a student, an assessor,
an administrator and a guardian (the demo's Grace), the same-origin links reachable from the
role's home are followed breadth first, and each page must pass axe-core with zero violations
of any impact and not scroll sideways at 320 or 390 px (WCAG 1.4.10).  A few instances per URL
pattern (ids collapsed) keep the crawl short; downloads, files and sign-out are left out."""

from __future__ import annotations

import re
from collections import Counter, deque
from urllib.parse import urldefrag, urlsplit

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Demo, Inspector

pytestmark = pytest.mark.browser

#: Pages of one URL pattern inspected per role (the rest are the same template).
PER_PATTERN = 1
#: A ceiling per role, so that a page linking to itself with new query strings cannot run away.
MAX_PAGES = 60
#: Links not followed: files, downloads, feeds and the API, and what signs out or deletes.
SKIPPED_SUFFIXES = (
    ".json",
    ".png",
    ".pdf",
    ".svg",
    ".csv",
    ".zip",
    ".vtt",
    ".txt",
    ".xml",
    ".wav",
    ".mp3",
)
SKIPPED_PARTS = re.compile(
    r"/(sign-out|artefacts|thumbnail|image|photo|metrics|healthz|readyz|api|status)(/|$)"
    r"|/export\b|/download\b|/delete$"
)
#: Public pages (the same for everyone but the header, which every role's other pages show):
#: inspected once per module, by whichever role reaches a pattern first.
PUBLIC = re.compile(r"^/(c|p|verify|issuers|achievements)(/|$)")
_public_inspected: set[tuple[str, str]] = set()
_ID_SEGMENT = re.compile(
    r"^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9_-]{16,})$"
)


def pattern(url: str) -> str:
    """The URL's pattern: numeric, UUID and token path segments collapsed, query keys kept."""
    parts = urlsplit(url)
    path = "/".join("<id>" if _ID_SEGMENT.match(s) else s for s in parts.path.split("/"))
    keys = sorted({pair.split("=", 1)[0] for pair in parts.query.split("&") if pair})
    return path + ("?" + "&".join(keys) if keys else "")


def followed(url: str, origin: str) -> bool:
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return False
    path = parts.path.lower()
    return not path.endswith(SKIPPED_SUFFIXES) and not SKIPPED_PARTS.search(path)


def links(page: Page) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all(
        "a[href]:not([download])", "els => els.map(e => e.href)"
    )
    return [urldefrag(href).url for href in hrefs]


def crawl(
    page: Page, starts: list[str], origin: str, inspect: Inspector, language: str = "en"
) -> tuple[list[str], list[str]]:
    """Inspect every page reachable from ``starts``; returns (URLs inspected, problems)."""
    queue = deque(starts)
    seen = set(starts)
    per_pattern: Counter[str] = Counter()
    visited: list[str] = []
    problems: list[str] = []
    while queue and len(visited) < MAX_PAGES:
        url = queue.popleft()
        key = pattern(url)
        if per_pattern[key] >= PER_PATTERN:
            continue
        response = page.goto(url)
        if response is None or "text/html" not in (response.header_value("content-type") or ""):
            continue
        if response.status in (401, 403, 404) or response.status >= 500:
            # A link a page offers must lead somewhere (410 Gone, e.g. the evidence of a
            # revoked credential, is a deliberate answer: its page is inspected like any other).
            problems.append(f"{url} answered {response.status} (linked from a page)")
            continue
        if urlsplit(page.url).path == "/sign-in" and urlsplit(url).path != "/sign-in":
            continue  # a link this role may not follow; the authorization tests cover it
        per_pattern[key] += 1
        path = urlsplit(url).path
        if not (PUBLIC.match(path) and (language, key) in _public_inspected):
            _public_inspected.add((language, key))
            visited.append(url)
            problems.extend(inspect.check(page, path.strip("/") or "home"))
        for link in links(page):
            if link not in seen and followed(link, origin):
                seen.add(link)
                queue.append(link)
    return visited, problems


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("role", [None, "student", "assessor", "admin", "grace"], ids=str)
def test_every_page_passes_axe_and_fits_320_px(
    demo: Demo, role: str | None, language: str, axe_source: str
) -> None:
    """In English and in Spanish (longer words: a button or a pill that fits in English may
    not), every page a role can reach passes axe-core and fits 320 px."""
    page = demo.signed_in(role)
    home = page.url if role is not None else demo.url + "/"
    page.set_extra_http_headers({"Accept-Language": language})
    # Screenshots are the journeys' business (tests/browser/test_journeys.py): a crawl of every
    # page with four full-page screenshots each would take minutes.
    inspect = Inspector(
        journey=f"every-page-{role or 'anonymous'}-{language}",
        axe_source=axe_source,
        screenshots=False,
    )
    starts = [home]
    if role is None:
        # What nobody links to but everyone is sent: credential pages, active and revoked.
        starts += [
            f"{demo.url}/c/{demo.credentials['maya-song']}",
            f"{demo.url}/c/{demo.revoked}",
            f"{demo.url}/verify",
        ]
    visited, problems = crawl(page, starts, demo.url, inspect, language)
    assert len(visited) >= 2, visited
    assert not problems, f"{len(problems)} problem(s) on {len(visited)} pages:\n" + "\n".join(
        problems
    )
