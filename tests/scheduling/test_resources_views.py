"""The coordinator's resource pages: rooms, opening hours, closures, kits and
enrolment rules — who reaches them, what the forms save or refuse, and that
what they save is what the agenda's conflict checks use."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.factories import make_site, page_text
from tests.scheduling.factories import make_kit, make_room
from volunteer_platform.db import utcnow
from volunteer_platform.errors import NotFound, ValidationFailed
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import enrolment, recurrence, services
from volunteer_platform.scheduling.models import (
    Closure,
    EventKind,
    Kit,
    OpeningHours,
    Room,
    SchedulingSettings,
)
from volunteer_platform.tenants.models import Tenant

A = "/structure-a/agenda"
B = "/structure-b/agenda"


def fresh(model, ident):
    db.session.rollback()
    return db.session.scalars(select(model).where(model.id == ident)).one()


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(model.id)))


def hours_of(room_id) -> list[tuple[int, time, time]]:
    db.session.rollback()
    return [(h.weekday, h.opens_at, h.closes_at) for h in db.session.scalars(
        select(OpeningHours).where(OpeningHours.room_id == room_id).order_by(OpeningHours.weekday,
                                                                              OpeningHours.opens_at))]


def closures_snapshot() -> list[tuple]:
    db.session.rollback()
    return [(c.id, c.site_id, c.room_id, c.starts_on, c.ends_on, c.reason)
            for c in db.session.scalars(select(Closure).order_by(Closure.id))]


def paris_today() -> date:
    return utcnow().astimezone(ZoneInfo("Europe/Paris")).date()


def room_form(site, **overrides) -> dict:
    data = {"site_id": str(site.id), "name": "Salle informatique", "capacity": "10",
            "equipment": ["computers", "projector"], "is_active": "y"}
    data.update(overrides)
    return data


EMPTY_HOURS = {f"d{d}_{w}{s}": "" for d in range(7) for s in (1, 2) for w in ("opens", "closes")}


def hours_form(**values: str) -> dict:
    return {**EMPTY_HOURS, **values}


# --- access ------------------------------------------------------------------------------------


GET_PAGES = ["/rooms", "/rooms/new", "/closures", "/kits", "/rules"]


def test_the_pages_ask_anonymous_visitors_to_sign_in(client, tenant_a):
    for path in GET_PAGES:
        response = client.get(A + path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"], path


def test_a_volunteer_is_refused_every_page_and_change(client, login_as, tenant_a, volunteer_a):
    site = make_site(tenant_a)
    room = make_room(tenant_a, site, name="Salle des fêtes")
    kit = make_kit(tenant_a, "Clé 4G")
    closure = services.create_closure(tenant_a, site_id=site.id, starts_on=date(2030, 1, 1),
                                      ends_on=date(2030, 1, 2), reason="Travaux")
    db.session.commit()
    login_as(volunteer_a)
    for path in GET_PAGES + [f"/rooms/{room.id}", f"/rooms/{room.id}/hours", f"/kits/{kit.id}"]:
        assert client.get(A + path).status_code == 403, path
    assert client.post(A + "/rooms/new", data=room_form(site, name="Autre salle")).status_code == 403
    assert client.post(A + f"/rooms/{room.id}", data=room_form(site, capacity="99")).status_code == 403
    assert client.post(A + f"/rooms/{room.id}/hours",
                       data=hours_form(d0_opens1="09:00", d0_closes1="12:00")).status_code == 403
    assert client.post(A + f"/closures/{closure.id}/delete").status_code == 403
    assert client.post(A + "/kits", data={"name": "Tablettes"}).status_code == 403
    assert client.post(A + "/rules", data={"signup_horizon_days": "5",
                                           "cancellation_deadline_hours": "1"}).status_code == 403
    assert count(Room) == 1 and fresh(Room, room.id).capacity == 12
    assert hours_of(room.id) == []
    assert count(Closure) == 1 and count(Kit) == 1
    assert db.session.get(SchedulingSettings, tenant_a.id) is None


def test_a_supervisor_reaches_the_pages(client, login_as, tenant_a, supervisor):
    login_as(supervisor)
    for path in GET_PAGES:
        assert client.get(A + path).status_code == 200, path


# --- rooms -------------------------------------------------------------------------------------


def test_a_coordinator_adds_a_room_then_edits_it(client, login_as, tenant_a, coordinator_a):
    mairie = make_site(tenant_a, name="Mairie annexe")
    mediatheque = make_site(tenant_a, name="Médiathèque")
    login_as(coordinator_a)
    page = page_text(client.get(A + "/rooms"))
    assert "Mairie annexe" in page and "Aucune salle dans ce lieu." in page

    form = page_text(client.get(A + "/rooms/new"))
    assert "Vidéoprojecteur" in form and "Accès en fauteuil roulant" in form

    response = client.post(A + "/rooms/new", data=room_form(mairie))
    room = db.session.scalars(select(Room)).one()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/agenda/rooms/{room.id}/hours")
    assert (room.tenant_id, room.site_id, room.name, room.capacity, room.is_active) == (
        tenant_a.id, mairie.id, "Salle informatique", 10, True)
    assert room.equipment == ["computers", "projector"]

    page = page_text(client.get(A + "/rooms"))
    assert "Salle informatique" in page
    assert "Ordinateurs, Vidéoprojecteur" in page
    assert "Utilisée" in page
    assert "Toujours ouverte" in page

    response = client.post(A + f"/rooms/{room.id}", data={
        "site_id": str(mediatheque.id), "name": "Espace numérique", "capacity": "6",
        "equipment": ["wheelchair_access"],  # is_active left unticked
    })
    assert response.status_code == 302
    room = fresh(Room, room.id)
    assert (room.site_id, room.name, room.capacity, room.is_active, room.equipment) == (
        mediatheque.id, "Espace numérique", 6, False, ["wheelchair_access"])
    page = page_text(client.get(A + "/rooms"))
    assert "Accès en fauteuil roulant" in page
    assert "Plus utilisée" in page


def test_a_room_needs_at_least_one_place(client, login_as, tenant_a, coordinator_a):
    site = make_site(tenant_a)
    login_as(coordinator_a)
    response = client.post(A + "/rooms/new", data=room_form(site, capacity="0"))
    assert response.status_code == 422
    assert "La salle doit avoir au moins 1 place." in page_text(response)
    assert count(Room) == 0

    room = make_room(tenant_a, site, capacity=8, name="Bureau 2")
    response = client.post(A + f"/rooms/{room.id}", data=room_form(site, name="Bureau 2", capacity="0"))
    assert response.status_code == 422
    assert "La salle doit avoir au moins 1 place." in page_text(response)
    assert fresh(Room, room.id).capacity == 8


def test_two_rooms_of_a_site_cannot_share_a_name_whatever_the_case(client, login_as, tenant_a, coordinator_a):
    site = make_site(tenant_a, name="Mairie annexe")
    other_site = make_site(tenant_a, name="Médiathèque")
    make_room(tenant_a, site, name="Salle informatique")
    bureau = make_room(tenant_a, site, name="Bureau")
    login_as(coordinator_a)

    response = client.post(A + "/rooms/new", data=room_form(site, name="SALLE INFORMATIQUE"))
    assert response.status_code == 422
    assert "Ce lieu a déjà une salle nommée « SALLE INFORMATIQUE »." in page_text(response)
    assert count(Room) == 2

    response = client.post(A + f"/rooms/{bureau.id}", data=room_form(site, name="salle informatique"))
    assert response.status_code == 422
    assert fresh(Room, bureau.id).name == "Bureau"

    # Another site may have its own "Salle informatique"; a room keeps its own name.
    assert client.post(A + "/rooms/new", data=room_form(other_site)).status_code == 302
    assert client.post(A + f"/rooms/{bureau.id}", data=room_form(site, name="bureau")).status_code == 302
    assert count(Room) == 3 and fresh(Room, bureau.id).name == "bureau"


# --- opening hours -----------------------------------------------------------------------------


def test_a_coordinator_sets_and_clears_a_rooms_opening_hours(client, login_as, tenant_a, coordinator_a):
    room = make_room(tenant_a, name="Salle informatique")
    login_as(coordinator_a)
    page = page_text(client.get(A + f"/rooms/{room.id}/hours"))
    assert "Une salle sans aucun horaire est considérée comme toujours ouverte." in page
    assert "Lundi, 1re plage : ouverture" in page

    response = client.post(A + f"/rooms/{room.id}/hours", data=hours_form(
        d0_opens1="14:00", d0_closes1="17:00", d0_opens2="09:00", d0_closes2="12:00",
        d2_opens1="10:00", d2_closes1="16:30",
    ))
    assert response.status_code == 302
    assert hours_of(room.id) == [
        (0, time(9), time(12)), (0, time(14), time(17)), (2, time(10), time(16, 30)),
    ]
    page = page_text(client.get(A + "/rooms"))
    assert "Lundi : 09:00–12:00, 14:00–17:00" in page
    assert "Mercredi : 10:00–16:30" in page
    form = client.get(A + f"/rooms/{room.id}/hours").get_data(as_text=True)
    assert 'name="d0_opens1" step="300" type="time" value="09:00"' in form

    assert client.post(A + f"/rooms/{room.id}/hours", data=hours_form()).status_code == 302
    assert hours_of(room.id) == []
    assert "Aucun horaire : la salle est toujours ouverte." in page_text(client.get(A + f"/rooms/{room.id}/hours"))


@pytest.mark.parametrize("values, message", [
    ({"d1_opens1": "12:00", "d1_closes1": "09:00"},
     "L'heure de fermeture doit être après l'heure d'ouverture."),
    ({"d1_opens1": "09:00", "d1_closes1": "09:00"},
     "L'heure de fermeture doit être après l'heure d'ouverture."),
    ({"d1_opens1": "09:00", "d1_closes1": "13:00", "d1_opens2": "12:00", "d1_closes2": "17:00"},
     "Les deux plages horaires du même jour se chevauchent."),
    ({"d1_opens1": "14:00", "d1_closes1": "18:00", "d1_opens2": "08:00", "d1_closes2": "15:00"},
     "Les deux plages horaires du même jour se chevauchent."),
    ({"d1_opens1": "09:00"}, "Indiquez aussi l'heure de fermeture."),
    ({"d1_opens1": "neuf heures", "d1_closes1": "12:00"}, "Saisissez une heure valide, par exemple 09:30."),
])
def test_wrong_opening_hours_are_refused_and_nothing_changes(client, login_as, tenant_a, coordinator_a, values,
                                                            message):
    saved = [(0, time(9), time(12))]
    room = make_room(tenant_a, hours=saved)
    login_as(coordinator_a)
    response = client.post(A + f"/rooms/{room.id}/hours", data=hours_form(**values))
    assert response.status_code == 422
    text = page_text(response)
    assert "Le formulaire contient des erreurs" in text
    assert message in text
    assert hours_of(room.id) == saved


def test_the_service_refuses_wrong_opening_hours_too(app, tenant_a):
    room = make_room(tenant_a, hours=[(4, time(9), time(12))])
    with pytest.raises(ValidationFailed, match="vendredi, les plages horaires se chevauchent"):
        services.set_opening_hours(room, [(4, time(9), time(12)), (4, time(11), time(14))])
    with pytest.raises(ValidationFailed, match="samedi, l'heure de fermeture"):
        services.set_opening_hours(room, [(5, time(15), time(14))])
    assert hours_of(room.id) == [(4, time(9), time(12))]


# --- closures ----------------------------------------------------------------------------------


def test_a_coordinator_closes_a_site_or_a_room_and_reopens_it(client, login_as, tenant_a, coordinator_a):
    site = make_site(tenant_a, name="Mairie annexe")
    room = make_room(tenant_a, site, name="Salle informatique")
    today = paris_today()
    old = services.create_closure(tenant_a, site_id=site.id, starts_on=today - timedelta(days=40),
                                  ends_on=today - timedelta(days=30), reason="Inventaire")
    db.session.commit()
    login_as(coordinator_a)
    page = page_text(client.get(A + "/closures"))
    assert "Aucune fermeture prévue." in page
    assert "Inventaire" in page.split("Fermetures passées</h2>")[1]

    response = client.post(A + "/closures", data={
        "place": f"site:{site.id}", "starts_on": (today + timedelta(days=10)).isoformat(),
        "ends_on": (today + timedelta(days=20)).isoformat(), "reason": "Vacances de Noël",
    })
    assert response.status_code == 302
    # The French way of writing dates is understood too.
    response = client.post(A + "/closures", data={
        "place": f"room:{room.id}", "starts_on": today.strftime("%d/%m/%Y"),
        "ends_on": today.strftime("%d/%m/%Y"), "reason": "Peinture",
    })
    assert response.status_code == 302
    rows = closures_snapshot()
    assert rows[1][1:] == (site.id, None, today + timedelta(days=10), today + timedelta(days=20), "Vacances de Noël")
    assert rows[2][1:] == (None, room.id, today, today, "Peinture")

    page = page_text(client.get(A + "/closures"))
    upcoming, past = page.split("Fermetures passées</h2>")
    assert "Tout le lieu « Mairie annexe »" in upcoming and "Vacances de Noël" in upcoming
    assert "Salle « Salle informatique » (Mairie annexe)" in upcoming and "Peinture" in upcoming
    assert "Inventaire" not in upcoming and "Inventaire" in past

    response = client.post(A + f"/closures/{old.id}/delete")
    assert response.status_code == 302
    assert [row[0] for row in closures_snapshot()] == [rows[1][0], rows[2][0]]
    assert "Aucune fermeture passée." in page_text(client.get(A + "/closures"))


def test_a_closure_cannot_end_before_it_starts(client, login_as, tenant_a, coordinator_a):
    site = make_site(tenant_a)
    login_as(coordinator_a)
    response = client.post(A + "/closures", data={
        "place": f"site:{site.id}", "starts_on": "2030-05-10", "ends_on": "2030-05-09", "reason": "Travaux",
    })
    assert response.status_code == 422
    assert "Le dernier jour doit être le même jour que le premier, ou après." in page_text(response)
    assert closures_snapshot() == []

    response = client.post(A + "/closures", data={"place": "", "starts_on": "2030-05-10", "ends_on": "",
                                                   "reason": ""})
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in page_text(response)
    assert closures_snapshot() == []


# --- kits --------------------------------------------------------------------------------------


def test_a_coordinator_adds_and_edits_a_kit(client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    assert "Aucun matériel pour l'instant." in page_text(client.get(A + "/kits"))
    response = client.post(A + "/kits", data={"name": "Valise de 8 tablettes", "description": "Armoire du bureau 2",
                                              "is_active": "y"})
    assert response.status_code == 302
    kit = db.session.scalars(select(Kit)).one()
    assert (kit.tenant_id, kit.name, kit.description, kit.is_active) == (
        tenant_a.id, "Valise de 8 tablettes", "Armoire du bureau 2", True)
    page = page_text(client.get(A + "/kits"))
    assert "Valise de 8 tablettes" in page and "Disponible" in page

    response = client.post(A + f"/kits/{kit.id}", data={"name": "Valise de 10 tablettes", "description": ""})
    assert response.status_code == 302
    kit = fresh(Kit, kit.id)
    assert (kit.name, kit.description, kit.is_active) == ("Valise de 10 tablettes", None, False)
    assert "Plus disponible" in page_text(client.get(A + "/kits"))


def test_two_kits_cannot_share_a_name_whatever_the_case(client, login_as, tenant_a, tenant_b, coordinator_a):
    make_kit(tenant_a, "Clé 4G")
    hotspot = make_kit(tenant_a, "Borne wifi")
    make_kit(tenant_b, "Valise de tablettes")
    login_as(coordinator_a)
    response = client.post(A + "/kits", data={"name": "clé 4g", "is_active": "y"})
    assert response.status_code == 422
    assert "La structure a déjà du matériel nommé « clé 4g »." in page_text(response)
    response = client.post(A + f"/kits/{hotspot.id}", data={"name": "CLÉ 4G", "is_active": "y"})
    assert response.status_code == 422
    assert fresh(Kit, hotspot.id).name == "Borne wifi"
    assert count(Kit) == 3
    # Another structure's names do not count.
    assert client.post(A + "/kits", data={"name": "Valise de tablettes", "is_active": "y"}).status_code == 302


# --- enrolment rules ---------------------------------------------------------------------------


def test_a_coordinator_sets_the_enrolment_rules(client, login_as, tenant_a, coordinator_a):
    login_as(coordinator_a)
    page = client.get(A + "/rules").get_data(as_text=True)
    assert 'value="60"' in page and 'value="24"' in page

    response = client.post(A + "/rules", data={"signup_horizon_days": "30", "cancellation_deadline_hours": "48"})
    assert response.status_code == 302
    db.session.rollback()
    settings = enrolment.settings_for(db.session.get(Tenant, tenant_a.id))
    assert (settings.signup_horizon_days, settings.cancellation_deadline_hours) == (30, 48)

    response = client.post(A + "/rules", data={"signup_horizon_days": "0", "cancellation_deadline_hours": "48"})
    assert response.status_code == 422
    assert "Entre 1 et 366 jours." in page_text(response)
    response = client.post(A + "/rules", data={"signup_horizon_days": "30", "cancellation_deadline_hours": "deux"})
    assert response.status_code == 422
    db.session.rollback()
    settings = enrolment.settings_for(db.session.get(Tenant, tenant_a.id))
    assert (settings.signup_horizon_days, settings.cancellation_deadline_hours) == (30, 48)


# --- two structures ----------------------------------------------------------------------------


def test_another_structures_coordinator_cannot_reach_our_rooms_kits_or_closures(
    client, login_as, tenant_a, tenant_b, coordinator_b,
):
    site_a = make_site(tenant_a, name="Lieu Alpha")
    room_a = make_room(tenant_a, site_a, name="Salle Alpha", hours=[(0, time(9), time(12))])
    kit_a = make_kit(tenant_a, "Valise Alpha")
    closure_a = services.create_closure(tenant_a, room_id=room_a.id, starts_on=date(2030, 1, 1),
                                        ends_on=date(2030, 1, 5), reason="Travaux Alpha")
    db.session.commit()
    site_b = make_site(tenant_b, name="Lieu Bravo")
    login_as(coordinator_b)

    for path in [f"/rooms/{room_a.id}", f"/rooms/{room_a.id}/hours", f"/kits/{kit_a.id}"]:
        assert client.get(B + path).status_code == 404, path
    assert client.post(B + f"/rooms/{room_a.id}", data=room_form(site_b, name="Piratée")).status_code == 404
    assert client.post(B + f"/rooms/{room_a.id}/hours", data=hours_form()).status_code == 404
    assert client.post(B + f"/kits/{kit_a.id}", data={"name": "Piratée"}).status_code == 404
    assert client.post(B + f"/closures/{closure_a.id}/delete").status_code == 404
    # Nor use our site or room in their forms: the choice is refused.
    response = client.post(B + "/rooms/new", data=room_form(site_a, name="Salle pirate"))
    assert response.status_code == 422
    assert "N'est pas un choix valide." in page_text(response)
    response = client.post(B + "/closures", data={"place": f"room:{room_a.id}", "starts_on": "2030-02-01",
                                                   "ends_on": "2030-02-02", "reason": "Pirate"})
    assert response.status_code == 422
    # Their pages show nothing of ours.
    for path in ["/rooms", "/closures", "/kits", "/rooms/new"]:
        assert "Alpha" not in page_text(client.get(B + path)), path

    room_a = fresh(Room, room_a.id)
    assert (room_a.name, room_a.site_id, room_a.tenant_id) == ("Salle Alpha", site_a.id, tenant_a.id)
    assert hours_of(room_a.id) == [(0, time(9), time(12))]
    assert fresh(Kit, kit_a.id).name == "Valise Alpha"
    assert [row[0] for row in closures_snapshot()] == [closure_a.id]
    assert count(Room) == 1


def test_the_services_refuse_another_structures_site_or_room(app, tenant_a, tenant_b):
    site_a = make_site(tenant_a)
    room_a = make_room(tenant_a, site_a)
    with pytest.raises(NotFound):
        services.create_room(tenant_b, site_id=site_a.id, name="Pirate", capacity=3, equipment=[])
    with pytest.raises(NotFound):
        services.create_closure(tenant_b, room_id=room_a.id, starts_on=date(2030, 1, 1), ends_on=date(2030, 1, 1),
                                reason="Pirate")
    with pytest.raises(NotFound):
        services.create_closure(tenant_b, site_id=site_a.id, starts_on=date(2030, 1, 1), ends_on=date(2030, 1, 1),
                                reason="Pirate")
    with pytest.raises(ValidationFailed):
        services.create_closure(tenant_a, site_id=site_a.id, room_id=room_a.id, starts_on=date(2030, 1, 1),
                                ends_on=date(2030, 1, 1), reason="Les deux")


# --- what the agenda makes of it ---------------------------------------------------------------


def test_saved_hours_and_closures_are_what_the_agenda_checks(client, login_as, tenant_a, coordinator_a):
    site = make_site(tenant_a, name="Mairie annexe")
    room = make_room(tenant_a, site, name="Salle informatique")
    monday = date(2030, 1, 7)
    assert monday.weekday() == 0

    def problems(start: int, end: int, day: date = monday) -> list[str]:
        db.session.rollback()
        tenant = db.session.get(Tenant, tenant_a.id)
        return services.problems_for(tenant, services.EventFields(
            kind=EventKind.BOOKING, title="Atelier CV",
            starts_at=recurrence.local_to_utc(datetime.combine(day, time(start)), "Europe/Paris"),
            ends_at=recurrence.local_to_utc(datetime.combine(day, time(end)), "Europe/Paris"),
            room_id=room.id,
        ))

    assert problems(14, 15) == []  # no hours yet: always open
    login_as(coordinator_a)
    assert client.post(A + f"/rooms/{room.id}/hours", data=hours_form(
        d0_opens1="09:00", d0_closes1="12:00")).status_code == 302
    assert problems(10, 11) == []
    assert problems(14, 15) == ["La salle « Salle informatique » est fermée à ce moment-là (voir ses horaires)."]
    assert problems(10, 11, monday + timedelta(days=1)) != []  # Tuesday: no hours, closed

    assert client.post(A + "/closures", data={"place": f"site:{site.id}", "starts_on": "2030-01-07",
                                              "ends_on": "2030-01-07", "reason": "Jour férié"}).status_code == 302
    assert problems(10, 11) == ["Fermeture du 07/01/2030 au 07/01/2030 : Jour férié."]
    closure_id = closures_snapshot()[0][0]
    assert client.post(A + f"/closures/{closure_id}/delete").status_code == 302
    assert client.post(A + "/closures", data={"place": f"room:{room.id}", "starts_on": "06/01/2030",
                                              "ends_on": "08/01/2030", "reason": "Peinture"}).status_code == 302
    assert problems(10, 11) == ["Fermeture du 06/01/2030 au 08/01/2030 : Peinture."]
    assert problems(10, 11, monday + timedelta(days=7)) == []

    assert client.post(A + f"/rooms/{room.id}/hours", data=hours_form()).status_code == 302
    assert problems(14, 15, monday + timedelta(days=7)) == []  # no hours again: always open


# --- queries -----------------------------------------------------------------------------------


def test_the_rooms_page_costs_the_same_whatever_the_number_of_rooms(client, login_as, tenant_a, coordinator_a,
                                                                    count_queries):
    site = make_site(tenant_a)
    make_room(tenant_a, site, name="Salle 1", hours=[(0, time(9), time(12))])
    login_as(coordinator_a)
    with count_queries() as few:
        assert client.get(A + "/rooms").status_code == 200
    for n in range(2, 6):
        make_room(tenant_a, make_site(tenant_a), name=f"Salle {n}", hours=[(n, time(9), time(12))])
    with count_queries() as many:
        assert client.get(A + "/rooms").status_code == 200
    assert len(many) == len(few)
