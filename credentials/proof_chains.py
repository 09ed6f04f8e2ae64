"""Proof chains (Data Integrity 1.0 §2.1.2 and §4.5): which earlier proofs a proof signs.

A proof with ``previousProof`` (one proof ``id`` or a list of them) signs the document *with*
the proofs it names, so those cannot be removed or changed without breaking it.  Pure; no Flask,
no database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import MalformedInputError


def named_previous(proof: Mapping[str, Any]) -> list[str]:
    """The ids ``previousProof`` names, as a list (empty when the proof is not chained)."""
    previous = proof.get("previousProof")
    if previous is None:
        return []
    if isinstance(previous, str):
        return [previous]
    if isinstance(previous, list) and all(isinstance(p, str) for p in previous):
        return list(previous)
    raise MalformedInputError(
        "previousProof must be a proof id or a list of proof ids", code="UNSUPPORTED_PROOF"
    )


def matching_proofs(
    proofs: Sequence[Mapping[str, Any]], wanted: Sequence[str]
) -> list[dict[str, Any]] | None:
    """The proofs whose ``id`` is in ``wanted`` (§4.5 "matchingProofs"), in document order, or
    ``None`` when one of them is missing."""
    found = [dict(p) for p in proofs if p.get("id") in wanted]
    present = {p.get("id") for p in found}
    return found if all(w in present for w in wanted) else None


def chained_document(
    unsecured: Mapping[str, Any],
    proofs: Sequence[Mapping[str, Any]],
    new_options: Mapping[str, Any],
) -> dict[str, Any]:
    """What a new proof with ``new_options`` signs (§4.5 "Add Proof Chain" step 3): the document
    without proofs, or with the proofs ``previousProof`` names.

    Raises :class:`MalformedInputError` when a named proof is not in ``proofs``.
    """
    wanted = named_previous(new_options)
    if not wanted:
        return dict(unsecured)
    matching = matching_proofs(proofs, wanted)
    if matching is None:
        raise MalformedInputError(
            f"previousProof names {', '.join(wanted)}, which the document does not hold",
            code="UNSUPPORTED_PROOF",
        )
    return {**unsecured, "proof": matching}
