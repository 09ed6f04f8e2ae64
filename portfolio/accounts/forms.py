"""The accounts pages' forms (WTForms): sign-in and signing out everywhere, invitations and
rosters, joining, password reset and the learner profile.  Flask-WTF adds the CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
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

# Flask-WTF's FlaskForm is untyped (its base class comes from wtforms without stubs): every
# form below subclasses it, hence the one ignore per class.


class SignInForm(FlaskForm):  # type: ignore[misc]  # untyped base (see above)
    """Email address and password (the CSRF token is added by Flask-WTF)."""

    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address."), Length(max=320)],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), Length(max=MAX_PASSWORD_LENGTH)],
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
                ("yes",), message="Tick the box to confirm that every device should be signed out."
            )
        ]
    )


class InvitationForm(FlaskForm):  # type: ignore[misc]  # untyped base (see above)
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter the email address."), Length(max=320)],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    name = StringField(
        "Name", validators=[DataRequired("Enter the person's name."), Length(max=256)]
    )
    role = SelectField(
        "Role",
        choices=[SelectChoice(Role.STUDENT, "Student"), SelectChoice(Role.ASSESSOR, "Assessor")],
        validators=[DataRequired("Choose a role.")],
    )

    def validate_email(self, field: EmailField) -> None:
        if not is_valid_email(field.data or ""):
            raise ValidationError("This is not an email address.")


class RevokeInvitationForm(FlaskForm):  # type: ignore[misc]  # untyped base (see above)
    """Only the CSRF token."""


class RosterForm(FlaskForm):  # type: ignore[misc]  # untyped base (see above)
    roster = FileField("Roster file (CSV, UTF-8)", validators=[FileRequired("Choose a CSV file.")])


class NewPasswordForm(FlaskForm):  # type: ignore[misc]  # untyped base (see above)
    password = PasswordField(
        "New password",
        validators=[DataRequired("Choose a password."), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[
            DataRequired("Repeat the password."),
            EqualTo("password", "The two passwords differ."),
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
    name = StringField("Your name", validators=[DataRequired("Enter your name."), Length(max=256)])


class ForgotForm(FlaskForm):  # type: ignore[misc]  # untyped base (see above)
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address."), Length(max=320)],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )


class ProfileForm(FlaskForm):  # type: ignore[misc]  # untyped base (see above)
    display_name = StringField(
        "Display name", validators=[DataRequired("Enter a display name."), Length(max=256)]
    )
    credential_name = StringField(
        "Name printed on your credentials", validators=[Optional(), Length(max=256)]
    )
    pronouns = StringField("Pronouns", validators=[Optional(), Length(max=64)])
    did = StringField(
        "Your DID (optional)",
        validators=[
            Optional(),
            Length(max=512),
            Regexp(
                r"did:[a-z0-9]+:[A-Za-z0-9._:%-]*[A-Za-z0-9._%-]",
                message="A DID looks like did:key:z6Mk… or did:web:example.org.",
            ),
        ],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    bio = TextAreaField("A short bio", validators=[Optional(), Length(max=2000)])
    learning_goals = TextAreaField("Learning goals", validators=[Optional(), Length(max=4000)])
    interests = TextAreaField("Interests", validators=[Optional(), Length(max=2000)])
    photo = FileField("Photo (PNG, JPEG, WebP or GIF; optional)")
    remove_photo = BooleanField("Remove my photo")
    locale = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("", _l("Browser default")),
            *(SelectChoice(code, name) for code, name in LANGUAGES.items()),
        ],
        validators=[AnyOf(["", *LANGUAGES], message=_l("Choose a language from the list."))],
    )
