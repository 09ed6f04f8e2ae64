"""Building unsigned OB 3.0 credentials from plain data: shapes, contexts, refusals."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from credentials import schema
from credentials.build import (
    OB_CONTEXT,
    OB_EXTENSIONS_CONTEXT,
    VC_V2_CONTEXT,
    Achievement,
    AchievementSubject,
    Alignment,
    Criteria,
    EndorsementSubject,
    Evidence,
    IdentityObject,
    Image,
    Profile,
    Result,
    ResultDescription,
    RubricCriterionLevel,
    build_achievement_credential,
    build_endorsement_credential,
    sri_digest,
    timestamp,
)
from credentials.errors import MalformedInputError

ROOT = Path(__file__).parent.parent.parent
EXAMPLES = ROOT / "tests" / "assets" / "ob3" / "examples"
SCHEMA_VALIDATOR_IRI = (
    "https://purl.imsglobal.org/spec/vccs/v1p0/context.json#1EdTechJsonSchemaValidator2019"
)
VALID_FROM = datetime(2024, 9, 1, 12, 0, tzinfo=UTC)

ISSUER = Profile(id="https://school.example/issuers/1", name="Example School")
TEAMWORK = Achievement(
    id="https://school.example/achievements/teamwork",
    name="Teamwork",
    description="Collaborates within a group.",
    criteria=Criteria(narrative="Nominated by peers."),
)
STUDENT = "did:example:ebfeb1f712ebc6f1c276e12ec21"


def minimal(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "id": "urn:uuid:2d3c5b3e-5f7a-4c1e-9a53-0b0c8f6f3d11",
        "issuer": ISSUER,
        "subject": AchievementSubject(id=STUDENT, achievement=TEAMWORK),
        "valid_from": VALID_FROM,
    }
    arguments.update(overrides)
    return build_achievement_credential(**arguments)


def full_credential() -> dict[str, Any]:
    """A credential that uses every field the builder knows."""
    project = "https://school.example/catalog/degree/project"
    mastered = RubricCriterionLevel(
        id="urn:uuid:d05a0867-d0ad-4b03-bdb5-28fb5d2aab7a",
        name="Mastery",
        description="The author demonstrated...",
        level="Mastered",
        points="4",
        alignment=[
            Alignment(
                target_name="Final Project",
                target_url=f"{project}/rubric/levels/mastered",
                target_type="CFRubricCriterionLevel",
            )
        ],
    )
    basic = RubricCriterionLevel(
        id="urn:uuid:6b84b429-31ee-4dac-9d20-e5c55881f80e", name="Basic", points="2"
    )
    rubric = ResultDescription(
        id="urn:uuid:a70ddc6a-4c4a-4bd8-8277-cb97c79f40c5",
        name="Final Project Rubric",
        result_type="RubricCriterionLevel",
        rubric_criterion_level=[mastered, basic],
        required_level=basic.id,
    )
    grade = ResultDescription(
        id="urn:uuid:f6ab24cd-86e8-4eaf-b8c6-ded74e8fd41c",
        name="Final Project Grade",
        result_type="LetterGrade",
        allowed_value=["D", "C", "B", "A"],
        required_value="C",
        value_min="D",
        value_max="A",
        alignment=[Alignment(target_name="Final Project", target_url=project)],
    )
    achievement = Achievement(
        id="https://school.example/achievements/degree",
        name="Degree",
        description="A degree.",
        criteria=Criteria(id="https://school.example/achievements/degree", narrative="# Req"),
        achievement_type="Degree",
        image=Image(id="https://school.example/degree.png", caption="Degree"),
        alignment=[
            Alignment(
                target_name="University Degree",
                target_url="https://school.example/catalog/degree",
                target_code="degree",
                target_description="Degree programs.",
                target_framework="Program Catalog",
                target_type="CFItem",
            )
        ],
        result_description=[grade, rubric],
        tag=["research", "computer science"],
        creator=Profile(
            id="https://school.example/issuers/2",
            name="Faculty of Science",
            url="https://science.school.example",
            email="registrar@school.example",
            phone="1-222-333-4444",
            description="The faculty.",
            image=Image(id="data:image/png;base64,iVBORw0KGgo=", caption="Logo"),
        ),
        credits_available=36.0,
        field_of_study="Research",
        human_code="R1",
        specialization="Computer Science Research",
        version="1.0",
        in_language="en-GB",
    )
    subject = AchievementSubject(
        id=STUDENT,
        identifier=[IdentityObject.hashed_email("student@school.example", "pepper-8f3a")],
        achievement=achievement,
        result=[
            Result(result_description=grade.id, value="A"),
            Result(result_description=rubric.id, achieved_level=mastered.id),
            Result(result_description=grade.id, status="Completed"),
        ],
        activity_start_date="2023-09-01T09:00:00+02:00",
        activity_end_date=datetime(2024, 6, 30, tzinfo=UTC),
        credits_earned=42.0,
        narrative="There is a final project report.",
        license_number="A-9320041",
        role="Student",
        term="Fall",
        image=Image(id="https://school.example/credentials/3732/image"),
        source=Profile(id="https://school.example/issuers/3", name="College of Arts"),
    )
    report = b"%PDF-1.7 final report"
    return build_achievement_credential(
        id="https://school.example/credentials/3732",
        issuer=Profile(
            id="https://school.example/issuers/1",
            name="Example School",
            url="https://school.example",
            email="registrar@school.example",
            description="A school.",
            image=Image(id="https://school.example/logo.png", caption="Logo"),
        ),
        subject=subject,
        valid_from=VALID_FROM,
        valid_until=VALID_FROM + timedelta(days=3650),
        name="Degree for Example Student",
        description="Degree description.",
        image=Image(id="https://school.example/credentials/3732/image", caption="Badge"),
        evidence=[
            Evidence(
                id="https://school.example/credentials/3732/evidence/1",
                name="Final Project Report",
                narrative="# Report",
                description="The final project report.",
                genre="Research",
                audience="Department",
                digest_sri=sri_digest(report),
                digest_multibase="u"
                + base64.urlsafe_b64encode(b"\x12\x20" + bytes(32)).decode().rstrip("="),
            ),
            Evidence(id="https://github.com/somebody/project", name="Code"),
        ],
        credential_status=[
            {
                "id": "https://school.example/status/1#94567",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": "94567",
                "statusListCredential": "https://school.example/status/1",
            }
        ],
        awarded_date=VALID_FROM - timedelta(days=1),
        endorsement=[endorsement()],
    )


def endorsement(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "id": "urn:uuid:0a4d9a3f-3d1b-4a4e-8d2e-7f1c6d5b9e21",
        "issuer": Profile(id="https://accrediter.example/issuers/1", name="Accrediting Agency"),
        "subject": EndorsementSubject(
            id="https://school.example/issuers/1", endorsement_comment="In good standing"
        ),
        "name": "Accreditation",
        "valid_from": "2010-01-01T00:00:00Z",
    }
    arguments.update(overrides)
    return build_endorsement_credential(**arguments)


# --- shapes ---------------------------------------------------------------------------------


def test_minimal_credential() -> None:
    document = minimal()

    schema.validate(document)
    assert document["@context"] == [VC_V2_CONTEXT, OB_CONTEXT, OB_EXTENSIONS_CONTEXT]
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["validFrom"] == "2024-09-01T12:00:00Z"
    assert document["credentialSchema"] == [
        {
            "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
            "ob_v3p0_achievementcredential_schema.json",
            "type": "1EdTechJsonSchemaValidator2019",
        }
    ]
    assert document["credentialSubject"] == {
        "id": STUDENT,
        "type": ["AchievementSubject"],
        "achievement": {
            "id": "https://school.example/achievements/teamwork",
            "type": ["Achievement"],
            "name": "Teamwork",
            "description": "Collaborates within a group.",
            "criteria": {"narrative": "Nominated by peers."},
        },
    }
    # §Serialization: no nulls, no empty arrays.
    assert "null" not in json.dumps(document)
    assert "[]" not in json.dumps(document)


def test_without_credential_schema_the_extensions_context_is_not_needed() -> None:
    document = minimal(credential_schema=False)

    assert document["@context"] == [VC_V2_CONTEXT, OB_CONTEXT]
    assert "credentialSchema" not in document


def test_full_credential_uses_every_field_and_validates() -> None:
    document = full_credential()

    schema.validate(document)
    subject = document["credentialSubject"]
    achievement = subject["achievement"]
    assert document["validUntil"] == "2034-08-30T12:00:00Z"
    assert document["awardedDate"] == "2024-08-31T12:00:00Z"
    # A BitstringStatusListEntry is defined by credentials/v2; one entry is a single object.
    assert document["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert document["endorsement"][0]["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert subject["activityStartDate"] == "2023-09-01T07:00:00Z"
    assert subject["identifier"][0]["type"] == "IdentityObject"
    assert subject["identifier"][0]["hashed"] is True
    assert subject["result"][1] == {
        "type": ["Result"],
        "resultDescription": "urn:uuid:a70ddc6a-4c4a-4bd8-8277-cb97c79f40c5",
        "achievedLevel": "urn:uuid:d05a0867-d0ad-4b03-bdb5-28fb5d2aab7a",
    }
    levels = achievement["resultDescription"][1]["rubricCriterionLevel"]
    assert levels[0]["alignment"][0]["targetType"] == "CFRubricCriterionLevel"
    assert achievement["resultDescription"][0]["allowedValue"] == ["D", "C", "B", "A"]
    assert achievement["creator"]["image"] == {
        "id": "data:image/png;base64,iVBORw0KGgo=",
        "type": "Image",
        "caption": "Logo",
    }
    assert achievement["inLanguage"] == "en-GB"
    assert document["evidence"][0]["digestSRI"].startswith("sha384-")
    assert document["evidence"][0]["digestMultibase"].startswith("u")
    assert document["evidence"][1] == {
        "id": "https://github.com/somebody/project",
        "type": ["Evidence"],
        "name": "Code",
    }


def test_rebuilding_the_official_basic_example_reproduces_it() -> None:
    example = json.loads((EXAMPLES / "basicOpenBadgeCredential.json").read_text("utf-8"))
    achievement = example["credentialSubject"]["achievement"]

    document = build_achievement_credential(
        id=example["id"],
        issuer=Profile(id=example["issuer"]["id"], name=example["issuer"]["name"]),
        subject=AchievementSubject(
            id=example["credentialSubject"]["id"],
            achievement=Achievement(
                id=achievement["id"],
                name=achievement["name"],
                description=achievement["description"],
                criteria=Criteria(narrative=achievement["criteria"]["narrative"]),
            ),
        ),
        valid_from=example["validFrom"],
        name=example["name"],
        credential_schema=False,  # the example names no credentialSchema
    )

    assert document == example


def test_endorsement_credential() -> None:
    document = endorsement(valid_until="2020-01-01T00:00:00Z", description="Checked in 2009.")

    schema.validate(document, "endorsementcredential")
    assert document["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert document["@context"] == [VC_V2_CONTEXT, OB_CONTEXT, OB_EXTENSIONS_CONTEXT]
    assert document["credentialSubject"] == {
        "id": "https://school.example/issuers/1",
        "type": ["EndorsementSubject"],
        "endorsementComment": "In good standing",
    }
    assert document["credentialSchema"][0]["id"].endswith(
        "ob_v3p0_endorsementcredential_schema.json"
    )


def test_an_embedded_endorsement_using_1edtech_types_brings_the_extensions_context() -> None:
    document = minimal(credential_schema=False, endorsement=[endorsement()])

    assert document["@context"][-1] == OB_EXTENSIONS_CONTEXT


def test_a_1edtech_revocation_list_status_brings_the_extensions_context() -> None:
    status = {"id": "https://school.example/revocations", "type": "1EdTechRevocationList"}

    document = minimal(credential_schema=False, credential_status=status)

    assert document["@context"] == [VC_V2_CONTEXT, OB_CONTEXT, OB_EXTENSIONS_CONTEXT]
    assert document["credentialStatus"] == status


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 1, 1, 12, 0, 0, 999999, tzinfo=UTC), "2024-01-01T12:00:00Z"),
        (datetime(2024, 1, 1, 1, 30, tzinfo=timezone(timedelta(hours=2))), "2023-12-31T23:30:00Z"),
        ("2024-01-01T12:00:00.5-05:00", "2024-01-01T17:00:00Z"),
        ("2010-01-01T00:00:00Z", "2010-01-01T00:00:00Z"),
        (datetime(5, 1, 1, tzinfo=UTC), "0005-01-01T00:00:00Z"),
    ],
)
def test_timestamps_are_utc_with_z_and_no_fraction(value: datetime | str, expected: str) -> None:
    assert timestamp(value) == expected


def test_builders_do_not_share_state_with_their_inputs() -> None:
    status = {
        "id": "https://school.example/status/1#1",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "1",
        "statusListCredential": "https://school.example/status/1",
    }
    document = minimal(credential_status=status)

    document["credentialStatus"]["statusListIndex"] = "2"
    assert status["statusListIndex"] == "1"


# --- IdentityObject -------------------------------------------------------------------------


def test_hashed_email_is_sha256_of_email_then_salt() -> None:
    identity = IdentityObject.hashed_email("student@school.example", "pepper")

    expected = hashlib.sha256(b"student@school.examplepepper").hexdigest()
    assert identity.to_json() == {
        "type": "IdentityObject",
        "identityHash": f"sha256${expected}",
        "identityType": "emailAddress",
        "hashed": True,
        "salt": "pepper",
    }


def test_hashed_email_reproduces_the_spec_example() -> None:
    # OB 3.0 IdentityHash: "a@example.com" salted with "Kosher".
    identity = IdentityObject.hashed_email("a@example.com", "Kosher")

    assert identity.identity_hash == (
        "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
    )


def test_hashed_email_does_not_normalize_case() -> None:
    upper = IdentityObject.hashed_email("A@example.com", "Kosher")
    lower = IdentityObject.hashed_email("a@example.com", "Kosher")

    assert upper.identity_hash != lower.identity_hash


def test_hashed_email_requires_a_salt() -> None:
    with pytest.raises(MalformedInputError, match="salt is required"):
        IdentityObject.hashed_email("a@example.com", "")


# --- refusals name the field ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: minimal(id="credentials/3527"), "id must be an absolute URI"),
        (lambda: minimal(id="example.com/credentials/1"), "id must be an absolute URI"),
        (lambda: minimal(valid_from=datetime(2024, 1, 1)), "valid_from must be timezone-aware"),
        (lambda: minimal(valid_from="2024-01-01T00:00:00"), "valid_from must be an RFC 3339"),
        (
            lambda: minimal(valid_until=VALID_FROM - timedelta(seconds=1)),
            "valid_until must be after valid_from",
        ),
        (lambda: minimal(valid_until=VALID_FROM), "valid_until must be after valid_from"),
        (
            lambda: dataclasses.replace(TEAMWORK, criteria=None),
            "Achievement.criteria is required",
        ),
        (lambda: dataclasses.replace(TEAMWORK, description=""), "Achievement.description is"),
        (lambda: dataclasses.replace(TEAMWORK, id="teamwork"), "Achievement.id must be an abs"),
        (lambda: Criteria(), "Criteria.id or Criteria.narrative is required"),
        (lambda: Profile(id="/issuers/1"), "Profile.id must be an absolute URI"),
        (lambda: Profile(id="did:web:x", url="javascript:alert(1)"), "Profile.url must use one"),
        (lambda: Image(id="file:///etc/passwd"), "Image.id must use one of the schemes"),
        (
            lambda: Alignment(target_name="Skill", target_url="skills/1"),
            "Alignment.target_url must be an absolute URI",
        ),
        (  # not an RFC 3987 IRI: JSON-LD to RDF would drop the statement (jsonld.py)
            lambda: Alignment(target_name="Skill", target_url="https://x.example/100%"),
            "Alignment.target_url must be an absolute URI",
        ),
        (
            lambda: Alignment(target_name="", target_url="https://x.example"),
            "Alignment.target_name is required",
        ),
        (
            lambda: AchievementSubject(achievement=TEAMWORK),
            "AchievementSubject.id or AchievementSubject.identifier is required",
        ),
        (
            lambda: AchievementSubject(
                id=STUDENT, achievement=TEAMWORK, activity_start_date=datetime(2024, 1, 1)
            ),
            "AchievementSubject.activity_start_date must be timezone-aware",
        ),
        (
            lambda: AchievementSubject(
                id=STUDENT,
                achievement=TEAMWORK,
                result=[Result(result_description="urn:uuid:0000", value="A")],
            ),
            r"AchievementSubject.result\[0\].result_description 'urn:uuid:0000' is not the id",
        ),
        (
            lambda: ResultDescription(
                id="urn:uuid:1",
                name="Rubric",
                result_type="RubricCriterionLevel",
                required_level="urn:uuid:2",
            ),
            "ResultDescription.required_level 'urn:uuid:2' is not the id",
        ),
        (lambda: Result(status="Passed"), "Result.status must be one of"),
        (
            lambda: IdentityObject(
                identity_hash="a@b.c", identity_type="emailAddress", hashed=True
            ),
            "IdentityObject.identity_hash must be 'sha256",
        ),
        (lambda: Evidence(digest_sri=sri_digest(b"x")), "Evidence.id is required with a digest"),
        (
            lambda: Evidence(id="https://x.example/e", digest_sri="md5-abc"),
            "Evidence.digest_sri must be an SRI string",
        ),
        (
            lambda: minimal(credential_status={"id": "https://x.example/s", "type": "Mystery"}),
            "credential_status.type must be one of",
        ),
        (
            lambda: minimal(
                credential_status={
                    "id": "https://x.example/s#1",
                    "type": "BitstringStatusListEntry",
                    "statusPurpose": "revocation",
                    "statusListIndex": 1,
                    "statusListCredential": "https://x.example/s",
                }
            ),
            "credential_status.statusListIndex must be a base-10 string",
        ),
        (
            lambda: minimal(
                credential_status={
                    "id": "https://x.example/s",
                    "type": "1EdTechRevocationList",
                    "revoked": False,
                }
            ),
            r"credential_status has \['revoked'\], which the contexts do not define",
        ),
        (
            lambda: minimal(
                credential_status=[
                    {"id": "https://x.example/r", "type": "1EdTechRevocationList"},
                    {"id": "https://x.example/s", "type": "Mystery"},
                ]
            ),
            r"credential_status\[1\]\.type must be one of",
        ),
        (lambda: minimal(endorsement=[{"type": ["VerifiableCredential"]}]), r"endorsement\[0\]"),
        (lambda: endorsement(name=""), "name is required"),
        (lambda: EndorsementSubject(id="school"), "EndorsementSubject.id must be an absolute URI"),
    ],
)
def test_bad_input_is_refused_naming_the_field(build: Any, field: str) -> None:
    with pytest.raises(MalformedInputError, match=field):
        build()


def test_a_result_level_must_belong_to_its_result_description() -> None:
    level = RubricCriterionLevel(id="urn:uuid:level-1", name="Mastery")
    rubric = ResultDescription(
        id="urn:uuid:rubric",
        name="Rubric",
        result_type="RubricCriterionLevel",
        rubric_criterion_level=[level],
    )
    grade = ResultDescription(id="urn:uuid:grade", name="Grade", result_type="LetterGrade")
    achievement = dataclasses.replace(TEAMWORK, result_description=[rubric, grade])

    AchievementSubject(
        id=STUDENT,
        achievement=achievement,
        result=[Result(result_description=rubric.id, achieved_level=level.id)],
    )
    with pytest.raises(MalformedInputError, match=r"result\[0\].achieved_level"):
        AchievementSubject(
            id=STUDENT,
            achievement=achievement,
            result=[Result(result_description=grade.id, achieved_level=level.id)],
        )


def test_nodes_are_immutable_and_lists_become_tuples() -> None:
    alignment = Alignment(target_name="Skill", target_url="https://x.example/skill")
    achievement = dataclasses.replace(TEAMWORK, alignment=[alignment], tag=["a"])

    assert achievement.alignment == (alignment,)
    with pytest.raises(dataclasses.FrozenInstanceError):
        achievement.name = "Other"  # type: ignore[misc]
    hash(achievement)  # usable as a dict key


# --- nothing the builder emits is dropped by JSON-LD processing ----------------------------


def _offline_loader() -> Any:
    index = json.loads((ROOT / "contexts" / "index.json").read_text("utf-8"))
    files = {entry["url"]: ROOT / "contexts" / entry["file"] for entry in index["contexts"]}

    def load(url: str, options: Any = None) -> dict[str, Any]:
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": json.loads(files[url].read_text("utf-8")),
        }

    return load


def _expanded_terms(document: dict[str, Any]) -> set[str]:
    """Every property and type IRI in the expanded document."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                found.add(key)
                if key == "@type":
                    found.update(value if isinstance(value, list) else [value])
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(jsonld.expand(document, {"documentLoader": _offline_loader()}))
    return found


def test_digest_status_and_schema_terms_survive_json_ld_expansion() -> None:
    terms = _expanded_terms(full_credential())

    # digestSRI/digestMultibase: top-level terms of credentials/v2, in scope on Evidence.
    assert "https://www.w3.org/2018/credentials#digestSRI" in terms
    assert "https://w3id.org/security#digestMultibase" in terms
    assert "https://www.w3.org/ns/credentials/status#statusListIndex" in terms
    assert "https://purl.imsglobal.org/spec/vc/ob/vocab.html#identityHash" in terms
    assert (
        "https://purl.imsglobal.org/spec/vccs/v1p0/context.json#1EdTechJsonSchemaValidator2019"
        in (terms)
    )


def test_without_the_extensions_context_the_schema_type_would_be_lost() -> None:
    document = minimal()
    document["@context"].remove(OB_EXTENSIONS_CONTEXT)

    terms = _expanded_terms(document)

    # The bare name is then only a relative IRI (resolved against whatever base the processor
    # uses), not the 1EdTech IRI: the signature would not say which validator was meant.
    assert SCHEMA_VALIDATOR_IRI not in terms


def test_revocation_and_suspension_entries_are_emitted_as_a_list() -> None:
    entries = [
        {
            "id": f"https://x.example/status/{n}#7",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": "7",
            "statusListCredential": f"https://x.example/status/{n}",
        }
        for n, purpose in ((1, "revocation"), (2, "suspension"))
    ]
    document = minimal(credential_status=entries)
    assert document["credentialStatus"] == entries
    # Each entry matches the 1EdTech CredentialStatus definition; the strict schema (one object)
    # does not accept the list itself, which is why one entry is emitted as an object.
    assert schema.errors_for(document, allow_compacted=True) == []
    assert schema.errors_for(document)


def test_a_single_status_entry_is_emitted_as_an_object() -> None:
    entry = {
        "id": "https://x.example/status/1#7",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": "https://x.example/status/1",
    }
    assert minimal(credential_status=[entry])["credentialStatus"] == entry
