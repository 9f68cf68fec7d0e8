"""Participation pages: the survey after a training session (and its e-mail),
the results on the event page, the path self-assessment, the shift activity
report and the "À compléter" list of the structure's home."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import csrf_token_in, flashes_in, make_member, page_text
from tests.impact.test_participation_services import (
    answer,
    attend,
    count,
    past_session,
    past_shift,
    place_of,
    survey_emails,
)
from tests.scheduling.factories import enrol_in, make_event
from tests.training.factories import assign_to, complete_module, make_module, make_path
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.impact.models import (
    ActivityReport,
    HelpTheme,
    SelfAssessment,
    SurveyResponse,
)
from volunteer_platform.impact.services import report_of
from volunteer_platform.scheduling.models import Attendance
from volunteer_platform.training.models import CompetenceArea

A = "/structure-a"
GOOD_ANSWER = {"satisfaction": "5", "more_able_to_help": "yes", "at_ease_with_computer": "no",
               "comment": "Très bien expliqué."}


@pytest.fixture
def trainer_a(tenant_a):
    return make_member(tenant_a, "trainer", full_name="Théa Formatrice", email="thea@example.org")


@pytest.fixture
def session_a(tenant_a, trainer_a, volunteer_a):
    """A training session that ended an hour ago, with ``volunteer_a`` marked present."""
    session = past_session(tenant_a, trainer=trainer_a, title="Séance : la messagerie")
    attend(session, volunteer_a, by=trainer_a)
    return session


def survey_url(event) -> str:
    return f"{A}/impact/sessions/{event.id}/survey"


def results_section(response) -> str:
    match = re.search(r'<section class="survey-results".*?</section>', page_text(response), re.DOTALL)
    return match.group(0) if match else ""


# --- the survey -----------------------------------------------------------------------------------------


def test_the_survey_form_has_labelled_questions_and_says_it_is_anonymous(client, login_as, volunteer_a, session_a):
    login_as(volunteer_a)
    response = client.get(survey_url(session_a))
    assert response.status_code == 200
    text = page_text(response)
    assert "Vos réponses sont anonymes" in text
    for legend in ("Dans l'ensemble, êtes-vous satisfait de cette session ?",
                   "Après cette session, je me sens plus capable d'aider quelqu'un.",
                   "Je me sens à l'aise avec un ordinateur."):
        assert f"<legend>{legend}</legend>" in text
    for label in ("Pas du tout satisfait", "Très satisfait", "Oui", "Non"):
        assert f">{label}</label>" in text
    assert '<label for="comment">Un commentaire ? (facultatif)</label>' in text
    assert text.count('name="satisfaction"') == 5


def test_one_answer_then_thanks_and_a_second_submission_changes_nothing(client, login_as, volunteer_a, session_a):
    login_as(volunteer_a)
    response = client.post(survey_url(session_a), data=GOOD_ANSWER)
    assert response.status_code == 302 and response.headers["Location"].endswith(survey_url(session_a))
    row = db.session.scalars(select(SurveyResponse)).one()
    assert (row.satisfaction, row.more_able_to_help, row.at_ease_with_computer, row.comment) == (
        5, True, False, "Très bien expliqué.")

    page = client.get(survey_url(session_a))
    assert page.status_code == 200
    assert "Merci, vous avez répondu à ce questionnaire." in page_text(page)
    assert 'name="satisfaction"' not in page_text(page)

    again = client.post(survey_url(session_a), data={**GOOD_ANSWER, "satisfaction": "1"}, follow_redirects=True)
    assert again.status_code == 200
    assert ("info", "Vous avez déjà répondu à ce questionnaire. Merci !") in flashes_in(again)
    assert count(SurveyResponse) == 1
    assert db.session.scalars(select(SurveyResponse)).one().satisfaction == 5


@pytest.mark.parametrize(("change", "message"), [
    ({"satisfaction": None}, "Choisissez une réponse."),
    ({"satisfaction": "9"}, "Choisissez une réponse."),
    ({"more_able_to_help": "peut-être"}, "Choisissez une réponse."),
    ({"at_ease_with_computer": None}, "Choisissez une réponse."),
    ({"comment": "trop long " * 250}, "Le commentaire est trop long (2000 caractères au plus)."),
])
def test_bad_answers_show_the_form_again_with_422_and_store_nothing(client, login_as, volunteer_a, session_a,
                                                                    change, message):
    login_as(volunteer_a)
    data = {k: v for k, v in {**GOOD_ANSWER, **change}.items() if v is not None}
    response = client.post(survey_url(session_a), data=data)
    assert response.status_code == 422
    text = page_text(response)
    assert message in text and "Le formulaire contient des erreurs" in text
    assert ("trop long" in data["comment"]) == ("trop long trop long" in text)  # the comment is kept
    assert count(SurveyResponse) == 0


def test_people_not_marked_present_get_the_reason_not_the_form(client, login_as, tenant_a, trainer_a, session_a):
    absent = attend(session_a, make_member(tenant_a, full_name="Alice Absente"), Attendance.ABSENT, by=trainer_a)
    for user in (absent, make_member(tenant_a), trainer_a):
        login_as(user)
        for response in (client.get(survey_url(session_a)), client.post(survey_url(session_a), data=GOOD_ANSWER)):
            assert response.status_code == 403
            assert "Le questionnaire est réservé aux personnes présentes à la session." in page_text(response)
            assert 'name="satisfaction"' not in page_text(response)
    assert count(SurveyResponse) == 0


def test_no_survey_before_the_session_nor_for_other_events(client, login_as, tenant_a, trainer_a, volunteer_a):
    coming = make_event(tenant_a, "training_session", utcnow() + timedelta(days=2), capacity=5, trainer=trainer_a,
                        module=make_module(None, title="Module à venir", lessons=1, questions=0))
    enrol_in(coming, volunteer_a)
    place_of(coming, volunteer_a).attendance = Attendance.PRESENT
    db.session.commit()
    workshop = make_event(tenant_a, "workshop", utcnow() - timedelta(days=3), capacity=5)
    attend(workshop, volunteer_a, by=trainer_a)
    login_as(volunteer_a)
    early = client.get(survey_url(coming))
    assert early.status_code == 409
    assert "Le questionnaire s'ouvre une fois la session commencée." in page_text(early)
    assert client.get(survey_url(workshop)).status_code == 404
    assert client.get(f"{A}/impact/sessions/999999/survey").status_code == 404


def test_another_structures_session_is_not_found(client, login_as, tenant_b, coordinator_b, volunteer_a):
    from tests.factories import make_membership
    from volunteer_platform.tenants.models import Role

    theirs = past_session(tenant_b, title="MARQUEUR-B")
    make_membership(tenant_b, volunteer_a, Role.VOLUNTEER)
    attend(theirs, volunteer_a, by=coordinator_b)
    login_as(volunteer_a)  # present at B's session, but asking under A's prefix
    for response in (client.get(survey_url(theirs)), client.post(survey_url(theirs), data=GOOD_ANSWER)):
        assert response.status_code == 404
        assert "MARQUEUR-B" not in page_text(response)
    assert count(SurveyResponse) == 0
    assert client.get(f"/structure-b/impact/sessions/{theirs.id}/survey").status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client, session_a):
    response = client.get(survey_url(session_a))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.fixture
def csrf(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def test_the_survey_needs_the_forms_csrf_token(csrf, client, login_as, volunteer_a, session_a):
    login_as(volunteer_a)
    assert client.post(survey_url(session_a), data=GOOD_ANSWER).status_code == 400
    assert count(SurveyResponse) == 0
    token = csrf_token_in(client.get(survey_url(session_a)))
    assert client.post(survey_url(session_a), data={**GOOD_ANSWER, "csrf_token": token}).status_code == 302
    assert count(SurveyResponse) == 1


def test_marking_present_on_the_sheet_emails_the_survey_link_once(client, login_as, tenant_a, trainer_a,
                                                                  volunteer_a):
    session = past_session(tenant_a, trainer=trainer_a)
    enrol_in(session, volunteer_a, now=session.starts_at - timedelta(days=2))
    place = place_of(session, volunteer_a)
    sheet = f"{A}/agenda/events/{session.id}/attendance"
    login_as(trainer_a)
    assert client.post(sheet, data={f"person_{place.id}": "present"}).status_code == 302
    emails = survey_emails(volunteer_a.email)
    assert len(emails) == 1
    link = re.search(r"http://testserver\.example(/\S+)", emails[0].body_text).group(1)
    assert link == survey_url(session)

    for value in ("present", "absent", "present"):  # marked again, changed, marked back
        assert client.post(sheet, data={f"person_{place.id}": value}).status_code == 302
    assert len(survey_emails(volunteer_a.email)) == 1

    login_as(volunteer_a)
    assert client.get(link).status_code == 200


# --- results on the event page ---------------------------------------------------------------------------


def event_page(client, event):
    response = client.get(f"{A}/agenda/events/{event.id}")
    assert response.status_code == 200
    return response


def test_results_wait_for_three_answers_and_never_show_names(client, login_as, tenant_a, trainer_a, coordinator_a,
                                                             supervisor, session_a, volunteer_a):
    others = [attend(session_a, make_member(tenant_a, full_name=f"Personne{i} Présente"), by=trainer_a)
              for i in range(3)]
    answer(session_a, volunteer_a, 5, more_able=True, at_ease=False, comment="Merci Théa")
    answer(session_a, others[0], 2, more_able=False, at_ease=False)
    login_as(trainer_a)
    section = results_section(event_page(client, session_a))
    assert "2 réponses sur 4 personnes présentes" in section
    assert "Les résultats s'affichent à partir de 3 réponses, pour préserver l'anonymat." in section
    assert "%" not in section and "Merci Théa" not in section

    answer(session_a, others[1], 4, more_able=True, at_ease=True, comment="Rythme un peu rapide")
    for viewer in (trainer_a, coordinator_a, supervisor):
        login_as(viewer)
        section = results_section(event_page(client, session_a))
        assert "3 réponses sur 4 personnes présentes" in section
        assert "<caption" in section and 'scope="row"' in section
        figures = re.sub(r"\s+", " ", section.replace("\u202f", " ").replace("\xa0", " "))
        assert "Satisfaits ou très satisfaits</th><td class=\"num\">67 %" in figures
        assert "3,7 sur 5" in figures
        assert "Se sentent plus capables d'aider quelqu'un</th><td class=\"num\">67 %" in figures
        assert "Se sentent à l'aise avec un ordinateur</th><td class=\"num\">33 %" in figures
        assert "Merci Théa" in section and "Rythme un peu rapide" in section
        for person in [volunteer_a, *others]:
            assert person.full_name not in section and person.first_name not in section
        assert "Les résultats s'affichent" not in section


def test_results_are_not_shown_to_volunteers_nor_to_other_trainers(client, login_as, tenant_a, trainer_a,
                                                                   session_a, volunteer_a):
    others = [attend(session_a, make_member(tenant_a), by=trainer_a) for _ in range(3)]
    for person in others:
        answer(session_a, person, 4, comment="COMMENTAIRE-SECRET")
    for viewer in (volunteer_a, make_member(tenant_a, "trainer"), make_member(tenant_a)):
        login_as(viewer)
        text = page_text(event_page(client, session_a))
        assert "Avis des participants" not in text and "COMMENTAIRE-SECRET" not in text


def test_the_event_page_offers_the_survey_then_thanks(client, login_as, session_a, volunteer_a):
    login_as(volunteer_a)
    text = page_text(event_page(client, session_a))
    assert f'href="{survey_url(session_a)}"' in text and "Donner mon avis sur la session" in text
    client.post(survey_url(session_a), data=GOOD_ANSWER)
    text = page_text(event_page(client, session_a))
    assert "Vous avez donné votre avis sur cette session. Merci !" in text
    assert f'href="{survey_url(session_a)}"' not in text


# --- the self-assessment -----------------------------------------------------------------------------------


@pytest.fixture
def path_a(tenant_a, volunteer_a):
    modules = [make_module(None, title="Messagerie", lessons=1, questions=0, area=CompetenceArea.COMMUNICATION),
               make_module(None, title="Sécurité", lessons=1, questions=0, area=CompetenceArea.SAFETY)]
    path = make_path(None, modules, title="Parcours aidant")
    assign_to(tenant_a, volunteer_a, path=path)
    return path, modules


def assessment_url(path, stage="start") -> str:
    return f"{A}/impact/paths/{path.id}/assessment/{stage}"


def assessments() -> list[tuple]:
    db.session.rollback()
    return sorted((a.stage.value, a.area.value, a.confidence) for a in db.session.scalars(select(SelfAssessment)))


def test_the_path_page_prompts_then_the_assessment_is_answered_once(client, login_as, tenant_a, volunteer_a, path_a):
    path, modules = path_a
    login_as(volunteer_a)
    training = page_text(client.get(f"{A}/training/"))
    assert "Avant de commencer, dites-nous où vous en êtes" in training
    assert f'href="{assessment_url(path)}"' in training

    page = client.get(assessment_url(path))
    assert page.status_code == 200
    text = page_text(page)
    assert "<legend>Communication et collaboration</legend>" in text
    assert "<legend>Protection et sécurité</legend>" in text
    assert "Information et données" not in text  # not an area of this path
    for label in ("Pas du tout à l'aise", "Un peu à l'aise", "Plutôt à l'aise", "Tout à fait à l'aise"):
        assert text.count(f">{label}</label>") == 2

    partial = client.post(assessment_url(path), data={"area_communication": "2"})
    assert partial.status_code == 422
    assert "Choisissez une réponse." in page_text(partial)
    assert client.post(assessment_url(path), data={"area_communication": "2", "area_safety": "7"}
                       ).status_code == 422
    assert assessments() == []

    done = client.post(assessment_url(path), data={"area_communication": "2", "area_safety": "1"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"{A}/training/")
    assert assessments() == [("start", "communication", 2), ("start", "safety", 1)]
    again = client.post(assessment_url(path), data={"area_communication": "4", "area_safety": "4"},
                        follow_redirects=True)
    assert ("info", "Vous avez déjà rempli ce bilan. Merci !") in flashes_in(again)
    assert "Un peu à l'aise" in page_text(again) and 'name="area_safety"' not in page_text(again)
    assert assessments() == [("start", "communication", 2), ("start", "safety", 1)]
    assert "Avant de commencer, dites-nous" not in page_text(client.get(f"{A}/training/"))

    early = client.get(assessment_url(path, "end"))
    assert early.status_code == 409
    assert "Ce bilan se remplit une fois le parcours terminé" in page_text(early)
    for module in modules:
        complete_module(volunteer_a, module, tenant_a)
    assert "Bravo, vous avez terminé ce parcours" in page_text(client.get(f"{A}/training/"))
    end = client.get(assessment_url(path, "end"))
    assert "Bravo, vous avez terminé le parcours" in page_text(end)
    assert client.post(assessment_url(path, "end"), data={"area_communication": "4", "area_safety": "3"}
                       ).status_code == 302
    assert ("end", "communication", 4) in assessments()


def test_only_start_and_end_and_only_paths_the_structure_sees(client, login_as, tenant_a, tenant_b, volunteer_a,
                                                             path_a):
    path, _modules = path_a
    login_as(volunteer_a)
    assert client.get(f"{A}/impact/paths/{path.id}/assessment/middle").status_code == 404
    theirs = make_path(tenant_b, [make_module(tenant_b, title="Module de B", lessons=1)], title="Parcours de B")
    draft = make_path(tenant_a, [make_module(tenant_a, title="Brouillon", lessons=1)], publish=False)
    for other in (theirs, draft):
        assert client.get(assessment_url(other)).status_code == 404
        assert client.post(assessment_url(other), data={"area_communication": "2"}).status_code == 404
    assert assessments() == []


# --- the shift report ----------------------------------------------------------------------------------------


@pytest.fixture
def shift_a(tenant_a, trainer_a, volunteer_a):
    """A three-hour shift that ended an hour ago, held by ``volunteer_a``."""
    shift = past_shift(tenant_a, hours_ago=4, hours=3, title="Permanence du marché")
    attend(shift, volunteer_a, by=trainer_a)
    return shift


def report_url(event) -> str:
    return f"{A}/impact/shifts/{event.id}/report"


def report_data(minutes="150", **people) -> dict[str, str]:
    return {"minutes": minutes} | {f"theme_{t.value}": str(people.get(t.value, 0)) for t in HelpTheme}


def test_the_report_form_is_prefilled_and_saved_then_editable(client, login_as, volunteer_a, shift_a):
    login_as(volunteer_a)
    page = client.get(report_url(shift_a))
    assert page.status_code == 200
    text = page_text(page)
    assert '<label for="minutes">Temps passé à aider (en minutes)</label>' in text
    assert re.search(r'id="minutes"[^>]*value="180"|value="180"[^>]*id="minutes"', text)
    assert "Comptez chaque personne une seule fois, dans son thème principal." in text
    assert "Ne notez rien sur les personnes aidées" in text
    assert "<legend>Nombre de personnes aidées, par thème</legend>" in text
    for theme in HelpTheme:
        assert f'<label for="theme_{theme.value}">{theme.label}</label>' in text
    assert text.count('value="0"') == len(HelpTheme)

    response = client.post(report_url(shift_a), data=report_data("150", email=2, health=1))
    assert response.status_code == 302
    db.session.rollback()
    report = report_of(shift_a, volunteer_a)
    assert (report.minutes, report.people_by_theme()) == (150, {HelpTheme.EMAIL: 2, HelpTheme.HEALTH: 1})

    text = page_text(client.get(report_url(shift_a)))
    assert "Compte rendu envoyé le" in text and "Enregistrer les corrections" in text
    assert re.search(r'id="theme_email"[^>]*value="2"|value="2"[^>]*id="theme_email"', text)
    assert client.post(report_url(shift_a), data=report_data("170", banking=3)).status_code == 302
    db.session.rollback()
    report = report_of(shift_a, volunteer_a)
    assert (report.minutes, report.people_by_theme()) == (170, {HelpTheme.BANKING: 3})
    assert count(ActivityReport) == 1


@pytest.mark.parametrize(("field", "value", "message"), [
    ("theme_email", "-1", "Indiquez un nombre entier entre 0 et 500."),
    ("theme_email", "deux", "Indiquez un nombre entier entre 0 et 500."),
    ("theme_housing", "501", "Indiquez un nombre entier entre 0 et 500."),
    ("theme_health", "1.5", "Indiquez un nombre entier entre 0 et 500."),
    ("minutes", "beaucoup", "Indiquez un nombre entier de minutes"),
    ("minutes", "", "Indiquez un nombre entier de minutes"),
    ("minutes", "400", "Indiquez une durée entre 0 et 300 minutes."),  # the service: the shift plus two hours
])
def test_bad_numbers_are_refused_with_422_and_kept_in_the_form(client, login_as, volunteer_a, shift_a, field,
                                                               value, message):
    login_as(volunteer_a)
    response = client.post(report_url(shift_a), data={**report_data("120", email=1), field: value})
    assert response.status_code == 422
    text = page_text(response)
    assert message in text
    assert f'value="{value}"' in text
    assert count(ActivityReport) == 0


def test_only_the_volunteers_of_a_started_shift_report(client, login_as, tenant_a, tenant_b, coordinator_a,
                                                       volunteer_a, shift_a):
    login_as(coordinator_a)  # not on the shift
    for response in (client.get(report_url(shift_a)), client.post(report_url(shift_a), data=report_data())):
        assert response.status_code == 403
        assert "Seules les personnes qui ont tenu la permanence en font le compte rendu." in page_text(response)

    coming = make_event(tenant_a, "shift", utcnow() + timedelta(days=2), capacity=3, title="Permanence à venir")
    enrol_in(coming, volunteer_a)
    theirs = past_shift(tenant_b, title="MARQUEUR-B")
    login_as(volunteer_a)
    early = client.post(report_url(coming), data=report_data())
    assert early.status_code == 409
    assert "Le compte rendu se remplit une fois la permanence commencée." in page_text(early)
    assert client.get(report_url(theirs)).status_code == 404
    session = past_session(tenant_a, hours_ago=30)
    attend(session, volunteer_a, by=coordinator_a)
    assert client.get(report_url(session)).status_code == 404
    assert count(ActivityReport) == 0

    text = page_text(event_page(client, shift_a))
    assert f'href="{report_url(shift_a)}"' in text and "Faire le compte rendu de la permanence" in text


# --- "À compléter" on the structure's home --------------------------------------------------------------------


def test_the_home_lists_what_is_left_to_fill_in(client, login_as, tenant_a, coordinator_a, volunteer_a,
                                                session_a, path_a):
    shift = past_shift(tenant_a, hours_ago=30, title="Permanence de la gare")
    attend(shift, volunteer_a, by=coordinator_a)
    path, _modules = path_a
    login_as(volunteer_a)
    text = page_text(client.get(f"{A}/"))
    assert "À compléter" in text
    assert f'<a href="{survey_url(session_a)}">Donner mon avis sur la session « Séance : la messagerie »</a>' in text
    assert f'<a href="{report_url(shift)}">Faire le compte rendu de la permanence « Permanence de la gare »</a>' \
        in text
    assert f'<a href="{assessment_url(path)}">Bilan de départ du parcours « Parcours aidant »</a>' in text

    client.post(survey_url(session_a), data=GOOD_ANSWER)
    client.post(report_url(shift), data=report_data("60", email=1))
    client.post(assessment_url(path), data={"area_communication": "3", "area_safety": "3"})
    assert "À compléter" not in page_text(client.get(f"{A}/"))

    login_as(coordinator_a)
    assert "À compléter" not in page_text(client.get(f"{A}/"))
