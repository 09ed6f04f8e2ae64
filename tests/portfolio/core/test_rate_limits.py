"""Rate limits (issue #7): the public verification API and page, the OAuth token endpoint,
sign-in and password reset answer 429 with ``Retry-After`` once a client address has used its
budget — JSON ``{"error", "detail"}`` on API paths, a readable page elsewhere — in memory, or in
Redis shared by every worker.  Apps made for tests have limits off unless switched on."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from portfolio.core.db import db
from portfolio.core.limits import EXTENSION, LIMITED, share_of
from tests.conftest import TEST_KEK
from wsgi import create_app

REDIS_URL = os.environ.get("CREDFOLIO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
#: Small budgets, so that a test reaches them in a few requests.
SMALL_LIMITS = {
    "CREDFOLIO_RATELIMIT_VERIFY": "3 per minute",
    "CREDFOLIO_RATELIMIT_TOKEN": "2 per minute",
    "CREDFOLIO_RATELIMIT_SIGN_IN": "2 per minute",
    "CREDFOLIO_RATELIMIT_PASSWORD_RESET": "2 per minute",
}


def remove_redis_keys(url: str, prefix: str) -> None:
    """Delete every key a test made under its own ``prefix``."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def redis_url() -> str:
    """The Redis the tests may use; skipped when it is down, except in CI, where it must run."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} is needed in CI: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is not running: {exc}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def make_app(tmp_path: Path, database_url: str) -> Iterator[Callable[..., Flask]]:
    """Build apps with rate limits switched on (and CSRF off); each gets its own instance
    folder; the first makes the tables, and every app is closed afterwards."""
    apps: list[Flask] = []

    def build(**config: Any) -> Flask:
        app = create_app(
            {
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
                "INSTANCE_PATH": str(tmp_path / f"instance-{len(apps)}"),
                "SQLALCHEMY_DATABASE_URI": database_url,
                "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
                "CREDFOLIO_PUBLIC_URL": "https://credfolio.test",
                "CREDFOLIO_RATELIMIT_ENABLED": True,
                "CREDFOLIO_RATELIMIT_KEY_PREFIX": f"credfolio-test-{uuid.uuid4().hex}",
                **SMALL_LIMITS,
                **config,
            }
        )
        if not apps:
            with app.app_context():
                db.create_all()
        apps.append(app)
        return app

    yield build
    for app in reversed(apps):  # the first app, which made the tables, drops them last
        with app.app_context():
            db.session.remove()
            if app is apps[0]:
                db.drop_all()
            db.engine.dispose()


def verify(client: Any, **kwargs: Any) -> Any:
    """A malformed verification request: refused at once, but it counts."""
    return client.post("/credentials/verify", json={}, **kwargs)


def assert_json_429(response: Any, budget: str) -> None:
    assert response.status_code == 429
    assert response.mimetype == "application/json"
    assert response.json["error"] == "TOO_MANY_REQUESTS"
    assert f"at most {budget}" in response.json["detail"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60


# -- the memory backend ----------------------------------------------------------------------


def test_the_verify_api_answers_429_json_with_retry_after_once_the_budget_is_used(make_app):
    client = make_app().test_client()
    for _ in range(3):
        response = verify(client)
        assert response.status_code == 400
        assert response.headers["X-RateLimit-Limit"] == "3"
    assert_json_429(verify(client), "3 per minute")


def test_the_verify_api_the_presentation_api_and_the_verify_page_share_one_budget(make_app):
    client = make_app().test_client()
    assert verify(client).status_code == 400
    assert client.post("/presentations/verify", json={}).status_code == 400
    assert client.post("/verify", data={}).status_code == 400
    assert_json_429(client.post("/presentations/verify", json={}), "3 per minute")
    page = client.post("/verify", data={})
    assert page.status_code == 429
    assert page.mimetype == "text/html"


def test_a_page_answers_429_with_a_readable_page_saying_when_to_try_again(make_app):
    client = make_app().test_client()
    for _ in range(2):
        assert client.post("/sign-in", data={"email": "x@example.test"}).status_code == 422
    response = client.post("/sign-in", data={"email": "x@example.test"})
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert "<h1>Too many requests</h1>" in response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "Please wait a minute and try again." in response.text
    assert "Content-Security-Policy" in response.headers  # still a page like any other


def test_reading_the_forms_is_not_limited_only_submitting_them(make_app):
    client = make_app().test_client()
    for _ in range(5):
        assert client.get("/sign-in").status_code == 200
        assert client.get("/verify").status_code == 200
        assert client.get("/password/forgot").status_code == 200


def test_the_token_endpoint_is_limited_with_a_json_429(make_app):
    client = make_app().test_client()
    form = {"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"}
    for _ in range(2):
        assert client.post("/oauth/token", data=form).status_code in (400, 401)
    assert_json_429(client.post("/oauth/token", data=form), "2 per minute")


def test_password_reset_requests_are_limited(make_app):
    client = make_app().test_client()
    for _ in range(2):
        assert client.post("/password/forgot", data={"email": "x@example.test"}).status_code == 200
    response = client.post("/password/forgot", data={"email": "x@example.test"})
    assert response.status_code == 429
    assert "Too many requests" in response.text


def test_each_client_address_has_its_own_budget(make_app):
    client = make_app().test_client()
    one, other = {"REMOTE_ADDR": "192.0.2.1"}, {"REMOTE_ADDR": "192.0.2.2"}
    for _ in range(3):
        verify(client, environ_base=one)
    assert verify(client, environ_base=one).status_code == 429
    assert verify(client, environ_base=other).status_code == 400


def test_a_page_limited_by_the_hour_says_how_many_minutes_to_wait(make_app):
    client = make_app(CREDFOLIO_RATELIMIT_PASSWORD_RESET="1 per hour").test_client()
    client.post("/password/forgot", data={"email": "x@example.test"})
    response = client.post("/password/forgot", data={"email": "x@example.test"})
    assert response.status_code == 429
    minutes = re.search(r"Please wait (\d+) minutes and try again", response.text)
    assert minutes is not None
    assert 59 <= int(minutes.group(1)) <= 60


def test_every_limit_is_configurable(make_app):
    client = make_app(CREDFOLIO_RATELIMIT_VERIFY="1 per hour").test_client()
    assert verify(client).status_code == 400
    response = verify(client)
    assert response.status_code == 429
    assert "at most 1 per hour" in response.json["detail"]
    assert 3500 <= int(response.headers["Retry-After"]) <= 3600


def test_the_limited_views_are_the_public_and_sign_in_endpoints():
    assert {(item.endpoint, item.methods) for item in LIMITED} == {
        ("vcapi.verify_credential", ("POST",)),
        ("vcapi.verify_presentation_endpoint", ("POST",)),
        ("public.verify_page", ("POST",)),
        ("oauth.token", ("POST",)),
        ("auth.sign_in_page", ("POST",)),
        ("accounts.forgot_password", ("POST",)),
    }


def test_limits_are_off_in_apps_made_for_tests_and_on_otherwise(app, make_app):
    """The rest of the suite sends many requests from one address: its apps (TESTING) have no
    limits; every real app has them unless an operator switches them off."""
    assert app.extensions[EXTENSION].enabled is False
    for _ in range(5):
        assert app.test_client().post("/credentials/verify", json={}).status_code == 400
    assert make_app().extensions[EXTENSION].enabled is True
    assert make_app(TESTING=False).extensions[EXTENSION].enabled is True
    assert make_app(CREDFOLIO_RATELIMIT_ENABLED="false").extensions[EXTENSION].enabled is False


# -- Redis -----------------------------------------------------------------------------------


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    prefix = f"credfolio-test-{uuid.uuid4().hex}"
    yield prefix
    remove_redis_keys(redis_url, prefix)


def test_with_redis_every_worker_shares_one_budget(make_app, redis_url, redis_prefix):
    config = {
        "CREDFOLIO_RATELIMIT_STORAGE_URL": redis_url,
        "CREDFOLIO_RATELIMIT_KEY_PREFIX": redis_prefix,
    }
    first, second = make_app(**config).test_client(), make_app(**config).test_client()
    assert verify(first).status_code == 400
    assert verify(second).status_code == 400
    assert verify(first).status_code == 400
    assert_json_429(verify(second), "3 per minute")
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        assert list(client.scan_iter(match=f"*{redis_prefix}*"))  # the counters are in Redis
    finally:
        client.close()


def test_while_redis_is_away_each_worker_gets_its_share_of_a_limit(make_app):
    """Issue 18 §5: counting in memory multiplied every budget by the number of workers."""
    app = make_app(
        CREDFOLIO_RATELIMIT_STORAGE_URL="redis://127.0.0.1:1/0",
        CREDFOLIO_RATELIMIT_VERIFY="8 per minute",
        CREDFOLIO_WORKERS="4",
    )
    client = app.test_client()
    statuses = [verify(client).status_code for _ in range(4)]
    assert statuses.count(400) == 2 and statuses[-1] == 429  # 8 / 4 workers = 2 each
    assert_json_429(verify(client), "2 per minute")


@pytest.mark.parametrize(
    ("limit", "workers", "share"),
    [
        ("30 per minute; 300 per hour", 4, "7 per minute; 75 per hour"),
        ("5 per minute", 8, "1 per minute"),
        ("10 per minute", 1, "10 per minute"),
    ],
)
def test_a_worker_s_share_of_a_limit(limit, workers, share):
    assert share_of(limit, workers) == share


def test_when_redis_is_unreachable_the_limits_go_on_in_memory(make_app):
    # Port 1 on the loopback interface: nothing listens there, the connection is refused.
    app = make_app(CREDFOLIO_RATELIMIT_STORAGE_URL="redis://127.0.0.1:1/0")
    assert app.extensions[EXTENSION].storage.check() is False
    client = app.test_client()
    for _ in range(3):
        assert verify(client).status_code == 400
    assert_json_429(verify(client), "3 per minute")
