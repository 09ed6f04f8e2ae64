"""Security headers on every response (issue #7, "Web application"): a Content-Security-Policy
that allows only our own script files, no framing, no MIME sniffing, a same-origin referrer
policy, a minimal Permissions-Policy, and HSTS when the service is served over HTTPS.

:func:`init_app` installs one ``after_request`` hook.  A header that a view set itself is kept
as it is: the routes that serve files set stricter policies (``default-src 'none'; sandbox``),
and those must win over the pages' policy (``X-Frame-Options: DENY`` still forbids framing them).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

#: The pages' policy.  Credfolio's pages work without JavaScript; first-party scripts served from
#: this origin (``portfolio/static/*.js``, linked by ``asset_url``) may only enhance them.  No
#: inline script may run: an injected ``<script>`` block, ``on*=`` handler or ``javascript:`` URL
#: is dead on arrival, and ``object-src``/``base-uri`` stop the classic ways around it.  Styles
#: come only from our own stylesheet (``portfolio/static/credfolio.css``, linked by
#: ``asset_url``): no template has a ``<style>`` block or a ``style`` attribute, so an injected
#: one is ignored too (no restyling, no CSS-based exfiltration).  Images may be https URLs or
#: ``data:`` URIs (an achievement's image, ``public.image_url``).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' https: data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
#: Browser features no page uses, switched off for the page and anything it embeds.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
#: One year (RFC 6797).  No ``includeSubDomains``: other services may share the domain.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # For browsers without CSP frame-ancestors (clickjacking).
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Share links carry secret tokens in their paths: never send a path to another site.
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    # Another site's window cannot keep a handle on ours (tabnabbing, cross-window leaks).
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    """Add the security headers to every response of ``app``."""
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    """Set each of :data:`HEADERS` the response does not already have, and HSTS over HTTPS.
    Returns ``response``."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure or str(current_app.config.get("CREDFOLIO_PUBLIC_URL", "")).startswith(
        "https://"
    ):
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response
