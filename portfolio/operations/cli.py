"""``credfolio init-db``: create or upgrade the database schema."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_migrate import upgrade

from portfolio.core.db import db


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema (the same as `credfolio db upgrade`)."""
    upgrade()
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")
