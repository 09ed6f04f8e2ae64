"""Which ``<!DOCTYPE …>`` lines a baked SVG may carry: the W3C's own, and nothing that declares.

Drawing programs still write the SVG 1.1 document type declaration (SVG 1.1 §1.3), e.g.
``<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"
"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">``.  It is harmless: nothing reads that DTD
(our parsers never load external documents) and it declares nothing.  What makes a DTD
dangerous is what it *declares* or *pulls in*:

* entity declarations (billion laughs, XXE ``SYSTEM`` entities) and attribute defaults
  (``<!ATTLIST … "default">`` silently adds attributes) — all of which live in the internal
  subset ``[ … ]``, so a DOCTYPE with an internal subset is refused whatever it holds;
* an external DTD other than the W3C's SVG DTDs (a system id at an attacker's address) —
  refused, even behind the standard public id.

So a DOCTYPE passes only when it names ``svg``, has no internal subset, and has either no
external id or exactly one of the W3C SVG 1.0 / 1.1 (public id, system id) pairs below.
Pure (no Flask); raises :class:`~credentials.errors.BakingError`.
"""

from __future__ import annotations

from xml.parsers import expat

from .errors import BakingError

#: (public id, system id) of the W3C SVG DTDs: SVG 1.1 Second Edition §1.3 and Appendix A
#: (full, Basic, Tiny), and SVG 1.0 (REC-SVG-20010904) for older drawings.
W3C_SVG_DOCTYPES = frozenset(
    {
        ("-//W3C//DTD SVG 1.1//EN", "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"),
        (
            "-//W3C//DTD SVG 1.1 Basic//EN",
            "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11-basic.dtd",
        ),
        ("-//W3C//DTD SVG 1.1 Tiny//EN", "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11-tiny.dtd"),
        (
            "-//W3C//DTD SVG 20010904//EN",
            "http://www.w3.org/TR/2001/REC-SVG-20010904/DTD/svg10.dtd",
        ),
    }
)


class _Prolog(Exception):
    """Raised at the first element: the prolog (where a DOCTYPE must be) has been read."""


def check_doctype(svg: bytes) -> bool:
    """Refuse a DOCTYPE that declares anything or names another DTD; return whether the
    document has a (harmless) DOCTYPE.

    Reads only the prolog.  Malformed XML is left to the real parse that follows (it reports
    "not well formed"); this check only ever refuses a DOCTYPE.
    """
    parser = expat.ParserCreate()
    # Never read parameter entities or external subsets, whatever the document says.
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    found: list[bool] = []

    def doctype(
        name: str, system_id: str | None, public_id: str | None, has_internal_subset: int
    ) -> None:
        found.append(True)
        if has_internal_subset:
            raise BakingError(
                "refusing hostile SVG: it has a DTD with an internal subset ([…] declarations "
                "such as entities); only the standard SVG DOCTYPE line is accepted"
            )
        if name != "svg":
            raise BakingError(f"refusing hostile SVG: it has a DTD for {name!r}, not svg")
        if (system_id or public_id) and (public_id, system_id) not in W3C_SVG_DOCTYPES:
            raise BakingError(
                "refusing hostile SVG: it has a DTD that names an external document other "
                "than the W3C's SVG DTD"
            )

    def first_element(*_: object) -> None:
        raise _Prolog

    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = first_element
    try:
        parser.Parse(svg, True)
    except _Prolog:
        pass
    except expat.ExpatError:
        pass  # the real parse reports it
    return bool(found)
