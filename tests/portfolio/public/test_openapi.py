"""The OpenAPI 3.1 document describes every JSON route the app serves, and nothing else."""

from __future__ import annotations

import re

from portfolio.public.openapi import JSON_BLUEPRINTS

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def json_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in JSON_BLUEPRINTS:
            continue
        for method in (rule.methods or set()) - IGNORED_METHODS:
            routes.add((_openapi_path(rule.rule), method.lower()))
    return routes


def test_every_json_route_is_described(client, app):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.1")
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    routes = json_routes(app)
    assert {"/credentials/issue", "/oauth/token", "/status/{public_id}"} <= {p for p, _ in routes}
    assert routes - described == set(), "routes missing from the OpenAPI document"
    assert described - routes == set(), "the OpenAPI document describes routes that do not exist"


def test_every_reference_resolves_and_every_operation_has_error_responses(client):
    document = client.get("/api/openapi.json").json
    schemas = document["components"]["schemas"]
    text = str(document)
    for name in re.findall(r"#/components/schemas/([A-Za-z]+)", text):
        assert name in schemas, name
    for path, item in document["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert any(c.startswith("2") for c in codes), (path, method)
            if method == "post":
                assert {"400", "413", "500"} <= codes, (path, method)


def test_the_token_url_is_the_public_one(client):
    document = client.get("/api/openapi.json").json
    flows = document["components"]["securitySchemes"]["oauth2"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == "https://credfolio.test/oauth/token"
    assert document["paths"]["/credentials/issue"]["post"]["security"] == [{"oauth2": ["issue"]}]
