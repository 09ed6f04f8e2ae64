"""The schema fast path (jsonschema-rs) never changes a verdict: jsonschema stays the reference.

``schema.errors_for`` skips jsonschema only for a view jsonschema-rs finds valid; these tests
compare the fast verdict with jsonschema's on every Open Badges asset in the repository (the
examples, the signed examples, the tampered and hostile credentials), on damaged copies of them
and on generated variants.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials import schema

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def _open_badges_assets() -> list[Any]:
    params = []
    for path in sorted(ASSETS.rglob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            kind = schema.schema_for(document)
        except (ValueError, schema.SchemaValidationError):
            continue
        if kind is not None:
            params.append(pytest.param(path, kind, id=str(path.relative_to(ASSETS))))
    return params


OB_ASSETS = _open_badges_assets()
BASIC = json.loads((ASSETS / "ob3/examples/basicOpenBadgeCredential.json").read_text())
FULL = json.loads((ASSETS / "ob3/signed-examples/fullOpenBadge.signed.json").read_text())


def reference_valid(document: Any, kind: str) -> bool:
    """jsonschema's verdict alone (what errors_for returned before the fast path)."""
    return not any(True for _ in schema._validator(kind).iter_errors(document))


def assert_same_verdict(document: Any, kind: str) -> None:
    for view in schema.compacted_views(document) if isinstance(document, dict) else [document]:
        if schema.fast_verdict(view, kind):
            assert reference_valid(view, kind), "jsonschema-rs passed what jsonschema refuses"
    problems = schema.errors_for(document, kind, allow_compacted=True)
    views = schema.compacted_views(document) if isinstance(document, dict) else [document]
    assert (problems == []) == all(reference_valid(view, kind) for view in views)


def test_every_open_badges_asset_is_compared() -> None:
    names = {p.id for p in OB_ASSETS}
    assert len(OB_ASSETS) >= 30
    assert {"ob3/examples/fullOpenBadge.json", "tampered/tampered-issuer.json"} <= names
    assert any(name.startswith("hostile/") for name in names)


@pytest.mark.parametrize(("path", "kind"), OB_ASSETS)
def test_fast_and_reference_verdicts_agree_on_every_asset(path: Path, kind: str) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    assert_same_verdict(document, kind)
    # ... and on the exact shape (no compacted views), as the issuing code validates.
    assert schema.fast_verdict(document, kind) <= reference_valid(document, kind)


@pytest.mark.parametrize(("path", "kind"), [p for p in OB_ASSETS if "examples" in p.id])
def test_valid_examples_take_the_fast_path(path: Path, kind: str) -> None:
    # Otherwise the fast path would be dead code and the benchmark would measure jsonschema.
    document = json.loads(path.read_text(encoding="utf-8"))
    views = [v for v in schema.compacted_views(document) if reference_valid(v, kind)]
    assert views
    assert all(schema.fast_verdict(view, kind) for view in views)


DELETE = object()
DAMAGE = {
    "missing criteria": (("credentialSubject", "achievement", "criteria"), DELETE),
    "issuer without id": (("issuer",), {"type": ["Profile"]}),
    "number for name": (("name",), 7),
    "impossible date-time": (("validFrom",), "2010-02-30T00:00:00Z"),
    "date-time without zone": (("validFrom",), "2010-01-01T00:00:00"),
    "date-time with a newline": (("validFrom",), "2010-01-01T00:00:00Z\n"),
    "wrong second context": (("@context", 1), "https://example.com/context.json"),
    "context with a newline": (
        ("@context", 1),
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json\n",
    ),
    "bool for a list": (("type",), True),
    "NaN in the subject": (("credentialSubject", "n"), float("nan")),
    "null name": (("name",), None),
    "huge integer in the subject": (("credentialSubject", "n"), 10**40),
    "tuple for type": (("type",), ("VerifiableCredential", "OpenBadgeCredential")),
    "tuple inside the subject": (("credentialSubject", "type"), ("AchievementSubject",)),
}


def _damaged(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    damaged = copy.deepcopy(document)
    target = damaged
    for step in path[:-1]:
        target = target[step]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return damaged


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_damaged_documents_get_the_reference_verdict(name: str) -> None:
    path, value = DAMAGE[name]
    for original in (BASIC, FULL):
        assert_same_verdict(_damaged(original, path, value), "achievementcredential")


def test_values_that_are_not_plain_json_are_left_to_jsonschema() -> None:
    # jsonschema-rs reads a tuple as an array; jsonschema does not: the reference decides.
    document = _damaged(BASIC, ("type",), ("VerifiableCredential", "OpenBadgeCredential"))
    assert not schema.fast_verdict(document, "achievementcredential")
    problems = schema.errors_for(document, "achievementcredential")
    assert problems and problems[0].startswith("type:")


def test_a_problem_found_by_the_fast_path_is_described_by_jsonschema() -> None:
    document = _damaged(BASIC, ("validFrom",), "2010-02-30T00:00:00Z")
    assert not schema.fast_verdict(document, "achievementcredential")
    assert schema.errors_for(document) == ["validFrom: '2010-02-30T00:00:00Z' is not a 'date-time'"]


@pytest.mark.parametrize("kind", schema.KINDS)
def test_fast_validators_compile_offline_from_the_bundled_files(kind: str) -> None:
    # pytest-socket would refuse a download; the registry holds only the bundled schemas.
    assert schema._fast_validator(kind) is schema._fast_validator(kind)


_FUZZ_EXAMPLES = int(os.environ.get("CREDFOLIO_FUZZ_EXAMPLES") or 0)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=False)
    | st.sampled_from(
        [
            "",
            "en",
            "en-Latn-US",
            "2010-01-01T00:00:00Z",
            "2010-01-01",
            "2010-13-01",
            "https://example.com/x",
            "ext:Foo",
            "did:example:1",
            "Profile",
            "Achievement",
            "AchievementSubject",
            "OpenBadgeCredential",
        ]
    )
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "type", "name", "x"]), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


FULL_PATHS = _paths(FULL)


@settings(
    max_examples=_FUZZ_EXAMPLES or 150,
    derandomize=not _FUZZ_EXAMPLES,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(path=st.sampled_from(FULL_PATHS), value=json_values, delete=st.booleans())
def test_generated_variants_get_the_reference_verdict(
    path: tuple[Any, ...], value: Any, delete: bool
) -> None:
    damaged = _damaged(FULL, path, DELETE if delete else value)
    assert_same_verdict(damaged, "achievementcredential")
