"""CASE frameworks: a CFPackage becomes a framework of competencies (order, names, levels, tags,
an alignment to each CASE item, prerequisites from ``precedes``); re-importing updates in place,
keeping every competency's public id; export writes a schema-valid CFPackage that imports back to
the same data; bad files are refused by name with nothing written.  Parsing is pure and tested
without an app; the page and ``credfolio catalogue import-case`` share one service."""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jsonschema import Draft7Validator
from sqlalchemy import select

from portfolio.accounts.issuers import default_issuer, ensure_issuer
from portfolio.accounts.models import Issuer
from portfolio.catalogue import case
from portfolio.catalogue.models import Competency, CompetencyFramework
from portfolio.catalogue.service import set_prerequisites
from portfolio.core.db import db
from tests.portfolio.accounts.test_auth import OTHER_ISSUER_DID
from tests.portfolio.catalogue.test_catalogue_pages import signed_in

ASSETS = Path(__file__).parents[2] / "assets"
OPENSALT = ASSETS / "case"
MUSIC = ASSETS / "catalogue" / "music-framework.json"
MUSIC_V2 = ASSETS / "catalogue" / "music-framework-v2.json"
PUBLIC_URL = "https://credfolio.test"
ID = "9b0d3f6e-5a3c-4f7e-9a59-1c1e2f0a00"  # + two digits: the music framework's identifiers


def music(**changes: Any) -> dict[str, Any]:
    """The music framework as data, for variations."""
    package = json.loads(MUSIC.read_text(encoding="utf-8"))
    package.update(changes)
    return package


def as_bytes(package: Any) -> bytes:
    return json.dumps(package).encode("utf-8")


# -- reading (pure) ----------------------------------------------------------------------------


def test_the_music_framework_reads_as_competencies_in_framework_order():
    package = case.parse_package(MUSIC.read_bytes())
    assert (package.identifier, package.title) == (f"{ID}01", "Music Composition")
    assert package.document["version"] == "1.0"
    assert package.document["adoption_status"] == "Adopted"
    assert [item.human_code for item in package.items] == ["MUS.1", "MUS.2", "MUS.3", "MUS.J"]
    song = package.items[2]
    assert song.name == "Compose a song"  # the abbreviatedStatement
    assert song.description.startswith("Compose and record an original song")
    assert song.level == "08, 09"
    assert song.tags == ("songwriting", "recording", "Competency")
    assert song.uri == f"https://case.school.example/uri/{ID}10"
    # Only precedes between two items of the package become prerequisites.
    assert package.precedes == ((f"{ID}11", f"{ID}12"), (f"{ID}12", f"{ID}10"))


def test_a_long_statement_is_shortened_at_a_word_and_a_first_line_is_used():
    melody, harmony = case.parse_package(MUSIC.read_bytes()).items[:2]
    assert melody.name == (
        "Write a melody of at least sixteen bars that has a clear shape, a climax and a cadence, "
        "and that a…"
    )
    assert len(melody.name) <= case.NAME_LENGTH
    assert harmony.name == "Harmonise a melody."
    assert harmony.description == (
        "Harmonise a melody.\nChoose chords for every bar and voice them for piano or guitar."
    )


@pytest.mark.parametrize(
    ("statement", "name"),
    [
        ("Short.", "Short."),
        ("  Spaced   out\ttext  ", "Spaced out text"),
        ("x" * 150, "x" * 99 + "…"),
        ("First line\nsecond line", "First line"),
    ],
)
def test_short_names(statement, name):
    assert case.short_name(statement) == name
    assert case.short_name(case.short_name(statement)) == case.short_name(statement)


def test_opensalt_frameworks_read_in_order():
    sample = case.parse_package((OPENSALT / "framework-sample.json").read_bytes())
    codes = [item.human_code for item in sample.items]
    assert codes[:6] == [
        "CCSS.Math.Content.6.RP.A",
        "CCSS.Math.Content.6.RP.A.1",
        "CCSS.Math.Content.6.RP.A.2",
        "CCSS.Math.Content.6.RP.A.3",
        "CCSS.Math.Content.6.RP.A.3a",
        "CCSS.Math.Content.6.RP.A.3b",
    ]
    assert codes[8] == "CCSS.Math.Content.7.RP.A"
    assert sample.items[0].level == "06"  # OpenSALT's "educationalLevel"
    assert sample.items[0].tags == ("Cluster",)
    assert len(sample.precedes) == 2  # the third precedes points outside the package
    sequence = case.parse_package((OPENSALT / "SequenceNumberFramework.json").read_bytes())
    assert [item.human_code for item in sequence.items] == ["SNT.2", "SNT.1"]
    utf8 = case.parse_package((OPENSALT / "Utf8TestFramework.json").read_bytes())
    assert (utf8.title, utf8.items[0].name) == ("UTF8 𝑑 Test", "Item 𝑑 1")


def _item(**changes: Any) -> dict[str, Any]:
    package = music()
    package["CFItems"][0].update(changes)
    return package


def _association(**changes: Any) -> dict[str, Any]:
    package = music()
    package["CFAssociations"][0].update(changes)
    return package


BAD_FILES = [
    (b"{not json", "not JSON: Expecting property name enclosed in double quotes at line 1"),
    ("Ünïcode".encode("latin-1"), "the file is not UTF-8 text"),
    (b'{"CFDocument": NaN}', "the file holds NaN, which is not JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b"[]", "not a CASE package: there is no CFDocument"),
    (b'{"CFItems": []}', "not a CASE package: there is no CFDocument"),
    (as_bytes({"CFDocument": []}), "CFDocument must be an object"),
    (as_bytes(music(CFDocument={"identifier": "x"})), "CFDocument.title is missing"),
    (
        as_bytes(music(CFDocument={"identifier": 7, "title": "T"})),
        "CFDocument.identifier must be text, not int",
    ),
    (as_bytes(music(CFItems={"a": 1})), "CFItems must be a list"),
    (as_bytes(music(CFItems=["item"])), "CFItems[0] must be an object"),
    (as_bytes(_item(fullStatement="")), f"CFItems[0] ({ID}10).fullStatement is missing"),
    (
        as_bytes(_item(fullStatement=["a"])),
        f"CFItems[0] ({ID}10).fullStatement must be text, not list",
    ),
    (as_bytes(_item(uri="javascript:alert(1)")), f"CFItems[0] ({ID}10).uri must be a web address"),
    (as_bytes(_item(uri=None)), f"CFItems[0] ({ID}10).uri is missing"),
    (as_bytes(_item(identifier=f"{ID}11")), f"the identifier {ID}11 is used twice"),
    (as_bytes(_item(conceptKeywords=[1, 2])), "conceptKeywords must be a list of text"),
    (as_bytes(_item(educationLevel={"grade": 8})), "educationLevel must be a list of text"),
    (as_bytes(_item(fullStatement="x" * 50_001)), "fullStatement is longer than 50000 characters"),
    (as_bytes(_item(conceptKeywords=[f"k{n}" for n in range(31)])), "has more than 30 keywords"),
    (
        as_bytes(_association(sequenceNumber=True)),
        "CFAssociations[0].sequenceNumber must be a number",
    ),
    (
        as_bytes(_association(sequenceNumber="first")),
        "CFAssociations[0].sequenceNumber must be a number",
    ),
    (
        as_bytes(_association(originNodeURI="MUS.3")),
        "CFAssociations[0].originNodeURI must be an object",
    ),
    (as_bytes(_association(associationType=None)), "CFAssociations[0].associationType is missing"),
    (
        (ASSETS / "catalogue" / "precedes-loop.json").read_bytes(),
        "the precedes associations form a loop: MUS.1 → MUS.2 → MUS.3 → MUS.1",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD_FILES, ids=[m[:40] for _, m in BAD_FILES])
def test_a_bad_file_is_refused_with_what_is_wrong(data, message):
    with pytest.raises(case.CaseError, match=re.escape(message)):
        case.parse_package(data)


def test_a_file_larger_than_the_limit_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(case, "MAX_BYTES", 100)
    with pytest.raises(case.CaseError, match="larger than"):
        case.parse_package(MUSIC.read_bytes())


def test_too_many_items_are_refused(monkeypatch):
    monkeypatch.setattr(case, "MAX_ITEMS", 3)
    with pytest.raises(case.CaseError, match="CFItems has more than 3 entries"):
        case.parse_package(MUSIC.read_bytes())


# -- importing ---------------------------------------------------------------------------------


def snapshot(app: Flask, issuer_id: int | None = None) -> dict[str, Any]:
    """The imported data of an issuer, keyed by identifier, in a comparable form."""
    with app.app_context():
        issuer_id = issuer_id or default_issuer().id
        rows = db.session.scalars(
            select(Competency)
            .where(Competency.issuer_id == issuer_id)
            .order_by(Competency.position)
        ).all()
        return {
            row.identifier: {
                "public_id": row.public_id,
                "framework": row.framework.identifier if row.framework else None,
                "position": row.position,
                "name": row.name,
                "description": row.description,
                "human_code": row.human_code,
                "level": row.level,
                "tags": row.tags,
                "case_uri": row.case_uri,
                "alignments": row.alignments,
                "prerequisites": sorted(each.identifier for each in row.prerequisites),
                "archived": row.archived_at is not None,
            }
            for row in rows
        }


def framework_fields(app: Flask, identifier: str, issuer_id: int | None = None) -> dict[str, Any]:
    with app.app_context():
        issuer_id = issuer_id or default_issuer().id
        row = db.session.scalar(
            select(CompetencyFramework).where(
                CompetencyFramework.identifier == identifier,
                CompetencyFramework.issuer_id == issuer_id,
            )
        )
        names = ("title", "uri", "creator", "publisher", "description", "version", "language")
        return {name: getattr(row, name) for name in (*names, "adoption_status", "last_change")}


def import_file(app: Flask, path: Path, issuer_did: str | None = None) -> case.ImportSummary:
    with app.app_context():
        issuer = (
            ensure_issuer(did=issuer_did, name="Other School", slug="other")
            if issuer_did
            else default_issuer()
        )
        return case.import_package(path.read_bytes(), issuer=issuer)


def test_an_import_creates_the_framework_and_its_competencies(app):
    summary = import_file(app, MUSIC)
    assert summary.describe() == "4 created, 0 updated, 0 unchanged, 0 archived."
    data = snapshot(app)
    assert [each["human_code"] for each in data.values()] == ["MUS.1", "MUS.2", "MUS.3", "MUS.J"]
    song = data[f"{ID}10"]
    assert song["name"] == "Compose a song"
    assert song["case_uri"] == f"https://case.school.example/uri/{ID}10"
    assert song["alignments"] == [
        {
            "targetName": "Compose a song",
            "targetUrl": f"https://case.school.example/uri/{ID}10",
            "targetType": "CFItem",
            "targetCode": "MUS.3",
            "targetFramework": "Music Composition",
        }
    ]
    assert song["prerequisites"] == [f"{ID}12"]
    assert data[f"{ID}12"]["prerequisites"] == [f"{ID}11"]
    assert data[f"{ID}11"]["prerequisites"] == []
    assert framework_fields(app, f"{ID}01") == {
        "title": "Music Composition",
        "uri": f"https://case.school.example/uri/{ID}01",
        "creator": "Credfolio Demo School",
        "publisher": "Credfolio Demo School",
        "description": "Composing, arranging and recording music.",
        "version": "1.0",
        "language": "en",
        "adoption_status": "Adopted",
        "last_change": "2025-09-01T08:00:00+00:00",
    }


def test_importing_the_same_file_again_changes_nothing(app):
    import_file(app, MUSIC)
    before = snapshot(app)
    summary = import_file(app, MUSIC)
    assert summary.describe() == "0 created, 0 updated, 4 unchanged, 0 archived."
    assert snapshot(app) == before


def test_a_new_version_updates_in_place_keeping_public_ids_and_archives_what_is_gone(app):
    import_file(app, MUSIC)
    before = snapshot(app)
    summary = import_file(app, MUSIC_V2)
    assert summary.created == ["Arrange a song for a small ensemble."]
    assert summary.updated == ["Compose and record a song"]
    assert summary.archived == ["Keep a composer's journal."]
    after = snapshot(app)
    for identifier, row in before.items():
        assert after[identifier]["public_id"] == row["public_id"]  # Achievement ids stay
    assert after[f"{ID}10"]["name"] == "Compose and record a song"
    assert after[f"{ID}10"]["prerequisites"] == []  # its precedes is gone from the file
    assert after[f"{ID}13"]["archived"] is True  # archived, not deleted
    assert after[f"{ID}14"]["position"] == 3
    assert framework_fields(app, f"{ID}01")["version"] == "2.0"
    # And back: the archived item returns, with the same public id.
    summary = import_file(app, MUSIC)
    assert summary.archived == ["Arrange a song for a small ensemble."]
    again = snapshot(app)
    assert again[f"{ID}13"]["archived"] is False
    assert again[f"{ID}13"]["public_id"] == before[f"{ID}13"]["public_id"]


def test_what_was_set_by_hand_survives_a_re_import(app):
    import_file(app, MUSIC)
    extra = {"targetName": "Arts standard", "targetUrl": "https://standards.example/arts/1"}
    with app.app_context():
        song = db.session.scalar(select(Competency).where(Competency.identifier == f"{ID}10"))
        song.criteria_narrative = "Record it."
        song.required_endorsements = 2
        song.image_url = "https://cdn.example/song.png"
        song.alignments = [*song.alignments, extra]
        journal = db.session.scalar(select(Competency).where(Competency.identifier == f"{ID}13"))
        set_prerequisites(journal, [song])  # a prerequisite the file does not know about
        db.session.commit()
    import_file(app, MUSIC_V2)
    with app.app_context():
        song = db.session.scalar(select(Competency).where(Competency.identifier == f"{ID}10"))
        assert (song.criteria_narrative, song.required_endorsements) == ("Record it.", 2)
        assert song.image_url == "https://cdn.example/song.png"
        assert song.alignments[0]["targetName"] == "Compose and record a song"
        assert song.alignments[1:] == [extra]
        journal = db.session.scalar(select(Competency).where(Competency.identifier == f"{ID}13"))
        assert [each.identifier for each in journal.prerequisites] == [f"{ID}10"]


def test_a_precedes_that_closes_a_loop_with_prerequisites_set_by_hand_is_skipped(app):
    unordered = music()
    unordered["CFAssociations"] = [
        each for each in unordered["CFAssociations"] if each["associationType"] != "precedes"
    ]
    with app.app_context():
        issuer = default_issuer()
        case.import_package(as_bytes(unordered), issuer=issuer)
        outside = Competency(issuer_id=issuer.id, identifier="OUT", name="Outside", description="")
        db.session.add(outside)
        db.session.flush()
        melody = db.session.scalar(select(Competency).where(Competency.identifier == f"{ID}11"))
        song = db.session.scalar(select(Competency).where(Competency.identifier == f"{ID}10"))
        set_prerequisites(melody, [outside])
        set_prerequisites(outside, [song])  # melody needs outside, which needs the song
        db.session.commit()
    summary = import_file(app, MUSIC)  # harmony needs melody; song needs harmony: a loop
    assert summary.warnings == [
        "“Harmonise a melody.” was not made a prerequisite of “Compose a song”: it would close "
        "a loop with prerequisites set by hand."
    ]
    data = snapshot(app)
    assert data[f"{ID}12"]["prerequisites"] == [f"{ID}11"]
    assert data[f"{ID}10"]["prerequisites"] == []


def test_a_bad_file_writes_nothing(app):
    with app.app_context(), pytest.raises(case.CaseError):
        case.import_package(as_bytes(_item(uri="ftp://x")), issuer=default_issuer())
    assert snapshot(app) == {}
    with app.app_context():
        assert db.session.scalar(select(CompetencyFramework.id)) is None


def test_an_error_while_writing_leaves_nothing_half_written(app, monkeypatch):
    def fail(*args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(case, "_apply_precedes", fail)
    with pytest.raises(RuntimeError):
        import_file(app, MUSIC)
    assert snapshot(app) == {}


def test_each_issuer_imports_into_its_own_catalogue(app):
    import_file(app, MUSIC)
    summary = import_file(app, MUSIC, issuer_did=OTHER_ISSUER_DID)
    assert summary.describe() == "4 created, 0 updated, 0 unchanged, 0 archived."
    with app.app_context():
        other = db.session.scalar(select(Issuer.id).where(Issuer.did == OTHER_ISSUER_DID))
    ours, theirs = snapshot(app), snapshot(app, other)
    assert set(ours) == set(theirs)
    assert {row["public_id"] for row in ours.values()}.isdisjoint(
        row["public_id"] for row in theirs.values()
    )


# -- exporting ---------------------------------------------------------------------------------


def exported(app: Flask, identifier: str) -> dict[str, Any]:
    with app.app_context():
        framework = db.session.scalar(
            select(CompetencyFramework).where(CompetencyFramework.identifier == identifier)
        )
        return case.export_package(framework, public_url=PUBLIC_URL)


def test_the_export_is_a_valid_case_package(app):
    import_file(app, OPENSALT / "framework-sample.json")
    package = exported(app, "20c5134f-423d-4097-a971-3dd5152bf507")
    schema = json.loads((OPENSALT / "case-v1p0-cfpackage-schema.json").read_text())
    errors = [error.message for error in Draft7Validator(schema).iter_errors(package)]
    assert errors == []
    assert len(package["CFItems"]) == 16
    kinds = [each["associationType"] for each in package["CFAssociations"]]
    assert (kinds.count("isChildOf"), kinds.count("precedes")) == (16, 2)


@pytest.mark.parametrize(
    "name",
    [
        "framework-sample.json",
        "SmartLevelFramework.json",
        "MarkdownFramework.json",
        "SequenceNumberFramework.json",
        "Utf8TestFramework.json",
        "ItemTypeTestFramework.json",
    ],
)
def test_import_export_import_gives_the_same_data(app, name):
    import_file(app, OPENSALT / name)
    with app.app_context():
        document = case.parse_package((OPENSALT / name).read_bytes()).identifier
    first = snapshot(app)
    package = exported(app, document)
    # Into the same catalogue: every competency is recognised and nothing changes.
    with app.app_context():
        summary = case.import_package(case.dumps(package), issuer=default_issuer())
    assert (summary.created, summary.updated, summary.archived) == ([], [], [])
    assert snapshot(app) == first
    # Into another issuer's: the same data (with its own public ids).
    with app.app_context():
        other = ensure_issuer(did=OTHER_ISSUER_DID, name="Other", slug="other")
        case.import_package(case.dumps(package), issuer=other)
        other_id = other.id
    copied = snapshot(app, other_id)
    strip = lambda data: {k: {**v, "public_id": None} for k, v in data.items()}  # noqa: E731
    assert strip(copied) == strip(first)
    assert framework_fields(app, document, other_id) == framework_fields(app, document)


def test_competencies_made_here_export_with_uuid_identifiers_that_re_import_onto_them(app):
    with app.app_context():
        issuer = default_issuer()
        framework = CompetencyFramework(
            issuer_id=issuer.id, identifier="my-framework", title="Mine"
        )
        db.session.add(framework)
        db.session.flush()
        first = Competency(
            issuer_id=issuer.id,
            framework_id=framework.id,
            identifier="MUS-1",
            name="Melody",
            description="Write a melody.",
            position=0,
        )
        second = Competency(
            issuer_id=issuer.id,
            framework_id=framework.id,
            identifier="MUS-2",
            name="Song",
            description="Write a song.",
            position=1,
        )
        db.session.add_all([first, second])
        db.session.flush()
        set_prerequisites(second, [first])
        db.session.commit()
    package = exported(app, "my-framework")
    item = package["CFItems"][0]
    assert item["identifier"] != "MUS-1" and len(item["identifier"]) == 36
    assert item["uri"].startswith(f"{PUBLIC_URL}/achievements/")
    assert package["CFDocument"]["uri"].startswith("urn:uuid:")
    assert [a["associationType"] for a in package["CFAssociations"]] == [
        "isChildOf",
        "isChildOf",
        "precedes",
    ]
    public_ids = {key: row["public_id"] for key, row in snapshot(app).items()}
    with app.app_context():
        summary = case.import_package(case.dumps(package), issuer=default_issuer())
    assert summary.created == []
    assert {key: row["public_id"] for key, row in snapshot(app).items()} == public_ids


def test_archived_competencies_are_not_exported(app):
    import_file(app, MUSIC)
    import_file(app, MUSIC_V2)
    codes = [item["humanCodingScheme"] for item in exported(app, f"{ID}01")["CFItems"]]
    assert codes == ["MUS.1", "MUS.2", "MUS.3", "MUS.4"]


# -- the pages and the command ---------------------------------------------------------------------


@pytest.fixture
def admin(app: Flask) -> Any:
    app.config["WTF_CSRF_ENABLED"] = False
    return signed_in(app, "alice@school.example")


def upload(client: Any, data: bytes, name: str = "framework.json") -> Any:
    return client.post(
        "/admin/catalogue/import/case",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_the_page_imports_a_file_and_summarises_it(app, admin):
    response = upload(admin, MUSIC.read_bytes())
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "4 created, 0 updated, 0 unchanged, 0 archived." in page
    page = upload(admin, MUSIC_V2.read_bytes()).get_data(as_text=True)
    assert "1 created, 1 updated, 2 unchanged, 1 archived." in page
    assert "<li>Keep a composer&#39;s journal.</li>" in page


def test_the_page_names_what_is_wrong_with_a_bad_file(app, admin):
    response = upload(admin, as_bytes(_item(uri="javascript:alert(1)")))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="file-error"' in page and re.search(r'aria-describedby="[^"]*file-error"', page)
    assert "uri must be a web address" in page
    missing = admin.post(
        "/admin/catalogue/import/case", data={}, content_type="multipart/form-data"
    )
    assert missing.status_code == 422
    assert "Choose a CASE JSON file." in missing.get_data(as_text=True)


def test_the_page_downloads_a_framework_as_case_json(app, admin):
    upload(admin, MUSIC.read_bytes())
    with app.app_context():
        public_id = db.session.scalar(select(CompetencyFramework.public_id))
    response = admin.get(f"/admin/catalogue/frameworks/{public_id}/case.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.json["CFDocument"]["title"] == "Music Composition"
    olga = signed_in(app, "olga@other.example", issuer_did=OTHER_ISSUER_DID)
    assert olga.get(f"/admin/catalogue/frameworks/{public_id}/case.json").status_code == 404


def test_the_command_imports_and_exports(app, runner, tmp_path):
    result = runner.invoke(args=["catalogue", "import-case", str(MUSIC)])
    assert result.exit_code == 0, result.output
    assert "created: Compose a song" in result.output
    assert result.output.strip().endswith("4 created, 0 updated, 0 unchanged, 0 archived.")
    output = tmp_path / "music.json"
    result = runner.invoke(args=["catalogue", "export-case", f"{ID}01", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert json.loads(output.read_text())["CFDocument"]["identifier"] == f"{ID}01"
    printed = runner.invoke(args=["catalogue", "export-case", f"{ID}01"])
    assert json.loads(printed.stdout)["CFDocument"]["title"] == "Music Composition"


def test_the_command_refuses_a_bad_file_and_an_unknown_framework(app, runner, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_bytes(as_bytes(copy.deepcopy(_item(fullStatement=""))))
    result = runner.invoke(args=["catalogue", "import-case", str(bad)])
    assert result.exit_code == 1
    assert "bad.json cannot be imported: CFItems[0]" in result.output
    result = runner.invoke(args=["catalogue", "export-case", "no-such-framework"])
    assert result.exit_code == 2
    assert "no framework 'no-such-framework'" in result.output
