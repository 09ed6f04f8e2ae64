"""The demo school that ``credfolio demo-setup`` seeds: a realistic issuer to click through.

What it holds:

* a competency framework, “Creative expression”: five competencies (Song writing, Storytelling,
  Performance, Project design, Reflection) with criteria, tags, alignments to public standards
  and versioned rubrics (four levels; mastery by minimum level or by points), one prerequisite
  (Performance needs Song writing), one competency under moderation (Project design needs two
  assessors to agree) and one stack badge, “Young creator” (Song writing + Storytelling);
* people: the demo administrator, two assessors and four students in two cohorts, each with a
  random password recorded in ``instance/demo-accounts.txt`` (mode 0600), students with a
  learner profile;
* evidence with real files made here: song recordings (WAV, a sine melody), stories and
  write-ups (Markdown), project diagrams (PNG) and links;
* ten submissions, all driven through :mod:`portfolio.assessment.service` — so the endorsed ones
carry
  real signed credentials (and one stack badge) and every transition is in the audit trail —
  with one endorsed after a revision round, one revision requested, one waiting in the queue,
  one flagged by a moderation disagreement, one endorsed by two assessors, a draft and a “not
  yet”; notices go out as the flow sends them (in the app, and by mail: to the outbox folder
  unless SMTP is configured);
* one credential revoked and one suspended through :func:`portfolio.issuing.service.set_status`.

Seeding is idempotent: everything is looked up by a natural key first, so running it again
adds nothing.  The catalogue is made in one transaction and only when the framework (its fixed
CASE identifier) is missing, so what administrators changed in it stays changed; accounts are
matched by email address, evidence by title per owner, and each scenario by its student and
competency: a scenario whose submission exists is left as it is, whatever happened to it since.
"""

from __future__ import annotations

import io
import math
import os
import secrets
import sys
import uuid
import wave
from array import array
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portfolio.accounts.models import Issuer, LearnerProfile, User
from portfolio.assessment import service as assessment
from portfolio.assessment.mastery import mastered
from portfolio.assessment.models import Submission
from portfolio.catalogue import rubrics
from portfolio.catalogue.achievements import achievement_url
from portfolio.catalogue.models import Competency, CompetencyFramework, Prerequisite, StackComponent
from portfolio.core.db import begin_write, db
from portfolio.core.hashing import password_hasher
from portfolio.evidence.artefacts import add_file_artefact, add_link_artefact
from portfolio.evidence.models import Evidence
from portfolio.issuing import service as services
from portfolio.issuing.models import IssuedCredential

DEMO_DOMAIN = "demo.credfolio.test"
DEMO_ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
#: In the instance folder: one ``role email password`` line per demo account (mode 0600).
ACCOUNTS_FILE = "demo-accounts.txt"

# Fixed identifiers (CASE-style UUIDs) so that a second run finds what the first one made.
_NAMESPACE = uuid.UUID("5b0c7a4e-1d2f-4c55-9f0e-6a1d3c2b7e90")


def _identifier(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


FRAMEWORK_IDENTIFIER = _identifier("framework/creative-expression")


# -- the catalogue ---------------------------------------------------------------------------

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


# -- people ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonSpec:
    """A demo account (the administrator's email is :data:`DEMO_ADMIN_EMAIL`)."""

    key: str
    role: str
    name: str
    email: str
    cohort: str | None = None
    profile: Mapping[str, str] = field(default_factory=dict)


def _email(name: str) -> str:
    local = name.lower().replace("á", "a").replace(" ", ".")
    return f"{local}@{DEMO_DOMAIN}"


PEOPLE = (
    PersonSpec("admin", "admin", "Demo administrator", DEMO_ADMIN_EMAIL),
    PersonSpec("amara", "assessor", "Amara Nwosu", _email("Amara Nwosu")),
    PersonSpec("daniel", "assessor", "Daniel Kowalski", _email("Daniel Kowalski")),
    PersonSpec(
        "maya",
        "student",
        "Maya Okafor",
        _email("Maya Okafor"),
        cohort="Year 8 Willow",
        profile={
            "pronouns": "she/her",
            "bio": "I write songs on my grandmother's ukulele and stories on the bus.",
            "learning_goals": "Perform one of my own songs at the spring concert.",
            "interests": "Folk music, the sea, graphic novels",
        },
    ),
    PersonSpec(
        "leo",
        "student",
        "Leo Brennan",
        _email("Leo Brennan"),
        cohort="Year 8 Willow",
        profile={
            "pronouns": "he/him",
            "bio": "Drummer in a band that has not played a gig yet.",
            "learning_goals": "Finish things I start, and write lyrics I am not embarrassed by.",
            "interests": "Drums, mysteries, clocks",
        },
    ),
    PersonSpec(
        "priya",
        "student",
        "Priya Raman",
        _email("Priya Raman"),
        cohort="Year 8 Rowan",
        profile={
            "pronouns": "she/her",
            "bio": "I like fixing things that annoy people, like the puddle by the bike shed.",
            "learning_goals": "Build something the whole school uses.",
            "interests": "Gardening, engineering, letters from my cousins in Chennai",
            "credential_name": "Priya S. Raman",
        },
    ),
    PersonSpec(
        "tomas",
        "student",
        "Tomás Silva",
        _email("Tomás Silva"),
        cohort="Year 8 Rowan",
        profile={
            "pronouns": "he/him",
            "bio": "Birdwatcher, solderer, occasional poet.",
            "learning_goals": "Get better at explaining my projects, not only building them.",
            "interests": "Birds, electronics, photography",
        },
    ),
)


# -- evidence files made here ------------------------------------------------------------------


def _midi_hz(note: int) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def sine_melody_wav(
    notes: Sequence[tuple[int | None, float]], *, rate: int = 22050, volume: float = 0.3
) -> bytes:
    """A mono 16-bit WAV of ``notes`` — ``(MIDI note or None for a rest, seconds)`` — played as
    soft sine tones (a touch of the octave above, short attack and release)."""
    samples = array("h")
    peak = volume * 32767
    for note, seconds in notes:
        count = int(rate * seconds)
        attack, release = int(rate * 0.01), int(rate * 0.08)
        frequency = _midi_hz(note) if note is not None else 0.0
        for i in range(count):
            if note is None:
                samples.append(0)
                continue
            envelope = min(1.0, i / attack, (count - i) / release)
            phase = 2 * math.pi * frequency * i / rate
            value = math.sin(phase) + 0.25 * math.sin(2 * phase)
            samples.append(int(peak * envelope * value / 1.25))
    if sys.byteorder == "big":  # WAV samples are little-endian
        samples.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def diagram_png(title: str, steps: Sequence[str], *, colour: tuple[int, int, int]) -> bytes:
    """A small PNG diagram: ``title`` above a row of labelled boxes joined by arrows."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = 720, 300
    image = Image.new("RGB", (width, height), (250, 248, 242))
    draw = ImageDraw.Draw(image)
    title_font = ImageFont.load_default(size=24)
    font = ImageFont.load_default(size=15)
    draw.text((24, 20), title, fill=(30, 30, 30), font=title_font)
    gap = 28
    box = (width - 48 - gap * (len(steps) - 1)) // len(steps)
    top, bottom = 110, 230
    for index, label in enumerate(steps):
        left = 24 + index * (box + gap)
        draw.rounded_rectangle(
            (left, top, left + box, bottom), radius=12, fill=colour, outline=(40, 40, 40), width=2
        )
        lines = _wrap(label, 14)
        for j, line in enumerate(lines):
            y = (top + bottom) // 2 - 10 * len(lines) + 20 * j
            draw.text((left + 10, y), line, fill=(20, 20, 20), font=font)
        if index < len(steps) - 1:
            middle = (top + bottom) // 2
            start, end = left + box + 4, left + box + gap - 4
            draw.line((start, middle, end, middle), fill=(40, 40, 40), width=3)
            draw.polygon(
                [(end, middle), (end - 8, middle - 6), (end - 8, middle + 6)], fill=(40, 40, 40)
            )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


# C major, 0.375 s per beat: "Harbour Lights" (Maya), and its live take a tone higher.
_HARBOUR = ((72, 0.375), (76, 0.375), (79, 0.75), (77, 0.375), (76, 0.375), (74, 0.75))
_RAINY = ((69, 0.5), (72, 0.25), (76, 0.5), (74, 0.25), (72, 0.5), (71, 0.5), (69, 0.5))


def _harbour_lights() -> bytes:
    return sine_melody_wav(_HARBOUR)


def _harbour_lights_live() -> bytes:
    return sine_melody_wav([(n + 2 if n else n, s * 0.95) for n, s in _HARBOUR] + [(79, 0.4)])


def _rainy_tuesday() -> bytes:
    return sine_melody_wav(_RAINY)


def _rain_garden_png() -> bytes:
    return diagram_png(
        "Rain garden by the bike shed",
        ["Roof and downpipe", "Gravel channel", "Rain garden: native plants", "Overflow to drain"],
        colour=(178, 214, 178),
    )


def _bird_camera_png() -> bytes:
    return diagram_png(
        "Solar bird-feeder camera",
        ["Solar panel 6 V", "Charger and battery", "Motion sensor", "Camera: photos to SD card"],
        colour=(190, 210, 235),
    )


def _text(body: str) -> Callable[[], bytes]:
    return lambda: body.strip().encode("utf-8") + b"\n"


HARBOUR_LYRICS = """
# Harbour Lights

*Verse 1*
Gulls are folding up the evening, the ferry's running late,
Grandma's counting out the boats the way she counts her days.

*Chorus*
Harbour lights, harbour lights, bring the slow ones home,
Every window on the water is a window I have known.

*Verse 2*
She says the sea keeps every promise that the sailors make,
Just not always on the day and not for anybody's sake.

*Bridge*
And if I leave this town, I'll leave a light on too,
So something on the water knows the way back through.
"""

HARBOUR_REFLECTION = """
# How “Harbour Lights” changed

My first chorus was just “harbour lights, shining bright”. Ms Nwosu said it told me nothing
I could not see, so I sat on the sea wall for an evening and wrote down what I actually saw:
every lit window has someone in it. The new chorus came from that.

I also moved the bridge. In the first version it came after verse 1 and the song never got
going. Now the bridge comes last, and the melody jumps up for “I'll leave a light on too”.

Next time I want to try writing the melody before the words.
"""

LIGHTHOUSE_STORY = """
# The Lighthouse Keeper's Granddaughter

The lamp had not failed in forty-one years, and on the night it did, Grandad was asleep.

Nell heard it first: not a noise but the absence of one, the hum of the motor that turned the
lens gone quiet under the wind. She climbed the hundred and twelve steps in her socks,
counting, because counting was what you did on those stairs.

The bulb was fine. The motor was dead. Far out, a green light and a red light were moving
where no boat should be moving in that weather.

“You turn it by hand,” Grandad had told her once, years ago, laughing, as if it were a story
about somebody else. There was a crank. It was heavier than it looked. She turned it, and the
beam swung out over the water, slow as a sleepy animal, and swung again.

She turned it for two hours. Her shoulders burned and then stopped burning and then burned
in a new way. The green and red lights found the channel and slid past into the harbour.

In the morning Grandad found her asleep against the crank. He did not say anything. He made
tea, and put three sugars in hers, which he had never once allowed.
"""

CLOCKMAKER_STORY = """
# The Clockmaker's Cat

Every clock in Mr Abel's shop was five minutes fast, except the one the cat slept on.

Detective Sergeant Hollis noticed this at once, because noticing was her job and because the
cat was enormous. “Which of these,” she asked, “was Mr Abel winding when he disappeared?”

Nobody answered. The apprentice, Tam, looked at the cat.

It took Hollis the rest of the afternoon to understand. Mr Abel set every clock fast so that
customers would hurry. The only honest clock was the one under the cat, and the cat had slept
there since Tuesday, so that clock had stopped at 4:17 — the minute the cat lay down, the
minute Mr Abel went out of the back door and did not come back.

At 4:17 on Tuesday the 4:20 train leaves for the coast. Mr Abel was found that evening, in a
deckchair, eating chips, with a postcard half written to the cat.
"""

MONSOON_STORY = """
# Monsoon Letters

Ammamma writes to me when it rains in Chennai, and it rains a lot.

Her letters come in blue envelopes that smell faintly of jasmine and diesel. She tells me
about the flooded street, the neighbour's goat that climbed onto a car, the mango tree that
finally gave up and fell into the road, “very politely, on nobody”.

I write back about our rain, which is thin and grey and apologetic, and about the puddle by
the bike shed that is the size of a small lake. She says every puddle is a letter from the
sky that nobody has read properly.

So this year I read it. I measured it, photographed it, and asked where the water comes from.
That is a different story — it is in my project — but it started with a blue envelope.
"""

RAIN_GARDEN_WRITEUP = """
# A rain garden for the bike shed

## The problem
After heavy rain a puddle up to 9 cm deep covers the path to the bike shed for two days.
I counted 64 students walking through it one Monday morning.

## What I found out
The water comes from the bike shed roof: the downpipe empties straight onto the path. A rain
garden — a shallow bed of plants that soak up and slow down the water — is what many towns use
for this (see the link).

## Design and making
1. Measured the roof (18 m²) to estimate the water after 10 mm of rain: about 180 litres.
2. Sketched three layouts; chose the one that keeps the path dry and the garden away from the
   building's walls.
3. With the caretaker, dug a bed 40 cm deep, filled it with gravel, sand and compost, and
   planted rushes, irises and geraniums that tolerate wet feet.
4. Added a gravel channel from the downpipe and an overflow to the existing drain.

## Did it work?
After the storm on 14 March the path was dry within an hour. The garden still needs the
overflow pipe lowered by a few centimetres — that is my next iteration.
"""

BIRD_CAMERA_WRITEUP = """
# A solar bird-feeder camera

## The problem
Our bird club counts birds at the feeder by hand, twice a week, for ten minutes. We miss most
visits, especially at dawn.

## Design
A camera that photographs every visit, all day, without mains power: a 6 V solar panel
charges a battery pack; a PIR motion sensor wakes a small camera board, which saves a photo
to an SD card and goes back to sleep.

## Iterations
* **Version 1** took 900 photos of a waving branch. I moved the sensor and added a hood.
* **Version 2** ran out of power by 3 pm on cloudy days. I halved the photo rate and now it
  runs for three days without sun.
* **Version 3** is in the feeder now: 212 visits in its first week, 14 species.

## What I would do next
Count species automatically, and write a guide so that the club can build a second one.
"""

LEARNING_JOURNAL = """
# Learning journal — spring term

**Week 1.** Started the bird camera. Soldered the wrong way round twice.

**Week 3.** The camera works but the photos are of a branch. Annoyed.

**Week 5.** Fixed the sensor. I should have tested outside earlier.

**Week 6.** Presentation to the bird club went badly: I talked about the battery for ten
minutes and nobody understood why.
"""

LEO_REFLECTION_DRAFT = """
# What I learnt this term (draft)

I learnt that finishing a song is harder than starting one. I have eleven first verses.
"""


@dataclass(frozen=True)
class FileSpec:
    """A file artefact: its name, title, content maker and accessibility texts."""

    filename: str
    title: str
    content: Callable[[], bytes]
    alt_text: str | None = None
    transcript: str | None = None


@dataclass(frozen=True)
class LinkSpec:
    """A link artefact."""

    url: str
    title: str


@dataclass(frozen=True)
class EvidenceSpec:
    """A piece of evidence: its owner, title (unique per owner), genre, reflection, artefacts."""

    key: str
    owner: str
    title: str
    genre: str
    narrative: str
    competencies: tuple[str, ...]
    artefacts: tuple[FileSpec | LinkSpec, ...]


EVIDENCE = (
    EvidenceSpec(
        key="maya-song",
        owner="maya",
        title="Harbour Lights (song)",
        genre="Song",
        narrative="An original song about my grandmother's harbour town. I wrote the melody "
        "on ukulele and recorded a guide track with a synth so that the tune is clear.",
        competencies=("song",),
        artefacts=(
            FileSpec(
                "harbour-lights.wav",
                "Harbour Lights — studio demo",
                _harbour_lights,
                transcript=HARBOUR_LYRICS.strip(),
            ),
            FileSpec("harbour-lights-lyrics.md", "Lyrics", _text(HARBOUR_LYRICS)),
        ),
    ),
    EvidenceSpec(
        key="maya-song-reflection",
        owner="maya",
        title="How Harbour Lights changed",
        genre="Reflection",
        narrative="What I changed after the first feedback, and why.",
        competencies=("song", "reflection"),
        artefacts=(FileSpec("reflection.md", "Reflection", _text(HARBOUR_REFLECTION)),),
    ),
    EvidenceSpec(
        key="maya-story",
        owner="maya",
        title="The Lighthouse Keeper's Granddaughter",
        genre="Short story",
        narrative="A short story (about 350 words) written for the *Night* prompt.",
        competencies=("story",),
        artefacts=(FileSpec("lighthouse.md", "The story", _text(LIGHTHOUSE_STORY)),),
    ),
    EvidenceSpec(
        key="maya-live",
        owner="maya",
        title="Harbour Lights — live at the spring concert",
        genre="Performance",
        narrative="My first time singing my own song for an audience (about 200 people). "
        "Recorded from the sound desk; we played it a tone higher than the demo.",
        competencies=("performance",),
        artefacts=(
            FileSpec(
                "harbour-lights-live.wav",
                "Live recording",
                _harbour_lights_live,
                transcript=HARBOUR_LYRICS.strip(),
            ),
        ),
    ),
    EvidenceSpec(
        key="leo-song",
        owner="leo",
        title="Rainy Tuesday (song)",
        genre="Song",
        narrative="A song in A minor. The drums are in my head; this is the tune.",
        competencies=("song",),
        artefacts=(
            FileSpec("rainy-tuesday.wav", "Rainy Tuesday — demo", _rainy_tuesday),
            FileSpec(
                "rainy-tuesday-lyrics.txt",
                "Lyrics",
                _text("Rainy Tuesday, rainy Tuesday,\nnothing ever happens on a rainy Tuesday."),
            ),
        ),
    ),
    EvidenceSpec(
        key="leo-story",
        owner="leo",
        title="The Clockmaker's Cat",
        genre="Short story",
        narrative="A mystery story. I tried to hide the clue in plain sight.",
        competencies=("story",),
        artefacts=(FileSpec("clockmakers-cat.md", "The story", _text(CLOCKMAKER_STORY)),),
    ),
    EvidenceSpec(
        key="leo-reflection",
        owner="leo",
        title="What I learnt this term",
        genre="Reflection",
        narrative="Not finished yet.",
        competencies=("reflection",),
        artefacts=(FileSpec("reflection-draft.md", "Draft", _text(LEO_REFLECTION_DRAFT)),),
    ),
    EvidenceSpec(
        key="priya-project",
        owner="priya",
        title="A rain garden for the bike shed",
        genre="Project",
        narrative="How I turned the worst puddle in school into a garden, with the caretaker's "
        "help.",
        competencies=("project",),
        artefacts=(
            FileSpec("rain-garden.md", "Project write-up", _text(RAIN_GARDEN_WRITEUP)),
            FileSpec(
                "rain-garden-plan.png",
                "Plan of the rain garden",
                _rain_garden_png,
                alt_text="Diagram: water flows from the roof and downpipe through a gravel "
                "channel into the rain garden's native plants, with an overflow to the drain.",
            ),
            LinkSpec("https://en.wikipedia.org/wiki/Rain_garden", "Background: rain gardens"),
        ),
    ),
    EvidenceSpec(
        key="priya-story",
        owner="priya",
        title="Monsoon Letters",
        genre="Short story",
        narrative="A story built from my grandmother's letters.",
        competencies=("story",),
        artefacts=(FileSpec("monsoon-letters.md", "The story", _text(MONSOON_STORY)),),
    ),
    EvidenceSpec(
        key="tomas-project",
        owner="tomas",
        title="A solar bird-feeder camera",
        genre="Project",
        narrative="A camera for the bird club that counts visits all day on solar power.",
        competencies=("project",),
        artefacts=(
            FileSpec("bird-camera.md", "Project write-up", _text(BIRD_CAMERA_WRITEUP)),
            FileSpec(
                "bird-camera-diagram.png",
                "How the camera works",
                _bird_camera_png,
                alt_text="Diagram: a 6 volt solar panel feeds a charger and battery, which "
                "powers a motion sensor that wakes a camera saving photos to an SD card.",
            ),
            LinkSpec("https://en.wikipedia.org/wiki/Bird_feeder", "Background: bird feeders"),
        ),
    ),
    EvidenceSpec(
        key="tomas-journal",
        owner="tomas",
        title="Learning journal — spring term",
        genre="Reflection",
        narrative="My weekly notes while building the bird camera.",
        competencies=("reflection",),
        artefacts=(FileSpec("journal.md", "Journal", _text(LEARNING_JOURNAL)),),
    ),
)


# -- what happens to the submissions ---------------------------------------------------------


@dataclass(frozen=True)
class Assess:
    """An assessor's decision (levels are rubric level indexes, one per criterion)."""

    assessor: str
    decision: str
    levels: tuple[int, ...]
    feedback: str = ""
    criterion_feedback: tuple[str, ...] = ()


@dataclass(frozen=True)
class Revise:
    """The student changes the evidence and note, then resubmits."""

    evidence: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class SetStatus:
    """An administrator revokes or suspends the credential the submission earned."""

    action: str
    reason: str
    actor: str = "admin"


Step = Assess | Revise | SetStatus


@dataclass(frozen=True)
class Scenario:
    """One student's submission for one competency, and what happens to it, in order."""

    key: str
    student: str
    competency: str
    evidence: tuple[str, ...]
    note: str
    steps: tuple[Step, ...] = ()
    submit: bool = True


SCENARIOS = (
    Scenario(
        "maya-song",
        "maya",
        "song",
        ("maya-song",),
        "My first real song. I am not sure about the chorus.",
        (
            Assess(
                "amara",
                "revise",
                (2, 1, 1),
                feedback="A lovely melody, Maya. The chorus tells us what we can already see: "
                "what do the harbour lights mean to you? And try moving the bridge.",
                criterion_feedback=(
                    "Singable and it suits the words.",
                    "Verse 2 is strong; the chorus is generic.",
                    "The bridge comes too early and the song stalls.",
                ),
            ),
            Revise(
                ("maya-song", "maya-song-reflection"),
                "New chorus and the bridge moved to the end; my reflection explains why.",
            ),
            Assess(
                "amara",
                "endorse",
                (3, 2, 2),
                feedback="The new chorus lands — “every window on the water” is the heart of "
                "the song. Mastery, with a melody people will hum.",
                criterion_feedback=("Memorable.", "Fresh images now.", "It builds."),
            ),
        ),
    ),
    Scenario(
        "maya-story",
        "maya",
        "story",
        ("maya-story",),
        "Written for the Night prompt.",
        (
            Assess(
                "amara",
                "endorse",
                (3, 3, 2),
                feedback="The three sugars at the end say everything. 11 of 12 points.",
            ),
        ),
    ),
    Scenario(
        "maya-performance",
        "maya",
        "performance",
        ("maya-live",),
        "From the spring concert. I was terrified.",
    ),
    Scenario(
        "leo-song",
        "leo",
        "song",
        ("leo-song",),
        "The chorus is the whole song, is that allowed?",
        (
            Assess(
                "amara",
                "revise",
                (1, 2, 0),
                feedback="There is a real hook here, Leo, but the song needs somewhere to go. "
                "Write a verse that tells us what happened on the Tuesday, and a bridge.",
                criterion_feedback=(
                    "The tune sits on three notes; give the chorus a lift.",
                    "The chorus line is fun. Now show us the day.",
                    "One section repeated: add verses and a bridge.",
                ),
            ),
        ),
    ),
    Scenario(
        "leo-story",
        "leo",
        "story",
        ("leo-story",),
        "A mystery with the clue in plain sight.",
        (
            Assess(
                "amara",
                "endorse",
                (2, 2, 2),
                feedback="A neat, fair-play mystery and a very good cat. 9 of 12 points.",
            ),
            SetStatus(
                "suspend",
                "Under review: the assessor is checking the originality of the submitted story",
            ),
        ),
    ),
    Scenario(
        "leo-reflection",
        "leo",
        "reflection",
        ("leo-reflection",),
        "Draft — still writing.",
        submit=False,
    ),
    Scenario(
        "priya-story",
        "priya",
        "story",
        ("priya-story",),
        "Based on my grandmother's letters.",
        (
            Assess(
                "amara",
                "endorse",
                (3, 2, 2),
                feedback="Warm and funny; the goat on the car is perfect. 10 of 12 points.",
            ),
            SetStatus(
                "revoke",
                "Issued in error: the story was assessed as individual work but was written "
                "in a group",
            ),
        ),
    ),
    Scenario(
        "priya-project",
        "priya",
        "project",
        ("priya-project",),
        "The garden is planted and the path stays dry.",
        (
            Assess(
                "daniel",
                "endorse",
                (3, 2, 3, 2),
                feedback="A real problem, measured and solved. 14 of 16 points.",
            ),
            Assess(
                "amara",
                "revise",
                (2, 1, 2, 1),
                feedback="Impressive making, but I cannot see the design process: where are "
                "the three layouts you sketched and why did you choose this one?",
                criterion_feedback=(
                    "",
                    "Show the sketches and the test that made you choose.",
                    "",
                    "Add a labelled photo of the finished garden.",
                ),
            ),
        ),
    ),
    Scenario(
        "tomas-project",
        "tomas",
        "project",
        ("tomas-project",),
        "Version 3 is in the feeder now.",
        (
            Assess(
                "daniel",
                "endorse",
                (3, 3, 2, 3),
                feedback="Three honest iterations, each driven by a test. 15 of 16 points.",
            ),
            Assess(
                "amara",
                "endorse",
                (3, 2, 2, 3),
                feedback="Clear enough for the club to build a second one. 14 of 16 points.",
            ),
        ),
    ),
    Scenario(
        "tomas-reflection",
        "tomas",
        "reflection",
        ("tomas-journal",),
        "Six weeks of notes.",
        (
            Assess(
                "daniel",
                "not_yet",
                (1, 0),
                feedback="You describe what happened well. Next: why did it happen, and what "
                "will you do differently? Start a new submission when you have four more "
                "weeks of notes with next steps.",
                criterion_feedback=(
                    "“I should have tested outside earlier” is the start of an insight — "
                    "follow it.",
                    "No next steps yet.",
                ),
            ),
        ),
    ),
)


# -- seeding -----------------------------------------------------------------------------------


@dataclass
class DemoSchool:
    """What :func:`seed` made or found, and how many rows of each kind it created."""

    issuer: Issuer
    framework: CompetencyFramework
    competencies: dict[str, Competency]
    people: dict[str, User]
    #: email → password, as recorded in the accounts file (None when not recorded there).
    passwords: dict[str, str | None]
    evidence: dict[str, Evidence]
    submissions: dict[str, Submission]
    created: Counter[str]
    accounts_file: Path

    def credential(self, scenario: str) -> IssuedCredential | None:
        """The credential the scenario's submission earned, if any."""
        submission = self.submissions.get(scenario)
        return submission.credential if submission is not None else None

    def stack_credential(self, student: str, stack: str = "creator") -> IssuedCredential | None:
        """The stack badge ``student`` holds, if any."""
        competency = self.competencies.get(stack)
        row = mastered(self.people[student], competency) if competency is not None else None
        return row.credential if row is not None else None


def seed(issuer: Issuer, *, instance_path: str | Path) -> DemoSchool:
    """Seed the demo school for ``issuer`` (whose signing key must exist); idempotent."""
    created: Counter[str] = Counter()
    accounts_file = Path(instance_path) / ACCOUNTS_FILE
    framework, competencies = seed_catalogue(issuer, created)
    people = seed_people(issuer, accounts_file, created)
    evidence = seed_evidence(people, competencies, created)
    submissions = {}
    # The demo's people are made up: their notices stay in-app, never mailed.
    notify_by_mail = current_app.config.get("CREDFOLIO_NOTIFY_BY_MAIL", True)
    current_app.config["CREDFOLIO_NOTIFY_BY_MAIL"] = False
    try:
        for scenario in SCENARIOS:
            submission = play(scenario, people, competencies, evidence, created)
            if submission is not None:
                submissions[scenario.key] = submission
    finally:
        current_app.config["CREDFOLIO_NOTIFY_BY_MAIL"] = notify_by_mail
    return DemoSchool(
        issuer=issuer,
        framework=framework,
        competencies=competencies,
        people=people,
        passwords=read_accounts(accounts_file),
        evidence=evidence,
        submissions=submissions,
        created=created,
        accounts_file=accounts_file,
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
    begin_write()
    try:
        framework = _add_framework(issuer)
        created["frameworks"] += 1
        competencies = {
            spec.key: _competency(issuer, framework, spec, position)
            for position, spec in enumerate(COMPETENCIES)
        }
        created["competencies"] += len(competencies)
        for spec in COMPETENCIES:
            _link_competency(spec, competencies, created)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
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


def read_accounts(path: Path) -> dict[str, str | None]:
    """email → password from the accounts file (the last line for an address wins)."""
    accounts: dict[str, str | None] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 3:
                accounts[parts[1]] = parts[2]
    return accounts


def _record_accounts(path: Path, lines: Sequence[str]) -> None:
    """Append ``lines`` to the accounts file, created owner-only (0600) and kept so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as out:
        out.writelines(line + "\n" for line in lines)
        out.flush()
        os.fsync(out.fileno())
    path.chmod(0o600)


def seed_people(issuer: Issuer, accounts_file: Path, created: Counter[str]) -> dict[str, User]:
    """The accounts (one transaction) and students' learner profiles.

    New accounts get a random password, appended to the accounts file before the commit (a
    failed commit leaves a stale line, which the next run's line for that address replaces).
    """
    emails = [spec.email for spec in PEOPLE]
    existing = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    new = [spec for spec in PEOPLE if spec.email not in existing]
    passwords = {spec.email: secrets.token_urlsafe(12) for spec in new}
    hasher = password_hasher()  # chosen here: the pool's threads have no app context
    with ThreadPoolExecutor() as pool:  # argon2 is slow on purpose; it releases the GIL
        hashes = dict(zip(passwords, pool.map(hasher.hash, passwords.values()), strict=True))
    if new:
        _record_accounts(accounts_file, [f"{s.role} {s.email} {passwords[s.email]}" for s in new])
    begin_write()
    try:
        people = {}
        for spec in PEOPLE:
            user = existing.get(spec.email)
            if user is None:
                user = User(
                    email=spec.email,
                    password_hash=hashes[spec.email],
                    display_name=spec.name,
                    role=spec.role,
                    issuer_id=issuer.id,
                    cohort=spec.cohort,
                )
                db.session.add(user)
                db.session.flush()
                created["accounts"] += 1
                if spec.role == "student":
                    db.session.add(LearnerProfile(user_id=user.id, **spec.profile))
                    created["profiles"] += 1
            people[spec.key] = user
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return people


def seed_evidence(
    people: Mapping[str, User], competencies: Mapping[str, Competency], created: Counter[str]
) -> dict[str, Evidence]:
    """Every piece of evidence with its files and links (one transaction each)."""
    found = {}
    for spec in EVIDENCE:
        owner = people[spec.owner]
        row = db.session.scalar(
            select(Evidence).where(Evidence.owner_id == owner.id, Evidence.title == spec.title)
        )
        if row is None:
            row = _evidence(owner, spec, competencies)
            created["evidence"] += 1
        found[spec.key] = row
    return found


def _evidence(owner: User, spec: EvidenceSpec, competencies: Mapping[str, Competency]) -> Evidence:
    begin_write()
    try:
        row = Evidence(
            owner_id=owner.id,
            title=spec.title,
            narrative=spec.narrative,
            genre=spec.genre,
            competencies=[
                achievement_url(competencies[key])
                for key in spec.competencies
                if key in competencies
            ],
        )
        db.session.add(row)
        db.session.flush()
        for artefact in spec.artefacts:
            if isinstance(artefact, LinkSpec):
                add_link_artefact(row, url=artefact.url, title=artefact.title)
                continue
            upload = FileStorage(io.BytesIO(artefact.content()), filename=artefact.filename)
            add_file_artefact(
                row,
                upload,
                title=artefact.title,
                alt_text=artefact.alt_text,
                transcript=artefact.transcript,
            )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return row


def play(
    scenario: Scenario,
    people: Mapping[str, User],
    competencies: Mapping[str, Competency],
    evidence: Mapping[str, Evidence],
    created: Counter[str],
) -> Submission | None:
    """Run ``scenario`` through the assessment services, unless its submission exists (then
    return that one, as it is now); None when its competency was removed from the catalogue."""
    student = people[scenario.student]
    competency = competencies.get(scenario.competency)
    if competency is None:
        return None
    existing: Submission | None = db.session.scalar(
        select(Submission)
        .where(Submission.student_id == student.id, Submission.competency_id == competency.id)
        .order_by(Submission.id.desc())
        .limit(1)
    )
    if existing is not None:
        return existing
    submission = assessment.create_submission(
        student,
        competency,
        evidence_ids=[evidence[key].public_id for key in scenario.evidence],
        note=scenario.note,
        submit=scenario.submit,
    )
    created["submissions"] += 1
    for step in scenario.steps:
        if isinstance(step, Assess):
            outcome = assessment.assess(
                submission,
                people[step.assessor],
                decision=step.decision,
                levels=step.levels,
                criterion_feedback=step.criterion_feedback,
                feedback=step.feedback,
            )
            created["credentials"] += (outcome.credential is not None) + len(outcome.stacks)
        elif isinstance(step, Revise):
            assessment.update_submission(
                submission,
                student,
                evidence_ids=[evidence[key].public_id for key in step.evidence],
                note=step.note,
            )
            assessment.submit(submission, student)
        else:
            credential = submission.credential
            if credential is None:
                raise RuntimeError(f"demo scenario {scenario.key}: no credential to {step.action}")
            services.set_status(
                credential,
                step.action,
                reason=step.reason,
                actor=f"user:{people[step.actor].id}",
            )
            created["revoked" if step.action == "revoke" else "suspended"] += 1
    return submission


# -- what to tell the person running the demo --------------------------------------------------

ROLE_LABELS = {"admin": "Administrator", "assessor": "Assessor", "student": "Student"}


#: What :func:`created_line` reports, in order: (counter key, singular, plural).
_CREATED = (
    ("frameworks", "framework", "frameworks"),
    ("competencies", "competency", "competencies"),
    ("rubrics", "rubric", "rubrics"),
    ("accounts", "account", "accounts"),
    ("profiles", "learner profile", "learner profiles"),
    ("evidence", "piece of evidence", "pieces of evidence"),
    ("submissions", "submission", "submissions"),
    ("credentials", "credential", "credentials"),
    ("revoked", "revocation", "revocations"),
    ("suspended", "suspension", "suspensions"),
)


def created_line(school: DemoSchool) -> str:
    """One line saying what this run added (or that it added nothing)."""
    parts = [
        f"{count} {singular if count == 1 else plural}"
        for key, singular, plural in _CREATED
        if (count := school.created[key])
    ]
    if not parts:
        return "Demo school: already seeded, nothing added."
    return "Demo school: added " + ", ".join(parts) + "."


def summary_lines(school: DemoSchool, public_url: str) -> list[str]:
    """Sign-in details for every demo account and a few pages worth opening."""
    base = public_url.rstrip("/")
    lines = [created_line(school), f"Sign in at {base}/sign-in with:"]
    for spec in PEOPLE:
        user = school.people[spec.key]
        password = school.passwords.get(user.email) or "(password not recorded)"
        label = f"{ROLE_LABELS[user.role] + ':':<14}"
        if user.role == "admin":
            lines.append(f"{label} {user.email} / {password}  (sign in at /sign-in)")
        else:
            who = user.display_name + (f", {user.cohort}" if user.cohort else "")
            lines.append(f"{label} {user.email} / {password}  ({who})")
    lines.append(f"(The passwords are also in {school.accounts_file}, readable by you only.)")

    def page(label: str, path: str) -> None:
        lines.append(f"  {label + ':':<44} {base}{path}")

    lines.append("Pages to try:")
    for scenario in ("maya-song", "priya-story", "leo-story"):
        row = school.credential(scenario)
        if row is not None:
            who = school.people[scenario.split("-")[0]].display_name.split()[0]
            state = "Public" if row.state == "active" else row.state.capitalize()
            page(f"{state} credential ({who}, {row.achievement_name})", f"/c/{row.public_id}")
    badge = school.stack_credential("maya")
    if badge is not None:
        page(f"Stack badge (Maya, {badge.achievement_name})", f"/c/{badge.public_id}")
    page("Review queue (sign in as an assessor)", "/review")
    flagged = school.submissions.get("priya-project")
    if flagged is not None and flagged.flagged_at is not None:
        page("Flagged for moderation (as the admin)", assessment.review_path(flagged))
    page("Progress map (as a student, e.g. Maya)", "/progress")
    revision = school.submissions.get("leo-song")
    if revision is not None and revision.state == "revision_requested":
        page("Revision requested (as Leo)", assessment.submission_path(revision))
    page("Cohort view (as an assessor or the admin)", "/cohort")
    page("Catalogue (as the admin)", "/admin/catalogue")
    page("Verify a credential (anyone)", "/verify")
    return lines
