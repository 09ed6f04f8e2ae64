"""Mail goes out in the RECIPIENT's language (their profile's, else English), whatever the
language of the person whose action sent it (issue 16, "Languages")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask_babel import gettext

from portfolio.accounts import notifications
from portfolio.accounts.models import Notification, User
from portfolio.core import mail
from portfolio.core.db import db
from tests.portfolio.accounts.test_auth import make_user
from tests.portfolio.accounts.test_password_reset import ask_for_link
from tests.portfolio.core.test_translations import use_catalogue
from tests.portfolio.school import person

SPANISH = {
    "Choose a new Credfolio password": "Elige una nueva contraseña de Credfolio",
    "You mastered “%(competency)s”: your credential is ready": (
        "Dominaste «%(competency)s»: tu credencial está lista"
    ),
}


@pytest.fixture(autouse=True)
def _spanish(app: Any, tmp_path: Path) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    use_catalogue(app, tmp_path / "catalogue", SPANISH)


def outbox_of(app: Any) -> list[Any]:
    return mail.read_outbox(Path(app.instance_path) / "outbox")


def set_locale(app: Any, user_id: int, locale: str | None) -> None:
    with app.app_context():
        db.session.get(User, user_id).locale = locale
        db.session.commit()


@pytest.mark.parametrize(
    ("locale", "browser", "subject"),
    [
        ("es", "en", "Elige una nueva contraseña de Credfolio"),
        (None, "es", "Choose a new Credfolio password"),  # no choice: English, not the browser's
        ("en", "es", "Choose a new Credfolio password"),
    ],
)
def test_the_reset_mail_is_in_the_account_s_language(app, client, locale, browser, subject):
    sam = make_user(app, "sam@school.example", "student")
    set_locale(app, sam, locale)
    ask_for_link(client, headers={"Accept-Language": browser})
    [message] = outbox_of(app)
    assert message["Subject"] == subject


def mastered(name: str) -> Any:
    """A notice's sentence, made in whatever language is current when it is called."""
    return lambda: gettext(
        "You mastered “%(competency)s”: your credential is ready", competency=name
    )


def test_a_notice_and_its_mail_are_in_the_recipient_s_language(app: Any, issuer: Any) -> None:
    maria = person(issuer, "student", "María")
    sam = person(issuer, "student", "Sam")
    maria.locale = "es"
    outbox: list[notifications.Mail] = []
    # The assessor whose decision sends it reads English; María chose Spanish, Sam nothing.
    with app.test_request_context(headers={"Accept-Language": "en"}):
        for student in (maria, sam):
            notifications.notify(student, mastered("Songwriting"), "/c/abc", outbox)
    assert [m.subject for m in outbox] == [
        "Dominaste «Songwriting»: tu credencial está lista",
        "You mastered “Songwriting”: your credential is ready",
    ]
    stored = db.session.query(Notification).order_by(Notification.id).all()
    assert [n.message for n in stored] == [m.subject for m in outbox]


def test_a_plain_string_notice_is_kept_as_given(app: Any, issuer: Any) -> None:
    maria = person(issuer, "student", "María")
    maria.locale = "es"
    outbox: list[notifications.Mail] = []
    notifications.notify(maria, "Feedback arrived", "/a", outbox)
    assert outbox[0].subject == "Feedback arrived"
