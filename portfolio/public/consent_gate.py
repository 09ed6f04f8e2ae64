"""The consent gate of a credential's public pages (issue 17 §3): while its recipient is a
minor without a standing consent, every public view of it — the page, its JSON, badge images,
PDF and evidence — answers 404 with a page that says it is not public.  Status lists and
``/verify`` are not gated: verification from the holder's own file must keep working."""

from __future__ import annotations

from flask import Response, abort, render_template

from portfolio.accounts.auth import current_user
from portfolio.accounts.models import User
from portfolio.core.db import db
from portfolio.guardians.consent import credential_public
from portfolio.issuing.models import IssuedCredential


def is_public(row: IssuedCredential) -> bool:
    """Whether the signed-in viewer (or anyone, signed out) may see ``row``'s public pages.

    Read from the database on every request, never cached: a withdrawal hides the pages from
    the next request on."""
    recipient = db.session.get(User, row.recipient_user_id) if row.recipient_user_id else None
    return credential_public(recipient, current_user())


def refuse_unless_public(row: IssuedCredential) -> None:
    """Abort with the "not public" page unless :func:`is_public`.

    404, not 410: the page comes back when consent is given again, so no search engine or
    cache may treat it as gone for good; and ``no-store`` so no cache keeps a copy from before
    the withdrawal longer than the next request."""
    if is_public(row):
        return
    response = Response(render_template("public/not_public.html"), status=404)
    response.headers["Cache-Control"] = "no-store"
    abort(response)
