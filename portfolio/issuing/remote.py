"""Opt-in fetching of remote DID documents, controller documents and status lists
(``CREDFOLIO_ALLOW_FETCH``),
hardened against server-side request forgery: HTTPS only, public addresses only (checked after
DNS and pinned), bounded in time and size, JSON only.  Pure: no Flask, no database."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from credentials.errors import CannotDecideError
from issuer_keys.did import did_web_to_url
from issuer_keys.errors import IssuerKeyError

DEFAULT_TIMEOUT = 5.0  # seconds for the whole fetch: DNS check, connect, TLS, headers, body
DEFAULT_MAX_BYTES = 1 << 20  # 1 MiB: far above any DID document or status list we expect
MAX_REDIRECTS = 3
USER_AGENT = "Credfolio"

#: Media types we accept: JSON and its structured-syntax suffixes (``application/did+json``,
#: ``application/ld+json``, ``application/vc+ld+json``) and VC 2.0's ``application/vc``.
_JSON_MEDIA_TYPES = {"application/json", "application/vc"}
_REDIRECTS = {301, 302, 303, 307, 308}

Resolver = Callable[..., Sequence[tuple[Any, ...]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Special-purpose ranges (RFC 6890 registries) that some Python versions still call "global".
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "192.0.0.0/24",  # IETF protocol assignments
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "2001::/23",  # IETF protocol assignments, including Teredo (2001::/32)
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FetchRefused(CannotDecideError):
    """A fetch we refuse to make (scheme, address, redirect, size, media type)."""

    code = "FETCH_REFUSED"


class FetchFailed(CannotDecideError):
    """A fetch that was allowed but did not produce a JSON object (network, TLS, HTTP, time)."""

    code = "FETCH_FAILED"


# -- addresses -------------------------------------------------------------------------------


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def address_problem(ip: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why ``ip`` must not be contacted ("loopback", "private", ...), or None if it is public.

    An IPv6 address that carries an IPv4 address (``::ffff:10.0.0.1``, NAT64, 6to4) is judged
    by that IPv4 address too, so an internal host cannot hide behind an IPv6 spelling.
    ``allow_loopback`` lets tests reach a server on 127.0.0.1; nothing else is relaxed.
    """
    if isinstance(ip, ipaddress.IPv6Address) and (embedded := _embedded_ipv4(ip)) is not None:
        problem = address_problem(embedded, allow_loopback=allow_loopback)
        if problem is not None:
            return f"{problem} (IPv4 {embedded} inside {ip})"
        if ip.ipv4_mapped is not None or ip in _NAT64:
            return None  # the packets go to the embedded IPv4 address, which is public
    # Order matters: 127.0.0.1, 0.0.0.0 and fe80::1 are also "private" to ipaddress.
    if ip.is_loopback:
        return None if allow_loopback else "loopback"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if ip.is_link_local:
        return "link-local"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if any(ip in network for network in _NOT_PUBLIC if network.version == ip.version):
        return "special-purpose"
    if not ip.is_global:  # e.g. 100.64.0.0/10, carrier-grade NAT
        return "non-global"
    return None


def _checked_addresses(
    host: str, port: int, *, resolver: Resolver, allow_loopback: bool, url: str
) -> list[str]:
    """Every address ``host`` resolves to, each checked; refuses if any one is forbidden.

    Refusing when *any* address is internal (not only the first) means a name that mixes
    public and internal addresses cannot be used to reach the internal one on a retry.
    """
    try:
        infos = resolver(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchFailed(f"cannot fetch {url}: {host} cannot be resolved ({exc})") from None
    addresses: list[str] = []
    for info in infos:
        text = str(info[4][0])
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            raise FetchRefused(f"refusing to fetch {url}: {host} resolved to {text!r}") from None
        problem = address_problem(ip, allow_loopback=allow_loopback)
        if problem is not None:
            raise FetchRefused(
                f"refusing to fetch {url}: {host} resolves to {ip}, a {problem} address"
            )
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise FetchFailed(f"cannot fetch {url}: {host} has no addresses")
    return addresses


# -- one HTTPS request -----------------------------------------------------------------------


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address we checked, with TLS verified for (and Host sent as) the URL's host.

    ``http.client`` would resolve the host name again when connecting; a DNS answer that
    changed in between (DNS rebinding) could then point at an internal address.  Connecting
    to the checked IP closes that gap; SNI, certificate verification and the Host header
    still use the original name, so TLS proves we reached the host the URL names.
    """

    def __init__(
        self, host: str, port: int, *, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._pinned_address = address
        self._tls_context = context
        #: The TLS socket, kept after ``close()``: http.client hands a "Connection: close"
        #: response the socket and forgets it, but the watchdog must still be able to cut it.
        self.tls_socket: ssl.SSLSocket | None = None

    def connect(self) -> None:
        raw = socket.create_connection((self._pinned_address, self.port), timeout=self.timeout)
        try:
            tls = self._tls_context.wrap_socket(
                raw, server_hostname=self.host, do_handshake_on_connect=False
            )
        except BaseException:
            raw.close()
            raise
        # Published before the handshake so the deadline watchdog can cut a stalled handshake.
        self.sock = self.tls_socket = tls
        tls.do_handshake()


def _cut(connection: _PinnedHTTPSConnection, expired: threading.Event) -> None:
    """Shut a connection's socket down from the watchdog thread; any blocked read returns.

    Sets ``expired`` first: after a cut, an end of stream is not the end of the response.
    """
    expired.set()
    sock = connection.tls_socket
    if sock is not None:
        # The plain socket method: SSLSocket.shutdown would also drop its TLS state, which
        # must not change under the reading thread.  OSError: the socket is already closed.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


@dataclass(frozen=True)
class _Response:
    status: int
    location: str | None
    body: bytes


def _remaining(deadline: float, url: str, timeout: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchFailed(f"cannot fetch {url}: timed out after {timeout:g} s")
    return left


def _get(
    url: str,
    host: str,
    port: int,
    target: str,
    addresses: list[str],
    *,
    context: ssl.SSLContext,
    deadline: float,
    timeout: float,
    max_bytes: int,
    any_media_type: bool = False,
) -> _Response:
    """One GET to the first address that accepts a connection; the body only on 200."""
    last_error: Exception | None = None
    for address in addresses:
        connection = _PinnedHTTPSConnection(
            host,
            port,
            address=address,
            timeout=_remaining(deadline, url, timeout),
            context=context,
        )
        # Socket timeouts bound each operation; a server sending one byte just before each
        # would still never finish.  The watchdog enforces the total deadline.
        expired = threading.Event()
        watchdog = threading.Timer(_remaining(deadline, url, timeout), _cut, (connection, expired))
        watchdog.daemon = True
        watchdog.start()
        response: http.client.HTTPResponse | None = None
        try:
            try:
                connection.connect()
            except ssl.SSLCertVerificationError as exc:
                raise FetchFailed(
                    f"cannot fetch {url}: the TLS certificate is not valid for {host} "
                    f"({exc.verify_message})"
                ) from None
            except OSError as exc:
                last_error = exc
                continue  # try the host's next (already checked) address
            _send_request(connection, target, any_media_type=any_media_type)
            response = connection.getresponse()
            return _read_response(
                url,
                response,
                expired,
                timeout=timeout,
                max_bytes=max_bytes,
                any_media_type=any_media_type,
            )
        except (OSError, http.client.HTTPException) as exc:
            if expired.is_set() or time.monotonic() >= deadline:
                raise FetchFailed(f"cannot fetch {url}: timed out after {timeout:g} s") from None
            raise FetchFailed(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from None
        finally:
            watchdog.cancel()
            if response is not None:
                response.close()  # "Connection: close" responses own the socket
            connection.close()
    if time.monotonic() >= deadline:
        raise FetchFailed(f"cannot fetch {url}: timed out after {timeout:g} s")
    raise FetchFailed(f"cannot fetch {url}: cannot connect to {host} ({last_error})")


def _send_request(
    connection: _PinnedHTTPSConnection, target: str, *, any_media_type: bool = False
) -> None:
    """Send the GET for ``target``: JSON wanted (or anything, for a related resource), no
    compression, the connection closed after."""
    connection.putrequest("GET", target, skip_accept_encoding=True)
    connection.putheader(
        "Accept",
        "*/*"
        if any_media_type
        else "application/did+json, application/vc+ld+json, application/ld+json;q=0.9, "
        "application/json;q=0.8",
    )
    # No compression: the size limit must apply to what we parse, not to the wire.
    connection.putheader("Accept-Encoding", "identity")
    connection.putheader("User-Agent", USER_AGENT)
    connection.putheader("Connection", "close")
    connection.endheaders()


def _read_response(
    url: str,
    response: http.client.HTTPResponse,
    expired: threading.Event,
    *,
    timeout: float,
    max_bytes: int,
    any_media_type: bool = False,
) -> _Response:
    """A redirect as it is, or a 200's checked and bounded body; any other status fails."""
    if response.status in _REDIRECTS:
        return _Response(response.status, response.getheader("Location"), b"")
    if response.status != 200:
        raise FetchFailed(f"cannot fetch {url}: HTTP {response.status} {response.reason}")
    _check_headers(url, response, max_bytes, any_media_type=any_media_type)
    body = _read_limited(url, response, max_bytes)
    if expired.is_set():  # the body may be cut short: never parse a partial document
        raise FetchFailed(f"cannot fetch {url}: timed out after {timeout:g} s")
    return _Response(200, None, body)


def _check_headers(
    url: str, response: http.client.HTTPResponse, max_bytes: int, *, any_media_type: bool = False
) -> None:
    media_type = response.headers.get_content_type()
    if (
        not any_media_type
        and media_type not in _JSON_MEDIA_TYPES
        and not (media_type.startswith("application/") and media_type.endswith("+json"))
    ):
        raise FetchRefused(f"refusing {url}: content type {media_type!r} is not JSON")
    encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding != "identity":
        raise FetchRefused(f"refusing {url}: content encoding {encoding!r} was not asked for")
    length = response.getheader("Content-Length")
    if length is not None and length.strip().isdigit() and int(length) > max_bytes:
        raise FetchRefused(f"refusing {url}: {int(length)} bytes is more than {max_bytes}")


def _read_limited(url: str, response: http.client.HTTPResponse, max_bytes: int) -> bytes:
    """The body, refused as soon as it exceeds ``max_bytes`` (Content-Length may lie)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = response.read1(min(65536, max_bytes + 1 - size))
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise FetchRefused(f"refusing {url}: the response is larger than {max_bytes} bytes")
        chunks.append(chunk)


# -- public API ------------------------------------------------------------------------------


def _default_context() -> ssl.SSLContext:
    context = ssl.create_default_context()  # system trust store, hostname checking on
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _split(url: str) -> tuple[str, int, str]:
    """``(host, port, path-and-query)`` of an https URL; refuses anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError:
        raise FetchRefused(f"refusing to fetch {url!r}: not a valid URL") from None
    if parts.scheme != "https":
        # Plain HTTP can be read and changed by anyone on the path, and http:// targets are
        # the usual way to reach internal plain-text services.
        raise FetchRefused(f"refusing to fetch {url}: only https:// URLs are fetched")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused(f"refusing to fetch {url}: URLs with credentials are not fetched")
    if not parts.hostname:
        raise FetchRefused(f"refusing to fetch {url}: the URL has no host")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, port, target


def fetch_json(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    resolver: Resolver = socket.getaddrinfo,
    ssl_context: ssl.SSLContext | None = None,
    max_redirects: int = MAX_REDIRECTS,
    unsafe_allow_loopback: bool = False,
) -> dict[str, Any]:
    """GET ``url`` and return the JSON object it serves.

    Rules: https only; every address the host resolves to (through ``resolver``, which has
    ``socket.getaddrinfo``'s signature) must be public — not loopback, private, link-local,
    multicast, reserved, unspecified or otherwise special — and the connection goes to one
    of those checked addresses; TLS is verified for the URL's host (``ssl_context``, default
    the system trust store); at most ``max_redirects`` redirects, each checked like the first
    URL; ``timeout`` seconds in total; at most ``max_bytes`` of body; a JSON media type;
    UTF-8 JSON whose top level is an object.  ``unsafe_allow_loopback`` (tests only) allows
    loopback addresses.

    Raises :class:`FetchRefused` or :class:`FetchFailed` (both :class:`CannotDecideError`)
    with a message that says why.
    """
    final_url, body = _fetch(
        url,
        timeout=timeout,
        max_bytes=max_bytes,
        resolver=resolver,
        ssl_context=ssl_context,
        max_redirects=max_redirects,
        unsafe_allow_loopback=unsafe_allow_loopback,
    )
    return _parse(final_url, body)


def fetch_bytes(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    resolver: Resolver = socket.getaddrinfo,
    ssl_context: ssl.SSLContext | None = None,
    max_redirects: int = MAX_REDIRECTS,
    unsafe_allow_loopback: bool = False,
) -> bytes:
    """GET ``url`` and return its body exactly as served, whatever its media type: every rule
    of :func:`fetch_json` but the JSON ones.  For a related resource's digest."""
    return _fetch(
        url,
        timeout=timeout,
        max_bytes=max_bytes,
        resolver=resolver,
        ssl_context=ssl_context,
        max_redirects=max_redirects,
        unsafe_allow_loopback=unsafe_allow_loopback,
        any_media_type=True,
    )[1]


def _fetch(
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    resolver: Resolver,
    ssl_context: ssl.SSLContext | None,
    max_redirects: int,
    unsafe_allow_loopback: bool,
    any_media_type: bool = False,
) -> tuple[str, bytes]:
    """(the URL finally served, its 200 body) under the rules of :func:`fetch_json`."""
    deadline = time.monotonic() + timeout
    context = ssl_context or _default_context()
    current = url
    for _ in range(max_redirects + 1):
        host, port, target = _split(current)
        addresses = _checked_addresses(
            host, port, resolver=resolver, allow_loopback=unsafe_allow_loopback, url=current
        )
        _remaining(deadline, current, timeout)  # a slow resolver counts against the deadline
        response = _get(
            current,
            host,
            port,
            target,
            addresses,
            context=context,
            deadline=deadline,
            timeout=timeout,
            max_bytes=max_bytes,
            any_media_type=any_media_type,
        )
        if response.status == 200:
            return current, response.body
        if not response.location:
            raise FetchFailed(f"cannot fetch {current}: HTTP {response.status} without Location")
        current = urljoin(current, response.location)  # checked from scratch on the next turn
    raise FetchRefused(f"refusing to fetch {url}: more than {max_redirects} redirects")


def _parse(url: str, body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise FetchFailed(f"cannot use {url}: the response is not UTF-8 JSON ({exc})") from None
    if not isinstance(data, dict):
        raise FetchFailed(f"cannot use {url}: the response is not a JSON object")
    return data


def _document_about(url: str, subject: str, what: str, **options: Any) -> dict[str, Any]:
    """:func:`fetch_json` of a document that must be about ``subject`` (its ``id``): otherwise
    one host, or a redirect, could vouch for another's keys (did:web §3.2; Controlled
    Identifiers 1.0 §3.3 step 5).  Raises :class:`FetchFailed` when it is about something else."""
    document = fetch_json(url, **options)
    if document.get("id") != subject:
        raise FetchFailed(f"the {what} at {url} is for {document.get('id')!r}, not {subject}")
    return document


def did_web_fetcher(
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    resolver: Resolver = socket.getaddrinfo,
    ssl_context: ssl.SSLContext | None = None,
    unsafe_allow_loopback: bool = False,
) -> Callable[[str], Mapping[str, Any]]:
    """A ``fetch_did_document(did)`` for :func:`portfolio.issuing.service.service_verifier`.

    The returned function maps a did:web DID to its document URL (did:web §3.2 "Read"),
    fetches it with :func:`fetch_json` and returns the document.  It raises
    :class:`CannotDecideError` when the DID is not a valid did:web DID, the fetch is refused
    or fails, or the document's ``id`` is not the DID (did:web §3.2: the resolved document
    must be about the DID that was resolved — otherwise one host could vouch for another).
    """

    def fetch_did_document(did: str) -> Mapping[str, Any]:
        try:
            url = did_web_to_url(did)
        except IssuerKeyError as exc:
            raise FetchRefused(f"cannot resolve {did!r}: {exc.message}") from None
        return _document_about(
            url,
            did,
            "DID document",
            timeout=timeout,
            max_bytes=max_bytes,
            resolver=resolver,
            ssl_context=ssl_context,
            unsafe_allow_loopback=unsafe_allow_loopback,
        )

    return fetch_did_document


def controller_document_fetcher(
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    resolver: Resolver = socket.getaddrinfo,
    ssl_context: ssl.SSLContext | None = None,
    unsafe_allow_loopback: bool = False,
) -> Callable[[str], Mapping[str, Any]]:
    """A ``fetch_controller_document(url)`` for HTTPS verification methods
    (:func:`portfolio.issuing.service.service_verifier`).

    Fetches the URL (the method's URL without its fragment) with :func:`fetch_json` and returns
    the document.  Raises :class:`CannotDecideError` when the fetch is refused or fails, or when
    the document's ``id`` is not the URL that was asked for (W3C Controlled Identifiers 1.0
    §3.3 step 5: otherwise one host, or a redirect, could vouch for another's keys).
    """

    def fetch_controller_document(url: str) -> Mapping[str, Any]:
        return _document_about(
            url,
            url,
            "controller document",
            timeout=timeout,
            max_bytes=max_bytes,
            resolver=resolver,
            ssl_context=ssl_context,
            unsafe_allow_loopback=unsafe_allow_loopback,
        )

    return fetch_controller_document


def status_list_fetcher(
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    resolver: Resolver = socket.getaddrinfo,
    ssl_context: ssl.SSLContext | None = None,
    unsafe_allow_loopback: bool = False,
) -> Callable[[str], Mapping[str, Any]]:
    """A ``fetch_status_list(url)`` for :func:`portfolio.issuing.service.service_verifier`.

    The returned function fetches a BitstringStatusListCredential with :func:`fetch_json`
    and raises :class:`CannotDecideError` when that is refused or fails.  Its proof and
    issuer are checked by the verifier, like any status list.
    """

    def fetch_status_list(url: str) -> Mapping[str, Any]:
        return fetch_json(
            url,
            timeout=timeout,
            max_bytes=max_bytes,
            resolver=resolver,
            ssl_context=ssl_context,
            unsafe_allow_loopback=unsafe_allow_loopback,
        )

    return fetch_status_list


#: At most this many related resources are fetched for one verification; the others are not
#: at hand (only the form of their digests is checked).  Each fetch may take DEFAULT_TIMEOUT.
MAX_RELATED_RESOURCES = 4


def related_resource_fetcher(
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    resolver: Resolver = socket.getaddrinfo,
    ssl_context: ssl.SSLContext | None = None,
    unsafe_allow_loopback: bool = False,
    max_fetches: int = MAX_RELATED_RESOURCES,
) -> Callable[[str], bytes | None]:
    """A ``resolve_related_resource(url)`` for one verification (VC DM 2.0 §5.3): the bytes of
    an https ``relatedResource`` by :func:`fetch_bytes`, for its digests to be compared.

    Other schemes are not at hand (``None``), nor anything past the first ``max_fetches``
    URLs; a refused or failed fetch raises :class:`CannotDecideError` (the verifier then treats
    the resource as not at hand).
    """
    fetched: list[str] = []

    def fetch_related_resource(url: str) -> bytes | None:
        if not url.startswith("https://"):
            return None
        if url not in fetched and len(fetched) >= max_fetches:
            return None
        fetched.append(url)
        return fetch_bytes(
            url,
            timeout=timeout,
            max_bytes=max_bytes,
            resolver=resolver,
            ssl_context=ssl_context,
            unsafe_allow_loopback=unsafe_allow_loopback,
        )

    return fetch_related_resource
