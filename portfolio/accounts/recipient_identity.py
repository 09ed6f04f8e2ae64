"""Each school's choice of how its credentials name the student (:class:`RecipientIdentity`):
what each choice puts in a public credential, and changing it (audited).

What an outsider learns from each (docs/security.md, "What the recipient identity reveals"):

* ``email`` — the student's name, and a salted SHA-256 of their address *with the salt*: the
  hash hides the address from someone who only reads it, but anyone who guesses the address
  (name + the school's domain is a good first guess) confirms it with one hash;
* ``did`` — the name and the DID the student gave (which links every credential naming it);
  students without a DID are named by the hashed email;
* ``name`` — the name only: nothing to confirm an address with, but nothing that ties the
  credential to the student beyond their name either.
"""

from __future__ import annotations

from flask import current_app

from portfolio.accounts.models import Issuer, RecipientIdentity, User
from portfolio.core import audit
from portfolio.core.db import unit_of_work
from portfolio.core.errors import InvalidInputError
from portfolio.core.i18n import LazyText
from portfolio.core.i18n import lazy_gettext as _l

#: (value, label, what an outsider learns) of each choice, in the order the page offers them.
CHOICES: tuple[tuple[RecipientIdentity, LazyText, LazyText], ...] = (
    (
        RecipientIdentity.EMAIL,
        _l("Hashed email address"),
        _l(
            "The student's name and a salted hash of their email address, with its salt. Anyone "
            "who guesses the address can confirm the guess; no one can read it off the credential."
        ),
    ),
    (
        RecipientIdentity.DID,
        _l("The student's DID (hashed email when they gave none)"),
        _l(
            "The student's name and the DID they gave, which links every credential that names "
            "it. Students without a DID are named by the hashed email address."
        ),
    ),
    (
        RecipientIdentity.NAME,
        _l("Name only"),
        _l(
            "Only the name the student chose for credentials: nothing to confirm an address "
            "with, and nothing to prove the credential is theirs beyond that name."
        ),
    ),
)


def of_issuer(issuer: Issuer | None) -> RecipientIdentity:
    """The school's choice, else the service's default (``CREDFOLIO_RECIPIENT_IDENTITY``)."""
    chosen = issuer.recipient_identity if issuer is not None else None
    default = current_app.config.get("CREDFOLIO_RECIPIENT_IDENTITY", RecipientIdentity.EMAIL)
    return RecipientIdentity(chosen or default)


def choose(issuer: Issuer, choice: str, *, actor: User) -> None:
    """Set the school's recipient identity for credentials issued from now on (audited).
    Credentials already issued keep the identity they were signed with."""
    try:
        value = RecipientIdentity(choice)
    except ValueError:
        raise InvalidInputError(_l("Choose one of the recipient identities offered.")) from None
    with unit_of_work(write=True):
        previous = of_issuer(issuer)
        issuer.recipient_identity = value.value
        audit.record(
            "recipient_identity_changed",
            actor=actor,
            target=issuer.did,
            detail={"from": previous.value, "to": value.value},
        )
