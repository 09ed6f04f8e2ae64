"""Absolute links to this service, built from the configured public URL
(``CREDFOLIO_PUBLIC_URL``) — never from a request's Host header, so that a forged Host cannot
end up in a mail, an export or a signed identifier, and so that they work with no request at
all (the CLI, bulk jobs)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from portfolio.core.settings import settings


def public_url() -> str:
    """The configured public URL without a trailing slash (needs an app context)."""
    return settings().public_url.rstrip("/")


def public_link(path: str) -> str:
    """``path`` (``/...``, a path inside the service) as an absolute URL."""
    return public_url() + path


def public_url_for(endpoint: str, **values: Any) -> str:
    """An absolute link to ``endpoint`` (as ``url_for`` names it) on the public URL, its path
    prefix included."""
    parts = urlsplit(public_url())
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
    )
    return adapter.build(endpoint, values, force_external=True)
