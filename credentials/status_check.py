"""Status entries of one verification request, each status list dereferenced, verified and
expanded at most once (issue 14 §5: 3,072 entries naming one list used to verify it 3,072 times).

Bitstring Status List v1.0 §3.2 "Validate Algorithm", split in the part that depends only on the
list (:class:`ListVerdict`, made once per list URL and request, memoized in the request's
:class:`~credentials.budget.WorkBudget`) and the part each entry does with it
(:func:`entry_outcome`).  The verifier supplies how a list is dereferenced and whose proofs it
checks; this module never imports it.  Pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .budget import WorkBudget
from .errors import CredentialError, StatusListError
from .status import StatusEntry, StatusList, read_status

#: Work units (credentials/budget.py) per status entry read, and per KiB of expanded bitstring.
UNITS_PER_ENTRY = 5
UNITS_PER_KIB = 4


@dataclass(frozen=True)
class ListVerdict:
    """What a request learned about the list at one URL: usable (its credential and expanded
    bitstring), or why not (``problem``: the entry's check is then ``unknown``)."""

    url: str
    credential: Mapping[str, Any] | None = None
    bitstring: StatusList | None = None
    problem: str | None = None
    #: Said alongside the status (e.g. who signed the list), never a reason to refuse it.
    note: str = ""


def list_verdict(
    url: str,
    *,
    budget: WorkBudget,
    verify_list: Callable[[str], ListVerdict],
) -> ListVerdict:
    """The verdict on the list at ``url``, computed by ``verify_list`` the first time this
    request asks (§3.2 step 4: dereference and verify its proofs; then expand its bitstring,
    step 8), and remembered for every later entry naming the same URL."""
    return budget.once(("status-list", url), lambda: _expanded(verify_list(url), budget))


def _expanded(verdict: ListVerdict, budget: WorkBudget) -> ListVerdict:
    if verdict.problem is not None or verdict.credential is None:
        return verdict
    subject = verdict.credential.get("credentialSubject")
    encoded = subject.get("encodedList") if isinstance(subject, Mapping) else None
    if not isinstance(encoded, str):
        return verdict  # entry_outcome reports it through read_status, per entry
    try:
        # §3.2 steps 6 and 8: the compressed bitstring, expanded (§3.4 Bitstring Expansion).
        bitstring = StatusList.decode(encoded)
    except StatusListError as exc:
        return ListVerdict(verdict.url, verdict.credential, problem=exc.message)
    budget.charge(len(bitstring) // 8 // 1024 * UNITS_PER_KIB, "status list expansion")
    return ListVerdict(verdict.url, verdict.credential, bitstring, note=verdict.note)


def entry_outcome(
    entry: StatusEntry, verdict: ListVerdict, *, budget: WorkBudget
) -> tuple[bool | None, str]:
    """(the status bit, or ``None`` when it cannot be known; why) for one entry."""
    budget.charge(UNITS_PER_ENTRY, "status entries")
    if verdict.problem is not None or verdict.credential is None:
        return None, verdict.problem or f"the status list {entry.url} cannot be read"
    try:
        is_set = read_status(entry, verdict.credential, bitstring=verdict.bitstring)
    except CredentialError as exc:
        return None, exc.message
    return is_set, verdict.note
