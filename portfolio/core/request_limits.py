"""Limits on the shape of untrusted JSON (issue #7, "Verification under attack"): nesting depth,
array lengths, string sizes, the number of values and of proofs.  Pure: no Flask, no database.

The body-size limits stay where the bodies are read (``errors.MAX_BODY_BYTES`` for the JSON API,
``public.MAX_VERIFY_BYTES`` for ``/verify``).  These bound the work done on a body that fits:
JSON-LD expansion recurses once per nesting level (a few hundred levels crash it), and compares
every value of a property with every other (ten thousand array items take a minute).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from credentials.errors import MalformedInputError
from credentials.verify import MAX_PROOFS


@dataclass(frozen=True)
class JsonLimits:
    """How much JSON a public endpoint accepts.  Credentials seen in practice stay far below
    every limit: about ten levels deep (a presentation adds two), tens of values per array and
    a few hundred values in all."""

    #: Objects and arrays inside each other, counting the outermost as 1.
    max_depth: int = 64
    #: Items in any one array (and members in any one object).
    max_items: int = 256
    #: Every object, array, string, number, boolean and null, added up.
    max_values: int = 20_000
    #: Characters in any one string, member names included (a ``data:`` image fits).
    max_string_chars: int = 256 * 1024
    #: Entries of a ``proof`` member (the verifier checks the same limit; refusing it here names
    #: the problem before anything else is looked at).
    max_proofs: int = MAX_PROOFS


DEFAULT_LIMITS = JsonLimits()


class JsonLimitError(MalformedInputError):
    """The JSON is over one of the :class:`JsonLimits`; ``limit`` names which.  HTTP 400."""

    code = "JSON_LIMIT_EXCEEDED"

    def __init__(self, message: str, *, code: str, limit: str) -> None:
        super().__init__(message, code=code)
        self.limit = limit


def too_deep(limits: JsonLimits = DEFAULT_LIMITS) -> JsonLimitError:
    """The error for JSON nested deeper than ``limits.max_depth`` (also what a parser's
    ``RecursionError`` means: it only recurses that far on far deeper input)."""
    return JsonLimitError(
        f"the JSON is nested more than {limits.max_depth} levels deep (max_depth)",
        code="JSON_TOO_DEEP",
        limit="max_depth",
    )


def check_json(value: Any, limits: JsonLimits = DEFAULT_LIMITS) -> None:
    """Refuse ``value`` (parsed JSON) when it is over any of ``limits``.

    Walks the value without recursion, so hostile nesting cannot exhaust the stack here.
    Raises :class:`JsonLimitError` naming the first limit found exceeded (and where, as a JSON
    path); returns None otherwise.
    """
    count = 0
    # Paths are linked (parent, step) pairs, rendered only for the error message: building a
    # string per value would copy long member names once per descendant.
    stack: list[tuple[Any, int, _Path]] = [(value, 1, None)]
    while stack:
        node, depth, path = stack.pop()
        count += 1
        if count > limits.max_values:
            raise JsonLimitError(
                f"the JSON has more than {limits.max_values} values (max_values)",
                code="JSON_TOO_MANY_VALUES",
                limit="max_values",
            )
        if isinstance(node, str):
            _check_string(node, path, limits)
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > limits.max_depth:
            raise too_deep(limits)
        if len(node) > limits.max_items:
            kind = "members" if isinstance(node, dict) else "items"
            raise JsonLimitError(
                f"{_render(path)} has more than {limits.max_items} {kind} (max_items)",
                code="JSON_TOO_MANY_ITEMS",
                limit="max_items",
            )
        if isinstance(node, list):
            stack.extend((item, depth + 1, (path, index)) for index, item in enumerate(node))
            continue
        proofs = node.get("proof")
        if isinstance(proofs, list) and len(proofs) > limits.max_proofs:
            raise JsonLimitError(
                f"{_render((path, 'proof'))} has more than {limits.max_proofs} proofs (max_proofs)",
                code="TOO_MANY_PROOFS",
                limit="max_proofs",
            )
        for key, item in node.items():
            _check_string(key, path, limits, what="a member name")
            stack.append((item, depth + 1, (path, key)))


#: A JSON path as a linked list: ``None`` is the root, ``(parent, key or index)`` a step down.
_Path = tuple[Any, str | int] | None
_MAX_STEP_CHARS = 40
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _render(path: _Path) -> str:
    steps: list[str] = []
    while path is not None:
        path, step = path
        if isinstance(step, int):
            steps.append(f"[{step}]")
        else:
            shown = step if len(step) <= _MAX_STEP_CHARS else step[:_MAX_STEP_CHARS] + "…"
            steps.append(f".{shown}")
    return "$" + "".join(reversed(steps))


def _check_string(text: str, path: _Path, limits: JsonLimits, *, what: str = "a string") -> None:
    # I-JSON (RFC 7493 §2.1): no lone surrogates; they cannot even be written back as UTF-8.
    if _LONE_SURROGATE.search(text):
        raise JsonLimitError(
            f"{what} at {_render(path)} holds a lone surrogate (\\uD800-\\uDFFF), which is "
            "not Unicode text (RFC 7493 §2.1)",
            code="INVALID_UNICODE",
            limit="unicode",
        )
    if len(text) > limits.max_string_chars:
        raise JsonLimitError(
            f"{what} at {_render(path)} has more than {limits.max_string_chars} characters "
            "(max_string_chars)",
            code="JSON_STRING_TOO_LONG",
            limit="max_string_chars",
        )
