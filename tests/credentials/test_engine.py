"""The whole engine at once: build an Open Badges 3.0 credential from plain data, sign it, bake
it into a badge image, extract it and verify it — every check passing, every document valid
against the 1EdTech schema."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from credentials import baking, schema
from credentials.build import (
    Achievement,
    AchievementSubject,
    Alignment,
    Criteria,
    EndorsementSubject,
    Evidence,
    IdentityObject,
    Profile,
    Result,
    ResultDescription,
    RubricCriterionLevel,
    build_achievement_credential,
    build_endorsement_credential,
    sri_digest,
)
from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from credentials.status import StatusList, build_status_list_credential, status_entry
from credentials.verify import FAILED, PASSED, Verifier
from issuer_keys.keys import IssuerKey
from tests.conftest import ASSETS

SCHOOL = IssuerKey.from_seed(b"\x01" * 32)
ACCREDITOR = IssuerKey.from_seed(b"\x02" * 32)
SCHOOL_DID = f"did:key:{SCHOOL.public_key_multibase}"
ACCREDITOR_DID = f"did:key:{ACCREDITOR.public_key_multibase}"
LIST_URL = "https://school.example/status/1"
NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def suite() -> Eddsa2022Suite:
    return Eddsa2022Suite(loader=DocumentLoader.bundled())


def sign(suite, document, key, did):
    return suite.create_proof(
        document, key=key, verification_method=key.verification_method_id(did)
    )


def build_song_credential(suite, *, index: int) -> dict:
    proficient = RubricCriterionLevel(
        id="https://school.example/rubrics/composition/levels/proficient",
        name="Proficient",
        description="Melody, harmony and lyrics work together.",
        level="3",
        points="3",
    )
    rubric = ResultDescription(
        id="https://school.example/rubrics/composition",
        name="Composition rubric",
        result_type="RubricCriterionLevel",
        rubric_criterion_level=[proficient],
        required_level=proficient.id,
    )
    achievement = Achievement(
        id="https://school.example/competencies/song-composition",
        name="Song composition",
        description="Composes and performs an original song.",
        criteria=Criteria(narrative="Submit a recorded original song with a reflection."),
        achievement_type="Competency",
        alignment=[
            Alignment(
                target_name="Creating: Compose",
                target_url="https://standards.example/music/MU-Cr-1",
                target_code="MU:Cr1.1",
                target_framework="National Core Arts Standards",
            )
        ],
        result_description=[rubric],
    )
    endorsement = sign(
        suite,
        build_endorsement_credential(
            id="urn:uuid:9b4d2bb5-8e8a-4b7f-9a62-7b0d1c1f0a11",
            issuer=Profile(id=ACCREDITOR_DID, name="Arts Accreditation Board"),
            subject=EndorsementSubject(id=SCHOOL_DID, endorsement_comment="Accredited"),
            name="Accreditation of the music programme",
            valid_from="2024-01-01T00:00:00Z",
            credential_schema=False,
        ),
        ACCREDITOR,
        ACCREDITOR_DID,
    )
    song = b"ID3\x04\x00 a song recording"
    unsigned = build_achievement_credential(
        id="https://school.example/credentials/song-1",
        issuer=Profile(id=SCHOOL_DID, name="Riverside School", url="https://school.example"),
        subject=AchievementSubject(
            identifier=[IdentityObject.hashed_email("ada@student.example", "s4lt")],
            achievement=achievement,
            result=[Result(result_description=rubric.id, achieved_level=proficient.id)],
        ),
        valid_from="2025-01-15T00:00:00Z",
        name="Song composition",
        evidence=[
            Evidence(
                id="https://school.example/evidence/42",
                name="“Rivers” — original song",
                narrative="Recorded in the school studio.",
                genre="Song",
                digest_sri=sri_digest(song),
            )
        ],
        credential_status=[status_entry(LIST_URL, index, "revocation")],
        endorsement=[endorsement],
        credential_schema=False,
    )
    schema.validate(unsigned)
    return sign(suite, unsigned, SCHOOL, SCHOOL_DID)


@pytest.fixture(scope="module")
def verifier(suite) -> Verifier:
    bits = StatusList.new()
    bits.set(99, True)
    status_list = sign(
        suite,
        build_status_list_credential(
            list_id=LIST_URL,
            issuer=SCHOOL_DID,
            purpose="revocation",
            status_list=bits,
            valid_from="2025-01-01T00:00:00Z",
        ),
        SCHOOL,
        SCHOOL_DID,
    )
    return Verifier.offline(now=lambda: NOW, status_lists={LIST_URL: status_list})


@pytest.mark.parametrize("image", ["badge.png", "badge.svg"])
def test_a_built_signed_and_baked_credential_verifies(suite, verifier, image):
    credential = build_song_credential(suite, index=5)
    baked, _ = baking.bake((ASSETS / "images" / image).read_bytes(), credential)
    result = verifier.verify(baking.unbake(baked))
    assert result.verified, result.errors
    statuses = {c.name: c.status for c in result.checks}
    for name in ("schema", "subject", "proof", "issuer", "revocation", "endorsements"):
        assert statuses[name] == PASSED, name


def test_revoking_its_status_bit_fails_only_the_revocation_check(suite, verifier):
    result = verifier.verify(build_song_credential(suite, index=99))
    assert not result.verified
    assert [c.name for c in result.checks if c.status == FAILED] == ["revocation"]


def test_a_tampered_embedded_endorsement_fails_the_endorsements_check(suite, verifier):
    credential = build_song_credential(suite, index=5)
    # Re-sign the outer credential after changing the endorsement, so only the endorsement's
    # own proof is wrong.
    credential.pop("proof")
    credential["endorsement"][0]["credentialSubject"]["endorsementComment"] = "Probation"
    credential = sign(suite, credential, SCHOOL, SCHOOL_DID)
    result = verifier.verify(credential)
    assert result.check("proof").status == PASSED
    assert result.check("endorsements").status == FAILED
