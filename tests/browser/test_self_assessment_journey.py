"""Issue 17 §2 in a browser: Leo rates his reflection on the rubric grid and submits it; Amara
decides without seeing his rating, then sees the calibration view; Leo sees both side by side
(also in Spanish); Maya reads Leo's comment on her performance, and Leo his request."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_self_assessment_calibration_and_a_peer_comment(demo, as_role, inspect) -> None:
    reflection = demo.submissions["leo-reflection"]
    leo = as_role("leo")
    leo.goto(f"{demo.url}/submissions/{reflection}")
    expect(leo.get_by_role("heading", name="Rate your own work first — optional")).to_be_visible()
    inspect(leo, "leo-draft")
    leo.get_by_role("link", name="Rate your own work").click()
    expect(leo.get_by_role("heading", level=1)).to_have_text("Rate your own work")
    leo.locator("#level-0-3").check()  # "Deep insight": well above what Amara will choose
    leo.locator("#level-1-2").check()
    leo.get_by_label("Your note on “Honesty and insight” (optional)").fill(
        "I wrote down every mistake."
    )
    inspect(leo, "leo-rates-his-work")
    leo.get_by_role("button", name="Save my rating").click()
    expect(leo.locator(".flashes")).to_contain_text("Your rating is saved")
    expect(leo.get_by_role("link", name="Change your rating")).to_be_visible()
    leo.get_by_role("button", name="Submit for assessment").click()
    expect(leo.locator(".flashes")).to_contain_text("an assessor will look at it soon")

    amara = as_role("amara")
    amara.goto(f"{demo.url}/review/{reflection}")
    expect(
        amara.get_by_text("you see their rating once you record your assessment")
    ).to_be_visible()
    expect(amara.get_by_text("I wrote down every mistake.")).to_have_count(0)
    amara.locator("#level-0-1").check()
    amara.locator("#level-1-1").check()
    amara.get_by_label("Request a revision").check()
    amara.get_by_label("Overall feedback (Markdown; required unless you endorse)").fill(
        "Finish the last two weeks, Leo: what went wrong, and what next?"
    )
    amara.get_by_role("button", name="Record the assessment").click()
    expect(amara.locator(".flashes")).to_contain_text("Saved")
    amara.goto(f"{demo.url}/review/{reflection}")
    calibration = amara.locator("article.calibration")
    expect(calibration).to_contain_text("I wrote down every mistake.")
    expect(calibration).to_contain_text("Leo Brennan rated this 2 levels higher than you")
    inspect(amara, "amara-calibration")

    leo.goto(f"{demo.url}/submissions/{reflection}")
    mine = leo.locator("article.calibration")
    expect(mine).to_contain_text("You rated yourself 2 levels higher than Amara")
    inspect(leo, "leo-side-by-side")
    leo.set_extra_http_headers({"Accept-Language": "es"})
    leo.reload()
    expect(leo.locator("article.calibration")).to_contain_text("Te valoraste 2 niveles por encima")
    inspect(leo, "leo-side-by-side-es")

    maya = as_role("maya")
    maya.goto(f"{demo.url}/submissions/{demo.submissions['maya-performance']}")
    comments = maya.locator(".peer-comments")
    expect(comments).to_contain_text("Leo")
    expect(comments).to_contain_text("slow down a little in the last chorus")
    inspect(maya, "maya-reads-a-peer-comment")

    leo.set_extra_http_headers({"Accept-Language": "en"})
    leo.goto(f"{demo.url}/peer-feedback")
    leo.get_by_role("link", name=re.compile("Maya")).click()
    expect(leo.get_by_label("Your comment (Markdown)")).to_have_value(
        re.compile("slow down a little")
    )
    inspect(leo, "leo-peer-request")
