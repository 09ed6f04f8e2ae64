"""The accounts pages' forms (WTForms): sign-in and signing out everywhere, invitations and
rosters, joining, password reset and the learner profile.  Flask-WTF adds the CSRF token."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    EqualTo,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from portfolio.accounts.auth import MAX_PASSWORD_LENGTH, is_valid_email, password_problem, safe_next
from portfolio.accounts.models import Role
from portfolio.core.i18n import LANGUAGES
from portfolio.core.i18n import lazy_gettext as _l

# Flask-WTF's FlaskForm is untyped (its base class comes from wtforms without stubs): every
# form below subclasses it, hence the one ignore per class.


class SignInForm(FlaskForm):  # type: ignore[misc]  # untyped base (see above)
    """Email address and password (the CSRF token is added by Flask-WTF)."""

    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Enter your email address.")), Length(max=320)],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class NextPageForm(FlaskForm):  # type: ignore[misc]  # untyped base (see above)
    """Where to go after signing in: ``?next=`` in the sign-in page's own address (read from
    the query string, so no CSRF token)."""

    class Meta:
        csrf = False

    next = StringField()

    def target(self) -> str | None:
        """``next`` when it is a path on this site (:func:`~portfolio.accounts.auth.safe_next`),
        else None."""
        return safe_next(self.next.data)


class SignOutEverywhereForm(FlaskForm):  # type: ignore[misc]  # untyped base (see above)
    """The confirmation box (``confirm=yes``) that every device should be signed out."""

    confirm = StringField(
        validators=[
            AnyOf(
                ("yes",),
                message=_l("Tick the box to confirm that every device should be signed out."),
            )
        ]
    )


class InvitationForm(FlaskForm):  # type: ignore[misc]  # untyped base (see above)
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Enter the email address.")), Length(max=320)],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Enter the person's name.")), Length(max=256)]
    )
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice(Role.STUDENT, _l("Student")),
            SelectChoice(Role.ASSESSOR, _l("Assessor")),
        ],
        validators=[DataRequired(_l("Choose a role."))],
    )

    def validate_email(self, field: EmailField) -> None:
        if not is_valid_email(field.data or ""):
            raise ValidationError(_("This is not an email address."))


class RevokeInvitationForm(FlaskForm):  # type: ignore[misc]  # untyped base (see above)
    """Only the CSRF token."""


class RosterForm(FlaskForm):  # type: ignore[misc]  # untyped base (see above)
    roster = FileField(
        _l("Roster file (CSV, UTF-8)"), validators=[FileRequired(_l("Choose a CSV file."))]
    )


class NewPasswordForm(FlaskForm):  # type: ignore[misc]  # untyped base (see above)
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a password.")), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            DataRequired(_l("Repeat the password.")),
            EqualTo("password", _l("The two passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def password_allowed(self, email: str) -> bool:
        """Whether the password may be used for the account ``email`` (see
        :func:`portfolio.accounts.auth.password_problem`); else the reason is added to the
        password field's errors."""
        problem = password_problem(self.password.data or "", email=email)
        if problem:
            self.password.errors = [*self.password.errors, problem[0].upper() + problem[1:] + "."]
            return False
        return True


class JoinForm(NewPasswordForm):
    name = StringField(
        _l("Your name"), validators=[DataRequired(_l("Enter your name.")), Length(max=256)]
    )


class ForgotForm(FlaskForm):  # type: ignore[misc]  # untyped base (see above)
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Enter your email address.")), Length(max=320)],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )


class ProfileForm(FlaskForm):  # type: ignore[misc]  # untyped base (see above)
    display_name = StringField(
        _l("Display name"), validators=[DataRequired(_l("Enter a display name.")), Length(max=256)]
    )
    credential_name = StringField(
        _l("Name printed on your credentials"), validators=[Optional(), Length(max=256)]
    )
    pronouns = StringField(_l("Pronouns"), validators=[Optional(), Length(max=64)])
    did = StringField(
        _l("Your DID (optional)"),
        validators=[
            Optional(),
            Length(max=512),
            Regexp(
                r"did:[a-z0-9]+:[A-Za-z0-9._:%-]*[A-Za-z0-9._%-]",
                message=_l("A DID looks like did:key:z6Mk… or did:web:example.org."),
            ),
        ],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    bio = TextAreaField(_l("A short bio"), validators=[Optional(), Length(max=2000)])
    learning_goals = TextAreaField(_l("Learning goals"), validators=[Optional(), Length(max=4000)])
    interests = TextAreaField(_l("Interests"), validators=[Optional(), Length(max=2000)])
    photo = FileField(_l("Photo (PNG, JPEG, WebP or GIF; optional)"))
    remove_photo = BooleanField(_l("Remove my photo"))
    locale = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("", _l("Browser default")),
            *(SelectChoice(code, name) for code, name in LANGUAGES.items()),
        ],
        validators=[AnyOf(["", *LANGUAGES], message=_l("Choose a language from the list."))],
        validate_choice=False,  # AnyOf says it, once
    )
