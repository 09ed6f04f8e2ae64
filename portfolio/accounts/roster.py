"""Class rosters from CSV (``name,email,role`` with a header row, optionally ``,cohort``): a
verdict for every row, never an exception for a broken one.  Pure: it reads no request and no
database."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from flask_babel import gettext as _

from portfolio.accounts.models import Role
from portfolio.core.errors import InvalidInputError
from portfolio.core.i18n import lazy_gettext as _l

#: Roles a roster may give (administrators are never created from a file).
ROSTER_ROLES = (Role.STUDENT, Role.ASSESSOR)
HEADER = ("name", "email", "role")
#: The header with the optional fourth column: the student's class or group (``User.cohort``).
HEADER_WITH_COHORT = (*HEADER, "cohort")
MAX_BYTES = 1_000_000
MAX_ROWS = 5_000
MAX_NAME_LENGTH = 256
MAX_COHORT_LENGTH = 128  # User.cohort's column size
_HEADER_TEXT = '"name,email,role" (or "name,email,role,cohort")'

# The same rule as portfolio.accounts.auth.is_valid_email (kept here so this module stays pure).
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


class RosterFileError(InvalidInputError):
    """The file as a whole cannot be read as a roster (no header, too big); message is safe."""

    code = "ROSTER_UNREADABLE"


@dataclass(frozen=True)
class RowResult:
    """The verdict on one data row; ``line`` is its line number in the file (header = 1).

    ``existing`` marks a valid row for a student who already has an account with this issuer:
    the row sets their cohort instead of inviting them.
    """

    line: int
    name: str
    email: str
    role: str
    problem: str | None = None
    cohort: str = ""
    existing: bool = False

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def verdict(self) -> str:
        """What the import did with the row, in words (the page and the command show it)."""
        if self.problem is not None:
            return str(_("rejected: %(problem)s", problem=self.problem))
        if self.existing:
            return str(_("cohort set to “%(cohort)s”", cohort=self.cohort))
        if self.cohort and self.role == Role.STUDENT:
            return str(_("invited to cohort “%(cohort)s”", cohort=self.cohort))
        return str(_("invited"))


def has_undecodable(text: str) -> bool:
    """Whether ``text`` holds bytes that were not UTF-8 (decoded with ``surrogateescape`` to
    lone surrogates)."""
    return any("\udc80" <= char <= "\udcff" for char in text)


def printable(text: str) -> str:
    """``text`` with undecodable bytes shown as U+FFFD, the usual replacement character."""
    return "".join("\ufffd" if "\udc80" <= char <= "\udcff" else char for char in text)


def person_row_problem(
    cells: Sequence[str], columns: Sequence[str], *, name: str, email: str
) -> str | None:
    """What is wrong with a CSV row naming a person (``name``, ``email``) before any column of
    its own is read, or None: the checks every CSV of people makes (rosters, issuing)."""
    if any(has_undecodable(cell) for cell in cells):
        return str(_("not UTF-8 text (save the file as UTF-8)"))
    if len(cells) != len(columns):
        return str(
            _(
                "%(count)s columns instead of %(expected)s (%(columns)s)",
                count=len(cells),
                expected=len(columns),
                columns=", ".join(columns),
            )
        )
    if not name:
        return str(_("the name is empty"))
    if len(name) > MAX_NAME_LENGTH:
        return str(_("the name is longer than %(limit)s characters", limit=MAX_NAME_LENGTH))
    if len(email) > 320 or EMAIL.fullmatch(email) is None:
        return str(_("not an email address"))
    return None


def parse_roster(data: bytes) -> list[RowResult]:
    """A verdict for every non-blank data row of a roster file, in file order.

    The rows' own problems are found here: not UTF-8, wrong column count, empty name, bad
    email, unknown role, a cohort too long, an email repeated in the file (the first one
    wins).  Raises :class:`RosterFileError` when the file is too big, has too many rows, or
    does not start with the ``name,email,role`` header (``name,email,role,cohort`` with the
    optional cohort column).
    """
    if len(data) > MAX_BYTES:
        raise RosterFileError(_l("the file is larger than %(size)d kB", size=MAX_BYTES // 1000))
    # Decoding never fails: bytes that are not UTF-8 are kept as markers so that only the rows
    # holding them are rejected, not the whole file.
    text = data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise RosterFileError(
            _l("the header cannot be read as CSV (%(error)s)", error=error)
        ) from None
    columns = tuple(cell.strip().lower() for cell in header or ())
    if columns not in (HEADER, HEADER_WITH_COHORT):
        raise RosterFileError(
            _l("the first line must be the header %(header)s", header=_HEADER_TEXT)
        )
    results: list[RowResult] = []
    seen: dict[str, int] = {}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            results.append(
                RowResult(reader.line_num, "", "", "", _("not valid CSV (%(error)s)", error=error))
            )
            continue
        if not any(cell.strip() for cell in row):
            continue  # blank lines are not rows
        if len(results) >= MAX_ROWS:
            raise RosterFileError(_l("the file has more than %(most)d rows", most=MAX_ROWS))
        results.append(_judge(reader.line_num, row, seen, columns))
    return results


def _judge(
    line: int, row: list[str], seen: dict[str, int], columns: tuple[str, ...] = HEADER
) -> RowResult:
    cells = [cell.strip() for cell in row]
    name, email, role, cohort = [*cells, "", "", "", ""][:4]
    if len(columns) == len(HEADER):
        cohort = ""
    shown = RowResult(
        line,
        printable(name),
        printable(email),
        printable(role).lower(),
        cohort=printable(cohort),
    )
    problem = person_row_problem(cells, columns, name=name, email=email)
    if problem:
        return replace(shown, problem=problem)
    if role.lower() not in ROSTER_ROLES:
        return replace(shown, problem=_("unknown role %(role)r (student or assessor)", role=role))
    if len(cohort) > MAX_COHORT_LENGTH:
        return replace(
            shown,
            problem=_("the cohort is longer than %(most)d characters", most=MAX_COHORT_LENGTH),
        )
    email = email.lower()
    shown = replace(shown, email=email)
    if email in seen:
        return replace(
            shown, problem=_("duplicate of line %(line)s in this file", line=seen[email])
        )
    seen[email] = line
    return shown


def reject_known(
    results: list[RowResult],
    *,
    accounts: Collection[str],
    invited: Collection[str],
    students: Collection[str] = (),
) -> list[RowResult]:
    """``results`` with the rows for addresses that already have an account, or a pending
    invitation, rejected (addresses are compared lower-cased).

    Except: a ``student`` row with a cohort, for an address among ``students`` (the importing
    issuer's own student accounts), stays valid and is marked ``existing`` — importing it sets
    that student's cohort.  Nobody else's account is ever changed.
    """
    judged = []
    for result in results:
        if result.ok and result.email in students and result.role == Role.STUDENT and result.cohort:
            result = replace(result, existing=True)
        elif result.ok and result.email in accounts:
            result = replace(result, problem=_("already has an account"))
        elif result.ok and result.email in invited:
            result = replace(result, problem=_("already invited (the invitation is still open)"))
        judged.append(result)
    return judged
