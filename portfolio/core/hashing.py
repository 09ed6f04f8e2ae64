"""The argon2id hasher for account passwords and API client secrets: production parameters
everywhere, cheap ones only in apps made for tests, so that the suite does not spend minutes
on hashing that is slow on purpose."""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from flask import current_app, has_app_context

#: argon2-cffi's defaults: argon2id with the RFC 9106 "low memory" parameters (t=3, 64 MiB,
#: p=4).  When they change (a newer argon2-cffi, or a deliberate change here), stored hashes
#: are upgraded at the next sign-in (portfolio/accounts/auth.py).
PRODUCTION = PasswordHasher()
#: For apps made for tests (``TESTING``): the same algorithm, salt and hash lengths, with the
#: least time and memory.  Never used outside TESTING apps: a production app, the CLI outside
#: tests and any code without an app context get :data:`PRODUCTION`.
FOR_TESTS = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
#: Config key: set it to False in a TESTING app to hash with the production parameters.
TEST_HASHING = "CREDFOLIO_TEST_PASSWORD_HASHING"


def password_hasher() -> PasswordHasher:
    """The current app's hasher: :data:`FOR_TESTS` in a TESTING app (unless its config sets
    ``CREDFOLIO_TEST_PASSWORD_HASHING`` to False), else :data:`PRODUCTION`.  Verifying reads
    the parameters from the stored hash, so either hasher verifies any hash."""
    if (
        has_app_context()
        and current_app.testing
        and current_app.config.get("CREDFOLIO_ENV") != "production"
        and current_app.config.get(TEST_HASHING, True)
    ):
        return FOR_TESTS
    return PRODUCTION


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_urlsafe(24))


def dummy_hash() -> str:
    """A hash of a random secret made with the current hasher, to verify against when there is
    nothing to check (unknown account or client): the same work, so the response time does not
    tell whether it exists."""
    return _dummy_hash(password_hasher())
