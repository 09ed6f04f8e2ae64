"""Class rosters: every row of a CSV gets a verdict; broken rows never stop the good ones; the
invitations of one file commit together; mail goes out after the commit.  Parsing is pure and
tested without an app; the page and ``credfolio roster import`` share one service."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from portfolio.accounts import service as accounts
from portfolio.accounts.models import Invitation, User
from portfolio.accounts.roster import (
    MAX_BYTES,
    RosterFileError,
    RowResult,
    parse_roster,
    reject_known,
)
from portfolio.core import mail
from portfolio.core.db import db
from portfolio.core.models import utcnow
from tests.portfolio.accounts.test_auth import OTHER_ISSUER_DID, _csrf_token, make_user, sign_in

ROSTERS = Path(__file__).parents[2] / "assets" / "roster"


def read(name: str) -> bytes:
    return (ROSTERS / name).read_bytes()


def verdicts(rows: list[RowResult]) -> list[tuple[int, str, str | None]]:
    return [(row.line, row.email, row.problem) for row in rows]


@pytest.fixture(autouse=True)
def _csrf_off(app):
    app.config["WTF_CSRF_ENABLED"] = False


def invitation_emails(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(Invitation.email)))


def outbox_recipients(app) -> list[str]:
    return sorted(m["To"] for m in mail.read_outbox(Path(app.instance_path) / "outbox"))


# -- parsing (pure) --------------------------------------------------------------------------


def test_a_good_roster_gives_every_row_with_lower_cased_roles_and_addresses():
    rows = parse_roster(read("good.csv"))
    assert [(row.line, row.name, row.email, row.role, row.ok) for row in rows] == [
        (2, "Ada Lovelace", "ada@school.example", "student", True),
        (3, "Grace Hopper", "grace@school.example", "assessor", True),
        (4, "Brontë, Emily", "emily@school.example", "student", True),
    ]


def test_every_kind_of_broken_row_is_named_and_the_good_rows_survive():
    rows = parse_roster(read("broken-rows.csv"))
    assert verdicts(rows) == [
        (2, "ada@school.example", None),
        (3, "not-an-email", "not an email address"),
        (4, "rolf@school.example", "unknown role 'teacher' (student or assessor)"),
        (5, "adam@school.example", "unknown role 'admin' (student or assessor)"),
        (6, "ada@school.example", "duplicate of line 2 in this file"),
        (7, "existing@school.example", None),
        (8, "invited@school.example", None),
        (9, "empty@school.example", "the name is empty"),
        (10, "many", "4 columns instead of 3 (name, email, role)"),
        (11, "few@school.example", "2 columns instead of 3 (name, email, role)"),
        (13, "grace@school.example", None),
    ]


def test_known_addresses_are_rejected_after_parsing():
    rows = reject_known(
        parse_roster(read("broken-rows.csv")),
        accounts={"existing@school.example"},
        invited={"invited@school.example"},
    )
    problems = {row.line: row.problem for row in rows}
    assert problems[7] == "already has an account"
    assert problems[8] == "already invited (the invitation is still open)"
    assert problems[2] is None
    assert problems[13] is None


def test_only_the_rows_that_are_not_utf8_are_rejected():
    rows = parse_roster(read("latin-1.csv"))
    assert [(row.line, row.ok) for row in rows] == [(2, True), (3, False), (4, True)]
    assert rows[1].problem == "not UTF-8 text (save the file as UTF-8)"
    assert rows[1].name == "Jos� Garc�a"  # shown with replacement characters


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (read("no-header.csv"), 'the first line must be the header "name,email,role"'),
        (b"", 'the first line must be the header "name,email,role"'),
        (b"name,email\nAda,ada@school.example\n", "the first line must be the header"),
        (b"name,email,role\n" + b"x" * MAX_BYTES, "the file is larger than"),
    ],
    ids=["no header", "empty", "two columns", "too big"],
)
def test_a_file_that_is_not_a_roster_is_refused_as_a_whole(data, message):
    with pytest.raises(RosterFileError, match=message):
        parse_roster(data)


def test_a_header_only_file_has_no_rows():
    assert parse_roster(b"name,email,role\n") == []


# -- the service -----------------------------------------------------------------------------


def test_the_import_invites_the_good_rows_in_one_commit_and_mails_them_afterwards(app, issuer):
    make_user(app, "existing@school.example", "student")
    with app.app_context():
        accounts.new_invitation(
            email="invited@school.example",
            name="Invited",
            role="assessor",
            issuer=db.session.merge(issuer),
            invited_by=None,
            now=utcnow(),
        )
        db.session.commit()
        report = accounts.import_roster(
            read("broken-rows.csv"), issuer=db.session.merge(issuer), invited_by=None
        )
    assert [row.line for row in report.created] == [2, 13]
    assert len(report.rejected) == 9
    assert report.unsent == []
    assert invitation_emails(app) == [
        "ada@school.example",
        "grace@school.example",
        "invited@school.example",
    ]
    assert outbox_recipients(app) == ["ada@school.example", "grace@school.example"]


# -- the page --------------------------------------------------------------------------------


def upload(client, name: str, content: bytes | None = None):
    data = {"roster": (io.BytesIO(content if content is not None else read(name)), name)}
    return client.post("/admin/roster", data=data, content_type="multipart/form-data")


@pytest.fixture
def admin_client(app, client):
    make_user(app, "alice@school.example", "admin")
    sign_in(client, "alice@school.example")
    return client


def test_the_page_shows_a_per_row_report(app, admin_client):
    make_user(app, "existing@school.example", "student")
    response = upload(admin_client, "broken-rows.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "3 invited, 8 rejected." in page
    assert "rejected: already has an account" in page
    assert "rejected: 4 columns instead of 3" in page
    assert page.count("<h1>") == 1
    assert outbox_recipients(app) == [
        "ada@school.example",
        "grace@school.example",
        "invited@school.example",
    ]


def test_importing_the_same_file_twice_invites_nobody_twice(app, admin_client):
    upload(admin_client, "good.csv")
    page = upload(admin_client, "good.csv").get_data(as_text=True)
    assert "0 invited, 3 rejected." in page
    assert len(invitation_emails(app)) == 3


def test_an_unreadable_file_is_refused_next_to_the_field(app, admin_client):
    response = upload(admin_client, "no-header.csv")
    assert response.status_code == 422
    assert 'id="roster-error"' in response.get_data(as_text=True)
    assert invitation_emails(app) == []


def test_a_missing_file_is_named(admin_client):
    response = admin_client.post("/admin/roster", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose a CSV file." in response.get_data(as_text=True)


def test_imported_invitations_belong_to_the_administrators_issuer(app, client):
    olga = make_user(app, "olga@other.example", "admin", issuer_did=OTHER_ISSUER_DID)
    sign_in(client, "olga@other.example")
    upload(client, "good.csv")
    with app.app_context():
        issuer_ids = set(db.session.scalars(select(Invitation.issuer_id)))
        assert issuer_ids == {db.session.get(User, olga).issuer_id}


def test_the_roster_form_needs_its_csrf_token(app, admin_client):
    app.config["WTF_CSRF_ENABLED"] = True
    assert upload(admin_client, "good.csv").status_code == 400
    token = _csrf_token(admin_client.get("/admin/roster").get_data(as_text=True))
    data = {"roster": (io.BytesIO(read("good.csv")), "good.csv"), "csrf_token": token}
    response = admin_client.post("/admin/roster", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert len(invitation_emails(app)) == 3


# -- the command ------------------------------------------------------------------------------


def test_the_command_prints_a_line_per_row(app, runner, issuer):
    result = runner.invoke(args=["roster", "import", str(ROSTERS / "broken-rows.csv")])
    assert result.exit_code == 0, result.output
    assert "line 2: ada@school.example (Ada Lovelace) invited" in result.output
    assert "line 9: empty@school.example (-) rejected: the name is empty" in result.output
    assert result.output.strip().endswith("4 invited, 7 rejected.")
    assert len(outbox_recipients(app)) == 4


def test_the_command_invites_for_another_issuer_by_did(app, runner):
    make_user(app, "olga@other.example", "admin", issuer_did=OTHER_ISSUER_DID)
    args = ["roster", "import", str(ROSTERS / "good.csv"), "--issuer-did", OTHER_ISSUER_DID]
    assert runner.invoke(args=args).exit_code == 0
    bad = ["roster", "import", str(ROSTERS / "good.csv"), "--issuer-did", "did:web:nowhere"]
    result = runner.invoke(args=bad)
    assert result.exit_code == 2
    assert "no issuer" in result.output


def test_the_command_refuses_an_unreadable_file(app, runner, issuer):
    result = runner.invoke(args=["roster", "import", str(ROSTERS / "no-header.csv")])
    assert result.exit_code == 1
    assert "cannot be imported" in result.output
    assert invitation_emails(app) == []


# -- the optional cohort column -----------------------------------------------------------------

WITH_COHORTS = (
    b"name,email,role,cohort\r\n"
    b"Ada Lovelace,ada@school.example,student,Year 9\r\n"
    b"Grace Hopper,grace@school.example,assessor,\r\n"
    b"Sam Student,sam@school.example,student,Year 10\r\n"
    b"Olga Other,olga@other.example,student,Year 9\r\n"
)


def test_a_fourth_cohort_column_is_read_when_the_header_names_it():
    rows = parse_roster(WITH_COHORTS)
    assert [(row.email, row.cohort, row.ok) for row in rows] == [
        ("ada@school.example", "Year 9", True),
        ("grace@school.example", "", True),
        ("sam@school.example", "Year 10", True),
        ("olga@other.example", "Year 9", True),
    ]


def test_with_the_cohort_column_every_row_needs_four_cells_and_a_short_cohort():
    data = (
        b"name,email,role,cohort\nAda,ada@school.example,student\nBo,bo@school.example,student,"
        + b"x" * 129
    )
    rows = parse_roster(data)
    assert [row.problem for row in rows] == [
        "3 columns instead of 4 (name, email, role, cohort)",
        "the cohort is longer than 128 characters",
    ]


def test_the_header_message_names_both_accepted_headers():
    with pytest.raises(RosterFileError, match=r'"name,email,role" \(or "name,email,role,cohort"\)'):
        parse_roster(b"name,email,role,group\n")


def test_a_known_student_with_a_cohort_is_kept_to_set_the_cohort_not_invited():
    rows = reject_known(
        parse_roster(WITH_COHORTS),
        accounts={"ada@school.example", "grace@school.example", "olga@other.example"},
        invited=set(),
        students={"ada@school.example"},  # the importing issuer's own students
    )
    assert [(row.email, row.existing, row.verdict) for row in rows] == [
        ("ada@school.example", True, "cohort set to “Year 9”"),
        ("grace@school.example", False, "rejected: already has an account"),
        ("sam@school.example", False, "invited to cohort “Year 10”"),
        ("olga@other.example", False, "rejected: already has an account"),
    ]


def test_the_import_sets_the_cohort_of_the_issuers_own_students_only(app, issuer):
    ada = make_user(app, "ada@school.example", "student")
    olga = make_user(app, "olga@other.example", "student", issuer_did=OTHER_ISSUER_DID)
    with app.app_context():
        report = accounts.import_roster(
            WITH_COHORTS, issuer=db.session.merge(issuer), invited_by=None
        )
    assert [row.email for row in report.updated] == ["ada@school.example"]
    assert [row.email for row in report.created] == ["grace@school.example", "sam@school.example"]
    assert [row.email for row in report.rejected] == ["olga@other.example"]
    with app.app_context():
        assert db.session.get(User, ada).cohort == "Year 9"
        assert db.session.get(User, olga).cohort is None
    assert invitation_emails(app) == ["grace@school.example", "sam@school.example"]
    assert outbox_recipients(app) == ["grace@school.example", "sam@school.example"]


def test_the_page_and_the_command_report_cohorts_set(app, admin_client, runner, tmp_path):
    make_user(app, "ada@school.example", "student")
    page = upload(admin_client, "cohorts.csv", WITH_COHORTS).get_data(as_text=True)
    assert "3 invited, 1 cohort set, 0 rejected." in page  # (no account for Olga here)
    assert '<td data-label="Cohort">Year 9</td>' in page and "cohort set to “Year 9”" in page
    roster = tmp_path / "again.csv"
    roster.write_bytes(b"name,email,role,cohort\nAda Lovelace,ada@school.example,student,7B\n")
    result = runner.invoke(args=["roster", "import", str(roster)])
    assert "line 2: ada@school.example (Ada Lovelace) cohort set to “7B”" in result.output
    assert result.output.strip().endswith("0 invited, 1 cohort set, 0 rejected.")


def test_a_student_invited_from_a_roster_joins_their_cohort(app, issuer):
    from tests.portfolio.accounts.test_invitations import join, link_path, outbox

    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        accounts.import_roster(WITH_COHORTS, issuer=db.session.merge(issuer), invited_by=None)
        invitation = db.session.scalar(
            select(Invitation).where(Invitation.email == "sam@school.example")
        )
        assert invitation.cohort == "Year 10"
        grace = db.session.scalar(
            select(Invitation).where(Invitation.email == "grace@school.example")
        )
        assert grace.cohort is None  # only students belong to a cohort
    message = next(m for m in outbox(app) if m["To"] == "sam@school.example")
    client = app.test_client()
    assert join(client, link_path(message)).status_code == 303
    with app.app_context():
        sam = db.session.scalar(select(User).where(User.email == "sam@school.example"))
        assert sam.cohort == "Year 10"
