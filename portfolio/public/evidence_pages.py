"""The evidence behind a credential (bp ``credential_evidence``), public at the links the
credential carries: ``/c/<credential>/evidence/<evidence>`` and each uploaded file under it."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from portfolio.assessment.models import Submission, SubmissionEvidence
from portfolio.core.db import db
from portfolio.core.markdown import render_markdown
from portfolio.evidence.models import Artefact, Evidence
from portfolio.evidence.pages import ARTEFACT_PARTS, serve_artefact
from portfolio.issuing.models import IssuedCredential

bp = Blueprint("credential_evidence", __name__)


def credential_evidence(credential_public_id: str, evidence_public_id: str) -> Evidence:
    """The evidence with that id if it was submitted for that credential; 404 otherwise.

    Only the evidence of the submission the credential was issued for is shown (its files with
    their SHA-256 digests in the credential), and only through that credential's public id:
    anyone holding the credential's link — the verifier the student showed it to — can see what
    it was awarded for; nothing else of the student's evidence is reachable.
    """
    evidence: Evidence | None = db.session.scalar(
        select(Evidence)
        .join(SubmissionEvidence, SubmissionEvidence.evidence_id == Evidence.id)
        .join(Submission, Submission.id == SubmissionEvidence.submission_id)
        .join(IssuedCredential, IssuedCredential.id == Submission.credential_id)
        .where(
            IssuedCredential.public_id == credential_public_id,
            Evidence.public_id == evidence_public_id,
        )
    )
    if evidence is None:
        abort(404)
    return evidence


@bp.get("/c/<public_id>/evidence/<evidence_id>")
def show(public_id: str, evidence_id: str) -> ResponseReturnValue:
    """A piece of evidence as a credential links to it: narrative and artefacts inline."""
    evidence = credential_evidence(public_id, evidence_id)
    credential = db.session.scalar(
        select(IssuedCredential).where(IssuedCredential.public_id == public_id)
    )

    def artefact_url(artefact: Artefact, part: str = "file") -> str:
        return url_for(
            ".artefact",
            public_id=public_id,
            evidence_id=evidence_id,
            artefact_id=artefact.public_id,
            part=part,
        )

    return render_template(
        "public/evidence.html",
        evidence=evidence,
        credential=credential,
        narrative_html=render_markdown(evidence.narrative),
        artefact_url=artefact_url,
    )


@bp.get("/c/<public_id>/evidence/<evidence_id>/artefacts/<artefact_id>", defaults={"part": "file"})
@bp.get("/c/<public_id>/evidence/<evidence_id>/artefacts/<artefact_id>/<part>")
def artefact(public_id: str, evidence_id: str, artefact_id: str, part: str) -> ResponseReturnValue:
    """An uploaded file of that evidence (the bytes whose SHA-256 the credential carries)."""
    evidence = credential_evidence(public_id, evidence_id)
    if part not in ARTEFACT_PARTS:
        abort(404)
    for candidate in evidence.artefacts:
        if candidate.public_id == artefact_id:
            return serve_artefact(candidate, part)
    abort(404)
