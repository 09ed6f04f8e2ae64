"""One work budget per request: every costly step of verifying (or signing) draws on it.

Per-step limits are not enough: a request can hold many steps that each stay under their own
limit (76 subjects merged by JSON-LD, 88 endorsements each refused by RDFC-1.0 only after its
share of work, 3,072 status entries re-verifying one list; issue 14 §5).  So the caller — the
service, once per request; the CLI, once per command; otherwise each ``Verifier.verify`` call —
makes one :class:`WorkBudget` and passes it down through JSON-LD expansion and node merging,
RDFC-1.0, proofs, status lists and embedded endorsements.  Each step *charges* its work in units
before (or while) doing it; when the units or the CPU time run out the whole request is refused
with :class:`WorkBudgetExceeded` (``WORK_BUDGET_EXCEEDED``, malformed input: HTTP 400, exit 2).

Units are counted, so the same input is refused the same way on any machine; one unit is about
one microsecond of this code's CPU time on the reference machine (``bench/work_budget.py`` prints
the ratio).  The CPU clock is a backstop for work that is not counted (the JSON Schema check).

:meth:`WorkBudget.once` lets a request pay only once for the same work (each status list is
fetched and verified at most once per request).  Pure: no Flask, no database.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import MalformedInputError

__all__ = [
    "DEFAULT_BUDGET",
    "BudgetLimits",
    "WorkBudget",
    "WorkBudgetExceeded",
    "budget_or_default",
]

T = TypeVar("T")


class WorkBudgetExceeded(MalformedInputError):
    """The request needs more work than one request may use (a hostile or absurd document)."""

    code = "WORK_BUDGET_EXCEEDED"


@dataclass(frozen=True, slots=True)
class BudgetLimits:
    """How much work one request may do.  Credentials in practice use a few percent of it: the
    full Open Badges 3.0 example with its endorsement about 26,000 units (20-30 ms)."""

    #: Counted work units (about one microsecond each, see the module docstring): the bound.
    max_units: int = 1_000_000
    #: CPU seconds of the thread doing the work, since the budget was made: a backstop for
    #: work that is not counted, with room for slower machines than the reference.
    max_cpu_seconds: float = 2.0


DEFAULT_BUDGET = BudgetLimits()


class WorkBudget:
    """The work one request may still do; :meth:`charge` draws on it, :meth:`once` memoizes.

    Not thread-safe: a request is served by one thread.
    """

    __slots__ = ("_clock", "_memo", "_started", "limits", "spent", "used")

    def __init__(
        self,
        limits: BudgetLimits = DEFAULT_BUDGET,
        *,
        clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self.limits = limits
        self.used = 0
        #: Units charged per activity, for reports and benchmarks.
        self.spent: Counter[str] = Counter()
        self._clock = clock
        self._started = clock()
        self._memo: dict[Hashable, Any] = {}

    @property
    def cpu_seconds(self) -> float:
        """CPU time of this thread since the budget was made."""
        return self._clock() - self._started

    def charge(self, units: int, activity: str) -> None:
        """Count ``units`` of work for ``activity`` (e.g. "JSON-LD node merging").

        Raises :class:`WorkBudgetExceeded` naming the activity when the units, or the CPU time,
        are used up.  Charge *before* costly work whenever its size is known in advance.
        """
        self.used += units
        self.spent[activity] += units
        if self.used > self.limits.max_units:
            raise WorkBudgetExceeded(
                f"Refused: checking this document needs more work than one request may use "
                f"({activity} took the total past {self.limits.max_units:,} work units)"
            )
        self.check_clock(activity)

    def check_clock(self, activity: str) -> None:
        """Raise :class:`WorkBudgetExceeded` when the CPU time is used up."""
        if self.cpu_seconds > self.limits.max_cpu_seconds:
            raise WorkBudgetExceeded(
                f"Refused: checking this document took more than "
                f"{self.limits.max_cpu_seconds:g} s of CPU time, the limit for one request "
                f"(reached during {activity})"
            )

    def once(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` the first time ``key`` is asked for in this request; its result after.

        An exception from ``compute`` is not remembered: ``compute`` should return outcomes
        (a failed check is a value), so that only the end of the request escapes it.
        """
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[no-any-return]


def budget_or_default(budget: WorkBudget | None) -> WorkBudget:
    """``budget``, or a fresh default one for a caller that did not pass the request's."""
    return budget if budget is not None else WorkBudget()
