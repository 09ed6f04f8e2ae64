"""Status List 2021 (W3C CCG "Status List 2021", the predecessor of Bitstring Status List): the
revocation and suspension status of credentials of the VC 1.1 era.

Many VC 1.1 Open Badges carry a ``StatusList2021Entry``.  The list works as the Bitstring Status
List does — a GZIP-compressed bitstring, base64url-encoded, index 0 the left-most bit — with other
type names and ``encodedList`` without a multibase prefix:

* entry (§2.1 "StatusList2021Entry"): ``type`` ``StatusList2021Entry``, ``statusPurpose``
  (``revocation`` or ``suspension``), ``statusListIndex`` (an integer as a string),
  ``statusListCredential`` (the URL of the list credential);
* list credential (§2.2 "StatusList2021Credential"): ``type`` includes
  ``StatusList2021Credential``; ``credentialSubject`` has ``type`` ``StatusList2021``, the same
  ``statusPurpose`` and ``encodedList``;
* validation (§4 "Validate Algorithm"): verify the list credential's proofs, check the purposes
  match, expand the bitstring, and read the bit at the index: set means revoked / suspended.

Pure (no Flask).  :func:`check_entries` takes the verifier's resolver and a function that verifies
a list credential (so this module does not import the verifier), reads each list at most once
for all the entries that name it, and returns one outcome per entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .budget import WorkBudgetExceeded
from .errors import CannotDecideError, CredentialError, MalformedInputError
from .status import StatusList

ENTRY_TYPE = "StatusList2021Entry"
LIST_CREDENTIAL_TYPE = "StatusList2021Credential"
LIST_SUBJECT_TYPE = "StatusList2021"
CONTEXT = "https://w3id.org/vc/status-list/2021/v1"
PURPOSES = ("revocation", "suspension")

Outcome = Literal["passed", "failed", "unknown"]
#: Verifies a list credential: ``None`` when it verifies, else why not.  Raises
#: ``MalformedInputError`` for a list that cannot be judged.
ListVerifier = Callable[[dict[str, Any]], str | None]


@dataclass(frozen=True)
class Ruling:
    """One entry's status: which check it belongs to, and the outcome."""

    purpose: str
    outcome: Outcome
    detail: str


def _types(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def is_entry(entry: object) -> bool:
    """Whether a ``credentialStatus`` entry is a ``StatusList2021Entry``."""
    return isinstance(entry, Mapping) and ENTRY_TYPE in _types(entry.get("type"))


def _parse(entry: Mapping[str, Any]) -> tuple[str, int, str]:
    """(purpose, index, list URL) of an entry; raises ``MalformedInputError`` (§2.1)."""
    purpose = entry.get("statusPurpose")
    if purpose not in PURPOSES:
        raise MalformedInputError(
            f"StatusList2021Entry statusPurpose {purpose!r} is not one of {list(PURPOSES)}",
            code="MALFORMED_VALUE_ERROR",
        )
    index = entry.get("statusListIndex")
    if isinstance(index, int) and not isinstance(index, bool) and index >= 0:
        index = str(index)
    if not isinstance(index, str) or not index.isascii() or not index.isdigit() or len(index) > 18:
        raise MalformedInputError(
            f"StatusList2021Entry statusListIndex {index!r} is not a non-negative integer",
            code="MALFORMED_VALUE_ERROR",
        )
    url = entry.get("statusListCredential")
    if not isinstance(url, str) or "://" not in url or any(c.isspace() for c in url):
        raise MalformedInputError(
            f"StatusList2021Entry statusListCredential {url!r} is not a URL",
            code="MALFORMED_VALUE_ERROR",
        )
    return str(purpose), int(index), url


def _bits(list_credential: Mapping[str, Any], purpose: str, url: str) -> StatusList:
    """The list's bitstring after the §4 checks; raises ``CredentialError`` naming the one
    that fails."""
    if LIST_CREDENTIAL_TYPE not in _types(list_credential.get("type")):
        raise CredentialError(f"the status list {url} is not a {LIST_CREDENTIAL_TYPE}")
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or LIST_SUBJECT_TYPE not in _types(subject.get("type")):
        raise CredentialError(f"the status list {url} has no {LIST_SUBJECT_TYPE} subject")
    if subject.get("statusPurpose") != purpose:
        raise CredentialError(
            f"the status list {url} is for {subject.get('statusPurpose')!r}, not {purpose!r}"
        )
    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        raise CredentialError(f"the status list {url} has no encodedList")
    # Plain base64url (padding tolerated); StatusList reads the multibase form ("u" + it).
    return StatusList.decode("u" + encoded.rstrip("="))


def check_entries(
    entries: Sequence[Mapping[str, Any]],
    *,
    issuer: str,
    resolve: Callable[[str], Mapping[str, Any]] | None,
    verify_list: ListVerifier | None,
    lists: dict[str, Any] | None = None,
) -> list[Ruling]:
    """One ruling per ``StatusList2021Entry``; each list is fetched and verified once.

    ``resolve`` / ``verify_list`` ``None`` means status lists are not checked here (every
    ruling is unknown).  ``lists`` remembers, by URL, what was obtained for ``issuer`` (the
    verifier passes one per request and issuer, so a list is verified once per request).  A
    malformed entry raises ``MalformedInputError``.
    """
    parsed = [_parse(entry) for entry in entries]
    # URL -> list credential, or why not
    lists = {} if lists is None else lists
    expanded: dict[tuple[str, str], StatusList] = {}  # each bitstring expanded once
    rulings: list[Ruling] = []
    for purpose, index, url in parsed:
        if resolve is None or verify_list is None:
            rulings.append(Ruling(purpose, "unknown", "status lists are not checked here"))
            continue
        if url not in lists:
            lists[url] = _obtain(url, issuer=issuer, resolve=resolve, verify_list=verify_list)
        obtained = lists[url]
        if isinstance(obtained, str):
            rulings.append(Ruling(purpose, "unknown", obtained))
            continue
        try:
            if (url, purpose) not in expanded:
                expanded[url, purpose] = _bits(obtained, purpose, url)
            is_set = expanded[url, purpose].get(index)
        except CredentialError as exc:
            rulings.append(Ruling(purpose, "unknown", exc.message))
            continue
        if is_set:
            word = "revoked" if purpose == "revocation" else "suspended"
            rulings.append(Ruling(purpose, "failed", f"the issuer has {word} this credential"))
        else:
            word = "not revoked" if purpose == "revocation" else "not suspended"
            rulings.append(Ruling(purpose, "passed", f"{word} (StatusList2021 {url})"))
    return rulings


def _obtain(
    url: str,
    *,
    issuer: str,
    resolve: Callable[[str], Mapping[str, Any]],
    verify_list: ListVerifier,
) -> Mapping[str, Any] | str:
    """The verified list credential at ``url``, or why it cannot be used."""
    try:
        list_credential = dict(resolve(url))
    except CannotDecideError as exc:
        return exc.message
    try:
        problem = verify_list(list_credential)
    except WorkBudgetExceeded:
        raise  # the request as a whole is refused (credentials/budget.py)
    except MalformedInputError as exc:
        return f"the status list {url} is malformed: {exc.message}"
    if problem is not None:
        return f"the status list {url} does not verify: {problem}"
    list_issuer = list_credential.get("issuer")
    if isinstance(list_issuer, Mapping):
        list_issuer = list_issuer.get("id")
    if list_issuer != issuer:
        return f"the status list {url} has another issuer"
    return list_credential
