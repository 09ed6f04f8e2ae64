"""RFC 3987 IRIs, as ``credentials.jsonld`` needs them: an IRI the RDF
conversion would drop or change is refused, so this decides what is signed."""

from __future__ import annotations

import pytest

from credentials.iri import is_absolute_iri

IRIS = [
    "https://example.edu/credentials/3732",
    "https://example.edu/c/1?lang=de&x=%C3%A9#frag/ment?",
    "did:key:z6Mkmeb2FCMkAaPnV6WLKH3UJUz6iJ3PLNatSaycqkCQzPjE#z6Mkmeb2FCMkAaPnV6WLKH3UJUz6iJ3PLNatSaycqkCQzPjE",
    "did:web:credfolio.test:schools:north",
    "urn:uuid:7f1c0de4-8a43-4c3e-9d0c-2b1f0a9e1c11",
    "https://user:pw@[2001:db8::1]:8443/path",
    "https://münchen.example/straße",  # ucschar in host and path
    "mailto:someone@example.org",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
    "tag:example.org,2024:badge",
    "https://example.edu",
    "x:",
]

NOT_IRIS = [
    "https ://not-a-url/1",  # a space in the scheme
    "http://a b/c",  # a space in the host
    "urn:uuid:<not-an-iri>",  # angle brackets
    'https://example.edu/"quoted"',
    "https://example.edu/{braces}",
    "https://example.edu/back\\slash",
    "https://example.edu/%zz",  # not percent-encoding
    "https://example.edu/\u0000",
    "https://example.edu/\u007f",
    "https://[::g]/",  # not an IPv6 address
    "https://[1.2.3.4]/",  # IPv4 is not an IP-literal
    "relative/path",
    "/absolute-path-only",
    "#fragment",
    "1http://digit-first-scheme",
    "",
]


@pytest.mark.parametrize("value", IRIS)
def test_absolute_iris_are_accepted(value: str) -> None:
    assert is_absolute_iri(value)


@pytest.mark.parametrize("value", NOT_IRIS)
def test_strings_that_are_not_absolute_iris_are_refused(value: str) -> None:
    assert not is_absolute_iri(value)
