"""The audit log: security-relevant events are recorded in the transaction of their change,
with who did it; an issuer's administrators (and nobody else) read, filter and export it."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import flask
import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.accounts import auth
from portfolio.accounts.issuers import ensure_issuer
from portfolio.accounts.models import User
from portfolio.core import audit
from portfolio.core.db import db
from portfolio.core.models import AuditEvent
from portfolio.issuing import service as services
from portfolio.issuing.models import IssuedCredential
from portfolio.portfolios.models import Portfolio
from tests.conftest import ASSETS, unsigned_badge
from tests.portfolio.accounts.test_auth import OTHER_ISSUER_DID
from tests.portfolio.school import PASSWORD, make_school, person


@pytest.fixture(autouse=True)
def _csrf_off(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def school(issuer: Any) -> Any:
    return make_school(issuer)


def events(action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def signed_in(app: Flask, user: User) -> Any:
    """A test client with a session for ``user``, opened by ``auth.sign_in`` itself (the form
    and its deliberately slow password check are tested in test_auth.py)."""
    client = app.test_client()
    with app.test_request_context():
        auth.sign_in(user)
        state = dict(flask.session)
        flask.g.pop("credfolio_user", None)
    with client.session_transaction() as session:
        session.update(state)
    return client


def other_admin() -> User:
    """An administrator of another school."""
    other = ensure_issuer(did=OTHER_ISSUER_DID, name="Other School", slug="other")
    return person(other, "admin", "Olga Other")


def add_event(action: str, *, at: datetime, issuer_id: int | None, **fields: Any) -> None:
    db.session.add(AuditEvent(action=action, at=at, issuer_id=issuer_id, **fields))
    db.session.commit()


# -- what is recorded ------------------------------------------------------------------------


def test_issuing_and_every_status_change_are_recorded_with_their_actor(app, school):
    row = services.issue(unsigned_badge(), issuer=school.issuer, client_id="portal")
    services.set_status(row, "suspend", reason="Under review", actor=f"user:{school.admin.id}")
    services.set_status(row, "unsuspend", reason="", actor=f"user:{school.admin.id}")
    services.set_status(row, "revoke", reason="Issued in error", actor="cli")

    recorded = [
        (e.action, e.actor_id, e.actor_label, e.target, e.detail.get("reason"))
        for e in events()
        if e.action.startswith("credential_")
    ]
    target = f"credential:{row.public_id}"
    assert recorded == [
        ("credential_issued", None, "client:portal", target, None),
        ("credential_suspended", school.admin.id, None, target, "Under review"),
        ("credential_unsuspended", school.admin.id, None, target, None),
        ("credential_revoked", None, "cli", target, "Issued in error"),
    ]
    assert {e.issuer_id for e in events() if e.action.startswith("credential_")} == {
        school.issuer.id
    }


def test_an_event_is_written_in_the_transaction_of_its_change_or_not_at_all(app, school):
    def fail(_row: IssuedCredential) -> None:
        raise RuntimeError("the caller's own record could not be stored")

    with pytest.raises(RuntimeError):
        services.issue(unsigned_badge(), issuer=school.issuer, before_commit=fail)
    assert db.session.scalars(select(IssuedCredential)).all() == []
    assert events("credential_issued") == []

    row = services.issue(unsigned_badge(), issuer=school.issuer)
    services.set_status(row, "revoke", reason="Final", actor="cli")
    with pytest.raises(services.IssueError):  # revocation is final: nothing changes
        services.set_status(row, "suspend", reason="Again", actor="cli")
    assert [e.action for e in events() if e.action.startswith("credential_")] == [
        "credential_issued",
        "credential_revoked",
    ]


def test_an_assessors_endorsement_and_signing_key_are_recorded_for_their_school(app, school):
    assessor = signed_in(app, school.assessor)
    response = assessor.post(
        "/review/endorse",
        data={"competency": school.competency.public_id, "comment": "A well-made competency."},
    )
    assert response.status_code == 303
    public_id = response.headers["Location"].rsplit("/", 1)[-1]
    [issued] = events("credential_issued")
    # Signed by the assessor's own did:key issuer, recorded for the school they assess for.
    assert (issued.issuer_id, issued.target) == (school.issuer.id, f"credential:{public_id}")
    created = events("key_created")[-1]
    assert created.detail["controller"].startswith("did:key:")
    assert (created.actor_id, created.issuer_id) == (school.assessor.id, school.issuer.id)


def test_creating_rotating_and_revoking_keys_is_recorded(app, runner, school):
    store = app.extensions["credfolio"].key_store
    first = store.active(school.issuer.did)
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    new = store.active(school.issuer.did)
    store.revoke(first.key_id, "the old laptop was lost")

    recorded = [(e.action, e.actor_label, e.target, e.issuer_id) for e in events()]
    assert recorded[0] == ("key_created", "cli", f"key:{first.key_id}", school.issuer.id)
    assert ("key_rotated", "cli", f"key:{new.key_id}", school.issuer.id) in recorded
    assert ("key_revoked", "cli", f"key:{first.key_id}", school.issuer.id) in recorded
    assert events("key_rotated")[0].detail["retired"] == first.key_id
    assert events("key_revoked")[0].detail["reason"] == "the old laptop was lost"


def test_the_users_commands_record_accounts_created_roles_changed_and_accounts_disabled(
    app, runner, school
):
    result = runner.invoke(
        args=["users", "create", "--email", "nia@school.test", "--role", "assessor"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    nia = db.session.scalar(select(User).where(User.email == "nia@school.test"))
    version = nia.session_version
    result = runner.invoke(args=["users", "set-role", "nia@school.test", "admin"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["users", "disable", "nia@school.test"]).exit_code == 0

    recorded = [
        (e.action, e.actor_label, e.target) for e in events() if e.target == f"user:{nia.id}"
    ]
    assert recorded == [
        ("account_created", "cli", f"user:{nia.id}"),
        ("role_changed", "cli", f"user:{nia.id}"),
        ("account_disabled", "cli", f"user:{nia.id}"),
    ]
    assert events("role_changed")[0].detail == {"from": "assessor", "to": "admin"}
    db.session.refresh(nia)
    # A new role takes effect at the next sign-in: every session ended.
    assert nia.role == "admin" and nia.session_version > version


def test_an_invitation_and_the_account_it_creates_are_recorded(app, school):
    from portfolio.core.mail import read_outbox

    admin = signed_in(app, school.admin)
    response = admin.post(
        "/admin/invitations", data={"email": "new@school.test", "name": "New", "role": "student"}
    )
    assert response.status_code == 303
    [sent] = events("invitation_sent")
    assert (sent.actor_id, sent.issuer_id, sent.detail) == (
        school.admin.id,
        school.issuer.id,
        {"role": "student"},
    )
    [message] = read_outbox(Path(app.instance_path) / "outbox")
    path = "/join/" + message.get_content().split("/join/")[1].split()[0]
    joined = app.test_client().post(
        path, data={"name": "New", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert joined.status_code == 303
    [created] = events("account_created")
    new = db.session.scalar(select(User).where(User.email == "new@school.test"))
    assert (created.actor_id, created.target) == (new.id, f"user:{new.id}")
    assert "new@school.test" not in json.dumps(created.detail)


def test_exports_and_catalogue_imports_are_recorded(app, school):
    portfolio = Portfolio(owner_id=school.student.id, title="My songs")
    db.session.add(portfolio)
    db.session.commit()
    student = signed_in(app, school.student)
    assert student.get(f"/portfolios/{portfolio.public_id}/export.zip").status_code == 200
    assessor = signed_in(app, school.assessor)
    assert assessor.get("/cohort.csv?cohort=7B").status_code == 200
    admin = signed_in(app, school.admin)
    assert admin.get("/admin/catalogue/catalogue.csv").status_code == 200
    upload = (ASSETS / "catalogue" / "catalogue.csv").read_bytes()
    response = admin.post(
        "/admin/catalogue/import/csv",
        data={"file": (io.BytesIO(upload), "catalogue.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200

    recorded = {(e.action, e.actor_id, e.target) for e in events()}
    assert ("portfolio_exported", school.student.id, f"portfolio:{portfolio.public_id}") in recorded
    assert ("cohort_exported", school.assessor.id, "cohort.csv") in recorded
    assert ("catalogue_exported", school.admin.id, "catalogue") in recorded
    assert ("catalogue_imported", school.admin.id, "catalogue") in recorded
    assert events("cohort_exported")[0].detail == {"cohort": "7B"}
    assert "created" in events("catalogue_imported")[0].detail["result"]


# -- reading the log -------------------------------------------------------------------------


def test_only_administrators_read_the_log(app, school):
    for person_ in (school.student, school.assessor):
        client = signed_in(app, person_)
        for path in ("/admin/audit", "/admin/audit.csv", "/admin/audit.json"):
            assert client.get(path).status_code == 403, (person_.role, path)
    anonymous = app.test_client().get("/admin/audit")
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]


def test_another_issuers_administrator_sees_none_of_its_events(app, school):
    services.issue(unsigned_badge(), issuer=school.issuer)
    other = signed_in(app, other_admin())
    listed = other.get("/admin/audit.json").get_json()["events"]
    assert {e["action"] for e in listed} <= {"sign_in", "audit_exported"}  # their own only
    assert school.issuer.id not in {e["issuer_id"] for e in listed}
    assert "credential:" not in other.get("/admin/audit").get_data(as_text=True)


def test_the_log_is_newest_first_and_paginated_in_an_accessible_table(app, school):
    start = datetime(2025, 3, 1, tzinfo=UTC)
    for number in range(55):
        add_event(
            "sign_in_failed",
            at=start + timedelta(minutes=number),
            issuer_id=school.issuer.id,
            actor_label=f"guess-{number:02d}@example.test",
        )
    admin = signed_in(app, school.admin)
    first = admin.get("/admin/audit?action=sign_in_failed").get_data(as_text=True)
    assert "<caption>" in first and first.count('<th scope="col">') == 6
    assert first.index("guess-54@") < first.index("guess-53@")  # newest first
    assert "guess-04@" not in first and 'rel="next"' in first
    second = admin.get("/admin/audit?action=sign_in_failed&page=2").get_data(as_text=True)
    assert "guess-04@" in second and "guess-05@" not in second
    assert 'rel="prev"' in second
    menu = admin.get("/", follow_redirects=True).get_data(as_text=True)
    assert 'href="/admin/audit"' in menu  # the admin's menu


def test_a_long_log_is_counted_up_to_the_limit(app, school):
    for _ in range(55):
        add_event("sign_in_failed", at=datetime(2025, 3, 1, tzinfo=UTC), issuer_id=school.issuer.id)
    app.config["CREDFOLIO_LIST_COUNT_LIMIT"] = 20
    admin = signed_in(app, school.admin)
    first = admin.get("/admin/audit?action=sign_in_failed").get_data(as_text=True)
    assert "More than 20 events matching the filters" in first and "(page 1)" in first
    assert 'href="/admin/audit?action=sign_in_failed&amp;page=2"' in first
    second = admin.get("/admin/audit?action=sign_in_failed&page=2").get_data(as_text=True)
    assert second.count("<code>sign_in_failed</code>") == 5 and 'rel="next"' not in second


def test_filters_by_action_actor_and_date_range(app, school):
    add_event("role_changed", at=datetime(2025, 1, 10, 9, tzinfo=UTC), issuer_id=school.issuer.id)
    add_event(
        "sign_in",
        at=datetime(2025, 1, 20, 23, 59, tzinfo=UTC),
        issuer_id=school.issuer.id,
        actor_id=school.assessor.id,
    )
    add_event(
        "sign_in",
        at=datetime(2025, 2, 1, tzinfo=UTC),
        issuer_id=school.issuer.id,
        actor_label="client:portal",
    )
    admin = signed_in(app, school.admin)

    def shown(query: str) -> list[str]:
        data = admin.get(f"/admin/audit.json?{query}").get_json()
        return [
            f"{e['action']}@{e['at'][:10]}"
            for e in data["events"]
            if e["action"] != "audit_exported"
        ]

    assert shown("since=2025-01-01&until=2025-01-31") == [
        "sign_in@2025-01-20",  # the whole last day counts
        "role_changed@2025-01-10",
    ]
    in_2025 = "since=2025-01-01&until=2025-12-31"
    assert shown(f"action=sign_in&{in_2025}") == ["sign_in@2025-02-01", "sign_in@2025-01-20"]
    assert shown(f"actor=asa&{in_2025}") == ["sign_in@2025-01-20"]  # by the actor's name
    assert shown(f"actor=PORTAL&{in_2025}") == ["sign_in@2025-02-01"]
    assert shown(f"actor=100%25&{in_2025}") == []  # "%" is a character, not a wildcard
    page = admin.get(f"/admin/audit?actor=asa&{in_2025}").get_data(as_text=True)
    assert "Asa Assessor &lt;asa.assessor@school.test&gt;" in page


BAD_FILTERS = {
    "since=31/01/2025": "YYYY-MM-DD",
    "since=2025-02-01&until=2025-01-01": "before the start date",
    "action=drop_table": "Choose an action",
}


def test_a_filter_that_cannot_be_used_gets_the_form_back(app, school):
    admin = signed_in(app, school.admin)
    for query, message in BAD_FILTERS.items():
        response = admin.get(f"/admin/audit?{query}")
        assert response.status_code == 400, query
        assert message in response.get_data(as_text=True)
        assert admin.get(f"/admin/audit.csv?{query}").status_code == 400, query


def test_service_wide_events_are_shown_to_the_services_own_administrators_only(app, school):
    add_event(
        "sign_in_failed", at=datetime.now(UTC), issuer_id=None, actor_label="who@nowhere.test"
    )
    admin = signed_in(app, school.admin)
    assert "who@nowhere.test" in admin.get("/admin/audit").get_data(as_text=True)
    other = signed_in(app, other_admin())
    assert "who@nowhere.test" not in other.get("/admin/audit").get_data(as_text=True)


def test_the_csv_export_is_safe_in_spreadsheets_and_is_itself_recorded(app, school):
    add_event(
        "sign_in_failed",
        at=datetime.now(UTC),
        issuer_id=school.issuer.id,
        actor_label='=HYPERLINK("https://evil.example","x")',
        detail={"note": "+1"},
    )
    admin = signed_in(app, school.admin)
    response = admin.get("/admin/audit.csv?action=sign_in_failed")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    [row] = rows
    assert row["actor"] == '\'=HYPERLINK("https://evil.example","x")'
    assert json.loads(row["detail"]) == {"note": "+1"}
    [exported] = events("audit_exported")
    assert (exported.actor_id, exported.issuer_id, exported.detail) == (
        school.admin.id,
        school.issuer.id,
        {"format": "csv", "action": "sign_in_failed"},
    )


def test_the_json_export_lists_the_filters_and_every_matching_event(app, school):
    for number in range(60):  # more than a page: the export is not paginated
        add_event(
            "sign_in", at=datetime.now(UTC), issuer_id=school.issuer.id, ip=f"10.0.0.{number}"
        )
    admin = signed_in(app, school.admin)
    data = admin.get("/admin/audit.json?action=sign_in").get_json()
    assert data["filters"] == {"action": "sign_in"}
    logged = [e for e in data["events"] if e["ip"] and e["ip"].startswith("10.0.0.")]
    assert len(logged) == 60
    assert set(data["events"][0]) == {
        "id", "at", "action", "actor_id", "actor", "issuer_id", "target", "ip", "detail"
    }  # fmt: skip
    assert events("audit_exported")[0].detail == {"format": "json", "action": "sign_in"}


def test_the_command_line_exports_the_whole_log_since_a_day(app, runner, school, tmp_path):
    add_event("sign_in", at=datetime(2020, 1, 1, tzinfo=UTC), issuer_id=None)
    add_event("role_changed", at=datetime(2030, 1, 1, tzinfo=UTC), issuer_id=None)
    result = runner.invoke(args=["audit", "export", "--since", "2029-12-31", "--format", "json"])
    assert result.exit_code == 0, result.output
    actions = [e["action"] for e in json.loads(result.output)["events"]]
    assert actions == ["role_changed"]  # 2030 is the newest; 2020 and today are before --since

    out = tmp_path / "audit.csv"
    result = runner.invoke(args=["audit", "export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert {"sign_in", "role_changed", "key_created", "audit_exported"} <= {
        r["action"] for r in rows
    }
    assert [e.actor_label for e in events("audit_exported")] == ["cli", "cli"]
    assert runner.invoke(args=["audit", "export", "--since", "yesterday"]).exit_code == 2


def test_an_unknown_action_is_refused(app):
    with app.app_context(), pytest.raises(ValueError, match="unknown audit action"):
        audit.record("took_a_look")
