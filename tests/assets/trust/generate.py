"""Regenerate the signed fixtures of this folder (run from the repository root):

    .venv/bin/python tests/assets/trust/generate.py

``forged-demo-school.json`` is what a forger makes: a genuine signature by a key of their own (the
PUBLIC demo key of ../ob3/signed-examples/DEMO-KEY.json, a stranger's did:key to the service)
over an issuer object that calls itself "Credfolio Demo School" and evidence links that point at
the demo service.  ``registry-listing-the-demo-key.json`` is a registry in the DCC format that
lists that key's DID.  Signing is deterministic, so running this again gives the same bytes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "tampered"))

from generate import ISSUER, base, sign  # noqa: E402  (the tampered fixtures' signer)


def write(name: str, document: dict) -> None:
    (HERE / name).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def main() -> None:
    forged = base()
    forged["issuer"] = {
        "id": ISSUER,
        "type": ["Profile"],
        "name": "Credfolio Demo School",
        "url": "http://127.0.0.1:5000",
    }
    forged["evidence"] = [
        {
            "id": "http://127.0.0.1:5000/c/not-a-real-credential/evidence/1",
            "type": ["Evidence"],
            "name": "A real student's evidence",
        }
    ]
    write("forged-demo-school.json", sign(forged))
    write(
        "registry-listing-the-demo-key.json",
        {
            "meta": {"created": "2026-12-06T00:00:00+00:00", "updated": "2026-12-06T00:00:00+00:00"},
            "registry": {
                ISSUER: {
                    "name": "Example Partner College",
                    "location": "Springfield",
                    "url": "https://partner.example",
                }
            },
        },
    )


if __name__ == "__main__":
    main()
