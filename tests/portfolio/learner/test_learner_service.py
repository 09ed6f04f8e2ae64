"""The student's credentials (portfolio/learner/service.py): listed newest first, hidden from
the portfolios and shown again — only by the student they were issued to."""

from __future__ import annotations

from typing import Any

import pytest

from portfolio.core.db import db
from portfolio.core.errors import NotFoundError, status_for
from portfolio.issuing import service as services
from portfolio.issuing.models import IssuedCredential
from portfolio.learner import service
from tests.conftest import unsigned_badge
from tests.portfolio.school import person


def issued_to(student: Any, issuer: Any) -> IssuedCredential:
    row = services.issue(unsigned_badge(), issuer=issuer, recipient_name=student.display_name)
    row.recipient_user_id = student.id
    db.session.commit()
    return row


def test_a_student_sees_their_credentials_newest_first(issuer: Any) -> None:
    student = person(issuer, "student", "Sam Student")
    other = person(issuer, "student", "Other Student")
    first, second = issued_to(student, issuer), issued_to(student, issuer)
    issued_to(other, issuer)
    assert [row.id for row in service.my_credentials(student)] == [second.id, first.id]


def test_hiding_a_credential_is_committed_and_can_be_undone(issuer: Any) -> None:
    student = person(issuer, "student", "Sam Student")
    row = issued_to(student, issuer)
    assert service.set_hidden(student, row.public_id, hidden=True).hidden_by_recipient
    db.session.expire_all()
    assert db.session.get(IssuedCredential, row.id).hidden_by_recipient
    service.set_hidden(student, row.public_id, hidden=False)
    db.session.expire_all()
    assert not db.session.get(IssuedCredential, row.id).hidden_by_recipient


def test_someone_elses_credential_reads_like_one_that_does_not_exist(issuer: Any) -> None:
    student = person(issuer, "student", "Sam Student")
    other = person(issuer, "student", "Other Student")
    row = issued_to(other, issuer)
    for public_id in (row.public_id, "no-such-credential"):
        with pytest.raises(NotFoundError) as refused:
            service.set_hidden(student, public_id, hidden=True)
        assert status_for(refused.value) == 404
    db.session.expire_all()
    assert not db.session.get(IssuedCredential, row.id).hidden_by_recipient
