"""Cells of the CSV files we hand out (cohort progress, audit log, bulk job reports), made safe to
open in a spreadsheet."""

from __future__ import annotations

#: A cell starting with one of these is read as a formula by spreadsheet programs.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """``value`` made inert for spreadsheets: a cell starting with ``= + - @``, a tab or a
    carriage return gets a leading apostrophe, so it is shown as text, never run as a formula
    (OWASP "CSV Injection")."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value
