"""What the job runner (:mod:`portfolio.bulk.jobs`) asks of a kind of job: a handler that does
one item inside the item's transaction and says how it ended (:class:`ItemResult`), or raises
:class:`~portfolio.bulk.errors.ItemProblem`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from portfolio.bulk.models import BulkJob, BulkJobItem, ItemState


@dataclass
class ItemResult:
    """What a kind's handler did with one item (inside the item's transaction)."""

    state: ItemState
    message: str
    credential_id: int | None = None
    #: Called after the commit (mail): a failure there never undoes the item.
    after_commit: list[Callable[[], None]] = field(default_factory=list)


Handler = Callable[[BulkJob, BulkJobItem], ItemResult]
