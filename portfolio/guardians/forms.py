"""The guardians pages' forms (WTForms; Flask-WTF adds the CSRF token): inviting and linking
guardians, a student's minor status, the age rule, and consent given or withdrawn."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional, ValidationError

from portfolio.accounts.auth import is_valid_email
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.guardians.admin import MAX_AGE_RULE, MIN_AGE_RULE
from portfolio.guardians.service import MAX_NOTE

# Flask-WTF's FlaskForm is untyped: every form below subclasses it, hence one ignore per class.


class GuardianInvitationForm(FlaskForm):  # type: ignore[misc]  # untyped base
    """A guardian's address and name, and the students they are invited for."""

    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Enter the email address.")), Length(max=320)],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Enter the person's name.")), Length(max=256)]
    )
    #: Student ids (the page lists the school's students as checkboxes).
    students = SelectMultipleField(
        _l("Their students"),
        coerce=int,
        validate_choice=False,
        validators=[DataRequired(_l("Choose at least one student."))],
    )

    def validate_email(self, field: EmailField) -> None:
        if not is_valid_email(field.data or ""):
            raise ValidationError(_("This is not an email address."))


class LinkStudentForm(FlaskForm):  # type: ignore[misc]  # untyped base
    """Link an existing guardian to one more student."""

    student = SelectField(
        _l("Student"),
        coerce=int,
        validate_choice=False,
        validators=[DataRequired(_l("Choose a student."))],
    )


class ConfirmForm(FlaskForm):  # type: ignore[misc]  # untyped base
    """The confirmation step of an action that is hard to undo (``confirm=yes``)."""

    confirm = StringField(validators=[AnyOf(("yes",), message=_l("Confirm to continue."))])


class MinorForm(FlaskForm):  # type: ignore[misc]  # untyped base
    """Whether the school marks a student a minor, and her birth date."""

    minor = BooleanField(_l("The school marks this student a minor"))
    birth_date = DateField(
        _l("Birth date"),
        validators=[Optional()],
        format="%Y-%m-%d",
    )


class AgeRuleForm(FlaskForm):  # type: ignore[misc]  # untyped base
    """The school's age rule: students under this age are minors (empty: none)."""

    minor_below_age = IntegerField(
        _l("Students are minors while they are under this age"),
        validators=[
            Optional(),
            NumberRange(
                min=MIN_AGE_RULE,
                max=MAX_AGE_RULE,
                message=_l(
                    "Enter an age from %(low)d to %(high)d, or leave it empty.",
                    low=MIN_AGE_RULE,
                    high=MAX_AGE_RULE,
                ),
            ),
        ],
        render_kw={"inputmode": "numeric", "min": MIN_AGE_RULE, "max": MAX_AGE_RULE},
    )


class SchoolConsentForm(FlaskForm):  # type: ignore[misc]  # untyped base
    """The school records a consent on the family's behalf, with a note of how it was given."""

    note = TextAreaField(
        _l("How the family gave it"),
        validators=[
            DataRequired(_l("Write how the family gave consent, e.g. a signed form and its date.")),
            Length(max=MAX_NOTE),
        ],
    )


class GiveConsentForm(FlaskForm):  # type: ignore[misc]  # untyped base
    """A guardian gives consent (ticking that they have read what it means)."""

    understood = BooleanField(
        _l("I have read what publishing means, and I give my consent."),
        validators=[DataRequired(_l("Tick the box to give your consent."))],
    )
