"""The competency catalogue's rules, shared by its pages, the CASE and CSV imports and the CLI:
field checks, per-issuer lookups, prerequisites and stacks without cycles, archiving, images.

Nothing here commits: callers own the transaction (see :func:`lock_catalogue`).
"""

from __future__ import annotations

import io
import math
import re
import uuid
from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from flask import current_app
from sqlalchemy import delete, exists, func, or_, select
from werkzeug.datastructures import FileStorage

from portfolio.accounts.models import Issuer, User
from portfolio.catalogue.models import (
    ACHIEVEMENT_TYPES,
    Competency,
    CompetencyFramework,
    Prerequisite,
    RubricVersion,
    StackComponent,
)
from portfolio.core.db import Model, begin_write, db
from portfolio.core.models import utcnow
from portfolio.files import media, uploads
from portfolio.files.models import Blob

MAX_IDENTIFIER = 256
MAX_NAME = 512
MAX_TEXT = 50_000
MAX_SHORT = 128  # level, human code, a tag
MAX_URL = 2048
MAX_TAGS = 30
MAX_ALIGNMENTS = 20
MAX_CREDITS = 10_000
#: Badge images: the same content checks as evidence images, and at most this many bytes.
IMAGE_TYPES = media.IMAGE_TYPES
MAX_IMAGE_BYTES = 5 * 1024 * 1024

#: OB 3.0 AlignmentTargetType (the spec's enumeration).
ALIGNMENT_TARGET_TYPES = (
    "CFItem",
    "CFRubric",
    "CFRubricCriterion",
    "CFRubricCriterionLevel",
    "ceasn:Competency",
    "ceterms:Credential",
    "CTDL",
)
#: The form and CSV names of an alignment's parts → the OB 3.0 Alignment property names.
ALIGNMENT_PARTS = {
    "name": "targetName",
    "url": "targetUrl",
    "code": "targetCode",
    "framework": "targetFramework",
    "type": "targetType",
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


N = TypeVar("N", bound=Hashable)


class CatalogueError(ValueError):
    """A catalogue change that cannot be made; ``message`` is safe to show, ``field`` names the
    form field it belongs to (None for the page as a whole)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# -- field checks ----------------------------------------------------------------------------


def check_text(value: Any, label: str, *, limit: int, required: bool = False) -> str:
    """``value`` stripped; raises :class:`CatalogueError` when it is not text, is empty while
    ``required``, is longer than ``limit`` or holds control characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise CatalogueError(f"{label} must be text.")
    text = value.strip()
    if required and not text:
        raise CatalogueError(f"Enter {label.lower()}.")
    if len(text) > limit:
        raise CatalogueError(f"{label} must have at most {limit} characters.")
    if _CONTROL.search(text):
        raise CatalogueError(f"{label} contains control characters.")
    return text


def check_identifier(value: Any) -> str:
    """An identifier: 1–256 characters, no spaces or control characters."""
    identifier = check_text(value, "The identifier", limit=MAX_IDENTIFIER, required=True)
    if re.search(r"\s", identifier):
        raise CatalogueError("The identifier may not contain spaces.")
    return identifier


def check_achievement_type(value: Any) -> str:
    """One of :data:`portfolio.catalogue.models.ACHIEVEMENT_TYPES` (empty means ``Competency``)."""
    kind = check_text(value, "The achievement type", limit=64) or "Competency"
    if kind not in ACHIEVEMENT_TYPES:
        raise CatalogueError(
            f"Unknown achievement type “{kind}” (one of {', '.join(ACHIEVEMENT_TYPES)})."
        )
    return kind


def parse_tags(value: Any) -> list[str]:
    """Tags from ``"a; b"`` or a list: stripped, empty ones dropped, repeats (ignoring case)
    dropped, at most :data:`MAX_TAGS` of at most :data:`MAX_SHORT` characters."""
    if value is None:
        return []
    parts = value.split(";") if isinstance(value, str) else list(value)
    tags: list[str] = []
    seen: set[str] = set()
    for part in parts:
        tag = " ".join(check_text(part, "A tag", limit=MAX_SHORT).split())
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise CatalogueError(f"Give at most {MAX_TAGS} tags.")
    return tags


def check_credits(value: Any) -> float | None:
    """Credits: empty, or a number from 0 to :data:`MAX_CREDITS`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CatalogueError("Credits must be a number.")
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise CatalogueError("Credits must be a number, like 2 or 0.5.") from None
    if not math.isfinite(number) or not 0 <= number <= MAX_CREDITS:
        raise CatalogueError(f"Credits must be a number from 0 to {MAX_CREDITS}.")
    return number


def check_required_endorsements(value: Any) -> int:
    """How many assessors must agree: a whole number from 1 to 5 (empty means 1)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 1
    if isinstance(value, bool):
        raise CatalogueError("Required endorsements must be a whole number from 1 to 5.")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 1 <= value <= 5:
        raise CatalogueError("Required endorsements must be a whole number from 1 to 5.")
    return value


def check_web_url(value: Any, label: str) -> str:
    """An absolute ``http``/``https`` URL (no credentials, at most 2048 characters)."""
    if not isinstance(value, str):
        raise CatalogueError(f"{label} must be a web address.")
    try:
        return uploads.check_link(value)
    except uploads.UploadError:
        raise CatalogueError(f"{label} must be a web address starting with https://.") from None


def check_alignment(row: Mapping[str, Any], *, label: str = "The alignment") -> dict[str, str]:
    """An OB 3.0 Alignment (``targetName``, ``targetUrl`` and optional ``targetCode``,
    ``targetFramework``, ``targetType``) from a row keyed ``name``, ``url``, ``code``,
    ``framework``, ``type``; an empty dict when every part is empty.

    Raises :class:`CatalogueError` whose ``field`` is the part at fault.
    """
    clean: dict[str, str] = {}
    for part in ALIGNMENT_PARTS:
        try:
            clean[part] = check_text(row.get(part), f"{label}'s {part}", limit=MAX_URL)
        except CatalogueError as error:
            raise CatalogueError(error.message, part) from None
    if not any(clean.values()):
        return {}
    if not clean["name"]:
        raise CatalogueError(f"{label} needs a target name.", "name")
    if len(clean["name"]) > MAX_NAME:
        raise CatalogueError(f"{label}'s name must have at most {MAX_NAME} characters.", "name")
    if not clean["url"]:
        raise CatalogueError(f"{label} needs a target address (https://…).", "url")
    try:
        check_web_url(clean["url"], f"{label}'s address")
    except CatalogueError as error:
        raise CatalogueError(error.message, "url") from None
    kind = clean["type"]
    if kind and kind not in ALIGNMENT_TARGET_TYPES and not re.fullmatch(r"ext:[\w.-]+", kind):
        raise CatalogueError(
            f"{label}'s type must be one of {', '.join(ALIGNMENT_TARGET_TYPES)}.", "type"
        )
    return {ALIGNMENT_PARTS[part]: text for part, text in clean.items() if text}


def alignment_row(alignment: Mapping[str, Any]) -> dict[str, str]:
    """The form/CSV row (``name``, ``url``, ...) of a stored OB 3.0 Alignment."""
    return {part: str(alignment.get(key) or "") for part, key in ALIGNMENT_PARTS.items()}


#: The fields :func:`clean_values` checks, with the label used in messages.
FIELD_LABELS = {
    "identifier": "The identifier",
    "name": "The name",
    "description": "The description",
    "criteria_narrative": "The criteria",
    "achievement_type": "The achievement type",
    "tags": "Tags",
    "level": "The level",
    "credits": "Credits",
    "human_code": "The code",
    "required_endorsements": "Required endorsements",
    "alignments": "Alignments",
}


def _clean_one(name: str, value: Any) -> Any:
    label = FIELD_LABELS[name]
    if name == "identifier":
        return check_identifier(value)
    if name == "name":
        return " ".join(check_text(value, label, limit=MAX_NAME, required=True).split())
    if name in ("description", "criteria_narrative"):
        return check_text(value, label, limit=MAX_TEXT)
    if name == "achievement_type":
        return check_achievement_type(value)
    if name == "tags":
        return parse_tags(value)
    if name in ("level", "human_code"):
        return check_text(value, label, limit=MAX_SHORT) or None
    if name == "credits":
        return check_credits(value)
    if name == "required_endorsements":
        return check_required_endorsements(value)
    raise KeyError(name)


def clean_values(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Check the competency fields present in ``raw`` (see :data:`FIELD_LABELS`).

    ``raw["alignments"]`` is a list of rows (see :func:`check_alignment`); blank rows are
    dropped.  Returns ``(values, errors)``: ``errors`` maps a field name (``alignment-<i>-<part>``
    for alignments) to a message, and is empty when ``values`` can be stored.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in FIELD_LABELS:
        if name not in raw or name == "alignments":
            continue
        try:
            values[name] = _clean_one(name, raw[name])
        except CatalogueError as error:
            errors[name] = error.message
    if "alignments" in raw:
        rows = list(raw["alignments"] or [])
        alignments = []
        for index, row in enumerate(rows):
            try:
                alignment = check_alignment(row, label=f"Alignment {index + 1}")
            except CatalogueError as error:
                errors[f"alignment-{index}-{error.field}"] = error.message
                continue
            if alignment:
                alignments.append(alignment)
        if len(alignments) > MAX_ALIGNMENTS:
            errors["alignments"] = f"Give at most {MAX_ALIGNMENTS} alignments."
        values["alignments"] = alignments
    return values, errors


def is_uuid(value: str) -> bool:
    """Whether ``value`` is written as a UUID (what CASE requires of identifiers)."""
    return _UUID.fullmatch(value) is not None


def case_identifier(identifier: str) -> str:
    """The identifier as CASE writes it: itself when it is a UUID, otherwise a UUID derived
    from it (the same every time, so an exported framework re-imports onto the same rows)."""
    if is_uuid(identifier):
        return identifier
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"credfolio:competency:{identifier}"))


# -- lookups ---------------------------------------------------------------------------------


def lock_catalogue(issuer_id: int) -> None:
    """Start a write transaction that holds the issuer's catalogue for itself.

    Checks such as "no cycle of prerequisites" read the whole graph before writing; two admins
    adding A → B and B → A at once would each see no cycle.  The issuer's row is locked (FOR
    UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE takes the write lock), so such units run
    one after the other.
    """
    begin_write()
    db.session.execute(select(Issuer.id).where(Issuer.id == issuer_id).with_for_update())


def find_competency(issuer_id: int, public_id: str) -> Competency | None:
    """The issuer's competency with that public id (None for another issuer's)."""
    competency: Competency | None = db.session.scalar(
        select(Competency).where(
            Competency.public_id == public_id, Competency.issuer_id == issuer_id
        )
    )
    return competency


def competencies_by_identifier(issuer_id: int) -> dict[str, Competency]:
    """Every competency of the issuer (archived too), keyed by identifier."""
    rows = db.session.scalars(select(Competency).where(Competency.issuer_id == issuer_id))
    return {row.identifier: row for row in rows}


def issuer_competencies(issuer_id: int, *, include_archived: bool = True) -> list[Competency]:
    """The issuer's competencies by framework (frameworkless last), position, then name."""
    query = (
        select(Competency)
        .outerjoin(CompetencyFramework, Competency.framework_id == CompetencyFramework.id)
        .where(Competency.issuer_id == issuer_id)
        .order_by(
            CompetencyFramework.title.is_(None),
            CompetencyFramework.title,
            Competency.framework_id,
            Competency.position,
            Competency.name,
            Competency.id,
        )
    )
    if not include_archived:
        query = query.where(Competency.archived_at.is_(None))
    return list(db.session.scalars(query))


def issuer_frameworks(issuer_id: int) -> list[CompetencyFramework]:
    """The issuer's frameworks by title."""
    return list(
        db.session.scalars(
            select(CompetencyFramework)
            .where(CompetencyFramework.issuer_id == issuer_id)
            .order_by(CompetencyFramework.title, CompetencyFramework.id)
        )
    )


def find_framework(issuer_id: int, key: str) -> CompetencyFramework | None:
    """The issuer's framework whose public id or CASE identifier is ``key``."""
    framework: CompetencyFramework | None = db.session.scalar(
        select(CompetencyFramework).where(
            CompetencyFramework.issuer_id == issuer_id,
            or_(CompetencyFramework.public_id == key, CompetencyFramework.identifier == key),
        )
    )
    return framework


def next_position(issuer_id: int, framework_id: int | None) -> int:
    """The position after the last competency of a framework (or of the frameworkless ones)."""
    in_framework = (
        Competency.framework_id.is_(None)
        if framework_id is None
        else Competency.framework_id == framework_id
    )
    highest = db.session.scalar(
        select(func.max(Competency.position)).where(Competency.issuer_id == issuer_id, in_framework)
    )
    return 0 if highest is None else int(highest) + 1


# -- prerequisites and stacks ----------------------------------------------------------------


def find_path(graph: Mapping[N, Iterable[N]], start: N, goal: N) -> list[N] | None:
    """A shortest path ``[start, ..., goal]`` along the edges of ``graph``, or None."""
    previous: dict[N, N | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path: list[N] = []
            step: N | None = node
            while step is not None:
                path.append(step)
                step = previous[step]
            return path[::-1]
        for neighbour in graph.get(node, ()):
            if neighbour not in previous:
                previous[neighbour] = node
                queue.append(neighbour)
    return None


def prerequisite_graph(issuer_id: int) -> dict[int, set[int]]:
    """competency id → the ids of its prerequisites, for the issuer's whole catalogue."""
    rows = db.session.execute(
        select(Prerequisite.competency_id, Prerequisite.prerequisite_id)
        .join(Competency, Competency.id == Prerequisite.competency_id)
        .where(Competency.issuer_id == issuer_id)
    )
    graph: dict[int, set[int]] = {}
    for competency_id, prerequisite_id in rows:
        graph.setdefault(competency_id, set()).add(prerequisite_id)
    return graph


def component_graph(issuer_id: int) -> dict[int, set[int]]:
    """stack id → the ids of its components, for the issuer's whole catalogue."""
    rows = db.session.execute(
        select(StackComponent.stack_id, StackComponent.component_id)
        .join(Competency, Competency.id == StackComponent.stack_id)
        .where(Competency.issuer_id == issuer_id)
    )
    graph: dict[int, set[int]] = {}
    for stack_id, component_id in rows:
        graph.setdefault(stack_id, set()).add(component_id)
    return graph


def _names(ids: Sequence[int]) -> str:
    rows = db.session.execute(select(Competency.id, Competency.name).where(Competency.id.in_(ids)))
    names = {competency_id: name for competency_id, name in rows}
    return " → ".join(f"“{names.get(each, each)}”" for each in ids)


def _check_same_issuer(owner: Competency, others: Sequence[Competency]) -> None:
    for other in others:
        if other.issuer_id != owner.issuer_id:
            raise CatalogueError("Only competencies of the same issuer can be chosen.")


def set_prerequisites(competency: Competency, prerequisites: Sequence[Competency]) -> None:
    """Make ``prerequisites`` exactly the competency's prerequisites.

    Raises :class:`CatalogueError` naming the loop when one of them already requires
    ``competency`` (directly or through others), or requires itself; nothing is changed then.
    """
    _check_same_issuer(competency, prerequisites)
    chosen = {each.id for each in prerequisites}
    graph = prerequisite_graph(competency.issuer_id)
    graph[competency.id] = set()
    for prerequisite in sorted(prerequisites, key=lambda each: each.name):
        if prerequisite.id == competency.id:
            raise CatalogueError(f"“{competency.name}” cannot be its own prerequisite.")
        path = find_path(graph, prerequisite.id, competency.id)
        if path is not None:
            raise CatalogueError(
                f"“{prerequisite.name}” cannot be a prerequisite of “{competency.name}”: "
                f"that would make a loop ({_names([competency.id, *path])})."
            )
    _replace_edges(Prerequisite, "competency_id", "prerequisite_id", competency, chosen)


def add_prerequisite(competency: Competency, prerequisite: Competency) -> None:
    """Add one prerequisite (kept when already there); raises :class:`CatalogueError` on a
    loop, like :func:`set_prerequisites`."""
    current = [each for each in competency.prerequisites if each.id != prerequisite.id]
    set_prerequisites(competency, [*current, prerequisite])


def set_components(stack: Competency, components: Sequence[Competency]) -> None:
    """Make ``components`` exactly the stack's components.

    Raises :class:`CatalogueError` when ``stack`` is not a stack, or a component is the stack
    itself or a stack that (directly or through others) contains it.
    """
    if not stack.is_stack:
        raise CatalogueError(f"“{stack.name}” is not a stack: mark it as one first.")
    _check_same_issuer(stack, components)
    graph = component_graph(stack.issuer_id)
    graph[stack.id] = set()
    for component in sorted(components, key=lambda each: each.name):
        if component.id == stack.id:
            raise CatalogueError(f"“{stack.name}” cannot contain itself.")
        path = find_path(graph, component.id, stack.id)
        if path is not None:
            raise CatalogueError(
                f"“{component.name}” cannot be part of “{stack.name}”: it already contains it "
                f"({_names(path)})."
            )
    chosen = {each.id for each in components}
    _replace_edges(StackComponent, "stack_id", "component_id", stack, chosen)


def _replace_edges(
    model: Any, owner_column: str, other_column: str, owner: Competency, chosen: set[int]
) -> None:
    owner_attr = getattr(model, owner_column)
    other_attr = getattr(model, other_column)
    current = set(db.session.scalars(select(other_attr).where(owner_attr == owner.id)))
    if current - chosen:
        db.session.execute(
            delete(model).where(owner_attr == owner.id, other_attr.in_(sorted(current - chosen)))
        )
    for other in sorted(chosen - current):
        db.session.add(model(**{owner_column: owner.id, other_column: other}))
    db.session.flush()
    # The relationships are view-only: load them again so the change shows.
    db.session.expire(owner, ["prerequisites", "components"])


# -- archiving and deleting ------------------------------------------------------------------


def in_use(competency: Competency) -> bool:
    """Whether students have submitted for or mastered it (then it is archived, never deleted)."""
    # The tables that use a competency say so (``keeps_competency``): submissions and mastery
    # today, whichever feature owns them.
    mappers = Model.registry.mappers
    users = [m.class_ for m in mappers if getattr(m.class_, "keeps_competency", False)]
    if not users:
        return False
    used = db.session.scalar(
        select(or_(*(exists().where(cls.competency_id == competency.id) for cls in users)))
    )
    return bool(used)


def archive(competency: Competency) -> bool:
    """Archive: hidden from students' choices, kept for issued credentials.  False when it
    already was."""
    if competency.archived_at is not None:
        return False
    competency.archived_at = utcnow()
    competency.updated_at = utcnow()
    return True


def unarchive(competency: Competency) -> bool:
    """Bring an archived competency back.  False when it was not archived."""
    if competency.archived_at is None:
        return False
    competency.archived_at = None
    competency.updated_at = utcnow()
    return True


def delete_competency(competency: Competency) -> None:
    """Delete a competency nobody has used, with its rubric versions and its places in
    prerequisites and stacks.  Raises :class:`CatalogueError` when it is in use (students'
    submissions and credentials refer to it: archive it instead)."""
    if in_use(competency):
        raise CatalogueError(
            f"“{competency.name}” has submissions or masteries: archive it instead."
        )
    db.session.execute(
        delete(Prerequisite).where(
            (Prerequisite.competency_id == competency.id)
            | (Prerequisite.prerequisite_id == competency.id)
        )
    )
    db.session.execute(
        delete(StackComponent).where(
            (StackComponent.stack_id == competency.id)
            | (StackComponent.component_id == competency.id)
        )
    )
    db.session.execute(delete(RubricVersion).where(RubricVersion.competency_id == competency.id))
    db.session.delete(competency)


# -- images ----------------------------------------------------------------------------------


def public_url() -> str:
    """``CREDFOLIO_PUBLIC_URL`` without a trailing slash."""
    return str(current_app.config["CREDFOLIO_PUBLIC_URL"]).rstrip("/")


def achievement_url(competency: Competency) -> str:
    """The competency's Achievement ``id``: ``<public URL>/achievements/<public_id>``."""
    return f"{public_url()}/achievements/{competency.public_id}"


def image_path(competency: Competency) -> str:
    """The path the uploaded image of a competency is served at."""
    return f"/achievements/{competency.public_id}/image"


def _own_image_sha256(competency: Competency) -> str | None:
    """The SHA-256 of an uploaded image, read from the stored ``image_url``.

    The model keeps one ``image_url``; an uploaded image's URL is our own image path with the
    content's SHA-256 as its ``v`` parameter, which both names the blob and makes every new
    image a new URL (caches never show an old one).
    """
    url = competency.image_url
    if not url:
        return None
    parts = urlsplit(url)
    ours = urlsplit(public_url())
    if (parts.scheme, parts.netloc) != (ours.scheme, ours.netloc):
        return None
    if parts.path != ours.path.rstrip("/") + image_path(competency):
        return None
    values = parse_qs(parts.query).get("v", [])
    if len(values) != 1 or re.fullmatch(r"[0-9a-f]{64}", values[0]) is None:
        return None
    return values[0]


def image_blob(competency: Competency) -> Blob | None:
    """The uploaded image of a competency (None for an external image URL or none at all)."""
    sha256 = _own_image_sha256(competency)
    blob = db.session.get(Blob, sha256) if sha256 else None
    # Only images are ever served from here, whatever the stored URL says.
    if blob is None or blob.media_type not in IMAGE_TYPES:
        return None
    return blob


def has_uploaded_image(competency: Competency) -> bool:
    """Whether ``image_url`` points at an image uploaded here."""
    return _own_image_sha256(competency) is not None


def store_image(competency: Competency, upload: FileStorage, *, uploader: User) -> Blob:
    """Check and store an uploaded PNG, JPEG, WebP or GIF image and point ``image_url`` at it.

    Raises :class:`CatalogueError` (field ``image``) when it is refused; then nothing changed.
    """
    # A badge image is small: read at most one byte more than the limit before any check,
    # so a refused image is never stored.
    data = upload.stream.read(MAX_IMAGE_BYTES + 1) if upload.stream is not None else b""
    if len(data) > MAX_IMAGE_BYTES:
        raise CatalogueError(
            f"The image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB.", "image"
        )
    checked = FileStorage(stream=io.BytesIO(data), filename=upload.filename or "image")
    try:
        blob = uploads.store_blob(checked, owner=uploader, allowed=IMAGE_TYPES)
    except uploads.UploadError as error:
        raise CatalogueError(error.message, "image") from None
    competency.image_url = f"{public_url()}{image_path(competency)}?v={blob.sha256}"
    competency.updated_at = utcnow()
    return blob


def set_image_url(competency: Competency, url: str) -> None:
    """Use an external ``https`` image address.  Raises :class:`CatalogueError` (field
    ``image_url``) for anything else, including our own image addresses (only an upload sets
    those)."""
    url = url.strip()
    try:
        check_web_url(url, "The image address")
    except CatalogueError as error:
        raise CatalogueError(error.message, "image_url") from None
    if urlsplit(url).scheme.lower() != "https":
        raise CatalogueError("The image address must start with https://.", "image_url")
    if urlsplit(url).netloc.lower() == urlsplit(public_url()).netloc.lower():
        raise CatalogueError(
            "That is an address of this service: upload the image instead.", "image_url"
        )
    competency.image_url = url
    competency.updated_at = utcnow()


def new_framework(issuer_id: int, *, title: str, description: str = "") -> CompetencyFramework:
    """A new, empty framework with a fresh UUID identifier (added, not committed).  Raises
    :class:`CatalogueError` (field ``title`` or ``description``)."""
    checked: dict[str, str] = {}
    for field, value, limit in (("title", title, MAX_NAME), ("description", description, MAX_TEXT)):
        try:
            checked[field] = check_text(
                value, f"The {field}", limit=limit, required=field == "title"
            )
        except CatalogueError as error:
            raise CatalogueError(error.message, field) from None
    framework = CompetencyFramework(
        issuer_id=issuer_id,
        identifier=str(uuid.uuid4()),
        title=" ".join(checked["title"].split()),
        description=checked["description"] or None,
    )
    db.session.add(framework)
    return framework
