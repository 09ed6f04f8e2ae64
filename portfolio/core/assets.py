"""The pages' static files (``portfolio/static``, served under ``/static``) with versioned URLs.

Templates link a file with ``asset_url('credfolio.css')``: ``/static/credfolio.css?v=<the
first 12 hex digits of its sha256>``.  The digest is read once per process, so a new release
with a changed file gets a new URL, and browsers may keep a versioned response for a year
(``immutable``): they never ask for it again.  A request whose version is not the file's current
one (a page from before a release) gets the file without that promise.

:func:`init_app` registers the Jinja global and the ``Cache-Control`` hook.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Flask, Response, current_app, request, url_for

#: Hex digits of the sha256 in a versioned URL.
VERSION_LENGTH = 12
#: A versioned file never changes: a year (the longest RFC 9111 advises), and ``immutable``.
VERSIONED_CACHE_CONTROL = "public, max-age=31536000, immutable"


@cache
def file_version(path: Path) -> str:
    """The first :data:`VERSION_LENGTH` hex digits of the sha256 of the file at ``path``
    (read once per process).  Raises ``OSError`` when it cannot be read."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:VERSION_LENGTH]


def _static_path(filename: str) -> Path:
    folder = current_app.static_folder
    if folder is None:
        raise RuntimeError("the app serves no static folder")
    path = (Path(folder) / filename).resolve()
    if not path.is_relative_to(Path(folder).resolve()):
        raise ValueError(f"{filename!r} is not inside the static folder")
    return path


def asset_url(filename: str) -> str:
    """The versioned URL of ``filename`` in the static folder (needs an app context)."""
    return url_for("static", filename=filename, v=file_version(_static_path(filename)))


def cache_versioned_files(response: Response) -> Response:
    """Let browsers keep a static file requested with its current version for a year."""
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return response
    filename = (request.view_args or {}).get("filename", "")
    try:
        current = file_version(_static_path(filename))
    except (OSError, ValueError):
        return response
    if request.args.get("v") == current:
        response.headers["Cache-Control"] = VERSIONED_CACHE_CONTROL
    return response


def init_app(app: Flask) -> None:
    """Give ``app``'s templates ``asset_url`` and cache its versioned static files."""
    app.add_template_global(asset_url)
    app.after_request(cache_versioned_files)
