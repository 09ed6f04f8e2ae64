"""The cohort's progress as CSV (``/cohort.csv``): its header, its rows (one per student ×
competency, every cell made inert for spreadsheets) and the streamed text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping

from portfolio.assessment.progress import Catalogue, CohortFilter
from portfolio.assessment.progress_queries import load_cells, students
from portfolio.core.csv_cells import csv_safe

CSV_BATCH = 500
CSV_HEADER = (
    "student",
    "email",
    "cohort",
    "competency",
    "state",
    "mastered_at",
    "credential",
    "reasons",
)
#: The CSV starts with a byte-order mark so spreadsheet programs read accented names as UTF-8.
CSV_BOM = "\ufeff"
#: Text is sent in pieces of about this many characters.
CHUNK = 64_000


def cohort_csv_rows(
    issuer_id: int,
    catalogue: Catalogue,
    filters: CohortFilter,
    *,
    reasons: Mapping[int, str] | None = None,
    batch: int = CSV_BATCH,
) -> Iterator[list[str]]:
    """The cohort CSV's data rows (see :data:`CSV_HEADER`): one per student × competency shown,
    students by name, every cell passed through :func:`csv_safe`.  ``reasons`` are the early
    signals' reasons of each flagged student (one line of text); with ``filters.flagged`` only
    those students are written.

    One query for the students, then two per ``batch`` of students.
    """
    shown = [filters.competency] if filters.competency else list(catalogue.competencies)
    reasons = reasons or {}
    everyone = students(issuer_id, filters.cohort)
    if filters.flagged:
        everyone = [student for student in everyone if student.id in reasons]
    for start in range(0, len(everyone), batch):
        chunk = everyone[start : start + batch]
        cells = load_cells([student.id for student in chunk], catalogue)
        for student in chunk:
            for competency in shown:
                cell = cells[student.id][competency.id]
                yield [
                    csv_safe(value)
                    for value in (
                        student.name,
                        student.email,
                        student.cohort or "",
                        competency.name,
                        cell.state,
                        cell.mastered_at.isoformat() if cell.mastered_at else "",
                        cell.credential_public_id or "",
                        reasons.get(student.id, ""),
                    )
                ]


def csv_chunks(rows: Iterable[list[str]]) -> Iterator[str]:
    """The CSV text (byte-order mark, header, ``rows``) in pieces, for a streamed response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(CSV_BOM)
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
