"""What the hostile shapes of issue 14 §5 cost, with the per-request work budget and without it.

    python3 bench/work_budget.py            # table: CPU ms and work units, budget vs none
    python3 bench/work_budget.py --json
    python3 bench/work_budget.py --all      # also the 76-subject shape without a budget (minutes)

For each file of tests/assets/budget/ and a few legitimate credentials: the CPU time (this
thread) and counted work units of one verification with the default budget (what the service
does: the hostile ones are refused with WORK_BUDGET_EXCEEDED) and with an unbounded one (what
the shape costs when it is allowed to finish — the status-list memo still applies, so the
12x256 case costs less than before the change; see tests/assets/budget/README.md for the costs
measured before).  ``units/ms`` near 1,000 means the units track CPU time on this machine.
Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._venv import ensure_project_python  # noqa: E402

ensure_project_python()

from credentials.budget import BudgetLimits, WorkBudget  # noqa: E402
from credentials.errors import MalformedInputError  # noqa: E402
from credentials.jsonld import DocumentLoader  # noqa: E402
from credentials.verify import Verifier  # noqa: E402

ASSETS = ROOT / "tests" / "assets"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
UNBOUNDED = BudgetLimits(max_units=10**13, max_cpu_seconds=10**6)
CASES = [
    "budget/subjects-16x256-shared-id.json",
    "budget/subjects-76x256-shared-id.json",
    "budget/endorsements-88-cliques-in-json-literal.json",
    "budget/status-12x256-entries-one-list.json",
    "budget/subjects-4x16-shared-id.json",
    "budget/endorsements-2-triangles-in-json-literal.json",
    "tampered/not-revoked.json",
    "ob3/signed-examples/fullOpenBadge.signed.json",
]
Row = dict[str, Any]
SLOW_WITHOUT_BUDGET = {"budget/subjects-76x256-shared-id.json"}


def _load(relative: str) -> Any:
    return json.loads((ASSETS / relative).read_text(encoding="utf-8"))


def run(document: dict[str, Any], limits: BudgetLimits | None, loader: DocumentLoader) -> Row:
    budget = WorkBudget(limits) if limits else WorkBudget()
    verifier = Verifier.offline(
        loader=loader,
        now=lambda: NOW,
        status_lists={
            "https://example.edu/status/1": _load("tampered/status-list-revocation.json"),
            "https://example.edu/status/2": _load("tampered/status-list-suspension.json"),
        },
        budget=budget,
    )
    start = time.thread_time()
    try:
        outcome = "verified" if verifier.verify(document).verified else "not verified"
    except MalformedInputError as exc:
        outcome = exc.code
    return {
        "cpu_ms": round((time.thread_time() - start) * 1000, 1),
        "units": budget.used,
        "outcome": outcome,
        "spent": dict(budget.spent),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--all", action="store_true", help="also run the minutes-long case")
    args = parser.parse_args()
    loader = DocumentLoader.bundled()
    run(_load("tampered/valid.json"), None, loader)  # warm the context caches
    rows = []
    for case in CASES:
        document = _load(case)
        with_budget = run(document, None, loader)
        skip = case in SLOW_WITHOUT_BUDGET and not args.all
        without = None if skip else run(document, UNBOUNDED, loader)
        rows.append({"case": case, "budget": with_budget, "no_budget": without})
        if not args.json:
            _print_row(case, with_budget, without)
    if args.json:
        print(json.dumps({"limits": vars_of(BudgetLimits()), "cases": rows}, indent=2))


def vars_of(limits: BudgetLimits) -> dict[str, Any]:
    return {"max_units": limits.max_units, "max_cpu_seconds": limits.max_cpu_seconds}


def _print_row(case: str, with_budget: Row, without: Row | None) -> None:
    def cell(run_: Row | None) -> str:
        if run_ is None:
            return "(skipped: --all)".ljust(44)
        ratio = run_["units"] / run_["cpu_ms"] if run_["cpu_ms"] else 0
        return (
            f"{run_['cpu_ms']:>9.1f} ms {run_['units']:>12,} u {ratio:>6.0f} u/ms "
            f"{run_['outcome']:<22}"
        )

    print(f"{case:<52} budget: {cell(with_budget)}  none: {cell(without)}", flush=True)


if __name__ == "__main__":
    main()
