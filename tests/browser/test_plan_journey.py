"""Issue 17 §1 in a browser: Priya states an interest on her profile, chooses a competency from
her suggestions, sets a target date and a milestone, writes a journal entry about it; Amara, her
assessor, reads the plan and comments; Priya sees the comment.  Maya's plan (overdue, due soon,
a recording, comments) is inspected, in English and Spanish.  Every step: axe-core, 320/390 px
reflow, screenshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.browser


def _user_id(demo, email: str) -> int:
    from portfolio.accounts.models import User
    from portfolio.core.db import db

    with demo.app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        db.session.remove()
    return int(user_id)


def test_plan_journey(demo, as_role, inspect) -> None:
    priya = as_role("priya")
    priya.goto(f"{demo.url}/home")
    priya.get_by_role("link", name="My plan").first.click()
    expect(priya.get_by_role("heading", name="My plan", level=1)).to_be_visible()
    inspect(priya, "an empty plan")

    # She says what she is into on her profile: the suggestions follow it.
    priya.goto(f"{demo.url}/profile")
    priya.get_by_label("Interests").fill("Gardening, engineering, writing songs")
    priya.get_by_role("button", name="Save my profile").click()
    priya.goto(f"{demo.url}/plan")
    priya.get_by_role("link", name="Choose what to work on").first.click()
    first = priya.locator(".plan-choice").first
    expect(first).to_contain_text("Song writing")
    expect(first).to_contain_text("Matches your interests: writing songs")
    inspect(priya, "choosing with suggestions")
    priya.get_by_role("checkbox", name="Song writing").check()
    when = (datetime.now(UTC) + timedelta(days=30)).date()
    priya.get_by_label("Target date (optional) — Song writing").fill(when.isoformat())
    priya.get_by_label("Milestones (optional, Markdown) — Song writing").fill(
        "- Write a first verse about the rain garden"
    )
    priya.get_by_role("button", name="Add to my plan").click()
    expect(priya.locator(".flashes")).to_contain_text("Added to your plan: Song writing.")
    expect(priya.locator(".plan-item")).to_contain_text("Write a first verse")
    inspect(priya, "the plan with a date and a milestone")

    priya.get_by_role("link", name="Write in your journal about it").first.click()
    expect(priya.get_by_label("About an item of my plan")).to_have_value(
        priya.locator("#plan_item option", has_text="Song writing").get_attribute("value")
    )
    priya.get_by_label("Title").fill("Rain sounds")
    priya.get_by_label("Your reflection (Markdown)").fill("I recorded the rain on the roof.")
    inspect(priya, "a journal entry about the item")
    priya.get_by_role("button", name="Save").click()
    expect(priya.locator(".flashes")).to_contain_text("Journal entry “Rain sounds” saved.")
    expect(priya.locator(".journal-entry")).to_contain_text("shown with your plan")
    inspect(priya, "the journal")

    amara = as_role("amara")
    student_id = _user_id(demo, demo.people["priya"].email)
    amara.goto(f"{demo.url}/learners/{student_id}/plan")
    expect(amara.get_by_role("heading", name="Priya Raman’s plan")).to_be_visible()
    expect(amara.locator(".plan-item")).to_contain_text("Rain sounds")
    amara.get_by_label("About").select_option(label="Song writing")
    amara.get_by_label("Your comment (Markdown)").fill("Lovely idea. Try a chorus that answers.")
    inspect(amara, "the assessor reads and comments")
    amara.get_by_role("button", name="Post the comment").click()
    expect(amara.locator(".flashes")).to_contain_text("Your comment is on Priya Raman’s plan.")

    priya.goto(f"{demo.url}/plan")
    expect(priya.locator(".plan-comment")).to_contain_text("Try a chorus that answers.")
    inspect(priya, "the assessor's comment on her plan")

    maya = as_role("maya")
    maya.goto(f"{demo.url}/plan")
    expect(maya.get_by_text("Overdue").first).to_be_visible()
    expect(maya.locator("audio")).to_have_count(1)
    inspect(maya, "a plan with overdue and due-soon items")

    spanish = maya
    spanish.set_extra_http_headers({"Accept-Language": "es"})
    spanish.goto(f"{demo.url}/plan")
    expect(spanish.get_by_role("heading", name="Mi plan", level=1)).to_be_visible()
    inspect(spanish, "the plan in Spanish")
