"""The forms of the administrators' pages: searching the credentials list; suspending,
unsuspending and revoking a credential; the issuer page's status option; the trust list and the
school's recipient identity."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Form,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portfolio.accounts import recipient_identity
from portfolio.core.i18n import lazy_gettext as _l

MAX_REASON_LENGTH = 500  # what the service keeps of a reason
MAX_QUERY_LENGTH = 200


def _search_text(value: Any) -> str:
    return str(value or "").strip()[:MAX_QUERY_LENGTH]


class CredentialSearchForm(Form):  # type: ignore[misc]  # WTForms: untyped
    """The list's query string (``?q=...&page=N``), read with ``formdata=request.args``; a GET
    form, so without a CSRF token.  Anything unreadable falls back to "no search, page 1"."""

    q = StringField(filters=[_search_text])
    page = IntegerField(default=1)

    @property
    def page_number(self) -> int:
        """The page asked for; 1 when the number is missing, unreadable or 0."""
        return int(self.page.data or 1)


class SuspendForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF: untyped
    reason = TextAreaField(
        _l("Reason for the suspension"),
        validators=[DataRequired(_l("Give a reason.")), Length(max=MAX_REASON_LENGTH)],
    )


class UnsuspendForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF: untyped
    reason = TextAreaField(
        _l("Note (optional)"), validators=[Optional(), Length(max=MAX_REASON_LENGTH)]
    )


class RevokeForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF: untyped
    """Revocation is final, so it takes a reason and an explicit confirmation (no JavaScript)."""

    reason = TextAreaField(
        _l("Reason for the revocation"),
        validators=[DataRequired(_l("Give a reason.")), Length(max=MAX_REASON_LENGTH)],
    )
    confirm = BooleanField(
        _l("I understand that revocation is final: this credential can never be valid again."),
        validators=[DataRequired(_l("Tick the box to confirm the revocation."))],
    )


class TrustedIssuerForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF: untyped
    """An issuer to add to the local trust list (issuer-trust)."""

    did = StringField(
        _l("Issuer identifier (DID or https URL)"),
        validators=[DataRequired(_l("Give the issuer's DID.")), Length(max=512)],
    )
    name = StringField(
        _l("Name to show for it"),
        validators=[DataRequired(_l("Give the name to show.")), Length(max=256)],
    )
    url = URLField(_l("Its web site (optional)"), validators=[Optional(), Length(max=1024)])


class RemoveTrustedIssuerForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF: untyped
    """Removing an entry: only the CSRF token."""


class RecipientIdentityForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF: untyped
    recipient_identity = RadioField(
        _l("How new credentials name the student"),
        choices=[
            SelectChoice(value.value, label) for value, label, _ in recipient_identity.CHOICES
        ],
        validators=[DataRequired(_l("Choose one."))],
    )


class IssuerStatusForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF: untyped
    """The issuer page's status option: whether new credentials carry a suspension entry."""

    offers_suspension = BooleanField(
        _l("Offer suspension: new credentials also carry a suspension status entry")
    )


class IssuerProfileForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF: untyped
    """The issuer's profile, as new credentials will carry it."""

    name = StringField(_l("Name"))
    url = StringField(_l("Web site"))
    email = StringField(_l("Email address"))
    image = StringField(_l("Logo (the address of an image)"))
    description = TextAreaField(_l("Description"))

    def values(self) -> dict[str, str | None]:
        return {name: self[name].data for name in ("name", "url", "email", "image", "description")}
