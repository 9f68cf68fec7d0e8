"""Deny by default: every endpoint declares who may call it."""

from tests.conftest import build_app
from volunteer_platform.auth.permissions import AccessRule


def test_every_endpoint_declares_an_access_rule(app):
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and not isinstance(getattr(app.view_functions[rule.endpoint], "access_rule", None), AccessRule)
    ]
    assert undeclared == []


def test_a_view_without_declaration_is_refused(app, database_url):
    probe_app = build_app(database_url)
    probe_app.add_url_rule("/__undeclared_probe", "undeclared_probe", lambda: "secret")
    response = probe_app.test_client().get("/__undeclared_probe")
    assert response.status_code == 403
    assert b"secret" not in response.data
