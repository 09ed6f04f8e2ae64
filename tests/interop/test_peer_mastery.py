"""A mastery credential as Credfolio issues it — rubric results, evidence digests, status
entries, and each assessor's did:key-signed endorsement embedded — verifies in the Digital
Bazaar stack, with the issuer's did:web document and status lists passed in (offline)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from portfolio.assessment import service as assessment
from portfolio.core.db import db
from portfolio.issuing.models import StatusListRow
from tests.interop.test_peer import node, pytestmark  # noqa: F401 (the same marks)
from tests.portfolio.school import evidence, make_school


def test_a_mastery_credential_and_its_endorsements_verify_in_the_peer(
    app: Any, issuer: Any, peer: Any, tmp_path: Any
) -> None:
    school = make_school(issuer)
    school.competency.required_endorsements = 2
    db.session.commit()
    song = evidence(school.student, "My song")
    submission = assessment.create_submission(
        school.student, school.competency, evidence_ids=[song.public_id], submit=True
    )
    assessment.assess(submission, school.assessor, decision="endorse", levels=[2, 3])
    outcome = assessment.assess(
        submission, school.second_assessor, decision="endorse", levels=[3, 3]
    )
    document = json.loads(outcome.credential.document)
    (tmp_path / "vc.json").write_text(json.dumps(document))
    did_document = app.extensions["credfolio"].did_document()
    (tmp_path / "did.json").write_text(json.dumps(did_document))
    args = ["verify.mjs", str(tmp_path / "vc.json"), "--did-web-doc", str(tmp_path / "did.json")]
    for row in db.session.scalars(
        select(StatusListRow).where(StatusListRow.issuer_id == issuer.id)
    ):
        path = tmp_path / f"list-{row.id}.json"
        path.write_text(row.credential)
        args += ["--status-list-doc", str(path)]
    run = node(peer, *args)
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["verified"] is True

    assert len(document["endorsement"]) == 2
    for index, endorsement in enumerate(document["endorsement"]):
        path = tmp_path / f"endorsement-{index}.json"
        path.write_text(json.dumps(endorsement))
        run = node(peer, "verify.mjs", str(path), "--ignore-status")
        assert run.returncode == 0, run.stdout + run.stderr
