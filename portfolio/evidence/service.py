"""Students' evidence: its limits, the school's competencies to choose from, and every change to a
piece of evidence and its artefacts, one unit of work each (artefacts themselves are made by
:mod:`portfolio.evidence.artefacts`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from werkzeug.datastructures import FileStorage

from portfolio.accounts.models import User
from portfolio.catalogue.achievements import achievement_url
from portfolio.catalogue.models import Competency
from portfolio.catalogue.service import workable_competencies
from portfolio.core.db import Model, db, unit_of_work
from portfolio.core.models import utcnow
from portfolio.evidence.artefacts import add_file_artefact, add_link_artefact, stored_files
from portfolio.evidence.models import Artefact, Evidence
from portfolio.evidence.ordering import move, next_position
from portfolio.evidence.snapshots import release_evidence
from portfolio.files import usage

MAX_TITLE = 256
MAX_NARRATIVE = 50_000
MAX_COMPETENCIES = 50
MAX_GENRE = 128


def catalogue_choices(student: User) -> list[tuple[str, str]]:
    """(Achievement id, name) of the competencies of the student's school, for the form."""
    rows = workable_competencies(student.issuer_id) if student.issuer_id is not None else []
    return [(achievement_url(row), row.name) for row in rows]


def competency_names(student: User) -> dict[str, str]:
    """Names of catalogue competencies by Achievement id (archived ones too), for display."""
    rows = db.session.scalars(select(Competency).where(Competency.issuer_id == student.issuer_id))
    return {achievement_url(row): row.name for row in rows}


def find_evidence(owner: User, public_id: str) -> Evidence | None:
    """``owner`` 's evidence with that public id; None for anyone else's (or none)."""
    evidence: Evidence | None = db.session.scalar(
        select(Evidence).where(Evidence.public_id == public_id)
    )
    if evidence is None or evidence.owner_id != owner.id:
        return None
    return evidence


def find_artefact(owner: User, public_id: str) -> Artefact | None:
    """The artefact with that public id when ``owner`` owns its evidence, else None."""
    artefact: Artefact | None = db.session.scalar(
        select(Artefact).where(Artefact.public_id == public_id)
    )
    if artefact is None or artefact.evidence.owner_id != owner.id:
        return None
    return artefact


# -- changes, one unit of work each ----------------------------------------------------------


def create_evidence(owner: User, values: Mapping[str, Any]) -> Evidence:
    """A new piece of evidence with checked ``values`` (title, narrative, genre,
    competencies)."""
    with unit_of_work():
        evidence = Evidence(owner_id=owner.id, **values)
        db.session.add(evidence)
    return evidence


def update_evidence(evidence: Evidence, values: Mapping[str, Any]) -> None:
    """Store checked ``values`` (title, narrative, genre, competencies)."""
    with unit_of_work():
        evidence.title = values["title"]
        evidence.narrative = values["narrative"]
        evidence.genre = values["genre"]
        evidence.competencies = values["competencies"]
        evidence.updated_at = utcnow()


def delete_evidence(evidence: Evidence) -> None:
    """Delete the evidence with its artefacts and its places in portfolios, and the stored
    files nothing else uses.  The snapshots credentials keep of it stay as they are, with
    their files (:mod:`portfolio.evidence.snapshots`)."""
    files = stored_files(list(evidence.artefacts))
    with unit_of_work():
        release_evidence([evidence.id])
        for model in _going_with_deleted_evidence():
            db.session.execute(
                delete(model)
                .where(model.evidence_id == evidence.id)
                .execution_options(synchronize_session=False)
            )
        db.session.delete(evidence)
        released = usage.release(files)
    usage.delete_released_bytes(released)


def _going_with_deleted_evidence() -> list[Any]:
    """The tables of higher features whose rows name a piece of evidence and go with it
    (``goes_with_deleted_evidence``: a submission's list of evidence), in a stable order."""
    classes = [mapper.class_ for mapper in Model.registry.mappers]
    chosen = [cls for cls in classes if getattr(cls, "goes_with_deleted_evidence", False)]
    return sorted(chosen, key=lambda cls: cls.__tablename__)


def add_file(
    evidence: Evidence,
    upload: FileStorage,
    *,
    title: str,
    alt_text: str | None,
    captions_vtt: str | None,
    transcript: str | None,
) -> Artefact:
    """Add an uploaded file as the evidence's last artefact (see
    :func:`portfolio.evidence.artefacts.add_file_artefact`).  Raises ``UploadError``: then
    nothing of the upload stays, neither the artefact nor a new blob row."""
    with unit_of_work():
        artefact = add_file_artefact(
            evidence,
            upload,
            title=title,
            alt_text=alt_text,
            captions_vtt=captions_vtt,
            transcript=transcript,
        )
        _place_last(evidence, artefact)
    return artefact


def add_link(evidence: Evidence, *, url: str, title: str) -> Artefact:
    """Add an external link as the evidence's last artefact.  Raises ``UploadError`` (then
    nothing was added)."""
    with unit_of_work():
        artefact = add_link_artefact(evidence, url=url, title=title)
        _place_last(evidence, artefact)
    return artefact


def _place_last(evidence: Evidence, artefact: Artefact) -> None:
    artefact.position = next_position([a for a in evidence.artefacts if a is not artefact])
    evidence.updated_at = utcnow()


def remove_artefact(evidence: Evidence, artefact: Artefact) -> None:
    """Remove an artefact, and its stored file and thumbnail unless something else uses them
    (blobs are shared by SHA-256)."""
    files = stored_files([artefact])
    with unit_of_work():
        evidence.artefacts.remove(artefact)
        evidence.updated_at = utcnow()
        released = usage.release(files)
    usage.delete_released_bytes(released)


def move_artefact(evidence: Evidence, artefact: Artefact, direction: str) -> bool:
    """Move an artefact one place ``up`` or ``down``; False (nothing changed) when it cannot."""
    with unit_of_work():
        return move(evidence.artefacts, artefact, direction)
