"""The evidence behind a credential (bp ``credential_evidence``), public at the links the
credential carries: ``/c/<credential>/evidence/<snapshot>`` and each uploaded file under it.

What is shown is the snapshot taken when the credential was issued
(:mod:`portfolio.evidence.snapshots`), never the live evidence: a file added, changed or removed
since is not reachable here, and every file served is one whose SHA-256 the credential carries.
Evidence the learner withdrew from public view, and the evidence of a revoked credential, is
not shown: its page says why (410 Gone) and its files are no longer served.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, render_template, url_for
from flask.typing import ResponseReturnValue

from portfolio.core.markdown import render_markdown
from portfolio.evidence.models import EvidenceSnapshot, SnapshotArtefact
from portfolio.evidence.pages import ARTEFACT_PARTS, serve_artefact
from portfolio.evidence.snapshots import snapshot_of, withdrawn_on
from portfolio.issuing.models import IssuedCredential
from portfolio.public.consent_gate import gate, refuse_unless_public
from portfolio.public.verification import format_date

bp = gate(Blueprint("credential_evidence", __name__))


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {"format_date": format_date}


#: The parts of a frozen artefact served publicly: its file (covered by a digest in the
#: credential) and its captions (frozen text); never a thumbnail.
PUBLIC_PARTS = tuple(part for part in ARTEFACT_PARTS if part != "thumbnail")


def credential_evidence(credential_public_id: str, evidence_public_id: str) -> EvidenceSnapshot:
    """The snapshot the credential's evidence URL names; 404 for anything else.

    Only through that credential's public id: anyone holding the credential's link — the
    verifier the student showed it to — can see what it was awarded for; nothing else of the
    student's evidence is reachable.
    """
    snapshot = snapshot_of(credential_public_id, evidence_public_id)
    if snapshot is None:
        abort(404)
    refuse_unless_public(snapshot.credential)
    return snapshot


def _hidden_because(snapshot: EvidenceSnapshot) -> str | None:
    """Why the snapshot is not shown publicly (revoked, withdrawn), or None when it is."""
    credential: IssuedCredential = snapshot.credential
    if credential.revoked_at is not None:
        return "revoked"
    if snapshot.withdrawn_at is not None:
        return "withdrawn"
    return None


@bp.app_template_global()
def evidence_withdrawn_on(credential: IssuedCredential) -> datetime | None:
    """For the credential page: when the learner withdrew its evidence from public view."""
    return withdrawn_on(credential)


@bp.get("/c/<public_id>/evidence/<evidence_id>")
def show(public_id: str, evidence_id: str) -> ResponseReturnValue:
    """A piece of evidence as the credential links to it: the snapshot's narrative and
    artefacts inline; 410 with the reason when it is withdrawn or the credential revoked."""
    snapshot = credential_evidence(public_id, evidence_id)

    def artefact_url(artefact: SnapshotArtefact, part: str = "file") -> str:
        return url_for(
            ".artefact",
            public_id=public_id,
            evidence_id=evidence_id,
            artefact_id=artefact.public_id,
            part=part,
        )

    hidden = _hidden_because(snapshot)
    page = render_template(
        "public/evidence.html",
        evidence=snapshot,
        credential=snapshot.credential,
        hidden=hidden,
        narrative_html=render_markdown(snapshot.narrative, first_level=3) if hidden is None else "",
        artefact_url=artefact_url,
    )
    return page, 410 if hidden else 200


@bp.get("/c/<public_id>/evidence/<evidence_id>/artefacts/<artefact_id>", defaults={"part": "file"})
@bp.get("/c/<public_id>/evidence/<evidence_id>/artefacts/<artefact_id>/<part>")
def artefact(public_id: str, evidence_id: str, artefact_id: str, part: str) -> ResponseReturnValue:
    """A frozen file of that evidence (the bytes whose SHA-256 the credential carries) or its
    captions; 410 once withdrawn or revoked."""
    snapshot = credential_evidence(public_id, evidence_id)
    if part not in PUBLIC_PARTS:
        abort(404)
    for candidate in snapshot.artefacts:
        if candidate.public_id == artefact_id:
            if _hidden_because(snapshot) is not None:
                abort(410)
            return serve_artefact(candidate, part)
    abort(404)
