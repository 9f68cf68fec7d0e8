"""The open sessions and shifts in pages (issue 9): the list shows 20 cards at
a time, soonest first, with links to the other pages that keep the filters;
the count is of every matching event; signing up from a later page comes back
to it. Also what the pages read once per request: the structure and the
person's membership come from the list of their structures (the menu's)."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.factories import make_member, make_membership, make_tenant, make_user, page_text
from tests.scheduling.factories import local_time, make_event, make_room
from tests.training.factories import make_qualification
from volunteer_platform.extensions import db
from volunteer_platform.scheduling.models import Enrolment, EnrolmentStatus
from volunteer_platform.scheduling.views.enrolment import OPEN_PAGE_SIZE

A = "/structure-a/agenda"
CARD_TITLE = re.compile(r'<li class="card">\s*<h2><a href="[^"]+">([^<]+)</a></h2>')


def shifts(tenant, count, *, title="Permanence", kind="shift", **kwargs):
    """``count`` shifts on the coming days, one an hour from 9:00, numbered in time order."""
    events = []
    for i in range(count):
        starts_at = local_time(tenant, 1 + i // 8, 9 + i % 8)
        events.append(make_event(tenant, kind, starts_at, ends_at=starts_at + timedelta(minutes=50),
                                 title=f"{title} {i:02d}", capacity=3, **kwargs))
    return events


def titles(response) -> list[str]:
    return CARD_TITLE.findall(response.get_data(as_text=True))


def pager_links(response) -> dict[str, str]:
    """The pager's links, by their text (entities decoded)."""
    import html

    nav = re.search(r'<nav class="pager"[^>]*>(.*?)</nav>', response.get_data(as_text=True), re.DOTALL)
    if nav is None:
        return {}
    return {re.sub(r"<[^>]+>", "", html.unescape(text)).strip(): html.unescape(href)
            for href, text in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', nav.group(1), re.DOTALL)}


def test_the_open_list_shows_twenty_cards_a_page_soonest_first(client, login_as, tenant_a, volunteer_a):
    events = shifts(tenant_a, 25)
    login_as(volunteer_a)

    first = client.get(f"{A}/open")
    assert first.status_code == 200
    assert titles(first) == [e.title for e in events[:OPEN_PAGE_SIZE]]
    text = page_text(first)
    assert "25 créneaux — page 1 sur 2" in text  # the count is of all of them
    links = pager_links(first)
    assert links["Voir plus de créneaux →"] == f"{A}/open?page=2"
    assert links["Page 2"] == f"{A}/open?page=2"
    assert 'aria-current="page"><span class="visually-hidden">Page </span>1<' in first.get_data(as_text=True)

    second = client.get(f"{A}/open?page=2")
    assert titles(second) == [e.title for e in events[OPEN_PAGE_SIZE:]]
    assert "25 créneaux — page 2 sur 2" in page_text(second)
    links = pager_links(second)
    assert links["← Créneaux précédents"] == f"{A}/open"
    assert "Voir plus de créneaux →" not in links


def test_one_page_needs_no_pager(client, login_as, tenant_a, volunteer_a):
    shifts(tenant_a, 3)
    login_as(volunteer_a)
    page = client.get(f"{A}/open")
    assert len(titles(page)) == 3
    assert "3 créneaux" in page_text(page) and "page 1 sur" not in page_text(page)
    assert pager_links(page) == {}


def test_a_wrong_page_number_shows_the_first_or_the_last_page(client, login_as, tenant_a, volunteer_a):
    events = shifts(tenant_a, 22)
    login_as(volunteer_a)
    for nonsense in ("abc", "0", "-1", "1.5", "9" * 40, "２"):
        page = client.get(f"{A}/open", query_string={"page": nonsense})
        assert page.status_code == 200, nonsense
        assert titles(page)[0] == events[0].title, nonsense
    beyond = client.get(f"{A}/open?page=7")
    assert beyond.status_code == 200
    assert titles(beyond) == [e.title for e in events[OPEN_PAGE_SIZE:]]
    assert "page 2 sur 2" in page_text(beyond)


def test_the_pages_keep_the_filters(client, login_as, tenant_a, volunteer_a):
    room = make_room(tenant_a, name="Salle Nord")
    workshops = shifts(tenant_a, 21, title="Atelier", kind="workshop", room=room)
    shifts(tenant_a, 5, title="Permanence")
    login_as(volunteer_a)

    first = client.get(f"{A}/open", query_string={"kind": "workshop", "site": str(room.site_id)})
    assert titles(first) == [e.title for e in workshops[:OPEN_PAGE_SIZE]]
    assert "21 créneaux — page 1 sur 2" in page_text(first)
    more = pager_links(first)["Voir plus de créneaux →"]
    assert more == f"{A}/open?kind=workshop&site={room.site_id}&page=2"

    second = client.get(more)
    assert titles(second) == [workshops[-1].title]
    assert pager_links(second)["← Créneaux précédents"] == f"{A}/open?kind=workshop&site={room.site_id}"


def test_only_qualified_counts_and_pages_the_events_i_may_take(client, login_as, tenant_a, volunteer_a):
    needs = make_qualification(tenant_a, name="Accueil CAF")
    shifts(tenant_a, 15, title="Permanence CAF", qualification=needs)
    open_to_all = shifts(tenant_a, 22, title="Permanence libre")
    login_as(volunteer_a)

    everything = client.get(f"{A}/open")
    assert "37 créneaux — page 1 sur 2" in page_text(everything)
    mine = client.get(f"{A}/open", query_string={"qualified_only": "y"})
    assert "22 créneaux — page 1 sur 2" in page_text(mine)
    assert all(title.startswith("Permanence libre") for title in titles(mine))
    second = client.get(pager_links(mine)["Voir plus de créneaux →"])
    assert titles(second) == [e.title for e in open_to_all[OPEN_PAGE_SIZE:]]


def test_signing_up_from_a_later_page_comes_back_to_it(client, login_as, tenant_a, volunteer_a):
    events = shifts(tenant_a, 23)
    login_as(volunteer_a)
    page = client.get(f"{A}/open?page=2")
    html = page.get_data(as_text=True)
    assert f'name="next" value="{A}/open?page=2"' in html
    last = events[-1]
    assert f'action="{A}/events/{last.id}/enrol"' in html

    response = client.post(f"{A}/events/{last.id}/enrol", data={"next": f"{A}/open?page=2"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{A}/open?page=2")
    db.session.rollback()
    place = db.session.query(Enrolment).filter_by(event_id=last.id, user_id=volunteer_a.id).one()
    assert place.status is EnrolmentStatus.CONFIRMED
    assert "Vous êtes inscrit(e)." in page_text(client.get(f"{A}/open?page=2"))


def test_a_card_shows_the_day_and_times_in_the_structures_zone_in_each_language(
        client, login_as, tenant_a, volunteer_a):
    starts_at = local_time(tenant_a, 2, 14, 30)
    make_event(tenant_a, "shift", starts_at, ends_at=starts_at + timedelta(hours=2), title="Permanence",
               capacity=2)
    login_as(volunteer_a)
    from zoneinfo import ZoneInfo

    from babel.dates import format_date

    day = starts_at.astimezone(ZoneInfo(tenant_a.timezone)).date()
    text = page_text(client.get(f"{A}/open"))
    assert f"{format_date(day, 'EEEE d MMMM', locale='fr')}, de 14:30 à 16:30" in text

    client.post("/language", data={"language": "en", "next": f"{A}/open"})
    english = page_text(client.get(f"{A}/open"))
    assert format_date(day, "EEEE d MMMM", locale="en") in english and "14:30" in english


def test_a_member_of_several_structures_reaches_each_with_its_own_role(client, login_as, tenant_a, tenant_b):
    person = make_user(email="both@example.org", full_name="Bea Both")
    make_membership(tenant_a, person, "volunteer")
    make_membership(tenant_b, person, "coordinator")
    login_as(person)

    assert client.get("/structure-a/members").status_code == 403  # a volunteer here
    assert client.get("/structure-b/members").status_code == 200  # the coordinator there
    home = page_text(client.get("/structure-a/"))
    assert "Changer de structure" in home and tenant_b.name in home


def test_a_non_member_gets_a_404_and_staff_see_every_structure(client, login_as, tenant_a, tenant_b, supervisor):
    outsider = make_member(tenant_b, "volunteer", email="outsider@example.org")
    login_as(outsider)
    assert client.get(f"{A}/open").status_code == 404
    inactive = make_tenant(slug="structure-closed", name="Fermée")
    make_membership(inactive, outsider, "volunteer")
    inactive.is_active = False
    db.session.commit()
    assert client.get("/structure-closed/agenda/open").status_code == 404
    login_as(supervisor)
    assert client.get(f"{A}/week").status_code == 200
