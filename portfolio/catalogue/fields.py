"""The checks of a competency's fields and alignments, shared by the competency form, the CSV
import and the CASE import: pure (no database), each raising :class:`CatalogueError` with a
message safe to show."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

from portfolio.catalogue.models import ACHIEVEMENT_TYPES
from portfolio.core.errors import InvalidInputError
from portfolio.core.i18n import LazyText
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.files import uploads

MAX_IDENTIFIER = 256
MAX_NAME = 512
MAX_TEXT = 50_000
MAX_SHORT = 128  # level, human code, a tag
MAX_URL = 2048
MAX_TAGS = 30
MAX_ALIGNMENTS = 20
MAX_CREDITS = 10_000

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


class CatalogueError(InvalidInputError):
    """A catalogue change that cannot be made; ``message`` is safe to show, ``field`` names the
    form field it belongs to (None for the page as a whole)."""

    code = "INVALID_CATALOGUE_CHANGE"

    def __init__(self, message: str | LazyText, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        #: The message as given (a lazy one is made again in each language when re-raised).
        self.text = message


def _lower(label: str | LazyText) -> LazyText:
    """``label`` in lower case, in the language of the moment it is used."""
    return LazyText(lambda: str(label).lower())


# -- field checks ----------------------------------------------------------------------------


def check_text(value: Any, label: str | LazyText, *, limit: int, required: bool = False) -> str:
    """``value`` stripped; raises :class:`CatalogueError` when it is not text, is empty while
    ``required``, is longer than ``limit`` or holds control characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise CatalogueError(_l("%(label)s must be text.", label=label))
    text = value.strip()
    if required and not text:
        raise CatalogueError(_l("Enter %(label)s.", label=_lower(label)))
    if len(text) > limit:
        raise CatalogueError(
            _l("%(label)s must have at most %(limit)s characters.", label=label, limit=limit)
        )
    if _CONTROL.search(text):
        raise CatalogueError(_l("%(label)s contains control characters.", label=label))
    return text


def check_identifier(value: Any) -> str:
    """An identifier: 1–256 characters, no spaces or control characters."""
    identifier = check_text(value, _l("The identifier"), limit=MAX_IDENTIFIER, required=True)
    if re.search(r"\s", identifier):
        raise CatalogueError(_l("The identifier may not contain spaces."))
    return identifier


def check_achievement_type(value: Any) -> str:
    """One of :data:`portfolio.catalogue.models.ACHIEVEMENT_TYPES` (empty means ``Competency``)."""
    kind = check_text(value, _l("The achievement type"), limit=64) or "Competency"
    if kind not in ACHIEVEMENT_TYPES:
        raise CatalogueError(
            _l(
                "Unknown achievement type “%(kind)s” (one of %(types)s).",
                kind=kind,
                types=", ".join(ACHIEVEMENT_TYPES),
            )
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
        tag = " ".join(check_text(part, _l("A tag"), limit=MAX_SHORT).split())
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise CatalogueError(_l("Give at most %(count)s tags.", count=MAX_TAGS))
    return tags


def check_credits(value: Any) -> float | None:
    """Credits: empty, or a number from 0 to :data:`MAX_CREDITS`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CatalogueError(_l("Credits must be a number."))
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise CatalogueError(_l("Credits must be a number, like 2 or 0.5.")) from None
    if not math.isfinite(number) or not 0 <= number <= MAX_CREDITS:
        raise CatalogueError(_l("Credits must be a number from 0 to %(most)s.", most=MAX_CREDITS))
    return number


def check_required_endorsements(value: Any) -> int:
    """How many assessors must agree: a whole number from 1 to 5 (empty means 1)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 1
    if isinstance(value, bool):
        raise CatalogueError(_l("Required endorsements must be a whole number from 1 to 5."))
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 1 <= value <= 5:
        raise CatalogueError(_l("Required endorsements must be a whole number from 1 to 5."))
    return value


#: The most classmates a student may ask for comments on one submission (issue 17 §2).
MAX_PEER_REVIEWERS = 5


def check_peer_reviewers(value: Any) -> int:
    """How many classmates a student may ask for comments: a whole number from 0 (peer
    feedback off; also what empty means) to :data:`MAX_PEER_REVIEWERS`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    message = _l(
        "Peer reviewers must be a whole number from 0 to %(most)s.", most=MAX_PEER_REVIEWERS
    )
    if isinstance(value, bool):
        raise CatalogueError(message)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 0 <= value <= MAX_PEER_REVIEWERS:
        raise CatalogueError(message)
    return value


def check_web_url(value: Any, label: str | LazyText) -> str:
    """An absolute ``http``/``https`` URL (no credentials, at most 2048 characters)."""
    if not isinstance(value, str):
        raise CatalogueError(_l("%(label)s must be a web address.", label=label))
    try:
        return uploads.check_link(value)
    except uploads.UploadError:
        raise CatalogueError(
            _l("%(label)s must be a web address starting with https://.", label=label)
        ) from None


def check_alignment(
    row: Mapping[str, Any], *, label: str | LazyText | None = None
) -> dict[str, str]:
    """An OB 3.0 Alignment (``targetName``, ``targetUrl`` and optional ``targetCode``,
    ``targetFramework``, ``targetType``) from a row keyed ``name``, ``url``, ``code``,
    ``framework``, ``type``; an empty dict when every part is empty.

    Raises :class:`CatalogueError` whose ``field`` is the part at fault.
    """
    label = _l("The alignment") if label is None else label
    clean: dict[str, str] = {}
    for part in ALIGNMENT_PARTS:
        try:
            clean[part] = check_text(
                row.get(part), _l("%(label)s's %(part)s", label=label, part=part), limit=MAX_URL
            )
        except CatalogueError as error:
            raise CatalogueError(error.text, part) from None
    if not any(clean.values()):
        return {}
    if not clean["name"]:
        raise CatalogueError(_l("%(label)s needs a target name.", label=label), "name")
    if len(clean["name"]) > MAX_NAME:
        raise CatalogueError(
            _l(
                "%(label)s's name must have at most %(limit)s characters.",
                label=label,
                limit=MAX_NAME,
            ),
            "name",
        )
    if not clean["url"]:
        raise CatalogueError(
            _l("%(label)s needs a target address (https://…).", label=label), "url"
        )
    try:
        check_web_url(clean["url"], _l("%(label)s's address", label=label))
    except CatalogueError as error:
        raise CatalogueError(error.text, "url") from None
    kind = clean["type"]
    if kind and kind not in ALIGNMENT_TARGET_TYPES and not re.fullmatch(r"ext:[\w.-]+", kind):
        raise CatalogueError(
            _l(
                "%(label)s's type must be one of %(types)s.",
                label=label,
                types=", ".join(ALIGNMENT_TARGET_TYPES),
            ),
            "type",
        )
    return {ALIGNMENT_PARTS[part]: text for part, text in clean.items() if text}


def alignment_row(alignment: Mapping[str, Any]) -> dict[str, str]:
    """The form/CSV row (``name``, ``url``, ...) of a stored OB 3.0 Alignment."""
    return {part: str(alignment.get(key) or "") for part, key in ALIGNMENT_PARTS.items()}


#: The fields :func:`clean_values` checks, with the label used in messages.
FIELD_LABELS: dict[str, LazyText] = {
    "identifier": _l("The identifier"),
    "name": _l("The name"),
    "description": _l("The description"),
    "criteria_narrative": _l("The criteria"),
    "achievement_type": _l("The achievement type"),
    "tags": _l("Tags"),
    "level": _l("The level"),
    "credits": _l("Credits"),
    "human_code": _l("The code"),
    "required_endorsements": _l("Required endorsements"),
    "peer_reviewers": _l("Peer reviewers"),
    "alignments": _l("Alignments"),
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
    if name == "peer_reviewers":
        return check_peer_reviewers(value)
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
                alignment = check_alignment(row, label=_l("Alignment %(number)s", number=index + 1))
            except CatalogueError as error:
                errors[f"alignment-{index}-{error.field}"] = error.message
                continue
            if alignment:
                alignments.append(alignment)
        if len(alignments) > MAX_ALIGNMENTS:
            errors["alignments"] = _("Give at most %(count)s alignments.", count=MAX_ALIGNMENTS)
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
