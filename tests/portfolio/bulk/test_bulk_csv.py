"""Issuing from a CSV file: the file's rows judged one by one (pure), and ``credfolio
issue-csv`` issuing one verifying credential per good row, reporting every row, failing with
exit code 1 when a row failed, and issuing nothing twice when the file is run again."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from portfolio.assessment.models import Mastery
from portfolio.bulk.csv_file import IssueFileError, parse_issue_csv
from portfolio.bulk.models import BulkJob
from portfolio.core.db import db
from portfolio.core.models import utcnow
from portfolio.issuing.models import IssuedCredential
from tests.portfolio.school import competency, make_school

# -- the file, judged row by row -------------------------------------------------------------


def test_good_rows_get_a_key_from_the_file_and_their_line() -> None:
    data = (
        b"\xef\xbb\xbfname,email,competency\r\n"
        b"Ana,ANA@Example.org,MUS-1\r\n\r\nBo,bo@x.org,MUS-2\r\n"
    )
    rows = parse_issue_csv(data)
    assert [(r.line, r.name, r.email, r.competency, r.ok) for r in rows] == [
        (2, "Ana", "ana@example.org", "MUS-1", True),
        (4, "Bo", "bo@x.org", "MUS-2", True),
    ]
    prefix = rows[0].key.split(":")[0]
    assert len(prefix) == 16 and [r.key for r in rows] == [f"{prefix}:2", f"{prefix}:4"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"Ana,not-an-email,MUS-1", "not an email address"),
        (b",ana@example.org,MUS-1", "the name is empty"),
        (b"Ana,ana@example.org,", "no competency given"),
        (b"Ana,ana@example.org,MUS-1,extra", "4 columns instead of 3"),
        (b"An\xffa,ana@example.org,MUS-1", "not UTF-8 text"),
    ],
)
def test_a_bad_row_is_judged_alone(line: bytes, problem: str) -> None:
    rows = parse_issue_csv(b"name,email,competency\nGood,good@example.org,MUS-1\n" + line + b"\n")
    assert rows[0].ok
    assert rows[1].problem is not None and rows[1].problem.startswith(problem)


def test_repeats_in_one_file_are_refused_and_a_key_column_is_used() -> None:
    rows = parse_issue_csv(
        b"name,email,competency,key\n"
        b"Ana,ana@example.org,MUS-1,k-1\n"
        b"Ana again,ANA@example.org,mus-1,k-2\n"
        b"Bo,bo@example.org,MUS-1,k-1\n"
        b"Cy,cy@example.org,MUS-1,\n"
    )
    assert rows[0].key == "k-1" and rows[0].ok
    assert rows[1].problem == "duplicate of line 2 in this file"
    assert rows[2].problem == "the key repeats line 2"
    assert rows[3].ok and rows[3].key.endswith(":5")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the first line must be the header"),
        (b"email,name,competency\n", "the first line must be the header"),
        (b"name,email,competency\n" + b"x" * 5_000_001, "larger than 5 MB"),
    ],
)
def test_a_file_that_is_not_a_list_of_credentials_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(IssueFileError, match=message):
        parse_issue_csv(data)


# -- the command -----------------------------------------------------------------------------


@pytest.fixture
def school(app: Flask, issuer: Any) -> Any:
    app.config["CREDFOLIO_NOTIFY_BY_MAIL"] = False
    school = make_school(issuer)
    school.competency.human_code = "MUS-1"
    db.session.commit()
    competency(issuer, "Harmony", human_code="MUS-2")
    return school


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def count(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def report(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_issue_csv_issues_each_good_row_and_reports_every_row(
    app: Flask, school: Any, runner: Any, tmp_path: Path
) -> None:
    source = write(
        tmp_path,
        "term.csv",
        "name,email,competency\n"
        "Ana Lima,ana@example.org,MUS-1\n"
        "=HYPERLINK(1),bad-email,MUS-1\n"
        "Bo Brun,bo@example.org,NOPE\n"
        f"Sam Student,{school.student.email},MUS-2\n"
        "Cy Dee,cy@example.org,MUS-2\n",
    )
    out = tmp_path / "report.csv"
    result = runner.invoke(args=["issue-csv", str(source), "--report", str(out)])
    assert result.exit_code == 1, result.output
    assert "line 3: =HYPERLINK(1) <bad-email> failed: not an email address" in result.output
    assert "line 4: Bo Brun <bo@example.org> failed: no competency 'NOPE' in the catalogue" in (
        result.output
    )
    assert "3 done, 0 skipped, 2 failed, 0 pending" in result.output
    rows = report(out)
    assert [row["state"] for row in rows] == ["done", "failed", "failed", "done", "done"]
    # Cells that a spreadsheet would run as formulas are made inert.
    assert rows[1]["recipient"].startswith("'=HYPERLINK")
    verifier = app.extensions["credfolio"].verifier()
    with app.app_context():
        credentials = db.session.scalars(select(IssuedCredential)).all()
        assert len(credentials) == 3
        for credential in credentials:
            result_ = verifier.verify(json.loads(credential.document))
            assert result_.verified, result_.errors
        names = sorted(c.recipient_name or "" for c in credentials)
        assert names == ["Ana Lima", "Cy Dee", "Sam Student"]
        # The row for a student account is linked to it, with the mastery.
        mastery = db.session.scalars(select(Mastery)).one()
        assert mastery.student_id == school.student.id
        linked = db.session.get(IssuedCredential, mastery.credential_id)
        assert linked is not None and linked.recipient_user_id == school.student.id


def test_a_school_naming_people_by_name_only_issues_csv_rows_without_an_email_hash(
    app: Flask, school: Any, runner: Any, tmp_path: Path
) -> None:
    school.issuer.recipient_identity = "name"
    db.session.commit()
    source = write(tmp_path, "term.csv", "name,email,competency\nAna Lima,ana@example.org,MUS-1\n")
    result = runner.invoke(args=["issue-csv", str(source)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        credential = db.session.scalars(select(IssuedCredential)).one()
        subject = json.loads(credential.document)["credentialSubject"]
        assert [i["identityType"] for i in subject["identifier"]] == ["name"]
        assert "id" not in subject


def test_running_the_same_file_again_issues_nothing_twice(
    app: Flask, school: Any, runner: Any, tmp_path: Path
) -> None:
    source = write(
        tmp_path,
        "term.csv",
        "name,email,competency\nAna Lima,ana@example.org,MUS-1\nBo Brun,bo@example.org,NOPE\n",
    )
    assert runner.invoke(args=["issue-csv", str(source)]).exit_code == 1
    with app.app_context():
        assert count(IssuedCredential) == 1
        # The missing competency is created; running the file again retries only that row.
        competency(school.issuer, "Nope", human_code="NOPE")
    again = runner.invoke(args=["issue-csv", str(source)])
    assert again.exit_code == 0, again.output
    assert "was seen before as job" in again.output and "1 failed row(s) retried" in again.output
    assert "2 done, 0 skipped, 0 failed" in again.output
    third = runner.invoke(args=["issue-csv", str(source)])
    assert third.exit_code == 0
    with app.app_context():
        assert count(IssuedCredential) == 2 and count(BulkJob) == 1


def test_a_key_column_keeps_rows_of_another_file_from_issuing_twice(
    app: Flask, school: Any, runner: Any, tmp_path: Path
) -> None:
    first = write(
        tmp_path, "a.csv", "name,email,competency,key\nAna Lima,ana@example.org,MUS-1,sis-17\n"
    )
    second = write(
        tmp_path,
        "b.csv",
        "name,email,competency,key\n"
        "Ana Lima,ana@example.org,MUS-1,sis-17\n"
        "Bo Brun,bo@example.org,MUS-2,sis-17b\n"
        "Cy Dee,cy@example.org,MUS-2,sis-17c\n",
    )
    assert runner.invoke(args=["issue-csv", str(first)]).exit_code == 0
    result = runner.invoke(args=["issue-csv", str(second)])
    assert result.exit_code == 0, result.output
    assert "line 2: Ana Lima <ana@example.org> skipped: already issued from this row" in (
        result.output
    )
    with app.app_context():
        assert count(IssuedCredential) == 3


def test_a_reused_key_for_another_row_fails_that_row(
    app: Flask, school: Any, runner: Any, tmp_path: Path
) -> None:
    first = write(tmp_path, "a.csv", "name,email,competency,key\nAna,ana@example.org,MUS-1,k\n")
    second = write(tmp_path, "b.csv", "name,email,competency,key\nBo,bo@example.org,MUS-1,k\n")
    assert runner.invoke(args=["issue-csv", str(first)]).exit_code == 0
    result = runner.invoke(args=["issue-csv", str(second)])
    assert result.exit_code == 1
    assert "failed: the key 'k' was already used for another row" in result.output


def test_a_file_that_cannot_be_read_is_refused_with_a_message(
    school: Any, runner: Any, tmp_path: Path
) -> None:
    source = write(tmp_path, "bad.csv", "email,competency\nana@example.org,MUS-1\n")
    result = runner.invoke(args=["issue-csv", str(source)])
    assert result.exit_code == 1
    assert "bad.csv cannot be issued: the first line must be the header" in result.output


def test_jobs_commands_list_show_and_resume(
    app: Flask, school: Any, runner: Any, tmp_path: Path
) -> None:
    source = write(
        tmp_path,
        "term.csv",
        "name,email,competency\nAna,ana@example.org,MUS-1\nBo,bo@example.org,MUS-2\n",
    )
    assert runner.invoke(args=["issue-csv", str(source)]).exit_code == 0
    listing = runner.invoke(args=["jobs", "list"])
    assert listing.exit_code == 0 and "done\t2/2\tcsv_issue" in listing.output
    shown = runner.invoke(args=["jobs", "show", "1", "--rows"])
    assert "State: Done" in shown.output and "line 3: Bo <bo@example.org> done: issued" in (
        shown.output
    )
    assert runner.invoke(args=["jobs", "resume", "1"]).exit_code == 1  # nothing to resume
    # A job left "running" by a process that died is resumed by `jobs run --once`.
    # (In the session the commands share here: its commit refreshes what they read.)
    db.session.execute(
        update(BulkJob).values(state="running", lease_owner="dead", lease_expires_at=utcnow())
    )
    db.session.commit()
    stale = runner.invoke(args=["jobs", "show", "1"])
    assert "stale" in stale.output
    worker = runner.invoke(args=["jobs", "run", "--once"])
    assert worker.exit_code == 0 and "job 1: done (0 rows)" in worker.output
    assert runner.invoke(args=["jobs", "show", "nope"]).exit_code == 1


def test_a_cancelled_job_is_resumed_on_request(
    app: Flask, school: Any, runner: Any, tmp_path: Path
) -> None:
    from portfolio.bulk import jobs as bulk
    from portfolio.bulk.kinds import start_csv_issue

    job, _ = start_csv_issue(
        b"name,email,competency\nAna,ana@example.org,MUS-1\n",
        filename="a.csv",
        issuer=school.issuer,
    )
    assert bulk.cancel(job)
    assert runner.invoke(args=["jobs", "run", "--once"]).output == ""  # not run: cancelled
    cancelled = runner.invoke(args=["jobs", "cancel", str(job.id)])
    assert cancelled.exit_code == 1 and "cannot be cancelled" in cancelled.output
    resumed = runner.invoke(args=["jobs", "resume", job.public_id])
    assert resumed.exit_code == 0, resumed.output
    assert "was cancelled: queued again" in resumed.output and "1 done" in resumed.output


def test_a_fault_of_the_whole_job_stops_it_with_its_rows_pending(
    app: Flask, school: Any, runner: Any, tmp_path: Path
) -> None:
    """A process started with the wrong key-encryption secret cannot sign: it stops the job
    (nothing issued, nothing marked failed) and says why; the right process finishes it."""
    from portfolio.bulk import jobs as bulk
    from portfolio.bulk.kinds import start_csv_issue

    data = b"name,email,competency\nAna,ana@example.org,MUS-1\nBo,bo@example.org,MUS-1\n"
    job, _ = start_csv_issue(data, filename="a.csv", issuer=school.issuer)
    env = {
        **os.environ,
        "CREDFOLIO_INSTANCE_PATH": str(tmp_path / "wrong"),
        "CREDFOLIO_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "CREDFOLIO_KEY_ENCRYPTION_SECRET": os.urandom(32).hex(),
        "CREDFOLIO_PUBLIC_URL": app.config["CREDFOLIO_PUBLIC_URL"],
    }
    env.pop("FLASK_APP", None)
    wrong = subprocess.run(
        [str(Path(sys.executable).parent / "credfolio"), "jobs", "resume", str(job.id)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert wrong.returncode == 1
    assert f"job {job.id} stopped: KeyEncryptionError: cannot decrypt" in wrong.stderr
    assert f"run: credfolio jobs resume {job.id}" in wrong.stderr
    db.session.expire_all()
    assert job.state == "running" and job.lease_owner is None
    assert job.error is not None and "stopped after 0 rows: KeyEncryptionError" in job.error
    assert bulk.counts(job.id)["pending"] == 2 and count(IssuedCredential) == 0
    # A worker does not retry it in a loop: only after a lease period.
    assert bulk.runnable_jobs() == []
    resumed = runner.invoke(args=["jobs", "resume", str(job.id)])
    assert resumed.exit_code == 0, resumed.output
    db.session.expire_all()
    assert job.state == "done" and job.error is None and count(IssuedCredential) == 2
