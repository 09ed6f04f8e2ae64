"""What an assessor's endorsement inside a mastery credential says — only what happened.

A one-by-one review shows the assessor the student's evidence against the rubric; a cohort
endorsement records one judgement for many students without opening anyone's evidence, and a
student may have submitted none.  The text (``endorsementComment``, OB 3.0 §B.1.7
EndorsementSubject) and the note the credential carries about a cohort judgement (an OB 3.0
§B.1.6 Evidence narrative) are written from those facts, never from a template that claims an
assessment of evidence that did not take place.

Pure: no database, no Flask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class HowAssessed:
    """The facts the text is made of."""

    assessor: str
    competency: str
    #: "“Title” (version n)" of the rubric judged against, or None without a rubric.
    rubric: str | None
    #: Titles of the evidence the student submitted (in the credential's ``evidence``).
    evidence_titles: Sequence[str] = ()
    #: The cohort's name when endorsed with a whole cohort.
    cohort: str | None = None


def rubric_label(title: str, version: int) -> str:
    return f"“{title}” (version {version})"


def _quoted(titles: Sequence[str]) -> str:
    return ", ".join(f"“{title}”" for title in titles)


def endorsement_comment(how: HowAssessed) -> str:
    """The assessor's endorsement text."""
    against = f" against the rubric {how.rubric}" if how.rubric else ""
    if how.cohort is None:
        if how.evidence_titles:
            return (
                f"{how.assessor} assessed the evidence {_quoted(how.evidence_titles)}{against} "
                f"and endorses mastery of “{how.competency}”."
            )
        return f"{how.assessor} endorses mastery of “{how.competency}”; no evidence was submitted."
    judged = f" with one judgement{against}" if how.rubric else " with one judgement"
    text = (
        f"{how.assessor} endorsed mastery of “{how.competency}” for students of the cohort "
        f"“{how.cohort}” together,{judged}."
    )
    if how.evidence_titles:
        return text + (
            f" The evidence the student submitted ({_quoted(how.evidence_titles)}) is listed in "
            "the credential; it was not assessed one by one."
        )
    return text + " The student submitted no evidence for it, and none was assessed."


def cohort_evidence_narrative(how: HowAssessed, day: str) -> str:
    """The narrative of the Evidence entry a cohort-endorsed credential carries: what was
    assessed, by whom and when."""
    against = f" against the rubric {how.rubric}" if how.rubric else ""
    submitted = (
        f" The student's submitted evidence is listed separately ({_quoted(how.evidence_titles)})."
        if how.evidence_titles
        else " No individual evidence was submitted or assessed."
    )
    return (
        f"Cohort endorsement of “{how.cohort}” on {day}: {how.assessor} recorded one "
        f"judgement{against} for the students chosen, the levels given in the result."
        f"{submitted}"
    )
