"""Worker for the two-process rotation test (a module, so a spawned process can import it)."""

from __future__ import annotations

from multiprocessing.synchronize import Barrier
from pathlib import Path

from issuer_keys.encryption import KeyEncryptionSecret
from issuer_keys.store import FileKeyStore


def rotate_many(directory: str, secret_text: str, controller: str, n: int, start: Barrier) -> None:
    """Wait until every worker is ready (so their rotations overlap), then rotate ``n`` times."""
    store = FileKeyStore(Path(directory), secret=KeyEncryptionSecret.from_text(secret_text))
    start.wait(10)
    for _ in range(n):
        store.rotate(controller)
