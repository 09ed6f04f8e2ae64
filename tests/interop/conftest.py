"""The peer harness (the Digital Bazaar stack, prepared by scripts/peer) for interop tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def peer() -> Path:
    """The prepared harness folder.  In CI it must be there: a missing peer fails, not skips."""
    peer_dir = os.environ.get("CREDFOLIO_PEER_DIR")
    assert peer_dir, "CREDFOLIO_PEER_DIR is not set: scripts/peer could not prepare the harness"
    assert shutil.which("node"), "node is not installed"
    return Path(peer_dir)
