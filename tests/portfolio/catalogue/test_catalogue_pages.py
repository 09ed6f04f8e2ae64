"""The competency catalogue pages: only an issuer's administrators see and change its
competencies; fields are checked and errors shown next to them; images are uploaded or linked and
served publicly; competencies are archived, and deleted only when nobody used them;
prerequisites and stacks never form loops; every form needs its CSRF token."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.accounts.models import User
from portfolio.assessment.models import Submission
from portfolio.catalogue import fields as catalogue_fields
from portfolio.catalogue import service as catalogue_service
from portfolio.catalogue.models import Competency, CompetencyFramework, Prerequisite
from portfolio.core.db import db
from portfolio.files.models import Blob
from tests.portfolio.accounts.test_auth import OTHER_ISSUER_DID, _csrf_token, make_user, sign_in
from tests.portfolio.evidence.test_evidence_pages import png_bytes

# -- helpers shared by the catalogue tests ---------------------------------------------------


@pytest.fixture
def pages(app: Flask) -> Flask:
    """The app with CSRF checks off (the CSRF tests switch them back on)."""
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def signed_in(app: Flask, email: str, role: str = "admin", **kwargs: Any) -> Any:
    """A test client signed in as a new user with that address and role."""
    make_user(app, email, role, **kwargs)
    client = app.test_client()
    assert sign_in(client, email).status_code == 303
    return client


@pytest.fixture
def admin(pages: Flask) -> Any:
    return signed_in(pages, "alice@school.example")


def competency_form(name: str = "Compose a song", **fields: str) -> dict[str, str]:
    """A valid new-competency form, with ``fields`` changed."""
    form = {
        "name": name,
        "description": "Write and record an original song.",
        "criteria_narrative": "A song of **your own**, recorded.",
        "achievement_type": "Competency",
        "tags": "music; composition",
        "level": "Grade 8",
        "credits": "2",
        "human_code": "MUS.1",
        "required_endorsements": "1",
        "alignment_count": "1",
        "alignment-0-name": "",
        "alignment-0-url": "",
        "alignment-0-code": "",
        "alignment-0-framework": "",
        "alignment-0-type": "",
    }
    form.update(fields)
    return form


def create_competency(client: Any, name: str = "Compose a song", **fields: str) -> str:
    """Create a competency through the form; its public id."""
    response = client.post("/admin/catalogue/new", data=competency_form(name, **fields))
    assert response.status_code == 303, response.get_data(as_text=True)
    return str(response.headers["Location"]).rsplit("/", 1)[-1]


def competency(app: Flask, public_id: str) -> Competency:
    with app.app_context():
        row = db.session.scalar(select(Competency).where(Competency.public_id == public_id))
        assert row is not None
        db.session.expunge(row)
        return row


def prerequisite_names(app: Flask, public_id: str) -> list[str]:
    with app.app_context():
        row = db.session.scalar(select(Competency).where(Competency.public_id == public_id))
        return [each.name for each in row.prerequisites]


def errors_in(page: str) -> dict[str, str]:
    """Field id → error message, as the page ties them (``<id>-error``)."""
    found = re.findall(r'id="([\w-]+)-error"[^>]*>(?:<strong>Error:</strong> )?([^<]+)<', page)
    return {name: message.strip() for name, message in found}


# -- who may see what --------------------------------------------------------------------------


GET_PAGES = [
    "/admin/catalogue",
    "/admin/catalogue/new",
    "/admin/catalogue/import/case",
    "/admin/catalogue/import/csv",
    "/admin/catalogue/catalogue.csv",
]


def test_anonymous_visitors_are_sent_to_sign_in(pages):
    client = pages.test_client()
    for path in GET_PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/sign-in" in response.headers["Location"]
    assert client.post("/admin/catalogue/new", data=competency_form()).status_code == 401


@pytest.mark.parametrize("role", ["student", "assessor"])
def test_only_administrators_may_use_the_catalogue(pages, admin, role):
    public_id = create_competency(admin)
    client = signed_in(pages, f"{role}@school.example", role)
    paths = [*GET_PAGES, f"/admin/catalogue/competencies/{public_id}"]
    for path in paths:
        assert client.get(path).status_code == 403, path
    response = client.post(f"/admin/catalogue/competencies/{public_id}/archive")
    assert response.status_code == 403
    assert competency(pages, public_id).archived_at is None


def test_another_issuers_administrator_finds_nothing(pages, admin):
    public_id = create_competency(admin)
    other = create_competency(admin, "Another")
    olga = signed_in(pages, "olga@other.example", issuer_did=OTHER_ISSUER_DID)
    assert public_id not in olga.get("/admin/catalogue").get_data(as_text=True)
    base = f"/admin/catalogue/competencies/{public_id}"
    for path in [base, f"{base}/edit", f"{base}/prerequisites", f"{base}/rubric"]:
        assert olga.get(path).status_code == 404, path
    for path in [f"{base}/archive", f"{base}/delete", f"{base}/edit", f"{base}/prerequisites"]:
        assert olga.post(path, data=competency_form("Stolen")).status_code == 404, path
    assert competency(pages, public_id).name == "Compose a song"
    assert competency(pages, public_id).archived_at is None
    # Nor can another issuer's competency be slipped into one's own choices.
    own = create_competency(olga, "Olga's own")
    response = olga.post(
        f"/admin/catalogue/competencies/{own}/prerequisites", data={"chosen": [other]}
    )
    assert response.status_code == 404
    assert prerequisite_names(pages, own) == []


def test_an_administrator_without_an_issuer_finds_nothing(pages):
    with pages.app_context():
        user = User(
            email="root@school.example", password_hash="x", display_name="Root", role="admin"
        )
        db.session.add(user)
        db.session.commit()
        user_id = user.id
    client = pages.test_client()
    with client.session_transaction() as session:
        session["user_id"] = user_id
        session["session_version"] = 1
    assert client.get("/admin/catalogue").status_code == 404


# -- the list --------------------------------------------------------------------------------


def test_the_list_groups_competencies_by_framework_with_their_state(pages, admin):
    response = admin.post("/admin/catalogue/frameworks", data={"title": "Music"})
    assert response.status_code == 303
    with pages.app_context():
        music = db.session.scalar(select(CompetencyFramework.public_id))
    create_competency(admin, "Compose a song", framework=music)
    loose = create_competency(admin, "Keep a journal")
    admin.post(f"/admin/catalogue/competencies/{loose}/archive")
    page = admin.get("/admin/catalogue").get_data(as_text=True)
    assert page.index(f'<h2 id="framework-{music}') < page.index(">Compose a song</a>")
    assert page.index(">Compose a song</a>") < page.index("Not in a framework")
    assert page.index("Not in a framework") < page.index(">Keep a journal</a>")
    assert "Archived" in page and "Active" in page
    assert f"/admin/catalogue/frameworks/{music}/case.json" in page


def test_a_framework_needs_a_title(admin):
    response = admin.post("/admin/catalogue/frameworks", data={"title": "  "})
    assert response.status_code == 422
    assert errors_in(response.get_data(as_text=True)) == {"title": "Enter the title."}


# -- creating and editing --------------------------------------------------------------------


def test_a_competency_is_created_with_every_field(pages, admin):
    public_id = create_competency(
        admin,
        achievement_type="Badge",
        required_endorsements="2",
        is_stack="",
        **{
            "alignment-0-name": "Music standard 1",
            "alignment-0-url": "https://standards.example/music/1",
            "alignment-0-code": "MU:Cr1.1.8",
            "alignment-0-framework": "National Core Arts Standards",
            "alignment-0-type": "CFItem",
        },
    )
    row = competency(pages, public_id)
    assert (row.name, row.achievement_type, row.level, row.credits) == (
        "Compose a song",
        "Badge",
        "Grade 8",
        2.0,
    )
    assert row.tags == ["music", "composition"]
    assert row.required_endorsements == 2
    assert row.alignments == [
        {
            "targetName": "Music standard 1",
            "targetUrl": "https://standards.example/music/1",
            "targetCode": "MU:Cr1.1.8",
            "targetFramework": "National Core Arts Standards",
            "targetType": "CFItem",
        }
    ]
    assert catalogue_fields.is_uuid(row.identifier)  # generated when left empty
    page = admin.get(f"/admin/catalogue/competencies/{public_id}").get_data(as_text=True)
    assert "<strong>your own</strong>" in page  # the criteria are Markdown


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the name."),
        ({"achievement_type": "Diploma<script>"}, "achievement_type", "Unknown achievement type"),
        ({"credits": "two"}, "credits", "Credits must be a number"),
        ({"credits": "-1"}, "credits", "from 0 to"),
        ({"credits": "nan"}, "credits", "from 0 to"),
        ({"required_endorsements": "0"}, "required_endorsements", "from 1 to 5"),
        ({"required_endorsements": "6"}, "required_endorsements", "from 1 to 5"),
        ({"identifier": "has spaces"}, "identifier", "may not contain spaces"),
        ({"framework": "not-a-framework"}, "framework", "Choose one of the frameworks"),
        (
            {"alignment-0-name": "X", "alignment-0-url": "javascript:alert(1)"},
            "alignment-0-url",
            "https://",
        ),
        (
            {"alignment-0-name": "X", "alignment-0-url": "ftp://files.example/x"},
            "alignment-0-url",
            "https://",
        ),
        (
            {"alignment-0-name": "X", "alignment-0-url": "https://user:pw@host.example/"},
            "alignment-0-url",
            "https://",
        ),
        (
            {"alignment-0-url": "https://standards.example/1"},
            "alignment-0-name",
            "needs a target name",
        ),
        ({"alignment-0-name": "X"}, "alignment-0-url", "needs a target address"),
        (
            {
                "alignment-0-name": "X",
                "alignment-0-url": "https://a.example",
                "alignment-0-type": "Bogus",
            },
            "alignment-0-type",
            "type must be one of",
        ),
        ({"tags": ";".join(f"t{n}" for n in range(31))}, "tags", "at most 30 tags"),
        ({"name": "x" * 513}, "name", "at most 512 characters"),
    ],
)
def test_bad_fields_are_refused_next_to_the_field(pages, admin, fields, field, message):
    response = admin.post("/admin/catalogue/new", data=competency_form(**fields))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = errors_in(page)
    assert list(errors) == [field]
    assert message in errors[field].replace("&#39;", "'")
    assert f'aria-describedby="{field}-error"' in page or f"{field}-hint {field}-error" in page
    with pages.app_context():
        assert db.session.scalar(select(Competency.id)) is None


def test_a_new_competency_can_start_in_a_framework(pages, admin):
    admin.post("/admin/catalogue/frameworks", data={"title": "Music"})
    with pages.app_context():
        music = db.session.scalar(select(CompetencyFramework.public_id))
    page = admin.get(f"/admin/catalogue/new?framework={music}").get_data(as_text=True)
    assert f'<option value="{music}" selected>Music</option>' in page
    page = admin.get("/admin/catalogue/new").get_data(as_text=True)
    assert f'<option value="{music}">Music</option>' in page


def test_an_identifier_is_unique_within_the_issuer_only(pages, admin):
    create_competency(admin, identifier="MUS-1")
    response = admin.post("/admin/catalogue/new", data=competency_form("Again", identifier="MUS-1"))
    assert response.status_code == 422
    assert errors_in(response.get_data(as_text=True))["identifier"].startswith("Another competency")
    olga = signed_in(pages, "olga@other.example", issuer_did=OTHER_ISSUER_DID)
    create_competency(olga, identifier="MUS-1")


def test_add_another_alignment_re_shows_the_form_with_one_more_row_and_saves_nothing(pages, admin):
    form = competency_form(**{"alignment-0-name": "A", "alignment-0-url": "https://a.example/1"})
    response = admin.post("/admin/catalogue/new", data={**form, "action": "add-alignment"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="alignment-1-url"' in page and 'id="alignment-2-url"' not in page
    assert 'value="https://a.example/1"' in page  # what was typed is kept
    with pages.app_context():
        assert db.session.scalar(select(Competency.id)) is None


def test_editing_keeps_the_public_id_and_drops_emptied_alignment_rows(pages, admin):
    public_id = create_competency(
        admin, **{"alignment-0-name": "A", "alignment-0-url": "https://a.example/1"}
    )
    page = admin.get(f"/admin/catalogue/competencies/{public_id}/edit").get_data(as_text=True)
    assert 'value="https://a.example/1"' in page
    assert '<label for="alignment-1-name">' in page  # a blank row to add one
    form = competency_form("Compose and record a song", **{"alignment-0-name": ""})
    form["identifier"] = competency(pages, public_id).identifier
    response = admin.post(f"/admin/catalogue/competencies/{public_id}/edit", data=form)
    assert response.status_code == 303
    row = competency(pages, public_id)
    assert (row.public_id, row.name, row.alignments) == (public_id, "Compose and record a song", [])


def test_every_field_of_every_page_has_a_label(pages, admin):
    melody = create_competency(admin, "Write a melody")
    stack = create_competency(admin, "Musician", is_stack="on")
    base = "/admin/catalogue/competencies/{}"
    paths = [
        *GET_PAGES[:-1],
        base.format(melody),
        base.format(melody) + "/edit",
        base.format(stack) + "/prerequisites",
        base.format(stack) + "/components",
    ]
    for path in paths:
        page = admin.get(path).get_data(as_text=True)
        fields = re.findall(
            r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', page
        )
        assert fields, path
        assert "=&#34;" not in page, path  # attributes are attributes, not escaped text
        for field in fields:
            assert f'<label for="{field}">' in page, (path, field)


# -- archiving and deleting ------------------------------------------------------------------


def test_archive_and_bring_back(pages, admin):
    public_id = create_competency(admin)
    base = f"/admin/catalogue/competencies/{public_id}"
    assert admin.post(f"{base}/archive").status_code == 303
    assert competency(pages, public_id).archived_at is not None
    assert "Bring “Compose a song” back" in admin.get(base).get_data(as_text=True)
    assert admin.post(f"{base}/unarchive").status_code == 303
    assert competency(pages, public_id).archived_at is None


def test_an_unused_competency_can_be_deleted_with_its_links(pages, admin):
    first = create_competency(admin, "First")
    second = create_competency(admin, "Second")
    admin.post(f"/admin/catalogue/competencies/{second}/prerequisites", data={"chosen": [first]})
    assert admin.post(f"/admin/catalogue/competencies/{first}/delete").status_code == 303
    with pages.app_context():
        assert db.session.scalar(select(Prerequisite.competency_id)) is None
        names = list(db.session.scalars(select(Competency.name)))
    assert names == ["Second"]


def test_a_competency_with_submissions_is_never_deleted(pages, admin):
    public_id = create_competency(admin)
    student_id = make_user(pages, "sam@school.example", "student")
    with pages.app_context():
        row = db.session.scalar(select(Competency).where(Competency.public_id == public_id))
        db.session.add(Submission(student_id=student_id, competency_id=row.id))
        db.session.commit()
    base = f"/admin/catalogue/competencies/{public_id}"
    assert "can only be archived" in admin.get(base).get_data(as_text=True)
    response = admin.post(f"{base}/delete")
    assert response.status_code == 409
    assert "archive it instead" in response.get_data(as_text=True)
    assert competency(pages, public_id).name == "Compose a song"


# -- images ----------------------------------------------------------------------------------


def upload_image(client: Any, public_id: str, data: bytes, filename: str = "badge.png") -> Any:
    return client.post(
        f"/admin/catalogue/competencies/{public_id}/image",
        data={"action": "upload", "image": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def test_an_uploaded_image_is_served_publicly_at_the_achievements_image_url(pages, admin):
    public_id = create_competency(admin)
    image = png_bytes()
    assert upload_image(admin, public_id, image).status_code == 303
    url = competency(pages, public_id).image_url
    assert url.startswith(f"https://credfolio.test/achievements/{public_id}/image?v=")
    anyone = pages.test_client()
    path = url.removeprefix("https://credfolio.test")
    response = anyone.get(path)
    assert response.status_code == 200
    assert response.data == image
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in response.headers["Cache-Control"]
    # Without (or with an old) version, the current image's URL is given.
    response = anyone.get(f"/achievements/{public_id}/image")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(path)


def test_a_new_image_gets_a_new_url(pages, admin):
    public_id = create_competency(admin)
    upload_image(admin, public_id, png_bytes((1, 2, 3)))
    first = competency(pages, public_id).image_url
    upload_image(admin, public_id, png_bytes((200, 2, 3)))
    assert competency(pages, public_id).image_url != first


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "b.svg", ""),
        (b"%PDF-1.4 not an image", "badge.png", ""),
        (b"", "badge.png", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "badge.png", ""),
    ],
    ids=["svg", "pdf named png", "empty", "damaged png"],
)
def test_anything_but_a_png_jpeg_webp_or_gif_image_is_refused(
    pages, admin, data, filename, message
):
    public_id = create_competency(admin)
    response = upload_image(admin, public_id, data, filename)
    assert response.status_code == 422
    errors = errors_in(response.get_data(as_text=True))
    assert list(errors) == ["image"]
    assert message in errors["image"]
    assert competency(pages, public_id).image_url is None


def test_a_too_large_image_is_refused_before_it_is_stored(pages, admin, monkeypatch):
    image = png_bytes()
    monkeypatch.setattr(catalogue_service, "MAX_IMAGE_BYTES", len(image) - 1)
    public_id = create_competency(admin)
    response = upload_image(admin, public_id, image)
    assert response.status_code == 422
    assert "larger than" in errors_in(response.get_data(as_text=True))["image"]
    with pages.app_context():
        assert db.session.scalar(select(Blob.sha256)) is None


def test_an_https_image_address_can_be_used_instead(pages, admin):
    public_id = create_competency(admin)
    path = f"/admin/catalogue/competencies/{public_id}/image"
    data = {"action": "url", "image_url": "https://cdn.example/badge.png"}
    assert admin.post(path, data=data).status_code == 303
    assert competency(pages, public_id).image_url == "https://cdn.example/badge.png"
    # An external image is not served here.
    assert pages.test_client().get(f"/achievements/{public_id}/image").status_code == 404
    assert admin.post(path, data={"action": "remove"}).status_code == 303
    assert competency(pages, public_id).image_url is None


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.example/badge.png",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "https://credfolio.test/achievements/x/image?v=" + "0" * 64,
    ],
)
def test_only_an_https_image_address_elsewhere_is_accepted(pages, admin, url):
    public_id = create_competency(admin)
    path = f"/admin/catalogue/competencies/{public_id}/image"
    response = admin.post(path, data={"action": "url", "image_url": url})
    assert response.status_code == 422
    assert list(errors_in(response.get_data(as_text=True))) == ["image_url"]
    assert competency(pages, public_id).image_url is None


def test_the_image_route_never_serves_what_is_not_the_competencys_image(pages, admin):
    public_id = create_competency(admin)
    upload_image(admin, public_id, png_bytes())
    other = create_competency(admin, "Other")
    client = pages.test_client()
    sha256 = competency(pages, public_id).image_url.rsplit("=", 1)[-1]
    # Another competency's URL with this image's hash: nothing (it has no image).
    assert client.get(f"/achievements/{other}/image?v={sha256}").status_code == 404
    assert client.get("/achievements/no-such-thing/image").status_code == 404


# -- prerequisites and stacks ----------------------------------------------------------------


def test_prerequisites_are_chosen_and_a_loop_is_refused_with_its_path(pages, admin):
    melody = create_competency(admin, "Write a melody")
    harmony = create_competency(admin, "Harmonise a melody")
    song = create_competency(admin, "Compose a song")
    base = "/admin/catalogue/competencies/{}/prerequisites"
    assert admin.post(base.format(harmony), data={"chosen": [melody]}).status_code == 303
    assert admin.post(base.format(song), data={"chosen": [harmony]}).status_code == 303
    assert prerequisite_names(pages, song) == ["Harmonise a melody"]
    response = admin.post(base.format(melody), data={"chosen": [song]})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert (
        "“Compose a song” cannot be a prerequisite of “Write a melody”: that would make a loop "
        "(“Write a melody” → “Compose a song” → “Harmonise a melody” → “Write a melody”)."
    ) in page
    assert 'aria-describedby="chosen-error"' in page
    assert prerequisite_names(pages, melody) == []


def test_a_competency_cannot_be_its_own_prerequisite(pages, admin):
    song = create_competency(admin)
    response = admin.post(
        f"/admin/catalogue/competencies/{song}/prerequisites", data={"chosen": [song]}
    )
    assert response.status_code == 422
    assert "cannot be its own prerequisite" in response.get_data(as_text=True)


def test_prerequisites_can_be_cleared(pages, admin):
    melody = create_competency(admin, "Write a melody")
    song = create_competency(admin, "Compose a song")
    path = f"/admin/catalogue/competencies/{song}/prerequisites"
    admin.post(path, data={"chosen": [melody]})
    assert admin.post(path, data={}).status_code == 303
    assert prerequisite_names(pages, song) == []


def stack_of(app: Flask, public_id: str) -> list[str]:
    with app.app_context():
        row = db.session.scalar(select(Competency).where(Competency.public_id == public_id))
        return [each.name for each in row.components]


def test_a_stack_contains_competencies_but_never_itself_or_a_stack_containing_it(pages, admin):
    song = create_competency(admin, "Compose a song")
    performer = create_competency(admin, "Musician", is_stack="on")
    artist = create_competency(admin, "Artist", is_stack="on")
    path = "/admin/catalogue/competencies/{}/components"
    assert admin.post(path.format(performer), data={"chosen": [song]}).status_code == 303
    assert admin.post(path.format(artist), data={"chosen": [performer]}).status_code == 303
    assert stack_of(pages, artist) == ["Musician"]
    itself = admin.post(path.format(artist), data={"chosen": [artist]})
    assert itself.status_code == 422
    assert "“Artist” cannot contain itself." in itself.get_data(as_text=True)
    loop = admin.post(path.format(performer), data={"chosen": [song, artist]})
    assert loop.status_code == 422
    assert "“Artist” cannot be part of “Musician”: it already contains it" in loop.get_data(
        as_text=True
    )
    assert stack_of(pages, performer) == ["Compose a song"]


def test_only_a_stack_has_components(pages, admin):
    song = create_competency(admin, "Compose a song")
    melody = create_competency(admin, "Write a melody")
    path = f"/admin/catalogue/competencies/{song}/components"
    assert "is not a stack" in admin.get(path).get_data(as_text=True)
    response = admin.post(path, data={"chosen": [melody]})
    assert response.status_code == 422
    assert stack_of(pages, song) == []


def test_a_stack_with_components_stays_a_stack_until_they_are_removed(pages, admin):
    song = create_competency(admin, "Compose a song")
    stack = create_competency(admin, "Musician", is_stack="on")
    admin.post(f"/admin/catalogue/competencies/{stack}/components", data={"chosen": [song]})
    form = competency_form("Musician", identifier=competency(pages, stack).identifier)
    response = admin.post(f"/admin/catalogue/competencies/{stack}/edit", data=form)
    assert response.status_code == 422
    assert "is_stack" in errors_in(response.get_data(as_text=True))
    assert competency(pages, stack).is_stack


# -- CSRF ------------------------------------------------------------------------------------


def test_catalogue_forms_need_their_csrf_token(pages, admin):
    public_id = create_competency(admin)
    pages.config["WTF_CSRF_ENABLED"] = True
    base = f"/admin/catalogue/competencies/{public_id}"
    for path in [
        "/admin/catalogue/new",
        "/admin/catalogue/frameworks",
        f"{base}/edit",
        f"{base}/archive",
        f"{base}/delete",
        f"{base}/image",
        f"{base}/prerequisites",
        f"{base}/components",
        f"{base}/rubric",
        "/admin/catalogue/import/case",
        "/admin/catalogue/import/csv",
    ]:
        response = admin.post(path, data=competency_form("Forged"))
        assert response.status_code == 400, path
        assert "CSRF token is missing" in response.get_data(as_text=True), path
    assert competency(pages, public_id).archived_at is None
    page = admin.get(f"{base}/edit").get_data(as_text=True)
    form = competency_form("Renamed", identifier=competency(pages, public_id).identifier)
    form["csrf_token"] = _csrf_token(page)
    assert admin.post(f"{base}/edit", data=form).status_code == 303
    assert competency(pages, public_id).name == "Renamed"


# -- peer feedback (issue 17 §2) ---------------------------------------------------------------


def test_peer_feedback_is_set_on_the_competency_form(pages, admin):
    form = admin.get("/admin/catalogue/new").get_data(as_text=True)
    assert 'name="peer_reviewers"' in form and "0 turns peer feedback off" in form
    public_id = create_competency(admin, peer_reviewers="3")
    assert competency(pages, public_id).peer_reviewers == 3
    shown = admin.get(f"/admin/catalogue/competencies/{public_id}").get_data(as_text=True)
    assert "up to 3 classmates" in shown


def test_peer_feedback_is_off_unless_set(pages, admin):
    public_id = create_competency(admin)
    assert competency(pages, public_id).peer_reviewers == 0


@pytest.mark.parametrize("value", ["6", "-1", "two", "1.5"])
def test_peer_reviewers_are_a_whole_number_from_0_to_5(pages, admin, value):
    response = admin.post("/admin/catalogue/new", data=competency_form(peer_reviewers=value))
    assert response.status_code == 422
    assert errors_in(response.get_data(as_text=True)) == {
        "peer_reviewers": "Peer reviewers must be a whole number from 0 to 5."
    }
