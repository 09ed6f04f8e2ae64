"""``credfolio demo-setup``: the demo issuer, its key and the demo school."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_migrate import upgrade

from portfolio.accounts.issuers import PublicUrlChanged, default_issuer
from portfolio.core.settings import settings
from portfolio.demo import school as demo_school
from portfolio.demo.summary import summary_lines


@click.command("demo-setup")
@with_appcontext
def demo_setup() -> None:
    """Prepare the demo: schema, the demo issuer and its key, and a demo school (a competency
    framework with rubrics, an administrator, assessors and students, evidence, submissions in
    every state and real credentials; see ``portfolio.demo.school``).  Prints the sign-in
    details.  Safe to run again: nothing is created twice."""
    upgrade()
    components = current_app.extensions["credfolio"]
    try:
        issuer = default_issuer()
    except PublicUrlChanged as exc:
        raise click.ClickException(exc.message) from None
    store = components.key_store
    records = [r for r in store.list(issuer.did) if r.status == "active"]
    record = records[0] if records else store.create(issuer.did)
    click.echo(_("Issuer:      %(value)s", value=issuer.name))
    click.echo(_("Issuer DID:  %(value)s", value=issuer.did))
    click.echo(
        _(
            "Signing key: %(key)s (%(multibase)s)",
            key=record.key_id,
            multibase=record.public_key_multibase,
        )
    )

    # Development-only accounts; their passwords live in the instance folder (0600).
    school = demo_school.seed(issuer, instance_path=current_app.instance_path)
    for line in summary_lines(school, settings().public_url):
        click.echo(line)
