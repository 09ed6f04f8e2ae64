"""The evidence gallery: a student's evidence as cards (type, thumbnail, date, and whether a
credential keeps a frozen copy of it), in a fixed number of queries however many there are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portfolio.accounts.models import User
from portfolio.core.db import db
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.evidence.models import Artefact, ArtefactKind, Evidence, EvidenceSnapshot
from portfolio.issuing.models import IssuedCredential

#: The type shown when the student named no kind of work, from the first artefact.
_TYPE_BY_MEDIA = {
    "image": _l("Image"),
    "video": _l("Video"),
    "audio": _l("Audio"),
    "text": _l("Text"),
}
_LINK, _DOCUMENT, _NOTE = _l("Link"), _l("Document"), _l("Note")

#: The gallery's orders: newest first (default), oldest first, by title.
SORTS = ("newest", "oldest", "title")


@dataclass(frozen=True)
class EvidenceCard:
    """One piece of evidence as the gallery shows it."""

    evidence: Evidence
    type_label: str
    #: The artefact whose picture stands for the evidence, and which of its parts to fetch.
    picture: Artefact | None
    picture_part: str
    frozen: bool


def type_label(evidence: Evidence) -> str:
    """The kind of work: the student's own word (``genre``) or one read from the artefacts."""
    if evidence.genre:
        return evidence.genre
    for artefact in evidence.artefacts:
        if artefact.kind == ArtefactKind.LINK:
            return str(_LINK)
        major = (artefact.media_type or "").split("/")[0]
        if major in _TYPE_BY_MEDIA:
            return str(_TYPE_BY_MEDIA[major])
        return str(_DOCUMENT)
    return str(_NOTE)


def _picture(evidence: Evidence) -> tuple[Artefact | None, str]:
    for artefact in evidence.artefacts:
        if artefact.kind != ArtefactKind.FILE:
            continue
        if artefact.thumbnail_sha256:
            return artefact, "thumbnail"
        if (artefact.media_type or "").startswith("image/") and artefact.media_type not in (
            "image/svg+xml",
        ):
            return artefact, "file"
    return None, "file"


def frozen_evidence_ids(owner: User) -> set[int]:
    """The ids of ``owner``'s evidence that a standing (not revoked) credential keeps a
    frozen copy of (one query)."""
    return set(
        db.session.scalars(
            select(EvidenceSnapshot.evidence_id)
            .join(IssuedCredential, IssuedCredential.id == EvidenceSnapshot.credential_id)
            .where(
                EvidenceSnapshot.owner_id == owner.id,
                EvidenceSnapshot.evidence_id.is_not(None),
                IssuedCredential.revoked_at.is_(None),
            )
            .distinct()
        )
    )


def cards(owner: User, *, sort: str = "newest", limit: int | None = None) -> list[EvidenceCard]:
    """``owner``'s evidence as cards in the ``sort`` order (three queries)."""
    query = (
        select(Evidence)
        .where(Evidence.owner_id == owner.id)
        .options(selectinload(Evidence.artefacts))
    )
    if sort == "oldest":
        query = query.order_by(Evidence.created_at, Evidence.id)
    elif sort == "title":
        query = query.order_by(Evidence.title, Evidence.id)
    else:
        query = query.order_by(Evidence.created_at.desc(), Evidence.id.desc())
    if limit is not None:
        query = query.limit(limit)
    items: Sequence[Evidence] = db.session.scalars(query).all()
    frozen = frozen_evidence_ids(owner) if items else set()
    result = []
    for evidence in items:
        picture, part = _picture(evidence)
        result.append(
            EvidenceCard(evidence, type_label(evidence), picture, part, evidence.id in frozen)
        )
    return result
