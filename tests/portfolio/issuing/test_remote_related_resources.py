"""Related resources fetched where fetching is enabled (VC DM 2.0 §5.3): their bytes, whatever
their media type, under every rule of remote fetching; a digest that does not match what was
fetched fails the verifier's ``vc-data-model`` check.  Against the local HTTPS server of
test_remote (nothing leaves the machine)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from credentials.verify import FAILED, PASSED, Verifier
from issuer_keys.multikey import decode_secret_key, encode_public_key
from portfolio.issuing.remote import FetchRefused, fetch_bytes, related_resource_fetcher
from tests.conftest import load_json
from tests.portfolio.issuing.test_remote import FakeResolver, Server, _send, resolver, server

__all__ = ["resolver", "server"]  # fixtures shared with test_remote

IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
LOADER = DocumentLoader.bundled()
DEMO = load_json("ob3/signed-examples/DEMO-KEY.json")
KEY = decode_secret_key(DEMO["secretKeyMultibase"])
PUBLIC = encode_public_key(KEY.public_key())


@pytest.fixture
def image(server: Server) -> str:
    server.routes["/image.png"] = lambda h, s: _send(h, 200, IMAGE, content_type="image/png")
    return server.url("/image.png")


def fetcher(server: Server, resolver: FakeResolver, **options: Any) -> Any:
    return related_resource_fetcher(
        resolver=resolver, ssl_context=server.client_context, unsafe_allow_loopback=True, **options
    )


def test_a_related_resource_is_fetched_byte_for_byte_whatever_its_media_type(
    server: Server, resolver: FakeResolver, image: str
) -> None:
    assert fetcher(server, resolver)(image) == IMAGE


def test_the_size_limit_and_address_rules_still_hold(
    server: Server, resolver: FakeResolver
) -> None:
    with pytest.raises(FetchRefused, match="larger than"):
        fetch_bytes(
            server.url("/big"),
            resolver=resolver,
            ssl_context=server.client_context,
            unsafe_allow_loopback=True,
            max_bytes=1024,
        )
    with pytest.raises(FetchRefused, match="loopback"):
        related_resource_fetcher(resolver=resolver)(server.url("/doc.json"))


def test_only_https_and_only_the_first_few_are_fetched(
    server: Server, resolver: FakeResolver, image: str
) -> None:
    fetch = fetcher(server, resolver, max_fetches=2)
    assert fetch("did:example:123") is None
    assert fetch("http://credfolio-remote.test/image.png") is None
    assert fetch(image) == IMAGE
    assert fetch(server.url("/doc.json")) == b'{"hello": "world"}'
    assert fetch(server.url("/image.png?again")) is None  # past the limit: not at hand
    assert resolver.lookups.count("credfolio-remote.test") == 2


def _credential_pinning(url: str, content: bytes) -> dict[str, Any]:
    document = load_json("tampered/valid.json")
    document.pop("proof")
    digest = "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()
    document["relatedResource"] = [{"id": url, "digestSRI": digest, "mediaType": "image/png"}]
    suite = Eddsa2022Suite(loader=LOADER)
    return suite.create_proof(document, key=KEY, verification_method=f"did:key:{PUBLIC}#{PUBLIC}")


@pytest.mark.parametrize(("content", "status"), [(IMAGE, PASSED), (b"another image", FAILED)])
def test_a_fetched_resource_must_match_its_digest(
    server: Server, resolver: FakeResolver, image: str, content: bytes, status: str
) -> None:
    verifier = Verifier(
        loader=LOADER,
        resolve_key=Verifier.offline(loader=LOADER).resolve_key,
        resolve_related_resource=fetcher(server, resolver),
    )
    result = verifier.verify(_credential_pinning(image, content))
    check = result.check("vc-data-model")
    assert check is not None and check.status == status
    if status == FAILED:
        assert "does not match the resource" in check.detail


def test_a_resource_that_cannot_be_fetched_is_not_at_hand(
    server: Server, resolver: FakeResolver
) -> None:
    verifier = Verifier(
        loader=LOADER,
        resolve_key=Verifier.offline(loader=LOADER).resolve_key,
        resolve_related_resource=fetcher(server, resolver),
    )
    result = verifier.verify(_credential_pinning(server.url("/missing"), b"whatever"))
    assert result.check("vc-data-model").status == PASSED
