"""Whole numbers from request input (query strings, form fields, headers, path parts).

``int()`` is the wrong tool for input: it accepts signs, spaces, underscores and any Unicode
digit (``int("٣") == 3``), ``str.isdigit()`` passes digits ``int()`` then refuses (``"²"``),
Python refuses to convert more than 4,300 digits (``ValueError``), and a number that fits in
Python overflows a database integer.  Each of those was a 500 somewhere (issue 15 §5).  Every
conversion of request input to a number goes through :func:`whole_number`.
"""

from __future__ import annotations

#: The largest id a table's integer primary key holds (PostgreSQL ``integer``).
MAX_ID = 2**31 - 1


def whole_number(text: str | None, *, at_most: int, at_least: int = 0) -> int | None:
    """The number ``text`` spells in ASCII digits (surrounding spaces allowed), when it lies
    within ``at_least``..``at_most``; otherwise None.  Never raises."""
    if text is None:
        return None
    digits = text.strip()
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(at_most)):
        return None  # too long to be in range: never converted
    value = int(significant)
    return value if at_least <= value <= at_most else None
