"""templates/components/forms.html: every form's markup written once — the CSRF field, labelled
fields with their hint and error (tied by aria-describedby, aria-invalid when in error), and the
error summary at the top of a page, whose errors link to their fields."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import lxml.html

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
COMPONENTS = TEMPLATES / "components" / "forms.html"


def render(app: Any, source: str, **context: Any) -> Any:
    """``source`` rendered with the components imported, parsed."""
    imports = '{% from "components/forms.html" import ' + (
        "csrf_field, error_summary, input, textarea, select, choice, choices, checkbox %}"
    )
    with app.test_request_context():
        html = app.jinja_env.from_string(imports + source).render(**context)
    return lxml.html.fragment_fromstring(html, create_parent="div")


def test_only_the_components_write_a_csrf_input_or_a_field_layout():
    offenders = [
        str(path.relative_to(TEMPLATES))
        for path in sorted(TEMPLATES.rglob("*.html"))
        if path != COMPONENTS
        and re.search(r'name="csrf_token"|csrf_token\(\)|\.csrf_token\b', path.read_text())
    ]
    assert offenders == []
    assert not [p for p in TEMPLATES.rglob("_field*.html")]  # the three old macro sets


def test_a_field_in_error_is_labelled_hinted_and_described(app):
    page = render(
        app,
        "{{ input('credits', 'Credits', 'abc', hint='A number.', error='Not a number.', "
        "attrs={'size': 8, 'required': true, 'maxlength': none}) }}",
    )
    (control,) = page.xpath("//input")
    assert control.get("id") == control.get("name") == "credits"
    assert control.get("value") == "abc" and control.get("size") == "8"
    assert "required" in control.attrib and "maxlength" not in control.attrib
    assert control.get("aria-describedby") == "credits-hint credits-error"
    assert control.get("aria-invalid") == "true"
    assert page.xpath("//label[@for='credits']")[0].text == "Credits"
    assert page.get_element_by_id("credits-hint").text == "A number."
    assert page.get_element_by_id("credits-error").text == "Not a number."
    # The order a screen reader and a sighted reader meet them: label, hint, error, control.
    order = [e.get("id") or e.tag for e in page.iter("label", "small", "span", "input")]
    assert order == ["label", "credits-hint", "span", "credits-error", "credits"]
    # The error is told apart without colour: a screen reader hears "Error:" before it.
    (prefix,) = page.find_class("visually-hidden")
    assert prefix.text.strip() == "Error:" and prefix.getnext().get("id") == "credits-error"


def test_a_field_without_error_is_not_invalid_and_its_key_can_differ_from_its_id(app):
    page = render(app, "{{ input('image', 'Image', id='image-file', key='image', type='file') }}")
    (control,) = page.xpath("//input")
    assert control.get("id") == "image-file" and "value" not in control.attrib
    assert "aria-invalid" not in control.attrib and "aria-describedby" not in control.attrib
    page = render(
        app, "{{ input('image', 'Image', id='image-file', key='image', type='file', error='No.') }}"
    )
    assert page.xpath("//input")[0].get("aria-describedby") == "image-error"


def test_select_choices_and_checkbox(app):
    page = render(
        app,
        "{{ select('cohort', 'Cohort', [('', 'All cohorts'), 'Year 9',"
        " ('x', 'X', {'disabled': true})], 'Year 9') }}"
        "{{ choices('radio', 'decision', 'Decision',"
        " [('endorse', 'Endorse'), ('revise', 'Revise')], checked=['revise'],"
        " error='Choose one.') }}"
        "{{ checkbox('confirm', 'Sure', value='yes', error='Tick it.') }}",
    )
    options = page.xpath("//option")
    assert [(o.get("value"), o.text) for o in options] == [
        ("", "All cohorts"),
        ("Year 9", "Year 9"),
        ("x", "X"),
    ]
    assert [o.get("value") for o in options if "selected" in o.attrib] == ["Year 9"]
    assert "disabled" in options[2].attrib
    fieldset = page.xpath("//fieldset")[0]
    assert fieldset.get("aria-describedby") == "decision-error"
    assert fieldset.xpath("legend")[0].text == "Decision"
    radios = fieldset.xpath(".//input")
    assert [r.get("id") for r in radios] == ["decision-endorse", "decision-revise"]
    assert ["checked" in r.attrib for r in radios] == [False, True]
    assert [label.get("for") for label in fieldset.xpath(".//label")] == [
        "decision-endorse",
        "decision-revise",
    ]
    box = page.get_element_by_id("confirm")
    assert box.get("aria-invalid") == "true" and box.get("value") == "yes"


def test_the_error_summary_links_each_error_to_its_field(app):
    page = render(
        app,
        "{{ error_summary(errors, targets={'image': 'image-file', 'rubric': none}) }}",
        errors={"name": "Enter the name.", "image": "Not an image.", "rubric": "Saved twice."},
    )
    (summary,) = page.find_class("error-summary")
    assert summary.get("role") == "alert"
    assert summary.get("aria-labelledby") == "error-summary-title"
    assert [(a.get("href"), a.text) for a in summary.xpath(".//a")] == [
        ("#name", "Enter the name."),
        ("#image-file", "Not an image."),
    ]
    assert page.get_element_by_id("rubric-error").text == "Saved twice."  # the whole form's
    assert render(app, "{{ error_summary({}) }}").find_class("error-summary") == []
    one = render(app, "{{ error_summary('Choose a competency.') }}")
    assert one.xpath("//li")[0].text == "Choose a competency." and not one.xpath("//a")


def test_the_sign_in_page_summarises_its_errors_and_links_them(app, client):
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/sign-in", data={"email": "", "password": ""})
    assert response.status_code == 422
    page = lxml.html.fromstring(response.text)
    (summary,) = page.find_class("error-summary")
    assert [a.get("href") for a in summary.xpath(".//a")] == ["#email", "#password"]
    for name in ("email", "password"):
        assert page.get_element_by_id(name).get("aria-invalid") == "true"


def test_a_form_without_a_flask_wtf_form_gets_the_sessions_token(app):
    page = render(app, "{{ csrf_field() }}")
    (token,) = page.xpath("//input")
    assert token.get("type") == "hidden" and token.get("name") == "csrf_token"
    assert token.get("value")
