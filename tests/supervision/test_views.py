"""The association's pages: every structure, creating one, naming its coordinator."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.factories import (
    link_in,
    make_invitation,
    make_member,
    make_membership,
    make_site,
    make_tenant,
    make_user,
    page_text,
)
from volunteer_platform.auth.models import Invitation
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Role, Tenant, TenantKind


def plain(response) -> str:
    """The page's text without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split())


def tenant_by_slug(slug: str) -> Tenant | None:
    db.session.rollback()
    return db.session.scalars(select(Tenant).where(Tenant.slug == slug)).one_or_none()


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(model.id)))


def new_structure_form(**overrides):
    data = {"name": "CCAS de Béthune", "slug": "ccas-bethune", "kind": "ccas", "timezone": "Europe/Paris",
            "region": "Hauts-de-France", "contact_email": "", "contact_phone": "",
            "coordinator_email": "Directrice@CCAS-Bethune.fr"}
    data.update(overrides)
    return data


# --- access ------------------------------------------------------------------------------


SUPERVISION_GETS = ["/supervision/", "/supervision/structures/new", "/supervision/structures/{id}"]


def test_anonymous_visitors_are_sent_to_login(client, tenant_a):
    for path in SUPERVISION_GETS:
        response = client.get(path.format(id=tenant_a.id))
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login")
    response = client.post("/supervision/structures/new", data=new_structure_form())
    assert response.headers["Location"].startswith("/login")
    assert tenant_by_slug("ccas-bethune") is None


@pytest.mark.parametrize("who", ["coordinator", "volunteer", "nobody"])
def test_only_supervisors_reach_the_supervision_pages(client, login_as, tenant_a, coordinator_a, volunteer_a,
                                                      outbox, who):
    login_as({"coordinator": coordinator_a, "volunteer": volunteer_a, "nobody": make_user()}[who])
    for path in SUPERVISION_GETS:
        response = client.get(path.format(id=tenant_a.id))
        assert response.status_code == 403, path
        assert "Accès refusé" in page_text(response)
    posts = [
        ("/supervision/structures/new", new_structure_form()),
        (f"/supervision/structures/{tenant_a.id}/coordinators", {"email": "complice@example.org"}),
        (f"/supervision/structures/{tenant_a.id}/active", {"active": "0"}),
    ]
    for path, data in posts:
        assert client.post(path, data=data).status_code == 403, path
    assert tenant_by_slug("ccas-bethune") is None
    assert tenant_by_slug("structure-a").is_active is True
    assert count(Invitation) == 0
    assert outbox() == []


# --- the list --------------------------------------------------------------------------------


def test_the_list_shows_every_structure_with_its_counts(client, login_as, supervisor):
    alpha = make_tenant(name="Alpha CCAS", kind=TenantKind.CCAS, region="Hauts-de-France")
    make_member(alpha, Role.COORDINATOR)
    make_member(alpha, Role.TRAINER)
    for _ in range(3):
        make_member(alpha, Role.VOLUNTEER)
    make_membership(alpha, make_user(), Role.VOLUNTEER, is_active=False)
    make_site(alpha)
    make_site(alpha)
    make_site(alpha, is_active=False)
    bravo = make_tenant(name="Bravo Mairie", kind=TenantKind.TOWN_HALL)
    make_member(bravo, Role.VOLUNTEER)
    make_tenant(name="Charlie vide", kind=TenantKind.ASSOCIATION)
    make_tenant(name="Delta fermée", kind=TenantKind.OTHER, is_active=False)
    login_as(supervisor)

    response = client.get("/supervision/")
    assert response.status_code == 200
    text = plain(response)
    assert "Toutes les structures" in text
    # name, kind label, region, members, volunteers, coordinators, sites, state
    assert "Alpha CCAS CCAS (centre communal d'action sociale) Hauts-de-France 5 3 1 2 Active" in text
    assert "Bravo Mairie Mairie — 1 1 0 0 Active" in text
    assert "Charlie vide Association — 0 0 0 0 Active" in text
    assert "Delta fermée Autre — 0 0 0 0 Désactivée" in text
    # active structures first, by name
    assert text.index("Alpha CCAS") < text.index("Bravo Mairie") < text.index("Charlie vide") < text.index("Delta")


def test_the_list_filters_by_kind(client, login_as, supervisor):
    make_tenant(name="CCAS de Béthune", kind=TenantKind.CCAS)
    make_tenant(name="CCAS de Lens", kind=TenantKind.CCAS)
    make_tenant(name="Mairie d'Arras", kind=TenantKind.TOWN_HALL)
    login_as(supervisor)

    ccas = page_text(client.get("/supervision/?kind=ccas"))
    assert "CCAS de Béthune" in ccas and "CCAS de Lens" in ccas
    assert "Mairie d'Arras" not in ccas
    assert '<option value="ccas" selected>' in ccas

    town_halls = page_text(client.get("/supervision/?kind=town_hall"))
    assert "Mairie d'Arras" in town_halls
    assert "CCAS de" not in town_halls

    empty = page_text(client.get("/supervision/?kind=point_passerelle"))
    assert "Aucune structure." in empty

    for everything in ["/supervision/", "/supervision/?kind=", "/supervision/?kind=n-importe-quoi"]:
        response = client.get(everything)
        assert response.status_code == 200
        text = page_text(response)
        assert all(name in text for name in ["CCAS de Béthune", "CCAS de Lens", "Mairie d'Arras"]), everything


def test_the_list_runs_a_fixed_number_of_queries(client, login_as, supervisor, count_queries):
    def fill(n: int) -> None:
        for i in range(n):
            tenant = make_tenant(kind=list(TenantKind)[i % len(TenantKind)], is_active=bool(i % 5))
            make_member(tenant, Role.COORDINATOR)
            make_member(tenant, Role.VOLUNTEER)
            make_site(tenant)

    login_as(supervisor)
    fill(3)
    with count_queries() as few:
        assert client.get("/supervision/").status_code == 200
    fill(17)
    with count_queries() as many:
        response = client.get("/supervision/")
    assert response.status_code == 200
    assert page_text(response).count("/supervision/structures/") - 1 == 20  # 20 rows (+ the "create" link)
    assert len(few) == len(many)


# --- creating a structure -----------------------------------------------------------------------


def test_a_supervisor_creates_a_structure_and_invites_its_coordinator(client, login_as, supervisor, outbox):
    login_as(supervisor)
    form = client.get("/supervision/structures/new")
    assert form.status_code == 200
    assert "Créer une structure" in page_text(form)

    response = client.post("/supervision/structures/new", data=new_structure_form())
    assert response.status_code == 302
    tenant = tenant_by_slug("ccas-bethune")
    assert tenant is not None
    assert (tenant.name, tenant.kind, tenant.region, tenant.is_active) == (
        "CCAS de Béthune", TenantKind.CCAS, "Hauts-de-France", True)
    assert response.headers["Location"] == f"/supervision/structures/{tenant.id}"

    invitation = db.session.scalars(select(Invitation)).one()
    assert (invitation.tenant_id, invitation.email, invitation.role) == (
        tenant.id, "directrice@ccas-bethune.fr", Role.COORDINATOR)
    assert invitation.invited_by_id == supervisor.id

    emails = outbox()
    assert len(emails) == 1
    assert emails[0].to_address == "directrice@ccas-bethune.fr"
    assert "CCAS de Béthune" in emails[0].subject
    assert link_in(emails[0].body_text).startswith("/invitations/")

    page = page_text(client.get(response.headers["Location"]))
    assert ("La structure « CCAS de Béthune » a été créée et une invitation envoyée à directrice@ccas-bethune.fr."
            in page)
    assert "Invitations en attente : directrice@ccas-bethune.fr" in page
    assert "Aucun coordinateur actif." in page


def test_the_invitation_link_makes_the_first_coordinator(app, client, login_as, supervisor, outbox):
    login_as(supervisor)
    client.post("/supervision/structures/new", data=new_structure_form())
    link = link_in(outbox()[0].body_text)

    newcomer = app.test_client()
    response = newcomer.post(link, data={"full_name": "Denise Directrice", "password": "un-mot-de-passe-solide",
                                         "confirm": "un-mot-de-passe-solide"})
    assert response.status_code == 302
    assert newcomer.get("/ccas-bethune/members").status_code == 200


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("ccas béthune", "Seulement des lettres minuscules sans accent, des chiffres et des tirets."),
        ("ccas_bethune", "Seulement des lettres minuscules sans accent, des chiffres et des tirets."),
        ("-ccas", "Seulement des lettres minuscules sans accent, des chiffres et des tirets."),
        ("", "Ce champ est obligatoire."),
        ("login", "Cet identifiant est réservé : choisissez-en un autre."),
        ("Supervision", "Cet identifiant est réservé : choisissez-en un autre."),
    ],
)
def test_an_invalid_slug_is_refused_in_french_and_nothing_is_created(client, login_as, supervisor, outbox,
                                                                     slug, message):
    login_as(supervisor)
    response = client.post("/supervision/structures/new", data=new_structure_form(slug=slug))
    assert response.status_code == 422
    text = page_text(response)
    assert "Le formulaire contient des erreurs" in text
    assert message in text
    assert count(Tenant) == 0
    assert count(Invitation) == 0
    assert outbox() == []


def test_a_duplicate_slug_is_refused_and_nothing_is_created(client, login_as, supervisor, outbox):
    make_tenant(slug="ccas-bethune", name="Le premier")
    login_as(supervisor)
    response = client.post("/supervision/structures/new",
                           data=new_structure_form(slug="CCAS-Bethune", name="Le second"))
    assert response.status_code == 422
    assert "Une structure utilise déjà cet identifiant." in page_text(response)
    assert count(Tenant) == 1
    assert tenant_by_slug("ccas-bethune").name == "Le premier"
    assert count(Invitation) == 0
    assert outbox() == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"coordinator_email": "pas-une-adresse"}, "Saisissez une adresse e-mail valide"),
        ({"coordinator_email": ""}, "Ce champ est obligatoire."),
        ({"name": ""}, "Ce champ est obligatoire."),
        ({"timezone": "Mars/Olympus"}, "N'est pas un choix valide"),
    ],
)
def test_other_invalid_fields_create_nothing(client, login_as, supervisor, outbox, overrides, message):
    login_as(supervisor)
    response = client.post("/supervision/structures/new", data=new_structure_form(**overrides))
    assert response.status_code == 422
    assert message in page_text(response)
    assert count(Tenant) == 0
    assert outbox() == []


# --- a structure's page: coordinators and state --------------------------------------------------


def test_the_structure_page_shows_its_coordinators(client, login_as, tenant_a, coordinator_a, volunteer_a,
                                                   supervisor):
    make_invitation(tenant_a, "future-coord@example.org", Role.COORDINATOR)
    make_invitation(tenant_a, "future-benevole@example.org", Role.VOLUNTEER)
    login_as(supervisor)
    response = client.get(f"/supervision/structures/{tenant_a.id}")
    assert response.status_code == 200
    text = page_text(response)
    assert "Coralie Alpha — coord-a@example.org" in text
    assert "Victor Alpha" not in text
    assert "future-coord@example.org" in text
    assert "future-benevole@example.org" not in text
    assert "/structure-a/" in text


def test_an_unknown_structure_page_is_not_found(client, login_as, supervisor):
    login_as(supervisor)
    assert client.get("/supervision/structures/987654").status_code == 404
    assert client.post("/supervision/structures/987654/active", data={"active": "0"}).status_code == 404


def test_a_supervisor_invites_a_coordinator_for_an_existing_structure(client, login_as, tenant_a, coordinator_a,
                                                                      supervisor, outbox):
    login_as(supervisor)
    response = client.post(f"/supervision/structures/{tenant_a.id}/coordinators",
                           data={"email": "Second.Coord@Example.org"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/supervision/structures/{tenant_a.id}"
    invitation = db.session.scalars(select(Invitation)).one()
    assert (invitation.tenant_id, invitation.email, invitation.role) == (
        tenant_a.id, "second.coord@example.org", Role.COORDINATOR)
    emails = outbox()
    assert [e.to_address for e in emails] == ["second.coord@example.org"]
    assert link_in(emails[0].body_text).startswith("/invitations/")
    assert "Invitation envoyée à second.coord@example.org." in page_text(client.get(response.headers["Location"]))


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("coord-a@example.org", "Cette personne est déjà membre de la structure."),
        ("pas-une-adresse", "Saisissez une adresse e-mail valide"),
    ],
)
def test_a_refused_coordinator_invitation_is_explained(client, login_as, tenant_a, coordinator_a, supervisor,
                                                       outbox, email, message):
    login_as(supervisor)
    response = client.post(f"/supervision/structures/{tenant_a.id}/coordinators", data={"email": email})
    assert response.status_code == 422
    assert message in page_text(response)
    assert count(Invitation) == 0
    assert outbox() == []


def test_a_supervisor_deactivates_and_reactivates_a_structure(app, client, login_as, tenant_a, coordinator_a,
                                                              supervisor):
    coordinator_client = app.test_client()
    login_as(coordinator_a, on=coordinator_client)
    assert coordinator_client.get("/structure-a/").status_code == 200
    login_as(supervisor)

    response = client.post(f"/supervision/structures/{tenant_a.id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert tenant_by_slug("structure-a").is_active is False
    page = page_text(client.get(response.headers["Location"]))
    assert "La structure « Structure A » a été désactivée. Ses données sont conservées." in page
    assert "Réactiver la structure" in page
    assert coordinator_client.get("/structure-a/").status_code == 404
    assert client.get("/structure-a/").status_code == 404
    # Its data is kept.
    assert "Coralie Alpha" in page

    response = client.post(f"/supervision/structures/{tenant_a.id}/active", data={"active": "1"})
    assert response.status_code == 302
    assert tenant_by_slug("structure-a").is_active is True
    assert "La structure « Structure A » est de nouveau active." in page_text(client.get(response.headers["Location"]))
    assert coordinator_client.get("/structure-a/").status_code == 200
    assert coordinator_client.get("/structure-a/members").status_code == 200
