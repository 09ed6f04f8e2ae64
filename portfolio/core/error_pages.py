"""Readable HTML error pages for every page outside the JSON API (whose blueprints answer in
JSON: :mod:`portfolio.core.errors`)."""

from __future__ import annotations

from flask import Flask, current_app, render_template
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

from portfolio.core.db import db
from portfolio.core.errors import CredfolioError, status_for
from portfolio.core.i18n import lazy_gettext as _l

# Plain-language pages for errors outside the JSON API (whose blueprints answer in JSON).
_MESSAGES = {
    400: (
        _l("The request could not be understood"),
        _l(
            "Something in the request was not valid. "
            "If you submitted a form, reload the page and try again."
        ),
    ),
    401: (_l("Please sign in"), _l("This page needs you to sign in first.")),
    403: (_l("Not allowed"), _l("Your account is not allowed to do this.")),
    405: (_l("Not allowed here"), _l("This address does not accept that kind of request.")),
}


def _error_page(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    if code in (404, 413, 500):
        return render_template(f"errors/{code}.html", limit_mib=None), code
    known = _MESSAGES.get(code)
    title, message = (str(known[0]), str(known[1])) if known else (error.name, error.description)
    if code == 400 and error.description:
        # Werkzeug's and Flask-WTF's descriptions are fixed, safe texts (e.g. "The CSRF token
        # is missing."); they tell the person what to fix.  Jinja escapes them anyway.
        message = _("%(message)s (%(detail)s)", message=message, detail=error.description)
    page = render_template("errors/generic.html", title=title, message=message or "", status=code)
    return page, code


def unexpected_error_page(error: Exception) -> tuple[str, int]:
    if isinstance(error, HTTPException):
        return _error_page(error)
    db.session.rollback()  # never leave a half-done unit of work in the session
    current_app.logger.exception("unexpected error", exc_info=error)
    return _error_page(InternalServerError())


def domain_error_page(error: CredfolioError) -> tuple[str, int]:
    """A service's refusal that no page handled itself: the page of its status, with the
    refusal's own (safe) message."""
    db.session.rollback()
    status = status_for(error)
    title = _TITLES.get(status, _l("This cannot be done"))
    page = render_template("errors/generic.html", title=title, message=error.message, status=status)
    return page, status


_TITLES = {
    403: _l("Not allowed"),
    404: _l("Page not found"),
    409: _l("This cannot be done now"),
    422: _l("This cannot be done as asked"),
    503: _l("Not available right now"),
}


def register_error_pages(app: Flask) -> None:
    """Readable HTML error pages for every page of the app (blueprints may override)."""
    for code in (400, 401, 403, 404, 405, 413):
        app.register_error_handler(code, _error_page)
    app.register_error_handler(CredfolioError, domain_error_page)
    app.register_error_handler(Exception, unexpected_error_page)
