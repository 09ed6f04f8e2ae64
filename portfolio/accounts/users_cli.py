"""``credfolio users``: create, list and disable accounts (issuer administrators first), and
change a role; every change records an audit event (actor ``cli``) in its own transaction."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portfolio.accounts.auth import (
    end_all_sessions,
    hash_password,
    is_valid_email,
    password_problem,
)
from portfolio.accounts.issuers import default_issuer
from portfolio.accounts.models import USER_ROLES, Issuer, User
from portfolio.core import audit
from portfolio.core.db import db


@click.group("users")
def users_group() -> None:
    """Accounts: issuer administrators, assessors, students."""


def _find(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == User.normalize_email(email)))


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # One line; only the line break is removed (spaces may be part of a passphrase).
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password"))


@users_group.command("create")
@click.option("--email", required=True, help="Sign-in address (stored lower-cased).")
@click.option("--role", type=click.Choice(USER_ROLES), required=True, help="admin = issuer admin.")
@click.option("--name", "display_name", help="Display name (default: the email's local part).")
@click.option("--issuer-did", help="The user's issuer (default: the service's own issuer).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_command(
    email: str, role: str, display_name: str | None, issuer_did: str | None, password_stdin: bool
) -> None:
    """Create an account; the password is asked twice (hidden) unless --password-stdin."""
    if not is_valid_email(email):
        raise click.BadParameter(f"{email!r} is not an email address", param_hint="--email")
    if _find(email) is not None:
        raise click.ClickException(f"an account for {User.normalize_email(email)} already exists")
    if issuer_did:
        issuer = db.session.scalar(select(Issuer).where(Issuer.did == issuer_did))
        if issuer is None:
            raise click.BadParameter(f"no issuer {issuer_did!r}", param_hint="--issuer-did")
    else:
        issuer = default_issuer()
    password = _read_password(password_stdin)
    problem = password_problem(password, email=email)
    if problem:
        raise click.ClickException(problem)
    user = User(
        email=email,
        password_hash=hash_password(password),
        display_name=(display_name or email.split("@", 1)[0]).strip(),
        role=role,
        issuer=issuer,
    )
    db.session.add(user)
    try:
        db.session.flush()
        audit.record(
            "account_created",
            actor_label="cli",
            issuer_id=issuer.id,
            target=f"user:{user.id}",
            detail={"role": role},
        )
        db.session.commit()
    except IntegrityError:  # created concurrently since the check above
        db.session.rollback()
        raise click.ClickException(
            f"an account for {User.normalize_email(email)} already exists"
        ) from None
    click.echo(f"Created {user.role} {user.email} (issuer {issuer.did}).")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per account.")
@with_appcontext
def list_command(as_json: bool) -> None:
    """Every account, oldest first."""
    for user in db.session.scalars(select(User).order_by(User.created_at, User.id)):
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
    user = _find(email)
    if user is None:
        raise click.ClickException(f"no account {User.normalize_email(email)}")
    if not user.is_active:
        click.echo(f"{user.email} is already disabled.")
        return
    user.disabled_at = datetime.now(UTC)
    end_all_sessions(user)
    audit.record(
        "account_disabled", actor_label="cli", issuer_id=user.issuer_id, target=f"user:{user.id}"
    )
    db.session.commit()
    click.echo(f"Disabled {user.email}; every session of it is signed out.")


@users_group.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(USER_ROLES))
@with_appcontext
def set_role_command(email: str, role: str) -> None:
    """Give the account EMAIL the role ROLE; every session of it ends (it signs in again with
    its new rights)."""
    user = _find(email)
    if user is None or user.deleted_at is not None:
        raise click.ClickException(f"no account {User.normalize_email(email)}")
    if user.role == role:
        click.echo(f"{user.email} is already {role}.")
        return
    previous, user.role = user.role, role
    end_all_sessions(user)
    audit.record(
        "role_changed",
        actor_label="cli",
        issuer_id=user.issuer_id,
        target=f"user:{user.id}",
        detail={"from": previous, "to": role},
    )
    db.session.commit()
    click.echo(f"{user.email} is now {role} (was {previous}); every session of it is signed out.")
