"""A structure's own pages: who reaches them, and what the forms do."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.factories import make_member, make_membership, make_site, make_user, page_text
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Membership, Role, Site, Tenant, TenantKind

COORDINATOR_GET_PAGES = ["/structure", "/sites", "/sites/new", "/members", "/invitations"]


def membership_of(user, tenant) -> Membership:
    return db.session.scalars(
        select(Membership).where(Membership.user_id == user.id, Membership.tenant_id == tenant.id)
    ).one()


def fresh_tenant(tenant) -> Tenant:
    db.session.rollback()
    return db.session.scalars(select(Tenant).where(Tenant.id == tenant.id)).one()


def fresh_site(site_id) -> Site:
    db.session.rollback()
    return db.session.scalars(select(Site).where(Site.id == site_id)).one()


def deactivate(tenant) -> None:
    db.session.scalars(select(Tenant).where(Tenant.id == tenant.id)).one().is_active = False
    db.session.commit()


# --- tenant resolution --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/members", "/sites", "/structure"])
def test_an_unknown_structure_is_not_found(client, login_as, coordinator_a, path):
    login_as(coordinator_a)
    response = client.get(f"/structure-inconnue{path}")
    assert response.status_code == 404
    assert "Page introuvable" in page_text(response)


def test_an_unknown_structure_is_not_found_for_a_supervisor_either(client, login_as, supervisor):
    login_as(supervisor)
    assert client.get("/structure-inconnue/").status_code == 404


@pytest.mark.parametrize("path", ["/", "/members", "/sites", "/structure", "/invitations"])
def test_an_inactive_structure_is_not_found_even_for_its_own_coordinator(client, login_as, tenant_a, coordinator_a,
                                                                        path):
    login_as(coordinator_a)
    assert client.get(f"/structure-a{path}").status_code == 200
    deactivate(tenant_a)
    assert client.get(f"/structure-a{path}").status_code == 404


def test_an_inactive_structure_is_not_found_for_a_supervisor(client, login_as, tenant_a, supervisor):
    login_as(supervisor)
    deactivate(tenant_a)
    for path in ["/", "/members", "/structure"]:
        assert client.get(f"/structure-a{path}").status_code == 404


def test_an_inactive_structure_refuses_changes(client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    deactivate(tenant_a)
    response = client.post("/structure-a/sites/new", data={
        "name": "Nouveau lieu", "address": "1 rue", "postal_code": "62400", "city": "Béthune"})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count(Site.id))) == 0


def test_an_inactive_structure_disappears_from_my_structures(client, login_as, tenant_a, tenant_b):
    person = make_member(tenant_a, Role.VOLUNTEER)
    make_membership(tenant_b, person, Role.VOLUNTEER)
    login_as(person)
    deactivate(tenant_b)
    response = client.get("/")
    assert response.status_code == 302  # only one structure left: straight to it
    assert response.headers["Location"].endswith("/structure-a/")


# --- who may see what -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/structure", "/sites", "/members", "/invitations"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, tenant_a, path):
    response = client.get(f"/structure-a{path}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_anonymous_posts_change_nothing(client, tenant_a, coordinator_a):
    membership = membership_of(coordinator_a, tenant_a)
    response = client.post(f"/structure-a/members/{membership.id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    response = client.post("/structure-a/structure", data={"name": "Piraté", "kind": "other",
                                                           "timezone": "Europe/Paris"})
    assert response.headers["Location"].startswith("/login")
    assert membership_of(coordinator_a, tenant_a).is_active is True
    assert fresh_tenant(tenant_a).name == "Structure A"


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.TRAINER])
def test_volunteers_and_trainers_are_refused_coordinator_pages(client, login_as, tenant_a, role):
    site = make_site(tenant_a)
    person = login_as(make_member(tenant_a, role))
    other = make_member(tenant_a, Role.VOLUNTEER)
    paths = COORDINATOR_GET_PAGES + [f"/sites/{site.id}", f"/members/{membership_of(other, tenant_a).id}"]
    for path in paths:
        response = client.get(f"/structure-a{path}")
        assert response.status_code == 403, path
        assert "Accès refusé" in page_text(response)
    # … but their own home is open to them
    home = client.get("/structure-a/")
    assert home.status_code == 200
    assert person.first_name in page_text(home)
    assert "membres actifs" not in page_text(home)


def test_a_volunteer_cannot_change_anything_by_posting(client, login_as, tenant_a, coordinator_a, volunteer_a):
    site = make_site(tenant_a, name="Lieu d'origine")
    coordinator_membership = membership_of(coordinator_a, tenant_a)
    own_membership = membership_of(volunteer_a, tenant_a)
    login_as(volunteer_a)

    attempts = [
        ("/structure", {"name": "Piraté", "kind": "other", "timezone": "Europe/Paris"}),
        ("/sites/new", {"name": "Piraté", "address": "1 rue", "postal_code": "62400", "city": "Lens"}),
        (f"/sites/{site.id}", {"name": "Piraté", "address": "1 rue", "postal_code": "62400", "city": "Lens"}),
        (f"/members/{own_membership.id}", {"role": "coordinator", "site_id": ""}),
        (f"/members/{coordinator_membership.id}/active", {"active": "0"}),
        ("/invitations", {"email": "ami@example.org", "role": "coordinator"}),
    ]
    for path, data in attempts:
        assert client.post(f"/structure-a{path}", data=data).status_code == 403, path

    assert fresh_tenant(tenant_a).name == "Structure A"
    assert [s.name for s in db.session.scalars(select(Site))] == ["Lieu d'origine"]
    assert membership_of(volunteer_a, tenant_a).role is Role.VOLUNTEER
    assert membership_of(coordinator_a, tenant_a).is_active is True


def test_someone_from_another_structure_gets_not_found(client, login_as, tenant_a, tenant_b, coordinator_b):
    login_as(coordinator_b)
    for path in ["/", *COORDINATOR_GET_PAGES]:
        assert client.get(f"/structure-a{path}").status_code == 404, path


def test_a_signed_in_person_without_any_structure_gets_not_found(client, login_as, tenant_a):
    login_as(make_user())
    assert client.get("/structure-a/").status_code == 404
    home = client.get("/")
    assert home.status_code == 200
    assert "Vous ne faites partie d'aucune structure" in page_text(home)


# --- home --------------------------------------------------------------------------------


def test_the_coordinator_home_shows_the_structures_figures(client, login_as, tenant_a, tenant_b, coordinator_a):
    make_member(tenant_a, Role.VOLUNTEER)
    make_member(tenant_a, Role.VOLUNTEER)
    make_membership(tenant_a, make_user(), Role.VOLUNTEER, is_active=False)
    make_site(tenant_a)
    for _ in range(5):
        make_member(tenant_b, Role.VOLUNTEER)
    login_as(coordinator_a)
    response = client.get("/structure-a/")
    assert response.status_code == 200
    text = " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split())
    assert "Structure A" in text
    assert "Bonjour Coralie" in text
    assert "3 membres actifs" in text
    assert "2 bénévoles" in text
    assert "1 lieux" in text
    assert "0 invitations en attente" in text


# --- structure details -------------------------------------------------------------------


def details_form(**overrides):
    data = {"name": "CCAS de Béthune", "kind": "ccas", "timezone": "Europe/Paris", "region": "Hauts-de-France",
            "contact_email": "contact@ccas-bethune.fr", "contact_phone": "03 21 00 00 00", "retention_years": "3"}
    data.update(overrides)
    return data


def test_coordinator_edits_the_structure_details(client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    form = client.get("/structure-a/structure")
    assert form.status_code == 200
    assert "Informations de la structure" in page_text(form)
    assert 'value="Structure A"' in page_text(form)

    response = client.post("/structure-a/structure", data=details_form(kind="town_hall", timezone="America/Cayenne",
                                                                       contact_email="Accueil@CCAS-Bethune.fr"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/structure-a/structure"
    stored = fresh_tenant(tenant_a)
    assert (stored.name, stored.kind, stored.timezone) == ("CCAS de Béthune", TenantKind.TOWN_HALL, "America/Cayenne")
    assert (stored.region, stored.contact_email, stored.contact_phone) == (
        "Hauts-de-France", "accueil@ccas-bethune.fr", "03 21 00 00 00")
    assert stored.slug == "structure-a"
    assert "Les informations de la structure ont été enregistrées." in page_text(client.get(response.headers["Location"]))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "  "}, "Ce champ est obligatoire."),
        ({"contact_email": "pas-une-adresse"}, "Saisissez une adresse e-mail valide"),
        ({"contact_phone": "appelez-moi"}, "Saisissez un numéro de téléphone"),
        ({"timezone": "Mars/Olympus"}, "N'est pas un choix valide"),
        ({"kind": "secte"}, "N'est pas un choix valide"),
    ],
)
def test_invalid_structure_details_are_shown_in_french_and_nothing_changes(client, login_as, tenant_a,
                                                                           coordinator_a, overrides, message):
    login_as(coordinator_a)
    response = client.post("/structure-a/structure", data=details_form(**overrides))
    assert response.status_code == 422
    text = page_text(response)
    assert "Le formulaire contient des erreurs" in text
    assert message in text
    stored = fresh_tenant(tenant_a)
    assert (stored.name, stored.kind, stored.timezone, stored.contact_email) == (
        "Structure A", TenantKind.CCAS, "Europe/Paris", None)


# --- sites -------------------------------------------------------------------------------


def site_form(**overrides):
    data = {"name": "Médiathèque", "address": "1 place Clemenceau", "postal_code": "62400", "city": "Béthune",
            "access_notes": "Rez-de-chaussée, accès en fauteuil"}
    data.update(overrides)
    return data


def test_coordinator_adds_a_site(client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    empty = client.get("/structure-a/sites")
    assert "Aucun lieu pour l'instant." in page_text(empty)
    assert client.get("/structure-a/sites/new").status_code == 200

    response = client.post("/structure-a/sites/new", data=site_form())
    assert response.status_code == 302
    assert response.headers["Location"] == "/structure-a/sites"
    site = db.session.scalars(select(Site)).one()
    assert (site.tenant_id, site.name, site.postal_code, site.is_active) == (tenant_a.id, "Médiathèque", "62400", True)
    listing = page_text(client.get("/structure-a/sites"))
    assert "Le lieu « Médiathèque » a été ajouté." in listing
    assert "1 place Clemenceau, 62400 Béthune" in listing


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"postal_code": "6240"}, "Le code postal compte 5 chiffres"),
        ({"postal_code": "62 400"}, "Le code postal compte 5 chiffres"),
        ({"postal_code": "ABCDE"}, "Le code postal compte 5 chiffres"),
        ({"postal_code": ""}, "Ce champ est obligatoire."),
        ({"name": ""}, "Ce champ est obligatoire."),
        ({"city": "   "}, "Ce champ est obligatoire."),
    ],
)
def test_an_invalid_new_site_is_refused_in_french(client, login_as, tenant_a, coordinator_a, overrides, message):
    login_as(coordinator_a)
    response = client.post("/structure-a/sites/new", data=site_form(**overrides))
    assert response.status_code == 422
    assert message in page_text(response)
    assert db.session.scalar(select(func.count(Site.id))) == 0


def test_a_duplicate_site_name_is_refused_on_the_name_field(client, login_as, tenant_a, coordinator_a):
    make_site(tenant_a, name="Médiathèque")
    login_as(coordinator_a)
    response = client.post("/structure-a/sites/new", data=site_form(name="MÉDIATHÈQUE"))
    assert response.status_code == 422
    text = page_text(response)
    assert "Nom du lieu : Un lieu porte déjà ce nom dans la structure." in text
    assert db.session.scalar(select(func.count(Site.id))) == 1


def test_coordinator_edits_and_closes_a_site(client, login_as, tenant_a, coordinator_a):
    site = make_site(tenant_a, name="Annexe", postal_code="62400")
    login_as(coordinator_a)
    form = client.get(f"/structure-a/sites/{site.id}")
    assert form.status_code == 200
    assert 'value="Annexe"' in page_text(form)

    response = client.post(f"/structure-a/sites/{site.id}",
                           data=site_form(name="Annexe Nord", postal_code="62300", city="Lens"))  # no is_active
    assert response.status_code == 302
    stored = fresh_site(site.id)
    assert (stored.name, stored.postal_code, stored.city, stored.is_active) == ("Annexe Nord", "62300", "Lens", False)
    listing = page_text(client.get("/structure-a/sites"))
    assert "Le lieu « Annexe Nord » a été enregistré." in listing
    assert "Fermé" in listing

    client.post(f"/structure-a/sites/{site.id}", data=site_form(name="Annexe Nord", is_active="y"))
    assert fresh_site(site.id).is_active is True
    assert "Fermé" not in page_text(client.get("/structure-a/sites"))


def test_a_site_edit_with_a_bad_postal_code_changes_nothing(client, login_as, tenant_a, coordinator_a):
    site = make_site(tenant_a, name="Annexe", postal_code="62400", city="Béthune")
    login_as(coordinator_a)
    response = client.post(f"/structure-a/sites/{site.id}", data=site_form(name="Renommé", postal_code="624000",
                                                                          is_active="y"))
    assert response.status_code == 422
    assert "Le code postal compte 5 chiffres, par exemple 62400." in page_text(response)
    stored = fresh_site(site.id)
    assert (stored.name, stored.postal_code) == ("Annexe", "62400")


def test_a_site_cannot_take_the_name_of_another_site(client, login_as, tenant_a, coordinator_a):
    site = make_site(tenant_a, name="Annexe")
    make_site(tenant_a, name="Médiathèque")
    login_as(coordinator_a)
    response = client.post(f"/structure-a/sites/{site.id}", data=site_form(name="médiathèque", is_active="y"))
    assert response.status_code == 422
    assert "Un lieu porte déjà ce nom dans la structure." in page_text(response)
    assert fresh_site(site.id).name == "Annexe"


def test_an_unknown_site_is_not_found(client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    assert client.get("/structure-a/sites/987654").status_code == 404


# --- members -----------------------------------------------------------------------------


def test_coordinator_sees_the_members_with_roles_sites_and_states(client, login_as, tenant_a, tenant_b,
                                                                  coordinator_a):
    site = make_site(tenant_a, name="Médiathèque")
    make_membership(tenant_a, make_user(full_name="Bruno Bénévole", email="bruno@example.org"), Role.VOLUNTEER,
                    site_id=site.id)
    make_membership(tenant_a, make_user(full_name="Fanny Formatrice"), Role.TRAINER)
    make_membership(tenant_a, make_user(full_name="Daniel Départ"), Role.VOLUNTEER, is_active=False)
    make_member(tenant_b, Role.VOLUNTEER, full_name="Quelqu'un d'Ailleurs")
    login_as(coordinator_a)

    response = client.get("/structure-a/members")
    assert response.status_code == 200
    text = page_text(response)
    for expected in ["Coralie Alpha", "Coordinateur ou coordinatrice", "Bruno Bénévole", "bruno@example.org",
                     "Bénévole", "Médiathèque", "Fanny Formatrice", "Formateur ou formatrice", "Daniel Départ",
                     "Désactivé", "Réactiver"]:
        assert expected in text, expected
    assert "Quelqu'un d'Ailleurs" not in text


def test_coordinator_changes_a_members_role_and_home_site(client, login_as, tenant_a, coordinator_a, volunteer_a):
    site = make_site(tenant_a, name="Médiathèque")
    membership = membership_of(volunteer_a, tenant_a)
    login_as(coordinator_a)

    form = client.get(f"/structure-a/members/{membership.id}")
    assert form.status_code == 200
    assert "Victor Alpha" in page_text(form)

    response = client.post(f"/structure-a/members/{membership.id}", data={"role": "trainer", "site_id": str(site.id)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/structure-a/members"
    db.session.rollback()
    stored = membership_of(volunteer_a, tenant_a)
    assert (stored.role, stored.site_id) == (Role.TRAINER, site.id)
    assert "Les changements ont été enregistrés." in page_text(client.get("/structure-a/members"))


def test_a_member_can_be_made_coordinator_and_then_manage_the_structure(client, app, login_as, tenant_a,
                                                                       coordinator_a, volunteer_a):
    membership = membership_of(volunteer_a, tenant_a)
    login_as(coordinator_a)
    client.post(f"/structure-a/members/{membership.id}", data={"role": "coordinator", "site_id": ""})

    promoted = app.test_client()
    login_as(volunteer_a, on=promoted)
    assert promoted.get("/structure-a/members").status_code == 200


def test_the_last_coordinator_cannot_demote_themself(client, login_as, tenant_a, coordinator_a):
    membership = membership_of(coordinator_a, tenant_a)
    login_as(coordinator_a)
    response = client.post(f"/structure-a/members/{membership.id}", data={"role": "volunteer", "site_id": ""})
    assert 400 <= response.status_code < 500
    assert "C'est le dernier coordinateur actif de la structure" in page_text(response)
    db.session.rollback()
    assert membership_of(coordinator_a, tenant_a).role is Role.COORDINATOR
    assert client.get("/structure-a/members").status_code == 200


def test_a_member_cannot_be_given_a_site_of_another_structure(client, login_as, tenant_a, tenant_b,
                                                              coordinator_a, volunteer_a):
    site_b = make_site(tenant_b, name="Lieu de B")
    membership = membership_of(volunteer_a, tenant_a)
    login_as(coordinator_a)
    form = page_text(client.get(f"/structure-a/members/{membership.id}"))
    assert "Lieu de B" not in form
    response = client.post(f"/structure-a/members/{membership.id}", data={"role": "volunteer",
                                                                          "site_id": str(site_b.id)})
    assert response.status_code == 422
    assert "N'est pas un choix valide" in page_text(response)
    db.session.rollback()
    assert membership_of(volunteer_a, tenant_a).site_id is None


def test_coordinator_deactivates_and_reactivates_a_member(client, login_as, tenant_a, coordinator_a, volunteer_a):
    membership = membership_of(volunteer_a, tenant_a)
    login_as(coordinator_a)

    response = client.post(f"/structure-a/members/{membership.id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert membership_of(volunteer_a, tenant_a).is_active is False
    text = page_text(client.get("/structure-a/members"))
    assert "Victor Alpha a été désactivé(e) dans la structure." in text
    assert "Désactivé" in text

    response = client.post(f"/structure-a/members/{membership.id}/active", data={"active": "1"})
    assert response.status_code == 302
    assert membership_of(volunteer_a, tenant_a).is_active is True
    assert "Victor Alpha a été réactivé(e)." in page_text(client.get("/structure-a/members"))


def test_the_last_coordinator_cannot_deactivate_themself(client, login_as, tenant_a, coordinator_a):
    membership = membership_of(coordinator_a, tenant_a)
    login_as(coordinator_a)
    response = client.post(f"/structure-a/members/{membership.id}/active", data={"active": "0"})
    assert response.status_code == 409
    assert ("C'est le dernier coordinateur actif de la structure : nommez-en un autre d'abord."
            in page_text(response))
    db.session.rollback()
    assert membership_of(coordinator_a, tenant_a).is_active is True
    assert client.get("/structure-a/members").status_code == 200


def test_a_coordinator_may_step_down_when_another_remains(client, login_as, tenant_a, coordinator_a):
    make_member(tenant_a, Role.COORDINATOR)
    membership = membership_of(coordinator_a, tenant_a)
    login_as(coordinator_a)
    response = client.post(f"/structure-a/members/{membership.id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert membership_of(coordinator_a, tenant_a).is_active is False
    # The very next request no longer reaches the structure.
    assert client.get("/structure-a/members").status_code == 404


def test_a_deactivated_member_loses_access_at_the_next_request(app, client, login_as, tenant_a, coordinator_a,
                                                               volunteer_a):
    volunteer_client = app.test_client()
    login_as(volunteer_a, on=volunteer_client)
    assert volunteer_client.get("/structure-a/").status_code == 200

    login_as(coordinator_a)
    client.post(f"/structure-a/members/{membership_of(volunteer_a, tenant_a).id}/active", data={"active": "0"})

    response = volunteer_client.get("/structure-a/")
    assert response.status_code == 404
    assert "Structure A" not in page_text(response)  # not even in the menu

    client.post(f"/structure-a/members/{membership_of(volunteer_a, tenant_a).id}/active", data={"active": "1"})
    assert volunteer_client.get("/structure-a/").status_code == 200


def test_an_unknown_member_is_not_found(client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    assert client.get("/structure-a/members/987654").status_code == 404
    assert client.post("/structure-a/members/987654/active", data={"active": "0"}).status_code == 404


# --- people in several structures ----------------------------------------------------------


def test_a_person_in_two_structures_sees_both_and_can_switch(client, login_as, tenant_a, tenant_b):
    person = make_member(tenant_a, Role.COORDINATOR, full_name="Paule Double")
    make_membership(tenant_b, person, Role.VOLUNTEER)
    login_as(person)

    home = client.get("/")
    assert home.status_code == 200
    text = page_text(home)
    assert "Mes structures" in text
    assert 'href="/structure-a/"' in text and "Structure A" in text
    assert 'href="/structure-b/"' in text and "Structure B" in text
    assert "Coordinateur ou coordinatrice" in text and "Bénévole" in text

    page_a = client.get("/structure-a/")
    assert page_a.status_code == 200
    assert "Changer de structure" in page_text(page_a)
    assert "membres actifs" in page_text(page_a)  # coordinator in A
    page_b = client.get("/structure-b/")
    assert page_b.status_code == 200
    assert "<h1>Structure B</h1>" in page_text(page_b)
    assert "membres actifs" not in page_text(page_b)  # volunteer in B
    # Roles do not leak from one structure to the other.
    assert client.get("/structure-b/members").status_code == 403
    assert client.get("/structure-a/members").status_code == 200


def test_a_person_in_one_structure_goes_straight_to_it(client, login_as, tenant_a, volunteer_a):
    login_as(volunteer_a)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/structure-a/"


# --- supervisors -------------------------------------------------------------------------------


def test_a_supervisor_opens_any_active_structures_pages(client, login_as, tenant_a, tenant_b, coordinator_a,
                                                        supervisor):
    site = make_site(tenant_b, name="Lieu de B")
    member_b = make_member(tenant_b, Role.VOLUNTEER, full_name="Béatrice Bravo")
    login_as(supervisor)
    for slug in ["structure-a", "structure-b"]:
        for path in ["/", *COORDINATOR_GET_PAGES]:
            assert client.get(f"/{slug}{path}").status_code == 200, (slug, path)
    assert client.get(f"/structure-b/sites/{site.id}").status_code == 200
    assert client.get(f"/structure-b/members/{membership_of(member_b, tenant_b).id}").status_code == 200
    assert "Béatrice Bravo" in page_text(client.get("/structure-b/members"))


def test_a_supervisor_goes_to_the_supervision_pages_from_home(client, login_as, tenant_a, coordinator_a, supervisor):
    login_as(supervisor)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/supervision/"
