"""The audit log page's filter form (WTForms, read from the query string: a GET form, no CSRF
token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField

from portfolio.audit.filters import FILTER_NAMES, MAX_ACTOR_LENGTH, AuditFilter


class AuditFilterForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF's base class is untyped
    """``action``, ``actor``, ``since``, ``until`` and the ``page`` number; the rules are
    :meth:`AuditFilter.from_args`'s, so the page and its exports judge filters alike."""

    class Meta:
        csrf = False

    action = StringField()
    actor = StringField()
    since = StringField()
    until = StringField()
    page = StringField()

    def filters(self) -> AuditFilter:
        """The filters given.  Raises :class:`~portfolio.audit.filters.AuditFilterError`."""
        return AuditFilter.from_args({name: self[name].data for name in FILTER_NAMES})

    def values(self) -> dict[str, str]:
        """The filters as typed (cut to a sane length), to fill the form in again."""
        return {name: (self[name].data or "")[:MAX_ACTOR_LENGTH] for name in FILTER_NAMES}

    def page_number(self) -> int:
        """The page asked for: 1 unless a whole number other than 0 is given."""
        try:
            return int(self.page.data or 1) or 1
        except ValueError:
            return 1
