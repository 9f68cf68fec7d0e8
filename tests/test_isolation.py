"""Tenant isolation: a coordinator of structure A can neither see nor touch structure B.

Both structures hold sites, members and invitations; B's records carry marker
texts. A's coordinator tries B's pages and B's real ids under A's prefix, with
every method, and must get a 404 with B's rows unchanged — and A's pages must
never show B's markers.
"""

from __future__ import annotations

import re

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from tests.factories import make_invitation, make_membership, make_site, make_user, page_text
from volunteer_platform.auth.models import Invitation
from volunteer_platform.extensions import db
from volunteer_platform.notifications.models import OutboxEmail
from volunteer_platform.tenants.models import Membership, Role, Site, Tenant


@dataclass
class World:
    a_site: Site
    a_member: Membership
    a_invitation: Invitation
    b_site: Site
    b_member: Membership
    b_coordinator: Membership
    b_invitation: Invitation


@pytest.fixture
def world(tenant_a, tenant_b, coordinator_a, coordinator_b) -> World:
    a_site = make_site(tenant_a, name="Lieu Alpha")
    a_member = make_membership(tenant_a, make_user(full_name="Anne Alpha"), Role.VOLUNTEER, site_id=a_site.id)
    a_invitation = make_invitation(tenant_a, "invitee-a@example.org")

    b_site = make_site(tenant_b, name="MARQUEUR-B-SITE", address="MARQUEUR-B-ADRESSE", city="Lens")
    b_member = make_membership(
        tenant_b, make_user(full_name="MARQUEUR-B-PERSONNE", email="marqueur-b-personne@example.org"),
        Role.VOLUNTEER, site_id=b_site.id,
    )
    b_coordinator = db.session.scalars(
        select(Membership).where(Membership.tenant_id == tenant_b.id, Membership.role == Role.COORDINATOR)
    ).one()
    b_invitation = make_invitation(tenant_b, "marqueur-b-invitation@example.org", Role.COORDINATOR)
    return World(a_site, a_member, a_invitation, b_site, b_member, b_coordinator, b_invitation)


def snapshot_b(tenant_b) -> dict:
    """Every column of B's rows, read fresh from the database."""
    db.session.rollback()

    def rows(model):
        return sorted(
            tuple(getattr(row, c.key) for c in model.__table__.columns)
            for row in db.session.scalars(select(model).where(model.tenant_id == tenant_b.id))
        )

    tenant = db.session.scalars(select(Tenant).where(Tenant.id == tenant_b.id)).one()
    return {
        "tenant": tuple(getattr(tenant, c.key) for c in Tenant.__table__.columns),
        "sites": rows(Site),
        "memberships": rows(Membership),
        "invitations": rows(Invitation),
    }


def outbox_count() -> int:
    db.session.rollback()
    return len(list(db.session.scalars(select(OutboxEmail.id))))


# --- B's pages under B's prefix ------------------------------------------------------------

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

# Every form field any page takes, so that a POST would change something if it got through.
ANY_FORM = {
    "name": "Piraté par A", "kind": "other", "timezone": "Europe/Paris", "region": "Ailleurs",
    "address": "1 rue", "postal_code": "62400", "city": "Arras", "access_notes": "", "is_active": "",
    "role": "coordinator", "site_id": "", "active": "0", "email": "complice@example.org",
}


# Under B's prefix the structure itself refuses A before any object is looked
# up, so ids of kinds the world does not build are given a plain number. Every
# converter name must be listed here: a route the test cannot classify fails it.
PLACEHOLDER_IDS = {
    "module_id", "lesson_id", "resource_id", "attestation_id", "attempt_id", "version_id",
    "question_id", "path_id", "award_id", "room_id", "kit_id", "closure_id", "event_id", "enrolment_id",
    "calendar_id",
}
CONVERTER = re.compile(r"<(?:int:|any\(([^)]*)\):)?([a-z_]+)>")


def tenant_paths(w: World, app=None) -> dict[str, set[str]]:
    """Every page of a structure (with B's real ids where the world has them),
    and the methods its route accepts — read from the application's URL map."""
    from flask import current_app

    known = {"site_id": w.b_site.id, "membership_id": w.b_member.id, "invitation_id": w.b_invitation.id}
    paths: dict[str, set[str]] = {}
    for rule in (app or current_app).url_map.iter_rules():
        if not rule.rule.startswith("/<tenant_slug>/"):
            continue

        def value(match: re.Match) -> str:
            choices, name = match.group(1), match.group(2)
            if choices:  # <any(csv, xlsx):fmt>: a fixed word, take the first
                return choices.split(",")[0].strip()
            if name in known:
                return str(known[name])
            assert name in PLACEHOLDER_IDS, f"unclassified URL part <{name}> in {rule.rule}"
            return "1"

        path = CONVERTER.sub(value, rule.rule.removeprefix("/<tenant_slug>"))
        paths.setdefault(path, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    return paths


def test_every_structure_page_is_classified(app, world):
    """The list is read from the URL map; it must cover the pages we know of."""
    paths = tenant_paths(world, app)
    assert {"/", "/members", "/invitations", "/training/", "/training/progress"} <= set(paths)
    assert f"/members/{world.b_member.id}/active" in paths
    assert len(paths) > 40


def test_a_coordinator_of_a_gets_404_on_every_page_of_b(client, login_as, tenant_b, coordinator_a, world):
    before, emails_before = snapshot_b(tenant_b), outbox_count()
    login_as(coordinator_a)
    for path, methods in tenant_paths(world).items():
        for method in ALL_METHODS:
            response = client.open(f"/structure-b{path}", method=method, data=ANY_FORM if method != "GET" else None)
            if method in methods:
                assert response.status_code == 404, (method, path)
                text = page_text(response)
                assert "MARQUEUR-B" not in text.upper(), (method, path)
                assert "Structure B" not in text, (method, path)
            else:
                # The route does not take this method for any structure: the same
                # answer as for a structure that does not exist, revealing nothing.
                unknown = client.open(f"/structure-inconnue{path}", method=method, data=ANY_FORM)
                assert response.status_code == unknown.status_code == 405, (method, path)
    assert snapshot_b(tenant_b) == before
    assert outbox_count() == emails_before


def test_b_pages_answer_like_a_structure_that_does_not_exist(client, login_as, tenant_b, coordinator_a, world):
    login_as(coordinator_a)
    real = client.get("/structure-b/members")
    missing = client.get("/structure-inexistante/members")
    assert real.status_code == missing.status_code == 404
    # Byte for byte, but for the address itself (echoed in the language switch).
    assert real.get_data(as_text=True).replace("structure-b", "X") == missing.get_data(as_text=True).replace(
        "structure-inexistante", "X")


# --- B's ids under A's prefix ------------------------------------------------------------------


def b_ids_under_a(w: World) -> list[tuple[str, str]]:
    return [
        ("GET", f"/structure-a/sites/{w.b_site.id}"),
        ("POST", f"/structure-a/sites/{w.b_site.id}"),
        ("GET", f"/structure-a/members/{w.b_member.id}"),
        ("POST", f"/structure-a/members/{w.b_member.id}"),
        ("GET", f"/structure-a/members/{w.b_coordinator.id}"),
        ("POST", f"/structure-a/members/{w.b_coordinator.id}"),
        ("POST", f"/structure-a/members/{w.b_member.id}/active"),
        ("POST", f"/structure-a/members/{w.b_coordinator.id}/active"),
        ("POST", f"/structure-a/invitations/{w.b_invitation.id}/revoke"),
        ("POST", f"/structure-a/invitations/{w.b_invitation.id}/resend"),
    ]


def test_b_ids_under_a_prefix_are_not_found_and_b_is_unchanged(client, login_as, tenant_b, coordinator_a, world):
    before, emails_before = snapshot_b(tenant_b), outbox_count()
    login_as(coordinator_a)
    for method, path in b_ids_under_a(world):
        response = client.open(path, method=method, data=ANY_FORM if method == "POST" else None)
        assert response.status_code == 404, (method, path)
        assert "MARQUEUR-B" not in page_text(response).upper(), (method, path)
    assert snapshot_b(tenant_b) == before
    assert outbox_count() == emails_before


@pytest.mark.parametrize("active", ["0", "1"])
def test_b_member_cannot_be_deactivated_or_reactivated_from_a(client, login_as, tenant_b, coordinator_a, world,
                                                              active):
    if active == "1":  # a deactivated member of B stays deactivated
        db.session.scalars(select(Membership).where(Membership.id == world.b_member.id)).one().is_active = False
        db.session.commit()
    before = snapshot_b(tenant_b)
    login_as(coordinator_a)
    response = client.post(f"/structure-a/members/{world.b_member.id}/active", data={"active": active})
    assert response.status_code == 404
    assert snapshot_b(tenant_b) == before


def test_b_invitation_cannot_be_revoked_or_resent_from_a(client, login_as, tenant_b, coordinator_a, world):
    def invitation_b():
        db.session.rollback()
        return db.session.scalars(select(Invitation).where(Invitation.id == world.b_invitation.id)).one()

    before = invitation_b()
    token_hash, expires_at, send_count = before.token_hash, before.expires_at, before.send_count
    emails_before = outbox_count()
    login_as(coordinator_a)
    assert client.post(f"/structure-a/invitations/{world.b_invitation.id}/resend").status_code == 404
    assert client.post(f"/structure-a/invitations/{world.b_invitation.id}/revoke").status_code == 404
    after = invitation_b()
    assert after.revoked_at is None
    assert (after.token_hash, after.expires_at, after.send_count) == (token_hash, expires_at, send_count)
    assert outbox_count() == emails_before


def test_a_own_ids_still_work_under_a_prefix(client, login_as, coordinator_a, world):
    """The 404s above come from the tenant check, not from broken routes."""
    login_as(coordinator_a)
    assert client.get(f"/structure-a/sites/{world.a_site.id}").status_code == 200
    assert client.get(f"/structure-a/members/{world.a_member.id}").status_code == 200
    assert client.post(f"/structure-a/invitations/{world.a_invitation.id}/revoke").status_code == 302
    db.session.rollback()
    assert db.session.scalars(
        select(Invitation.revoked_at).where(Invitation.id == world.a_invitation.id)).one() is not None


def test_a_member_cannot_be_given_b_site_through_the_form(client, login_as, tenant_a, coordinator_a, world):
    login_as(coordinator_a)
    response = client.post(f"/structure-a/members/{world.a_member.id}",
                           data={"role": "volunteer", "site_id": str(world.b_site.id)})
    assert response.status_code == 422
    db.session.rollback()
    stored = db.session.scalars(select(Membership).where(Membership.id == world.a_member.id)).one()
    assert stored.site_id == world.a_site.id


# --- A's lists show nothing of B -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/members", "/sites", "/invitations", "/structure",
                                  "/sites/new"])
def test_a_pages_show_nothing_of_b(client, login_as, coordinator_a, world, path):
    login_as(coordinator_a)
    response = client.get(f"/structure-a{path}")
    assert response.status_code == 200
    text = page_text(response)
    assert "MARQUEUR-B" not in text.upper()
    assert "Bérénice Bravo" not in text and "coord-b@example.org" not in text
    assert "Structure B" not in text


def test_a_lists_show_a_records(client, login_as, coordinator_a, world):
    """The marker checks above are meaningful: the same pages do list A's own records."""
    login_as(coordinator_a)
    assert "Anne Alpha" in page_text(client.get("/structure-a/members"))
    assert "Lieu Alpha" in page_text(client.get("/structure-a/members"))
    assert "Lieu Alpha" in page_text(client.get("/structure-a/sites"))
    assert "invitee-a@example.org" in page_text(client.get("/structure-a/invitations"))


def test_a_member_edit_form_offers_only_a_sites(client, login_as, coordinator_a, world):
    login_as(coordinator_a)
    text = page_text(client.get(f"/structure-a/members/{world.a_member.id}"))
    assert "Lieu Alpha" in text
    assert "MARQUEUR-B-SITE" not in text


def test_a_home_counts_only_a(client, login_as, coordinator_a, world):
    login_as(coordinator_a)
    text = " ".join(page_text(client.get("/structure-a/")).replace("</span>", " ").split())
    assert ">2 membres actifs" in text
    assert ">1 invitations en attente" in text


def test_b_coordinator_sees_b_but_nothing_of_a(app, login_as, coordinator_b, world):
    """The same guarantee the other way round."""
    other = app.test_client()
    login_as(coordinator_b, on=other)
    members = page_text(other.get("/structure-b/members"))
    assert "MARQUEUR-B-PERSONNE" in members
    assert "Anne Alpha" not in members and "Coralie Alpha" not in members
    assert other.get(f"/structure-b/sites/{world.a_site.id}").status_code == 404
    assert other.get(f"/structure-b/members/{world.a_member.id}").status_code == 404
    assert other.get("/structure-a/").status_code == 404
