"""The series check reads each resource once for the whole series
(``services.problems_for_each``): it must find exactly what checking each
date on its own finds, and its number of queries must not grow with the
number of dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from tests.factories import make_member, make_membership, make_site
from tests.scheduling.factories import make_event, make_kit, make_room
from volunteer_platform.auth.models import Role
from volunteer_platform.calendars.external import ExternalBusy, ExternalCalendar
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.scheduling import recurrence, services
from volunteer_platform.scheduling.models import EventKind

MONDAY_NEXT_MONTH = (utcnow() + timedelta(days=35)).date()
FIRST = MONDAY_NEXT_MONTH - timedelta(days=MONDAY_NEXT_MONTH.weekday())


def _paris(day: date, hour: int) -> datetime:
    return recurrence.local_to_utc(datetime.combine(day, time(hour)), "Europe/Paris")


def _busy(tenant, *, room=None, trainer=None, day: date, hour: int) -> None:
    calendar = ExternalCalendar(tenant_id=tenant.id, name="Agenda externe", url="https://example.org/a.ics",
                                room_id=room.id if room else None, trainer_id=trainer.id if trainer else None)
    db.session.add(calendar)
    db.session.flush()
    db.session.add(ExternalBusy(tenant_id=tenant.id, external_calendar_id=calendar.id,
                                starts_at=_paris(day, hour), ends_at=_paris(day, hour + 1)))
    db.session.commit()


def _world(tenant_a, tenant_b):
    """A room, a kit and a trainer, each busy on some Mondays in some way."""
    site = make_site(tenant_a, name="Médiathèque")
    room = make_room(tenant_a, site, name="Salle informatique")
    kit = make_kit(tenant_a, "Valise de tablettes")
    trainer = make_member(tenant_a, Role.TRAINER, full_name="Farid Formateur")
    make_membership(tenant_b, trainer, Role.TRAINER)

    def week(n: int) -> date:
        return FIRST + timedelta(weeks=n)

    make_event(tenant_a, "workshop", _paris(week(1), 14), room=room, title="Atelier déjà là")
    make_event(tenant_a, "workshop", _paris(week(2), 15), kits=[kit], title="Tablettes prises")
    services.create_closure(tenant_a, site_id=site.id, starts_on=week(3), ends_on=week(3), reason="Inventaire")
    services.create_closure(tenant_a, room_id=room.id, starts_on=week(5) - timedelta(days=1), ends_on=week(5),
                            reason="Travaux")
    db.session.commit()
    _busy(tenant_a, room=room, day=week(4), hour=14)
    _busy(tenant_a, trainer=trainer, day=week(6), hour=15)
    make_event(tenant_b, "workshop", _paris(week(7), 13), ends_at=_paris(week(7), 15), trainer=trainer,
               title="Ailleurs")
    return room, kit, trainer


def _template(tenant, room, kit, trainer):
    starts = _paris(FIRST, 14)
    return services.EventFields(kind=EventKind.WORKSHOP, title="Série", starts_at=starts,
                                ends_at=starts + timedelta(hours=2), room_id=room.id, kit_ids=[kit.id],
                                trainer_id=trainer.id, capacity=8)


def test_the_series_check_finds_what_each_date_checked_alone_finds(tenant_a, tenant_b):
    room, kit, trainer = _world(tenant_a, tenant_b)
    template = _template(tenant_a, room, kit, trainer)
    rule = recurrence.Rule(recurrence.Frequency.WEEKLY, 1, count=10)
    _rrule, checks = services.check_series(tenant_a, template, rule)
    assert len(checks) == 10
    alone = [services.problems_for(tenant_a, services._shifted(template, c.starts_at, c.ends_at)) for c in checks]
    assert [sorted(c.problems) for c in checks] == [sorted(p) for p in alone]
    found = {i for i, c in enumerate(checks) if c.problems}
    assert {1, 2, 3, 4, 5, 6, 7} <= found, [c.problems for c in checks]  # each kind of conflict is seen
    assert any("une autre structure" in p for p in checks[7].problems)
    assert 0 not in found and 8 not in found and 9 not in found


def test_the_series_check_runs_the_same_queries_for_4_or_40_dates(tenant_a, tenant_b, count_queries):
    room, kit, trainer = _world(tenant_a, tenant_b)
    template = _template(tenant_a, room, kit, trainer)
    counts = []
    for n in (4, 40):
        db.session.expire_all()
        with count_queries() as queries:
            _rrule, checks = services.check_series(tenant_a, template,
                                                   recurrence.Rule(recurrence.Frequency.WEEKLY, 1, count=n))
        assert len(checks) == n
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
