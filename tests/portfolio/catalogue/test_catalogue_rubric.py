"""The rubric editor: a criteria × levels grid that works without JavaScript (buttons add and
remove rows), a mastery rule, errors next to the field at fault; every save is a new version and
earlier versions read exactly as they were saved."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.catalogue import rubrics
from portfolio.catalogue.forms import (
    apply_rubric_action,
    rubric_error_field,
    rubric_state_from_form,
)
from portfolio.catalogue.models import RubricVersion
from portfolio.core.db import db
from tests.portfolio.accounts.test_auth import OTHER_ISSUER_DID
from tests.portfolio.catalogue.test_catalogue_pages import create_competency, errors_in, signed_in


def grid(
    levels: list[tuple[str, str]],
    criteria: list[tuple[str, list[str]]],
    *,
    title: str = "Song rubric",
    rule: dict[str, str] | None = None,
    action: str = "save",
) -> dict[str, str]:
    """The editor's form for ``levels`` (name, points) and ``criteria`` (name, cells)."""
    form = {
        "title": title,
        "level_count": str(len(levels)),
        "criterion_count": str(len(criteria)),
        "action": action,
        **(rule or {"rule_kind": "min_level", "rule_level": "1"}),
    }
    for j, (name, points) in enumerate(levels):
        form[f"level-{j}-name"] = name
        form[f"level-{j}-points"] = points
        form[f"level-{j}-description"] = ""
    for i, (name, cells) in enumerate(criteria):
        form[f"criterion-{i}-name"] = name
        form[f"criterion-{i}-description"] = f"About {name}"
        for j, cell in enumerate(cells):
            form[f"criterion-{i}-level-{j}"] = cell
    return form


LEVELS = [("Developing", "1"), ("Proficient", "2"), ("Extending", "3")]
CRITERIA = [
    ("Melody", ["A tune", "A memorable tune", "A tune people hum"]),
    ("Lyrics", ["Words", "Words that fit", "Words that move"]),
]


def versions(app: Any, public_id: str) -> list[RubricVersion]:
    from portfolio.catalogue.models import Competency

    with app.app_context():
        competency = db.session.scalar(select(Competency).where(Competency.public_id == public_id))
        rows = db.session.scalars(
            select(RubricVersion)
            .where(RubricVersion.competency_id == competency.id)
            .order_by(RubricVersion.version)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


@pytest.fixture
def pages(app: Flask) -> Flask:
    """The app with CSRF checks off (CSRF is tested in test_catalogue_pages)."""
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.fixture
def admin(pages: Flask) -> Any:
    return signed_in(pages, "alice@school.example")


@pytest.fixture
def song(admin: Any) -> str:
    return create_competency(admin, "Compose a song")


def rubric_path(public_id: str) -> str:
    return f"/admin/catalogue/competencies/{public_id}/rubric"


# -- the grid without JavaScript -------------------------------------------------------------


def test_a_new_rubric_starts_from_four_levels_and_one_criterion(admin, song):
    page = admin.get(rubric_path(song)).get_data(as_text=True)
    for name in ("Beginning", "Developing", "Proficient", "Extending"):
        assert f'value="{name}"' in page
    assert 'id="criterion-0-name"' in page and 'id="criterion-1-name"' not in page
    assert page.count("<fieldset") >= 6  # levels, each level, the criteria grid, the rule
    assert "Save as version 1" in page
    # The first button of the form saves: Enter in a field never removes a row.
    buttons = re.findall(r'<button type="submit" name="action" value="([\w-]+)"', page)
    assert buttons[0] == "save"


def test_every_grid_field_has_a_label(admin, song):
    page = admin.get(rubric_path(song)).get_data(as_text=True)
    fields = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', page)
    assert "criterion-0-level-3" in fields
    assert 'inputmode="decimal"' in page and "=&#34;" not in page
    for field in fields:
        assert f'<label for="{field}">' in page, field


@pytest.mark.parametrize(
    ("action", "levels", "criteria"),
    [
        ("add-level", 4, 2),
        ("add-criterion", 3, 3),
        ("remove-level-0", 2, 2),
        ("remove-criterion-1", 3, 1),
    ],
)
def test_add_and_remove_buttons_re_show_the_grid_and_keep_what_was_typed(
    pages, admin, song, action, levels, criteria
):
    response = admin.post(rubric_path(song), data=grid(LEVELS, CRITERIA, action=action))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'name="level_count" value="{levels}"' in page
    assert f'name="criterion_count" value="{criteria}"' in page
    assert 'value="Melody"' in page
    assert versions(pages, song) == []  # nothing is saved


@pytest.fixture
def in_request(app: Flask) -> Any:
    """A request context: the editor's form is a Flask-WTF form, which reads the app's config."""
    with app.test_request_context():
        yield


def test_removing_a_level_removes_its_cells_and_keeps_the_rule_on_a_level(in_request):
    state = rubric_state_from_form(
        grid(LEVELS, CRITERIA, rule={"rule_kind": "min_level", "rule_level": "2"})
    )
    assert apply_rubric_action(state, "remove-level-0") is None
    assert [level["name"] for level in state["levels"]] == ["Proficient", "Extending"]
    assert state["criteria"][0]["levels"] == ["A memorable tune", "A tune people hum"]
    assert apply_rubric_action(state, "remove-level-1") == "A rubric needs at least 2 levels."
    state = rubric_state_from_form(
        grid(LEVELS, CRITERIA, rule={"rule_kind": "min_level", "rule_level": "2"})
    )
    apply_rubric_action(state, "remove-level-2")
    assert state["rule_level"] == "1"  # still one of the levels


def test_the_grid_has_limits(in_request):
    state = rubric_state_from_form(grid([(f"L{n}", str(n)) for n in range(8)], CRITERIA))
    assert apply_rubric_action(state, "add-level") == "A rubric has at most 8 levels."
    state = rubric_state_from_form(grid(LEVELS, [("Only", [])]))
    assert (
        apply_rubric_action(state, "remove-criterion-0") == "A rubric needs at least 1 criterion."
    )
    # A forged count never makes a grid bigger than the limits.
    state = rubric_state_from_form({"level_count": "1000", "criterion_count": "-5"})
    assert (len(state["levels"]), len(state["criteria"])) == (8, 1)


# -- saving versions -------------------------------------------------------------------------


def test_saving_stores_version_1_with_the_grid_and_rule(pages, admin, song):
    response = admin.post(rubric_path(song), data=grid(LEVELS, CRITERIA))
    assert response.status_code == 303
    (version,) = versions(pages, song)
    assert version.version == 1
    assert version.levels == [
        {"name": "Developing", "description": "", "points": 1},
        {"name": "Proficient", "description": "", "points": 2},
        {"name": "Extending", "description": "", "points": 3},
    ]
    assert version.criteria[1] == {
        "name": "Lyrics",
        "description": "About Lyrics",
        "levels": ["Words", "Words that fit", "Words that move"],
    }
    assert version.mastery_rule == {"kind": "min_level", "level": 1}


def test_each_save_is_a_new_version_and_earlier_ones_read_as_they_were(pages, admin, song):
    admin.post(rubric_path(song), data=grid(LEVELS, CRITERIA))
    changed = [("Melody", ["Notes", "A tune", "A great tune"]), ("Lyrics", ["W", "WW", "WWW"])]
    rule = {"rule_kind": "points", "rule_threshold": "5"}
    assert admin.post(rubric_path(song), data=grid(LEVELS, changed, rule=rule)).status_code == 303
    first, second = versions(pages, song)
    assert (first.version, second.version) == (1, 2)
    assert first.criteria[0]["levels"] == ["A tune", "A memorable tune", "A tune people hum"]
    assert second.mastery_rule == {"kind": "points", "threshold": 5}
    old = admin.get(f"{rubric_path(song)}/versions/1").get_data(as_text=True)
    assert "A tune people hum" in old and "A great tune" not in old
    assert "earlier version" in old
    assert "every criterion at “Proficient” or above" in old
    assert '<th scope="row">Melody' in old
    current = admin.get(f"{rubric_path(song)}/versions/2").get_data(as_text=True)
    assert "(current)" in current and "at least 5 points in total" in current
    editor = admin.get(rubric_path(song)).get_data(as_text=True)
    assert (
        "Save as version 3" in editor and 'value="A great tune"' not in editor
    )  # cells are textareas
    assert ">A great tune</textarea>" in editor
    assert f"{rubric_path(song)}/versions/1" in editor


def test_a_save_that_loses_a_race_is_shown_again_with_422_and_saves_nothing(
    pages, admin, song, monkeypatch
):
    admin.post(rubric_path(song), data=grid(LEVELS, CRITERIA))
    numbered = rubrics.save_new_version

    def stale(competency: Any, **fields: Any) -> RubricVersion:
        version = numbered(competency, **fields)
        version.version = 1  # what a save that counted before the other one committed numbers
        return version

    monkeypatch.setattr(rubrics, "save_new_version", stale)
    response = admin.post(rubric_path(song), data=grid(LEVELS, CRITERIA, title="Again"))
    assert response.status_code == 422
    assert errors_in(response.get_data(as_text=True)) == {
        "rubric": "Someone saved this rubric at the same moment: save again."
    }
    assert [version.title for version in versions(pages, song)] == ["Song rubric"]


def test_a_missing_version_is_404(admin, song):
    assert admin.get(f"{rubric_path(song)}/versions/1").status_code == 404


@pytest.mark.parametrize(
    ("levels", "criteria", "rule", "field", "message"),
    [
        (
            [("Developing", "1"), ("", "2")],
            CRITERIA,
            None,
            "level-1-name",
            "Level 2 name is required.",
        ),
        (
            [("Low", "one"), ("High", "2")],
            CRITERIA,
            None,
            "level-0-points",
            "Level 1 points must be a number.",
        ),
        ([("Low", "3"), ("High", "2")], CRITERIA, None, "rubric", "points may not decrease"),
        ([("Same", "1"), ("same", "2")], CRITERIA, None, "rubric", "Level names must differ"),
        (LEVELS, [("", ["x"])], None, "criterion-0-name", "Criterion 1 name is required."),
        (
            LEVELS,
            CRITERIA,
            {"rule_kind": "points", "rule_threshold": "99"},
            "rule_threshold",
            "more than the most possible (6)",
        ),
        (
            LEVELS,
            CRITERIA,
            {"rule_kind": "min_level", "rule_level": "7"},
            "rule_level",
            "must name one of the rubric's levels",
        ),
        (LEVELS, CRITERIA, {"rule_kind": "magic"}, "rule_level", "either 'min_level' or 'points'"),
        (LEVELS, [("Melody", ["x" * 4001])], None, "criterion-0-level-0", "longer than 4000"),
    ],
)
def test_a_rubric_that_makes_no_sense_is_refused_next_to_the_field(
    pages, admin, song, levels, criteria, rule, field, message
):
    response = admin.post(rubric_path(song), data=grid(levels, criteria, rule=rule))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = errors_in(page)
    assert list(errors) == [field]
    assert message in errors[field].replace("&#39;", "'")
    assert 'value="Melody"' in page or 'value=""' in page  # the form is shown again
    assert versions(pages, song) == []


def test_a_title_is_required(pages, admin, song):
    response = admin.post(rubric_path(song), data=grid(LEVELS, CRITERIA, title=" "))
    assert errors_in(response.get_data(as_text=True)) == {"title": "The rubric title is required."}


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("level 3 points must be a number", "level-2-points"),
        ("criterion 2, level 4 text is longer than 4000 characters", "criterion-1-level-3"),
        ("criterion 5 description is longer than 4000 characters", "criterion-4-description"),
        ("the points threshold must be a number of 0 or more", "rule_threshold"),
        ("a rubric needs between 2 and 8 levels", "rubric"),
    ],
)
def test_rubric_errors_are_tied_to_their_field(message, field):
    assert rubric_error_field(message) == field


def test_another_issuers_administrator_cannot_read_or_write_the_rubric(pages, admin, song):
    admin.post(rubric_path(song), data=grid(LEVELS, CRITERIA))
    olga = signed_in(pages, "olga@other.example", issuer_did=OTHER_ISSUER_DID)
    assert olga.get(rubric_path(song)).status_code == 404
    assert olga.get(f"{rubric_path(song)}/versions/1").status_code == 404
    assert olga.post(rubric_path(song), data=grid(LEVELS, CRITERIA)).status_code == 404
    assert len(versions(pages, song)) == 1
