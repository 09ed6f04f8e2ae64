"""Whose proofs a credential needs: the issuer binding of a proof set or chain.

Policy (docs/verification.md, "Proof sets and chains"): every proof must verify on its own check
(a chained one against the proofs its ``previousProof`` names, Data Integrity 1.0 §4.5) and every
key must be usable; of the keys, at least one must be the issuer's (VC DM 2.0 §4.7: the issuer
secures the credential).  Proofs by other parties' keys — a witness, an assessor who signed
first, a countersignature — are allowed beside it and named in the check's detail.  Pure; no
Flask, no database.
"""

from __future__ import annotations

from collections.abc import Sequence

_PASSED, _FAILED, _UNKNOWN = "passed", "failed", "unknown"  # as in credentials.verify


def issuer_of_proofs(bindings: Sequence[tuple[str, str, str]]) -> tuple[str, str]:
    """The ``issuer`` check's (status, detail) from each proof's binding.

    ``bindings`` holds, per proof, (proof check name, binding status, binding detail), where the
    binding says whether that proof's key is the issuer's.  One proof: its binding.  Several:
    passed when at least one binding passed; otherwise failed if any failed (no proof is the
    issuer's), else unknown (a key that could not be resolved may be the issuer's).
    """
    if len(bindings) == 1:
        return bindings[0][1], bindings[0][2]
    issuers = [b for b in bindings if b[1] == _PASSED]
    if issuers:
        detail = issuers[0][2]
        others = [f"{name} ({detail_})" for name, status, detail_ in bindings if status != _PASSED]
        if others:
            detail += "; also signed with other parties' keys, which a proof set or chain allows: "
            detail += "; ".join(others)
        return _PASSED, detail
    if any(status == _FAILED for _, status, _ in bindings):
        failed = next(detail for _, status, detail in bindings if status == _FAILED)
        return _FAILED, f"no proof is made with a key of the issuer's: {failed}"
    return _UNKNOWN, next(detail for _, status, detail in bindings if status == _UNKNOWN)
