"""Ed25519 edge cases: what Credfolio's verification path does with the twelve "Taming the many
EdDSAs" vectors (Chalkias, Garillot, Nikolaenko, 2020; tests/assets/ed25519-speccheck/).

Credfolio verifies with the ``cryptography`` package, that is OpenSSL's Ed25519 (RFC 8032
§5.1.7), both in :meth:`issuer_keys.keys.PublicKey.verify` and in the proof check of
:class:`credentials.proof.Eddsa2022Suite`.  Its behaviour, case by case:

====  ======  =============================================================================
case  result  why
====  ======  =============================================================================
0     accept  small-order A and R are not refused (no small-order blocklist)
1     accept  small-order A is not refused
2     accept  small-order R is not refused
3     accept  mixed-order A and R: the cofactorless equation holds
4     reject  cofactorless equation ``[S]B = R + [k]A`` (holds only multiplied by 8)
5     reject  cofactorless equation, as 4
6     reject  S ≥ L is refused (RFC 8032 §5.1.7 step 1): no signature malleability
7     reject  S ≫ L, as 6
8     reject  non-canonical R: the recomputed R is encoded and compared byte for byte
9     reject  non-canonical R, as 8
10    reject  non-canonical A is accepted as a key but hashed as given; this vector needs it
              reduced first
11    accept  non-canonical A ("negative zero", order 2) hashed as given
====  ======  =============================================================================

That is strongly unforgeable (SUF-CMA: no S + L, no re-encoded R), not strongly binding
(small-order keys are accepted).  docs/ed25519.md says why that is acceptable for credentials,
and how other verifiers differ.  The test first recomputes each vector's conditions (the order
of A and R, the range of S, canonical encodings, which verification equation holds) with a small
pure-Python Edwards25519, so the vectors are checked to be what they claim.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from credentials.verify import FAILED, PASSED, Verifier
from issuer_keys.keys import PublicKey
from issuer_keys.multikey import encode_public_key, multibase_decode, multibase_encode
from tests.conftest import ASSETS, load_json

VECTORS = ASSETS / "ed25519-speccheck"


@dataclass(frozen=True)
class Case:
    number: int
    message: bytes
    public_key: bytes
    signature: bytes


def _load_cases() -> list[Case]:
    raw = json.loads((VECTORS / "cases.json").read_text(encoding="utf-8"))
    return [
        Case(
            n,
            bytes.fromhex(c["message"]),
            bytes.fromhex(c["pub_key"]),
            bytes.fromhex(c["signature"]),
        )
        for n, c in enumerate(raw)
    ]


CASES = _load_cases()

#: What Credfolio does with each case (True: the signature is accepted).  The module docstring
#: and docs/ed25519.md explain each one.
CREDFOLIO_ACCEPTS = {
    0: True,
    1: True,
    2: True,
    3: True,
    4: False,
    5: False,
    6: False,
    7: False,
    8: False,
    9: False,
    10: False,
    11: True,
}
WHY = {
    0: "small-order A and R accepted",
    1: "small-order A accepted",
    2: "small-order R accepted",
    3: "mixed-order A and R, cofactorless equation holds",
    4: "cofactorless: refused",
    5: "cofactorless: refused",
    6: "S >= L refused",
    7: "S >= L refused",
    8: "non-canonical R refused",
    9: "non-canonical R refused",
    10: "non-canonical A hashed as given: refused",
    11: "non-canonical A hashed as given: accepted",
}


def _case_id(case: Case) -> str:
    return f"case{case.number}-{'accept' if CREDFOLIO_ACCEPTS[case.number] else 'reject'}"


# -- a reference Edwards25519 (RFC 8032 §5.1), only to classify the vectors --------------------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z
IDENTITY: Point = (0, 1, 1, 0)


def _add(p: Point, q: Point) -> Point:
    """RFC 8032 §5.1.4 point addition (complete: doubling too)."""
    a = (p[1] - p[0]) * (q[1] - q[0]) % P
    b = (p[1] + p[0]) * (q[1] + q[0]) % P
    c = 2 * p[3] * q[3] * D % P
    d = 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(k: int, p: Point) -> Point:
    result = IDENTITY
    while k:
        if k & 1:
            result = _add(result, p)
        p = _add(p, p)
        k >>= 1
    return result


def _same(p: Point, q: Point) -> bool:
    return (p[0] * q[2] - q[0] * p[2]) % P == 0 and (p[1] * q[2] - q[1] * p[2]) % P == 0


def _decode(encoded: bytes) -> tuple[Point, bool]:
    """RFC 8032 §5.1.3, leniently: y ≥ p and a "negative zero" x are decoded (reduced) and
    reported as non-canonical instead of refused.  Returns (point, canonical)."""
    value = int.from_bytes(encoded, "little")
    sign, y = value >> 255, value & ((1 << 255) - 1)
    canonical = y < P
    y %= P
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    assert (x * x - x2) % P == 0, "not a point"
    if x == 0 and sign:
        canonical = False
    if x & 1 != sign:
        x = (P - x) % P
    return (x, y, 1, x * y % P), canonical


def _encode(p: Point) -> bytes:
    z_inv = pow(p[2], P - 2, P)
    x, y = p[0] * z_inv % P, p[1] * z_inv % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


BASE, _ = _decode((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))


def _order(p: Point) -> str:
    if _same(_mul(8, p), IDENTITY):
        return "small"
    return "L" if _same(_mul(L, p), IDENTITY) else "mixed"


def _equations(case: Case, *, reduce_for_hash: bool) -> tuple[bool, bool]:
    """(cofactored holds, cofactorless holds) for the case, hashing A and R as encoded or as
    re-encoded canonically."""
    r_bytes, s = case.signature[:32], int.from_bytes(case.signature[32:], "little")
    r, _ = _decode(r_bytes)
    a, _ = _decode(case.public_key)
    if reduce_for_hash:
        r_bytes, a_bytes = _encode(r), _encode(a)
    else:
        a_bytes = case.public_key
    k = int.from_bytes(hashlib.sha512(r_bytes + a_bytes + case.message).digest(), "little") % L
    left, right = _mul(s, BASE), _add(r, _mul(k, a))
    return _same(_mul(8, left), _mul(8, right)), _same(left, right)


# The upstream condition table (README at eb907765): S range, order of A, order of R, whether A
# and R are canonical, whether the cofactored / cofactorless equations hold, and whether they
# hold when A and R are re-encoded before hashing.
CONDITIONS: dict[int, tuple[str, str, str, bool, bool, bool, bool, bool]] = {
    #   S        A        R        A can. R can. cofact. cofless reduced
    0: ("zero", "small", "small", True, True, True, True, False),
    1: ("in", "small", "mixed", True, True, True, True, False),
    2: ("in", "mixed", "small", True, True, True, True, False),
    3: ("in", "mixed", "mixed", True, True, True, True, False),
    4: ("in", "mixed", "mixed", True, True, True, False, False),
    5: ("in", "mixed", "L", True, True, True, False, False),
    6: ("over", "L", "L", True, True, True, True, False),
    7: ("over", "L", "L", True, True, True, True, False),
    8: ("in", "mixed", "small", True, False, True, True, True),
    9: ("in", "mixed", "small", True, False, True, True, False),
    10: ("in", "small", "mixed", False, True, True, True, True),
    11: ("in", "small", "mixed", False, True, True, True, False),
}


def test_cases_json_is_cases_txt_converted() -> None:
    lines = (VECTORS / "cases.txt").read_text(encoding="ascii").split("\n")
    assert int(lines[0]) == len(CASES) == 12
    for case in CASES:
        msg, pbk, sig = lines[1 + 3 * case.number : 4 + 3 * case.number]
        assert msg == f"msg={case.message.hex()}"
        assert pbk == f"pbk={case.public_key.hex()}"
        assert sig == f"sig={case.signature.hex()}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"case{c.number}")
def test_each_vector_is_what_the_condition_table_says(case: Case) -> None:
    s_range, a_order, r_order, a_canonical, r_canonical, cofactored, cofactorless, reduced = (
        CONDITIONS[case.number]
    )
    s = int.from_bytes(case.signature[32:], "little")
    assert s_range == ("zero" if s == 0 else "in" if s < L else "over")
    a, a_is_canonical = _decode(case.public_key)
    r, r_is_canonical = _decode(case.signature[:32])
    assert (_order(a), _order(r)) == (a_order, r_order)
    assert (a_is_canonical, r_is_canonical) == (a_canonical, r_canonical)
    assert _equations(case, reduce_for_hash=reduced) == (cofactored, cofactorless)


# -- what Credfolio does ----------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_public_key_verify(case: Case) -> None:
    """issuer_keys.PublicKey.verify: accepts or rejects each case as documented, never raises."""
    key = PublicKey.from_bytes(case.public_key)
    assert key.verify(case.signature, case.message) is CREDFOLIO_ACCEPTS[case.number], WHY[
        case.number
    ]


class _VectorMessageSuite(Eddsa2022Suite):
    """The real eddsa-rdfc-2022 proof check with its hash input replaced by a vector's message
    (no document can canonicalize and hash to a chosen message)."""

    def __init__(self, message: bytes) -> None:
        super().__init__(loader=DocumentLoader.bundled())
        self.message = message

    def _hash_data(
        self,
        unsecured: Mapping[str, Any],
        options: Mapping[str, Any],
        canonical_document: str | None = None,
        *,
        budget: object = None,
    ) -> bytes:
        return self.message


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_proof_verification(case: Case) -> None:
    """credentials.proof: the proofValue of a Data Integrity proof goes through the same check."""
    public_key = Ed25519PublicKey.from_public_bytes(case.public_key)
    did = "did:key:" + encode_public_key(public_key)
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2024-01-01T00:00:00Z",
        "verificationMethod": f"{did}#{did.removeprefix('did:key:')}",
        "proofPurpose": "assertionMethod",
        "proofValue": multibase_encode(case.signature),
    }
    outcome = _VectorMessageSuite(case.message).verify_proof(
        {"@context": ["https://www.w3.org/ns/credentials/v2"]}, proof, public_key=public_key
    )
    assert outcome.verified is CREDFOLIO_ACCEPTS[case.number], WHY[case.number]


# -- the consequences for credentials ---------------------------------------------------------

NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def suite() -> Eddsa2022Suite:
    return Eddsa2022Suite(loader=DocumentLoader.bundled())


def _unsigned(issuer: str) -> dict[str, Any]:
    document = load_json("tampered/valid.json")
    document.pop("proof")
    document["issuer"]["id"] = issuer
    return document


def test_adding_l_to_s_of_a_real_proof_is_refused(suite: Eddsa2022Suite) -> None:
    """No signature malleability: (R, S + L) satisfies the cofactorless equation too, but a
    second valid proofValue for one proof would let anyone alter a signed credential's bytes."""
    private_key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    public_key = PublicKey(private_key.public_key())
    did = "did:key:" + public_key.public_key_multibase
    signed = suite.create_proof(
        _unsigned(did),
        key=private_key,
        verification_method=public_key.verification_method_id(did),
        created=datetime(2024, 1, 1, tzinfo=UTC),
    )
    verifier = Verifier.offline(now=lambda: NOW)
    assert verifier.verify(signed).verified

    signature = multibase_decode(signed["proof"][0]["proofValue"])
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + L).to_bytes(32, "little")
    signed["proof"][0]["proofValue"] = multibase_encode(malleated)
    result = verifier.verify(signed)
    assert not result.verified
    assert result.check("proof").status == FAILED


def test_a_small_order_did_key_verifies_anything_and_proves_nothing(
    suite: Eddsa2022Suite,
) -> None:
    """Documented behaviour (docs/ed25519.md): the identity point as a did:key public key
    verifies the fixed signature (R = identity, S = 0) on every document.  Such a key is
    everyone's and no one's: the credential is "verified" as issued by that did:key, which no
    relying party has any reason to trust — exactly like a key an attacker generates."""
    identity = bytes([1]) + bytes(31)
    public_key = PublicKey.from_bytes(identity)
    did = "did:key:" + public_key.public_key_multibase
    document = _unsigned(did)
    document["proof"] = [
        {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2024-01-01T00:00:00Z",
            "verificationMethod": public_key.verification_method_id(did),
            "proofPurpose": "assertionMethod",
            "proofValue": multibase_encode(identity + bytes(32)),
        }
    ]
    result = Verifier.offline(now=lambda: NOW).verify(document)
    assert result.check("proof").status == PASSED
    assert result.verified  # if a small-order blocklist is added, this flips: update the docs


# -- the peer (Digital Bazaar's stack), when its harness is prepared --------------------------

PEER_DIR = os.environ.get("CREDFOLIO_PEER_DIR")
#: @noble/ed25519 (the Digital Bazaar browser build's Ed25519) as locked in the harness:
#: cofactored, refuses S ≥ L by throwing, reduces non-canonical encodings.
NOBLE_RESULTS = ["V", "V", "V", "V", "V", "V", "E", "E", "V", "X", "V", "V"]
_PEER_SCRIPT = """
import crypto from 'node:crypto';
import * as noble from '@noble/ed25519';
const cases = JSON.parse(process.argv[1]);
const spki = Buffer.from('302a300506032b6570032100', 'hex');
const out = {node: [], noble: []};
for (const c of cases) {
  try {
    const key = crypto.createPublicKey(
      {key: Buffer.concat([spki, Buffer.from(c.pub_key, 'hex')]), format: 'der', type: 'spki'});
    out.node.push(crypto.verify(null, Buffer.from(c.message, 'hex'), key,
      Buffer.from(c.signature, 'hex')) ? 'V' : 'X');
  } catch (e) { out.node.push('E'); }
  try {
    out.noble.push(await noble.verify(c.signature, c.message, c.pub_key) ? 'V' : 'X');
  } catch (e) { out.noble.push('E'); }
}
console.log(JSON.stringify(out));
"""


@pytest.mark.peer
@pytest.mark.skipif(not PEER_DIR, reason="peer harness not prepared (scripts/peer)")
def test_the_peer_agrees_in_node_and_differs_in_the_browser() -> None:
    """In Node.js, @digitalbazaar/ed25519-multikey verifies with node:crypto — OpenSSL, like
    Credfolio — so the two agree on every case.  Its browser build uses @noble/ed25519, which is
    cofactored and accepts cases 4, 5, 8 and 10 that Credfolio refuses."""
    cases = (VECTORS / "cases.json").read_text(encoding="utf-8")
    run = subprocess.run(
        ["node", "--input-type=module", "-e", _PEER_SCRIPT, cases],
        cwd=Path(str(PEER_DIR)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    credfolio = ["V" if CREDFOLIO_ACCEPTS[n] else "X" for n in range(len(CASES))]
    assert results["node"] == credfolio
    assert results["noble"] == NOBLE_RESULTS
