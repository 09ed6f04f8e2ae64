"""Is this string an absolute IRI (RFC 3987)?

Pure functions, no pyld.  The JSON-LD to RDF conversion keeps only absolute IRIs and silently
drops statements whose subject, predicate or object is anything else (JSON-LD 1.1 API §8.1
"Deserialize JSON-LD to RDF", steps 1.3.1 and 1.3.2.1), so ``credentials.jsonld`` asks these
question of every IRI the conversion emits or skips, and refuses the document when the answer
is no (``DATA_LOSS_DETECTION_ERROR``, Data Integrity 1.0 §4.1).
"""

from __future__ import annotations

import functools
import ipaddress
import re

# RFC 3987 §2.2, the ABNF of an IRI, written out as a regular expression over its parts.
_UCSCHAR = (
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    "\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd\U00040000-\U0004fffd"
    "\U00050000-\U0005fffd\U00060000-\U0006fffd\U00070000-\U0007fffd\U00080000-\U0008fffd"
    "\U00090000-\U0009fffd\U000a0000-\U000afffd\U000b0000-\U000bfffd\U000c0000-\U000cfffd"
    "\U000d0000-\U000dfffd\U000e1000-\U000efffd"
)
_IPRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
_IUNRESERVED = "A-Za-z0-9\\-._~" + _UCSCHAR
_SUB_DELIMS = "!$&'()*+,;="
_PCT = "%[0-9A-Fa-f]{2}"
_IPCHAR = f"(?:[{_IUNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_SCHEME = "[A-Za-z][A-Za-z0-9+\\-.]*"
_IUSERINFO = f"(?:[{_IUNRESERVED}{_SUB_DELIMS}:]|{_PCT})*"
# IP-literal = "[" ( IPv6address / IPvFuture ) "]"; the IPv6 form is checked by ipaddress below.
_IP_LITERAL = (
    f"\\[(?P<ipv6>[0-9A-Fa-f:.]+)\\]|\\[v[0-9A-Fa-f]+\\.[A-Za-z0-9\\-._~{_SUB_DELIMS}:]+\\]"
)
_IREG_NAME = f"(?:[{_IUNRESERVED}{_SUB_DELIMS}]|{_PCT})*"
_IAUTHORITY = f"(?:{_IUSERINFO}@)?(?:{_IP_LITERAL}|{_IREG_NAME})(?::[0-9]*)?"
_ISEGMENT = f"{_IPCHAR}*"
_ISEGMENT_NZ = f"{_IPCHAR}+"
_IHIER_PART = (
    f"//{_IAUTHORITY}(?:/{_ISEGMENT})*"  # "//" iauthority ipath-abempty
    f"|/(?:{_ISEGMENT_NZ}(?:/{_ISEGMENT})*)?"  # ipath-absolute
    f"|{_ISEGMENT_NZ}(?:/{_ISEGMENT})*"  # ipath-rootless
    "|"  # ipath-empty
)
_IQUERY = f"(?:{_IPCHAR}|[{_IPRIVATE}/?])*"
_IFRAGMENT = f"(?:{_IPCHAR}|[/?])*"
_IRI = re.compile(f"{_SCHEME}:(?:{_IHIER_PART})(?:\\?{_IQUERY})?(?:#{_IFRAGMENT})?")


@functools.lru_cache(maxsize=65536)
def is_absolute_iri(value: str) -> bool:
    """Whether ``value`` is an absolute IRI by RFC 3987 §2.2 (``IRI``: a scheme and no spaces,
    angle brackets, quotes, braces, backslashes, control characters or stray ``%``).

    Memoized: credentials repeat the same few hundred vocabulary IRIs.
    """
    match = _IRI.fullmatch(value)
    if match is None:
        return False
    ipv6 = match.group("ipv6")
    if ipv6 is not None:
        try:
            ipaddress.IPv6Address(ipv6)
        except ValueError:
            return False
    return True
