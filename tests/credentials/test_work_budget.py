"""One work budget per request (issue 14 §5): expansion, node merging, canonicalizations, proofs,
status lists and embedded endorsements all draw on it, and a request that would need more is
refused as a whole with ``WORK_BUDGET_EXCEEDED``; each status list is verified once per request.

The hostile shapes are in tests/assets/budget/ (README.md there says what each cost before).
Refusals are decided by counted work units, so these tests assert outcomes, never times."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from credentials.budget import BudgetLimits, WorkBudget, WorkBudgetExceeded
from credentials.expansion_cost import conversion_cost
from credentials.jsonld import DocumentLoader, canonicalize
from credentials.presentation import verify_presentation
from credentials.verify import PASSED, StatusListMap, Verifier
from tests.conftest import ASSETS, load_json

NOW = datetime(2025, 6, 1, tzinfo=UTC)
LIST_URL = "https://example.edu/status/1"
STATUS_LISTS = {
    LIST_URL: load_json("tampered/status-list-revocation.json"),
    "https://example.edu/status/2": load_json("tampered/status-list-suspension.json"),
}
HOSTILE = [
    "subjects-16x256-shared-id.json",
    "subjects-76x256-shared-id.json",
    "endorsements-88-cliques-in-json-literal.json",
    "status-12x256-entries-one-list.json",
]
#: Plenty for anything, to see what a hostile shape does when it is allowed to finish.
UNBOUNDED = BudgetLimits(max_units=10**12, max_cpu_seconds=3600)


def _is_credential(path: Path) -> bool:
    document = json.loads(path.read_text(encoding="utf-8"))
    return isinstance(document, dict) and "credentialSubject" in document


LEGITIMATE = sorted(
    path
    for path in [
        *(ASSETS / "ob3" / "signed-examples").glob("*.signed.json"),
        *(ASSETS / "tampered").glob("*.json"),
        *(ASSETS / "vectors").rglob("*.json"),
        ASSETS / "budget" / "subjects-4x16-shared-id.json",
        ASSETS / "budget" / "endorsements-2-triangles-in-json-literal.json",
    ]
    if _is_credential(path)
)


def budget_fixture(name: str) -> dict[str, Any]:
    return load_json(f"budget/{name}")


def verifier(**kwargs: Any) -> Verifier:
    return Verifier.offline(now=lambda: NOW, status_lists=STATUS_LISTS, **kwargs)


class CountingStatusLists(StatusListMap):
    """The offline status-list resolver, counting how often each list is asked for."""

    def __init__(self, lists: dict[str, Any]) -> None:
        super().__init__(lists)
        self.asked: dict[str, int] = {}

    def __call__(self, url: str) -> Any:
        self.asked[url] = self.asked.get(url, 0) + 1
        return super().__call__(url)


# -- hostile requests are refused as a whole --------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE)
def test_each_hostile_shape_is_refused_with_the_work_budget_code(name):
    with pytest.raises(WorkBudgetExceeded) as refused:
        verifier().verify(budget_fixture(name))
    assert refused.value.code == "WORK_BUDGET_EXCEEDED"
    assert "more work than one request may use" in refused.value.message or (
        "of CPU time" in refused.value.message
    )


@pytest.mark.parametrize("name", HOSTILE[:2])
def test_node_merging_is_refused_before_it_is_done(name):
    budget = WorkBudget()
    with pytest.raises(WorkBudgetExceeded, match="JSON-LD node merging"):
        verifier(budget=budget).verify(budget_fixture(name))
    # Charged from the expanded document, before pyld builds its node map: nothing after
    # expansion (quads, canonicalization) was reached.
    assert set(budget.spent) == {"credential checks", "JSON-LD expansion", "JSON-LD node merging"}


def test_merging_costs_every_comparison_of_the_values_of_nodes_sharing_an_id():
    document = budget_fixture("subjects-16x256-shared-id.json")
    subjects = document["credentialSubject"]
    merged = sum(len(subject["score"]) for subject in subjects)  # one node, one property
    expanded = _expanded(document)
    cost = conversion_cost(expanded)
    assert cost.comparisons >= merged * (merged - 1) // 2
    # Values of nodes that do not share an id are not compared with each other.
    for subject in subjects:
        subject["id"] = f"did:example:{id(subject)}"
    assert conversion_cost(_expanded(document)).comparisons < merged * merged // len(subjects)


def _expanded(document: dict[str, Any]) -> Any:
    from pyld import jsonld

    loader = DocumentLoader.bundled()
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    return jsonld.expand(unsecured, {"documentLoader": loader})


def test_an_endorsement_that_spends_the_budget_ends_the_request_not_only_itself():
    with pytest.raises(WorkBudgetExceeded) as refused:
        verifier().verify(budget_fixture("endorsements-88-cliques-in-json-literal.json"))
    assert "endorsement" not in refused.value.message  # not "endorsement 12 is malformed"
    checks = {check.name for check in refused.value.result.checks}
    assert "endorsements" not in checks


def test_each_endorsement_alone_is_still_judged_on_its_merits():
    # The same clique in one credential is refused by the canonicalization limit, by name.
    document = budget_fixture("endorsements-88-cliques-in-json-literal.json")
    result = verifier().verify({**document, "endorsement": document["endorsement"][:1]})
    assert "canonicalization refused" in result.check("endorsements").detail


# -- status lists: verified once per request --------------------------------------------------


def test_a_status_list_named_by_every_entry_is_fetched_and_verified_once():
    document = budget_fixture("status-12x256-entries-one-list.json")
    credentials = 1 + len(document["endorsement"])
    entries = len(document["credentialStatus"]) + sum(
        len(e["credentialStatus"]) for e in document["endorsement"]
    )
    lists = CountingStatusLists(STATUS_LISTS)
    budget = WorkBudget(UNBOUNDED)
    result = Verifier(
        loader=DocumentLoader.bundled(),
        resolve_key=verifier().resolve_key,
        resolve_status_list=lists,
        now=lambda: NOW,
        budget=budget,
    ).verify(document)
    assert entries == 12 * 256
    assert lists.asked == {LIST_URL: 1}
    # One signature per credential and one for the list: the list's proof was checked once.
    assert budget.spent["signature verification"] == (credentials + 1) * 100
    assert result.check("revocation").status == PASSED


def test_without_a_request_budget_each_verification_asks_again():
    # A verifier not made for one request (the CLI's, tests') gives each verify its own budget:
    # a list revoked between two verifications is read afresh.
    lists = CountingStatusLists(STATUS_LISTS)
    plain = Verifier(
        loader=DocumentLoader.bundled(),
        resolve_key=verifier().resolve_key,
        resolve_status_list=lists,
        now=lambda: NOW,
    )
    credential = load_json("tampered/not-revoked.json")
    assert plain.verify(credential).verified
    assert plain.verify(credential).verified
    assert lists.asked[LIST_URL] == 2


def test_a_status_list_is_verified_once_for_all_the_credentials_of_a_presentation():
    lists = CountingStatusLists(STATUS_LISTS)
    request_verifier = Verifier(
        loader=DocumentLoader.bundled(),
        resolve_key=verifier().resolve_key,
        resolve_status_list=lists,
        now=lambda: NOW,
        budget=WorkBudget(),
    )
    credential = load_json("tampered/not-revoked.json")
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [credential, credential, credential],
    }
    result = verify_presentation(presentation, verifier=request_verifier)
    assert [r["verified"] for r in result.credential_results] == [True, True, True]
    assert lists.asked == {LIST_URL: 1, "https://example.edu/status/2": 1}


def test_a_status_list_2021_is_verified_once_for_all_the_credentials_of_a_presentation():
    url = "https://example.edu/status-2021/1"
    lists = CountingStatusLists({url: load_json("legacy/status-list-2021-revocation.json")})
    request_verifier = Verifier(
        loader=DocumentLoader.bundled(),
        resolve_key=verifier().resolve_key,
        resolve_status_list=lists,
        now=lambda: NOW,
        budget=WorkBudget(),
    )
    credential = load_json("legacy/vc11-status-list-2021-not-revoked.json")
    presentation = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [credential, credential, credential],
    }
    result = verify_presentation(presentation, verifier=request_verifier)
    revocations = [
        next(c for c in r["checks"] if c["name"] == "revocation")["status"]
        for r in result.credential_results
    ]
    assert revocations == [PASSED, PASSED, PASSED]
    assert lists.asked == {url: 1}


# -- one budget across the request ------------------------------------------------------------


def test_the_credentials_of_a_presentation_share_one_budget():
    credential = budget_fixture("subjects-4x16-shared-id.json")
    one = WorkBudget(UNBOUNDED)
    verifier(budget=one).verify(credential)
    limits = BudgetLimits(max_units=one.used * 2 + one.used // 2, max_cpu_seconds=3600)
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [credential, credential],
    }
    two = verify_presentation(presentation, verifier=verifier(budget=WorkBudget(limits)))
    assert len(two.credential_results) == 2
    presentation["verifiableCredential"] = [credential, credential, credential]
    with pytest.raises(WorkBudgetExceeded):
        verify_presentation(presentation, verifier=verifier(budget=WorkBudget(limits)))


def test_a_canonicalization_without_a_request_budget_still_has_one():
    # Signing and the library's own callers get a fresh default budget per canonicalization.
    document = budget_fixture("subjects-16x256-shared-id.json")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    with pytest.raises(WorkBudgetExceeded):
        canonicalize(unsecured, loader=DocumentLoader.bundled())


# -- legitimate credentials are untouched -----------------------------------------------------


@pytest.mark.parametrize("path", LEGITIMATE, ids=lambda p: str(p.relative_to(ASSETS)))
def test_legitimate_credentials_use_a_small_part_of_the_budget(path: Path):
    document = json.loads(path.read_text(encoding="utf-8"))
    budget = WorkBudget()
    try:
        verifier(budget=budget).verify(document)
    except WorkBudgetExceeded:  # pragma: no cover - the failure this test exists for
        pytest.fail(f"{path.name} was refused by the work budget")
    except Exception:  # noqa: S110 - other refusals (foreign contexts...) are not this test's
        pass
    assert budget.used < budget.limits.max_units // 10


# -- the budget itself ------------------------------------------------------------------------


def test_charging_past_the_units_names_the_activity():
    budget = WorkBudget(BudgetLimits(max_units=100, max_cpu_seconds=3600))
    budget.charge(60, "first step")
    budget.charge(40, "second step")  # exactly the limit is allowed
    with pytest.raises(WorkBudgetExceeded, match="third step took the total past 100"):
        budget.charge(1, "third step")
    assert budget.spent == {"first step": 60, "second step": 40, "third step": 1}


def test_the_cpu_clock_ends_work_that_is_not_counted():
    moments = iter([0.0, 0.5, 2.5])
    budget = WorkBudget(BudgetLimits(max_cpu_seconds=2.0), clock=lambda: next(moments))
    budget.check_clock("a step")  # 0.5 s used
    with pytest.raises(WorkBudgetExceeded, match=r"more than 2 s of CPU time.*the schema"):
        budget.check_clock("the schema")


def test_a_long_expansion_reads_the_clock_before_it_is_charged():
    # pyld's expansion is charged once done; meanwhile it reads the request's CPU clock, so a
    # request whose time is already spent stops inside it, before anything is charged.
    moments = iter([0.0, *[100.0] * 100])
    budget = WorkBudget(clock=lambda: next(moments))
    document = budget_fixture("subjects-16x256-shared-id.json")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    with pytest.raises(WorkBudgetExceeded, match="during JSON-LD expansion"):
        canonicalize(unsecured, loader=DocumentLoader.bundled(), budget=budget)
    assert budget.spent == {}


def test_once_computes_each_key_once_per_budget():
    calls: list[str] = []
    budget = WorkBudget()

    def compute(key: str) -> str:
        calls.append(key)
        return key.upper()

    assert budget.once("a", lambda: compute("a")) == "A"
    assert budget.once("a", lambda: compute("a")) == "A"
    assert budget.once("b", lambda: compute("b")) == "B"
    assert calls == ["a", "b"]
    assert WorkBudget().once("a", lambda: compute("a")) == "A"
    assert calls == ["a", "b", "a"]


# -- the command line -------------------------------------------------------------------------


def test_the_cli_refuses_a_hostile_shape_as_malformed_input(runner):
    path = ASSETS / "budget" / "subjects-16x256-shared-id.json"
    result = runner.invoke(args=["verify", str(path)])
    assert result.exit_code == 2, result.output
    assert "MALFORMED (WORK_BUDGET_EXCEEDED)" in result.output
