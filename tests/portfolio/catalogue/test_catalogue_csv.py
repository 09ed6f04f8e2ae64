"""The catalogue as CSV: every row gets a verdict (created, updated, unchanged, or rejected with
the reason); rows match on identifier; prerequisites may name rows further down the file but
never an unknown identifier or a loop; a rejected row never stops the others and a crash leaves
nothing; the export re-imports unchanged and is safe to open in a spreadsheet."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.accounts.issuers import default_issuer, ensure_issuer
from portfolio.catalogue import csv_io as catalogue_csv
from portfolio.catalogue.csv_io import COLUMNS, CatalogueCsvError, parse_rows
from portfolio.catalogue.models import Competency
from portfolio.core.db import db
from tests.portfolio.accounts.test_auth import OTHER_ISSUER_DID
from tests.portfolio.catalogue.test_catalogue_pages import signed_in

FILES = Path(__file__).parents[2] / "assets" / "catalogue"
HEADER = ",".join(COLUMNS)


def read(name: str) -> bytes:
    return (FILES / name).read_bytes()


def verdicts(rows: list[Any]) -> list[tuple[int, str, str | None]]:
    return [(row.line, row.identifier, row.problem) for row in rows]


def import_csv(app: Flask, data: bytes, issuer_did: str | None = None) -> catalogue_csv.CsvReport:
    with app.app_context():
        issuer = (
            ensure_issuer(did=issuer_did, name="Other School", slug="other")
            if issuer_did
            else default_issuer()
        )
        return catalogue_csv.import_csv(data, issuer=issuer)


def catalogue(app: Flask) -> dict[str, dict[str, Any]]:
    """The default issuer's competencies by identifier."""
    with app.app_context():
        rows = db.session.scalars(
            select(Competency)
            .where(Competency.issuer_id == default_issuer().id)
            .order_by(Competency.identifier)
        ).all()
        return {
            row.identifier: {
                "public_id": row.public_id,
                "name": row.name,
                "description": row.description,
                "criteria": row.criteria_narrative,
                "type": row.achievement_type,
                "tags": row.tags,
                "level": row.level,
                "credits": row.credits,
                "code": row.human_code,
                "alignments": row.alignments,
                "prerequisites": sorted(each.identifier for each in row.prerequisites),
                "endorsements": row.required_endorsements,
            }
            for row in rows
        }


# -- parsing (pure) --------------------------------------------------------------------------


def test_every_kind_of_broken_row_is_named_and_the_good_rows_survive():
    rows = parse_rows(read("broken-rows.csv"))
    assert verdicts(rows) == [
        (2, "MUS-1", None),
        (3, "", "Enter the identifier."),
        (
            4,
            "BAD-TYPE",
            "Unknown achievement type “Diploma2” (one of Competency, Badge, Certificate, "
            "MicroCredential, Achievement, Assessment, Assignment, Award, Certification, "
            "CoCurricular, CommunityService, Course, Diploma, Fieldwork, License, Membership).",
        ),
        (5, "BAD-CREDITS", "Credits must be a number, like 2 or 0.5."),
        (6, "BAD-URL", "The alignment's address must be a web address starting with https://."),
        (7, "BAD-ENDORSE", "Required endorsements must be a whole number from 1 to 5."),
        (8, "MUS-1", "duplicate of line 2 in this file"),
        (9, "UNKNOWN-PRE", None),  # unknown identifiers are found against the database
        (10, "SELF", "a competency cannot be its own prerequisite"),
        (11, "SHORT", "2 columns instead of 15"),
        (12, "NO-NAME", "Enter the name."),
        (13, "MUS-2", None),
    ]


def test_a_file_may_leave_columns_out_but_never_identifier_or_name():
    rows = parse_rows(b"name,identifier\nMelody,MUS-1\n")
    assert [(row.identifier, row.ok, sorted(row.values)) for row in rows] == [
        ("MUS-1", True, ["identifier", "name"])
    ]
    assert rows[0].alignment is None and rows[0].prerequisites is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"name,description\nA,B\n", "the header has no “identifier” column"),
        (b"identifier,name,colour\nA,B,red\n", "unknown column “colour”"),
        (b"identifier,name,name\nA,B,C\n", "the column “name” appears twice"),
        (HEADER.encode() + b"\n" + b"x" * catalogue_csv.MAX_BYTES, "the file is larger than"),
    ],
    ids=["empty", "no identifier", "unknown column", "repeated column", "too big"],
)
def test_a_file_that_is_not_a_catalogue_is_refused_as_a_whole(data, message):
    with pytest.raises(CatalogueCsvError, match=message):
        parse_rows(data)


def test_too_many_rows_are_refused(monkeypatch):
    monkeypatch.setattr(catalogue_csv, "MAX_ROWS", 2)
    with pytest.raises(CatalogueCsvError, match="more than 2 rows"):
        parse_rows(read("catalogue.csv"))


def test_only_the_rows_that_are_not_utf8_are_rejected():
    data = b"identifier,name\nA,Caf\xe9\nB,Fine\n"
    rows = parse_rows(data)
    assert [(row.line, row.ok) for row in rows] == [(2, False), (3, True)]
    assert rows[0].problem == "not UTF-8 text (save the file as UTF-8)"


def test_a_byte_order_mark_and_blank_lines_are_fine():
    rows = parse_rows(b"\xef\xbb\xbfidentifier,name\n\nA,Alpha\n,\n")
    assert [(row.identifier, row.ok) for row in rows] == [("A", True)]


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Plain", "Plain"),
        ("'quoted", "'quoted"),
    ],
)
def test_cells_a_spreadsheet_would_run_as_formulas_are_escaped_and_read_back(text, escaped):
    assert catalogue_csv.escape_cell(text) == escaped
    assert catalogue_csv.unescape_cell(escaped) == text


# -- importing -------------------------------------------------------------------------------


def test_a_good_file_creates_every_competency_with_every_column(app):
    report = import_csv(app, read("catalogue.csv"))
    assert report.describe() == "3 created, 0 updated, 0 unchanged, 0 rejected."
    song = catalogue(app)["MUS-3"]
    assert song == {
        "public_id": song["public_id"],
        "name": "Compose a song",
        "description": "Compose and record an original song.",
        "criteria": "A recorded song:\n- melody\n- lyrics",
        "type": "Competency",
        "tags": ["music", "songwriting"],
        "level": "Grade 8",
        "credits": 2.0,
        "code": "MUS.3",
        "alignments": [
            {
                "targetName": "Arts standard 1",
                "targetUrl": "https://standards.example/arts/1",
                "targetCode": "MU:Cr1.1.8",
                "targetFramework": "National Core Arts Standards",
            }
        ],
        "prerequisites": ["MUS-1", "MUS-2"],  # named before their rows
        "endorsements": 2,
    }
    assert catalogue(app)["MUS-2"]["endorsements"] == 1  # empty means 1


def test_broken_rows_are_reported_and_the_good_ones_are_written_in_one_go(app):
    report = import_csv(app, read("broken-rows.csv"))
    assert [row.line for row in report.created] == [2, 13]
    rejected = {row.line: row.problem for row in report.rejected}
    assert rejected[9] == "unknown prerequisite “GHOST”"
    assert len(rejected) == 10
    assert sorted(catalogue(app)) == ["MUS-1", "MUS-2"]
    assert catalogue(app)["MUS-2"]["prerequisites"] == ["MUS-1"]


def test_importing_again_updates_in_place_and_keeps_public_ids(app):
    import_csv(app, read("catalogue.csv"))
    before = catalogue(app)
    assert import_csv(app, read("catalogue.csv")).describe() == (
        "0 created, 0 updated, 3 unchanged, 0 rejected."
    )
    data = HEADER.encode() + b"\nMUS-1,Write a tune,,,,,,,,,,,,,1\n"
    report = import_csv(app, data)
    assert report.describe() == "0 created, 1 updated, 0 unchanged, 0 rejected."
    after = catalogue(app)
    assert after["MUS-1"]["public_id"] == before["MUS-1"]["public_id"]
    assert after["MUS-1"]["name"] == "Write a tune"
    assert after["MUS-1"]["tags"] == []  # an empty cell empties the value


def test_columns_left_out_keep_what_competencies_have(app):
    import_csv(app, read("catalogue.csv"))
    import_csv(app, b"identifier,name\nMUS-3,Compose and record a song\n")
    song = catalogue(app)["MUS-3"]
    assert song["name"] == "Compose and record a song"
    assert song["tags"] == ["music", "songwriting"]
    assert song["prerequisites"] == ["MUS-1", "MUS-2"]
    assert len(song["alignments"]) == 1


def test_the_alignment_columns_replace_the_alignment_with_the_same_address_only(app):
    import_csv(app, read("catalogue.csv"))
    with app.app_context():
        row = db.session.scalar(select(Competency).where(Competency.identifier == "MUS-3"))
        row.alignments = [
            {**row.alignments[0], "targetType": "CFItem"},
            {"targetName": "Other", "targetUrl": "https://other.example/1"},
        ]
        db.session.commit()
    data = (
        b"identifier,name,alignment_name,alignment_url\n"
        b"MUS-3,Compose a song,Arts standard 1 (2024),https://standards.example/arts/1\n"
    )
    assert import_csv(app, data).describe() == "0 created, 1 updated, 0 unchanged, 0 rejected."
    assert catalogue(app)["MUS-3"]["alignments"] == [
        {
            "targetName": "Arts standard 1 (2024)",
            "targetUrl": "https://standards.example/arts/1",
            "targetType": "CFItem",
        },
        {"targetName": "Other", "targetUrl": "https://other.example/1"},
    ]


def test_prerequisites_that_make_a_loop_are_refused_with_the_loop(app):
    import_csv(app, read("catalogue.csv"))  # MUS-3 needs MUS-1 and MUS-2; MUS-2 needs MUS-1
    data = b"identifier,name,prerequisites\nMUS-1,Write a melody,MUS-3\n"
    report = import_csv(app, data)
    assert [row.problem for row in report.rejected] == [
        "the prerequisites would make a loop (MUS-1 → MUS-3 → MUS-1)"
    ]
    assert catalogue(app)["MUS-1"]["prerequisites"] == []


def test_a_loop_inside_the_file_rejects_the_row_that_closes_it_and_rows_that_need_it(app):
    data = (
        b"identifier,name,prerequisites\nA,Alpha,C\nB,Beta,A\nC,Gamma,B\nNEW,New one,C\nD,Delta,\n"
    )
    report = import_csv(app, data)
    assert {row.line: row.problem for row in report.rejected} == {
        4: "the prerequisites would make a loop (C → B → A → C)",
        2: "the prerequisite “C” is on rejected line 4",
        3: "the prerequisite “A” is on rejected line 2",
        5: "the prerequisite “C” is on rejected line 4",
    }
    assert sorted(catalogue(app)) == ["D"]


def test_a_row_needing_a_rejected_new_row_is_rejected_too(app):
    data = b"identifier,name,credits,prerequisites\nA,Alpha,lots,\nB,Beta,,A\n"
    report = import_csv(app, data)
    assert {row.line: row.problem for row in report.rejected} == {
        2: "Credits must be a number, like 2 or 0.5.",
        3: "the prerequisite “A” is on rejected line 2",
    }
    assert catalogue(app) == {}


def test_a_crash_while_writing_leaves_nothing(app, monkeypatch):
    def fail(*args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(catalogue_csv, "set_prerequisites", fail)
    with pytest.raises(RuntimeError):
        import_csv(app, read("catalogue.csv"))
    assert catalogue(app) == {}


def test_each_issuer_has_its_own_identifiers(app):
    report = import_csv(app, read("catalogue.csv"), issuer_did=OTHER_ISSUER_DID)
    assert report.describe() == "3 created, 0 updated, 0 unchanged, 0 rejected."
    # Another issuer's competencies are neither updated nor usable as prerequisites.
    data = b"identifier,name,prerequisites\nMUS-3,Ours,\nX,Needs theirs,MUS-1\n"
    report = import_csv(app, data)
    assert [row.outcome for row in report.rows] == ["created", "rejected"]
    assert report.rejected[0].problem == "unknown prerequisite “MUS-1”"
    assert {key: row["name"] for key, row in catalogue(app).items()} == {"MUS-3": "Ours"}
    with app.app_context():
        names = db.session.scalars(
            select(Competency.name).where(Competency.identifier == "MUS-3").order_by(Competency.id)
        ).all()
    assert names == ["Compose a song", "Ours"]  # theirs is untouched


# -- exporting -------------------------------------------------------------------------------


def test_the_export_has_every_column_and_re_imports_unchanged(app):
    import_csv(app, read("catalogue.csv"))
    with app.app_context():
        exported = catalogue_csv.export_csv(default_issuer())
    lines = exported.decode("utf-8").splitlines()
    assert lines[0] == HEADER
    assert ",MUS-1; MUS-2,2\r\n" in exported.decode("utf-8")
    before = catalogue(app)
    report = import_csv(app, exported)
    assert report.describe() == "0 created, 0 updated, 3 unchanged, 0 rejected."
    assert catalogue(app) == before


def test_the_export_escapes_formulas_and_keeps_the_text(app):
    data = b"identifier,name,description\nF-1,=1+2,\"@cmd|' /C calc'!A0\"\n"
    import_csv(app, data)
    assert catalogue(app)["F-1"]["name"] == "=1+2"
    with app.app_context():
        exported = catalogue_csv.export_csv(default_issuer()).decode("utf-8")
    assert "'=1+2" in exported and "'@cmd" in exported
    import_csv(app, exported.encode("utf-8"))
    assert catalogue(app)["F-1"]["name"] == "=1+2"


# -- the page and the command ------------------------------------------------------------------


@pytest.fixture
def admin(app: Flask) -> Any:
    app.config["WTF_CSRF_ENABLED"] = False
    return signed_in(app, "alice@school.example")


def upload(client: Any, data: bytes) -> Any:
    return client.post(
        "/admin/catalogue/import/csv",
        data={"file": (io.BytesIO(data), "catalogue.csv")},
        content_type="multipart/form-data",
    )


def test_the_page_shows_a_per_row_report(app, admin):
    response = upload(admin, read("broken-rows.csv"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 created, 0 updated, 0 unchanged, 10 rejected." in page
    assert "Rejected</span> unknown prerequisite “GHOST”" in page
    assert "Rejected</span> 2 columns instead of 15" in page


def test_the_page_refuses_an_unreadable_file_next_to_the_field(app, admin):
    response = upload(admin, b"name\nA\n")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="file-error"' in page
    assert "This file cannot be imported: the header has no “identifier” column." in page


def test_the_page_downloads_the_catalogue(app, admin):
    upload(admin, read("catalogue.csv"))
    response = admin.get("/admin/catalogue/catalogue.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="catalogue.csv"'
    assert response.get_data(as_text=True).startswith(HEADER)
    olga = signed_in(app, "olga@other.example", issuer_did=OTHER_ISSUER_DID)
    assert olga.get("/admin/catalogue/catalogue.csv").get_data(as_text=True).strip() == HEADER


def test_the_command_prints_a_line_per_row(app, runner):
    result = runner.invoke(args=["catalogue", "import-csv", str(FILES / "broken-rows.csv")])
    assert result.exit_code == 0, result.output
    assert "line 2: MUS-1 (Write a melody) created" in result.output
    assert "line 12: NO-NAME (-) rejected: Enter the name." in result.output
    assert result.output.strip().endswith("2 created, 0 updated, 0 unchanged, 10 rejected.")


def test_the_command_exports_and_refuses_an_unreadable_file(app, runner, tmp_path):
    runner.invoke(args=["catalogue", "import-csv", str(FILES / "catalogue.csv")])
    output = tmp_path / "out.csv"
    result = runner.invoke(args=["catalogue", "export-csv", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert output.read_text(encoding="utf-8").startswith(HEADER)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"colour\nred\n")
    result = runner.invoke(args=["catalogue", "import-csv", str(bad)])
    assert result.exit_code == 1
    assert "bad.csv cannot be imported: unknown column “colour”" in result.output
