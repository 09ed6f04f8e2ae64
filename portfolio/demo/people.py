"""The demo's people — the administrator, two assessors, four students in two cohorts with
learner profiles, and two guardians — and their accounts, whose random passwords are kept in
the instance folder (``demo-accounts.txt``, mode 0600)."""

from __future__ import annotations

import os
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from portfolio.accounts.models import Issuer, LearnerProfile, Role, User
from portfolio.core.db import db, unit_of_work
from portfolio.core.hashing import password_hasher

DEMO_DOMAIN = "demo.credfolio.test"
DEMO_ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
#: In the instance folder: one ``role email password`` line per demo account (mode 0600).
ACCOUNTS_FILE = "demo-accounts.txt"


@dataclass(frozen=True)
class PersonSpec:
    """A demo account (the administrator's email is :data:`DEMO_ADMIN_EMAIL`)."""

    key: str
    role: Role
    name: str
    email: str
    cohort: str | None = None
    profile: Mapping[str, str] = field(default_factory=dict)


def _email(name: str) -> str:
    local = name.lower().replace("á", "a").replace(" ", ".")
    return f"{local}@{DEMO_DOMAIN}"


PEOPLE = (
    PersonSpec("admin", Role.ADMIN, "Demo administrator", DEMO_ADMIN_EMAIL),
    PersonSpec("amara", Role.ASSESSOR, "Amara Nwosu", _email("Amara Nwosu")),
    PersonSpec("daniel", Role.ASSESSOR, "Daniel Kowalski", _email("Daniel Kowalski")),
    PersonSpec(
        "maya",
        Role.STUDENT,
        "Maya Okafor",
        _email("Maya Okafor"),
        cohort="Year 8 Willow",
        profile={
            "pronouns": "she/her",
            "bio": "I write songs on my grandmother's ukulele and stories on the bus.",
            "learning_goals": "Perform one of my own songs at the spring concert.",
            "interests": "Folk music, the sea, graphic novels",
        },
    ),
    PersonSpec(
        "leo",
        Role.STUDENT,
        "Leo Brennan",
        _email("Leo Brennan"),
        cohort="Year 8 Willow",
        profile={
            "pronouns": "he/him",
            "bio": "Drummer in a band that has not played a gig yet.",
            "learning_goals": "Finish things I start, and write lyrics I am not embarrassed by.",
            "interests": "Drums, mysteries, clocks",
        },
    ),
    PersonSpec(
        "priya",
        Role.STUDENT,
        "Priya Raman",
        _email("Priya Raman"),
        cohort="Year 8 Rowan",
        profile={
            "pronouns": "she/her",
            "bio": "I like fixing things that annoy people, like the puddle by the bike shed.",
            "learning_goals": "Build something the whole school uses.",
            "interests": "Gardening, engineering, letters from my cousins in Chennai",
            "credential_name": "Priya S. Raman",
        },
    ),
    PersonSpec(
        "tomas",
        Role.STUDENT,
        "Tomás Silva",
        _email("Tomás Silva"),
        cohort="Year 8 Rowan",
        profile={
            "pronouns": "he/him",
            "bio": "Birdwatcher, solderer, occasional poet.",
            "learning_goals": "Get better at explaining my projects, not only building them.",
            "interests": "Birds, electronics, photography",
        },
    ),
    # Guardians (issue 17 §3): Grace consents to Maya's public pages; Rui has not consented
    # for Tomás, so nothing of his is public (portfolio/demo/families.py).
    PersonSpec("grace", Role.GUARDIAN, "Grace Okafor", _email("Grace Okafor")),
    PersonSpec("rui", Role.GUARDIAN, "Rui Silva", _email("Rui Silva")),
)


def read_accounts(path: Path) -> dict[str, str | None]:
    """email → password from the accounts file (the last line for an address wins)."""
    accounts: dict[str, str | None] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 3:
                accounts[parts[1]] = parts[2]
    return accounts


def _record_accounts(path: Path, lines: Sequence[str]) -> None:
    """Append ``lines`` to the accounts file, created owner-only (0600) and kept so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as out:
        out.writelines(line + "\n" for line in lines)
        out.flush()
        os.fsync(out.fileno())
    path.chmod(0o600)


def seed_people(issuer: Issuer, accounts_file: Path, created: Counter[str]) -> dict[str, User]:
    """The accounts (one transaction) and students' learner profiles.

    New accounts get a random password, appended to the accounts file before the commit (a
    failed commit leaves a stale line, which the next run's line for that address replaces).
    """
    emails = [spec.email for spec in PEOPLE]
    existing = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    new = [spec for spec in PEOPLE if spec.email not in existing]
    passwords = {spec.email: secrets.token_urlsafe(12) for spec in new}
    hasher = password_hasher()  # chosen here: the pool's threads have no app context
    with ThreadPoolExecutor() as pool:  # argon2 is slow on purpose; it releases the GIL
        hashes = dict(zip(passwords, pool.map(hasher.hash, passwords.values()), strict=True))
    if new:
        _record_accounts(accounts_file, [f"{s.role} {s.email} {passwords[s.email]}" for s in new])
    with unit_of_work(write=True):
        people = {}
        for spec in PEOPLE:
            user = existing.get(spec.email)
            if user is None:
                user = User(
                    email=spec.email,
                    password_hash=hashes[spec.email],
                    display_name=spec.name,
                    role=spec.role,
                    issuer_id=issuer.id,
                    cohort=spec.cohort,
                )
                db.session.add(user)
                db.session.flush()
                created["accounts"] += 1
                if spec.role == Role.STUDENT:
                    db.session.add(LearnerProfile(user_id=user.id, **spec.profile))
                    created["profiles"] += 1
            people[spec.key] = user
    return people
