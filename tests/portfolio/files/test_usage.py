"""Every byte a student's content keeps alive counts towards her quota, and what nothing uses
any more is deleted (issue 15 §5: upload-then-remove loops filled the disk past the quota, and
profile photos were not counted)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import current_app

from portfolio.accounts import service as accounts
from portfolio.core.db import db
from portfolio.evidence import service as evidence_service
from portfolio.evidence.artefacts import add_file_artefact
from portfolio.evidence.models import Evidence
from portfolio.files.models import Blob
from portfolio.files.storage import storage
from portfolio.files.uploads import UploadError, used_bytes

from .test_uploads import UPLOADS, make_user, sha, upload


@pytest.fixture
def evidence(app: Any) -> Iterator[Evidence]:
    with app.app_context():
        item = Evidence(owner=make_user("ada@example.test"), title="My song")
        db.session.add(item)
        db.session.commit()
        yield item


def size(asset: str) -> int:
    return (UPLOADS / asset).stat().st_size


def is_stored(asset: str) -> bool:
    return db.session.get(Blob, sha(asset)) is not None or storage().exists(sha(asset))


def add(item: Evidence, asset: str) -> Any:
    artefact = evidence_service.add_file(
        item, upload(asset), title=asset, alt_text=None, captions_vtt=None, transcript=None
    )
    return artefact


def test_upload_then_remove_loops_leave_nothing_stored(evidence: Evidence) -> None:
    current_app.config["CREDFOLIO_USER_QUOTA_BYTES"] = max(size("drawing.png"), size("tone.wav"))
    for _ in range(3):
        for asset in ("drawing.png", "tone.wav"):
            artefact = add(evidence, asset)
            assert is_stored(asset)
            evidence_service.remove_artefact(evidence, artefact)
            assert not is_stored(asset)  # neither the row nor the bytes
    assert used_bytes(evidence.owner) == 0


def test_removing_an_image_removes_its_thumbnail_too(evidence: Evidence) -> None:
    artefact = add(evidence, "drawing.png")
    thumbnail = artefact.thumbnail_sha256
    assert thumbnail is not None and storage().exists(thumbnail)
    evidence_service.remove_artefact(evidence, artefact)
    assert db.session.get(Blob, thumbnail) is None and not storage().exists(thumbnail)


def test_deleting_evidence_removes_the_files_nothing_else_uses(evidence: Evidence) -> None:
    add(evidence, "drawing.png")
    add(evidence, "tone.wav")
    other = Evidence(owner=make_user("bea@example.test"), title="Her drawing")
    db.session.add(other)
    db.session.commit()
    add(other, "drawing.png")  # the same content: one shared blob
    evidence_service.delete_evidence(evidence)
    assert not is_stored("tone.wav")
    assert storage().exists(sha("drawing.png"))  # Bea's artefact still uses it
    assert storage().get(sha("drawing.png")) == (UPLOADS / "drawing.png").read_bytes()


def test_a_profile_photo_counts_towards_the_quota(evidence: Evidence) -> None:
    owner = evidence.owner
    current_app.config["CREDFOLIO_USER_QUOTA_BYTES"] = size("drawing.png") + size("tone.wav") - 1
    profile = accounts.profile_of(owner)
    accounts.save_profile(
        owner, profile, display_name="Ada", values={}, photo=upload("drawing.png")
    )
    assert used_bytes(owner) == size("drawing.png")
    with pytest.raises(UploadError, match="does not fit") as refused:
        add_file_artefact(evidence, upload("tone.wav"), title="Too much with the photo")
    assert refused.value.code == "quota-exceeded"
    db.session.rollback()


def test_replacing_or_removing_a_photo_deletes_the_old_one(evidence: Evidence) -> None:
    owner = evidence.owner
    profile = accounts.profile_of(owner)
    accounts.save_profile(
        owner, profile, display_name="Ada", values={}, photo=upload("drawing.png")
    )
    photo = profile.photo_sha256
    accounts.save_profile(owner, profile, display_name="Ada", values={}, photo=upload("photo.jpg"))
    assert photo is not None and not storage().exists(photo)
    accounts.save_profile(owner, profile, display_name="Ada", values={}, remove_photo=True)
    assert not is_stored("photo.jpg")
    assert used_bytes(owner) == 0
