"""The teacher's early signals, in a browser (issue 17 §4): the assessor opens the cohort view,
sees the flagged students with their reasons in words, keeps only the flagged ones, downloads
the CSV and finds the reasons in it; an administrator reads the thresholds page; then the
cohort view in Spanish.  Every step passes axe-core and fits 320 px."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def _row(page: Page, name: str) -> Any:
    return page.locator("table.cohort-matrix tbody tr").filter(
        has=page.locator("th", has_text=name)
    )


def test_signals_journey(demo: Any, as_role: Callable[..., Page], inspect: Any) -> None:
    page = as_role("assessor")
    page.goto(f"{demo.url}/cohort")
    expect(page.get_by_role("heading", name="Needs attention", level=2)).to_be_visible()
    expect(page.locator("#thresholds-note")).to_contain_text("Flags use: 14 days")
    leo = _row(page, "Leo Brennan").locator("td.signals")
    expect(leo).to_contain_text("No submission in 14 days while a plan item is due")
    expect(leo).to_contain_text("Plan item overdue: “Reflection”, due")
    expect(_row(page, "Priya Raman").locator("td.signals")).to_contain_text(
        "2 revision rounds on “Reflection”"
    )
    expect(_row(page, "Tomás Silva").locator("td.signals")).to_contain_text("No flags")
    inspect(page, "cohort with flags")

    # Only the flagged students, through the filter form (no JavaScript needed).
    page.get_by_label("Only flagged students").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state("load")
    assert "flagged=1" in page.url
    names = page.locator("table.cohort-matrix tbody th[scope=row]").all_inner_texts()
    assert any(name.startswith("Leo Brennan") for name in names)
    assert any(name.startswith("Priya Raman") for name in names)
    assert not any(name.startswith("Tomás Silva") for name in names)
    expect(page.locator("table.cohort-matrix caption")).to_contain_text("flagged students only")
    inspect(page, "flagged only")

    with page.expect_download() as waiting:
        page.get_by_role("link", name="Download as CSV").click()
    download = waiting.value
    path = download.path()
    assert path is not None
    text = path.read_text(encoding="utf-8").lstrip("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert header[-1] == "reasons"
    reasons = {row[0]: row[-1] for row in rows}
    assert "Plan item overdue: “Reflection”" in reasons["Leo Brennan"]
    assert "No submission in 14 days" in reasons["Leo Brennan"]
    assert reasons["Priya Raman"].startswith("2 revision rounds on “Reflection”")
    assert "Tomás Silva" not in reasons

    admin = as_role("admin")
    admin.goto(f"{demo.url}/admin/signals")
    expect(admin.get_by_label("Days without a submission while a plan item is due")).to_have_value(
        "14"
    )
    inspect(admin, "thresholds")

    # The same view in Spanish.
    page.set_extra_http_headers({"Accept-Language": "es"})
    page.goto(f"{demo.url}/cohort?flagged=1")
    assert page.evaluate("() => document.documentElement.lang") == "es"
    expect(page.get_by_role("heading", name="Necesita atención", level=2)).to_be_visible()
    expect(_row(page, "Priya Raman").locator("td.signals")).to_contain_text(
        "2 rondas de revisión en «Reflection»"
    )
    inspect(page, "flagged only in Spanish")
