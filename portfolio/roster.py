"""Class rosters from CSV (``name,email,role`` with a header row): a verdict for every row,
never an exception for a broken one.  Pure: no Flask, no database."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection
from dataclasses import dataclass, replace

#: Roles a roster may give (administrators are never created from a file).
ROSTER_ROLES = ("student", "assessor")
HEADER = ("name", "email", "role")
MAX_BYTES = 1_000_000
MAX_ROWS = 5_000
MAX_NAME_LENGTH = 256

# The same rule as portfolio.auth.is_valid_email (kept here so this module stays pure).
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


class RosterFileError(ValueError):
    """The file as a whole cannot be read as a roster (no header, too big); message is safe."""


@dataclass(frozen=True)
class RowResult:
    """The verdict on one data row; ``line`` is its line number in the file (header = 1)."""

    line: int
    name: str
    email: str
    role: str
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _has_undecodable(text: str) -> bool:
    # Bytes that are not UTF-8 were decoded to lone surrogates (``surrogateescape``).
    return any("\udc80" <= char <= "\udcff" for char in text)


def _printable(text: str) -> str:
    # Undecodable bytes are shown as U+FFFD, the usual replacement character.
    return "".join("\ufffd" if "\udc80" <= char <= "\udcff" else char for char in text)


def parse_roster(data: bytes) -> list[RowResult]:
    """A verdict for every non-blank data row of a roster file, in file order.

    The rows' own problems are found here: not UTF-8, wrong column count, empty name, bad
    email, unknown role, an email repeated in the file (the first one wins).  Raises
    :class:`RosterFileError` when the file is too big, has too many rows, or does not start
    with the ``name,email,role`` header.
    """
    if len(data) > MAX_BYTES:
        raise RosterFileError(f"the file is larger than {MAX_BYTES // 1000} kB")
    # Decoding never fails: bytes that are not UTF-8 are kept as markers so that only the rows
    # holding them are rejected, not the whole file.
    text = data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise RosterFileError(f"the header cannot be read as CSV ({error})") from None
    if header is None or tuple(cell.strip().lower() for cell in header) != HEADER:
        raise RosterFileError('the first line must be the header "name,email,role"')
    results: list[RowResult] = []
    seen: dict[str, int] = {}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            results.append(RowResult(reader.line_num, "", "", "", f"not valid CSV ({error})"))
            continue
        if not any(cell.strip() for cell in row):
            continue  # blank lines are not rows
        if len(results) >= MAX_ROWS:
            raise RosterFileError(f"the file has more than {MAX_ROWS} rows")
        results.append(_judge(reader.line_num, row, seen))
    return results


def _judge(line: int, row: list[str], seen: dict[str, int]) -> RowResult:
    cells = [cell.strip() for cell in row]
    name, email, role = [*cells, "", "", ""][:3]
    shown = RowResult(line, _printable(name), _printable(email), _printable(role).lower())
    if any(_has_undecodable(cell) for cell in cells):
        return replace(shown, problem="not UTF-8 text (save the file as UTF-8)")
    if len(cells) != len(HEADER):
        return replace(shown, problem=f"{len(cells)} columns instead of 3 (name, email, role)")
    if not name:
        return replace(shown, problem="the name is empty")
    if len(name) > MAX_NAME_LENGTH:
        return replace(shown, problem=f"the name is longer than {MAX_NAME_LENGTH} characters")
    if len(email) > 320 or _EMAIL.fullmatch(email) is None:
        return replace(shown, problem="not an email address")
    if role.lower() not in ROSTER_ROLES:
        return replace(shown, problem=f"unknown role {role!r} (student or assessor)")
    email = email.lower()
    shown = replace(shown, email=email)
    if email in seen:
        return replace(shown, problem=f"duplicate of line {seen[email]} in this file")
    seen[email] = line
    return shown


def reject_known(
    results: list[RowResult], *, accounts: Collection[str], invited: Collection[str]
) -> list[RowResult]:
    """``results`` with the rows for addresses that already have an account, or a pending
    invitation, rejected (addresses are compared lower-cased)."""
    judged = []
    for result in results:
        if result.ok and result.email in accounts:
            result = replace(result, problem="already has an account")
        elif result.ok and result.email in invited:
            result = replace(result, problem="already invited (the invitation is still open)")
        judged.append(result)
    return judged
