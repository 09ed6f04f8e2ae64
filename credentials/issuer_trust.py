"""Who vouches for an issuer: the ``issuer-trust`` check and the trust lists it reads.

A good signature proves that the holder of a key signed a credential; it says nothing about who
that is.  A forger's fresh ``did:key`` can sign an issuer object that *calls itself* "Credfolio
Demo School".  ``issuer-trust`` answers the other question: is the issuer's id (its DID) one the
verifier's operator has confirmed — one of the service's own issuers, or an entry of a trust
registry the operator chose?  It is ``passed`` (naming the source) or ``unknown``; never
``failed``, since an issuer nobody listed may still be genuine.

Pure: no Flask, no database, no network.  The caller supplies the :class:`IssuerTrustPolicy`
(:class:`TrustRegistry` for a registry file, :class:`TrustChain` for several sources in order of
authority); with none, the check is ``unknown``.

The Digital Credentials Consortium (DCC) issuer-registry format read by
:meth:`TrustRegistry.from_dcc_json` is the one of ``@digitalcredentials/issuer-registry-client``
("known DID registries")::

    {"meta": {"created": "...", "updated": "..."},
     "registry": {"did:key:z6Mk...": {"name": "...", "location": "...", "url": "https://..."}}}

Older registries name the map ``entries`` instead of ``registry``; both are read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import MalformedInputError

CHECK_NAME = "issuer-trust"
#: Shown when the trusted issuer is one of the verifying service's own issuers.
THIS_SERVICE = "this service"
MAX_REGISTRY_ENTRIES = 100_000
MAX_NAME_CHARS = 256


@dataclass(frozen=True)
class TrustedIssuer:
    """An issuer someone the verifier trusts vouches for: its DID, the name *they* give it,
    and where that comes from (:data:`THIS_SERVICE` or a registry's name)."""

    did: str
    name: str
    source: str
    url: str | None = None

    @property
    def own(self) -> bool:
        """One of the verifying service's own issuers."""
        return self.source == THIS_SERVICE


class IssuerTrustPolicy(Protocol):
    """Who vouches for ``issuer_id``: a :class:`TrustedIssuer`, or ``None`` when no one does."""

    def __call__(self, issuer_id: str, /) -> TrustedIssuer | None: ...


class TrustRegistry:
    """A fixed list of trusted issuers under one name (a registry file, a local list)."""

    def __init__(self, name: str, issuers: Iterable[TrustedIssuer] = ()) -> None:
        self.name = name
        self._issuers: dict[str, TrustedIssuer] = {}
        for issuer in issuers:
            self._issuers.setdefault(issuer.did, issuer)

    def __len__(self) -> int:
        return len(self._issuers)

    def __call__(self, issuer_id: str) -> TrustedIssuer | None:
        return self._issuers.get(issuer_id)

    @property
    def issuers(self) -> list[TrustedIssuer]:
        return list(self._issuers.values())

    @classmethod
    def from_dcc_json(cls, name: str, document: Any) -> TrustRegistry:
        """Read a DCC issuer registry (see the module docstring).

        Raises :class:`MalformedInputError` (code ``INVALID_TRUST_REGISTRY``) naming what is
        wrong: not an object, no ``registry``/``entries`` map, an entry that is not an object
        with a ``name``, a key that is not a DID or URL, too many entries.
        """
        if not isinstance(document, dict):
            raise _invalid(name, "the registry is not a JSON object")
        entries = document.get("registry", document.get("entries"))
        if not isinstance(entries, dict):
            raise _invalid(name, "it has no 'registry' (or 'entries') object mapping DIDs")
        if len(entries) > MAX_REGISTRY_ENTRIES:
            raise _invalid(name, f"more than {MAX_REGISTRY_ENTRIES} entries")
        issuers = []
        for did, entry in entries.items():
            if not did.startswith(("did:", "https://")) or any(c.isspace() for c in did):
                raise _invalid(name, f"{did[:80]!r} is not a DID or https URL")
            if not isinstance(entry, dict) or not _plain(entry.get("name")):
                raise _invalid(name, f"the entry of {did[:80]} has no name")
            url = entry.get("url")
            issuers.append(
                TrustedIssuer(
                    did=did,
                    name=_plain(entry["name"]),
                    source=name,
                    url=url if isinstance(url, str) and url.startswith("https://") else None,
                )
            )
        return cls(name, issuers)


class TrustChain:
    """Several policies asked in order, most authoritative first: the first that knows the
    issuer names it (as the DCC registry client does when a DID is in several registries)."""

    def __init__(self, policies: Iterable[IssuerTrustPolicy]) -> None:
        self._policies = list(policies)

    def __call__(self, issuer_id: str) -> TrustedIssuer | None:
        for policy in self._policies:
            found = policy(issuer_id)
            if found is not None:
                return found
        return None


def claimed_name(credential: Mapping[str, Any]) -> str:
    """The name the credential's issuer object gives itself ("" when none): a claim only."""
    issuer = credential.get("issuer")
    return _plain(issuer.get("name")) if isinstance(issuer, dict) else ""


def trust_detail(trusted: TrustedIssuer | None, *, claimed: str) -> str:
    """The ``issuer-trust`` check's detail, in words a reader can repeat."""
    if trusted is None:
        if claimed:
            return f"the issuer calls itself {claimed!r}; no trusted source confirms this issuer"
        return "no trusted source confirms this issuer"
    if trusted.own:
        return f"{trusted.name} is an issuer of this service"
    return f"{trusted.name} is listed in {trusted.source}"


def _plain(value: Any) -> str:
    return " ".join(value.split())[:MAX_NAME_CHARS] if isinstance(value, str) else ""


def _invalid(name: str, problem: str) -> MalformedInputError:
    return MalformedInputError(
        f"trust registry {name!r} cannot be read: {problem}", code="INVALID_TRUST_REGISTRY"
    )
