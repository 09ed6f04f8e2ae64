"""The catalogue's rules as functions: field checks that say what is wrong, alignments as
OB 3.0 Alignment objects, loops found with their path, CASE identifiers, and the per-issuer
graph operations the pages and imports share."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from portfolio.accounts.issuers import ensure_issuer
from portfolio.catalogue import fields
from portfolio.catalogue import service as rules
from portfolio.catalogue.fields import CatalogueError
from portfolio.catalogue.models import Competency, StackComponent
from portfolio.core.db import db

# -- field checks (pure) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "values"),
    [
        ({"name": "  Compose   a song "}, {"name": "Compose a song"}),
        ({"tags": "music; Music ;; song"}, {"tags": ["music", "song"]}),
        ({"tags": ["a", " b "]}, {"tags": ["a", "b"]}),
        ({"credits": "0.5"}, {"credits": 0.5}),
        ({"credits": ""}, {"credits": None}),
        ({"credits": 3}, {"credits": 3.0}),
        ({"required_endorsements": ""}, {"required_endorsements": 1}),
        ({"required_endorsements": "5"}, {"required_endorsements": 5}),
        ({"achievement_type": ""}, {"achievement_type": "Competency"}),
        ({"level": "  "}, {"level": None}),
        ({"alignments": [{"name": "", "url": ""}]}, {"alignments": []}),
    ],
)
def test_clean_values_normalise(raw, values):
    assert fields.clean_values(raw) == (values, {})


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"name": None}, "name", "Enter the name."),
        ({"name": 42}, "name", "The name must be text."),
        ({"name": "bell\x07"}, "name", "The name contains control characters."),
        ({"credits": True}, "credits", "Credits must be a number."),
        ({"credits": math.inf}, "credits", "Credits must be a number from 0 to 10000."),
        ({"credits": "1e9"}, "credits", "Credits must be a number from 0 to 10000."),
        ({"required_endorsements": 2.5}, "required_endorsements", "from 1 to 5"),
        ({"required_endorsements": True}, "required_endorsements", "from 1 to 5"),
        ({"tags": "x" * 129}, "tags", "A tag must have at most 128 characters."),
        ({"identifier": "a\tb"}, "identifier", "The identifier may not contain spaces."),
        ({"identifier": "a\x00b"}, "identifier", "The identifier contains control characters."),
        ({"alignments": [{"name": "A", "url": "//evil.example"}]}, "alignment-0-url", "https://"),
    ],
)
def test_clean_values_say_what_is_wrong(raw, field, message):
    _values, errors = fields.clean_values(raw)
    assert list(errors) == [field]
    assert message in errors[field]


def test_an_alignment_becomes_an_ob3_alignment():
    row = {
        "name": "Standard 1",
        "url": "https://standards.example/1",
        "code": "S1",
        "framework": "Standards",
        "type": "ext:LocalStandard",
    }
    alignment = fields.check_alignment(row)
    assert alignment == {
        "targetName": "Standard 1",
        "targetUrl": "https://standards.example/1",
        "targetCode": "S1",
        "targetFramework": "Standards",
        "targetType": "ext:LocalStandard",
    }
    assert fields.alignment_row(alignment) == row


def test_more_than_twenty_alignments_are_refused():
    rows = [{"name": f"A{n}", "url": f"https://a.example/{n}"} for n in range(21)]
    assert fields.clean_values({"alignments": rows})[1] == {
        "alignments": "Give at most 20 alignments."
    }


def test_find_path_gives_the_shortest_path_or_none():
    graph = {1: {2, 3}, 2: {4}, 3: {4}, 4: {5}}
    assert rules.find_path(graph, 1, 5) in ([1, 2, 4, 5], [1, 3, 4, 5])
    assert rules.find_path(graph, 5, 1) is None
    assert rules.find_path(graph, 4, 4) == [4]
    assert rules.find_path({"a": ["b"], "b": ["a"]}, "a", "c") is None  # loops end


def test_case_identifiers_are_uuids():
    uuid = "9B0D3F6E-5A3C-4F7E-9A59-1C1E2F0A0001"
    assert fields.case_identifier(uuid) == uuid
    derived = fields.case_identifier("MUS-1")
    assert fields.is_uuid(derived)
    assert fields.case_identifier("MUS-1") == derived != fields.case_identifier("MUS-2")


# -- graph operations ----------------------------------------------------------------------------


def make(issuer_id: int, name: str, **fields) -> Competency:
    competency = Competency(issuer_id=issuer_id, name=name, description="", **fields)
    db.session.add(competency)
    db.session.flush()
    return competency


def test_prerequisites_are_replaced_and_a_loop_changes_nothing(app, issuer):
    a, b, c = (make(issuer.id, name) for name in ("A", "B", "C"))
    rules.set_prerequisites(c, [a, b])
    assert [each.name for each in c.prerequisites] == ["A", "B"]
    rules.set_prerequisites(c, [b])
    assert [each.name for each in c.prerequisites] == ["B"]
    with pytest.raises(CatalogueError, match=r"“C” cannot be a prerequisite of “B”"):
        rules.set_prerequisites(b, [a, c])
    assert b.prerequisites == []
    rules.add_prerequisite(b, a)
    rules.add_prerequisite(b, a)  # twice is once
    assert [each.name for each in b.prerequisites] == ["A"]


def test_competencies_of_another_issuer_cannot_be_linked(app, issuer):
    other = ensure_issuer(did="did:web:other.example", name="Other", slug="other")
    ours, theirs = make(issuer.id, "Ours", is_stack=True), make(other.id, "Theirs")
    with pytest.raises(CatalogueError, match="same issuer"):
        rules.set_prerequisites(ours, [theirs])
    with pytest.raises(CatalogueError, match="same issuer"):
        rules.set_components(ours, [theirs])


def test_deleting_removes_the_competency_from_stacks(app, issuer):
    stack = make(issuer.id, "Stack", is_stack=True)
    part = make(issuer.id, "Part")
    rules.set_components(stack, [part])
    rules.delete_competency(part)
    db.session.commit()
    assert db.session.scalar(select(StackComponent.stack_id)) is None
    assert [each.name for each in db.session.scalars(select(Competency))] == ["Stack"]


def test_archiving_is_idempotent(app, issuer):
    competency = make(issuer.id, "A")
    assert rules.archive(competency) is True
    assert rules.archive(competency) is False
    assert rules.unarchive(competency) is True
    assert rules.unarchive(competency) is False
