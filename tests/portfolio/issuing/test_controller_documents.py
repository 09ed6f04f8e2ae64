"""HTTPS verification methods in the service: their controller documents are fetched only when
fetching is enabled, through the same SSRF guard as did:web (portfolio/issuing/remote.py), and the
document must be the one its URL names (W3C Controlled Identifiers 1.0 §3.3 step 5).  Against
fake DNS answers and the local HTTPS server of test_remote.py; nothing leaves the machine."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from issuer_keys.keys import IssuerKey
from portfolio.issuing import service as services
from portfolio.issuing.remote import FetchFailed, FetchRefused, controller_document_fetcher
from tests.conftest import load_json
from tests.portfolio.issuing.test_remote import Server, _send, resolver, server

__all__ = ["resolver", "server"]  # fixtures shared with test_remote

KEY = IssuerKey.from_seed(bytes(range(32)))


def controller_document(url: str) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/cid/v1",
        "id": url,
        "verificationMethod": [
            {
                "id": f"{url}#key-1",
                "type": "Multikey",
                "controller": url,
                "publicKeyMultibase": KEY.public_key_multibase,
            }
        ],
        "assertionMethod": ["#key-1"],
    }


def serve(server: Server, path: str, document: dict[str, Any]) -> None:
    body = json.dumps(document).encode()
    server.routes[path] = lambda h, s: _send(h, 200, body, content_type="application/cid+json")


def signed_by_method_at(url: str) -> dict[str, Any]:
    document = load_json("proofs/https-verification-method.json")
    document.pop("proof")
    document["issuer"]["id"] = url
    return Eddsa2022Suite(loader=DocumentLoader.bundled()).create_proof(
        document,
        key=KEY,
        verification_method=f"{url}#key-1",
        created=datetime(2024, 1, 1, tzinfo=UTC),
    )


def fetcher(server: Server, resolver: Any) -> Any:
    return controller_document_fetcher(
        resolver=resolver, ssl_context=server.client_context, unsafe_allow_loopback=True
    )


def test_the_fetcher_returns_the_controller_document_its_url_names(server, resolver):
    url = server.url("/issuers/1")
    serve(server, "/issuers/1", controller_document(url))
    assert fetcher(server, resolver)(url)["id"] == url


def test_the_fetcher_refuses_a_document_about_another_url(server, resolver):
    serve(server, "/issuers/2", controller_document("https://attacker.example/keys"))
    with pytest.raises(FetchFailed, match=r"is for 'https://attacker\.example/keys'"):
        fetcher(server, resolver)(server.url("/issuers/2"))


def test_the_fetcher_is_safe_by_default(server, resolver):
    url = server.url("/issuers/1")
    serve(server, "/issuers/1", controller_document(url))
    with pytest.raises(FetchRefused, match="loopback"):
        controller_document_fetcher(resolver=resolver)(url)


def test_with_fetching_the_service_verifies_an_https_method_from_its_document(
    issuer, server, resolver
):
    url = server.url("/issuers/3")
    serve(server, "/issuers/3", controller_document(url))
    credential = signed_by_method_at(url)
    verifier = services.service_verifier(fetch_controller_document=fetcher(server, resolver))
    result = verifier.verify(credential)
    assert result.verified, result.errors
    # Fetching is what decided it: without, the method cannot be checked.
    assert services.service_verifier().verify(credential).check("proof").status == "unknown"


def test_https_methods_are_not_fetched_by_default(issuer, server, resolver):
    url = server.url("/issuers/4")
    serve(server, "/issuers/4", controller_document(url))
    result = services.service_verifier().verify(signed_by_method_at(url))
    assert result.check("proof").status == "unknown"
    assert "controller document" in result.check("proof").detail


def test_with_fetching_enabled_a_private_address_is_still_refused(issuer, app):
    # localhost resolves to a loopback address: the SSRF guard refuses it, and the check stays
    # "could not be performed", never passed.
    app.config["CREDFOLIO_ALLOW_FETCH"] = True
    result = services.service_verifier().verify(signed_by_method_at("https://localhost/keys"))
    assert result.check("proof").status == "unknown"
    assert "loopback" in result.check("proof").detail.lower()
    assert not result.verified
