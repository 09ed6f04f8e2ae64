"""Which competencies to suggest to a student for her plan, and why: they match her stated
interests and learning goals (words of her profile against a competency's name, description
and tags), or they complete a stack badge she is close to.

Pure: plain data in, plain data out (no database, no Flask).  The service feeds it from the
catalogue and her progress (:func:`portfolio.planning.service.choices`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

#: Words too common to say anything about a match (English and Spanish).
_STOP_WORDS_TEXT = """
    and are for from has have into its one our own that the their them then this what when
    with you your want like get make does did not more most very can will about all also any
    just some than out los las una unos unas del con por para que mis sus son como mas muy
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
#: Shorter words are left out (they match too much by accident).
MIN_WORD = 3

#: Points of each reason; a closer stack counts more (see :func:`rank`).
INTEREST_POINTS = 3
GOAL_POINTS = 2
STACK_POINTS = 4


def _fold(text: str) -> str:
    """Lower case without accents, so "Canción" and "cancion" match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _stem(word: str) -> str:
    """A crude English suffix fold, enough to match a student's words with a catalogue's:
    "songs" → "song", "stories" → "story", "writing", "writes" and "write" → "writ",
    "engineering" → "engineer"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ed"):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def words(text: str | None) -> frozenset[str]:
    """The significant words of ``text``: folded, stemmed, without stop words or short ones."""
    found = re.findall(r"[^\W\d_]+", _fold(text or ""))
    return frozenset(
        _stem(word) for word in found if len(word) >= MIN_WORD and word not in STOP_WORDS
    )


def phrases(text: str | None) -> list[str]:
    """A free-text list (commas, semicolons, new lines) as its trimmed, non-empty parts, in
    order: "Folk music, the sea" → ["Folk music", "the sea"]."""
    parts = re.split(r"[,;\n]+", text or "")
    return [" ".join(part.split()) for part in parts if part.strip()]


@dataclass(frozen=True)
class Candidate:
    """A competency she may add to her plan, with the text it is matched against."""

    id: int
    name: str
    description: str = ""
    tags: tuple[str, ...] = ()
    #: Her progress on it (a state of :mod:`portfolio.assessment.progress`), to show beside it.
    state: str = ""

    @property
    def words(self) -> frozenset[str]:
        return words(" ".join((self.name, self.description, *self.tags)))


@dataclass(frozen=True)
class Stack:
    """A stack badge she does not hold yet: its components, and which of them are mastered or
    under way (in progress, in review, or already in her plan)."""

    name: str
    component_ids: tuple[int, ...]
    mastered_ids: frozenset[int] = frozenset()
    working_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class StackNeed:
    """The candidate completes ``stack``: ``left`` of its ``total`` components are not mastered
    yet (this one included), and every other one is mastered or under way."""

    stack: str
    left: int
    total: int


@dataclass(frozen=True)
class Suggestion:
    """A ranked candidate and the reasons, in data: the interests it matches (her own words),
    the goal words it matches, and the stacks it completes."""

    candidate: Candidate
    score: int
    interests: tuple[str, ...] = ()
    goal_words: tuple[str, ...] = ()
    stacks: tuple[StackNeed, ...] = ()

    @property
    def has_reason(self) -> bool:
        return self.score > 0


def stack_needs(candidate_id: int, stacks: Iterable[Stack]) -> tuple[StackNeed, ...]:
    """The stacks ``candidate_id`` would complete: it is a component, and every other component
    is mastered or under way.  Closest first (fewest left), then by name."""
    needs = []
    for stack in stacks:
        if candidate_id not in stack.component_ids:
            continue
        others = [c for c in stack.component_ids if c != candidate_id]
        if not all(c in stack.mastered_ids or c in stack.working_ids for c in others):
            continue
        left = sum(1 for c in stack.component_ids if c not in stack.mastered_ids)
        needs.append(StackNeed(stack.name, max(left, 1), len(stack.component_ids)))
    return tuple(sorted(needs, key=lambda need: (need.left, need.stack)))


def suggest(
    candidate: Candidate,
    *,
    interests: Sequence[str],
    goals: str | None,
    stacks: Iterable[Stack] = (),
) -> Suggestion:
    """One candidate's suggestion: which of her ``interests`` (phrases of her profile) share a
    word with the competency, which words of her ``goals`` it shares, and the stacks it
    completes; its score adds the points of each."""
    own = candidate.words
    matched = tuple(phrase for phrase in interests if words(phrase) & own)
    goal_words = tuple(sorted(words(goals) & own))
    needs = stack_needs(candidate.id, stacks)
    score = (
        INTEREST_POINTS * len(matched)
        + GOAL_POINTS * min(len(goal_words), 2)
        + sum(STACK_POINTS + max(0, 3 - need.left) for need in needs)
    )
    return Suggestion(candidate, score, matched, goal_words, needs)


def rank(
    candidates: Sequence[Candidate],
    *,
    interests: str | None,
    goals: str | None,
    stacks: Iterable[Stack] = (),
) -> list[Suggestion]:
    """Every candidate as a :class:`Suggestion`, highest score first; equal scores keep the
    order of ``candidates`` (the catalogue's)."""
    listed = phrases(interests)
    stack_list = list(stacks)
    suggestions = [
        suggest(candidate, interests=listed, goals=goals, stacks=stack_list)
        for candidate in candidates
    ]
    order: Mapping[int, int] = {s.candidate.id: index for index, s in enumerate(suggestions)}
    return sorted(suggestions, key=lambda s: (-s.score, order[s.candidate.id]))
