"""Signing in and out through the real forms."""

from tests.factories import PASSWORD, make_member


def test_login_with_right_password_opens_the_structure(client, tenant_a):
    user = make_member(tenant_a, "volunteer", email="marie@example.org")
    response = client.post("/login", data={"email": "Marie@Example.org ", "password": PASSWORD})
    assert response.status_code == 302
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200
    assert tenant_a.name in home.get_data(as_text=True)
    assert user.first_name in home.get_data(as_text=True)


def test_wrong_password_and_unknown_address_get_the_same_answer(client, tenant_a):
    make_member(tenant_a, "volunteer", email="marie@example.org")
    wrong = client.post("/login", data={"email": "marie@example.org", "password": "not-the-password"})
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 422
    message = "Adresse e-mail ou mot de passe incorrect."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert client.get("/account").status_code == 302  # still signed out
