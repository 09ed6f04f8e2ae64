"""The demo's evidence: real files made here (song recordings as WAV sine melodies, stories and
write-ups in Markdown, project diagrams in PNG) and links, each piece seeded in its own
transaction (found again by title per owner)."""

from __future__ import annotations

import io
import math
import sys
import wave
from array import array
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portfolio.accounts.models import User
from portfolio.catalogue.achievements import achievement_url
from portfolio.catalogue.models import Competency
from portfolio.core.db import db, unit_of_work
from portfolio.evidence.artefacts import add_file_artefact, add_link_artefact
from portfolio.evidence.models import Evidence


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
    with unit_of_work(write=True):
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
    return row
