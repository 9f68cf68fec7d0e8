"""Structures, sites and members: the rules in ``tenants/services.py``, without HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.factories import make_member, make_membership, make_site, make_tenant, make_user
from volunteer_platform.auth.models import Invitation
from volunteer_platform.db import utcnow
from volunteer_platform.errors import Conflict, NotFound, ValidationFailed
from volunteer_platform.extensions import db
from volunteer_platform.tenants import services
from volunteer_platform.tenants.models import Membership, Role, Site, Tenant, TenantKind


def tenant_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Tenant.id)))


def create(slug: str, **fields):
    return services.create_tenant(
        slug=slug, name=fields.pop("name", "CCAS de Béthune"), kind=TenantKind.CCAS, now=utcnow(), **fields
    )


def membership_of(user, tenant) -> Membership:
    return db.session.scalars(
        select(Membership).where(Membership.user_id == user.id, Membership.tenant_id == tenant.id)
    ).one()


# --- create_tenant ----------------------------------------------------------------


def test_create_tenant_stores_a_normalised_structure(app):
    tenant = services.create_tenant(
        slug="  CCAS-Bethune ",
        name="  CCAS de Béthune ",
        kind=TenantKind.CCAS,
        now=utcnow(),
        timezone="America/Cayenne",
        region=" Hauts-de-France ",
        contact_email=" Contact@CCAS-Bethune.fr ",
        contact_phone="   ",
    )
    db.session.commit()

    stored = db.session.scalars(select(Tenant).where(Tenant.id == tenant.id)).one()
    assert stored.slug == "ccas-bethune"
    assert stored.name == "CCAS de Béthune"
    assert stored.timezone == "America/Cayenne"
    assert stored.region == "Hauts-de-France"
    assert stored.contact_email == "contact@ccas-bethune.fr"
    assert stored.contact_phone is None
    assert stored.is_active is True


@pytest.mark.parametrize("slug", ["ab", "ccas-bethune", "point-passerelle-62", "2024", "a" * 63])
def test_create_tenant_accepts_well_formed_slugs(app, slug):
    assert create(slug).slug == slug


@pytest.mark.parametrize(
    "slug",
    ["", "a", "a" * 64, "ccas béthune", "ccas_bethune", "ccas.bethune", "-ccas", "ccas-", "ccas--bethune",
     "ccas/bethune", "béthune", "ccas?x=1"],
)
def test_create_tenant_refuses_malformed_slugs_on_the_slug_field(app, slug):
    with pytest.raises(ValidationFailed) as refused:
        create(slug)
    assert refused.value.field == "slug"
    assert "lettres minuscules" in str(refused.value.message)
    assert tenant_count() == 0


@pytest.mark.parametrize("slug", ["login", "supervision", "static", "invitations", "password", "LOGIN", " account "])
def test_create_tenant_refuses_reserved_slugs(app, slug):
    with pytest.raises(ValidationFailed) as refused:
        create(slug)
    assert refused.value.field == "slug"
    assert "réservé" in str(refused.value.message)
    assert tenant_count() == 0


def test_every_first_path_segment_of_the_application_is_reserved(app):
    """A structure called like an application page would be unreachable (or shadow it)."""
    segments = {
        rule.rule.split("/")[1]
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/<") and rule.rule.split("/")[1]
    }
    assert segments  # the application does have fixed pages
    assert segments <= services.RESERVED_SLUGS


def test_create_tenant_refuses_a_duplicate_slug_with_a_conflict(app):
    make_tenant(slug="ccas-bethune")
    with pytest.raises(Conflict) as refused:
        create("CCAS-Bethune")
    assert refused.value.field == "slug"
    assert "déjà" in str(refused.value.message)
    assert tenant_count() == 1


def test_check_slug_ignores_the_structure_itself(app):
    tenant = make_tenant(slug="ccas-bethune")
    assert services.check_slug("ccas-bethune", exclude_id=tenant.id) == "ccas-bethune"
    other = make_tenant(slug="ccas-lens")
    with pytest.raises(Conflict):
        services.check_slug("ccas-bethune", exclude_id=other.id)


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "Europe", "", "../etc/passwd", "Europe/Paris "])
def test_create_tenant_refuses_unknown_timezones(app, timezone):
    with pytest.raises(ValidationFailed) as refused:
        create("ccas-bethune", timezone=timezone)
    assert refused.value.field == "timezone"
    assert "Fuseau horaire inconnu" in str(refused.value.message)
    assert tenant_count() == 0


def test_update_tenant_refuses_an_unknown_timezone(app, tenant_a):
    with pytest.raises(ValidationFailed) as refused:
        services.update_tenant(
            tenant_a, name="Nouveau nom", kind=TenantKind.TOWN_HALL, timezone="Pas/Un-Fuseau",
            region=None, contact_email=None, contact_phone=None,
        )
    assert refused.value.field == "timezone"


def test_update_tenant_changes_details_but_not_the_slug(app, tenant_a):
    services.update_tenant(
        tenant_a, name=" Mairie de Lens ", kind=TenantKind.TOWN_HALL, timezone="Europe/Paris",
        region="", contact_email="ACCUEIL@lens.fr", contact_phone=" 03 21 00 00 00 ",
    )
    db.session.commit()
    stored = db.session.scalars(select(Tenant).where(Tenant.id == tenant_a.id)).one()
    assert (stored.slug, stored.name, stored.kind) == ("structure-a", "Mairie de Lens", TenantKind.TOWN_HALL)
    assert (stored.region, stored.contact_email, stored.contact_phone) == (None, "accueil@lens.fr", "03 21 00 00 00")


# --- sites -------------------------------------------------------------------------


def site_names(tenant) -> list[str]:
    db.session.rollback()
    return sorted(db.session.scalars(select(Site.name).where(Site.tenant_id == tenant.id)))


def test_create_site_stores_it_in_the_structure(app, tenant_a):
    site = services.create_site(
        tenant_a, name=" Maison France Services ", address=" 1 place Clemenceau ", postal_code=" 62400 ",
        city=" Béthune ", access_notes="  ",
    )
    db.session.commit()
    stored = db.session.scalars(select(Site).where(Site.id == site.id)).one()
    assert stored.tenant_id == tenant_a.id
    assert (stored.name, stored.address, stored.postal_code, stored.city) == (
        "Maison France Services", "1 place Clemenceau", "62400", "Béthune")
    assert stored.access_notes is None
    assert stored.is_active is True
    assert stored.full_address == "1 place Clemenceau, 62400 Béthune"


@pytest.mark.parametrize("name", ["Médiathèque", "médiathèque", "  MÉDIATHÈQUE ", "MéDiAtHèQuE"])
def test_create_site_refuses_a_duplicate_name_in_the_same_structure(app, tenant_a, name):
    make_site(tenant_a, name="Médiathèque")
    with pytest.raises(Conflict) as refused:
        services.create_site(tenant_a, name=name, address="2 rue", postal_code="62400", city="Béthune")
    assert refused.value.field == "name"
    assert "Un lieu porte déjà ce nom" in str(refused.value.message)
    assert site_names(tenant_a) == ["Médiathèque"]


def test_a_duplicate_name_is_found_whatever_the_case_of_accented_capitals(app, tenant_a):
    make_site(tenant_a, name="ÉCOLE JULES FERRY")
    with pytest.raises(Conflict):
        services.create_site(tenant_a, name="École Jules Ferry", address="2 rue", postal_code="62400", city="Béthune")
    assert site_names(tenant_a) == ["ÉCOLE JULES FERRY"]


def test_a_name_differing_only_by_accents_is_another_name(app, tenant_a):
    make_site(tenant_a, name="Médiathèque")
    services.create_site(tenant_a, name="Mediatheque", address="2 rue", postal_code="62400", city="Béthune")
    db.session.commit()
    assert site_names(tenant_a) == ["Mediatheque", "Médiathèque"]


def test_create_site_refuses_a_duplicate_name_ignoring_ascii_case(app, tenant_a):
    make_site(tenant_a, name="Accueil Mairie")
    with pytest.raises(Conflict) as refused:
        services.create_site(tenant_a, name="ACCUEIL MAIRIE", address="2 rue", postal_code="62400", city="Béthune")
    assert refused.value.field == "name"
    assert site_names(tenant_a) == ["Accueil Mairie"]


def test_the_same_site_name_is_allowed_in_another_structure(app, tenant_a, tenant_b):
    make_site(tenant_a, name="Accueil Mairie")
    services.create_site(tenant_b, name="accueil mairie", address="2 rue", postal_code="62300", city="Lens")
    db.session.commit()
    assert site_names(tenant_a) == ["Accueil Mairie"]
    assert site_names(tenant_b) == ["accueil mairie"]


def test_update_site_may_keep_its_own_name_but_not_take_another_sites(app, tenant_a):
    kept = make_site(tenant_a, name="Accueil Mairie")
    make_site(tenant_a, name="Médiathèque")
    services.update_site(kept, name="ACCUEIL mairie", address="3 rue", postal_code="62400", city="Béthune",
                         access_notes="Ascenseur", is_active=False)
    db.session.commit()
    assert site_names(tenant_a) == ["ACCUEIL mairie", "Médiathèque"]

    with pytest.raises(Conflict) as refused:
        services.update_site(kept, name="médiathèque", address="3 rue", postal_code="62400", city="Béthune",
                             access_notes=None, is_active=True)
    assert refused.value.field == "name"
    assert site_names(tenant_a) == ["ACCUEIL mairie", "Médiathèque"]


def test_sites_of_lists_only_the_structures_sites(app, tenant_a, tenant_b):
    make_site(tenant_a, name="Zèbre")
    make_site(tenant_a, name="Abeille", is_active=False)
    make_site(tenant_b, name="Autre structure")
    assert [s.name for s in services.sites_of(tenant_a)] == ["Abeille", "Zèbre"]
    assert [s.name for s in services.sites_of(tenant_a, active_only=True)] == ["Zèbre"]


# --- the database itself refuses a cross-tenant link ----------------------------------------


def test_database_refuses_a_membership_whose_site_belongs_to_another_structure(app, tenant_a, tenant_b):
    site_b = make_site(tenant_b, name="Lieu de B")
    user = make_user()
    db.session.add(Membership(tenant_id=tenant_a.id, user_id=user.id, role=Role.VOLUNTEER, site_id=site_b.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count(Membership.id))) == 0


def test_database_refuses_moving_a_membership_to_another_structures_site(app, tenant_a, tenant_b):
    site_b = make_site(tenant_b)
    membership = make_membership(tenant_a, make_user(), Role.VOLUNTEER)
    membership.site_id = site_b.id
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalars(select(Membership.site_id).where(Membership.id == membership.id)).one() is None


def test_database_accepts_a_membership_with_a_site_of_its_own_structure(app, tenant_a):
    site_a = make_site(tenant_a)
    membership = make_membership(tenant_a, make_user(), Role.VOLUNTEER, site_id=site_a.id)
    db.session.rollback()
    assert db.session.scalars(select(Membership.site_id).where(Membership.id == membership.id)).one() == site_a.id


# --- members -------------------------------------------------------------------------


def active_coordinator_ids(tenant) -> set[int]:
    db.session.rollback()
    return set(db.session.scalars(select(Membership.user_id).where(
        Membership.tenant_id == tenant.id, Membership.role == Role.COORDINATOR, Membership.is_active.is_(True))))


def test_last_active_coordinator_cannot_be_demoted(app, tenant_a, coordinator_a):
    membership = membership_of(coordinator_a, tenant_a)
    with pytest.raises(Conflict) as refused:
        services.update_membership(membership, role=Role.VOLUNTEER, site_id=None)
    assert "dernier coordinateur actif" in str(refused.value.message)
    assert active_coordinator_ids(tenant_a) == {coordinator_a.id}


def test_last_active_coordinator_cannot_be_deactivated(app, tenant_a, coordinator_a):
    membership = membership_of(coordinator_a, tenant_a)
    with pytest.raises(Conflict):
        services.set_membership_active(membership, False)
    assert active_coordinator_ids(tenant_a) == {coordinator_a.id}


def test_an_inactive_coordinator_does_not_count_as_another_coordinator(app, tenant_a, coordinator_a):
    make_membership(tenant_a, make_user(), Role.COORDINATOR, is_active=False)
    with pytest.raises(Conflict):
        services.set_membership_active(membership_of(coordinator_a, tenant_a), False)
    with pytest.raises(Conflict):
        services.update_membership(membership_of(coordinator_a, tenant_a), role=Role.TRAINER, site_id=None)
    assert active_coordinator_ids(tenant_a) == {coordinator_a.id}


def test_a_coordinator_of_another_structure_does_not_count(app, tenant_a, tenant_b, coordinator_a, coordinator_b):
    with pytest.raises(Conflict):
        services.set_membership_active(membership_of(coordinator_a, tenant_a), False)


def test_a_coordinator_can_be_demoted_when_another_one_remains(app, tenant_a, coordinator_a):
    other = make_member(tenant_a, Role.COORDINATOR)
    services.update_membership(membership_of(coordinator_a, tenant_a), role=Role.VOLUNTEER, site_id=None)
    db.session.commit()
    assert active_coordinator_ids(tenant_a) == {other.id}
    assert membership_of(coordinator_a, tenant_a).role is Role.VOLUNTEER


def test_a_coordinator_can_be_deactivated_when_another_one_remains(app, tenant_a, coordinator_a):
    other = make_member(tenant_a, Role.COORDINATOR)
    services.set_membership_active(membership_of(coordinator_a, tenant_a), False)
    db.session.commit()
    assert active_coordinator_ids(tenant_a) == {other.id}
    # … and then the remaining one is the last.
    with pytest.raises(Conflict):
        services.set_membership_active(membership_of(other, tenant_a), False)


def test_the_last_coordinator_can_change_home_site_keeping_the_role(app, tenant_a, coordinator_a):
    site = make_site(tenant_a)
    services.update_membership(membership_of(coordinator_a, tenant_a), role=Role.COORDINATOR, site_id=site.id)
    db.session.commit()
    assert membership_of(coordinator_a, tenant_a).site_id == site.id


def test_volunteers_can_be_deactivated_and_reactivated(app, tenant_a, coordinator_a, volunteer_a):
    services.set_membership_active(membership_of(volunteer_a, tenant_a), False)
    db.session.commit()
    assert membership_of(volunteer_a, tenant_a).is_active is False
    services.set_membership_active(membership_of(volunteer_a, tenant_a), True)
    db.session.commit()
    assert membership_of(volunteer_a, tenant_a).is_active is True


def test_a_deactivated_coordinator_can_be_reactivated(app, tenant_a, coordinator_a):
    other = make_member(tenant_a, Role.COORDINATOR)
    services.set_membership_active(membership_of(other, tenant_a), False)
    db.session.commit()
    services.set_membership_active(membership_of(other, tenant_a), True)
    db.session.commit()
    assert active_coordinator_ids(tenant_a) == {coordinator_a.id, other.id}


def test_a_volunteer_can_be_promoted_and_given_a_home_site(app, tenant_a, coordinator_a, volunteer_a):
    site = make_site(tenant_a)
    services.update_membership(membership_of(volunteer_a, tenant_a), role=Role.TRAINER, site_id=site.id)
    db.session.commit()
    stored = membership_of(volunteer_a, tenant_a)
    assert (stored.role, stored.site_id, stored.site.name) == (Role.TRAINER, site.id, site.name)
    services.update_membership(stored, role=Role.TRAINER, site_id=None)
    db.session.commit()
    assert membership_of(volunteer_a, tenant_a).site_id is None


def test_update_membership_refuses_a_site_of_another_structure(app, tenant_a, tenant_b, volunteer_a):
    site_b = make_site(tenant_b)
    with pytest.raises(NotFound):
        services.update_membership(membership_of(volunteer_a, tenant_a), role=Role.VOLUNTEER, site_id=site_b.id)
    db.session.rollback()
    assert membership_of(volunteer_a, tenant_a).site_id is None


def test_update_membership_refuses_an_unknown_site(app, tenant_a, volunteer_a):
    with pytest.raises(NotFound):
        services.update_membership(membership_of(volunteer_a, tenant_a), role=Role.VOLUNTEER, site_id=987654)


# --- counts and lists ------------------------------------------------------------------


def test_tenant_counts_counts_only_active_rows_of_the_structure(app, tenant_a, tenant_b):
    make_member(tenant_a, Role.COORDINATOR)
    make_member(tenant_a, Role.TRAINER)
    make_member(tenant_a, Role.VOLUNTEER)
    make_member(tenant_a, Role.VOLUNTEER)
    make_membership(tenant_a, make_user(), Role.VOLUNTEER, is_active=False)
    make_site(tenant_a)
    make_site(tenant_a, is_active=False)
    for _ in range(3):
        make_member(tenant_b, Role.VOLUNTEER)
        make_site(tenant_b)

    assert services.tenant_counts(tenant_a) == {"members": 4, "volunteers": 2, "sites": 1}
    assert services.tenant_counts(tenant_b) == {"members": 3, "volunteers": 3, "sites": 3}
    assert services.tenant_counts(make_tenant()) == {"members": 0, "volunteers": 0, "sites": 0}


def test_members_of_lists_the_structures_members_active_first_then_by_name(app, tenant_a, tenant_b):
    make_member(tenant_a, Role.VOLUNTEER, full_name="zoé Zola")
    make_member(tenant_a, Role.COORDINATOR, full_name="Albert Alpha")
    make_membership(tenant_a, make_user(full_name="Aaron Ancien"), Role.VOLUNTEER, is_active=False)
    make_member(tenant_a, Role.TRAINER, full_name="bernard Bravo")
    make_member(tenant_b, Role.VOLUNTEER, full_name="Autre Structure")

    names = [m.user.full_name for m in services.members_of(tenant_a)]
    assert names == ["Albert Alpha", "bernard Bravo", "zoé Zola", "Aaron Ancien"]


def _members_with_sites(tenant, count: int) -> None:
    sites = [make_site(tenant) for _ in range(3)]
    for i in range(count):
        user = make_user()
        make_membership(tenant, user, Role.VOLUNTEER if i % 2 else Role.TRAINER,
                        site_id=sites[i % 3].id if i % 4 else None)


def _load_members(tenant, count_queries) -> tuple[int, int]:
    db.session.expire_all()
    with count_queries() as queries:
        members = services.members_of(tenant)
        shown = [(m.user.full_name, m.user.email, m.role.label, m.site.name if m.site else "—") for m in members]
    assert len(shown) == len(members)
    return len(queries), len(members)


def test_members_of_runs_a_fixed_number_of_queries(app, count_queries):
    small, large = make_tenant(), make_tenant()
    _members_with_sites(small, 3)
    _members_with_sites(large, 30)

    small_queries, small_members = _load_members(small, count_queries)
    large_queries, large_members = _load_members(large, count_queries)

    assert (small_members, large_members) == (3, 30)
    assert small_queries == large_queries
    assert large_queries <= 2


def test_tenants_of_lists_active_memberships_in_active_structures(app):
    person = make_user()
    first = make_tenant(name="Alpha")
    second = make_tenant(name="Bravo")
    closed = make_tenant(name="Charlie", is_active=False)
    left = make_tenant(name="Delta")
    make_membership(second, person, Role.COORDINATOR)
    make_membership(first, person, Role.VOLUNTEER)
    make_membership(closed, person, Role.VOLUNTEER)
    make_membership(left, person, Role.VOLUNTEER, is_active=False)

    assert [(t.name, m.role) for t, m in services.tenants_of(person)] == [
        ("Alpha", Role.VOLUNTEER), ("Bravo", Role.COORDINATOR)]


def test_set_tenant_active_keeps_the_data(app, tenant_a, coordinator_a):
    make_site(tenant_a)
    services.set_tenant_active(tenant_a, False)
    db.session.commit()
    db.session.rollback()
    stored = db.session.scalars(select(Tenant).where(Tenant.id == tenant_a.id)).one()
    assert stored.is_active is False
    assert services.tenant_counts(stored)["members"] == 1
    assert len(services.sites_of(stored)) == 1
    assert db.session.scalar(select(func.count(Invitation.id))) == 0
