"""Opt-in remote fetching (portfolio/issuing/remote.py): every refusal, against fake DNS answers
and a
local HTTPS server with a certificate made here.  Nothing leaves the machine."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from credentials.errors import CannotDecideError
from portfolio.issuing.remote import (
    FetchFailed,
    FetchRefused,
    address_problem,
    did_web_fetcher,
    fetch_json,
    status_list_fetcher,
)

HOST = "credfolio-remote.test"  # the only name in the test certificate


# -- fake DNS --------------------------------------------------------------------------------


@dataclass
class FakeResolver:
    """``socket.getaddrinfo`` over a fixed table; records every lookup."""

    table: Mapping[str, list[str]]
    lookups: list[str] = field(default_factory=list)

    def __call__(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        self.lookups.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (address, port),
            )
            for address in self.table[host]
        ]


# -- a local HTTPS server --------------------------------------------------------------------


def _certificates(directory: Path) -> tuple[Path, Path, bytes]:
    """A test CA and a server certificate for ``HOST`` signed by it: (cert, key, CA PEM)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Credfolio test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, ca.public_bytes(serialization.Encoding.PEM)


Route = Callable[[BaseHTTPRequestHandler, "Server"], None]


def _send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    *,
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


@dataclass
class Server:
    """The running server: its port, the client's trust in it, and the Host headers it saw."""

    port: int
    client_context: ssl.SSLContext
    hosts: list[str]
    routes: dict[str, Route]
    stop: threading.Event

    def url(self, path: str, host: str = HOST) -> str:
        return f"https://{host}:{self.port}{path}"


def _drip(handler: BaseHTTPRequestHandler, server: Server) -> None:
    # Headers at once, then one byte every 0.1 s: each read finishes well inside any
    # per-operation socket timeout, so only a total deadline can stop the client.
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.end_headers()
    handler.wfile.write(b"[")
    for _ in range(100):
        if server.stop.wait(0.1):
            return
        handler.wfile.write(b" ")
        handler.wfile.flush()


def _routes(port: int) -> dict[str, Route]:
    did = f"did:web:{HOST}%3A{port}:issuers:one"
    return {
        "/doc.json": lambda h, s: _send(h, 200, b'{"hello": "world"}'),
        "/issuers/one/did.json": lambda h, s: _send(
            h, 200, json.dumps({"id": did}).encode(), content_type="application/did+json"
        ),
        "/issuers/other/did.json": lambda h, s: _send(
            h, 200, json.dumps({"id": "did:web:attacker.test"}).encode()
        ),
        # 2 MiB without Content-Length: the limit must hold while reading.
        "/big": lambda h, s: _send(h, 200, b'{"x": "' + b"a" * (2 << 20) + b'"}'),
        "/big-declared": lambda h, s: _send(
            h, 200, b"{}", headers={"Content-Length": str(10 << 20)}
        ),
        "/slow": _drip,
        "/page.html": lambda h, s: _send(h, 200, b"<!doctype html>", content_type="text/html"),
        "/list.json": lambda h, s: _send(h, 200, b"[1, 2]"),
        "/missing": lambda h, s: _send(h, 404, b"{}"),
        "/to-doc": lambda h, s: _send(h, 302, headers={"Location": "/doc.json"}),
        "/to-private": lambda h, s: _send(
            h, 302, headers={"Location": f"https://internal.test:{port}/doc.json"}
        ),
        "/to-http": lambda h, s: _send(h, 301, headers={"Location": f"http://{HOST}/doc.json"}),
        "/loop": lambda h, s: _send(h, 307, headers={"Location": "/loop"}),
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    cert, key, ca_pem = _certificates(tmp_path_factory.mktemp("tls"))
    state: dict[str, Server] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served = state["server"]
            served.hosts.append(self.headers.get("Host", ""))
            route = served.routes.get(self.path)
            if route is None:
                _send(self, 404, b"{}")
                return
            # OSError: the client gave up (size limit, deadline); nothing more to send.
            with contextlib.suppress(OSError):
                route(self, served)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    httpd.socket = server_context.wrap_socket(httpd.socket, server_side=True)
    port = httpd.server_address[1]
    state["server"] = Server(
        port=port,
        client_context=ssl.create_default_context(cadata=ca_pem.decode()),
        hosts=[],
        routes=_routes(port),
        stop=threading.Event(),
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state["server"]
    state["server"].stop.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def resolver() -> FakeResolver:
    """The test host on loopback (where the server is) and an internal name."""
    return FakeResolver({HOST: ["127.0.0.1"], "internal.test": ["10.0.0.7"]})


def fetch(server: Server, path: str, resolver: FakeResolver, **options: Any) -> dict[str, Any]:
    return fetch_json(
        server.url(path),
        resolver=resolver,
        ssl_context=server.client_context,
        unsafe_allow_loopback=True,
        **options,
    )


# -- what is allowed -------------------------------------------------------------------------


def test_fetches_json_from_the_checked_address_with_the_original_host(
    server: Server, resolver: FakeResolver
) -> None:
    assert fetch(server, "/doc.json", resolver) == {"hello": "world"}
    # One lookup, through our resolver: http.client never resolved the name again (it could
    # not have: the name exists only in the fake table and the network is blocked).
    assert resolver.lookups == [HOST]
    assert server.hosts[-1] == f"{HOST}:{server.port}"


def test_a_redirect_to_an_allowed_place_is_followed(server: Server, resolver: FakeResolver) -> None:
    assert fetch(server, "/to-doc", resolver) == {"hello": "world"}
    assert resolver.lookups == [HOST, HOST]  # every hop is checked again


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "2606:4700:4700::1111", "::ffff:93.184.216.34"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


# -- scheme and addresses --------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://example.org/did.json", "ftp://example.org/x", "file:///etc/passwd"]
)
def test_only_https_is_fetched(url: str) -> None:
    lookups = FakeResolver({"example.org": ["93.184.216.34"]})
    with pytest.raises(FetchRefused, match=r"only https:// URLs"):
        fetch_json(url, resolver=lookups)
    assert lookups.lookups == []  # refused before any DNS lookup


def test_urls_with_credentials_are_refused() -> None:
    with pytest.raises(FetchRefused, match="credentials"):
        fetch_json("https://user:pw@example.org/", resolver=FakeResolver({}))


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata services
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("0.0.0.0", "unspecified"),  # noqa: S104  (an address under test, not a bind)
        ("::", "unspecified"),
        ("100.64.0.1", "non-global"),  # carrier-grade NAT
        ("192.0.0.8", "special-purpose"),
        ("2001::1", "private"),  # Teredo
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 for 169.254.169.254
        ("2002:a00:1::1", "private"),  # 6to4 for 10.0.0.1
    ],
)
def test_forbidden_addresses_are_refused_after_resolution(address: str, kind: str) -> None:
    lookups = FakeResolver({"innocent.example": [address]})
    with pytest.raises(FetchRefused, match=rf"resolves to .*a {kind}"):
        fetch_json("https://innocent.example/did.json", resolver=lookups)
    assert lookups.lookups == ["innocent.example"]


def test_one_forbidden_address_among_public_ones_is_enough_to_refuse() -> None:
    lookups = FakeResolver({"mixed.example": ["93.184.216.34", "10.0.0.1"]})
    with pytest.raises(FetchRefused, match=r"10\.0\.0\.1, a private"):
        fetch_json("https://mixed.example/", resolver=lookups)


def test_ip_literal_hosts_are_checked_too() -> None:
    with pytest.raises(FetchRefused, match="link-local"):
        fetch_json("https://169.254.169.254/latest/meta-data")  # the real getaddrinfo: no DNS


def test_allowing_loopback_allows_nothing_else() -> None:
    lookups = FakeResolver({"internal.test": ["192.168.0.10"]})
    with pytest.raises(FetchRefused, match="private"):
        fetch_json("https://internal.test/", resolver=lookups, unsafe_allow_loopback=True)


def test_a_name_that_does_not_resolve_cannot_be_decided() -> None:
    with pytest.raises(FetchFailed, match="cannot be resolved"):
        fetch_json("https://nowhere.test/", resolver=FakeResolver({}))


# -- TLS -------------------------------------------------------------------------------------


def test_tls_is_verified_for_the_url_host_not_the_address(server: Server) -> None:
    lookups = FakeResolver({"other-name.test": ["127.0.0.1"]})  # same server, wrong name
    with pytest.raises(FetchFailed, match=r"not valid for other-name\.test"):
        fetch_json(
            server.url("/doc.json", host="other-name.test"),
            resolver=lookups,
            ssl_context=server.client_context,
            unsafe_allow_loopback=True,
        )


def test_the_system_trust_store_is_the_default(server: Server, resolver: FakeResolver) -> None:
    with pytest.raises(FetchFailed, match="certificate is not valid"):
        fetch_json(server.url("/doc.json"), resolver=resolver, unsafe_allow_loopback=True)


# -- size, time, content ---------------------------------------------------------------------


def test_an_oversize_response_is_refused_while_reading(
    server: Server, resolver: FakeResolver
) -> None:
    with pytest.raises(FetchRefused, match=r"larger than 1048576 bytes"):
        fetch(server, "/big", resolver)
    with pytest.raises(FetchRefused, match=r"larger than 1000 bytes"):
        fetch(server, "/big", resolver, max_bytes=1000)


def test_a_declared_oversize_response_is_refused_before_reading(
    server: Server, resolver: FakeResolver
) -> None:
    with pytest.raises(FetchRefused, match=r"10485760 bytes is more than 1048576"):
        fetch(server, "/big-declared", resolver)


def test_a_slow_response_times_out_at_the_total_deadline(
    server: Server, resolver: FakeResolver
) -> None:
    started = time.monotonic()
    with pytest.raises(FetchFailed, match=r"timed out after 1 s"):
        fetch(server, "/slow", resolver, timeout=1.0)
    assert time.monotonic() - started < 2.5  # the server would drip for 10 s


def test_only_json_media_types_are_accepted(server: Server, resolver: FakeResolver) -> None:
    with pytest.raises(FetchRefused, match="'text/html' is not JSON"):
        fetch(server, "/page.html", resolver)


def test_the_json_must_be_an_object(server: Server, resolver: FakeResolver) -> None:
    with pytest.raises(FetchFailed, match="not a JSON object"):
        fetch(server, "/list.json", resolver)


def test_http_errors_cannot_be_decided(server: Server, resolver: FakeResolver) -> None:
    with pytest.raises(FetchFailed, match="HTTP 404"):
        fetch(server, "/missing", resolver)


# -- redirects -------------------------------------------------------------------------------


def test_a_redirect_to_a_private_address_is_refused(server: Server, resolver: FakeResolver) -> None:
    with pytest.raises(FetchRefused, match=r"internal.test resolves to 10\.0\.0\.7, a private"):
        fetch(server, "/to-private", resolver)


def test_a_redirect_to_http_is_refused(server: Server, resolver: FakeResolver) -> None:
    with pytest.raises(FetchRefused, match="only https://"):
        fetch(server, "/to-http", resolver)


def test_redirects_are_limited(server: Server, resolver: FakeResolver) -> None:
    with pytest.raises(FetchRefused, match="more than 3 redirects"):
        fetch(server, "/loop", resolver)
    assert resolver.lookups == [HOST] * 4


# -- the fetchers the verifier uses ----------------------------------------------------------


def test_did_web_fetcher_returns_the_document_of_the_did(
    server: Server, resolver: FakeResolver
) -> None:
    fetch_did = did_web_fetcher(
        resolver=resolver, ssl_context=server.client_context, unsafe_allow_loopback=True
    )
    did = f"did:web:{HOST}%3A{server.port}:issuers:one"
    assert fetch_did(did) == {"id": did}
    assert server.hosts[-1] == f"{HOST}:{server.port}"


def test_did_web_fetcher_refuses_a_document_about_another_did(
    server: Server, resolver: FakeResolver
) -> None:
    fetch_did = did_web_fetcher(
        resolver=resolver, ssl_context=server.client_context, unsafe_allow_loopback=True
    )
    with pytest.raises(FetchFailed, match=r"is for 'did:web:attacker\.test', not did:web:"):
        fetch_did(f"did:web:{HOST}%3A{server.port}:issuers:other")


def test_did_web_fetcher_refuses_invalid_dids_as_cannot_decide() -> None:
    fetch_did = did_web_fetcher(resolver=FakeResolver({}))
    with pytest.raises(CannotDecideError, match="lower-case"):
        fetch_did("did:web:Example.org")


def test_did_web_fetcher_is_safe_by_default() -> None:
    fetch_did = did_web_fetcher(resolver=FakeResolver({"metadata.test": ["169.254.169.254"]}))
    with pytest.raises(FetchRefused, match="link-local"):
        fetch_did("did:web:metadata.test")


def test_status_list_fetcher(server: Server, resolver: FakeResolver) -> None:
    fetch_list = status_list_fetcher(
        resolver=resolver, ssl_context=server.client_context, unsafe_allow_loopback=True
    )
    assert fetch_list(server.url("/doc.json")) == {"hello": "world"}
    with pytest.raises(FetchRefused, match="loopback"):
        status_list_fetcher(resolver=resolver)(server.url("/doc.json"))
