"""The learner profile: each signed-in person edits their own (there is no id to guess), with
a display name, pronouns, bio, goals, interests, the name for credentials and a photo."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from portfolio.accounts.models import LearnerProfile, User
from portfolio.core.db import db
from portfolio.core.models import AuditEvent
from portfolio.files.models import Blob
from tests.portfolio.accounts.test_auth import _csrf_token, make_user, sign_in, user_row
from tests.portfolio.core.test_translations import use_catalogue

UPLOADS = Path(__file__).parents[2] / "assets" / "uploads"

PROFILE = {
    "display_name": "Sam Singer",
    "credential_name": "Samantha A. Singer",
    "pronouns": "she/her",
    "bio": "I write songs about the sea.",
    "learning_goals": "Finish an album; learn to mix audio.",
    "interests": "folk music, sailing",
}


@pytest.fixture(autouse=True)
def _csrf_off(app):
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def sam(app, client) -> int:
    user_id = make_user(app, "sam@school.example", "student")
    sign_in(client, "sam@school.example")
    return user_id


def save(client, **changes):
    return client.post("/profile", data={**PROFILE, **changes}, content_type="multipart/form-data")


def stored(app, user_id: int) -> LearnerProfile | None:
    with app.app_context():
        row = db.session.get(LearnerProfile, user_id)
        if row is not None:
            db.session.expunge(row)
        return row


def test_visitors_are_sent_to_sign_in(client):
    response = client.get("/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")
    assert client.post("/profile", data=PROFILE).status_code == 401


@pytest.mark.parametrize("role", ["student", "assessor", "admin"])
def test_every_role_has_a_profile_page_with_a_label_on_every_field(app, client, role):
    make_user(app, f"{role}@school.example", role)
    sign_in(client, f"{role}@school.example")
    page = client.get("/profile").get_data(as_text=True)
    assert page.count("<h1>") == 1
    for name in [*PROFILE, "photo"]:
        assert re.search(rf'<label for="{name}">', page), name


def test_a_student_saves_their_profile(app, client, sam):
    response = save(client)
    assert response.status_code == 303
    row = stored(app, sam)
    assert row is not None
    assert (row.pronouns, row.credential_name, row.interests) == (
        "she/her",
        "Samantha A. Singer",
        "folk music, sailing",
    )
    assert row.bio == PROFILE["bio"]
    assert row.learning_goals == PROFILE["learning_goals"]
    with app.app_context():
        assert db.session.get(User, sam).display_name == "Sam Singer"
    page = client.get("/profile").get_data(as_text=True)
    assert 'value="Samantha A. Singer"' in page
    assert "Signed in as Sam Singer" in page


def test_emptied_fields_are_stored_as_nothing(app, client, sam):
    save(client)
    save(client, pronouns="  ", credential_name="")
    row = stored(app, sam)
    assert row.pronouns is None
    assert row.credential_name is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"display_name": ""}, "display_name", "Enter a display name."),
        ({"pronouns": "x" * 65}, "pronouns", "Field cannot be longer than 64 characters."),
        ({"bio": "x" * 2001}, "bio", "Field cannot be longer than 2000 characters."),
    ],
)
def test_errors_are_shown_next_to_their_fields_and_nothing_is_saved(
    app, client, sam, changes, field, message
):
    response = save(client, **changes)
    assert response.status_code == 422
    assert re.search(rf'id="{field}-error"[^>]*>{re.escape(message)}', response.get_data(True))
    assert stored(app, sam) is None


def test_the_markup_people_type_is_shown_as_text(client, sam):
    save(client, bio="<script>alert(1)</script>")
    page = client.get("/profile").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_each_person_sees_and_edits_only_their_own_profile(app, client, sam):
    save(client)
    make_user(app, "eve@school.example", "student")
    eve = app.test_client()
    sign_in(eve, "eve@school.example")
    page = eve.get("/profile").get_data(as_text=True)
    assert "Samantha" not in page
    save(eve, credential_name="Eve E.")
    assert stored(app, sam).credential_name == "Samantha A. Singer"


# -- the photo -------------------------------------------------------------------------------


def test_a_photo_is_stored_by_its_content_and_shown_to_its_owner(app, client, sam):
    data = (UPLOADS / "drawing.png").read_bytes()
    response = save(client, photo=(io.BytesIO(data), "me.png"))
    assert response.status_code == 303
    row = stored(app, sam)
    assert row.photo_sha256 == hashlib.sha256(data).hexdigest()
    with app.app_context():
        assert db.session.get(Blob, row.photo_sha256).media_type == "image/png"
    photo = client.get("/profile/photo")
    assert photo.status_code == 200
    assert photo.data == data
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert 'alt="Your photo"' in client.get("/profile").get_data(as_text=True)


def test_a_photo_that_is_not_an_image_is_refused_next_to_the_field(app, client, sam):
    data = (UPLOADS / "essay.pdf").read_bytes()
    response = save(client, photo=(io.BytesIO(data), "me.png"))  # a PDF named .png
    assert response.status_code == 422
    assert 'id="photo-error"' in response.get_data(as_text=True)
    assert stored(app, sam) is None
    with app.app_context():
        assert db.session.get(Blob, hashlib.sha256(data).hexdigest()) is None


def test_a_photo_can_be_removed(app, client, sam):
    save(client, photo=(io.BytesIO((UPLOADS / "drawing.png").read_bytes()), "me.png"))
    save(client, remove_photo="y")
    assert stored(app, sam).photo_sha256 is None
    assert client.get("/profile/photo").status_code == 404


def test_without_a_photo_there_is_nothing_to_serve(client, sam):
    assert client.get("/profile/photo").status_code == 404


def test_the_profile_form_needs_its_csrf_token(app, client, sam):
    app.config["WTF_CSRF_ENABLED"] = True
    assert save(client).status_code == 400
    token = _csrf_token(client.get("/profile").get_data(as_text=True))
    assert save(client, csrf_token=token).status_code == 303
    assert stored(app, sam).pronouns == "she/her"


def test_a_student_may_give_a_did_for_their_credentials(app, client, sam):
    assert save(client, did="did:web:ada.example").status_code == 303
    assert stored(app, sam).did == "did:web:ada.example"
    response = save(client, did="https://ada.example")
    assert response.status_code == 422
    assert "A DID looks like" in response.get_data(as_text=True)
    assert stored(app, sam).did == "did:web:ada.example"


# -- the language (issue 16) -----------------------------------------------------------------

SPANISH = {"Your profile": "Tu perfil", "Your profile is saved.": "Tu perfil está guardado."}


def test_accept_language_es_gives_spanish(app, client, sam, tmp_path):
    use_catalogue(app, tmp_path / "catalogue", SPANISH)
    page = client.get("/profile", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert "<h1>Tu perfil</h1>" in page.get_data(as_text=True)
    english = client.get("/profile", headers={"Accept-Language": "en-GB"})
    assert "<h1>Your profile</h1>" in english.get_data(as_text=True)


def test_the_profile_language_beats_the_browser_and_is_audited(app, client, sam, tmp_path):
    use_catalogue(app, tmp_path / "catalogue", SPANISH)
    page = client.get("/profile", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert re.search(r'<label for="locale">Language</label>', page)
    for value, name in (("", "Browser default"), ("en", "English"), ("es", "Español")):
        assert re.search(rf'<option (selected )?value="{value}">{name}</option>', page), name

    response = save(client, locale="es")
    assert response.status_code == 303
    assert user_row(app, sam).locale == "es"
    page = client.get("/profile", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>Tu perfil</h1>" in page
    assert "Tu perfil está guardado." in page  # the confirmation is already in Spanish

    save(client, locale="en")
    page = client.get("/profile", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "<h1>Your profile</h1>" in page

    with app.app_context():
        changes = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "language_changed")
        ).all()
        assert [(e.actor_id, e.detail) for e in changes] == [
            (sam, {"from": None, "to": "es"}),
            (sam, {"from": "es", "to": "en"}),
        ]


def test_browser_default_clears_the_choice(app, client, sam, tmp_path):
    use_catalogue(app, tmp_path / "catalogue", SPANISH)
    save(client, locale="en")
    assert user_row(app, sam).locale == "en"
    save(client, locale="")
    assert user_row(app, sam).locale is None
    page = client.get("/profile", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "<h1>Tu perfil</h1>" in page


def test_an_unknown_language_is_refused(app, client, sam):
    response = save(client, locale="xx")
    assert response.status_code == 422
    assert "Choose a language from the list." in response.get_data(as_text=True)
    assert user_row(app, sam).locale is None


def test_wtforms_own_messages_are_in_the_reader_s_language(app, client, sam):
    response = client.post(
        "/profile",
        data={**PROFILE, "pronouns": "x" * 65},
        content_type="multipart/form-data",
        headers={"Accept-Language": "es"},
    )
    assert response.status_code == 422
    assert "El campo no puede tener más de 64 caracteres." in response.get_data(as_text=True)
