"""Students' Markdown (narratives, cover texts) rendered to sanitized HTML.

Pure: CommonMark without raw HTML (markdown-it-py), then an allow-list sanitizer (nh3).
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

#: Tags CommonMark produces that we keep.  Images are left out on purpose: an image in a
#: narrative would be fetched from anywhere by every visitor's browser (tracking pixels).
ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "em", "strong", "code", "pre", "blockquote",
        "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
#: Only these URL schemes survive in links (no ``javascript:``, ``data:``, ``vbscript:``).
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"

# "breaks": a line break the writer typed is kept (lyrics, poems, addresses): students do not
# write CommonMark's two trailing spaces.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).disable(
    "image"
)


def render_markdown(
    text: str, *, heading_offset: int = 0, first_level: int | None = None
) -> Markup:
    """Render ``text`` (CommonMark) to HTML that is safe to put into a page as is.

    Raw HTML in the source is shown as text (``html=False``); the result is then cleaned by
    nh3 with an allow-list of tags, attributes and URL schemes, and every link gets
    ``rel="nofollow noopener noreferrer"`` (no reputation given to, or window handed to, the
    linked site).  Relative URLs are removed: a student's text cannot point into our own
    pages.  ``heading_offset`` demotes headings (``# Title`` becomes ``<h4>`` with offset 3,
    never past ``<h6>``) so a student's text nests under the page's own headings;
    ``first_level`` instead renumbers them without gaps from that level (``# A`` then ``### B``
    become ``<h3>``, ``<h4>`` with 3), so the page's outline never skips a level (WCAG 1.3.1,
    axe ``heading-order``), whatever levels the writer used.  Returns
    :class:`markupsafe.Markup`, so Jinja2 does not escape it again.  Raises nothing.
    """
    env: dict[str, object] = {}
    tokens = _markdown.parse(text or "", env)
    if first_level is not None:
        used = sorted({int(t.tag[1]) for t in tokens if t.type == "heading_open"})
        renumbered = {level: min(first_level + rank, 6) for rank, level in enumerate(used)}
        for token in tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = f"h{renumbered[int(token.tag[1])]}"
    elif heading_offset:
        for token in tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = f"h{min(int(token.tag[1]) + heading_offset, 6)}"
    html = _markdown.renderer.render(tokens, _markdown.options, env)
    # Defence in depth: markdown-it already escapes raw HTML and refuses javascript: links,
    # but the sanitizer is what we rely on for what reaches the page.
    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
        url_relative="deny",
    )
    return Markup(cleaned)  # noqa: S704  (sanitized by nh3 just above)
