"""Validation against the bundled 1EdTech OB 3.0 JSON Schemas: examples, failures, offline refs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import referencing.exceptions

from credentials import schema
from credentials.errors import MalformedInputError, SchemaValidationError

ASSETS = Path(__file__).parent.parent / "assets" / "ob3"
EXAMPLES = sorted((ASSETS / "examples").glob("*.json"))
SIGNED_EXAMPLES = sorted((ASSETS / "signed-examples").glob("*.signed.json"))
BUNDLED = ("achievementcredential.json", "endorsementcredential.json", "profile.json")


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def basic() -> dict[str, Any]:
    """A fresh copy of the spec's "Sample OpenBadgeCredential" for each test to damage."""
    document: dict[str, Any] = load(ASSETS / "examples" / "basicOpenBadgeCredential.json")
    return document


# --- the bundled files ----------------------------------------------------------------------


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_schema_is_the_1edtech_file_unchanged(name: str) -> None:
    bundled = (schema.SCHEMA_DIR / name).read_bytes()
    assert bundled == (ASSETS / "schemas" / "1edtech-gh-pages" / name).read_bytes()
    assert json.loads(bundled)["$schema"] == "https://json-schema.org/draft/2019-09/schema#"


# --- every official example validates -------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_official_example_validates_against_its_schema(path: Path) -> None:
    document = load(path)
    expected = "endorsementcredential" if path.stem == "endorsement" else "achievementcredential"

    assert schema.schema_for(document) == expected
    assert schema.errors_for(document) == []
    schema.validate(document)  # does not raise


@pytest.mark.parametrize("path", SIGNED_EXAMPLES, ids=[p.name for p in SIGNED_EXAMPLES])
def test_signed_example_validates_with_proof_array_but_not_with_a_single_proof_object(
    path: Path,
) -> None:
    document = load(path)
    assert isinstance(document["proof"], list)
    schema.validate(document)

    # The /schema/json/ schema types `proof` as an array; VC test vectors often use one object.
    document["proof"] = document["proof"][0]
    with pytest.raises(SchemaValidationError, match="proof: an object is not of type 'array'"):
        schema.validate(document)


# --- failures name the JSON path ------------------------------------------------------------


def test_missing_criteria_is_reported_at_its_path(basic: dict[str, Any]) -> None:
    del basic["credentialSubject"]["achievement"]["criteria"]

    with pytest.raises(SchemaValidationError) as caught:
        schema.validate(basic)

    problem = "credentialSubject.achievement.criteria: 'criteria' is a required property"
    assert caught.value.errors == [problem]
    assert problem in caught.value.message
    assert caught.value.code == "SCHEMA_VALIDATION_ERROR"


def test_wrong_second_context_is_reported_at_its_index(basic: dict[str, Any]) -> None:
    basic["@context"][1] = "https://example.com/my-badges-context.json"

    with pytest.raises(SchemaValidationError, match=r"@context\[1\]: 'https://example\.com/my-b"):
        schema.validate(basic)


def test_missing_issuer_is_reported(basic: dict[str, Any]) -> None:
    del basic["issuer"]

    with pytest.raises(SchemaValidationError) as caught:
        schema.validate(basic)

    assert caught.value.errors == ["issuer: 'issuer' is a required property"]


def test_issuer_profile_without_id_names_the_profile_branch_not_the_uri_branch(
    basic: dict[str, Any],
) -> None:
    # issuer is ProfileRef = oneOf(URI string, Profile): the useful error is the Profile one.
    del basic["issuer"]["id"]

    assert schema.errors_for(basic) == ["issuer.id: 'id' is a required property"]


def test_message_lists_the_first_three_problems_and_errors_lists_all(
    basic: dict[str, Any],
) -> None:
    del basic["issuer"]
    del basic["validFrom"]
    del basic["credentialSubject"]["achievement"]["name"]
    del basic["credentialSubject"]["achievement"]["description"]

    with pytest.raises(SchemaValidationError) as caught:
        schema.validate(basic)

    assert len(caught.value.errors) == 4
    assert "(and 1 more)" in caught.value.message
    assert sum(problem in caught.value.message for problem in caught.value.errors) == 3
    assert isinstance(caught.value, MalformedInputError)  # answered as a 400


def test_errors_inside_arrays_use_index_notation(basic: dict[str, Any]) -> None:
    basic["credentialSubject"]["achievement"]["alignment"] = [{"type": ["Alignment"]}]

    assert schema.errors_for(basic) == [
        "credentialSubject.achievement.alignment[0].targetName: "
        "'targetName' is a required property",
        "credentialSubject.achievement.alignment[0].targetUrl: 'targetUrl' is a required property",
    ]


# --- format checks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2010-01-01T00:00:00Z", True),
        ("2010-01-01t00:00:00z", True),
        ("2021-09-07T02:09:59+02:00", True),
        ("2021-09-07T02:09:59.123456789-05:30", True),
        ("2016-12-31T23:59:60Z", True),  # RFC 3339 leap second
        ("2010-01-01", False),  # a date, not a date-time
        ("2010-01-01T00:00:00", False),  # no offset: DateTimeZ requires one
        ("2010-02-30T00:00:00Z", False),  # no such day
        ("2010-01-01T24:00:00Z", False),
        ("2010-01-01 00:00:00Z", False),
        ("20100101T000000Z", False),  # ISO 8601 basic format is not RFC 3339
        ("not a date", False),
    ],
)
def test_rfc3339_date_time(value: str, valid: bool) -> None:
    assert schema.is_rfc3339_datetime(value) is valid


def test_date_time_format_is_enforced_by_the_schema(basic: dict[str, Any]) -> None:
    # jsonschema alone would skip `format: date-time` (it needs rfc3339-validator): ours runs.
    basic["validFrom"] = "2010-02-30T00:00:00Z"

    with pytest.raises(SchemaValidationError, match=r"validFrom: '2010-02-30T00:00:00Z' is not"):
        schema.validate(basic)


def test_date_format_is_enforced_by_the_profile_schema() -> None:
    profile = {"id": "https://example.com/p", "type": ["Profile"], "dateOfBirth": "1990-02-30"}

    assert schema.errors_for(profile, "profile") == ["dateOfBirth: '1990-02-30' is not a 'date'"]


# --- choosing the schema --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "kind"),
    [
        ({"type": ["VerifiableCredential", "OpenBadgeCredential"]}, "achievementcredential"),
        ({"type": ["VerifiableCredential", "AchievementCredential"]}, "achievementcredential"),
        ({"type": "OpenBadgeCredential"}, "achievementcredential"),  # compacted single value
        ({"type": ["VerifiableCredential", "EndorsementCredential"]}, "endorsementcredential"),
        ({"type": ["VerifiableCredential", "UniversityDegreeCredential"]}, None),
        ({"type": ["Profile"]}, None),  # a Profile is not a credential: ask for it explicitly
        ({}, None),
        (["not", "an", "object"], None),
    ],
)
def test_schema_for_judges_by_type(document: Any, kind: str | None) -> None:
    assert schema.schema_for(document) == kind


def test_a_document_claiming_both_credential_types_is_refused() -> None:
    document = {"type": ["VerifiableCredential", "OpenBadgeCredential", "EndorsementCredential"]}

    with pytest.raises(SchemaValidationError, match="both"):
        schema.schema_for(document)


def test_validate_without_kind_refuses_a_document_it_cannot_place() -> None:
    document = {"type": ["VerifiableCredential", "UniversityDegreeCredential"]}

    with pytest.raises(SchemaValidationError, match="cannot tell which Open Badges schema"):
        schema.validate(document)


def test_unknown_kind_is_refused(basic: dict[str, Any]) -> None:
    with pytest.raises(SchemaValidationError, match="unknown schema kind 'clr'"):
        schema.validate(basic, "clr")


def test_explicit_kind_overrides_inference(basic: dict[str, Any]) -> None:
    # An OpenBadgeCredential is not an EndorsementCredential: that schema wants `name` and type.
    problems = schema.errors_for(basic, "endorsementcredential")

    assert any(problem.startswith("type") for problem in problems)


def test_profile_kind_validates_an_issuer_profile() -> None:
    full = load(ASSETS / "examples" / "fullOpenBadge.json")
    schema.validate(full["issuer"], "profile")

    del full["issuer"]["id"]
    with pytest.raises(SchemaValidationError, match="id: 'id' is a required property"):
        schema.validate(full["issuer"], "profile")


# --- offline and compiled once --------------------------------------------------------------


def test_a_ref_outside_the_bundle_raises_instead_of_fetching() -> None:
    validator = schema._compile(
        {
            "$schema": "https://json-schema.org/draft/2019-09/schema#",
            "$ref": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/other.json",
        }
    )
    # pytest-socket would raise SocketBlockedError if a download were attempted.
    with pytest.raises(referencing.exceptions.Unresolvable):
        validator.validate({})


def test_refs_between_bundled_files_resolve_by_id() -> None:
    profile_id = schema._load("profile")["$id"]
    validator = schema._compile(
        {"$schema": "https://json-schema.org/draft/2019-09/schema#", "$ref": profile_id}
    )

    assert not validator.is_valid({"type": ["Profile"]})
    assert validator.is_valid({"id": "https://example.com/p", "type": ["Profile"]})


def test_only_draft_2019_09_schemas_are_compiled() -> None:
    with pytest.raises(SchemaValidationError, match="draft 2019-09"):
        schema._compile({"$schema": "http://json-schema.org/draft-07/schema#"})


def test_validators_are_compiled_once(basic: dict[str, Any]) -> None:
    schema.validate(basic)
    before = schema._validator.cache_info()

    for _ in range(3):
        schema.validate(copy.deepcopy(basic))

    after = schema._validator.cache_info()
    assert after.misses == before.misses
    assert after.hits == before.hits + 3
