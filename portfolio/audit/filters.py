"""Which audit events to show or export: :class:`AuditFilter` (one action, an actor, a date
range) and :class:`AuditFilterError`, a filter that cannot be used.  Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from portfolio.core import audit
from portfolio.core.errors import InvalidInputError
from portfolio.core.i18n import LazyText
from portfolio.core.i18n import lazy_gettext as _l

#: The longest actor text searched for (a longer one is cut).
MAX_ACTOR_LENGTH = 200
#: The query-string names of the filters.
FILTER_NAMES = ("action", "actor", "since", "until")


class AuditFilterError(InvalidInputError):
    """A filter that cannot be used: ``field`` names it; the message is safe to show."""

    code = "BAD_AUDIT_FILTER"

    def __init__(self, field: str, message: str | LazyText) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class AuditFilter:
    """Which events: one ``action``, an ``actor`` (part of a name, address or label), and a
    date range, ``since`` and ``until`` both inclusive (UTC days)."""

    action: str | None = None
    actor: str | None = None
    since: date | None = None
    until: date | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str | None]) -> AuditFilter:
        """Read the filters (a query string's values).  Raises :class:`AuditFilterError` for
        the first that cannot be used: the action, then the start, the end, the range."""
        action = (args.get("action") or "").strip() or None
        if action is not None and action not in audit.ACTIONS:
            raise AuditFilterError("action", _l("Choose an action from the list."))
        actor = (args.get("actor") or "").strip()[:MAX_ACTOR_LENGTH] or None
        since = parse_day(args.get("since"), "since")
        until = parse_day(args.get("until"), "until")
        if since and until and since > until:
            raise AuditFilterError("until", _l("The end date is before the start date."))
        return cls(action=action, actor=actor, since=since, until=until)

    def to_args(self) -> dict[str, str]:
        """The query string of these filters (for links and for the export's record)."""
        values = {
            "action": self.action,
            "actor": self.actor,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {key: value for key, value in values.items() if value}


def parse_day(value: str | None, field: str) -> date | None:
    """A ``YYYY-MM-DD`` day, or None when blank.  Raises :class:`AuditFilterError`."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AuditFilterError(
            field, _l("Write the date as YYYY-MM-DD, e.g. 2025-01-31.")
        ) from None
