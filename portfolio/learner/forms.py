"""The forms of the learner's pages: hiding a credential from the portfolios, and confirming
the deletion of the account with the password."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portfolio.accounts.auth import MAX_PASSWORD_LENGTH
from portfolio.core.i18n import lazy_gettext as _l


class VisibilityForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped: FlaskForm is Any
    """Hide a credential from the student's portfolios (``hidden`` is ``1``) or show it."""

    hidden = StringField()

    @property
    def hide(self) -> bool:
        return bool(self.hidden.data == "1")


class DeleteAccountForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped: FlaskForm is Any
    """The password, typed again, is the confirmation (and proves it is the owner)."""

    password = PasswordField(
        _l("Your password"),
        validators=[
            DataRequired(_l("Type your password to confirm.")),
            Length(max=MAX_PASSWORD_LENGTH),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class WithdrawalForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped: FlaskForm is Any
    """Withdraw a credential's frozen evidence from public view (``withdrawn`` is ``1``) or
    show it again."""

    withdrawn = StringField()

    @property
    def withdraw(self) -> bool:
        return bool(self.withdrawn.data == "1")


class RevocationRequestForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped: FlaskForm is Any
    """Why the learner asks for their credential to be revoked (checked by the service)."""

    reason = TextAreaField()


class DeleteFrozenForm(FlaskForm):  # type: ignore[misc]  # flask_wtf is untyped: FlaskForm is Any
    """The box the learner ticks to confirm deleting a revoked credential's evidence."""

    confirm = StringField()

    @property
    def confirmed(self) -> bool:
        return bool(self.confirm.data == "yes")
