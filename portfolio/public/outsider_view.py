"""What anyone who holds a credential (its page, its JSON, its badge) learns about the student
from it: shown to the student on her own credential page, read from the signed document itself.

Pure: the credential's JSON in, plain sentences out (docs/security.md, "What the recipient
identity reveals").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _


@dataclass(frozen=True)
class Disclosure:
    """One thing an outsider learns, and what follows from it."""

    what: str
    meaning: str


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def what_outsiders_learn(document: Mapping[str, Any]) -> list[Disclosure]:
    """Every statement about the recipient an outsider can read or test, most revealing first."""
    found: list[Disclosure] = []
    for subject in _list(document.get("credentialSubject")):
        if not isinstance(subject, dict):
            continue
        subject_id = _text(subject.get("id"))
        if subject_id:
            found.append(
                Disclosure(
                    _("Your identifier %(identifier)s", identifier=subject_id),
                    _(
                        "It is written in full. Anyone can see that every credential naming it "
                        "names the same person."
                    ),
                )
            )
        for identity in _list(subject.get("identifier")):
            if isinstance(identity, dict):
                found.extend(_identity(identity))
    names = [_text(e.get("name")) for e in _list(document.get("evidence")) if isinstance(e, dict)]
    if names:
        found.append(
            Disclosure(
                _(
                    "Your evidence: %(names)s",
                    names=", ".join(n or _("untitled") for n in names),
                ),
                _(
                    "The credential links to the evidence that was assessed; anyone with the "
                    "credential can open those pages."
                ),
            )
        )
    endorsers = [
        _text(issuer.get("name"))
        for endorsement in _list(document.get("endorsement"))
        if isinstance(endorsement, dict) and isinstance(issuer := endorsement.get("issuer"), dict)
    ]
    if endorsers:
        found.append(
            Disclosure(
                _(
                    "Who assessed you: %(names)s",
                    names=", ".join(n for n in endorsers if n) or _("an assessor"),
                ),
                _("Each endorsement names its assessor and what they wrote."),
            )
        )
    found.append(
        Disclosure(
            _("The achievement, your results, the school and the dates"),
            _("These are what the credential is for: they are shown to anyone who opens it."),
        )
    )
    return found


def _identity(identity: Mapping[str, Any]) -> list[Disclosure]:
    kind = _text(identity.get("identityType"))
    value = _text(identity.get("identityHash"))
    if kind == "name" and identity.get("hashed") is False:
        return [
            Disclosure(
                _("Your name: %(name)s", name=value),
                _("It is written in full, as you chose it for credentials."),
            )
        ]
    if identity.get("hashed") is True:
        what = _("email address") if kind == "emailAddress" else kind or _("identifier")
        if _text(identity.get("salt")):
            hashed = _("A hash of your %(what)s, with the salt next to it", what=what)
        else:
            hashed = _("A hash of your %(what)s, without a salt", what=what)
        return [
            Disclosure(
                hashed,
                _(
                    "Your %(what)s is not written in the credential, but anyone who guesses "
                    "it — your name and the school's domain are an obvious first guess — can "
                    "confirm the guess with one calculation. It proves the credential is yours "
                    "when you show your address; it does not keep your address secret from "
                    "someone who already suspects it.",
                    what=what,
                ),
            )
        ]
    if value:
        return [
            Disclosure(
                _("Your %(what)s: %(value)s", what=kind or _("identifier"), value=value),
                _("It is written in full."),
            )
        ]
    return []
