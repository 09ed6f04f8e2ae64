"""The verdict of a credential page (``GET /c/<id>``), computed once and reused until anything
it depends on may have changed — never longer.

A verdict is kept per app (each worker has its own) under the verdict generation's token
(portfolio/issuing/verdict_generation.py), read from the database on every view: revocation,
suspension, unsuspension, key changes and trust-list changes change the token in their own
transaction, so from their commit on every worker computes the verdict afresh.  Time matters
too: an entry ends at the next moment named anywhere in the credential (``validFrom``,
``validUntil``, ``expires``... of the credential, its proofs and endorsements), so "not yet
valid" and "expired" turn exactly when they should, and after :data:`MAX_AGE` at the latest.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app

from credentials.errors import MalformedInputError
from credentials.verify import VerificationResult
from portfolio.issuing import verdict_generation

EXTENSION = "credfolio.verdict_cache"
MAX_ENTRIES = 2048
#: A backstop for anything time-dependent not written in the credential itself.
MAX_AGE = timedelta(minutes=10)
#: Members whose value is a moment a verdict may turn at (VC DM 2.0 §4.9, VC 1.1, DI §2.1).
MOMENT_MEMBERS = frozenset({"validFrom", "validUntil", "issuanceDate", "expirationDate", "expires"})

Verdict = tuple[VerificationResult | None, MalformedInputError | None]


@dataclass(frozen=True)
class _Entry:
    generation: str
    until: datetime
    verdict: Verdict


class VerdictCache:
    """A bounded, thread-safe map of credential id → verdict, with hit and miss counts."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self.hits = 0
        self.misses = 0

    def get(self, key: str, *, generation: str, now: datetime) -> Verdict | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.generation != generation or now >= entry.until:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.verdict

    def put(self, key: str, verdict: Verdict, *, generation: str, until: datetime) -> None:
        with self._lock:
            self._entries[key] = _Entry(generation, until, verdict)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)


def cache() -> VerdictCache:
    """The current app's cache (made on first use)."""
    extensions = current_app.extensions
    found = extensions.get(EXTENSION)
    if found is None:
        found = extensions.setdefault(EXTENSION, VerdictCache())
    assert isinstance(found, VerdictCache)  # noqa: S101 (only this module sets it)
    return found


def cached_verdict(
    key: str, document: dict[str, Any], compute: Callable[[], Verdict], *, now: datetime
) -> Verdict:
    """The verdict of ``document`` (stored under ``key``): from the cache when its generation is
    current and no moment in the document has passed since, else ``compute()`` (and kept)."""
    generation = verdict_generation.current()
    found = cache().get(key, generation=generation, now=now)
    if found is not None:
        return found
    verdict = compute()
    cache().put(key, verdict, generation=generation, until=valid_until(document, now=now))
    return verdict


def valid_until(document: Any, *, now: datetime) -> datetime:
    """The first moment after ``now`` named in ``document`` (at most ``now + MAX_AGE``)."""
    limit = now + MAX_AGE
    for moment in _moments(document):
        if now < moment < limit:
            limit = moment
    return limit


def _moments(node: Any) -> Iterator[datetime]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for member, value in item.items():
                if member in MOMENT_MEMBERS and isinstance(value, str):
                    moment = _parse(value)
                    if moment is not None:
                        yield moment
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def _parse(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    # A moment without an offset is read as UTC, as the verifier reads it.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
