"""CASE 1.0 (Competencies and Academic Standards Exchange) frameworks: :func:`parse_package` checks
a CFPackage (pure), :func:`import_package` applies it in one transaction, matching items by
identifier, and :func:`export_package` writes a framework back as a CFPackage."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select

from portfolio.accounts.models import Issuer
from portfolio.catalogue.achievements import achievement_url
from portfolio.catalogue.fields import CatalogueError, case_identifier, check_web_url
from portfolio.catalogue.models import Competency, CompetencyFramework, Prerequisite
from portfolio.catalogue.service import (
    competencies_by_identifier,
    find_path,
    lock_catalogue,
    prerequisite_graph,
)
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import InvalidInputError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.models import utcnow

MAX_BYTES = 10 * 1024 * 1024
MAX_ITEMS = 10_000
MAX_ASSOCIATIONS = 100_000
#: Names made from a fullStatement are cut to about this many characters (at a word).
NAME_LENGTH = 100
MAX_TEXT = 50_000

#: CFDocument properties kept on the framework: CASE name → (attribute, length limit).
DOCUMENT_FIELDS = {
    "uri": ("uri", 2048),
    "creator": ("creator", 512),
    "publisher": ("publisher", 512),
    "description": ("description", MAX_TEXT),
    "version": ("version", 128),
    "language": ("language", 32),
    "adoptionStatus": ("adoption_status", 64),
    "lastChangeDateTime": ("last_change", 64),
}


class CaseError(InvalidInputError):
    """The file cannot be imported as a CASE package; the message says where and why."""

    code = "INVALID_CASE_PACKAGE"


@dataclass(frozen=True)
class CaseItem:
    """A CFItem as a competency: what an import writes."""

    identifier: str
    uri: str
    name: str
    description: str
    human_code: str | None
    level: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class CasePackage:
    """A checked CFPackage: the document's fields, the items in framework order (depth first
    along isChildOf, siblings by sequenceNumber), and ``precedes`` pairs (earlier, later)
    between items of the package."""

    identifier: str
    title: str
    document: dict[str, str | None]
    items: tuple[CaseItem, ...]
    precedes: tuple[tuple[str, str], ...]


@dataclass
class ImportSummary:
    """What an import did, by competency name; ``warnings`` are things it could not do."""

    framework: CompetencyFramework
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line in the reader's language: ``3 created, 1 updated, 0 unchanged, 2 archived.``"""
        line: str = _(
            "%(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
            "%(archived)s archived.",
            created=len(self.created),
            updated=len(self.updated),
            unchanged=len(self.unchanged),
            archived=len(self.archived),
        )
        return line

    def record(self) -> str:
        """The same line in English, for the audit record."""
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.archived)} archived."
        )


# -- reading ---------------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise CaseError(_l("the file holds %(name)s, which is not JSON", name=name))


def load_json(data: bytes) -> Any:
    """Parse UTF-8 JSON of at most :data:`MAX_BYTES`; raises :class:`CaseError`."""
    if len(data) > MAX_BYTES:
        raise CaseError(_l("the file is larger than %(size)s MB", size=MAX_BYTES // (1024 * 1024)))
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise CaseError(_l("the file is not UTF-8 text")) from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise CaseError(
            _l(
                "not JSON: %(problem)s at line %(line)s, column %(column)s",
                problem=error.msg,
                line=error.lineno,
                column=error.colno,
            )
        ) from None
    except RecursionError:
        raise CaseError(_l("the JSON is nested too deeply")) from None


def _text(
    value: Any, where: str, *, limit: int, required: bool = False, strip: bool = True
) -> str | None:
    if value is None or value == "":
        if required:
            raise CaseError(_l("%(where)s is missing", where=where))
        return None
    if not isinstance(value, str):
        raise CaseError(
            _l("%(where)s must be text, not %(kind)s", where=where, kind=type(value).__name__)
        )
    text = value.strip() if strip else value
    if required and not text.strip():
        raise CaseError(_l("%(where)s is empty", where=where))
    if len(text) > limit:
        raise CaseError(
            _l("%(where)s is longer than %(limit)s characters", where=where, limit=limit)
        )
    return text or None


def _strings(value: Any, where: str) -> list[str]:
    """A list of strings (or one string, or null), as CASE allows for keywords and levels."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(each, str) for each in value):
        raise CaseError(_l("%(where)s must be a list of text", where=where))
    return [each.strip() for each in value if each.strip()]


def short_name(statement: str, limit: int = NAME_LENGTH) -> str:
    """A name from a statement: its first line, spaces collapsed, cut at a word to at most
    ``limit`` characters (with "…").  Shortening a short name changes nothing."""
    lines = [line for line in statement.splitlines() if line.strip()]
    text = " ".join((lines[0] if lines else statement).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CaseError(_l("%(where)s must be an object", where=where))
    return value


def _list(package: Mapping[str, Any], name: str, limit: int) -> list[Any]:
    value = package.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise CaseError(_l("%(where)s must be a list", where=name))
    if len(value) > limit:
        raise CaseError(_l("%(where)s has more than %(limit)s entries", where=name, limit=limit))
    return value


def _required(value: Any, where: str, *, limit: int) -> str:
    return str(_text(value, where, limit=limit, required=True))


def _document(raw: Any) -> tuple[str, str, dict[str, str | None]]:
    document = _object(raw, "CFDocument")
    identifier = _required(document.get("identifier"), "CFDocument.identifier", limit=256)
    title = _required(document.get("title"), "CFDocument.title", limit=512)
    fields = {
        attribute: _text(document.get(name), f"CFDocument.{name}", limit=limit)
        for name, (attribute, limit) in DOCUMENT_FIELDS.items()
    }
    return identifier, " ".join(title.split()), fields


def _level(item: Mapping[str, Any], where: str) -> str | None:
    """``educationLevel`` (a list or one string) as one text, e.g. ``"08, 09"``."""
    levels = _strings(item.get("educationLevel"), f"{where}.educationLevel")
    # OpenSALT's older exports say "educationalLevel".
    levels = levels or _strings(item.get("educationalLevel"), f"{where}.educationalLevel")
    level = ", ".join(levels) or None
    if level is not None and len(level) > 128:
        field_path = f"{where}.educationLevel"
        raise CaseError(
            _l("%(where)s is longer than %(limit)s characters", where=field_path, limit=128)
        )
    return level


def _tags(item: Mapping[str, Any], where: str) -> tuple[str, ...]:
    """``conceptKeywords`` then ``CFItemType``, spaces collapsed, each once."""
    keywords = item.get("conceptKeywords")
    if isinstance(keywords, str):  # some servers write one comma-separated string
        keywords = keywords.split(",")
    tags = _strings(keywords, f"{where}.conceptKeywords")
    item_type = _text(item.get("CFItemType"), f"{where}.CFItemType", limit=128)
    if item_type:
        tags.append(item_type)
    if any(len(tag) > 128 for tag in tags):
        raise CaseError(
            _l("%(where)s: a keyword is longer than %(limit)s characters", where=where, limit=128)
        )
    unique = tuple(dict.fromkeys(" ".join(tag.split()) for tag in tags))
    if len(unique) > 30:
        raise CaseError(_l("%(where)s has more than %(limit)s keywords", where=where, limit=30))
    return unique


def _item(raw: Any, index: int) -> CaseItem:
    item = _object(raw, f"CFItems[{index}]")
    identifier = _required(item.get("identifier"), f"CFItems[{index}].identifier", limit=256)
    where = f"CFItems[{index}] ({identifier})"
    uri = _required(item.get("uri"), f"{where}.uri", limit=2048)
    try:
        check_web_url(uri, "uri")
    except CatalogueError:
        field_path = f"{where}.uri"
        raise CaseError(
            _l("%(where)s must be a web address (https://…)", where=field_path)
        ) from None
    statement = _required(item.get("fullStatement"), f"{where}.fullStatement", limit=MAX_TEXT)
    abbreviated = _text(
        item.get("abbreviatedStatement"), f"{where}.abbreviatedStatement", limit=MAX_TEXT
    )
    return CaseItem(
        identifier=identifier,
        uri=uri,
        name=short_name(abbreviated, 512) if abbreviated else short_name(statement),
        description=statement,
        human_code=_text(item.get("humanCodingScheme"), f"{where}.humanCodingScheme", limit=128),
        level=_level(item, where),
        tags=_tags(item, where),
    )


@dataclass(frozen=True)
class _Association:
    kind: str
    origin: str
    destination: str
    sequence: float | None
    index: int


def _node(value: Any, where: str) -> str:
    node = _object(value, where)
    return _required(node.get("identifier"), f"{where}.identifier", limit=256)


def _sequence(value: Any, where: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CaseError(_l("%(where)s must be a number", where=where))
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise CaseError(_l("%(where)s must be a number", where=where))


def _association(raw: Any, index: int) -> _Association:
    where = f"CFAssociations[{index}]"
    association = _object(raw, where)
    kind = _required(association.get("associationType"), f"{where}.associationType", limit=64)
    return _Association(
        kind=kind,
        origin=_node(association.get("originNodeURI"), f"{where}.originNodeURI"),
        destination=_node(association.get("destinationNodeURI"), f"{where}.destinationNodeURI"),
        sequence=_sequence(association.get("sequenceNumber"), f"{where}.sequenceNumber"),
        index=index,
    )


def _order(
    document_id: str, items: list[CaseItem], associations: list[_Association]
) -> list[CaseItem]:
    """Items depth first from the document along isChildOf; siblings by sequenceNumber, then
    file order; items outside the tree last, in file order."""
    by_id = {item.identifier: item for item in items}
    position = {item.identifier: index for index, item in enumerate(items)}
    children: dict[str, list[tuple[bool, float, int, str]]] = {}
    for each in associations:
        if each.kind == "isChildOf" and each.origin in by_id:
            key = (each.sequence is None, each.sequence or 0.0, position[each.origin], each.origin)
            children.setdefault(each.destination, []).append(key)
    ordered: list[CaseItem] = []
    seen: set[str] = set()
    stack = [document_id]
    while stack:
        parent = stack.pop()
        if parent in seen:  # a second parent, or a loop of isChildOf: keep the first place
            continue
        seen.add(parent)
        if parent in by_id:
            ordered.append(by_id[parent])
        for *_key, child in sorted(children.get(parent, []), reverse=True):
            if child not in seen:
                stack.append(child)
    ordered += [item for item in items if item.identifier not in seen]
    return ordered


def _precedes(items: list[CaseItem], associations: list[_Association]) -> list[tuple[str, str]]:
    ids = {item.identifier for item in items}
    pairs = list(
        dict.fromkeys(
            (each.origin, each.destination)
            for each in associations
            if each.kind == "precedes"
            and each.origin in ids
            and each.destination in ids
            and each.origin != each.destination
        )
    )
    _refuse_cycles(items, pairs)
    return pairs


def _refuse_cycles(items: list[CaseItem], pairs: list[tuple[str, str]]) -> None:
    number = {item.identifier: index for index, item in enumerate(items)}
    graph: dict[int, set[int]] = {}
    for earlier, later in pairs:
        graph.setdefault(number[earlier], set()).add(number[later])
    for earlier, later in pairs:
        path = find_path(graph, number[later], number[earlier])
        if path is not None:
            names = " → ".join(items[step].human_code or items[step].name for step in path)
            first = items[number[earlier]].human_code or items[number[earlier]].name
            raise CaseError(
                _l(
                    "the precedes associations form a loop: %(first)s → %(names)s",
                    first=first,
                    names=names,
                )
            )


def parse_package(data: bytes) -> CasePackage:
    """Check a CFPackage file and return what an import needs.

    Raises :class:`CaseError` for a file that is too big, not UTF-8 JSON, not a CFPackage
    (no CFDocument), has too many items or associations, an item without identifier, uri or
    fullStatement, an item identifier used twice, a value of the wrong type (named with its
    place, e.g. ``CFItems[3].uri``), or ``precedes`` associations that form a loop.
    """
    package = load_json(data)
    if not isinstance(package, dict) or "CFDocument" not in package:
        raise CaseError(_l("not a CASE package: there is no CFDocument"))
    identifier, title, document = _document(package["CFDocument"])
    items = [_item(raw, index) for index, raw in enumerate(_list(package, "CFItems", MAX_ITEMS))]
    seen: set[str] = set()
    for item in items:
        if item.identifier in seen or item.identifier == identifier:
            raise CaseError(
                _l("the identifier %(identifier)s is used twice", identifier=item.identifier)
            )
        seen.add(item.identifier)
    raw_associations = _list(package, "CFAssociations", MAX_ASSOCIATIONS)
    associations = [_association(raw, index) for index, raw in enumerate(raw_associations)]
    return CasePackage(
        identifier=identifier,
        title=title,
        document=document,
        items=tuple(_order(identifier, items, associations)),
        precedes=tuple(_precedes(items, associations)),
    )


# -- importing -------------------------------------------------------------------------------


def _case_alignment(item: CaseItem, title: str) -> dict[str, str]:
    """The OB 3.0 Alignment to the CASE item itself (OB 3.0 §B.1 Alignment, targetType CFItem)."""
    alignment = {"targetName": item.name, "targetUrl": item.uri, "targetType": "CFItem"}
    if item.human_code:
        alignment["targetCode"] = item.human_code
    alignment["targetFramework"] = title
    return alignment


def _merged_alignments(
    competency: Competency | None, item: CaseItem, title: str
) -> list[dict[str, Any]]:
    """The CASE alignment first, then the competency's other alignments (added by hand)."""
    old_uris = {item.uri, competency.case_uri if competency else None}
    others = [
        alignment
        for alignment in (competency.alignments if competency else None) or []
        if not (alignment.get("targetType") == "CFItem" and alignment.get("targetUrl") in old_uris)
    ]
    return [_case_alignment(item, title), *others]


def _framework(package: CasePackage, issuer: Issuer) -> CompetencyFramework:
    framework: CompetencyFramework | None = db.session.scalar(
        select(CompetencyFramework).where(
            CompetencyFramework.issuer_id == issuer.id,
            CompetencyFramework.identifier == package.identifier,
        )
    )
    if framework is None:
        framework = CompetencyFramework(issuer_id=issuer.id, identifier=package.identifier)
        db.session.add(framework)
    framework.title = package.title
    for attribute, value in package.document.items():
        setattr(framework, attribute, value)
    framework.updated_at = utcnow()
    db.session.flush()
    return framework


def _match(
    item: CaseItem, existing: dict[str, Competency], derived: dict[str, Competency]
) -> Competency | None:
    """The competency an item updates: same identifier, or exported from one (see
    :func:`portfolio.catalogue.service.case_identifier`)."""
    return existing.get(item.identifier) or derived.get(item.identifier)


def _apply_item(
    item: CaseItem,
    competency: Competency | None,
    *,
    framework: CompetencyFramework,
    position: int,
    summary: ImportSummary,
) -> Competency:
    values: dict[str, Any] = {
        "framework_id": framework.id,
        "case_uri": item.uri,
        "human_code": item.human_code,
        "name": item.name,
        "description": item.description,
        "level": item.level,
        "tags": list(item.tags),
        "alignments": _merged_alignments(competency, item, framework.title),
        "position": position,
        "archived_at": None,
    }
    if competency is None:
        competency = Competency(issuer_id=framework.issuer_id, identifier=item.identifier, **values)
        db.session.add(competency)
        summary.created.append(item.name)
        return competency
    if competency.framework_id not in (None, framework.id):
        summary.warnings.append(
            _("“%(name)s” was moved here from another framework.", name=item.name)
        )
    changed = {name: value for name, value in values.items() if getattr(competency, name) != value}
    for name, value in changed.items():
        setattr(competency, name, value)
    if changed:
        competency.updated_at = utcnow()
        summary.updated.append(item.name)
    else:
        summary.unchanged.append(item.name)
    return competency


def _apply_precedes(
    package: CasePackage, rows: dict[str, Competency], summary: ImportSummary, issuer_id: int
) -> None:
    """Make the package's ``precedes`` pairs the prerequisites between its items; pairs that
    would close a loop through prerequisites set by hand are left out with a warning."""
    ids = [row.id for row in rows.values()]
    db.session.execute(
        delete(Prerequisite).where(
            Prerequisite.competency_id.in_(ids), Prerequisite.prerequisite_id.in_(ids)
        )
    )
    db.session.flush()
    graph = prerequisite_graph(issuer_id)
    for earlier, later in package.precedes:
        before, after = rows[earlier], rows[later]
        if find_path(graph, before.id, after.id) is not None:
            summary.warnings.append(
                _(
                    "“%(before)s” was not made a prerequisite of “%(after)s”: "
                    "it would close a loop with prerequisites set by hand.",
                    before=before.name,
                    after=after.name,
                )
            )
            continue
        graph.setdefault(after.id, set()).add(before.id)
        db.session.add(Prerequisite(competency_id=after.id, prerequisite_id=before.id))
    for row in rows.values():
        db.session.expire(row, ["prerequisites"])


def import_package(data: bytes, *, issuer: Issuer) -> ImportSummary:
    """Import (or re-import) a CASE package into ``issuer`` 's catalogue, in one transaction
    (:func:`parse_package` first: a file that is not a CFPackage writes nothing).

    Items are matched by identifier: a matched competency keeps its ``public_id`` and what was
    set by hand (criteria, image, type, credits, moderation, other alignments); items gone from
    the package are archived, never deleted.  Raises :class:`CaseError` (nothing is written).
    """
    package = parse_package(data)
    with unit_of_work():
        lock_catalogue(issuer.id)
        framework = _framework(package, issuer)
        summary = ImportSummary(framework)
        existing = competencies_by_identifier(issuer.id)
        derived = {case_identifier(key): row for key, row in existing.items()}
        rows: dict[str, Competency] = {}
        for position, item in enumerate(package.items):
            competency = _match(item, existing, derived)
            rows[item.identifier] = _apply_item(
                item, competency, framework=framework, position=position, summary=summary
            )
        db.session.flush()
        kept = {row.id for row in rows.values()}
        members = db.session.scalars(
            select(Competency).where(Competency.framework_id == framework.id)
        )
        for competency in members:
            if competency.id not in kept and competency.archived_at is None:
                competency.archived_at = utcnow()
                summary.archived.append(competency.name)
        _apply_precedes(package, rows, summary, issuer.id)
    return summary


# -- exporting -------------------------------------------------------------------------------


def _link(title: str, identifier: str, uri: str) -> dict[str, str]:
    return {"title": title, "identifier": identifier, "uri": uri}


def _timestamp(value: datetime | None) -> str:
    """RFC 3339 with an offset (every stored time is an aware UTC datetime)."""
    return (value or utcnow()).isoformat(timespec="seconds")


def _document_identifier(framework: CompetencyFramework) -> str:
    return case_identifier(framework.identifier)


def _item_uri(competency: Competency, public_url: str) -> str:
    return competency.case_uri or achievement_url(competency, public_url=public_url)


def _export_item(
    competency: Competency,
    framework: CompetencyFramework,
    document_link: dict[str, str],
    public_url: str,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "identifier": case_identifier(competency.identifier),
        "uri": _item_uri(competency, public_url),
        "fullStatement": competency.description or competency.name,
        "abbreviatedStatement": competency.name,
        "lastChangeDateTime": _timestamp(competency.updated_at),
        "CFDocumentURI": document_link,
    }
    if competency.human_code:
        item["humanCodingScheme"] = competency.human_code
    if competency.level:
        item["educationLevel"] = competency.level.split(", ")
    if competency.tags:
        item["conceptKeywords"] = list(competency.tags)
    if framework.language:
        item["language"] = framework.language
    return item


def _association_record(
    kind: str,
    origin: dict[str, str],
    destination: dict[str, str],
    *,
    changed: str,
    document_link: dict[str, str],
    sequence: int | None = None,
) -> dict[str, Any]:
    # The same association gets the same identifier in every export.
    name = f"credfolio:association:{origin['identifier']}:{kind}:{destination['identifier']}"
    identifier = str(uuid.uuid5(uuid.NAMESPACE_URL, name))
    record: dict[str, Any] = {
        "identifier": identifier,
        "uri": f"urn:uuid:{identifier}",
        "associationType": kind,
        "originNodeURI": origin,
        "destinationNodeURI": destination,
        "lastChangeDateTime": changed,
        "CFDocumentURI": document_link,
    }
    if sequence is not None:
        record["sequenceNumber"] = sequence
    return record


def export_package(framework: CompetencyFramework, *, public_url: str) -> dict[str, Any]:
    """The framework as a CASE 1.0 CFPackage: its active competencies as CFItems (in order,
    children of the document), and their prerequisites inside it as ``precedes``.

    Competencies made here (no CASE uri) get their Achievement URL as ``uri``; identifiers
    that are not UUIDs are written as UUIDs derived from them, which a re-import recognises.
    """
    public_url = public_url.rstrip("/")
    identifier = _document_identifier(framework)
    uri = framework.uri or f"urn:uuid:{identifier}"
    changed = framework.last_change or _timestamp(framework.updated_at)
    document: dict[str, Any] = {
        "identifier": identifier,
        "uri": uri,
        "creator": framework.creator or framework.issuer.name,
        "title": framework.title,
        "lastChangeDateTime": changed,
    }
    for name, (attribute, _limit) in DOCUMENT_FIELDS.items():
        value = getattr(framework, attribute)
        if value and name not in document:
            document[name] = value
    document_link = _link(framework.title, identifier, uri)
    active = [row for row in framework.competencies if row.archived_at is None]
    links = {
        row.id: _link(
            row.human_code or row.name, case_identifier(row.identifier), _item_uri(row, public_url)
        )
        for row in active
    }
    associations = [
        _association_record(
            "isChildOf",
            links[row.id],
            document_link,
            changed=changed,
            document_link=document_link,
            sequence=index + 1,
        )
        for index, row in enumerate(active)
    ]
    for row in active:
        for prerequisite in row.prerequisites:
            if prerequisite.id in links:
                associations.append(
                    _association_record(
                        "precedes",
                        links[prerequisite.id],
                        links[row.id],
                        changed=changed,
                        document_link=document_link,
                    )
                )
    return {
        "CFDocument": document,
        "CFItems": [_export_item(row, framework, document_link, public_url) for row in active],
        "CFAssociations": associations,
    }


def dumps(package: Mapping[str, Any]) -> bytes:
    """A package as indented UTF-8 JSON (non-ASCII characters as they are)."""
    return (json.dumps(package, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
