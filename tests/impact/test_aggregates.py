"""The stored figures (``aggregates``): the same dashboard as ``metrics`` computes live,
kept up to date by ``flask impact-refresh`` from the changes noted at each commit.

The data is ``test_metrics``'s hand-computed network (structures A, B and C,
March–April 2026, a month boundary at the change to summer time).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from tests.factories import make_membership, make_tenant, make_user
from tests.impact import test_metrics
from tests.impact.test_metrics import PERIOD, enrol, paris, report
from tests.scheduling.factories import make_event
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.impact import aggregates, metrics
from volunteer_platform.impact.models import AssessmentStage, SelfAssessment
from volunteer_platform.scheduling import services as scheduling_services
from volunteer_platform.scheduling.models import Attendance, Enrolment
from volunteer_platform.tenants.models import Membership, Role, TenantKind
from volunteer_platform.training.models import CompetenceArea

ZONE = "Europe/Paris"
network = test_metrics.network  # the fixture: the hand-computed data set


@pytest.fixture(autouse=True)
def _empty_cache():
    aggregates._CACHE.clear()
    yield
    aggregates._CACHE.clear()


def refresh(now=None, *, full=False):
    result = aggregates.refresh(now=now or utcnow(), full=full)
    db.session.commit()
    return result


def assert_same(stored: metrics.Dashboard, live: metrics.Dashboard) -> None:
    """Every figure of the page, structure by structure, month by month."""
    assert [(s.tenant.id, s.figures, s.people_by_theme) for s in stored.structures] == \
        [(s.tenant.id, s.figures, s.people_by_theme) for s in live.structures]
    assert stored.total == live.total
    assert stored.people_by_theme == live.people_by_theme
    assert [(m.first_day, m.figures) for m in stored.months] == [(m.first_day, m.figures) for m in live.months]
    assert [(c.area, c.people) for c in stored.confidence] == [(c.area, c.people) for c in live.confidence]
    for s, v in zip(stored.confidence, live.confidence, strict=True):
        assert (s.average_start, s.average_end) == (pytest.approx(v.average_start), pytest.approx(v.average_end))


def both(period=PERIOD, **filters):
    """The stored dashboard and the live one at the same moment (the refresh's)."""
    stored = aggregates.dashboard(period, now=utcnow(), **filters)
    assert stored.notes.get("as_of"), "not read from the stored figures"
    return stored, metrics.dashboard(period, now=stored.generated_at, **filters)


PERIODS = [
    PERIOD,  # two whole months
    metrics.Period(date(2026, 3, 15), date(2026, 5, 10), ZONE),  # cut months at both ends
    metrics.Period(date(2026, 3, 29), date(2026, 4, 1), ZONE),  # across the change to summer time
    metrics.Period(date(2026, 4, 30), date(2026, 4, 30), ZONE),  # one day: v3 joined at 23:30 Paris
    metrics.Period(date(2025, 1, 1), date(2025, 1, 31), ZONE),  # nothing happened
    metrics.Period(date(2025, 11, 1), date(2026, 10, 31), ZONE),  # a year
]


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: f"{p.start}..{p.end}")
def test_stored_figures_are_the_live_figures(network, period):
    refresh()
    stored, live = both(period)
    assert_same(stored, live)


def test_the_hand_computed_values_come_out_of_the_stored_figures(network):
    refresh()
    board = aggregates.dashboard(PERIOD, now=utcnow())
    a = next(row.figures for row in board.structures if row.tenant.id == network["a"].id)
    assert (a.active_volunteers, a.new_volunteers, a.modules_completed) == (3, 2, 1)
    assert (a.sessions_held, a.attendance_present, a.attendance_recorded) == (2, 3, 4)
    assert (a.shifts_offered, a.places_offered, a.places_filled, a.volunteer_hours) == (2, 5, 4, 6.0)
    assert (a.qualifications_held, a.qualifications_expiring, a.people_helped) == (2, 1, 5)
    assert (board.total.active_volunteers, board.total.new_volunteers, board.total.volunteer_hours) == (3, 2, 7.5)
    march, april = board.months
    assert (march.figures.new_volunteers, april.figures.new_volunteers) == (1, 2)
    gains = {g.area: g.gain for g in board.confidence}
    assert gains == {CompetenceArea.INFORMATION: pytest.approx(2.0), CompetenceArea.COMMUNICATION: pytest.approx(1.0)}


@pytest.mark.parametrize("filters", [
    {"kind": TenantKind.CCAS}, {"region": "Occitanie"}, {"region": "Nowhere"}, {"one": "a"}, {"one": "c"},
])
def test_filters_read_the_same_figures(network, filters):
    refresh()
    if "one" in filters:
        filters = {"tenant_id": network[filters["one"]].id}
    stored, live = both(**filters)
    assert_same(stored, live)


def test_without_a_refresh_the_figures_are_computed_live(network):
    board = aggregates.dashboard(PERIOD, now=utcnow())
    assert not board.notes.get("as_of")
    assert board.total.volunteer_hours == pytest.approx(7.5)


def test_changes_wait_for_the_next_refresh_then_show(network):
    refresh()
    before = aggregates.dashboard(PERIOD, now=utcnow())
    a, b, v1, v2, v3 = (network[k] for k in ("a", "b", "v1", "v2", "v3"))

    # An attendance marked late (v3 on S2, 5 April), a report filed, a new shift and a
    # cancellation, a new volunteer, a role changed, a start-of-path answer corrected.
    s2 = db.session.scalars(select(Enrolment).where(Enrolment.user_id == v3.id, Enrolment.attendance.is_(None),
                                                    Enrolment.tenant_id == a.id)).first()
    s2.attendance = Attendance.PRESENT
    db.session.commit()
    shift = make_event(b, "shift", paris(2026, 3, 3, 9, 0), ends_at=paris(2026, 3, 3, 12, 0), capacity=4)
    newcomer = make_user()
    make_membership(b, newcomer, created_at=paris(2026, 3, 2, 9, 0))
    enrol(shift, newcomer, Attendance.PRESENT)
    report(shift, newcomer, 180, housing=7)
    db.session.execute(select(Membership))  # a plain read notes nothing
    membership = db.session.scalars(select(Membership).where(Membership.tenant_id == a.id,
                                                             Membership.user_id == v2.id)).one()
    membership.role = Role.COORDINATOR
    start = db.session.scalars(select(SelfAssessment).where(
        SelfAssessment.user_id == v1.id, SelfAssessment.stage == AssessmentStage.START,
        SelfAssessment.area == CompetenceArea.INFORMATION)).one()
    start.confidence = 2
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(aggregates.ImpactPending)) > 0

    unchanged = aggregates.dashboard(PERIOD, now=utcnow())
    assert unchanged.generated_at == before.generated_at
    assert_same(unchanged, before)

    result = refresh()
    assert not result.full
    assert db.session.scalar(select(func.count()).select_from(aggregates.ImpactPending)) == 0
    stored, live = both()
    assert_same(stored, live)
    after_a = next(row.figures for row in stored.structures if row.tenant.id == a.id)
    after_b = next(row.figures for row in stored.structures if row.tenant.id == b.id)
    assert after_a.active_volunteers == 2  # v2 is a coordinator now
    assert after_a.volunteer_hours == pytest.approx(9.0)  # + v3 on S2
    assert (after_b.volunteer_hours, after_b.people_helped, after_b.new_volunteers) == (4.5, 7, 2)
    assert {g.area: g.gain for g in stored.confidence}[CompetenceArea.INFORMATION] == pytest.approx(1.0)


def test_a_cancelled_event_and_a_deleted_place_are_refreshed(network):
    refresh()
    a = network["a"]
    s1 = db.session.scalars(select(Enrolment).where(Enrolment.user_id == network["v1"].id,
                                                    Enrolment.attendance == Attendance.PRESENT,
                                                    Enrolment.tenant_id == a.id)).first().event
    scheduling_services.cancel_event(s1, now=utcnow())
    db.session.commit()
    place = db.session.scalars(select(Enrolment).where(Enrolment.user_id == network["v1"].id,
                                                       Enrolment.tenant_id == network["b"].id)).one()
    db.session.commit()  # the place's attributes expire: the delete below must still find its day
    db.session.delete(place)
    db.session.commit()
    noted = db.session.execute(select(aggregates.ImpactPending.tenant_id, aggregates.ImpactPending.day)).all()
    assert (network["b"].id, date(2026, 4, 1)) in noted
    assert not refresh().full
    assert_same(*both())


def test_a_session_counts_as_held_once_over_without_any_change(network):
    # Refreshed on 15 April at 11:00 Paris time, T2 (10:00–12:00) is not over; at 12:30 it is.
    refresh(paris(2026, 4, 15, 11, 0))
    first = aggregates.dashboard(PERIOD, now=utcnow())
    a = network["a"]
    assert next(r.figures for r in first.structures if r.tenant.id == a.id).sessions_held == 1
    refresh(paris(2026, 4, 15, 12, 30))
    later = aggregates.dashboard(PERIOD, now=utcnow())
    assert next(r.figures for r in later.structures if r.tenant.id == a.id).sessions_held == 2
    assert later.generated_at == paris(2026, 4, 15, 12, 30)


def test_a_bulk_update_of_one_structure_recomputes_that_structure(network):
    refresh()
    db.session.execute(update(Enrolment).where(Enrolment.tenant_id == network["a"].id)
                       .values(attendance=Attendance.ABSENT))
    db.session.commit()
    noted = db.session.execute(select(aggregates.ImpactPending.tenant_id, aggregates.ImpactPending.day)).all()
    assert noted == [(network["a"].id, None)]
    assert not refresh().full
    stored, live = both()
    assert_same(stored, live)
    assert next(r.figures for r in stored.structures if r.tenant.id == network["a"].id).attendance_present == 0


def test_any_other_bulk_update_asks_for_a_full_refresh(network):
    refresh()
    db.session.execute(update(Enrolment).where(Enrolment.attendance == Attendance.PRESENT)
                       .values(attendance=Attendance.ABSENT))
    db.session.commit()
    assert refresh().full
    stored, live = both()
    assert_same(stored, live)
    assert stored.total.attendance_present == 0


def test_the_stored_dashboard_runs_a_fixed_number_of_queries(network, count_queries):
    refresh()

    def run() -> int:
        aggregates._CACHE.clear()
        db.session.expire_all()
        with count_queries() as queries:
            aggregates.dashboard(PERIOD, now=utcnow())
        return len(queries)

    cold = run()
    for i in range(4):
        tenant = make_tenant(slug=f"extra-{i}", name=f"Extra {i}")
        volunteer = make_user()
        make_membership(tenant, volunteer, created_at=paris(2026, 3, 2, 9, 0))
        shift = make_event(tenant, "shift", paris(2026, 3, 3 + i, 9, 0), ends_at=paris(2026, 3, 3 + i, 12, 0),
                           capacity=2)
        enrol(shift, volunteer, Attendance.PRESENT)
    refresh()
    assert run() == cold
    with count_queries() as queries:  # the same filters again, same refresh: from the process's cache
        aggregates.dashboard(PERIOD, now=utcnow())
    assert len(queries) == 2  # the refresh time and the structures


def test_the_refresh_command(app, network):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["impact-refresh"])
    assert result.exit_code == 0, result.output
    assert "everything" in result.output  # the first run builds everything
    result = runner.invoke(args=["impact-refresh"])
    assert result.exit_code == 0 and "changes" in result.output
    db.session.remove()
    assert aggregates.refreshed_at() is not None
    assert_same(*both())


def test_a_new_time_zone_means_live_figures_until_rebuilt(app, network):
    refresh()
    app.config["DEFAULT_TIMEZONE"] = "America/Cayenne"
    try:
        assert aggregates.refreshed_at() is None
        assert not aggregates.dashboard(PERIOD, now=utcnow()).notes.get("as_of")
    finally:
        app.config["DEFAULT_TIMEZONE"] = ZONE


def test_refresh_noted_days_only_recomputes_what_changed(network):
    refresh()
    today = utcnow().date()
    event = make_event(network["c"], "shift", paris(2026, 3, 20, 9, 0), ends_at=paris(2026, 3, 20, 10, 0),
                       capacity=1)
    assert event.id
    noted = db.session.execute(select(aggregates.ImpactPending.tenant_id, aggregates.ImpactPending.day)).all()
    assert (network["c"].id, date(2026, 3, 20)) in noted
    result = refresh()
    assert result.days <= 1 + (today - (today - timedelta(days=1))).days + 1 + 1  # the day noted + yesterday, today
    stored, live = both()
    assert_same(stored, live)
    assert next(r.figures for r in stored.structures if r.tenant.id == network["c"].id).shifts_offered == 1


def test_deactivating_memberships_in_bulk_changes_no_figure(network):
    refresh()
    db.session.execute(update(Membership).where(Membership.user_id == network["v1"].id).values(is_active=False))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(aggregates.ImpactPending)) == 0
    db.session.execute(update(Membership).where(Membership.user_id == network["v1"].id)
                       .values(role=Role.COORDINATOR))
    db.session.commit()
    assert refresh().full  # a bulk change of roles, in no one structure: everything is recomputed
    stored, live = both()
    assert_same(stored, live)
    assert stored.total.active_volunteers == 2
