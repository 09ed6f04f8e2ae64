"""The consent gate of a credential's public pages (issue 17 §3): while its recipient is a
minor without a standing consent, every public view of it — the page, its JSON, badge images,
PDF and evidence — answers 404 with a page that says it is not public.  Status lists and
``/verify`` are not gated: verification from the holder's own file must keep working."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from werkzeug.exceptions import NotFound

from portfolio.accounts.auth import current_user
from portfolio.accounts.models import User
from portfolio.core.db import db
from portfolio.guardians.consent import credential_public, may_publish
from portfolio.issuing.models import IssuedCredential


class NotPublic(NotFound):
    """A credential's public view while its holder may not publish (a 404 of its own page)."""


def is_public(row: IssuedCredential) -> bool:
    """Whether the signed-in viewer (or anyone, signed out) may see ``row``'s public pages.

    Read from the database on every request, never cached: a withdrawal hides the pages from
    the next request on."""
    recipient = db.session.get(User, row.recipient_user_id) if row.recipient_user_id else None
    return credential_public(recipient, current_user())


def hidden_from_public(row: IssuedCredential) -> bool:
    """Whether ``row``'s public pages are hidden from the public (the few who still see them
    are told so on the page)."""
    recipient = db.session.get(User, row.recipient_user_id) if row.recipient_user_id else None
    return recipient is not None and not may_publish(recipient)


def refuse_unless_public(row: IssuedCredential) -> None:
    """Raise :class:`NotPublic` unless :func:`is_public`."""
    if not is_public(row):
        raise NotPublic()


def not_public_page(_error: NotPublic) -> Response:
    """The "not public" page.  404, not 410: the page comes back when consent is given again,
    so no search engine or cache may treat it as gone for good; ``no-store`` so no cache keeps
    a copy from before a withdrawal."""
    response = Response(render_template("public/not_public.html"), status=404)
    response.headers["Cache-Control"] = "no-store"
    return response


def gate(bp: Blueprint) -> Blueprint:
    """Give ``bp`` (a blueprint of a credential's public views) the "not public" page."""
    bp.register_error_handler(NotPublic, not_public_page)
    return bp
