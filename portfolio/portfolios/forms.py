"""The portfolio pages' forms (WTForms): a portfolio's title and cover text, who can see it,
revoking its link, a section's title, the evidence to place in a section.  The up/down buttons
are :class:`portfolio.evidence.forms.MoveForm`."""

from __future__ import annotations

from typing import Any

from wtforms import StringField
from wtforms.validators import AnyOf, DataRequired, Length

from portfolio.core.i18n import lazy_gettext as _l
from portfolio.evidence.forms import PageForm
from portfolio.evidence.service import MAX_TITLE
from portfolio.portfolios.models import Visibility
from portfolio.portfolios.service import MAX_COVER

#: What each visibility means, as the owner chooses it.
VISIBILITIES = {
    Visibility.PRIVATE: _l("Private: only you"),
    Visibility.LINK: _l("Anyone with the link"),
    Visibility.PUBLIC: _l("Public"),
}


def _title(required: Any) -> Any:
    """A title: stripped, required (with that message), at most :data:`MAX_TITLE`
    characters."""
    return StringField(
        filters=[lambda value: (value or "").strip()],
        validators=[
            DataRequired(required),
            Length(
                max=MAX_TITLE,
                message=_l("The title must have at most %(most)d characters.", most=MAX_TITLE),
            ),
        ],
    )


class PortfolioForm(PageForm):
    """A portfolio's title and cover text (Markdown)."""

    title = _title(_l("Enter a title for the portfolio."))
    cover_text = StringField(
        filters=[lambda value: value or ""],
        validators=[
            Length(
                max=MAX_COVER,
                message=_l("The cover text must have at most %(most)d characters.", most=MAX_COVER),
            )
        ],
    )


class VisibilityForm(PageForm):
    """Who can see the portfolio (one of :data:`VISIBILITIES`)."""

    visibility = StringField(
        default="", validators=[AnyOf(list(Visibility), message=_l("Choose who can see it."))]
    )


class GuardiansForm(PageForm):
    """Whether the owner shares the portfolio with her linked guardians (a ticked box sends
    ``shared_with_guardians``; an unticked one sends nothing)."""

    shared_with_guardians = StringField(default="")

    @property
    def shared(self) -> bool:
        return bool(self.shared_with_guardians.data)


class RevokeLinkForm(PageForm):
    """Revoking the shared link; ``replace`` (any value) asks for a new link instead."""

    replace = StringField(default="")


class SectionForm(PageForm):
    """A new section's title (``section_title``)."""

    section_title = _title(_l("Enter a title for the section."))


class RenameSectionForm(PageForm):
    """A section's new title."""

    title = _title(_l("Enter a title for the section."))


class PlacementForm(PageForm):
    """The evidence (its public id) to place in a section."""

    evidence = StringField(filters=[lambda value: value or ""])
