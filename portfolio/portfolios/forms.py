"""The portfolio pages' forms (WTForms): a portfolio's title and cover text, who can see it,
revoking its link, a section's title, the evidence to place in a section.  The up/down buttons
are :class:`portfolio.evidence.forms.MoveForm`."""

from __future__ import annotations

from typing import Any

from wtforms import StringField
from wtforms.validators import AnyOf, DataRequired, Length

from portfolio.evidence.forms import PageForm
from portfolio.evidence.service import MAX_TITLE
from portfolio.portfolios.models import Visibility
from portfolio.portfolios.service import MAX_COVER

#: What each visibility means, as the owner chooses it.
VISIBILITIES = {
    Visibility.PRIVATE: "Private: only you",
    Visibility.LINK: "Anyone with the link",
    Visibility.PUBLIC: "Public",
}


def _title(what: str) -> Any:
    """A title: stripped, required, at most :data:`MAX_TITLE` characters."""
    return StringField(
        filters=[lambda value: (value or "").strip()],
        validators=[
            DataRequired(f"Enter a title for the {what}."),
            Length(max=MAX_TITLE, message=f"The title must have at most {MAX_TITLE} characters."),
        ],
    )


class PortfolioForm(PageForm):
    """A portfolio's title and cover text (Markdown)."""

    title = _title("portfolio")
    cover_text = StringField(
        filters=[lambda value: value or ""],
        validators=[
            Length(
                max=MAX_COVER, message=f"The cover text must have at most {MAX_COVER} characters."
            )
        ],
    )


class VisibilityForm(PageForm):
    """Who can see the portfolio (one of :data:`VISIBILITIES`)."""

    visibility = StringField(
        default="", validators=[AnyOf(list(Visibility), message="Choose who can see it.")]
    )


class RevokeLinkForm(PageForm):
    """Revoking the shared link; ``replace`` (any value) asks for a new link instead."""

    replace = StringField(default="")


class SectionForm(PageForm):
    """A new section's title (``section_title``)."""

    section_title = _title("section")


class RenameSectionForm(PageForm):
    """A section's new title."""

    title = _title("section")


class PlacementForm(PageForm):
    """The evidence (its public id) to place in a section."""

    evidence = StringField(filters=[lambda value: value or ""])
