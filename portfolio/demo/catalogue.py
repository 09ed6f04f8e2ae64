"""The demo catalogue: the “Creative expression” framework — five competencies with criteria,
tags, alignments to public standards and versioned rubrics, one prerequisite, one competency
under moderation and one stack badge — and its seeding (one transaction, only when missing)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from portfolio.accounts.models import Issuer
from portfolio.catalogue import rubrics
from portfolio.catalogue.models import Competency, CompetencyFramework, Prerequisite, StackComponent
from portfolio.core.db import db, unit_of_work

# Fixed identifiers (CASE-style UUIDs) so that a second run finds what the first one made.
_NAMESPACE = uuid.UUID("5b0c7a4e-1d2f-4c55-9f0e-6a1d3c2b7e90")


def _identifier(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


FRAMEWORK_IDENTIFIER = _identifier("framework/creative-expression")


LEVELS = (
    {"name": "Beginning", "description": "Starting out; needs a lot of support.", "points": 1},
    {"name": "Developing", "description": "On the way; some parts are secure.", "points": 2},
    {"name": "Proficient", "description": "Secure and independent.", "points": 3},
    {"name": "Advanced", "description": "Goes beyond what was asked.", "points": 4},
)
PROFICIENT = {"kind": "min_level", "level": 2}


@dataclass(frozen=True)
class RubricSpec:
    """A rubric's first version: criteria (name, description, one text per level) and rule."""

    title: str
    criteria: tuple[tuple[str, str, tuple[str, ...]], ...]
    rule: Mapping[str, Any]


@dataclass(frozen=True)
class CompetencySpec:
    """One catalogue entry of the demo framework."""

    key: str
    code: str
    name: str
    description: str
    criteria: str
    tags: tuple[str, ...] = ()
    alignments: tuple[Mapping[str, str], ...] = ()
    level: str | None = "Year 8"
    credits: float | None = None
    achievement_type: str = "Competency"
    required_endorsements: int = 1
    rubric: RubricSpec | None = None
    prerequisites: tuple[str, ...] = ()
    components: tuple[str, ...] = ()


_NCAS = "National Core Arts Standards"
_NCAS_URL = "https://www.nationalartsstandards.org/"
_ISTE = "ISTE Standards for Students"
_ISTE_URL = "https://iste.org/standards/students"

COMPETENCIES = (
    CompetencySpec(
        key="song",
        code="CE.1",
        name="Song writing",
        description="Writes and records an original song: a melody, lyrics and a structure "
        "that work together.",
        criteria="Submit a recording of an original song with its lyrics and a short "
        "reflection on how you wrote it. An assessor judges it against the song writing "
        "rubric: every criterion at “Proficient” or above is mastery.",
        tags=("music", "composition", "creative writing"),
        alignments=(
            {
                "targetName": "Anchor Standard 1: Generate and conceptualize artistic ideas "
                "and work",
                "targetUrl": _NCAS_URL,
                "targetCode": "Cr1",
                "targetFramework": _NCAS,
            },
        ),
        credits=1,
        rubric=RubricSpec(
            title="Song writing rubric",
            criteria=(
                (
                    "Melody",
                    "A memorable, singable melody that suits the words.",
                    (
                        "No clear melody yet",
                        "A melody that wanders",
                        "A clear, singable melody",
                        "A melody people hum afterwards",
                    ),
                ),
                (
                    "Lyrics",
                    "Words with an idea, images and a voice of their own.",
                    (
                        "Placeholder words",
                        "An idea, told rather than shown",
                        "Fresh images that carry the idea",
                        "Lyrics that surprise and move",
                    ),
                ),
                (
                    "Structure",
                    "Verses, chorus and bridge arranged with purpose.",
                    (
                        "One section repeated",
                        "Sections that do not yet build",
                        "A structure that builds to the chorus",
                        "A structure that breaks the rules on purpose",
                    ),
                ),
            ),
            rule=PROFICIENT,
        ),
    ),
    CompetencySpec(
        key="story",
        code="CE.2",
        name="Storytelling",
        description="Tells a short story with living characters, a shape and a voice.",
        criteria="Submit a short story (up to 1,500 words) you wrote on your own. An "
        "assessor judges it against the storytelling rubric: at least 9 of the 12 points "
        "is mastery.",
        tags=("creative writing", "literacy"),
        alignments=(
            {
                "targetName": "Write narratives to develop real or imagined experiences or "
                "events using effective technique, relevant descriptive details, and "
                "well-structured event sequences.",
                "targetUrl": "https://www.thecorestandards.org/ELA-Literacy/W/8/3/",
                "targetCode": "CCSS.ELA-LITERACY.W.8.3",
                "targetFramework": "Common Core State Standards for English Language Arts",
            },
        ),
        credits=1,
        rubric=RubricSpec(
            title="Storytelling rubric",
            criteria=(
                (
                    "Characters",
                    "People the reader believes in and cares about.",
                    ("Names only", "Sketched", "Believable", "Unforgettable"),
                ),
                (
                    "Plot and structure",
                    "A beginning, a turn and an ending that belongs to the story.",
                    ("A list of events", "A shape, loosely", "A clear arc", "A satisfying arc"),
                ),
                (
                    "Voice and language",
                    "Sentences, dialogue and details chosen with care.",
                    ("Flat", "Uneven", "Confident", "Distinctive"),
                ),
            ),
            rule={"kind": "points", "threshold": 9},
        ),
    ),
    CompetencySpec(
        key="performance",
        code="CE.3",
        name="Performance",
        description="Performs their own work for an audience with presence and skill.",
        criteria="Submit a recording of a live performance of your own work. Master Song "
        "writing first: you perform a song you wrote.",
        tags=("music", "performance"),
        alignments=(
            {
                "targetName": "Anchor Standard 6: Convey meaning through the presentation of "
                "artistic work",
                "targetUrl": _NCAS_URL,
                "targetCode": "Pr6",
                "targetFramework": _NCAS,
            },
        ),
        credits=1,
        rubric=RubricSpec(
            title="Performance rubric",
            criteria=(
                (
                    "Stage presence",
                    "Connects with the audience.",
                    ("Hides", "Gets through it", "Engages", "Holds the room"),
                ),
                (
                    "Musicianship",
                    "Timing, pitch and dynamics.",
                    ("Unsteady", "Mostly steady", "Secure", "Expressive"),
                ),
            ),
            rule=PROFICIENT,
        ),
        prerequisites=("song",),
    ),
    CompetencySpec(
        key="project",
        code="CE.4",
        name="Project design",
        description="Designs, makes and presents a project that answers a real need.",
        criteria="Submit a project write-up with pictures of what you made and links to your "
        "sources. Two assessors judge it independently; the credential is issued when both "
        "endorse it (at least 12 of the 16 points).",
        tags=("design", "making", "STEAM"),
        alignments=(
            {
                "targetName": "Innovative Designer",
                "targetUrl": _ISTE_URL,
                "targetCode": "1.4",
                "targetFramework": _ISTE,
            },
        ),
        credits=2,
        required_endorsements=2,
        rubric=RubricSpec(
            title="Project design rubric",
            criteria=(
                (
                    "Problem and research",
                    "Understands who the project is for and what is already known.",
                    ("Vague", "Stated", "Researched", "Researched with users"),
                ),
                (
                    "Design and iteration",
                    "Sketches, tries, tests and improves.",
                    ("One idea", "Some changes", "Tested and improved", "Several iterations"),
                ),
                (
                    "Making",
                    "Builds something that works, safely and with care.",
                    ("Unfinished", "Works sometimes", "Works", "Works beautifully"),
                ),
                (
                    "Communication",
                    "Explains the project so that someone else could build on it.",
                    ("Hard to follow", "Partly clear", "Clear", "Clear and compelling"),
                ),
            ),
            rule={"kind": "points", "threshold": 12},
        ),
    ),
    CompetencySpec(
        key="reflection",
        code="CE.5",
        name="Reflection",
        description="Looks back on their own learning honestly and plans what comes next.",
        criteria="Submit a learning journal covering at least four weeks: what you tried, "
        "what went wrong, what you learnt and what you will do next.",
        tags=("metacognition", "learning to learn"),
        alignments=(
            {
                "targetName": "Empowered Learner",
                "targetUrl": _ISTE_URL,
                "targetCode": "1.1",
                "targetFramework": _ISTE,
            },
        ),
        rubric=RubricSpec(
            title="Reflection rubric",
            criteria=(
                (
                    "Honesty and insight",
                    "Names what did not work and why.",
                    ("Describes only", "Some reasons", "Clear insight", "Deep insight"),
                ),
                (
                    "Next steps",
                    "Plans concrete next steps from the insight.",
                    ("None", "General wishes", "Concrete steps", "Steps already taken"),
                ),
            ),
            rule=PROFICIENT,
        ),
    ),
    CompetencySpec(
        key="creator",
        code="CE.B1",
        name="Young creator",
        description="Has mastered both song writing and storytelling.",
        criteria="Earned automatically by mastering the Song writing and Storytelling "
        "competencies of the Creative expression framework.",
        tags=("badge", "creative writing", "music"),
        achievement_type="Badge",
        components=("song", "story"),
    ),
)


def seed_catalogue(
    issuer: Issuer, created: Counter[str]
) -> tuple[CompetencyFramework, dict[str, Competency]]:
    """The “Creative expression” framework with its competencies, prerequisite, stack and
    rubrics, made in one transaction; when the framework exists, what is left of it as the
    administrators may have changed it (nothing is re-added)."""
    framework: CompetencyFramework | None = db.session.scalar(
        select(CompetencyFramework).where(
            CompetencyFramework.issuer_id == issuer.id,
            CompetencyFramework.identifier == FRAMEWORK_IDENTIFIER,
        )
    )
    if framework is not None:
        return framework, _seeded_competencies(issuer)
    with unit_of_work(write=True):
        framework = _add_framework(issuer)
        created["frameworks"] += 1
        competencies = {
            spec.key: _competency(issuer, framework, spec, position)
            for position, spec in enumerate(COMPETENCIES)
        }
        created["competencies"] += len(competencies)
        for spec in COMPETENCIES:
            _link_competency(spec, competencies, created)
    return framework, competencies


def _seeded_competencies(issuer: Issuer) -> dict[str, Competency]:
    """The demo's competencies still in the catalogue, by their key."""
    identifiers = {_identifier(f"competency/{spec.key}"): spec.key for spec in COMPETENCIES}
    rows = db.session.scalars(
        select(Competency).where(
            Competency.issuer_id == issuer.id, Competency.identifier.in_(identifiers)
        )
    )
    return {identifiers[row.identifier]: row for row in rows}


def _add_framework(issuer: Issuer) -> CompetencyFramework:
    framework = CompetencyFramework(
        issuer_id=issuer.id,
        identifier=FRAMEWORK_IDENTIFIER,
        title="Creative expression",
        creator=issuer.name,
        publisher=issuer.name,
        description="Making and sharing original work — songs, stories, performances and "
        "designed projects — and reflecting on how it was made.",
        version="1.0",
        language="en",
        adoption_status="Adopted",
    )
    db.session.add(framework)
    db.session.flush()
    return framework


def _link_competency(
    spec: CompetencySpec, competencies: dict[str, Competency], created: Counter[str]
) -> None:
    """Add the spec's prerequisites, stack components and rubric to its competency."""
    row = competencies[spec.key]
    for key in spec.prerequisites:
        db.session.add(Prerequisite(competency_id=row.id, prerequisite_id=competencies[key].id))
    for key in spec.components:
        db.session.add(StackComponent(stack_id=row.id, component_id=competencies[key].id))
    if spec.rubric is not None:
        rubrics.save_new_version(
            row,
            title=spec.rubric.title,
            levels=LEVELS,
            criteria=[
                {"name": name, "description": description, "levels": list(cells)}
                for name, description, cells in spec.rubric.criteria
            ],
            rule=spec.rubric.rule,
        )
        created["rubrics"] += 1


def _competency(
    issuer: Issuer, framework: CompetencyFramework, spec: CompetencySpec, position: int
) -> Competency:
    row = Competency(
        issuer_id=issuer.id,
        framework_id=framework.id,
        identifier=_identifier(f"competency/{spec.key}"),
        human_code=spec.code,
        name=spec.name,
        description=spec.description,
        criteria_narrative=spec.criteria,
        achievement_type=spec.achievement_type,
        tags=list(spec.tags),
        level=spec.level,
        credits=spec.credits,
        alignments=[dict(a) for a in spec.alignments],
        required_endorsements=spec.required_endorsements,
        is_stack=bool(spec.components),
        position=position,
    )
    db.session.add(row)
    db.session.flush()
    return row
