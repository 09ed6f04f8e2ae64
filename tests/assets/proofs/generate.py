"""Regenerate the signed fixtures in this folder (run from the repository root):

    CREDFOLIO_PEER_DIR=$(scripts/peer) .venv/bin/python tests/assets/proofs/generate.py

Files named ``*-by-digital-bazaar*`` are signed by the peer harness (the Digital Bazaar stack,
``../shared/peer``) with the seed 00 01 02 … 1f; the others by Credfolio with the same key.  Every
key here is a PUBLIC test key.  Signing is deterministic (Ed25519, fixed ``created``), so running
this again reproduces the same bytes.  A file named for what is wrong with it changes exactly one
thing after signing (see README.md).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path

HERE = Path(__file__).parent
SEED_HEX = bytes(range(32)).hex()
CREATED = "2024-01-01T00:00:00Z"


def write(name: str, document: dict) -> None:
    (HERE / name).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def peer_sign(unsigned: Path) -> dict:
    peer = os.environ["CREDFOLIO_PEER_DIR"]
    run = subprocess.run(
        ["node", "sign.mjs", str(unsigned.resolve()), SEED_HEX, "--created", CREATED],
        cwd=peer,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(run.stdout))


def main() -> None:
    signed = peer_sign(HERE / "direction-unsigned.json")
    write("direction-signed-by-digital-bazaar.json", signed)
    switched = copy.deepcopy(signed)
    switched["name"]["@direction"] = "rtl"
    write("direction-ltr-switched-to-rtl.json", switched)
    dropped = copy.deepcopy(signed)
    del dropped["description"]["@direction"]
    write("direction-removed.json", dropped)


if __name__ == "__main__":
    main()
