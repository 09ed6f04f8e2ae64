"""The catalogue as CSV: import with a verdict for every row (created, updated, unchanged, or
rejected with why) and export in the same columns; rows match on ``identifier`` within the issuer,
and one file is one transaction (a rejected row never stops the others)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flask_babel import gettext as _

from portfolio.accounts.models import Issuer
from portfolio.catalogue.fields import CatalogueError, alignment_row, check_alignment, clean_values
from portfolio.catalogue.models import Competency
from portfolio.catalogue.service import (
    competencies_by_identifier,
    find_path,
    issuer_competencies,
    lock_catalogue,
    prerequisite_graph,
    set_prerequisites,
)
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import InvalidInputError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.models import utcnow

#: Every column, in export order.  A file needs ``identifier`` and ``name``; a column left out
#: of a file leaves that value of existing competencies as it is.
COLUMNS = (
    "identifier",
    "name",
    "description",
    "criteria",
    "achievement_type",
    "tags",
    "level",
    "credits",
    "human_code",
    "alignment_name",
    "alignment_url",
    "alignment_code",
    "alignment_framework",
    "prerequisites",
    "required_endorsements",
)
REQUIRED_COLUMNS = ("identifier", "name")
#: CSV column → competency field (the alignment and prerequisite columns are handled apart).
FIELD_OF_COLUMN = {
    "identifier": "identifier",
    "name": "name",
    "description": "description",
    "criteria": "criteria_narrative",
    "achievement_type": "achievement_type",
    "tags": "tags",
    "level": "level",
    "credits": "credits",
    "human_code": "human_code",
    "required_endorsements": "required_endorsements",
}
ALIGNMENT_COLUMNS = {
    "alignment_name": "name",
    "alignment_url": "url",
    "alignment_code": "code",
    "alignment_framework": "framework",
}
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5_000
#: Characters that make a spreadsheet treat a cell as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class CatalogueCsvError(InvalidInputError):
    """The file as a whole cannot be read (too big, no usable header); the message is safe."""

    code = "INVALID_CATALOGUE_CSV"


@dataclass(frozen=True)
class CsvRow:
    """The verdict on one data row; ``line`` is its line in the file (the header is line 1).

    ``outcome`` is ``created``, ``updated``, ``unchanged`` or ``rejected`` (with ``problem``).
    """

    line: int
    identifier: str
    name: str
    outcome: str = "pending"
    problem: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    alignment: Mapping[str, str] | None = field(default=None, compare=False, repr=False)
    prerequisites: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class CsvReport:
    """What an import did to every row."""

    rows: list[CsvRow]

    def _with(self, outcome: str) -> list[CsvRow]:
        return [row for row in self.rows if row.outcome == outcome]

    @property
    def created(self) -> list[CsvRow]:
        return self._with("created")

    @property
    def updated(self) -> list[CsvRow]:
        return self._with("updated")

    @property
    def unchanged(self) -> list[CsvRow]:
        return self._with("unchanged")

    @property
    def rejected(self) -> list[CsvRow]:
        return self._with("rejected")

    def describe(self) -> str:
        """One line in the reader's language: ``2 created, 1 updated, 0 unchanged, 1 rejected.``"""
        line: str = _(
            "%(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
            "%(rejected)s rejected.",
            created=len(self.created),
            updated=len(self.updated),
            unchanged=len(self.unchanged),
            rejected=len(self.rejected),
        )
        return line

    def record(self) -> str:
        """The same line in English, for the audit record."""
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.rejected)} rejected."
        )


def _rejected(row: CsvRow, problem: str) -> CsvRow:
    return replace(row, outcome="rejected", problem=problem)


# -- reading (pure) --------------------------------------------------------------------------


def unescape_cell(text: str) -> str:
    """Undo :func:`escape_cell`: a ``'`` written before a formula character is removed."""
    if len(text) > 1 and text[0] == "'" and text[1].startswith(_FORMULA_START):
        return text[1:]
    return text


def escape_cell(text: str) -> str:
    """A cell a spreadsheet shows as text: ``'`` before a leading ``=``, ``+``, ``-``, ``@``
    (OWASP's advice against CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _header(reader: Any) -> list[str]:
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise CatalogueCsvError(
            _l("the header cannot be read as CSV (%(error)s)", error=str(error))
        ) from None
    if header is None:
        raise CatalogueCsvError(_l("the file is empty"))
    names = [cell.strip().lower() for cell in header]
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise CatalogueCsvError(
            _l(
                "unknown column “%(name)s” (the columns are %(columns)s)",
                name=unknown[0][:40],
                columns=", ".join(COLUMNS),
            )
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise CatalogueCsvError(_l("the header has no “%(name)s” column", name=missing[0]))
    repeated = [name for name in names if names.count(name) > 1]
    if repeated:
        raise CatalogueCsvError(_l("the column “%(name)s” appears twice", name=repeated[0]))
    return names


def _split(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in text.split(";") if part.strip()))


def _judge(line: int, header: list[str], cells: list[str], seen: dict[str, int]) -> CsvRow:
    if any("\udc80" <= char <= "\udcff" for cell in cells for char in cell):
        return CsvRow(line, "", "", "rejected", _("not UTF-8 text (save the file as UTF-8)"))
    record = dict(zip(header, (unescape_cell(cell.strip()) for cell in cells), strict=False))
    row = CsvRow(line, record.get("identifier", "")[:80], record.get("name", "")[:80])
    if len(cells) != len(header):
        return _rejected(
            row,
            _(
                "%(count)s columns instead of %(expected)s",
                count=len(cells),
                expected=len(header),
            ),
        )
    raw = {
        FIELD_OF_COLUMN[name]: value for name, value in record.items() if name in FIELD_OF_COLUMN
    }
    values, errors = clean_values(raw)
    if errors:
        return _rejected(row, next(iter(errors.values())))
    alignment = None
    if any(name in record for name in ALIGNMENT_COLUMNS):
        parts = {part: record.get(name, "") for name, part in ALIGNMENT_COLUMNS.items()}
        try:
            alignment = check_alignment(parts)
        except CatalogueError as error:
            return _rejected(row, error.message)
    prerequisites = _split(record["prerequisites"]) if "prerequisites" in record else None
    if prerequisites and values["identifier"] in prerequisites:
        return _rejected(row, _("a competency cannot be its own prerequisite"))
    if values["identifier"] in seen:
        return _rejected(
            row, _("duplicate of line %(line)s in this file", line=seen[values["identifier"]])
        )
    seen[values["identifier"]] = line
    return replace(row, values=values, alignment=alignment, prerequisites=prerequisites)


def parse_rows(data: bytes) -> list[CsvRow]:
    """A verdict for every non-blank data row (rows still ``pending`` passed every check that
    needs no database).  Raises :class:`CatalogueCsvError` when the file is too big, has too
    many rows, or its header lacks ``identifier`` or ``name`` or names an unknown column."""
    if len(data) > MAX_BYTES:
        raise CatalogueCsvError(
            _l("the file is larger than %(size)s MB", size=MAX_BYTES // (1024 * 1024))
        )
    # Bytes that are not UTF-8 become markers, so that only the rows holding them are refused.
    text = data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = _header(reader)
    rows: list[CsvRow] = []
    seen: dict[str, int] = {}
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            rows.append(
                CsvRow(
                    reader.line_num,
                    "",
                    "",
                    "rejected",
                    _("not valid CSV (%(error)s)", error=str(error)),
                )
            )
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise CatalogueCsvError(_l("the file has more than %(count)s rows", count=MAX_ROWS))
        rows.append(_judge(reader.line_num, header, cells, seen))
    return rows


# -- prerequisites: unknown identifiers and loops, found before anything is written -----------


def _graph_by_identifier(
    issuer_id: int, by_identifier: Mapping[str, Competency]
) -> dict[str, set[str]]:
    identifier_of = {row.id: key for key, row in by_identifier.items()}
    graph: dict[str, set[str]] = {}
    for competency_id, prerequisite_ids in prerequisite_graph(issuer_id).items():
        graph[identifier_of[competency_id]] = {identifier_of[each] for each in prerequisite_ids}
    return graph


def _loop(
    graph: Mapping[str, Iterable[str]], identifier: str, prerequisites: Iterable[str]
) -> str | None:
    """The loop that giving ``identifier`` these ``prerequisites`` would close, as text."""
    for prerequisite in prerequisites:
        path = find_path(graph, prerequisite, identifier)
        if path is not None:
            return " → ".join([identifier, *path])
    return None


def _unknown(row: CsvRow, known: set[str], rejected: Mapping[str, int]) -> str | None:
    for prerequisite in row.prerequisites or ():
        shown = prerequisite[:80]
        if prerequisite in rejected:
            return str(
                _(
                    "the prerequisite “%(name)s” is on rejected line %(line)s",
                    name=shown,
                    line=rejected[prerequisite],
                )
            )
        if prerequisite not in known:
            return str(_("unknown prerequisite “%(name)s”", name=shown))
    return None


def _check_prerequisites(
    rows: list[CsvRow], issuer_id: int, by_identifier: Mapping[str, Competency]
) -> list[CsvRow]:
    """Reject rows naming unknown prerequisites or closing a loop, until no more are rejected
    (a rejected row that would have created a competency takes that identifier away)."""
    while True:
        accepted = [row for row in rows if row.outcome == "pending"]
        known = set(by_identifier) | {row.values["identifier"] for row in accepted}
        rejected = {
            row.identifier: row.line
            for row in rows
            if row.outcome == "rejected" and row.identifier and row.identifier not in known
        }
        graph = _graph_by_identifier(issuer_id, by_identifier)
        for row in accepted:
            if row.prerequisites is not None:
                graph[row.values["identifier"]] = set()
        verdict: tuple[int, str] | None = None
        for row in accepted:
            if row.prerequisites is None:
                continue
            problem = _unknown(row, known, rejected)
            loop = None if problem else _loop(graph, row.values["identifier"], row.prerequisites)
            if loop is not None:
                problem = _("the prerequisites would make a loop (%(loop)s)", loop=loop)
            if problem is not None:
                verdict = (row.line, problem)
                break
            graph[row.values["identifier"]] = set(row.prerequisites)
        if verdict is None:
            return rows
        rows = [_rejected(row, verdict[1]) if row.line == verdict[0] else row for row in rows]


# -- writing ---------------------------------------------------------------------------------


def _merge_alignment(
    alignments: list[dict[str, Any]], new: Mapping[str, str]
) -> list[dict[str, Any]]:
    """``alignments`` with ``new`` in the place of the one with the same address (keeping its
    type), or added last.  An empty ``new`` changes nothing."""
    if not new:
        return list(alignments)
    merged, placed = [], False
    for alignment in alignments:
        if not placed and alignment.get("targetUrl") == new["targetUrl"]:
            kept = {"targetType": alignment["targetType"]} if alignment.get("targetType") else {}
            merged.append({**dict(new), **kept})
            placed = True
        else:
            merged.append(alignment)
    return merged if placed else [*merged, dict(new)]


def _write(row: CsvRow, competency: Competency | None, issuer_id: int) -> tuple[Competency, str]:
    values = dict(row.values)
    if competency is None:
        values["alignments"] = _merge_alignment([], row.alignment or {})
        values.setdefault("description", "")
        competency = Competency(issuer_id=issuer_id, **values)
        db.session.add(competency)
        return competency, "created"
    if row.alignment is not None:
        values["alignments"] = _merge_alignment(list(competency.alignments or []), row.alignment)
    changed = {name: value for name, value in values.items() if getattr(competency, name) != value}
    for name, value in changed.items():
        setattr(competency, name, value)
    if changed:
        competency.updated_at = utcnow()
        return competency, "updated"
    return competency, "unchanged"


def import_csv(data: bytes, *, issuer: Issuer) -> CsvReport:
    """Create or update the issuer's competencies from a CSV file; report every row.

    Raises :class:`CatalogueCsvError` when the file as a whole is unreadable (nothing written).
    """
    rows = parse_rows(data)
    with unit_of_work():
        lock_catalogue(issuer.id)
        by_identifier = competencies_by_identifier(issuer.id)
        rows = _check_prerequisites(rows, issuer.id, by_identifier)
        written: dict[int, Competency] = {}
        for index, row in enumerate(rows):
            if row.outcome != "pending":
                continue
            identifier = row.values["identifier"]
            competency, outcome = _write(row, by_identifier.get(identifier), issuer.id)
            by_identifier[identifier] = competency
            written[index] = competency
            rows[index] = replace(row, outcome=outcome)
        db.session.flush()
        for index, competency in written.items():
            wanted = rows[index].prerequisites
            if wanted is None:
                continue
            before = {each.identifier for each in competency.prerequisites}
            set_prerequisites(competency, [by_identifier[each] for each in wanted])
            if before != set(wanted) and rows[index].outcome == "unchanged":
                rows[index] = replace(rows[index], outcome="updated")
                competency.updated_at = utcnow()
    return CsvReport(rows)


def export_csv(issuer: Issuer) -> bytes:
    """Every competency of the issuer (archived ones too) as CSV in :data:`COLUMNS`, UTF-8
    with a header; the first alignment fills the alignment columns."""
    output = io.StringIO(newline="")
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for competency in issuer_competencies(issuer.id):
        writer.writerow([escape_cell(cell) for cell in _cells(competency)])
    return output.getvalue().encode("utf-8")


def format_number(value: float | None) -> str:
    """``2`` for 2.0, ``0.5`` for 0.5, empty for None."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _cells(competency: Competency) -> list[str]:
    alignment = alignment_row(competency.alignments[0]) if competency.alignments else {}
    record = {
        "identifier": competency.identifier,
        "name": competency.name,
        "description": competency.description or "",
        "criteria": competency.criteria_narrative or "",
        "achievement_type": competency.achievement_type,
        "tags": "; ".join(competency.tags or []),
        "level": competency.level or "",
        "credits": format_number(competency.credits),
        "human_code": competency.human_code or "",
        "prerequisites": "; ".join(sorted(each.identifier for each in competency.prerequisites)),
        "required_endorsements": str(competency.required_endorsements),
    }
    for column, part in ALIGNMENT_COLUMNS.items():
        record[column] = alignment.get(part, "")
    return [record[column] for column in COLUMNS]
