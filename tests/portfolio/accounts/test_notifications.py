"""In-app notifications and the mail that repeats them (portfolio/accounts/notifications.py):
a notice is added in the caller's transaction, its mail goes out only when asked (after the
commit), and the unread ones are counted, listed and marked read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from portfolio.accounts import notifications
from portfolio.accounts.models import Notification
from portfolio.core import mail
from portfolio.core.db import db
from portfolio.core.settings import EXTENSION, settings
from tests.portfolio.school import person


@pytest.fixture
def student(issuer: Any) -> Any:
    return person(issuer, "student", "Sam Student")


def outbox_of(app: Any) -> list[Any]:
    return mail.read_outbox(Path(app.instance_path) / "outbox")


def test_a_notice_is_added_in_the_callers_transaction_and_its_mail_waits(
    app: Any, student: Any
) -> None:
    app.extensions[EXTENSION] = replace(settings(app), public_url="https://school.test/")
    outbox: list[notifications.Mail] = []
    notifications.notify(student, "Feedback arrived", "/submissions/abc", outbox)
    db.session.rollback()  # not committed: the notice goes with the transaction
    assert db.session.query(Notification).count() == 0
    assert outbox == [
        notifications.Mail(
            to=student.email,
            subject="Feedback arrived",
            body="Feedback arrived\n\nhttps://school.test/submissions/abc",
        )
    ]
    assert outbox_of(app) == []  # nothing is mailed until send_mail


def test_without_an_outbox_the_notice_is_in_app_only(app: Any, student: Any) -> None:
    notifications.notify(student, "Badge earned", "/c/xyz")
    db.session.commit()
    row = db.session.query(Notification).one()
    assert (row.user_id, row.message, row.link) == (student.id, "Badge earned", "/c/xyz")
    assert outbox_of(app) == []


def test_send_mail_mails_each_notice_unless_mail_is_switched_off(app: Any, student: Any) -> None:
    outbox: list[notifications.Mail] = []
    notifications.notify(student, "One", "/a", outbox)
    notifications.notify(student, "Two", "/b", outbox)
    app.config["CREDFOLIO_NOTIFY_BY_MAIL"] = False
    notifications.send_mail(outbox)
    assert outbox_of(app) == []
    app.config["CREDFOLIO_NOTIFY_BY_MAIL"] = True
    notifications.send_mail(outbox)
    assert [m["Subject"] for m in outbox_of(app)] == ["One", "Two"]


def test_a_mail_that_cannot_be_sent_is_logged_never_raised(
    app: Any, student: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(**_fields: Any) -> None:
        raise mail.MailError("the server said no")

    monkeypatch.setattr(mail, "send", refuse)
    notifications.send_mail([notifications.Mail(student.email, "Hello", "Body")])
    assert "notification mail to a user failed" in caplog.text


def test_unread_notices_are_counted_listed_newest_first_and_marked_read(
    app: Any, student: Any, issuer: Any
) -> None:
    other = person(issuer, "student", "Other Student")
    start = datetime(2025, 3, 1, tzinfo=UTC)
    for day, text in enumerate(["oldest", "middle", "newest"]):
        db.session.add(
            Notification(
                user_id=student.id,
                message=text,
                link=f"/{text}",
                created_at=start + timedelta(days=day),
            )
        )
    db.session.add(Notification(user_id=other.id, message="not Sam's", link=None))
    db.session.commit()
    assert notifications.unread_count(student) == 3
    unread = notifications.unread(student.id, limit=2)
    assert [(n.message, n.link) for n in unread] == [("newest", "/newest"), ("middle", "/middle")]
    assert unread[0].created_at == start + timedelta(days=2)  # aware, UTC
    notifications.mark_all_read(student)
    assert notifications.unread_count(student) == 0
    assert notifications.unread(student.id) == []
    assert [n.message for n in notifications.recent(student, limit=5)] == [
        "newest",
        "middle",
        "oldest",
    ]
    assert notifications.unread_count(other) == 1
