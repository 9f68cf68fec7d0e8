"""The dashboard pages read from the stored figures (``aggregates``, after
``flask impact-refresh``): the same page as computed live, saying as of when,
and catching up with changes at the next refresh.

Data: ``test_dashboard_views``'s hand-computed ``known`` structures.
"""

from __future__ import annotations

import pytest

from tests.factories import page_text
from tests.impact import test_dashboard_views as views
from tests.impact.test_dashboard_views import EXPECTED_A, NATIONAL, PERIOD, A, key_figures, table
from tests.scheduling.factories import make_event
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.impact import aggregates
from volunteer_platform.impact.views import dashboard as dashboard_views
from volunteer_platform.scheduling.models import Attendance

known = views.known  # the fixture: structures A, B, C with hand-computed figures


@pytest.fixture(autouse=True)
def _empty_caches():
    aggregates._CACHE.clear()
    dashboard_views._STRUCTURES_HTML.clear()
    yield
    aggregates._CACHE.clear()
    dashboard_views._STRUCTURES_HTML.clear()


def refresh(now=None):
    aggregates.refresh(now=now or utcnow())
    db.session.commit()


QUERIES = [PERIOD, {"start": "2026-09-12", "end": "2026-10-08"}, {**PERIOD, "kind": "ccas"},
           {**PERIOD, "region": "Occitanie"}, {"start": "2020-01-01", "end": "2020-12-31"}]


@pytest.mark.parametrize("query", QUERIES)
def test_the_national_page_is_the_same_from_the_stored_figures(client, login_as, supervisor, known, query):
    login_as(supervisor)
    live = client.get(NATIONAL, query_string=query)
    assert "Chiffres calculés le" in page_text(live)
    refresh()
    stored = client.get(NATIONAL, query_string=query)
    assert stored.status_code == 200
    assert key_figures(stored) == key_figures(live)
    for key in ("structures", "months", "themes"):
        assert table(stored, key) == table(live, key)
    assert "Chiffres arrêtés le" in page_text(stored)
    assert "apparaîtra à leur prochaine mise à jour" in page_text(stored)
    again = client.get(NATIONAL, query_string=query)  # the comparison table from the process's cache

    def comparison(response) -> str:
        return response.get_data(as_text=True).split('id="dash-h-structures"')[1].split('id="dash-h-themes"')[0]

    assert comparison(again) == comparison(stored)


def test_the_structure_page_from_the_stored_figures(client, login_as, coordinator_a, known):
    refresh()
    login_as(coordinator_a)
    response = client.get(A, query_string=PERIOD)
    assert key_figures(response) == EXPECTED_A
    assert "Chiffres arrêtés le" in page_text(response)
    assert "Structure B" not in response.get_data(as_text=True)


def test_a_change_shows_after_the_next_refresh(client, login_as, supervisor, known):
    refresh()
    login_as(supervisor)
    assert key_figures(client.get(NATIONAL, query_string=PERIOD))["Heures de bénévolat"] == "9,5"
    shift = make_event(known["c"], "shift", views.paris(2026, 10, 20, 9, 0), ends_at=views.paris(2026, 10, 20, 12, 0),
                       capacity=2)
    views.enrol(shift, known["volunteers"][0], Attendance.PRESENT)
    assert key_figures(client.get(NATIONAL, query_string=PERIOD))["Heures de bénévolat"] == "9,5"  # as of before
    refresh()
    response = client.get(NATIONAL, query_string=PERIOD)
    assert key_figures(response)["Heures de bénévolat"] == "12,5"
    assert views.column(response, "structures", "Heures de bénévolat")["Structure C"] == "3"


def test_a_renamed_or_closed_structure_shows_at_once(client, login_as, supervisor, known):
    refresh()
    login_as(supervisor)
    client.get(NATIONAL, query_string=PERIOD)
    known["c"].name = "Structure C renommée"
    known["c"].is_active = False
    db.session.commit()
    body = client.get(NATIONAL, query_string=PERIOD).get_data(as_text=True)
    assert '<th scope="row">Structure C renommée</th>' in body
    assert "/structure-c/impact/" not in body


def test_the_downloads_say_what_the_page_says(client, login_as, supervisor, known):
    refresh()
    login_as(supervisor)
    csv = client.get(NATIONAL + "export/structures.csv", query_string=PERIOD).get_data(as_text=True)
    assert "Structure A" in csv and "Ensemble des structures" in csv


def test_the_pages_run_the_same_queries_for_2_or_6_structures(client, login_as, supervisor, count_queries):
    login_as(supervisor)
    module = views.make_module(None, title="Accueillir le public")
    for i in range(2):
        views.light_activity(views.make_tenant(region=f"Région {i}"), module)

    def measure() -> tuple[int, int]:
        refresh()  # a new refresh time: nothing cached applies
        with count_queries() as cold:
            response = client.get(NATIONAL, query_string=PERIOD)
        assert response.status_code == 200 and "Chiffres arrêtés le" in page_text(response)
        with count_queries() as warm:
            assert client.get(NATIONAL, query_string=PERIOD).status_code == 200
        return len(cold), len(warm)

    few = measure()
    for i in range(4):
        views.light_activity(views.make_tenant(region=f"Région {i % 3}"), module)
    many = measure()
    assert many == few
    assert few[1] < few[0]  # the figures and the comparison table come from the process's cache
