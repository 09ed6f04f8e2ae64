"""Suggestions for her plan: her interests and goals against a competency's words, and the
stacks a competency would complete — pure rules, no app."""

from __future__ import annotations

from portfolio.planning.suggestions import Candidate, Stack, phrases, rank, stack_needs, words

SONG = Candidate(1, "Song writing", "Write and record a song.", ("music", "composition"))
STORY = Candidate(2, "Storytelling", "Tell a story with a beginning and an end.", ("literacy",))
DESIGN = Candidate(3, "Project design", "Plan and build a project.", ("design", "making"))


def test_words_are_folded_stemmed_and_stripped_of_common_ones() -> None:
    assert words("The Songs of the Sea, and CANCIÓN") == {"song", "sea", "cancion"}
    assert words("Stories") == {"story"}
    assert words("writing writes write") == {"writ"}
    assert words("Engineering") == {"engineer"}
    assert words(None) == frozenset()


def test_interests_are_a_comma_or_line_separated_list() -> None:
    assert phrases("Folk music, the sea;\ngraphic novels,, ") == [
        "Folk music",
        "the sea",
        "graphic novels",
    ]


def test_a_competency_matching_her_interests_comes_first_with_the_interest_named() -> None:
    ranked = rank([DESIGN, STORY, SONG], interests="Folk music, the sea", goals=None)
    assert [s.candidate.id for s in ranked] == [1, 3, 2]
    assert ranked[0].interests == ("Folk music",)
    assert not ranked[1].has_reason  # no reason: catalogue order is kept


def test_her_learning_goals_count_with_the_words_they_share() -> None:
    ranked = rank([DESIGN, STORY], interests="", goals="Tell my grandmother's story on stage")
    assert ranked[0].candidate is STORY
    assert ranked[0].goal_words == ("story", "tell")


def test_a_competency_completing_a_stack_is_suggested_with_how_many_are_left() -> None:
    creator = Stack("Creator", (1, 2, 3), mastered_ids=frozenset({1}), working_ids=frozenset({2}))
    [need] = stack_needs(3, [creator])
    assert (need.stack, need.left, need.total) == ("Creator", 2, 3)
    ranked = rank([SONG, DESIGN], interests=None, goals=None, stacks=[creator])
    assert ranked[0].candidate is DESIGN and ranked[0].stacks == (need,)


def test_a_stack_with_another_component_not_started_is_not_a_reason() -> None:
    creator = Stack("Creator", (1, 2, 3), mastered_ids=frozenset({1}))
    assert stack_needs(3, [creator]) == ()
    assert stack_needs(4, [creator]) == ()  # not a component at all


def test_the_last_component_of_a_stack_leaves_one_of_its_total() -> None:
    duo = Stack("Young creator", (1, 2), mastered_ids=frozenset({1}))
    [need] = stack_needs(2, [duo])
    assert (need.left, need.total) == (1, 2)
    closer = rank([SONG, STORY], interests="folk music", goals=None, stacks=[duo])
    # Completing a stack (4 + 2 for one left) beats one matching interest (3).
    assert closer[0].candidate is STORY
