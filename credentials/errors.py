"""The credential engine's exceptions.

Three kinds are kept apart (see docs/architecture.md):

* ``MalformedInputError`` — the input is not something we can judge at all (not JSON, missing
  fields, a context outside the allow-list, undefined terms, an unknown cryptosuite, a hostile
  graph).  The service answers 400; the CLI exits 2.
* ``VerificationFailure`` — the input is well formed but not trustworthy (bad signature, unknown
  key, expired, revoked...).  Reported as a failed check; ``verified`` is false.
* ``CannotDecideError`` — a dependency needed for a check (a status list, a remote DID document)
  could not be read.  Reported as ``unknown``, never as passed.

Every error has a stable machine ``code`` and a message that is safe to show to anyone: no stack
traces, no key material.
"""

from __future__ import annotations

from typing import Any


class CredentialError(Exception):
    """Base class: a stable machine-readable ``code`` and a safe human ``message``."""

    code = "CREDENTIAL_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body used by the API: ``{"error": code, "detail": message}``."""
        return {"error": self.code, "detail": self.message}


class MalformedInputError(CredentialError):
    """The input cannot be judged: it is not a well-formed credential (HTTP 400, exit 2)."""

    code = "MALFORMED_INPUT"

    def __init__(self, message: str, *, code: str | None = None, result: Any = None) -> None:
        super().__init__(message, code=code)
        #: A partial verification result (the checks run before the input was refused), when
        #: the error was raised by the verifier.  Lets a page still show what was checked.
        self.result = result


class ContextNotAllowedError(MalformedInputError):
    """A JSON-LD context (or any other remote document) outside the bundled allow-list."""

    code = "CONTEXT_NOT_ALLOWED"

    def __init__(self, url: str) -> None:
        super().__init__(
            f"JSON-LD document {url!r} is not one of the bundled contexts; Credfolio never "
            "fetches documents over the network"
        )
        self.url = url


class DataLossError(MalformedInputError):
    """A term or value would be silently dropped by JSON-LD processing and so go unsigned.

    Data Integrity 1.0 §4 (DATA_LOSS_DETECTION_ERROR): implementations must not sign or verify
    documents whose data would be lost by the transformation.
    """

    code = "DATA_LOSS_DETECTION_ERROR"

    def __init__(self, message: str, *, term: str | None = None) -> None:
        super().__init__(message)
        self.term = term


class CanonicalizationLimitError(MalformedInputError):
    """RDFC-1.0 would need more work than we allow (a "poison graph", RDFC-1.0 §8.1)."""

    code = "CANONICALIZATION_LIMIT_EXCEEDED"


class UnsupportedProofError(MalformedInputError):
    """A proof of a type or cryptosuite we do not implement, or one missing required fields."""

    code = "UNSUPPORTED_PROOF"


class SchemaValidationError(MalformedInputError):
    """A document does not validate against the bundled 1EdTech JSON Schema."""

    code = "SCHEMA_VALIDATION_ERROR"

    def __init__(self, message: str, *, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class BakingError(MalformedInputError):
    """An image cannot be baked or unbaked (not PNG/SVG, hostile XML, no credential inside)."""

    code = "BAKING_ERROR"


class StatusListError(MalformedInputError):
    """A status list or status entry that cannot be decoded or does not fit its list."""

    code = "STATUS_LIST_ERROR"


class VerificationFailure(CredentialError):
    """A well-formed credential failed a check (bad signature, expired, revoked...)."""

    code = "VERIFICATION_FAILED"


class CannotDecideError(CredentialError):
    """Something a check needs (a status list, a DID document) could not be obtained."""

    code = "CANNOT_DECIDE"
