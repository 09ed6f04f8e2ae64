"""Errors outside the JSON API are readable HTML pages; the API keeps answering in JSON."""

from __future__ import annotations


def test_an_unknown_page_is_a_readable_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<h1>Page not found</h1>" in response.get_data(as_text=True)


def test_an_unknown_api_path_is_json(client):
    response = client.get("/credentials/no-such-endpoint")
    assert response.status_code in (404, 405)
    assert response.is_json and set(response.json) >= {"error", "detail"}


def test_a_wrong_method_on_a_page_is_a_readable_page(client, app):
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/")
    assert response.status_code == 405
    assert "Not allowed here" in response.get_data(as_text=True)


def test_an_unexpected_error_is_a_500_page_without_details(app):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("secret internal detail")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom-for-test")
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in text
    assert "secret internal detail" not in text and "Traceback" not in text
