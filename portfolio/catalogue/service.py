"""The catalogue's rules and transactions (for its pages, imports and CLI): per-issuer lookups, the
competency form's database checks, prerequisites and stacks without cycles, archiving, images.
Building blocks never commit; functions named for a whole change are one unit of work each."""

from __future__ import annotations

import io
import re
import uuid
from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from flask_babel import gettext as _
from sqlalchemy import Select, delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from portfolio.accounts.models import Issuer, User
from portfolio.catalogue import rubrics
from portfolio.catalogue.achievements import achievement_url
from portfolio.catalogue.fields import (
    FIELD_LABELS,
    MAX_NAME,
    MAX_TEXT,
    CatalogueError,
    check_text,
    check_web_url,
    clean_values,
)
from portfolio.catalogue.models import (
    Competency,
    CompetencyFramework,
    Prerequisite,
    RubricVersion,
    StackComponent,
)
from portfolio.core.db import Model, begin_write, db, unit_of_work
from portfolio.core.errors import ConflictError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.links import public_url
from portfolio.core.models import utcnow
from portfolio.files import media, uploads, usage
from portfolio.files.models import Blob

#: Badge images: the same content checks as evidence images, and at most this many bytes.
IMAGE_TYPES = media.IMAGE_TYPES
MAX_IMAGE_BYTES = 5 * 1024 * 1024

N = TypeVar("N", bound=Hashable)


class CompetencyInUseError(CatalogueError, ConflictError):
    """The competency has submissions or masteries: it can be archived, never deleted."""

    code = "COMPETENCY_IN_USE"


class RubricConflictError(ConflictError):
    """Another version of the rubric was saved at the same moment: nothing was saved."""

    code = "RUBRIC_SAVED_MEANWHILE"


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


def workable_competencies(issuer_id: int) -> list[Competency]:
    """What students of the issuer can work toward and be assessed on: its competencies that are
    neither archived nor stacks (a stack is earned through its components), in catalogue
    order (position, then name)."""
    return list(
        db.session.scalars(
            select(Competency)
            .where(
                Competency.issuer_id == issuer_id,
                Competency.archived_at.is_(None),
                Competency.is_stack.is_(False),
            )
            .order_by(Competency.position, Competency.name)
        )
    )


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


# -- a competency's fields -------------------------------------------------------------------


def check_competency(
    state: Mapping[str, Any], *, issuer_id: int, competency: Competency | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check the competency form's ``state`` (its fields by name, ``alignments`` as rows, and
    ``framework``, ``is_stack``) for ``competency`` (None: a new one); returns ``(values,
    errors)``.

    ``values`` holds the model's fields (``framework_id`` included); ``errors`` maps a form
    field to its message.  A new competency without an identifier gets a UUID.
    """
    raw = {name: state.get(name) for name in FIELD_LABELS if name != "alignments"}
    raw["alignments"] = state.get("alignments", [])
    if competency is None and not str(state.get("identifier") or "").strip():
        raw.pop("identifier")
    values, errors = clean_values(raw)
    identifier = values.get("identifier")
    if identifier and identifier != (competency.identifier if competency else None):
        taken = db.session.scalar(
            select(Competency.id).where(
                Competency.issuer_id == issuer_id, Competency.identifier == identifier
            )
        )
        if taken is not None:
            errors["identifier"] = _("Another competency already uses this identifier.")
    values["framework_id"] = None
    if state.get("framework"):
        framework = find_framework(issuer_id, str(state["framework"]))
        if framework is None:
            errors["framework"] = _("Choose one of the frameworks listed.")
        else:
            values["framework_id"] = framework.id
    values["is_stack"] = bool(state.get("is_stack"))
    dropping_stack = competency is not None and competency.is_stack and not values["is_stack"]
    if dropping_stack and competency is not None and competency.components:
        errors["is_stack"] = _("Remove the stack's components before it stops being a stack.")
    return values, errors


def create_competency(issuer_id: int, values: Mapping[str, Any]) -> Competency:
    """Add a competency with the checked ``values`` (:func:`check_competency`) at the end of
    its framework; one unit of work."""
    with unit_of_work():
        fields = {"description": "", **values}
        position = next_position(issuer_id, fields["framework_id"])
        competency = Competency(issuer_id=issuer_id, position=position, **fields)
        db.session.add(competency)
    return competency


def update_competency(competency: Competency, values: Mapping[str, Any]) -> None:
    """Store the checked ``values`` (:func:`check_competency`); a competency moved to another
    framework goes to its end.  One unit of work."""
    with unit_of_work():
        if values["framework_id"] != competency.framework_id:
            competency.position = next_position(competency.issuer_id, values["framework_id"])
        for name, value in values.items():
            setattr(competency, name, value)
        competency.updated_at = utcnow()


def save_rubric(
    competency: Competency,
    *,
    title: str,
    levels: Sequence[Mapping[str, Any]],
    criteria: Sequence[Mapping[str, Any]],
    rule: Mapping[str, Any],
    author: User | None = None,
) -> RubricVersion:
    """The next version of the competency's rubric (:func:`rubrics.save_new_version`) and the
    competency's change time, in one unit of work.

    Raises :class:`rubrics.RubricError`, or :class:`RubricConflictError` when someone saved the
    same version number first; nothing is saved then.
    """
    try:
        with unit_of_work():
            version = rubrics.save_new_version(
                competency, title=title, levels=levels, criteria=criteria, rule=rule, author=author
            )
            competency.updated_at = utcnow()
    except IntegrityError:
        raise RubricConflictError(
            _l("Someone saved this rubric at the same moment: save again.")
        ) from None
    return version


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
    return _link_graph(Prerequisite.competency_id, Prerequisite.prerequisite_id, issuer_id)


def component_graph(issuer_id: int) -> dict[int, set[int]]:
    """stack id → the ids of its components, for the issuer's whole catalogue."""
    return _link_graph(StackComponent.stack_id, StackComponent.component_id, issuer_id)


def _link_graph(owner: Any, other: Any, issuer_id: int) -> dict[int, set[int]]:
    """owner id → the ids it links to, from one link table (``owner`` and ``other`` are its
    two competency columns), for the issuer's competencies."""
    rows = db.session.execute(
        select(owner, other)
        .join(Competency, Competency.id == owner)
        .where(Competency.issuer_id == issuer_id)
    )
    graph: dict[int, set[int]] = {}
    for owner_id, other_id in rows:
        graph.setdefault(owner_id, set()).add(other_id)
    return graph


def _names(ids: Sequence[int]) -> str:
    rows = db.session.execute(select(Competency.id, Competency.name).where(Competency.id.in_(ids)))
    names = {competency_id: name for competency_id, name in rows}
    return " → ".join(f"“{names.get(each, each)}”" for each in ids)


def _check_same_issuer(owner: Competency, others: Sequence[Competency]) -> None:
    for other in others:
        if other.issuer_id != owner.issuer_id:
            raise CatalogueError(_l("Only competencies of the same issuer can be chosen."))


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
            raise CatalogueError(
                _l("“%(name)s” cannot be its own prerequisite.", name=competency.name)
            )
        path = find_path(graph, prerequisite.id, competency.id)
        if path is not None:
            raise CatalogueError(
                _l(
                    "“%(prerequisite)s” cannot be a prerequisite of “%(name)s”: "
                    "that would make a loop (%(loop)s).",
                    prerequisite=prerequisite.name,
                    name=competency.name,
                    loop=_names([competency.id, *path]),
                )
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
        raise CatalogueError(
            _l("“%(name)s” is not a stack: mark it as one first.", name=stack.name)
        )
    _check_same_issuer(stack, components)
    graph = component_graph(stack.issuer_id)
    graph[stack.id] = set()
    for component in sorted(components, key=lambda each: each.name):
        if component.id == stack.id:
            raise CatalogueError(_l("“%(name)s” cannot contain itself.", name=stack.name))
        path = find_path(graph, component.id, stack.id)
        if path is not None:
            raise CatalogueError(
                _l(
                    "“%(component)s” cannot be part of “%(stack)s”: it already contains it "
                    "(%(path)s).",
                    component=component.name,
                    stack=stack.name,
                    path=_names(path),
                )
            )
    chosen = {each.id for each in components}
    _replace_edges(StackComponent, "stack_id", "component_id", stack, chosen)


def choose_prerequisites(competency: Competency, prerequisites: Sequence[Competency]) -> None:
    """:func:`set_prerequisites` under the catalogue's lock (:func:`lock_catalogue`), in one unit
    of work; raises (and changes nothing) as it does."""
    with unit_of_work():
        lock_catalogue(competency.issuer_id)
        set_prerequisites(competency, prerequisites)
        competency.updated_at = utcnow()


def choose_components(stack: Competency, components: Sequence[Competency]) -> None:
    """:func:`set_components` under the catalogue's lock, in one unit of work; raises (and
    changes nothing) as it does."""
    with unit_of_work():
        lock_catalogue(stack.issuer_id)
        set_components(stack, components)
        stack.updated_at = utcnow()


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
    prerequisites and stacks.  Raises :class:`CompetencyInUseError` (a :class:`CatalogueError`)
    when it is in use (students' submissions and credentials refer to it: archive it instead)."""
    if in_use(competency):
        raise CompetencyInUseError(
            _l(
                "“%(name)s” has submissions or masteries: archive it instead.",
                name=competency.name,
            )
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


def remove_competency(competency: Competency) -> None:
    """:func:`delete_competency` under the catalogue's lock, in one unit of work; raises
    :class:`CompetencyInUseError` (and deletes nothing) for a competency in use."""
    with unit_of_work():
        lock_catalogue(competency.issuer_id)
        delete_competency(competency)


# -- images ----------------------------------------------------------------------------------


@usage.keeps_blob
def image_uses(sha256: str) -> Select[Any]:
    """Competencies whose image is the blob (its SHA-256 is in their image URL)."""
    return select(Competency.id).where(Competency.image_url.contains(sha256))


def uploaded_image_url(competency: Competency, sha256: str) -> str:
    """The address of the competency's uploaded image with that content: its Achievement id
    followed by ``/image``, the content's SHA-256 as ``v``."""
    return f"{achievement_url(competency, public_url=public_url())}/image?v={sha256}"


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
    ours = urlsplit(f"{achievement_url(competency, public_url=public_url())}/image")
    if (parts.scheme, parts.netloc, parts.path) != (ours.scheme, ours.netloc, ours.path):
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
            _l("The image is larger than %(size)s MB.", size=MAX_IMAGE_BYTES // (1024 * 1024)),
            "image",
        )
    checked = FileStorage(stream=io.BytesIO(data), filename=upload.filename or "image")
    try:
        blob = uploads.store_blob(checked, owner=uploader, allowed=IMAGE_TYPES)
    except uploads.UploadError as error:
        raise CatalogueError(error.message, "image") from None
    competency.image_url = uploaded_image_url(competency, blob.sha256)
    competency.updated_at = utcnow()
    return blob


def set_image_url(competency: Competency, url: str) -> None:
    """Use an external ``https`` image address.  Raises :class:`CatalogueError` (field
    ``image_url``) for anything else, including our own image addresses (only an upload sets
    those)."""
    url = url.strip()
    try:
        check_web_url(url, _l("The image address"))
    except CatalogueError as error:
        raise CatalogueError(error.text, "image_url") from None
    if urlsplit(url).scheme.lower() != "https":
        raise CatalogueError(_l("The image address must start with https://."), "image_url")
    if urlsplit(url).netloc.lower() == urlsplit(public_url()).netloc.lower():
        raise CatalogueError(
            _l("That is an address of this service: upload the image instead."), "image_url"
        )
    competency.image_url = url
    competency.updated_at = utcnow()


def remove_image(competency: Competency) -> None:
    """Show no image for the competency any more (an uploaded one stays stored)."""
    competency.image_url = None
    competency.updated_at = utcnow()


# -- frameworks ------------------------------------------------------------------------------


def new_framework(issuer_id: int, *, title: str, description: str = "") -> CompetencyFramework:
    """A new, empty framework with a fresh UUID identifier (added, not committed).  Raises
    :class:`CatalogueError` (field ``title`` or ``description``)."""
    checked: dict[str, str] = {}
    for field, value, limit in (("title", title, MAX_NAME), ("description", description, MAX_TEXT)):
        try:
            label = _l("The title") if field == "title" else _l("The description")
            checked[field] = check_text(value, label, limit=limit, required=field == "title")
        except CatalogueError as error:
            raise CatalogueError(error.text, field) from None
    framework = CompetencyFramework(
        issuer_id=issuer_id,
        identifier=str(uuid.uuid4()),
        title=" ".join(checked["title"].split()),
        description=checked["description"] or None,
    )
    db.session.add(framework)
    return framework


def create_framework(issuer_id: int, *, title: str, description: str = "") -> CompetencyFramework:
    """:func:`new_framework`, committed (one unit of work)."""
    with unit_of_work():
        return new_framework(issuer_id, title=title, description=description)
