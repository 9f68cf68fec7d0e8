"""Every main page and feed runs the same number of SQL queries on small data
and on ten times more (issue 9): a page whose count grows with the data has
an N+1 (a lazy load per row) that a national network would pay on every view.

One structure is built with one "unit" of activity, each page is requested
(once to warm up — a feed records its state on first sight — then counted),
nine more units are added and every page is counted again. A unit is: a
volunteer with training progress and a path assigned, a room, a shift and a
workshop to come (the shift in the shared room, the workshop led by the
shared trainer, volunteer A enrolled in both), a weekly series, and past
sessions and shifts with attendance, a survey answer, an activity report and
self-assessments.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.calendars.factories import issue_token, make_series
from tests.factories import make_member, make_membership, make_tenant, make_user
from tests.scheduling.factories import enrol_in, local_time, make_event, make_room
from tests.training.factories import assign_to, complete_module, make_module, make_path
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.impact import services as impact_services
from volunteer_platform.impact.models import AssessmentStage, HelpTheme
from volunteer_platform.scheduling.models import Attendance, Enrolment, EnrolmentStatus
from volunteer_platform.training.models import CompetenceArea

A = "/structure-a"


class World:
    def __init__(self, tenant, coordinator, volunteer, supervisor):
        self.tenant, self.coordinator, self.volunteer, self.supervisor = tenant, coordinator, volunteer, supervisor
        self.trainer = make_member(tenant, "trainer", email="trainer-a@example.org", full_name="Tania Trainer")
        self.main_room = make_room(tenant, name="Grande salle")
        self.modules = [make_module(None, title=f"Module {i}", lessons=2, questions=1) for i in (1, 2)]
        self.path = make_path(None, self.modules, title="Parcours aidant")
        self.units = 0
        # Another structure: the national dashboard compares structures.
        other = make_tenant(slug="structure-c", name="Structure C", region="Bretagne")
        make_membership(other, make_user(email="coord-c@example.org"), "coordinator")

    def grow(self, units: int) -> None:
        for _ in range(units):
            self._unit(self.units)
            self.units += 1

    def _unit(self, i: int) -> None:
        tenant = self.tenant
        person = make_member(tenant, "volunteer", email=f"unit{i}@example.org", full_name=f"Personne {i}")
        assign_to(tenant, person, path=self.path)
        complete_module(person, self.modules[0], tenant)
        room = make_room(tenant, name=f"Salle {i}")
        # To come: distinct days and hours, so the trainer and volunteer A are never booked twice.
        day, hour = 1 + i % 5, 8 + 5 * (i // 5)
        shift_at = local_time(tenant, day, hour)
        shift = make_event(tenant, "shift", shift_at, ends_at=shift_at + timedelta(hours=2), capacity=3,
                           room=self.main_room, title=f"Permanence {i}")
        workshop_at = local_time(tenant, day, hour + 2)
        workshop = make_event(tenant, "workshop", workshop_at, ends_at=workshop_at + timedelta(hours=2),
                              capacity=8, room=room, trainer=self.trainer, title=f"Atelier {i}")
        for event in (shift, workshop):
            enrol_in(event, self.volunteer)
        enrol_in(shift, person)
        first_day = (utcnow().astimezone(ZoneInfo(tenant.timezone)) + timedelta(days=8 + i)).date()
        make_series(tenant, first_day, count=4, hour=19, room=room, title=f"Club {i}")
        # History: a session and a shift last month, with attendance, a survey and a report.
        past = datetime.combine((utcnow() - timedelta(days=20 + i)).date(), time(9), tzinfo=ZoneInfo("UTC"))
        session = make_event(tenant, "training_session", past, ends_at=past + timedelta(hours=2), capacity=5,
                             trainer=self.trainer, module=self.modules[0], room=room, title=f"Session {i}")
        past_shift = make_event(tenant, "shift", past + timedelta(hours=3), ends_at=past + timedelta(hours=5),
                                capacity=3, room=room, title=f"Permanence passée {i}")
        for event in (session, past_shift):
            db.session.add(Enrolment(tenant_id=tenant.id, event_id=event.id, user_id=person.id,
                                     status=EnrolmentStatus.CONFIRMED, attendance=Attendance.PRESENT,
                                     created_at=event.starts_at - timedelta(days=3)))
        db.session.commit()
        impact_services.answer_survey(session, person, satisfaction=4, more_able_to_help=True,
                                      at_ease_with_computer=True, comment="", now=session.ends_at + timedelta(hours=1))
        impact_services.save_report(past_shift, person, minutes=120, people_by_theme={HelpTheme.EMAIL: 2},
                                    now=past_shift.ends_at + timedelta(hours=1))
        impact_services.record_assessment(tenant, person, self.path, AssessmentStage.START,
                                          {CompetenceArea.COMMUNICATION: 2}, now=past)
        db.session.commit()


@pytest.fixture
def world(tenant_a, coordinator_a, volunteer_a, supervisor):
    return World(tenant_a, coordinator_a, volunteer_a, supervisor)


def pages(world: World, tokens: dict[str, str]) -> dict[str, tuple[object, str]]:
    """name → (who is signed in, address)."""
    w = world
    today = utcnow().astimezone(ZoneInfo(w.tenant.timezone)).date()
    trainer_membership = next(m for m in w.trainer.memberships if m.tenant_id == w.tenant.id)
    return {
        "volunteer home": (w.volunteer, f"{A}/"),
        "open shifts": (w.volunteer, f"{A}/agenda/open"),
        "week agenda": (w.volunteer, f"{A}/agenda/week?date={today + timedelta(days=3):%Y-%m-%d}"),
        "my agenda": (w.volunteer, "/me/agenda"),
        "my training": (w.volunteer, f"{A}/training/"),
        "members list": (w.coordinator, f"{A}/members"),
        "progress matrix": (w.coordinator, f"{A}/training/progress"),
        "structure dashboard": (w.coordinator, f"{A}/impact/"),
        "national dashboard": (w.supervisor, "/supervision/impact/"),
        "public agenda feed": (None, f"/calendars{A}/agenda.ics"),
        "personal feed": (None, f"/feeds/{tokens['volunteer']}/me.ics"),
        "room feed": (None, f"/feeds/{tokens['coordinator']}{A}/rooms/{w.main_room.id}.ics"),
        "trainer feed": (None, f"/feeds/{tokens['coordinator']}{A}/trainers/{trainer_membership.id}.ics"),
    }


def measure(client, login_as, count_queries, world: World, tokens: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, (who, url) in pages(world, tokens).items():
        if who is None:
            with client.session_transaction() as session:
                session.clear()
        else:
            login_as(who)
        first = client.get(url)  # warm-up: a feed records when its bytes changed
        assert first.status_code == 200, (name, first.status_code)
        with count_queries() as queries:
            again = client.get(url)
        assert again.status_code == 200, (name, again.status_code)
        counts[name] = len(queries)
        if url.endswith(".ics"):
            with count_queries() as queries:
                not_modified = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
            assert not_modified.status_code == 304, name
            counts[f"{name} (304)"] = len(queries)
    return counts


def test_every_main_page_and_feed_runs_the_same_queries_on_ten_times_the_data(
        client, login_as, count_queries, world):
    tokens = {"volunteer": issue_token(world.volunteer), "coordinator": issue_token(world.coordinator)}
    world.grow(1)
    small = measure(client, login_as, count_queries, world, tokens)
    world.grow(9)
    large = measure(client, login_as, count_queries, world, tokens)
    grown = {name: (small[name], large[name]) for name in small if large[name] != small[name]}
    assert not grown, f"query counts that grow with the data (1 unit → 10 units): {grown}"


def test_the_pages_do_show_the_larger_data(client, login_as, world):
    """The counts above mean something only if the pages list what was added."""
    world.grow(10)
    login_as(world.volunteer)
    mine = client.get("/me/agenda").get_data(as_text=True)
    assert all(f"Permanence {i}" in mine for i in range(10))
    login_as(world.coordinator)
    matrix = client.get(f"{A}/training/progress").get_data(as_text=True)
    assert all(f"Personne {i}" in matrix for i in range(10))


def test_the_national_dashboard_counts_qualifications_of_people_with_large_ids(
        client, login_as, tenant_a, supervisor):
    """A national network has more than 2,147 accounts: the (person, qualification)
    pairs the dashboard counts must not overflow PostgreSQL's 32-bit integers."""
    from tests.training.factories import make_qualification
    from volunteer_platform.training import services as training_services
    from volunteer_platform.training.models import AwardSource

    person = make_user(id=250_000, email="far-away@example.org")
    make_membership(tenant_a, person, "volunteer")
    training_services.award(tenant_a, person, make_qualification(None), source=AwardSource.EXTERNAL,
                            now=utcnow(), awarded_at=utcnow() - timedelta(days=1))
    db.session.commit()
    login_as(supervisor)
    assert client.get("/supervision/impact/").status_code == 200
