"""The guardians pages: a school invites a guardian for some of its students (accepting the
invitation links them), links and unlinks guardians, marks minors and sets the age rule, and
records or withdraws consent; a linked guardian reads what publishing means and gives or
withdraws consent — and a guardian who is not linked gets 404."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from portfolio.accounts.issuers import default_issuer
from portfolio.accounts.models import User
from portfolio.core.db import db
from portfolio.core.mail import read_outbox
from portfolio.core.models import AuditEvent
from portfolio.guardians.consent import active_consent
from portfolio.guardians.links import is_guardian_of
from portfolio.guardians.models import GuardianLink
from tests.portfolio.guardians.world import Family

PASSWORD = "a long and lovely passphrase"


def audited(family: Family, action: str) -> int:
    with family.app.app_context():
        return int(db.session.scalar(select(func.count()).where(AuditEvent.action == action)) or 0)


def _join_path(family: Family, email: str) -> str:
    messages = read_outbox(Path(family.app.instance_path) / "outbox")
    (message,) = [m for m in messages if m["To"] == email]
    assert "as a guardian" in message.get_content()
    match = re.search(r"(/join/\S+)", message.get_content())
    assert match
    return match.group(1)


def test_an_invited_guardian_joins_and_is_linked_to_the_students_named(family: Family) -> None:
    ids = family.ids
    admin = family.client("admin")
    before = audited(family, "guardian_linked")
    sent = admin.post(
        "/admin/guardians",
        data={"email": "hana@family.test", "name": "Hana", "students": [ids["mia"], ids["oli"]]},
    )
    assert sent.status_code == 303
    listing = admin.get("/admin/guardians").get_data(as_text=True)
    assert "hana@family.test" in listing and "Invitations not yet accepted" in listing

    path = _join_path(family, "hana@family.test")
    assert "invited as a guardian" in family.client().get(path).get_data(as_text=True)
    joined = family.client().post(
        path, data={"name": "Hana Family", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert joined.status_code == 303
    with family.app.app_context():
        hana = db.session.scalar(select(User).where(User.email == "hana@family.test"))
        assert hana is not None and hana.role == "guardian"
        linked = set(
            db.session.scalars(
                select(GuardianLink.student_id).where(GuardianLink.guardian_id == hana.id)
            )
        )
        assert linked == {ids["mia"], ids["oli"]}
    assert audited(family, "guardian_linked") == before + 2
    assert "Hana Family" in admin.get("/admin/guardians").get_data(as_text=True)


def test_an_invitation_must_name_a_student(family: Family) -> None:
    refused = family.client("admin").post(
        "/admin/guardians", data={"email": "nobody@family.test", "name": "Nobody"}
    )
    assert refused.status_code == 422
    assert "Choose at least one student." in refused.get_data(as_text=True)


def test_a_guardian_never_appears_among_students(family: Family) -> None:
    admin = family.client("admin").get("/admin/guardians").get_data(as_text=True)
    # The invitation form's student checkboxes list students only.
    assert 'id="students-{}"'.format(family.ids["gwen"]) not in admin
    cohort = family.client("assessor").get("/cohort").get_data(as_text=True)
    assert "Gwen Guardian" not in cohort


def test_linking_and_unlinking_a_guardian_asks_for_confirmation(family: Family) -> None:
    ids = family.ids
    admin = family.client("admin")
    linked = admin.post(f"/admin/guardians/{ids['gwen']}/links", data={"student": ids["oli"]})
    assert linked.status_code == 303
    again = admin.post(
        f"/admin/guardians/{ids['gwen']}/links", data={"student": ids["oli"]}, follow_redirects=True
    )
    assert "already linked" in again.get_data(as_text=True)

    url = f"/admin/guardians/{ids['gwen']}/students/{ids['oli']}/unlink"
    confirm = admin.get(url)
    assert confirm.status_code == 200
    assert "Unlink Gwen Guardian from Oli Other?" in confirm.get_data(as_text=True)
    assert admin.post(url, data={}).status_code == 422  # no confirmation: nothing happens
    before = audited(family, "guardian_unlinked")
    assert admin.post(url, data={"confirm": "yes"}).status_code == 303
    assert audited(family, "guardian_unlinked") == before + 1
    with family.app.app_context():
        assert not is_guardian_of(family.user("guardian"), db.session.get(User, ids["oli"]))
    assert admin.get(url).status_code == 404


def test_the_school_marks_a_minor_and_records_a_birth_date(family: Family) -> None:
    ids = family.ids
    admin = family.client("admin")
    before = audited(family, "minor_status_changed")
    url = f"/admin/students/{ids['oli']}/minor"
    assert admin.post(url, data={"minor": "y", "birth_date": "2012-05-01"}).status_code == 303
    assert audited(family, "minor_status_changed") == before + 1
    with family.app.app_context():
        oli = db.session.get(User, ids["oli"])
        assert oli is not None and oli.minor and str(oli.birth_date) == "2012-05-01"
    future = admin.post(url, data={"birth_date": "2999-01-01"})
    assert future.status_code == 422
    assert "cannot be in the future" in future.get_data(as_text=True)
    assert admin.post(url, data={}).status_code == 303  # not a minor, no birth date
    page = admin.get(f"/admin/students/{ids['oli']}/guardians").get_data(as_text=True)
    assert "Not a minor: no consent needed" in page


def test_the_age_rule_is_set_on_the_settings_page(family: Family) -> None:
    admin = family.client("admin")
    url = "/admin/guardians/settings"
    assert admin.post(url, data={"minor_below_age": "30"}).status_code == 422
    assert admin.post(url, data={"minor_below_age": "18"}).status_code == 303
    with family.app.app_context():
        assert default_issuer().minor_below_age == 18
    assert admin.post(url, data={"minor_below_age": ""}).status_code == 303
    with family.app.app_context():
        assert default_issuer().minor_below_age is None


def test_the_school_withdraws_and_records_consent_with_a_note(family: Family) -> None:
    ids = family.ids
    admin = family.client("admin")
    family.give()
    withdraw = f"/admin/students/{ids['mia']}/consent/withdraw"
    assert admin.get(withdraw).status_code == 200
    assert admin.post(withdraw, data={"confirm": "yes"}).status_code == 303
    assert family.client().get(f"/c/{ids['credential']}").status_code == 404

    record = f"/admin/students/{ids['mia']}/consent"
    assert admin.post(record, data={"note": ""}).status_code == 422
    note = "signed form received 2026-09-01"
    assert admin.post(record, data={"note": note}).status_code == 303
    with family.app.app_context():
        consent = active_consent(family.user("student"))
        assert consent is not None and consent.given_as == "school" and consent.note == note
    assert family.client().get(f"/c/{ids['credential']}").status_code == 200
    page = admin.get(f"/admin/students/{ids['mia']}/guardians").get_data(as_text=True)
    assert "The school recorded consent on" in page and note in page
    assert "Consent recorded by the school" in admin.get("/admin/guardians").get_data(as_text=True)


def test_the_guardian_withdraws_after_confirming_and_gives_consent_again(family: Family) -> None:
    ids = family.ids
    gwen = family.client("guardian")
    family.give()
    page = gwen.get(f"/family/students/{ids['mia']}/consent").get_data(as_text=True)
    assert "What publishing means" in page
    assert "stay valid" in page and "hidden at once" in page

    withdraw = f"/family/students/{ids['mia']}/consent/withdraw"
    assert "Withdraw consent for Sam Student?" in gwen.get(withdraw).get_data(as_text=True)
    assert gwen.post(withdraw, data={"confirm": "yes"}).status_code == 303
    assert family.client().get(f"/c/{ids['credential']}").status_code == 404

    consent = f"/family/students/{ids['mia']}/consent"
    unticked = gwen.post(consent, data={})
    assert unticked.status_code == 422
    assert "Tick the box to give your consent." in unticked.get_data(as_text=True)
    assert gwen.post(consent, data={"understood": "y"}).status_code == 303
    assert family.client().get(f"/c/{ids['credential']}").status_code == 200
    with family.app.app_context():
        given = active_consent(family.user("student"))
        assert given is not None and given.given_as == "guardian"


def test_a_guardian_not_linked_to_the_student_gets_404(family: Family) -> None:
    ids = family.ids
    uma = family.client("unlinked_guardian")
    for url in (
        f"/family/students/{ids['mia']}/consent",
        f"/family/students/{ids['mia']}/consent/withdraw",
    ):
        assert uma.get(url).status_code == 404
        assert uma.post(url, data={"understood": "y", "confirm": "yes"}).status_code == 404
    assert uma.get("/family/students/999999/consent").status_code == 404


def test_the_admin_of_the_school_reaches_pages_only_for_its_own_students(family: Family) -> None:
    admin = family.client("admin")
    assert admin.get(f"/admin/students/{family.ids['gwen']}/guardians").status_code == 404
    assert admin.get("/admin/students/999999/guardians").status_code == 404


def test_the_join_page_and_profile_speak_of_guardians(family: Family) -> None:
    profile: Any = family.client("guardian").get("/profile").get_data(as_text=True)
    assert "(Guardian)" in profile


def test_every_student_is_listed_with_her_minor_status_and_consent(family: Family) -> None:
    page = family.client("admin").get("/admin/guardians").get_data(as_text=True)
    assert "Students, minors and consent" in page
    assert f'href="/admin/students/{family.ids["oli"]}/guardians"' in page
    assert f'href="/admin/students/{family.ids["mia"]}/guardians"' in page
