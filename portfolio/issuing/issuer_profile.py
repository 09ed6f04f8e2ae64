"""The issuer's profile — name, web site, email, logo, description — kept in the database and
edited by its administrators (admin page, ``credfolio issuer set``), not set by an environment
variable (issue 18 §6).  New credentials, the DID document's web-site entry and the pages read
it from here; credentials already issued keep the profile they were signed with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from portfolio.accounts.actors import record_as
from portfolio.accounts.auth import is_valid_email
from portfolio.accounts.models import Issuer
from portfolio.core.db import unit_of_work
from portfolio.core.errors import InvalidInputError
from portfolio.core.i18n import LazyText
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.files.uploads import UploadError, check_link
from portfolio.issuing import verdict_generation

FIELDS = ("name", "url", "email", "image", "description")
MAX_NAME = 256
MAX_DESCRIPTION = 2000


class ProfileError(InvalidInputError):
    """A profile field that cannot be saved (``field`` names it)."""

    code = "INVALID_ISSUER_PROFILE"

    def __init__(self, field: str, message: str | LazyText) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Profile:
    name: str
    url: str | None
    email: str | None
    image: str | None
    description: str | None


def _link(value: str | None, field: str, message: LazyText) -> str | None:
    if not value or not value.strip():
        return None
    try:
        return check_link(value)
    except UploadError:
        raise ProfileError(field, message) from None


def checked(values: Mapping[str, str | None]) -> Profile:
    """The profile as it will be stored.  Raises :class:`ProfileError` for the first bad field."""
    name = " ".join((values.get("name") or "").split())
    if not name:
        raise ProfileError("name", _l("Enter the school's name."))
    if len(name) > MAX_NAME:
        raise ProfileError(
            "name", _l("The name must have at most %(max)d characters.", max=MAX_NAME)
        )
    email = (values.get("email") or "").strip() or None
    if email is not None and not is_valid_email(email):
        raise ProfileError("email", _l("Enter an email address like office@school.example."))
    description = (values.get("description") or "").strip() or None
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ProfileError(
            "description",
            _l("The description must have at most %(max)d characters.", max=MAX_DESCRIPTION),
        )
    return Profile(
        name=name,
        url=_link(values.get("url"), "url", _l("The web site must be a web address (https://…).")),
        email=email,
        image=_link(
            values.get("image"), "image", _l("The logo must be a web address (https://…).")
        ),
        description=description,
    )


def update(issuer: Issuer, values: Mapping[str, str | None], *, actor: str) -> list[str]:
    """Save the profile (committed, audited); returns the names of the fields that changed.
    Raises :class:`ProfileError` (nothing saved)."""
    profile = checked(values)
    changed = [field for field in FIELDS if getattr(issuer, field) != getattr(profile, field)]
    if not changed:
        return []
    with unit_of_work():
        for field in changed:
            setattr(issuer, field, getattr(profile, field))
        verdict_generation.bump()  # cached pages name the issuer: every worker shows the new name
        record_as(
            "issuer_profile_changed",
            actor,
            issuer_id=issuer.id,
            target=f"issuer:{issuer.slug}",
            detail={"fields": changed},
        )
    return changed
