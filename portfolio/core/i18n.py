"""Languages (issue 16, "Languages"): every user-facing string goes through gettext.

Flask-Babel picks the reader's language: the profile's choice when a signed-in person made one
(the accounts feature registers it under ``PROFILE_LANGUAGE``), else the browser's
``Accept-Language``, else English.  Catalogues live in
``portfolio/translations/<lang>/LC_MESSAGES/messages.po`` and are compiled at install
(``scripts/translations compile``, run by ``scripts/bootstrap``).

Templates use ``_('…')`` / ``ngettext`` (Jinja's i18n extension, installed by Flask-Babel) and
the filters ``format_date``, ``format_datetime``, ``format_number``; Python code uses
``gettext`` / ``lazy_gettext`` from :mod:`flask_babel`.  Credential content is never translated:
it stays as issued.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel, format_date, format_datetime, format_decimal, get_locale

from portfolio.core.markdown import render_markdown

#: The languages Credfolio ships, English first (the source language).
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español"}
DEFAULT_LANGUAGE = "en"
TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"


#: ``app.extensions`` key of a callable giving the signed-in person's chosen language (or
#: None): the accounts feature registers it, as ``core`` imports no feature.
PROFILE_LANGUAGE = "credfolio.profile_language"


def _profile_language() -> str | None:
    """The signed-in person's chosen language, if the accounts feature records one."""
    source: Callable[[], str | None] | None = current_app.extensions.get(PROFILE_LANGUAGE)
    chosen = source() if source is not None else None
    return chosen if chosen in LANGUAGES else None


def select_language() -> str:
    """The profile's language, else the best of ``Accept-Language``, else English."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    return (
        _profile_language()
        or request.accept_languages.best_match(list(LANGUAGES))
        or DEFAULT_LANGUAGE
    )


def current_language() -> str:
    """The language of the response being made (``en`` outside a request)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def format_number(value: Any) -> str:
    """A number in the reader's locale (``1,234`` / ``1.234``)."""
    return str(format_decimal(value))


def init_app(app: Flask) -> None:
    """Install Flask-Babel with the language selector and the formatting filters."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_language)
    app.add_template_filter(format_date, "format_date")
    app.add_template_filter(format_datetime, "format_datetime")
    app.add_template_filter(format_number, "format_number")
    app.add_template_global(current_language)
    # Feedback, narratives and descriptions are Markdown: ``{{ text|markdown }}`` renders and
    # sanitizes it, so no page shows raw ``**`` (issue 16).
    app.add_template_filter(render_markdown, "markdown")
    app.jinja_env.globals["languages"] = LANGUAGES
