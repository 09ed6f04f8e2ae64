"""The public pages' forms: the /verify form (paste a credential or upload one)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SubmitField, TextAreaField

from portfolio.core.i18n import lazy_gettext as _l


class VerifyForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF: untyped
    """Paste a credential or upload one (JSON, or a baked PNG/SVG badge)."""

    credential = TextAreaField(_l("Paste a credential (JSON)"))
    upload = FileField(_l("Or choose a file: a credential (.json) or a baked badge (.png, .svg)"))
    submit = SubmitField(_l("Verify"))
