"""Languages (issue 16): the catalogue check (every shipped language complete: a test fails on
any untranslated message id), the terminal's language for commands, and a helper the other
tests use to read pages in Spanish from a small catalogue of their own."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from portfolio.core import catalogue_check
from portfolio.core.i18n import TRANSLATIONS, environment_language

Entries = Mapping[str | tuple[str, str], str | tuple[str, ...]]


def write_catalogue(directory: Path, entries: Entries, *, language: str = "es") -> Path:
    """``directory/<language>/LC_MESSAGES/messages.po`` (and its ``.mo``) holding ``entries``
    (msgid, or (singular, plural), to its translation); returns the ``.po``."""
    catalogue = Catalog(locale=language)
    for msgid, string in entries.items():
        catalogue.add(msgid, string)
    folder = directory / language / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "messages.po").open("wb") as handle:
        write_po(handle, catalogue)
    with (folder / "messages.mo").open("wb") as handle:
        write_mo(handle, catalogue)
    return folder / "messages.po"


def use_catalogue(app: Any, directory: Path, entries: Entries) -> None:
    """Make ``app`` read its Spanish from a catalogue of ``entries`` only (so that a test does
    not depend on the shipped catalogue being assembled yet)."""
    write_catalogue(directory, entries)
    app.extensions["babel"].translation_directories = [str(directory)]


def template(*messages: str | tuple[str, str]) -> Catalog:
    catalogue = Catalog()
    for msgid in messages:
        catalogue.add(msgid)
    return catalogue


# -- the catalogue check ---------------------------------------------------------------------


def test_a_complete_catalogue_passes(tmp_path):
    write_catalogue(
        tmp_path,
        {
            "Hello": "Hola",
            "Hello %(name)s": "Hola, %(name)s",
            ("%(num)d file", "%(num)d files"): (
                "%(num)d archivo",
                "%(num)d archivos",
                "%(num)d archivos",
            ),
        },
    )
    ids = template("Hello", "Hello %(name)s", ("%(num)d file", "%(num)d files"))
    assert catalogue_check.check(tmp_path, ids) == []


def test_an_untranslated_id_fails(tmp_path, capsys):
    po = write_catalogue(tmp_path, {"Hello": "Hola", "Good night": ""})
    ids = template("Hello", "Good night")
    problems = catalogue_check.check(tmp_path, ids)
    assert problems == [f"{po}: 'Good night': not translated"]

    pot = tmp_path / "messages.pot"
    with pot.open("wb") as handle:
        write_po(handle, ids)
    assert catalogue_check.main([str(tmp_path), str(pot)]) == 1
    assert "'Good night': not translated" in capsys.readouterr().out


def test_missing_fuzzy_plural_and_placeholder_problems_are_listed(tmp_path):
    po = write_catalogue(
        tmp_path,
        {
            "Hello %(name)s": "Hola, %(nombre)s",
            ("%(num)d file", "%(num)d files"): ("%(num)d archivo", "", ""),
            "Later": "Luego",
        },
    )
    text = po.read_text(encoding="utf-8").replace('msgid "Later"', '#, fuzzy\nmsgid "Later"')
    po.write_text(text, encoding="utf-8")
    ids = template("Hello %(name)s", ("%(num)d file", "%(num)d files"), "Later", "Missing")
    problems = "\n".join(catalogue_check.check(tmp_path, ids))
    assert "'Hello %(name)s': placeholders differ" in problems
    assert "'%(num)d file': a plural form is empty" in problems
    assert "'Later': fuzzy" in problems
    assert "'Missing': missing" in problems


def test_msgfmt_problems_are_listed(tmp_path):
    po = write_catalogue(tmp_path, {"Hello": "Hola"})
    po.write_text(po.read_text(encoding="utf-8") + '\nmsgid "Hello"\nmsgstr "Otra vez"\n')
    problems = catalogue_check.check(tmp_path, template("Hello"))
    assert any(": msgfmt: " in problem for problem in problems)


def test_the_ids_are_extracted_from_the_code():
    ids = {message.id for message in catalogue_check.extract() if message.id}
    assert "Your profile" in ids  # a template
    assert "Browser default" in ids  # a form (lazy_gettext)
    assert "Choose a new Credfolio password" in ids  # a mail


def test_the_shipped_spanish_catalogue_is_complete():
    """Every message id of the code is translated in every shipped language (the failure
    lists each problem: run ``scripts/translations check``)."""
    problems = catalogue_check.check(TRANSLATIONS)
    assert not problems, "\n".join(problems[:200])


# -- the language of commands run in a terminal ----------------------------------------------


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({"LANG": "es_ES.UTF-8"}, "es"),
        ({"LANG": "en_GB.UTF-8", "LC_ALL": "es_MX"}, "es"),
        ({"LC_ALL": "de_DE.UTF-8", "LANG": "es_ES.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "es"}, "es"),
        ({}, "en"),
    ],
)
def test_the_terminal_language(environ, language):
    assert environment_language(environ) == language


def test_write_catalogue_output_is_readable(tmp_path):
    po = write_catalogue(tmp_path, {"Hello": "Hola"})
    assert io.BytesIO(po.read_bytes()).read().count(b"Hola") == 1


def test_lazy_messages_are_escaped_like_any_text(app):
    """Flask-Babel's lazy strings claim to be HTML; ours are text (an apostrophe or a ``<`` in
    a label or a form error is escaped)."""
    from flask import render_template_string
    from markupsafe import escape

    from portfolio.core.i18n import lazy_gettext

    message = lazy_gettext("Enter the person's name <now>.")
    with app.test_request_context():
        assert str(escape(message)) == "Enter the person&#39;s name &lt;now&gt;."
        page = render_template_string("{{ m }}|{{ [m]|join(' ') }}", m=message)
    assert (
        page == "Enter the person&#39;s name &lt;now&gt;.|Enter the person&#39;s name &lt;now&gt;."
    )


def test_a_domain_error_is_shown_in_the_reader_s_language_and_the_api_stays_english(app, tmp_path):
    from portfolio.core.errors import NotFoundError, handle_domain_error
    from portfolio.core.i18n import lazy_gettext

    use_catalogue(app, tmp_path / "catalogue", {"There is no %(what)s.": "No hay %(what)s."})
    with app.test_request_context(headers={"Accept-Language": "es"}):
        error = NotFoundError(lazy_gettext("There is no %(what)s.", what="X"))
        assert (error.message, error.english) == ("No hay X.", "There is no X.")
        assert handle_domain_error(error).get_json()["detail"] == "There is no X."


def test_pages_vary_on_the_browser_s_language(client):
    response = client.get("/sign-in")
    assert "Accept-Language" in response.headers.get("Vary", "")
