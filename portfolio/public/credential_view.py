"""What a credential says, read defensively from its stored JSON for its public page and
downloads: :func:`describe` (plain text and safe links only), dates, the LinkedIn link."""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from credentials.errors import MalformedInputError
from credentials.verify import issuer_id
from portfolio.issuing.models import IssuedCredential

#: Image types an achievement's own ``data:`` image may have to be shown as ``<img>``.
DATA_IMAGE_PREFIXES = tuple(
    f"data:image/{kind}" for kind in ("png", "jpeg", "gif", "webp", "svg+xml")
)
MAX_DESCRIPTION_CHARS = 200
LINKEDIN_ADD_URL = "https://www.linkedin.com/profile/add"

_IDENTITY_TYPES: dict[str, Any] = {
    "emailAddress": _l("email address"),
    "telephone": _l("telephone number"),
    "url": _l("web address"),
    "studentId": _l("student ID"),
    "sourcedId": _l("student information system ID"),
    "name": _l("name"),
}


@dataclass(frozen=True)
class Link:
    """A named link; ``url`` is ``None`` when the address is not http(s) (shown as text)."""

    name: str
    url: str | None
    text: str
    kind: str = ""  # the evidence's genre as issued ("Song", "Audio recording"), if any


@dataclass(frozen=True)
class Alignment:
    """An OB 3.0 ``Alignment``: a framework item the achievement (or a result) aligns to."""

    name: str
    url: str | None
    framework: str = ""
    code: str = ""
    description: str = ""


@dataclass(frozen=True)
class ResultRow:
    """One result: what was assessed, the level or value reached, its points when stated."""

    criterion: str
    level: str
    points: str = ""


@dataclass
class CredentialView:
    """The displayable facts of a credential: plain strings (never markup) and safe links."""

    achievement_name: str = "Untitled achievement"
    description: str = ""
    criteria: str = ""
    image_url: str | None = None
    image_alt: str = ""
    issuer_name: str = "Unknown issuer"
    issuer_id: str = ""
    recipient: str = ""
    recipient_is_name: bool = False
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    #: The issuer's website and logo as the credential gives them (safe URLs only).
    issuer_url: str | None = None
    issuer_image: str | None = None
    evidence: list[Link] = field(default_factory=list)
    #: Results read from the credential and the achievement's rubric (names looked up by id).
    results: list[ResultRow] = field(default_factory=list)
    #: The achievement's alignments (targetName, targetFramework, targetUrl...).
    alignments: list[Alignment] = field(default_factory=list)
    #: What kinds of result the achievement describes (its ``resultDescription`` names) and
    #: its tags (skills), when given.
    skills: list[str] = field(default_factory=list)
    #: (endorser's name, comment) of each embedded endorsement (verified by the panel).
    endorsements: list[tuple[str, str]] = field(default_factory=list)


_LANGUAGE: ContextVar[str] = ContextVar("credential_view_language", default="en")


def _in_language(value: Any, language: str) -> Any:
    """The variant of a multilingual value for ``language`` (VC 2.0 §11.1: a list of
    ``{"@value", "@language"}`` objects, or a language map ``{"en": "…", "es": "…"}``); the
    first variant when none matches; ``value`` itself when it is not multilingual."""
    if isinstance(value, dict) and "@value" in value:
        return value.get("@value")
    variants: list[tuple[str, Any]] = []
    if (
        isinstance(value, list)
        and value
        and all(isinstance(item, dict) and "@value" in item for item in value)
    ):
        variants = [(str(item.get("@language") or ""), item.get("@value")) for item in value]
    elif (
        isinstance(value, dict)
        and value
        and all(
            isinstance(key, str) and 2 <= len(key) <= 8 and key.replace("-", "").isalpha()
            for key in value
        )
        and all(isinstance(item, str) for item in value.values())
    ):
        variants = list(value.items())
    if not variants:
        return value
    wanted = language.lower()
    for tag, text in variants:
        if tag.lower() == wanted:
            return text
    for tag, text in variants:
        if tag.lower().split("-")[0] == wanted.split("-")[0]:
            return text
    return variants[0][1]


def _text(value: Any) -> str:
    """A string value as plain text (strings only: objects and numbers become ``""``); of a
    multilingual value, the reader's language when the issuer gives it."""
    value = _in_language(value, _LANGUAGE.get())
    return value.strip() if isinstance(value, str) else ""


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def http_url(value: Any) -> str | None:
    """``value`` if it is an absolute http(s) URL with a host, else ``None`` (so ``javascript:``,
    ``data:`` and relative URLs are never rendered as links)."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc and url == value:
        return url
    return None


def image_url(value: Any) -> str | None:
    """An achievement's image (a URL or an Image object) if it is safe to show as ``<img>``:
    an https URL or a ``data:image/...`` URI of a common type; else ``None``."""
    if isinstance(value, dict):
        value = value.get("id")
    if not isinstance(value, str):
        return None
    if value.lower().startswith(DATA_IMAGE_PREFIXES):
        return value
    url = http_url(value)
    return url if url and url.lower().startswith("https:") else None


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    # A date from the credential's JSON, not from the database: it may carry no offset (XML
    # Schema allows that), and is then read as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def recipient_description(subject: Mapping[str, Any]) -> str:
    """How the recipient is identified, without revealing a hashed identifier or its salt."""
    identifiers = subject.get("identifier")
    for identity in identifiers if isinstance(identifiers, list) else []:
        if not isinstance(identity, dict):
            continue
        kind = str(_IDENTITY_TYPES.get(_text(identity.get("identityType")), _l("identifier")))
        if identity.get("hashed") is True:
            hashed: str = _("Recipient identified by a hashed %(kind)s (not shown)", kind=kind)
            return hashed
        plain: str = _("Recipient identified by their %(kind)s (not shown)", kind=kind)
        return plain
    subject_id = _text(subject.get("id"))
    if subject_id:
        by_id: str = _("Recipient identified by %(identifier)s", identifier=subject_id)
        return by_id
    nobody: str = _("Recipient not identified")
    return nobody


def describe(
    document: Mapping[str, Any], *, recipient_name: str | None = None, language: str = "en"
) -> CredentialView:
    """The displayable facts of ``document`` (a credential's JSON object); never raises.

    Where the issuer gives a text in several languages, the one in ``language`` (else the
    first given); content is otherwise shown as issued."""
    token = _LANGUAGE.set(language)
    try:
        return _describe(document, recipient_name=recipient_name)
    finally:
        _LANGUAGE.reset(token)


def _describe(document: Mapping[str, Any], *, recipient_name: str | None) -> CredentialView:
    view = CredentialView(
        achievement_name=_("Untitled achievement"), issuer_name=_("Unknown issuer")
    )
    subject = _first(document.get("credentialSubject"))
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, dict) else {}
    view.achievement_name = (
        _text(achievement.get("name")) or _text(document.get("name")) or view.achievement_name
    )
    view.description = _text(achievement.get("description")) or _text(document.get("description"))
    criteria = achievement.get("criteria")
    if isinstance(criteria, dict):
        view.criteria = _text(criteria.get("narrative"))
    image = achievement.get("image") or document.get("image")
    view.image_url = image_url(image)
    caption = _text(image.get("caption")) if isinstance(image, dict) else ""
    view.image_alt = caption or _("Badge: %(name)s", name=view.achievement_name)
    issuer = document.get("issuer")
    if isinstance(issuer, dict):
        view.issuer_name = _text(issuer.get("name")) or view.issuer_name
        view.issuer_url = http_url(issuer.get("url"))
        view.issuer_image = image_url(issuer.get("image"))
    try:
        view.issuer_id = issuer_id(document)
    except MalformedInputError:
        view.issuer_id = ""
    if recipient_name:
        view.recipient, view.recipient_is_name = recipient_name, True
    elif _text(subject.get("name")):
        view.recipient, view.recipient_is_name = _text(subject.get("name")), True
    else:
        view.recipient = recipient_description(subject)
    view.valid_from = _datetime(document.get("validFrom") or document.get("issuanceDate"))
    view.valid_until = _datetime(document.get("validUntil") or document.get("expirationDate"))
    evidence = document.get("evidence")
    for item in evidence if isinstance(evidence, list) else [evidence] if evidence else []:
        if isinstance(item, dict):
            raw = _text(item.get("id"))
            url = http_url(item.get("id"))
            name = _text(item.get("name")) or _text(item.get("description")) or _("Evidence")
            kind = _text(item.get("genre"))
            view.evidence.append(Link(name=name, url=url, text=raw, kind=kind))
    view.results = _results(subject, achievement)
    view.alignments = alignments_of(achievement)
    view.skills = _skills(achievement)
    view.endorsements = _endorsements(document)
    return view


def alignments_of(node: Mapping[str, Any]) -> list[Alignment]:
    """The OB 3.0 ``alignment`` of an achievement (or result): name, framework, code, link."""
    out = []
    alignments = node.get("alignment")
    for item in alignments if isinstance(alignments, list) else [alignments]:
        if not isinstance(item, dict):
            continue
        name = _text(item.get("targetName"))
        if not name:
            continue
        out.append(
            Alignment(
                name=name,
                url=http_url(item.get("targetUrl")),
                framework=_text(item.get("targetFramework")),
                code=_text(item.get("targetCode")),
                description=_text(item.get("targetDescription")),
            )
        )
    return out


def _skills(achievement: Mapping[str, Any]) -> list[str]:
    """The achievement's tags (OB 3.0 ``tag``), as given."""
    tags = achievement.get("tag")
    found = [_text(tag) for tag in (tags if isinstance(tags, list) else [tags])]
    return [tag for tag in found if tag]


def _results(subject: Mapping[str, Any], achievement: Mapping[str, Any]) -> list[ResultRow]:
    """Each result as (what was assessed, what was achieved, points), names looked up by id
    (OB 3.0 Result.resultDescription and achievedLevel refer to the achievement's
    definitions)."""
    names: dict[str, str] = {}
    points: dict[str, str] = {}
    descriptions = achievement.get("resultDescription")
    for description in descriptions if isinstance(descriptions, list) else []:
        if not isinstance(description, dict):
            continue
        names[_text(description.get("id"))] = _text(description.get("name"))
        levels = description.get("rubricCriterionLevel")
        for level in levels if isinstance(levels, list) else []:
            if isinstance(level, dict):
                names[_text(level.get("id"))] = _text(level.get("name"))
                value = level.get("points")
                if isinstance(value, str | int | float) and not isinstance(value, bool):
                    points[_text(level.get("id"))] = str(value).strip()
    out = []
    results = subject.get("result")
    for result in results if isinstance(results, list) else []:
        if not isinstance(result, dict):
            continue
        what = names.get(_text(result.get("resultDescription"))) or _("Result")
        achieved = names.get(_text(result.get("achievedLevel"))) or _text(result.get("value"))
        achieved = achieved or _text(result.get("status"))
        if achieved:
            level_points = points.get(_text(result.get("achievedLevel")), "")
            out.append(ResultRow(what, achieved, level_points))
    return out


def _endorsements(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    endorsements = document.get("endorsement")
    for item in endorsements if isinstance(endorsements, list) else []:
        if not isinstance(item, dict):
            continue
        issuer = item.get("issuer")
        name = _text(issuer.get("name")) if isinstance(issuer, dict) else ""
        subject = _first(item.get("credentialSubject"))
        comment = _text(subject.get("endorsementComment")) if isinstance(subject, dict) else ""
        out.append((name or _("An endorser"), comment))
    return out


def format_date(moment: datetime | None) -> str:
    """``3 March 2024`` (UTC), or ``""``."""
    if moment is None:
        return ""
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%B %Y}"


def document_of(row: IssuedCredential) -> dict[str, Any]:
    """The credential's stored JSON object; ``{}`` if it is not one (never raises)."""
    try:
        document = json.loads(row.document)
    except (ValueError, RecursionError):
        return {}
    return document if isinstance(document, dict) else {}


def linkedin_url(view: CredentialView, *, page_url: str, public_id: str) -> str:
    """LinkedIn's "add certification" link, every value URL-encoded."""
    params: dict[str, str] = {
        "startTask": "CERTIFICATION_NAME",
        "name": view.achievement_name,
        "organizationName": view.issuer_name,
    }
    if view.valid_from is not None:
        issued = view.valid_from.astimezone(UTC)
        params["issueYear"], params["issueMonth"] = str(issued.year), str(issued.month)
    params["certUrl"] = page_url
    params["certId"] = public_id
    return f"{LINKEDIN_ADD_URL}?{urlencode(params, quote_via=quote)}"


def meta_description(view: CredentialView) -> str:
    """The page's description for search engines and social cards (at most 200 characters)."""
    if view.recipient_is_name:
        text: str = _(
            "%(achievement)s, awarded to %(recipient)s by %(issuer)s.",
            achievement=view.achievement_name,
            recipient=view.recipient,
            issuer=view.issuer_name,
        )
    else:
        text = _(
            "%(achievement)s, awarded by %(issuer)s.",
            achievement=view.achievement_name,
            issuer=view.issuer_name,
        )
    if view.description:
        text += f" {view.description}"
    return (
        text
        if len(text) <= MAX_DESCRIPTION_CHARS
        else text[: MAX_DESCRIPTION_CHARS - 3].rstrip() + "…"
    )
