"""The impact dashboards: figures on the page against hand-computed values,
filters, charts, access, and a fixed number of queries.

Known data (``known`` fixture), period September–October 2026 in Europe/Paris:

Structure A (CCAS, Hauts-de-France) — volunteers v1…v5, all joined on 5 September:
- training sessions: T1 10 Sept (v1–v4 present, v5 absent), T2 6 Oct (v1 present), T3 13 Oct (nobody),
  T4 20 Oct cancelled → 3 sessions held, 5 present of 6 recorded (83 %);
- survey: T1 v1 (5, more able, at ease), v2 (4, more able), v3 (3, more able), v4 (2); T2 v1 (5, more
  able, at ease) → 5 answers, 3 satisfied (60 %), 4 more able (80 %), 2 at ease (40 %);
- shift H1 15 Sept 09:00–12:00, 2 places: v1 present (report: online procedures 4), v2 unmarked with a report
  (e-mail 3, health 2) → 6 h; shift H2 8 Oct 14:00–16:00, 2 places: v3 absent → 0 h;
  shifts: 2, places 3 filled of 4 (75 %); workshop W1 9 Oct 14:00–15:30: v4 present → 1.5 h;
  volunteer hours 7.5 (6 in September, 1.5 in October); people helped 9;
- module "Les bases" completed by v1 (20 Sept) and v2 (2 Oct): 2 modules, 2 paths, 2 qualifications valid
  24 months; v5's external qualification ends 15 Dec 2026 → 3 held, 1 expiring soon;
- self-assessment on the path, communication: v1 1 → 3, v2 2 → 4 → 2 people, 1.5 → 3.5, +2;
- active volunteers: v1–v4 (v5 was only absent) → 4.

Structure B (Point Passerelle, Occitanie) — vb joined 1 Sept; shift 20 Sept 10:00–12:00, 3 places, vb
present, report: housing 50 → 2 h, 1 of 3 places.

Structure C (town hall, Hauts-de-France) — nothing.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import make_membership, make_tenant, make_user, page_text
from tests.scheduling.factories import make_event
from tests.training.factories import complete_module, make_module, make_path, make_qualification
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.impact import services as impact_services
from volunteer_platform.impact.models import AssessmentStage, HelpTheme
from volunteer_platform.scheduling import services as scheduling_services
from volunteer_platform.scheduling.models import Attendance, Enrolment, EnrolmentStatus
from volunteer_platform.tenants.models import Role, TenantKind
from volunteer_platform.training.models import AwardSource, CompetenceArea, QualificationAward

PARIS = ZoneInfo("Europe/Paris")
NATIONAL = "/supervision/impact/"
A = "/structure-a/impact/"
B = "/structure-b/impact/"
PERIOD = {"start": "2026-09-01", "end": "2026-10-31"}
EMPTY_PERIOD = {"start": "2020-01-01", "end": "2020-12-31"}


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(ZoneInfo("UTC"))


def enrol(event, user, attendance=None):
    """A confirmed place (taken before the event), with its attendance if given."""
    db.session.add(Enrolment(tenant_id=event.tenant_id, event_id=event.id, user_id=user.id,
                             status=EnrolmentStatus.CONFIRMED, attendance=attendance,
                             created_at=event.starts_at - timedelta(days=3)))
    db.session.commit()


def answer(event, user, satisfaction, more_able=False, at_ease=False):
    impact_services.answer_survey(event, user, satisfaction=satisfaction, more_able_to_help=more_able,
                                  at_ease_with_computer=at_ease, comment="", now=event.ends_at + timedelta(hours=1))
    db.session.commit()


def report(event, user, minutes, **people):
    impact_services.save_report(event, user, minutes=minutes,
                                people_by_theme={HelpTheme(theme): n for theme, n in people.items()},
                                now=event.ends_at + timedelta(hours=1))
    db.session.commit()


def assess(tenant, user, path, stage, confidence, when):
    impact_services.record_assessment(tenant, user, path, stage, {CompetenceArea.COMMUNICATION: confidence},
                                      now=when)
    db.session.commit()


def session(tenant, trainer, module, *day_hour):
    start = paris(*day_hour)
    return make_event(tenant, "training_session", start, ends_at=start + timedelta(hours=2), capacity=5,
                      trainer=trainer, module=module)


def build_structure_a(a, trainer):
    a.kind, a.region = TenantKind.CCAS, "Hauts-de-France"
    db.session.commit()
    joined = paris(2026, 9, 5, 9, 0)
    v = [make_user(full_name=f"Bénévole {i}") for i in range(1, 6)]
    for person in v:
        make_membership(a, person, Role.VOLUNTEER, created_at=joined)
    v1, v2, v3, v4, v5 = v

    taught = make_module(None, title="Accueillir le public")
    t1 = session(a, trainer, taught, 2026, 9, 10, 10, 0)
    for person in (v1, v2, v3, v4):
        enrol(t1, person, Attendance.PRESENT)
    enrol(t1, v5, Attendance.ABSENT)
    t2 = session(a, trainer, taught, 2026, 10, 6, 10, 0)
    enrol(t2, v1, Attendance.PRESENT)
    session(a, trainer, taught, 2026, 10, 13, 10, 0)
    t4 = session(a, trainer, taught, 2026, 10, 20, 10, 0)
    enrol(t4, v2, Attendance.PRESENT)
    scheduling_services.cancel_event(t4, now=utcnow())
    db.session.commit()
    answer(t1, v1, 5, more_able=True, at_ease=True)
    answer(t1, v2, 4, more_able=True)
    answer(t1, v3, 3, more_able=True)
    answer(t1, v4, 2)
    answer(t2, v1, 5, more_able=True, at_ease=True)

    h1 = make_event(a, "shift", paris(2026, 9, 15, 9, 0), ends_at=paris(2026, 9, 15, 12, 0), capacity=2)
    enrol(h1, v1, Attendance.PRESENT)
    enrol(h1, v2)
    report(h1, v1, 180, online_procedures=4)
    report(h1, v2, 170, email=3, health=2)
    h2 = make_event(a, "shift", paris(2026, 10, 8, 14, 0), ends_at=paris(2026, 10, 8, 16, 0), capacity=2)
    enrol(h2, v3, Attendance.ABSENT)
    w1 = make_event(a, "workshop", paris(2026, 10, 9, 14, 0), ends_at=paris(2026, 10, 9, 15, 30), capacity=10)
    enrol(w1, v4, Attendance.PRESENT)

    qualification = make_qualification(a, name="Aidant numérique", validity_months=24)
    basics = make_module(a, title="Les bases", lessons=1, questions=0, qualification=qualification)
    path = make_path(a, [basics], title="Parcours découverte")
    assess(a, v1, path, AssessmentStage.START, 1, paris(2026, 9, 12, 9, 0))
    assess(a, v2, path, AssessmentStage.START, 2, paris(2026, 9, 12, 9, 0))
    complete_module(v1, basics, a, now=paris(2026, 9, 20, 15, 0))
    complete_module(v2, basics, a, now=paris(2026, 10, 2, 15, 0))
    assess(a, v1, path, AssessmentStage.END, 3, paris(2026, 9, 21, 9, 0))
    assess(a, v2, path, AssessmentStage.END, 4, paris(2026, 10, 3, 9, 0))
    db.session.add(QualificationAward(
        tenant_id=a.id, user_id=v5.id, qualification_id=qualification.id, source=AwardSource.EXTERNAL,
        awarded_at=paris(2024, 12, 15, 9, 0), expires_at=paris(2026, 12, 15, 9, 0), note="Obtenue ailleurs",
    ))
    db.session.commit()
    return v


def build_structure_b(b):
    b.kind, b.region = TenantKind.POINT_PASSERELLE, "Occitanie"
    db.session.commit()
    vb = make_user(full_name="Bénévole Bravo")
    make_membership(b, vb, Role.VOLUNTEER, created_at=paris(2026, 9, 1, 9, 0))
    shift = make_event(b, "shift", paris(2026, 9, 20, 10, 0), ends_at=paris(2026, 9, 20, 12, 0), capacity=3)
    enrol(shift, vb, Attendance.PRESENT)
    report(shift, vb, 120, housing=50)
    return vb


@pytest.fixture
def known(tenant_a, tenant_b, coordinator_a, coordinator_b):
    volunteers = build_structure_a(tenant_a, coordinator_a)
    build_structure_b(tenant_b)
    c = make_tenant(slug="structure-c", name="Structure C", kind=TenantKind.TOWN_HALL, region="Hauts-de-France")
    return {"a": tenant_a, "b": tenant_b, "c": c, "volunteers": volunteers}


# --- reading the page -------------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def clean(fragment: str) -> str:
    """Text of an HTML fragment: tags dropped, entities decoded, every kind of space one plain space."""
    return _SPACES.sub(" ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def key_figures(response) -> dict[str, str]:
    """The key figure cards: label → figure as shown."""
    body = response.get_data(as_text=True)
    block = re.search(r'<dl class="dash-key-figures" id="dash-summary">(.*?)</dl>', body, re.DOTALL)
    assert block, "no key figures on the page"
    pairs = re.findall(r'<dt>(.*?)</dt>\s*<dd><span class="dash-value">(.*?)</span>', block.group(1), re.DOTALL)
    return {clean(label): clean(value) for label, value in pairs}


def table(response, key: str) -> dict[str, list[str]]:
    """A dashboard table: first cell of each row (body and total) → the other cells, as shown."""
    body = response.get_data(as_text=True)
    found = re.search(rf'<table class="dash-table dash-table-{key}" id="dash-{key}">(.*?)</table>', body, re.DOTALL)
    assert found, f"no table {key}"
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", found.group(1), re.DOTALL):
        cells = [clean(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)]
        rows[cells[0]] = cells[1:]
    return rows


def header(response, key: str) -> list[str]:
    body = response.get_data(as_text=True)
    found = re.search(rf'id="dash-{key}">.*?<thead>(.*?)</thead>', body, re.DOTALL)
    return [clean(c) for c in re.findall(r"<th[^>]*>(.*?)</th>", found.group(1), re.DOTALL)]


def column(response, key: str, name: str) -> dict[str, str]:
    index = header(response, key).index(name) - 1
    return {first: cells[index] for first, cells in table(response, key).items()}


EXPECTED_A = {
    "Bénévoles actifs": "4",
    "Nouveaux bénévoles": "5",
    "Modules de formation terminés": "2",
    "Parcours de formation terminés": "2",
    "Qualifications valides": "3",
    "Qualifications qui expirent bientôt": "1",
    "Sessions de formation tenues": "3",
    "Taux de présence aux sessions": "83 %",
    "Permanences proposées": "2",
    "Taux de remplissage des permanences": "75 %",
    "Heures de bénévolat": "7,5",
    "Personnes aidées": "9",
    "Réponses au questionnaire de fin de session": "5",
    "Satisfaction": "60 %",
    "Se sentent plus capables d'aider quelqu'un": "80 %",
    "Se sentent à l'aise avec un ordinateur": "40 %",
}


# --- figures ------------------------------------------------------------------------------------


def test_the_national_dashboard_shows_the_hand_computed_totals(client, login_as, supervisor, known):
    login_as(supervisor)
    response = client.get(NATIONAL, query_string=PERIOD)
    assert response.status_code == 200
    assert key_figures(response) == {
        **EXPECTED_A,
        "Bénévoles actifs": "5",  # vb in B
        "Nouveaux bénévoles": "6",
        "Permanences proposées": "3",
        "Taux de remplissage des permanences": "57 %",  # 4 of 7 places
        "Heures de bénévolat": "9,5",
        "Personnes aidées": "59",
    }
    text = page_text(response)
    assert "du 1 septembre 2026 au 31 octobre 2026" in text
    assert "4 places pourvues sur 7" in text and "5 présences sur 6 notées" in text


def test_the_structure_comparison_has_a_row_per_structure_and_a_total(client, login_as, supervisor, known):
    login_as(supervisor)
    response = client.get(NATIONAL, query_string=PERIOD)
    rows = table(response, "structures")
    head = header(response, "structures")
    assert head[:4] == ["Structure", "Type", "Région", "Bénévoles actifs"]
    a = dict(zip(head[1:], rows["Structure A"], strict=True))
    assert (a["Type"], a["Région"]) == ("CCAS (centre communal d'action sociale)", "Hauts-de-France")
    assert (a["Bénévoles actifs"], a["Sessions tenues"], a["Taux de présence"], a["Taux de remplissage"],
            a["Heures de bénévolat"], a["Personnes aidées"], a["Satisfaction"]) == \
        ("4", "3", "83 %", "75 %", "7,5", "9", "60 %")
    b = dict(zip(head[1:], rows["Structure B"], strict=True))
    assert (b["Heures de bénévolat"], b["Taux de remplissage"], b["Personnes aidées"], b["Satisfaction"]) == \
        ("2", "33 %", "50", "—")
    # A structure with no activity: a row of zeros, and no rate to compute.
    c = dict(zip(head[1:], rows["Structure C"], strict=True))
    counts = [value for name, value in c.items() if name not in ("Type", "Région")]
    assert set(counts) == {"0", "—"}
    assert c["Taux de remplissage"] == "—" and c["Bénévoles actifs"] == "0"
    total = dict(zip(head[1:], rows["Ensemble des structures"], strict=True))
    assert (total["Bénévoles actifs"], total["Heures de bénévolat"], total["Permanences proposées"]) == \
        ("5", "9,5", "3")


def test_structure_names_lead_to_their_dashboard_for_the_same_period(client, login_as, supervisor, known):
    login_as(supervisor)
    body = client.get(NATIONAL, query_string=PERIOD).get_data(as_text=True)
    link = re.search(r'<th scope="row"><a href="([^"]+)">Structure A</a></th>', body)
    assert link, "no drill-down link"
    target = html.unescape(link.group(1))
    assert target.startswith(A) and "start=2026-09-01" in target and "end=2026-10-31" in target
    drilled = client.get(target)
    assert drilled.status_code == 200
    assert key_figures(drilled) == EXPECTED_A
    assert "Retour au tableau de bord de toutes les structures" in page_text(drilled)


def test_a_deactivated_structure_is_listed_without_a_link(client, login_as, supervisor, known):
    known["c"].is_active = False
    db.session.commit()
    login_as(supervisor)
    body = client.get(NATIONAL, query_string=PERIOD).get_data(as_text=True)
    assert '<th scope="row">Structure C</th>' in body
    assert "/structure-c/impact/" not in body


def test_the_structure_dashboard_shows_its_own_figures_only(client, login_as, coordinator_a, known):
    login_as(coordinator_a)
    response = client.get(A, query_string=PERIOD)
    assert response.status_code == 200
    assert key_figures(response) == EXPECTED_A
    body = response.get_data(as_text=True)
    assert "dash-table-structures" not in body and 'name="kind"' not in body and 'name="region"' not in body
    assert "Structure B" not in body and "Logement" in body  # the theme is listed…
    assert column(response, "themes", "Personnes aidées")["Logement"] == "0"  # …with none of B's 50 people


def test_the_monthly_trend_and_its_charts(client, login_as, coordinator_a, known):
    login_as(coordinator_a)
    response = client.get(A, query_string=PERIOD)
    months = table(response, "months")
    assert list(months) == ["Mois", "septembre 2026", "octobre 2026"]
    hours, sessions = column(response, "months", "Heures de bénévolat"), column(response, "months", "Sessions tenues")
    assert (hours["septembre 2026"], hours["octobre 2026"]) == ("6", "1,5")
    assert (sessions["septembre 2026"], sessions["octobre 2026"]) == ("1", "2")
    active = column(response, "months", "Bénévoles actifs")
    assert (active["septembre 2026"], active["octobre 2026"]) == ("4", "3")

    body = response.get_data(as_text=True)
    svgs = re.findall(r"<svg[^>]*>.*?</svg>", body, re.DOTALL)
    assert len(svgs) == 3  # hours and sessions by month, people by theme
    for svg in svgs:
        labelled = re.search(r'role="img" aria-labelledby="([\w-]+)-title \1-desc"', svg)
        assert labelled and f'<title id="{labelled.group(1)}-title">' in svg
        assert "style=" not in svg
    hours_chart = next(svg for svg in svgs if "chart-hours-title" in svg)
    assert "Heures de bénévolat par mois" in hours_chart
    assert "sept. 2026 : 6 h" in clean(hours_chart) and "oct. : 1,5 h" in clean(hours_chart)
    assert len(re.findall(r'<rect class="dash-bar"', hours_chart)) == 2
    assert "<script" not in body and " style=" not in body


def test_months_cut_by_the_period_say_which_days_they_cover(client, login_as, coordinator_a, known):
    login_as(coordinator_a)
    response = client.get(A, query_string={"start": "2026-09-12", "end": "2026-10-08"})
    months = table(response, "months")
    assert list(months)[1:] == ["septembre 2026 (du 12 au 30)", "octobre 2026 (du 1 au 8)"]
    hours = column(response, "months", "Heures de bénévolat")
    assert (hours["septembre 2026 (du 12 au 30)"], hours["octobre 2026 (du 1 au 8)"]) == ("6", "0")
    assert key_figures(response)["Sessions de formation tenues"] == "1"  # T2 on 6 October; not T1 on 10 Sept


def test_people_helped_by_theme_and_confidence_gain(client, login_as, supervisor, known):
    login_as(supervisor)
    response = client.get(NATIONAL, query_string=PERIOD)
    themes = table(response, "themes")
    assert themes["Messagerie (adresse e-mail, courriels)"] == ["3", "5 %"]
    assert themes["Démarches en ligne (CAF, impôts, ANTS…)"] == ["4", "7 %"]
    assert themes["Logement"] == ["50", "85 %"]
    assert themes["Banque en ligne"] == ["0", "0 %"]
    assert themes["Total"] == ["59", "100 %"]
    assert len(themes) == len(HelpTheme) + 2  # header, every theme, total
    confidence = table(response, "confidence")
    assert confidence["Communication et collaboration"] == ["2", "1,5", "3,5", "2"]
    assert len(confidence) == 2  # header and the one area assessed


def test_an_empty_period_shows_zeros_and_dashes(client, login_as, supervisor, known):
    login_as(supervisor)
    response = client.get(NATIONAL, query_string=EMPTY_PERIOD)
    assert response.status_code == 200
    figures = key_figures(response)
    rates = {"Taux de présence aux sessions", "Taux de remplissage des permanences", "Satisfaction",
             "Se sentent plus capables d'aider quelqu'un", "Se sentent à l'aise avec un ordinateur"}
    assert {figures[name] for name in rates} == {"—"}
    assert {value for name, value in figures.items() if name not in rates} == {"0"}
    assert len(table(response, "months")) == 13  # header and twelve months of zeros
    assert "Aucun bilan de fin de parcours sur cette période." in page_text(response)
    assert len(table(response, "structures")) == 5  # header, A, B, C, total: still listed, with zeros


def test_filters_by_kind_and_region(client, login_as, supervisor, known):
    login_as(supervisor)
    by_kind = client.get(NATIONAL, query_string={**PERIOD, "kind": "point_passerelle"})
    assert list(table(by_kind, "structures")) == ["Structure", "Structure B", "Ensemble des structures"]
    assert key_figures(by_kind)["Personnes aidées"] == "50"
    by_region = client.get(NATIONAL, query_string={**PERIOD, "region": "Hauts-de-France"})
    assert list(table(by_region, "structures")) == ["Structure", "Structure A", "Structure C",
                                                     "Ensemble des structures"]
    assert key_figures(by_region)["Personnes aidées"] == "9"
    body = by_region.get_data(as_text=True)
    assert '<option selected value="Hauts-de-France">' in body or \
        '<option value="Hauts-de-France" selected>' in body
    # The export links carry the filters.
    assert "region=Hauts-de-France" in html.unescape(body.split('id="dash-h-structures"')[1])
    nobody = client.get(NATIONAL, query_string={**PERIOD, "kind": "association"})
    assert "Aucune structure ne correspond à ces critères." in page_text(nobody)
    assert key_figures(nobody)["Heures de bénévolat"] == "0"
    # A value that is not in the lists counts as "all", without an error.
    unknown = client.get(NATIONAL, query_string={**PERIOD, "kind": "spaceship", "region": "Atlantide"})
    assert unknown.status_code == 200 and len(table(unknown, "structures")) == 5


def test_the_default_period_is_the_last_twelve_months(client, login_as, coordinator_a, known):
    login_as(coordinator_a)
    response = client.get(A)
    assert response.status_code == 200
    today = utcnow().astimezone(PARIS).date()
    first = today.replace(day=1)
    for _ in range(11):
        first = (first - timedelta(days=1)).replace(day=1)
    body = response.get_data(as_text=True)
    assert f'value="{first.isoformat()}"' in body and f'value="{today.isoformat()}"' in body
    assert len(table(response, "months")) == 13


@pytest.mark.parametrize("query, message", [
    ({"start": "31/02/2026", "end": "2026-10-31"}, "Saisissez une date valide"),
    ({"start": "2026-10-31", "end": "2026-09-01"}, "La date de fin doit être le même jour que la date de début"),
    ({"start": "1850-01-01", "end": "2026-10-31"}, "Choisissez une date entre le"),
    ({"start": "2000-01-01", "end": "2026-10-31"}, "dix ans au plus"),
])
def test_wrong_dates_are_explained_and_the_default_period_shown(client, login_as, supervisor, known, query,
                                                                 message):
    login_as(supervisor)
    response = client.get(NATIONAL, query_string=query)
    assert response.status_code == 422
    text = page_text(response)
    assert message in text
    assert "Les chiffres ci-dessous portent sur la période par défaut" in text
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert len(table(response, "months")) == 13  # the default twelve months
    # The download links are for what is shown: the default period, not the wrong dates.
    assert "start=2026-10-31" not in response.get_data(as_text=True).split("dash-h-summary")[1]


def test_one_date_alone_is_completed(client, login_as, supervisor, known):
    login_as(supervisor)
    only_end = client.get(NATIONAL, query_string={"end": "2026-10-31"})
    assert "du 1 décembre 2025 au 31 octobre 2026" in page_text(only_end)  # twelve months up to that day
    only_start = client.get(NATIONAL, query_string={"start": "2026-09-01"})
    until = max(date(2026, 9, 1), utcnow().astimezone(PARIS).date())  # up to today
    body = only_start.get_data(as_text=True)
    assert only_start.status_code == 200
    assert 'value="2026-09-01"' in body and f'value="{until.isoformat()}"' in body


# --- access -------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, tenant_a):
    for url in (NATIONAL, A, NATIONAL + "export/summary.csv", A + "export/months.xlsx"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_a_volunteer_cannot_see_the_structure_dashboard(client, login_as, volunteer_a):
    login_as(volunteer_a)
    assert client.get(A).status_code == 403
    assert client.get(A + "export/summary.csv").status_code == 403
    assert client.get(NATIONAL).status_code == 403


def test_a_coordinator_sees_neither_another_structure_nor_the_national_dashboard(client, login_as, coordinator_a,
                                                                                   known):
    login_as(coordinator_a)
    assert client.get(B).status_code == 404
    assert client.get(B + "export/summary.csv").status_code == 404
    assert client.get(NATIONAL).status_code == 403
    assert client.get(NATIONAL + "export/structures.csv").status_code == 403
    assert client.get(A).status_code == 200


def test_a_supervisor_sees_both_dashboards(client, login_as, supervisor, known):
    login_as(supervisor)
    national = client.get(NATIONAL)
    assert national.status_code == 200
    body = national.get_data(as_text=True)
    for slug in ("structure-a", "structure-b", "structure-c"):
        assert f'href="/{slug}/impact/?' in body
    assert client.get(B).status_code == 200


# --- speed --------------------------------------------------------------------------------------


def light_activity(tenant, module):
    """A volunteer with a shift, a session attended, a survey answer and a report: every query has rows."""
    trainer = make_user()
    make_membership(tenant, trainer, Role.TRAINER, created_at=paris(2026, 9, 1, 9, 0))
    volunteer = make_user()
    make_membership(tenant, volunteer, Role.VOLUNTEER, created_at=paris(2026, 9, 2, 9, 0))
    taught = session(tenant, trainer, module, 2026, 9, 8, 10, 0)
    enrol(taught, volunteer, Attendance.PRESENT)
    answer(taught, volunteer, 4, more_able=True)
    shift = make_event(tenant, "shift", paris(2026, 10, 1, 9, 0), ends_at=paris(2026, 10, 1, 11, 0), capacity=2)
    enrol(shift, volunteer, Attendance.PRESENT)
    report(shift, volunteer, 120, email=2)


def test_the_national_dashboard_runs_the_same_queries_for_2_or_6_structures(client, login_as, supervisor,
                                                                           count_queries):
    login_as(supervisor)
    module = make_module(None, title="Accueillir le public")
    for i in range(2):
        light_activity(make_tenant(region=f"Région {i}"), module)

    def measure() -> int:
        with count_queries() as statements:
            response = client.get(NATIONAL, query_string=PERIOD)
        assert response.status_code == 200
        return len(statements), response

    few, response = measure()
    assert key_figures(response)["Personnes aidées"] == "4"
    for i in range(4):
        light_activity(make_tenant(region=f"Région {i % 3}"), module)
    many, response = measure()
    assert key_figures(response)["Personnes aidées"] == "12"
    assert len(table(response, "structures")) == 8
    assert many == few


def test_the_structure_comparison_is_cut_into_pages_and_its_download_has_them_all(
        client, login_as, supervisor, known, monkeypatch):
    from volunteer_platform.impact.views import dashboard as dashboard_views

    monkeypatch.setattr(dashboard_views, "STRUCTURES_PER_PAGE", 2)  # A, B | C
    login_as(supervisor)

    def names(response) -> list[str]:
        return [name for name in table(response, "structures") if name != "Structure"]

    first = client.get(NATIONAL, query_string=PERIOD)
    assert names(first) == ["Structure A", "Structure B", "Ensemble des structures"]
    assert "Structures 1 à 2 sur 3, par ordre alphabétique" in page_text(first)
    nav = re.search(r'<nav class="pager"[^>]*>(.*?)</nav>', first.get_data(as_text=True), re.DOTALL).group(1)
    links = {html.unescape(re.sub(r"<[^>]+>", "", text)).strip(): html.unescape(href)
             for href, text in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', nav, re.DOTALL)}
    following = links["Structures suivantes →"]
    assert "start=2026-09-01" in following and "end=2026-10-31" in following and "page=2" in following
    second = client.get(following)
    assert names(second) == ["Structure C", "Ensemble des structures"]
    assert table(second, "structures")["Ensemble des structures"] == table(first, "structures")[
        "Ensemble des structures"]  # the network's total on every page
    # A page past the end shows the last one; nonsense shows the first.
    assert names(client.get(NATIONAL, query_string={**PERIOD, "page": "9"}))[0] == "Structure C"
    assert names(client.get(NATIONAL, query_string={**PERIOD, "page": "x"}))[0] == "Structure A"
    csv = client.get("/supervision/impact/export/structures.csv", query_string={**PERIOD, "page": "2"})
    assert csv.status_code == 200
    text = csv.get_data().decode("utf-8-sig")
    assert all(name in text for name in ("Structure A", "Structure B", "Structure C"))
