"""PDF rendering with WeasyPrint behind a URL fetcher that fetches nothing from the outside.

Pure: an HTML string in, PDF bytes out.  The fetcher serves ``data:`` URIs (size-limited) and an
explicit allow-list of our own in-memory resources, and refuses every other URL.  The PDFs'
styles come from ``portfolio/static/pdf.css``, read here and handed to WeasyPrint (the templates
link no stylesheet: nothing may be fetched).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from urllib.parse import unquote_to_bytes

from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

#: Largest ``data:`` URI we decode (the QR code and the badge are a few kilobytes).
MAX_DATA_URI_BYTES = 2 * 1024 * 1024
#: The base every relative URL is resolved against: a reserved name that can never be looked up
#: (RFC 6761 ``.invalid``), so that relative URLs too reach the fetcher, which refuses them.
#: (With no base at all WeasyPrint drops most of them, but a relative ``@import`` raises.)
NO_BASE_URL = "https://relative-url.invalid/"
#: Every PDF's stylesheet (the certificate's and the portfolio export's rules).
PDF_STYLESHEET = Path(__file__).resolve().parents[1] / "static" / "pdf.css"


class FetchRefusedError(ValueError):
    """A URL the PDF renderer is not allowed to fetch."""


class RestrictedFetcher(URLFetcher):  # type: ignore[misc]
    """A WeasyPrint URL fetcher that never touches the network or the file system.

    Serves only ``data:`` URIs of at most ``max_data_bytes`` decoded bytes and the URLs in
    ``allowed`` (``URL -> (media type, bytes)``, resources we generated ourselves).  Every
    other URL — ``http:``, ``https:``, ``file:``, ``ftp:``, anything — raises
    :class:`FetchRefusedError`, which WeasyPrint reports and renders around (the image or
    stylesheet is simply missing).  ``requested`` records every URL asked for, ``served``
    those that were answered, so tests can prove what happened.
    """

    def __init__(
        self,
        *,
        allowed: Mapping[str, tuple[str, bytes]] | None = None,
        max_data_bytes: int = MAX_DATA_URI_BYTES,
    ) -> None:
        # The parent builds urllib handlers we never call: fetch() below is the only way in,
        # and WeasyPrint calls nothing else (it calls the fetcher, which calls fetch()).
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self._allowed = dict(allowed or {})
        self._max_data_bytes = max_data_bytes
        self.requested: list[str] = []
        self.served: list[str] = []

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        """Return the resource for ``url``; raise :class:`FetchRefusedError` for anything that
        is neither a (small enough) ``data:`` URI nor on the allow-list."""
        self.requested.append(url)
        if url in self._allowed:
            media_type, body = self._allowed[url]
        elif url[:5].lower() == "data:":
            media_type, body = decode_data_uri(url, max_bytes=self._max_data_bytes)
        else:
            # Security: never follow a URL taken from a credential.  Remote URLs leak who opens
            # the certificate and can be slow or hostile; file: URLs would copy server files
            # into the PDF.  Even WeasyPrint's own allowed_protocols is not enough: a data:
            # SVG could still name other URLs, so every URL is judged here, one by one.
            raise FetchRefusedError(f"refusing to fetch {url[:80]!r}: only data: URIs are allowed")
        self.served.append(url)
        return URLFetcherResponse(url, body, {"Content-Type": media_type})

    def open(self, url: object, data: object = None, timeout: object = None) -> URLFetcherResponse:
        """urllib-style entry point: refused unless it names an allowed URL (as ``fetch``)."""
        full_url = getattr(url, "full_url", url)
        return self.fetch(str(full_url))


def decode_data_uri(url: str, *, max_bytes: int = MAX_DATA_URI_BYTES) -> tuple[str, bytes]:
    """Decode an RFC 2397 ``data:`` URI; return its media type and bytes.

    Raises :class:`FetchRefusedError` when it is malformed or decodes to more than
    ``max_bytes``.
    """
    header, comma, payload = url[5:].partition(",")
    if not comma:
        raise FetchRefusedError("malformed data: URI (no comma)")
    # Refuse before decoding anything big: base64 is 4/3 and percent-encoding at most 3 times
    # the decoded size.
    if len(payload) > max_bytes * 3 + 4:
        raise FetchRefusedError(f"data: URI larger than {max_bytes} bytes")
    params = [p.strip() for p in header.split(";")]
    is_base64 = bool(params) and params[-1].lower() == "base64"
    if is_base64:
        params.pop()
    media_type = params[0] if params and "/" in params[0] else "text/plain"
    raw = unquote_to_bytes(payload)
    if is_base64:
        try:
            body = base64.b64decode(raw, validate=False)
        except (binascii.Error, ValueError):
            raise FetchRefusedError("malformed data: URI (bad base64)") from None
    else:
        body = raw
    if len(body) > max_bytes:
        raise FetchRefusedError(f"data: URI larger than {max_bytes} bytes")
    return media_type, body


@cache
def pdf_stylesheet() -> CSS:
    """:data:`PDF_STYLESHEET`, parsed once per process (it names no URL, so fetches nothing)."""
    return CSS(
        string=PDF_STYLESHEET.read_text(encoding="utf-8"),
        base_url=NO_BASE_URL,
        url_fetcher=RestrictedFetcher(),
    )


def render_pdf(
    html: str,
    *,
    fetcher: RestrictedFetcher | None = None,
    uncompressed: bool = False,
    stylesheets: Sequence[CSS] = (),
) -> bytes:
    """Render ``html`` to PDF bytes (tagged for screen readers; ``uncompressed`` streams make
    the bytes searchable, for tests), styled by :func:`pdf_stylesheet` and then
    ``stylesheets``.

    Every URL goes through ``fetcher`` (a fresh :class:`RestrictedFetcher` by default),
    relative ones resolved against :data:`NO_BASE_URL`, which it refuses like any other.
    Raises nothing for refused URLs: the resource is left out of the PDF.
    """
    document = HTML(string=html, base_url=NO_BASE_URL, url_fetcher=fetcher or RestrictedFetcher())
    return document.write_pdf(  # type: ignore[no-any-return]
        stylesheets=[pdf_stylesheet(), *stylesheets], pdf_tags=True, uncompressed_pdf=uncompressed
    )
