"""The accounts commands: ``credfolio users`` (create, list and disable accounts, change a role;
every change recorded with actor ``cli``, in its own transaction) and ``credfolio roster import``
(a class roster, with the same per-row report as the administration page)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext

from portfolio.accounts import service
from portfolio.accounts.auth import is_valid_email, password_problem
from portfolio.accounts.issuers import default_issuer
from portfolio.accounts.models import Issuer, Role, User
from portfolio.accounts.roster import RosterFileError
from portfolio.core.errors import ConflictError

#: ``--role`` and ``ROLE``: the roles' values (``admin``, ``assessor``, ``student``, ``guardian``).
ROLE_CHOICE = click.Choice([role.value for role in Role])


def _issuer(issuer_did: str | None) -> Issuer:
    """The issuer named by ``--issuer-did``, else the service's own."""
    if not issuer_did:
        return default_issuer()
    issuer = service.find_issuer(issuer_did)
    if issuer is None:
        raise click.BadParameter(_("no issuer %(did)r", did=issuer_did), param_hint="--issuer-did")
    return issuer


# -- credfolio users -------------------------------------------------------------------------


@click.group("users")
def users_group() -> None:
    """Accounts: issuer administrators, assessors, students."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # One line; only the line break is removed (spaces may be part of a passphrase).
        return sys.stdin.readline().rstrip("\r\n")
    return str(
        click.prompt(_("Password"), hide_input=True, confirmation_prompt=_("Repeat the password"))
    )


@users_group.command("create")
@click.option("--email", required=True, help="Sign-in address (stored lower-cased).")
@click.option("--role", type=ROLE_CHOICE, required=True, help="admin = issuer admin.")
@click.option("--name", "display_name", help="Display name (default: the email's local part).")
@click.option("--issuer-did", help="The user's issuer (default: the service's own issuer).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_command(
    email: str, role: str, display_name: str | None, issuer_did: str | None, password_stdin: bool
) -> None:
    """Create an account; the password is asked twice (hidden) unless --password-stdin."""
    if not is_valid_email(email):
        raise click.BadParameter(
            _("%(email)r is not an email address", email=email), param_hint="--email"
        )
    if service.find_account(email) is not None:
        raise click.ClickException(
            _("an account for %(email)s already exists", email=User.normalize_email(email))
        )
    issuer = _issuer(issuer_did)
    password = _read_password(password_stdin)
    problem = password_problem(password, email=email)
    if problem:
        raise click.ClickException(problem)
    try:
        user = service.create_account(
            email=email,
            role=Role(role),
            password=password,
            display_name=display_name,
            issuer=issuer,
        )
    except ConflictError as refused:
        raise click.ClickException(refused.message) from None
    click.echo(
        _(
            "Created %(role)s %(email)s (issuer %(did)s).",
            role=user.role,
            email=user.email,
            did=issuer.did,
        )
    )


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per account.")
@with_appcontext
def list_command(as_json: bool) -> None:
    """Every account, oldest first."""
    for user in service.accounts_oldest_first():
        item = {
            "email": user.email,
            "name": user.display_name,
            "role": user.role,
            "issuer": user.issuer.did if user.issuer else None,
            "state": "active" if user.is_active else "disabled",
            "created_at": user.created_at.isoformat(),
        }
        if as_json:
            sys.stdout.write(json.dumps(item) + "\n")
        else:
            click.echo(
                f"{user.email}  {user.role:<8}  {item['state']:<8}  "
                f"{user.created_at:%Y-%m-%d}  {item['issuer'] or '-'}  {user.display_name}"
            )


@users_group.command("disable")
@click.argument("email")
@with_appcontext
def disable_command(email: str) -> None:
    """Disable the account EMAIL: it can no longer sign in, and every session of it ends."""
    user = service.find_account(email)
    if user is None:
        raise click.ClickException(_("no account %(email)s", email=User.normalize_email(email)))
    if not service.disable_account(user):
        click.echo(_("%(email)s is already disabled.", email=user.email))
        return
    click.echo(_("Disabled %(email)s; every session of it is signed out.", email=user.email))


@users_group.command("set-role")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
@with_appcontext
def set_role_command(email: str, role: str) -> None:
    """Give the account EMAIL the role ROLE; every session of it ends (it signs in again with
    its new rights)."""
    user = service.find_account(email)
    if user is None or user.deleted_at is not None:
        raise click.ClickException(_("no account %(email)s", email=User.normalize_email(email)))
    previous = service.set_role(user, Role(role))
    if previous is None:
        click.echo(_("%(email)s is already %(role)s.", email=user.email, role=role))
        return
    click.echo(
        _(
            "%(email)s is now %(role)s (was %(previous)s); every session of it is signed out.",
            email=user.email,
            role=role,
            previous=previous,
        )
    )


# -- credfolio roster ------------------------------------------------------------------------


@click.group("roster")
def roster_group() -> None:
    """Class rosters (CSV: name,email,role and optionally cohort)."""


@roster_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--issuer-did", help="The issuer inviting them (default: the service's own).")
@with_appcontext
def import_command(file: Path, issuer_did: str | None) -> None:
    """Invite everyone on FILE's valid rows and print a line per row.

    Exits 0 when the file was read (even with rejected rows: they are listed), 1 when it
    cannot be read as a roster at all.
    """
    issuer = _issuer(issuer_did)
    try:
        report = service.import_roster(file.read_bytes(), issuer=issuer, invited_by=None)
    except RosterFileError as error:
        raise click.ClickException(
            _("%(file)s cannot be imported: %(error)s", file=file.name, error=error)
        ) from None
    for row in report.rows:
        click.echo(
            _(
                "line %(line)s: %(email)s (%(name)s) %(verdict)s",
                line=row.line,
                email=row.email or "-",
                name=row.name or "-",
                verdict=row.verdict,
            )
        )
    for email in report.unsent:
        click.echo(
            _("the mail to %(email)s could not be sent (the invitation exists)", email=email),
            err=True,
        )
    invited = len(report.created)
    rejected = len(report.rejected)
    if report.updated:
        cohorts = ngettext("%(num)d cohort set", "%(num)d cohorts set", len(report.updated))
        click.echo(
            _(
                "%(invited)d invited, %(cohorts)s, %(rejected)d rejected.",
                invited=invited,
                cohorts=cohorts,
                rejected=rejected,
            )
        )
    else:
        click.echo(
            _("%(invited)d invited, %(rejected)d rejected.", invited=invited, rejected=rejected)
        )
