"""The inspection in Spanish: with ``Accept-Language: es`` the home page, sign-in and /verify
are served as ``<html lang="es">`` and pass axe-core and the reflow check like the English
ones (a wrong ``lang`` makes screen readers mispronounce every word)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Demo, Inspector

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("who", [None, "student"], ids=["anonymous", "student"])
def test_pages_in_spanish_say_so_and_pass_the_inspection(
    demo: Demo, as_role: Callable[..., Page], inspect: Inspector, who: str | None
) -> None:
    inspect.journey = f"spanish-{who or 'anonymous'}"
    # Signed in first (the sign-in form's labels are English here), then read in Spanish.
    page = as_role(who)
    page.set_extra_http_headers({"Accept-Language": "es"})
    if who is None:
        paths = ["/", "/sign-in", "/verify"]
    else:
        paths = [page.url.removeprefix(demo.url) or "/", "/verify"]
    for path in paths:
        page.goto(demo.url + path)
        assert page.evaluate("() => document.documentElement.lang") == "es", path
        inspect(page, path.strip("/") or "home")
