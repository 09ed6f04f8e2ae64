"""``credfolio issuer`` (show an issuer; switch its suspension option) and ``credfolio keys
create-did-key`` (a did:key issuer, key and DID made together)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy import select

from issuer_keys.errors import IssuerKeyError
from portfolio.accounts.issuers import default_issuer
from portfolio.accounts.models import Issuer
from portfolio.core.db import db
from portfolio.issuing import issuer_profile, status_options
from portfolio.issuing.keystore import SqlKeyStore

_ISSUER_OPTION = click.option(
    "--issuer-did", default=None, help="The issuer's DID (default: the service's own issuer)."
)


def _issuer(issuer_did: str | None) -> Issuer:
    if not issuer_did:
        return default_issuer()
    found = db.session.scalar(select(Issuer).where(Issuer.did == issuer_did))
    if found is None:
        raise click.BadParameter(_("no issuer %(did)r", did=issuer_did), param_hint="--issuer-did")
    return found


def _warning() -> str:
    """The warning about strict validators, in the terminal's language (the same message id
    as the issuer page's)."""
    warning = _(status_options.STRICT_VALIDATORS_WARNING)
    return str(_("Warning: %(warning)s", warning=warning))


def _store() -> SqlKeyStore:
    store: SqlKeyStore = current_app.extensions["credfolio"].key_store
    return store


@click.group("issuer")
def issuer_group() -> None:
    """Show an issuer, change its profile, choose the status entries of its new credentials."""


@issuer_group.command("show")
@_ISSUER_OPTION
@with_appcontext
def show_command(issuer_did: str | None) -> None:
    """Name, DID, signing key and the status entries new credentials carry."""
    issuer = _issuer(issuer_did)
    try:
        method = _store().active(issuer.did).verification_method
    except IssuerKeyError as exc:
        method = _("none (%(error)s)", error=exc.message)
    click.echo(_("Issuer:          %(value)s", value=issuer.name))
    click.echo(_("Web site:        %(value)s", value=issuer.url or "-"))
    click.echo(_("Email:           %(value)s", value=issuer.email or "-"))
    click.echo(_("Logo:            %(value)s", value=issuer.image or "-"))
    click.echo(_("Description:     %(value)s", value=issuer.description or "-"))
    click.echo(_("DID:             %(value)s", value=issuer.did))
    click.echo(_("Signing key:     %(value)s", value=method))
    purposes = ", ".join(status_options.purposes_for(issuer))
    click.echo(_("Status entries:  %(value)s", value=purposes))
    if issuer.offers_suspension:
        click.echo(_warning())


@issuer_group.command("set")
@click.option("--name", help="The school's name, as credentials will say it.")
@click.option("--url", help="Its web site (https://…); an empty value removes it.")
@click.option("--email", help="Where people can ask about a credential; empty removes it.")
@click.option("--image", help="The address of its logo (https://…); empty removes it.")
@click.option("--description", help="A sentence or two about it; empty removes it.")
@_ISSUER_OPTION
@with_appcontext
def set_command(
    name: str | None,
    url: str | None,
    email: str | None,
    image: str | None,
    description: str | None,
    issuer_did: str | None,
) -> None:
    """Change the issuer's profile (what new credentials, the pages and the DID document say);
    fields not given stay as they are."""
    issuer = _issuer(issuer_did)
    given = {"name": name, "url": url, "email": email, "image": image, "description": description}
    values = {
        field: given[field] if given[field] is not None else getattr(issuer, field)
        for field in issuer_profile.FIELDS
    }
    try:
        changed = issuer_profile.update(issuer, values, actor="cli")
    except issuer_profile.ProfileError as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.field}") from None
    click.echo(
        _("Changed: %(fields)s.", fields=", ".join(changed)) if changed else _("Nothing changed.")
    )


@issuer_group.command("suspension")
@click.argument("state", type=click.Choice(["on", "off"]))
@_ISSUER_OPTION
@with_appcontext
def suspension_command(state: str, issuer_did: str | None) -> None:
    """Switch suspension on or off for the issuer's new credentials (off by default).

    On adds a second credentialStatus entry, which strict OB 3.0 validators reject.  Credentials
    already issued keep their entries either way.
    """
    issuer = _issuer(issuer_did)
    changed = status_options.set_suspension(issuer, state == "on", actor="cli")
    messages = {
        (True, "on"): _("Suspension is now on for new credentials of %(did)s."),
        (True, "off"): _("Suspension is now off for new credentials of %(did)s."),
        (False, "on"): _("Suspension was already on for new credentials of %(did)s."),
        (False, "off"): _("Suspension was already off for new credentials of %(did)s."),
    }
    click.echo(messages[(bool(changed), state)] % {"did": issuer.did})
    if state == "on":
        click.echo(_warning())
    else:
        click.echo(
            _(
                "New credentials carry one revocation status entry (1EdTech schema-valid); "
                "those issued with a suspension entry can still be suspended."
            )
        )


@click.command("create-did-key")
@with_appcontext
def create_did_key_command() -> None:
    """Make a did:key issuer: a new key and the DID it is, kept encrypted like every key.

    A did:key names exactly one key, so `keys create` cannot make one for a configured did:key:
    make it here, then set CREDFOLIO_ISSUER_DID to the DID printed (and restart).
    """
    record = _store().create_did_key()
    click.echo(
        _("Created key %(key)s and its DID %(did)s", key=record.key_id, did=record.controller)
    )
    click.echo(_("verification method: %(method)s", method=record.verification_method))
    configured = current_app.extensions["credfolio"].issuer_did
    if configured != record.controller:
        click.echo(
            _(
                "To issue as this DID, set CREDFOLIO_ISSUER_DID=%(did)s and restart "
                "(this service now signs as %(configured)s).",
                did=record.controller,
                configured=configured,
            )
        )
