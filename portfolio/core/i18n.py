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

import functools
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
from flask import Flask, Response, current_app, has_request_context, request
from flask_babel import (
    Babel,
    force_locale,
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    gettext,
)
from flask_babel.speaklater import LazyString
from markupsafe import Markup

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
    """The profile's language, else the best of ``Accept-Language``, else English (outside a
    request: English, or the terminal's language in a command, see
    :func:`in_terminal_language`)."""
    if not has_request_context():
        return _TERMINAL_LANGUAGE.get()  # English, or the terminal's in a command
    return (
        _profile_language()
        or request.accept_languages.best_match(list(LANGUAGES))
        or DEFAULT_LANGUAGE
    )


def current_language() -> str:
    """The language of the response being made (``en`` outside a request)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


class LazyText(LazyString):  # type: ignore[misc]  # Flask-Babel is untyped
    """A message translated when it is used, which Jinja and WTForms escape like any text.

    Flask-Babel's own lazy string claims to be HTML (``__html__``), so that a form error or a
    label holding an apostrophe or a ``<`` would be written into the page unescaped."""

    def __getattribute__(self, name: str) -> Any:
        if name == "__html__":
            raise AttributeError(name)
        return super().__getattribute__(name)


def lazy_gettext(string: str, **variables: Any) -> LazyText:
    """``gettext(string, **variables)`` when the message is used (in the reader's language at
    that moment): for form labels, validator messages and other module-level messages."""
    return LazyText(gettext, string, **variables)


@contextmanager
def in_language(language: str | None) -> Iterator[None]:
    """Make what is inside in ``language`` (a person's ``locale``; None or one Credfolio does
    not ship: English): mail and notices go out in the recipient's language, not the
    sender's.  Needs an application context (without one, gettext is English anyway)."""
    with force_locale(language if language in LANGUAGES else DEFAULT_LANGUAGE):
        yield


def environment_language(environ: Mapping[str, str] | None = None) -> str:
    """The language of a terminal: ``LC_ALL``, else ``LC_MESSAGES``, else ``LANG``
    (``es_ES.UTF-8`` gives ``es``), when it names a language Credfolio ships; else English."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "").strip()
        if value:
            code = value.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
            return code if code in LANGUAGES else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


P = ParamSpec("P")
R = TypeVar("R")


#: The language of the command being run from a terminal (outside any request).
_TERMINAL_LANGUAGE: ContextVar[str] = ContextVar("credfolio_terminal_language", default="en")


def _in_environment_language(callback: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(callback)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        language = environment_language()
        token = _TERMINAL_LANGUAGE.set(language)
        try:
            # The app context may be pushed already (then its cached language is replaced) or
            # only by the command itself (then select_language reads the variable).
            with in_language(language):
                return callback(*args, **kwargs)
        finally:
            _TERMINAL_LANGUAGE.reset(token)

    return run


def in_terminal_language(command: click.Command) -> click.Command:
    """Make ``command`` (and, for a group, every command under it) speak the terminal's
    language (:func:`environment_language`) to the person at the keyboard.  The app registers
    every feature's commands through this.  A command's help text is a lazy string, so
    ``--help`` is translated too once the app's context is pushed (Flask's CLI does)."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            in_terminal_language(sub)
    if command.callback is not None and not getattr(command.callback, "_in_language", False):
        command.callback = _in_environment_language(command.callback)
        command.callback._in_language = True  # type: ignore[attr-defined]  # a marker
    return command


def format_number(value: Any) -> str:
    """A number in the reader's locale (``1,234`` / ``1.234``)."""
    return str(format_decimal(value))


def _vary_on_language(response: Response) -> Response:
    """A page's words depend on ``Accept-Language``: say so to caches."""
    if response.mimetype == "text/html":
        response.vary.add("Accept-Language")
    return response


def markdown_filter(text: str | None, first_level: int = 2) -> Markup:
    """``{{ text|markdown }}``: Markdown rendered and sanitized, its headings renumbered from
    ``first_level`` (h2 by default: never a skipped level, wherever the text sits)."""
    return render_markdown(text or "", first_level=first_level)


def init_app(app: Flask) -> None:
    """Install Flask-Babel with the language selector and the formatting filters."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    # WTForms' own messages ("Field must be…") in the reader's language, from WTForms' catalogues.
    app.config.setdefault("WTF_I18N_ENABLED", True)
    Babel(app, locale_selector=select_language)
    app.after_request(_vary_on_language)
    app.add_template_filter(format_date, "format_date")
    app.add_template_filter(format_datetime, "format_datetime")
    app.add_template_filter(format_number, "format_number")
    app.add_template_global(current_language)
    # Feedback, narratives and descriptions are Markdown: ``{{ text|markdown }}`` renders and
    # sanitizes it, so no page shows raw ``**`` (issue 16).
    app.add_template_filter(markdown_filter, "markdown")
    app.jinja_env.globals["languages"] = LANGUAGES
