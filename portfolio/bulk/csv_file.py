"""CSV files of credentials to issue (``name,email,competency`` with a header row, optionally
``,key``): a verdict for every row, never an exception for a broken one.  Pure: no Flask, no
database.

The conventions are the roster's (:mod:`portfolio.accounts.roster`): UTF-8 with or without a
byte-order mark, blank lines ignored, undecodable bytes reject only their own row.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, replace

from portfolio.accounts.roster import person_row_problem, printable
from portfolio.core.errors import InvalidInputError
from portfolio.core.i18n import lazy_gettext as _l

HEADER = ("name", "email", "competency")
#: The header with the optional fourth column: an idempotency key chosen by the file's author.
HEADER_WITH_KEY = (*HEADER, "key")
MAX_BYTES = 5_000_000
MAX_ROWS = 20_000
MAX_KEY_LENGTH = 200
_HEADER_TEXT = '"name,email,competency" (or "name,email,competency,key")'


class IssueFileError(InvalidInputError):
    """The file as a whole cannot be read (no header, too big); the message is safe to show."""


@dataclass(frozen=True)
class IssueRow:
    """One data row; ``line`` is its line number in the file (header = 1).

    ``key`` is the row's idempotency key: the ``key`` column when the file has one, else
    ``<first 16 hex digits of the file's SHA-256>:<line>`` — so the same file issued twice
    issues nothing twice.  ``problem`` is set when the row cannot be issued.
    """

    line: int
    name: str
    email: str
    competency: str
    key: str
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def file_digest(data: bytes) -> str:
    """The SHA-256 of the file, in hex (names the file in jobs and row keys)."""
    return hashlib.sha256(data).hexdigest()


def parse_issue_csv(data: bytes) -> list[IssueRow]:
    """A verdict for every non-blank data row, in file order.

    Row problems: not UTF-8, wrong column count, empty name, bad email, no competency, a key
    too long, a key or an (email, competency) pair repeated in the file (the first one wins).
    Raises :class:`IssueFileError` when the file is too big, has too many rows, or does not
    start with the header.
    """
    if len(data) > MAX_BYTES:
        raise IssueFileError(_l("the file is larger than %(size)d MB", size=MAX_BYTES // 1_000_000))
    digest = file_digest(data)[:16]
    text = data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise IssueFileError(
            _l("the header cannot be read as CSV (%(error)s)", error=error)
        ) from None
    columns = tuple(cell.strip().lower() for cell in header or ())
    if columns not in (HEADER, HEADER_WITH_KEY):
        raise IssueFileError(
            _l("the first line must be the header %(header)s", header=_HEADER_TEXT)
        )
    rows: list[IssueRow] = []
    seen_pairs: dict[tuple[str, str], int] = {}
    seen_keys: dict[str, int] = {}
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            line = reader.line_num
            rows.append(IssueRow(line, "", "", "", f"{digest}:{line}", f"not valid CSV ({error})"))
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise IssueFileError(_l("the file has more than %(max)d rows", max=MAX_ROWS))
        rows.append(_judge(reader.line_num, cells, columns, digest, seen_pairs, seen_keys))
    return rows


def _judge(
    line: int,
    cells: list[str],
    columns: tuple[str, ...],
    digest: str,
    seen_pairs: dict[tuple[str, str], int],
    seen_keys: dict[str, int],
) -> IssueRow:
    values = [cell.strip() for cell in cells]
    name, email, competency, key = [*values, "", "", "", ""][:4]
    if len(columns) == len(HEADER) or not key:
        key = f"{digest}:{line}"
    shown = IssueRow(line, printable(name), printable(email), printable(competency), printable(key))
    problem = person_row_problem(values, columns, name=name, email=email)
    if problem:
        return replace(shown, problem=problem)
    if not competency:
        return replace(shown, problem="no competency given")
    if len(key) > MAX_KEY_LENGTH:
        return replace(shown, problem=f"the key is longer than {MAX_KEY_LENGTH} characters")
    shown = replace(shown, email=email.lower())
    if key in seen_keys:
        return replace(shown, problem=f"the key repeats line {seen_keys[key]}")
    pair = (shown.email, competency.lower())
    if pair in seen_pairs:
        return replace(shown, problem=f"duplicate of line {seen_pairs[pair]} in this file")
    seen_keys[key] = line
    seen_pairs[pair] = line
    return shown
