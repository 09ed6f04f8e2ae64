"""The evidence pages' forms (WTForms): a piece of evidence (title, narrative, kind of work,
competencies), a file or a link to add as an artefact, and the up/down buttons that reorder."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import FileStorage
from wtforms import SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from portfolio.core.i18n import lazy_gettext as _l
from portfolio.evidence.service import MAX_COMPETENCIES, MAX_GENRE, MAX_NARRATIVE, MAX_TITLE
from portfolio.files.uploads import UploadError, check_link


class PageForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF has no type hints: FlaskForm is Any
    """A form of the evidence (or portfolio) pages: the request's form and files.  CSRF tokens
    are checked for every POST by ``CSRFProtect`` before any view runs, so the forms do not
    check them again."""

    class Meta:
        csrf = False  # CSRFProtect has checked the token of every POST before the view ran

    def errors_by_field(self) -> dict[str, str]:
        """The first error of each field in error, by field name (after :meth:`validate`)."""
        return {name: field.errors[0] for name, field in self._fields.items() if field.errors}

    def as_sent(self) -> dict[str, str]:
        """The form's fields as they were sent (to show them again), by name."""
        sent = {name: getattr(field, "raw_data", None) for name, field in self._fields.items()}
        return {name: raw[0] for name, raw in sent.items() if raw and isinstance(raw[0], str)}


def _stripped(value: Any) -> str:
    return (value or "").strip() if isinstance(value, str | None) else value


def _optional_text(value: Any) -> str | None:
    return _stripped(value) or None


def _title(required: Any) -> Any:
    """A title: stripped, required (with that message), at most :data:`MAX_TITLE` characters."""
    return StringField(
        filters=[_stripped],
        validators=[
            DataRequired(required),
            Length(
                max=MAX_TITLE,
                message=_l("The title must have at most %(most)d characters.", most=MAX_TITLE),
            ),
        ],
    )


class EvidenceForm(PageForm):
    """A piece of evidence.  Competencies are ticked from the school's catalogue
    (``catalogue``, their Achievement ids) or typed, one absolute http(s) URL a line
    (``competencies``)."""

    title = _title(_l("Enter a title."))
    genre = StringField(
        filters=[lambda value: " ".join((value or "").split()) or None],
        validators=[
            Length(
                max=MAX_GENRE,
                message=_l(
                    "The kind of work must have at most %(most)d characters.", most=MAX_GENRE
                ),
            )
        ],
    )
    narrative = StringField(
        filters=[lambda value: value or ""],
        validators=[
            Length(
                max=MAX_NARRATIVE,
                message=_l(
                    "The narrative must have at most %(most)d characters.", most=MAX_NARRATIVE
                ),
            )
        ],
    )
    competencies = StringField(default="")
    catalogue = SelectMultipleField(validate_choice=False)

    def competency_urls(self) -> list[str]:
        """The ticked Achievement ids, then the typed lines, each once, blanks left out."""
        chosen = [value.strip() for value in self.catalogue.data or [] if value.strip()]
        lines = [line.strip() for line in (self.competencies.data or "").splitlines()]
        return list(dict.fromkeys([*chosen, *(line for line in lines if line)]))

    def validate_competencies(self, field: Any) -> None:
        urls = self.competency_urls()
        if len(urls) > MAX_COMPETENCIES:
            raise ValidationError(_("List at most %(most)d competencies.", most=MAX_COMPETENCIES))
        for url in urls:
            try:
                check_link(url)
            except UploadError:
                raise ValidationError(_("Not a web address: %(url)s", url=url[:80])) from None

    def values(self) -> dict[str, Any]:
        """The evidence's fields as sent (checked once :meth:`validate` passed)."""
        return {
            "title": self.title.data,
            "narrative": self.narrative.data,
            "genre": self.genre.data,
            "competencies": self.competency_urls(),
        }


class FileArtefactForm(PageForm):
    """A file to add as an artefact, with its title and accessibility texts."""

    file_title = _title(_l("Enter a title for the file."))
    file = FileField(validators=[FileRequired(_l("Choose a file to upload."))])
    alt_text = StringField(filters=[_optional_text])
    captions_vtt = StringField(filters=[_optional_text])
    transcript = StringField(filters=[_optional_text])

    def upload(self) -> FileStorage:
        """The chosen file (once :meth:`validate` passed)."""
        upload: FileStorage = self.file.data
        return upload


class LinkArtefactForm(PageForm):
    """A link to add as an artefact: its title and address."""

    link_title = _title(_l("Enter a title for the link."))
    url = StringField(
        filters=[_stripped], validators=[DataRequired(_l("Enter the link's address."))]
    )


class MoveForm(PageForm):
    """An up or down button (``direction``)."""

    direction = StringField(default="")
