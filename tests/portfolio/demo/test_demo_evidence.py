"""Every evidence URL of every credential the demo issued serves exactly what the credential
signed (issue 15 §1): each file's SHA-256 equals the ``digestSRI`` the credential carries, and
nothing else is served under the credential — no live evidence, no file outside its digests."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from portfolio.core.db import db
from tests.portfolio.demo.test_demo import _app

#: Where a page links to a frozen file (or its captions) under the credential's evidence.
_LINK = re.compile(r'(?:href|src)="(/c/[^"]+/evidence/[^"]+)"')


def _sri(data: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _evidence_urls(document: dict[str, Any], public_id: str) -> tuple[list[str], dict[str, str]]:
    """The credential's evidence pages on this service (paths), and its files → digestSRI."""
    pages: list[str] = []
    files: dict[str, str] = {}
    for entry in document.get("evidence", []):
        path = urlsplit(entry.get("id", "")).path  # a cohort endorsement's entry has no id
        if not path.startswith(f"/c/{public_id}/evidence/"):
            continue  # a link elsewhere, or another credential (a stack's components)
        if "/artefacts/" in path:
            files[path] = entry["digestSRI"]
        else:
            pages.append(path)
    return pages, files


@pytest.mark.slow
def test_every_evidence_url_of_every_demo_credential_serves_exactly_what_it_signed(
    tmp_path: Path,
) -> None:
    from portfolio.accounts.models import User
    from portfolio.evidence.models import Artefact, Evidence, EvidenceSnapshot
    from portfolio.guardians.consent import may_publish
    from portfolio.issuing.models import IssuedCredential

    app = _app(tmp_path)
    seeded = app.test_cli_runner().invoke(args=["demo-setup"])
    assert seeded.exit_code == 0, seeded.output
    visitor = app.test_client()
    with app.app_context():
        credentials = db.session.scalars(select(IssuedCredential)).all()
        live_evidence = [e.public_id for e in db.session.scalars(select(Evidence))]
        live_artefacts = [a.public_id for a in db.session.scalars(select(Artefact))]
        walked = files_checked = 0
        for row in credentials:
            document = json.loads(row.document)
            pages, files = _evidence_urls(document, row.public_id)
            standing = row.revoked_at is None
            recipient = (
                db.session.get(User, row.recipient_user_id) if row.recipient_user_id else None
            )
            if recipient is not None and not may_publish(recipient):
                # A minor without consent (Tomás): every public view of hers answers "not
                # public" (issue 17 §3), evidence included.
                for path in [*pages, *files]:
                    assert visitor.get(path).status_code == 404, path
                continue
            snapshots = db.session.scalars(
                select(EvidenceSnapshot).where(EvidenceSnapshot.credential_id == row.id)
            ).all()
            # Every frozen file of the credential is one of its digests, and the reverse.
            frozen = {
                f"/c/{row.public_id}/evidence/{s.public_id}/artefacts/{a.public_id}"
                for s in snapshots
                for a in s.artefacts
                if a.blob_sha256
            }
            assert frozen == set(files), row.achievement_name
            for page in pages:
                walked += 1
                response = visitor.get(page)
                assert response.status_code == (200 if standing else 410), page
                for link in _LINK.findall(response.get_data(as_text=True)):
                    # Only the credential's own files are linked (captions: their frozen text).
                    file, _, part = link.partition("/captions")
                    assert file in files and part == "", link
            for path, digest in files.items():
                response = visitor.get(path)
                if not standing:
                    assert response.status_code == 410, path
                    continue
                assert response.status_code == 200, path
                assert _sri(response.get_data()) == digest, path
                # No thumbnail: only bytes a digest covers are served.
                assert visitor.get(f"{path}/thumbnail").status_code == 404, path
                files_checked += 1
            # Nothing else under the credential: no live evidence, no other artefact.
            base = f"/c/{row.public_id}/evidence"
            for evidence_id in live_evidence:
                assert visitor.get(f"{base}/{evidence_id}").status_code == 404
            for page in pages:
                for artefact_id in live_artefacts:
                    assert visitor.get(f"{page}/artefacts/{artefact_id}").status_code == 404
                    assert (
                        visitor.get(f"{page}/artefacts/{artefact_id}/thumbnail").status_code == 404
                    )
        assert walked and files_checked  # the demo has evidence pages and files to walk
        db.session.remove()
        db.engine.dispose()
