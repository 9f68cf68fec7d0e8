"""The learner's pages: my training, the catalogue, a module, the lesson player,
files, the quiz and its result, attestation PDFs — who reaches them and what they do."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import make_member, make_membership, page_text
from tests.training.factories import (
    PDF_BYTES,
    assign_to,
    complete_module,
    learning_version,
    make_module,
    make_path,
    make_qualification,
    right_answers,
    wrong_answers,
)
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Role
from volunteer_platform.training import services
from volunteer_platform.training.models import (
    Attestation,
    AwardSource,
    CompetenceArea,
    LessonProgress,
    LessonResource,
    Level,
    ModuleCompletion,
    QualificationAward,
    QuizAttempt,
)

A = "/structure-a/training"


def count(model, **where) -> int:
    db.session.rollback()
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return db.session.scalar(stmt)


def visible_text(response) -> str:
    """The page's text without tags, spaces collapsed (what a reader sees)."""
    return " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split())


def quiz_data(answers: dict[int, list[int]]) -> dict[str, list[str]]:
    return {f"q{qid}": [str(c) for c in choices] for qid, choices in answers.items()}


def lesson_url(module, lesson) -> str:
    return f"{A}/modules/{module.id}/lessons/{lesson.id}"


def resource_of(module) -> LessonResource:
    return learning_version(module).lessons[0].resources[0]


# --- access -----------------------------------------------------------------------------------


def learner_paths(module) -> list[str]:
    version = learning_version(module)
    return [
        f"{A}/", f"{A}/catalogue", f"{A}/modules/{module.id}", lesson_url(module, version.lessons[0]),
        f"{A}/modules/{module.id}/print", f"{A}/modules/{module.id}/quiz",
    ]


def test_anonymous_visitors_are_sent_to_the_login_page(client, tenant_a):
    module = make_module()
    for path in learner_paths(module):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"], path


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.TRAINER, Role.COORDINATOR])
def test_every_member_can_learn(client, login_as, tenant_a, role):
    module = make_module()
    login_as(make_member(tenant_a, role))
    for path in learner_paths(module):
        assert client.get(path).status_code == 200, path


def test_association_staff_can_look_at_the_learner_pages(client, login_as, tenant_a, supervisor):
    module = make_module()
    login_as(supervisor)
    for path in learner_paths(module):
        assert client.get(path).status_code == 200, path


def test_a_person_of_another_structure_gets_404(client, login_as, tenant_a, coordinator_b):
    module = make_module()
    login_as(coordinator_b)
    for path in learner_paths(module):
        assert client.get(path).status_code == 404, path


# --- the whole journey -----------------------------------------------------------------------


def test_a_volunteer_reads_the_lessons_and_passes_the_quiz(client, login_as, tenant_a, volunteer_a):
    qualification = make_qualification(name="Accompagnement aux démarches en ligne", validity_months=24)
    module = make_module(title="Créer une adresse e-mail", lessons=3, questions=2, qualification=qualification)
    version = learning_version(module)
    lessons = version.lessons
    login_as(volunteer_a)

    overview = page_text(client.get(f"{A}/modules/{module.id}"))
    assert "Commencer" in overview and "Créer une adresse e-mail" in overview
    assert f'href="{lesson_url(module, lessons[0])}"' in overview

    first = client.get(lesson_url(module, lessons[0]))
    text = page_text(first)
    assert "Leçon 1 sur 3" in text and "Contenu de la leçon 1" in text and "J'ai terminé cette leçon" in text

    response = client.post(f"{lesson_url(module, lessons[0])}/done")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(lesson_url(module, lessons[1]))
    assert count(LessonProgress, user_id=volunteer_a.id) == 1
    assert "Reprendre" in page_text(client.get(f"{A}/modules/{module.id}"))

    client.post(f"{lesson_url(module, lessons[1])}/done")
    response = client.post(f"{lesson_url(module, lessons[2])}/done")
    assert response.headers["Location"].endswith(f"{A}/modules/{module.id}/quiz")
    assert count(ModuleCompletion, user_id=volunteer_a.id) == 0

    response = client.post(f"{A}/modules/{module.id}/quiz", data=quiz_data(right_answers(version)))
    assert response.status_code == 302
    assert re.search(rf"{A}/modules/{module.id}/quiz/attempts/\d+$", response.headers["Location"])
    result = page_text(client.get(response.headers["Location"]))
    assert "Votre score : 100 %" in result and "Quiz réussi" in result
    assert "Vous avez terminé le module « Créer une adresse e-mail »" in result
    assert "EXPLICATION" not in result  # nothing to explain: every answer was right

    assert count(ModuleCompletion, user_id=volunteer_a.id, tenant_id=tenant_a.id) == 1
    attestation = db.session.scalars(select(Attestation).where(Attestation.user_id == volunteer_a.id)).one()
    assert attestation.tenant_id == tenant_a.id and attestation.module_version_id == version.id
    award = db.session.scalars(select(QualificationAward).where(QualificationAward.user_id == volunteer_a.id)).one()
    assert award.qualification_id == qualification.id and award.source is AwardSource.MODULE
    assert f"{A}/attestations/{attestation.id}.pdf" in result

    mine = page_text(client.get(f"{A}/"))
    assert "Accompagnement aux démarches en ligne" in mine
    assert "Valable jusqu'au" in mine
    assert f"{A}/attestations/{attestation.id}.pdf" in mine
    assert "Aucun module en cours." in mine
    assert "Vous avez terminé ce module le" in page_text(client.get(f"{A}/modules/{module.id}"))


def test_the_last_lesson_of_a_module_without_quiz_completes_it(client, login_as, tenant_a, volunteer_a):
    module = make_module(lessons=2, questions=0)
    lessons = learning_version(module).lessons
    login_as(volunteer_a)
    client.post(f"{lesson_url(module, lessons[0])}/done")
    response = client.post(f"{lesson_url(module, lessons[1])}/done", follow_redirects=True)
    assert response.request.path == f"{A}/modules/{module.id}"
    assert "Bravo, vous avez terminé le module" in page_text(response)
    assert count(ModuleCompletion, user_id=volunteer_a.id) == 1


def test_skipped_lessons_are_offered_after_the_last_one(client, login_as, tenant_a, volunteer_a):
    module = make_module(lessons=3)
    lessons = learning_version(module).lessons
    login_as(volunteer_a)
    response = client.post(f"{lesson_url(module, lessons[2])}/done")
    assert response.headers["Location"].endswith(lesson_url(module, lessons[0]))


def test_the_lesson_player_renders_sanitised_markdown_files_and_neighbours(client, login_as, tenant_a, volunteer_a):
    module = make_module(lessons=3, resource=("fiche.pdf", PDF_BYTES), publish=False)
    draft = module.versions[0]
    services.update_lesson(draft.lessons[1], None, title="Leçon 2",
                           body="**important** <script>alert('x')</script> [piège](javascript:alert(1))")
    services.publish(module, None, now=utcnow())
    db.session.commit()
    lessons = learning_version(module).lessons
    login_as(volunteer_a)

    html = client.get(lesson_url(module, lessons[1])).get_data(as_text=True)
    assert "<strong>important</strong>" in html
    assert "<script" not in html and "href=\"javascript" not in html
    assert f'href="{lesson_url(module, lessons[0])}"' in html and f'href="{lesson_url(module, lessons[2])}"' in html

    first = page_text(client.get(lesson_url(module, lessons[0])))
    assert "Fiche pratique" in first and f"{A}/resources/{resource_of(module).id}" in first


def test_a_lesson_of_another_version_is_not_found(client, login_as, tenant_a, volunteer_a):
    module = make_module(lessons=2)
    draft = services.editable_version(module, None, now=utcnow())
    db.session.commit()
    other = make_module(title="Autre module")
    login_as(volunteer_a)
    assert client.get(lesson_url(module, draft.lessons[0])).status_code == 404
    assert client.get(lesson_url(module, learning_version(other).lessons[0])).status_code == 404
    assert client.post(f"{lesson_url(module, draft.lessons[0])}/done").status_code == 404
    assert count(LessonProgress) == 0


def test_the_printable_view_has_every_lesson(client, login_as, tenant_a, volunteer_a):
    module = make_module(lessons=4)
    login_as(volunteer_a)
    text = page_text(client.get(f"{A}/modules/{module.id}/print"))
    for i in range(1, 5):
        assert f"Contenu de la leçon {i}" in text


# --- the quiz -------------------------------------------------------------------------------------


def test_the_quiz_page_never_contains_the_answers(client, login_as, tenant_a, volunteer_a):
    module = make_module(questions=3)
    multiple = make_module(title="Plusieurs réponses", questions=2, multiple=True)
    login_as(volunteer_a)
    for m, kind in ((module, "radio"), (multiple, "checkbox")):
        html = client.get(f"{A}/modules/{m.id}/quiz").get_data(as_text=True)
        assert "EXPLICATION" not in html
        assert "correct" not in html.lower()
        assert "Question 1 ?" in html and "Choix A1" in html and "Choix C1" in html
        # A right choice and a wrong one are written the same way, but for their ids.
        inputs = re.findall(r"<input[^>]*name=\"q\d+\"[^>]*>", html)
        assert inputs and all(f'type="{kind}"' in tag for tag in inputs)
        shapes = {re.sub(r"\d+", "N", tag) for tag in inputs}
        assert len(shapes) == 1, shapes


def test_a_failed_quiz_explains_the_wrong_answers_only_and_can_be_retaken(client, login_as, tenant_a, volunteer_a):
    module = make_module(questions=2, pass_mark=100, lessons=1)
    version = learning_version(module)
    q1, q2 = version.questions
    login_as(volunteer_a)
    answers = {q1.id: wrong_answers(version)[q1.id], q2.id: right_answers(version)[q2.id]}
    response = client.post(f"{A}/modules/{module.id}/quiz", data=quiz_data(answers))
    assert response.status_code == 302
    result = visible_text(client.get(response.headers["Location"]))
    assert "Votre score : 50 %" in result and "il fallait 100 %" in result
    assert "Quiz pas encore réussi" in result
    assert "EXPLICATION-1" in result and "EXPLICATION-2" not in result
    assert "La bonne réponse : Choix A1" in result
    assert "Recommencer le quiz" in result
    assert count(ModuleCompletion) == 0

    assert client.get(f"{A}/modules/{module.id}/quiz").status_code == 200
    response = client.post(f"{A}/modules/{module.id}/quiz", data=quiz_data(right_answers(version)))
    assert "Votre score : 100 %" in page_text(client.get(response.headers["Location"]))
    assert count(QuizAttempt, user_id=volunteer_a.id) == 2
    assert count(ModuleCompletion) == 0  # the lesson is still to be read
    assert "Quiz réussi (meilleur score : 100 %)" in page_text(client.get(f"{A}/modules/{module.id}"))


def test_multiple_answers_need_every_right_choice(client, login_as, tenant_a, volunteer_a):
    module = make_module(questions=1, multiple=True, pass_mark=100)
    version = learning_version(module)
    question = version.questions[0]
    a, b, _c = question.choices
    login_as(volunteer_a)
    response = client.post(f"{A}/modules/{module.id}/quiz", data={f"q{question.id}": [str(a.id)]})
    result = visible_text(client.get(response.headers["Location"]))
    assert "Votre score : 0 %" in result and "Les bonnes réponses : Choix A1, Choix B1" in result
    response = client.post(f"{A}/modules/{module.id}/quiz", data={f"q{question.id}": [str(a.id), str(b.id)]})
    assert "Votre score : 100 %" in page_text(client.get(response.headers["Location"]))


def test_an_unanswered_question_is_refused_and_nothing_is_saved(client, login_as, tenant_a, volunteer_a):
    module = make_module(questions=3)
    version = learning_version(module)
    q1, q2, q3 = version.questions
    login_as(volunteer_a)
    right = right_answers(version)
    response = client.post(f"{A}/modules/{module.id}/quiz", data=quiz_data({q2.id: right[q2.id]}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    text = page_text(response)
    assert text.count("Répondez à toutes les questions.") == 2 * 2  # summary and beside each question
    assert f'id="question-{q1.id}-error"' in html and f'id="question-{q3.id}-error"' in html
    assert f'id="question-{q2.id}-error"' not in html
    assert re.search(rf'value="{right[q2.id][0]}"\s+checked', html)  # the answer given is kept
    assert "EXPLICATION" not in html
    assert count(QuizAttempt) == 0

    # A choice of another question does not count as an answer.
    foreign = {q1.id: right[q2.id], q2.id: right[q2.id], q3.id: right[q3.id]}
    assert client.post(f"{A}/modules/{module.id}/quiz", data=quiz_data(foreign)).status_code == 422
    # Two choices for a single-answer question neither.
    double = right | {q1.id: [c.id for c in q1.choices[:2]]}
    assert client.post(f"{A}/modules/{module.id}/quiz", data=quiz_data(double)).status_code == 422
    assert count(QuizAttempt) == 0


def test_an_attempt_result_is_only_for_its_owner(client, login_as, tenant_a, volunteer_a):
    module = make_module()
    version = learning_version(module)
    attempt = services.submit_quiz(volunteer_a, version, tenant_a, right_answers(version), now=utcnow())
    db.session.commit()
    url = f"{A}/modules/{module.id}/quiz/attempts/{attempt.attempt.id}"
    other_module = make_module(title="Autre")
    login_as(make_member(tenant_a, Role.COORDINATOR))
    assert client.get(url).status_code == 404
    login_as(volunteer_a)
    assert client.get(url).status_code == 200
    assert client.get(f"{A}/modules/{other_module.id}/quiz/attempts/{attempt.attempt.id}").status_code == 404


def test_a_module_without_questions_has_no_quiz(client, login_as, tenant_a, volunteer_a):
    module = make_module(questions=0)
    login_as(volunteer_a)
    assert client.get(f"{A}/modules/{module.id}/quiz").status_code == 404


# --- prerequisites ------------------------------------------------------------------------------------


def test_a_path_blocks_its_second_module_until_the_first_is_completed(client, login_as, tenant_a, volunteer_a):
    first = make_module(title="Les bases du smartphone")
    second = make_module(title="Démarches en ligne et FranceConnect")
    path = make_path(tenant_a, [first, second])
    assign_to(tenant_a, volunteer_a, path=path)
    lesson = learning_version(second).lessons[0]
    login_as(volunteer_a)

    overview = page_text(client.get(f"{A}/modules/{second.id}"))
    assert "Avant de commencer" in overview and "Les bases du smartphone" in overview
    assert "Commencer" not in overview and lesson_url(second, lesson) not in overview

    for response in (client.get(lesson_url(second, lesson)), client.post(f"{lesson_url(second, lesson)}/done"),
                     client.get(f"{A}/modules/{second.id}/quiz"), client.get(f"{A}/modules/{second.id}/print"),
                     client.post(f"{A}/modules/{second.id}/quiz", data=quiz_data(right_answers(learning_version(second))))):
        assert response.status_code == 403
        text = page_text(response)
        assert "Terminez d'abord : Les bases du smartphone." in text
        assert f"{A}/modules/{first.id}" in text
    assert count(LessonProgress) == 0 and count(QuizAttempt) == 0

    complete_module(volunteer_a, first, tenant_a)
    assert client.get(lesson_url(second, lesson)).status_code == 200
    assert client.post(f"{lesson_url(second, lesson)}/done").status_code == 302
    assert count(LessonProgress, lesson_id=lesson.id) == 1


# --- visibility ----------------------------------------------------------------------------------------


def test_another_structures_own_module_is_not_found(client, login_as, tenant_a, tenant_b, volunteer_a):
    theirs = make_module(tenant_b, title="MARQUEUR-B module", resource=("fiche.pdf", PDF_BYTES))
    version = learning_version(theirs)
    login_as(volunteer_a)
    for path in [f"{A}/modules/{theirs.id}", lesson_url(theirs, version.lessons[0]), f"{A}/modules/{theirs.id}/quiz",
                 f"{A}/modules/{theirs.id}/print", f"{A}/resources/{resource_of(theirs).id}"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert "MARQUEUR-B" not in page_text(response)
    for path in [f"{lesson_url(theirs, version.lessons[0])}/done", f"{A}/modules/{theirs.id}/quiz"]:
        assert client.post(path, data=quiz_data(right_answers(version))).status_code == 404, path
    assert count(LessonProgress) == 0 and count(QuizAttempt) == 0
    assert "MARQUEUR-B" not in page_text(client.get(f"{A}/catalogue"))


def test_a_structures_own_module_is_open_to_its_members(client, login_as, tenant_a, volunteer_a):
    ours = make_module(tenant_a, title="Module maison", resource=("fiche.pdf", PDF_BYTES))
    login_as(volunteer_a)
    assert "Module maison" in page_text(client.get(f"{A}/catalogue"))
    assert client.get(f"{A}/modules/{ours.id}").status_code == 200
    assert client.get(f"{A}/resources/{resource_of(ours).id}").status_code == 200


@pytest.mark.parametrize("state", ["draft", "archived"])
def test_draft_and_archived_modules_are_not_found_for_learners(client, login_as, tenant_a, volunteer_a, state):
    module = make_module(tenant_a, title="MARQUEUR-ÉTAT", publish=False, archive=state == "archived",
                         resource=("fiche.pdf", PDF_BYTES))
    version = module.versions[0]
    lesson = version.lessons[0]
    resource_id = lesson.resources[0].id
    login_as(volunteer_a)
    for path in [f"{A}/modules/{module.id}", lesson_url(module, lesson), f"{A}/modules/{module.id}/quiz",
                 f"{A}/modules/{module.id}/print", f"{A}/resources/{resource_id}"]:
        assert client.get(path).status_code == 404, path
    assert client.post(f"{lesson_url(module, lesson)}/done").status_code == 404
    assert "MARQUEUR-ÉTAT" not in page_text(client.get(f"{A}/catalogue"))
    assert count(LessonProgress) == 0


def test_a_drafts_file_is_not_downloadable(client, login_as, tenant_a, volunteer_a):
    module = make_module()
    draft = services.editable_version(module, None, now=utcnow())
    resource = services.add_resource(draft.lessons[0], None, title="Brouillon", filename="brouillon.pdf",
                                     data=PDF_BYTES)
    db.session.commit()
    login_as(volunteer_a)
    assert client.get(f"{A}/resources/{resource.id}").status_code == 404


# --- files and attestations ---------------------------------------------------------------------------------


def test_a_lesson_file_is_sent_as_an_attachment(client, login_as, tenant_a, volunteer_a):
    module = make_module(resource=("fiche à imprimer.pdf", PDF_BYTES))
    login_as(volunteer_a)
    response = client.get(f"{A}/resources/{resource_of(module).id}")
    assert response.status_code == 200
    assert response.data == PDF_BYTES
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''fiche%20%C3%A0%20imprimer.pdf" in disposition
    assert "no-store" in response.headers["Cache-Control"]


def test_an_attestation_pdf_is_for_its_holder_and_the_structures_coordinators(
        client, login_as, tenant_a, tenant_b, volunteer_a, coordinator_a, coordinator_b):
    module = make_module()
    complete_module(volunteer_a, module, tenant_a)
    attestation = db.session.scalars(select(Attestation).where(Attestation.user_id == volunteer_a.id)).one()
    url = f"{A}/attestations/{attestation.id}.pdf"

    for person in (volunteer_a, coordinator_a):
        login_as(person)
        response = client.get(url)
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF")
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert f"attestation-{attestation.code}.pdf" in response.headers["Content-Disposition"]

    login_as(make_member(tenant_a, Role.VOLUNTEER))  # another volunteer of the same structure
    assert client.get(url).status_code == 404
    login_as(make_member(tenant_a, Role.TRAINER))
    assert client.get(url).status_code == 404
    login_as(coordinator_b)  # a coordinator of another structure, under either prefix
    assert client.get(url).status_code == 404
    assert client.get(f"/structure-b/training/attestations/{attestation.id}.pdf").status_code == 404
    make_membership(tenant_b, volunteer_a, Role.VOLUNTEER)  # the holder, under another structure's prefix
    login_as(volunteer_a)
    assert client.get(f"/structure-b/training/attestations/{attestation.id}.pdf").status_code == 404


# --- my training and the catalogue ----------------------------------------------------------------------------


def test_my_training_shows_assignments_progress_and_whats_next(client, login_as, tenant_a, volunteer_a):
    started = make_module(title="Smartphone : les bases", lessons=3)
    late = make_module(title="Faire une visio")
    path_modules = [make_module(title="Étape un"), make_module(title="Étape deux")]
    # Assigned ten days ago, due three days ago: overdue now.
    assign_to(tenant_a, volunteer_a, module=late, due_on=date.today() - timedelta(days=3),
              now=utcnow() - timedelta(days=10))
    assign_to(tenant_a, volunteer_a, path=make_path(tenant_a, path_modules, title="Parcours niveau 1"),
              due_on=date.today() + timedelta(days=40))
    services.mark_lesson_read(volunteer_a, learning_version(started).lessons[0], tenant_a, now=utcnow())
    db.session.commit()
    login_as(volunteer_a)

    response = client.get(f"{A}/")
    text = page_text(response)
    assert "Ma formation" in text
    assert "Faire une visio" in text and "En retard : à terminer avant le" in text
    assert "Parcours : Parcours niveau 1" in text and "Étape un" in text and "Étape deux" in text
    assert "0 module(s) terminé(s) sur 2" in text
    # What's next: the module worked on, at its first unread lesson.
    next_lesson = learning_version(started).lessons[1]
    section = text.split("À suivre maintenant")[1].split("Demandé par votre structure")[0]
    assert "Smartphone : les bases" in section and "Prochaine leçon : Leçon 2" in section
    assert lesson_url(started, next_lesson) in response.get_data(as_text=True)
    assert '<progress max="100" value="25"' in response.get_data(as_text=True)  # 1 step done of 3 lessons + quiz


def test_whats_next_follows_the_path_when_nothing_is_started(client, login_as, tenant_a, volunteer_a):
    steps = [make_module(title="Étape un"), make_module(title="Étape deux")]
    assign_to(tenant_a, volunteer_a, path=make_path(tenant_a, steps))
    login_as(volunteer_a)
    response = client.get(f"{A}/")
    section = page_text(response).split("À suivre maintenant")[1].split("Demandé par votre structure")[0]
    assert "Étape un" in section and "Commencer" in section
    complete_module(volunteer_a, steps[0], tenant_a)
    section = page_text(client.get(f"{A}/")).split("À suivre maintenant")[1].split("Demandé par votre structure")[0]
    assert "Étape deux" in section


def test_my_qualifications_say_their_validity_in_words(client, login_as, tenant_a, volunteer_a):
    now = utcnow()
    for name, months, awarded_days_ago in [("Qualif valable", 24, 10), ("Qualif bientôt", 1, 15),
                                           ("Qualif expirée", 1, 60), ("Qualif permanente", None, 5),
                                           ("Qualif retirée", 24, 3)]:
        qualification = make_qualification(tenant_a, name=name, validity_months=months)
        award = services.award(tenant_a, volunteer_a, qualification, source=AwardSource.EXTERNAL, now=now,
                               awarded_at=now - timedelta(days=awarded_days_ago), note="Ailleurs")
        if name == "Qualif retirée":
            services.withdraw_award(award, reason="Erreur de saisie", now=now)
    db.session.commit()
    login_as(volunteer_a)
    text = page_text(client.get(f"{A}/"))

    def row(name: str) -> str:
        return text.split(name)[1].split("Qualif")[0]

    assert "Valable jusqu'au" in row("Qualif valable") and "Expire" not in row("Qualif valable")
    assert "Expire bientôt : valable jusqu'au" in row("Qualif bientôt")
    assert "Expirée depuis le" in row("Qualif expirée")
    assert "Valable sans limite de durée" in row("Qualif permanente")
    assert "Retirée le" in row("Qualif retirée")


def test_another_structures_qualifications_stay_private(client, login_as, tenant_a, tenant_b, volunteer_a):
    make_membership(tenant_b, volunteer_a, Role.VOLUNTEER)
    qualification = make_qualification(tenant_b, name="MARQUEUR-B qualif")
    services.award(tenant_b, volunteer_a, qualification, source=AwardSource.EXTERNAL, now=utcnow(), note="B")
    db.session.commit()
    login_as(volunteer_a)
    assert "MARQUEUR-B" not in page_text(client.get(f"{A}/"))
    assert "MARQUEUR-B qualif" in page_text(client.get("/structure-b/training/"))


def test_the_catalogue_filters_and_says_where_i_stand(client, login_as, tenant_a, volunteer_a):
    done = make_module(title="Module terminé", area=CompetenceArea.SAFETY, level=Level.BEGINNER)
    started = make_module(title="Module commencé", area=CompetenceArea.SAFETY, level=Level.ADVANCED, lessons=2,
                          questions=0)
    make_module(title="Module à découvrir", area=CompetenceArea.COMMUNICATION, level=Level.BEGINNER)
    complete_module(volunteer_a, done, tenant_a)
    services.mark_lesson_read(volunteer_a, learning_version(started).lessons[0], tenant_a, now=utcnow())
    db.session.commit()
    login_as(volunteer_a)

    text = page_text(client.get(f"{A}/catalogue"))
    assert "3 modules" in text
    cards = {title: next(card for card in text.split('<li class="card">') if title in card)
             for title in ("Module terminé", "Module commencé", "Module à découvrir")}
    assert "Terminé" in cards["Module terminé"]
    assert "En cours" in cards["Module commencé"] and "50 %" in cards["Module commencé"]
    assert "Pas commencé" in cards["Module à découvrir"]
    assert "Niveau : Débutant" in cards["Module à découvrir"] and "Durée : 45 min" in cards["Module à découvrir"]

    safety = page_text(client.get(f"{A}/catalogue?area=safety"))
    assert "Module terminé" in safety and "Module commencé" in safety and "Module à découvrir" not in safety
    both = page_text(client.get(f"{A}/catalogue?area=safety&level=advanced"))
    assert "Module commencé" in both and "Module terminé" not in both
    assert "1 module" in both
    assert client.get(f"{A}/catalogue?area=nimporte&level=quoi").status_code == 200


def test_an_in_person_session_is_announced_and_its_attendance_shown(client, login_as, tenant_a, volunteer_a,
                                                                   coordinator_a):
    module = make_module(requires_attendance=True, lessons=1, questions=0)
    login_as(volunteer_a)
    text = page_text(client.get(f"{A}/modules/{module.id}"))
    assert "séance de formation en présentiel" in text and "n'est pas encore enregistrée" in text
    response = client.post(f"{lesson_url(module, learning_version(module).lessons[0])}/done", follow_redirects=True)
    assert "il reste à participer à la séance en présentiel" in page_text(response)
    assert count(ModuleCompletion) == 0
    services.record_attendance(tenant_a, volunteer_a, module, attended_on=date.today(), recorded_by=coordinator_a,
                               now=utcnow())
    db.session.commit()
    text = page_text(client.get(f"{A}/modules/{module.id}"))
    assert "Votre participation à la séance est enregistrée." in text
    assert "Vous avez terminé ce module" in text


# --- query counts -----------------------------------------------------------------------------------------------


def _queries_for(client, count_queries, url: str) -> int:
    with count_queries() as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_module_and_lesson_pages_run_the_same_queries_for_3_or_30_lessons(client, login_as, tenant_a,
                                                                             volunteer_a, count_queries):
    small = make_module(title="Petit", lessons=3, resource=("fiche.pdf", PDF_BYTES))
    large = make_module(title="Grand", lessons=30, resource=("fiche.pdf", PDF_BYTES))
    for module in (small, large):
        version = learning_version(module)
        for lesson in version.lessons[:2]:
            services.mark_lesson_read(volunteer_a, lesson, tenant_a, now=utcnow())
    db.session.commit()
    login_as(volunteer_a)
    for page in (lambda m: f"{A}/modules/{m.id}",
                 lambda m: lesson_url(m, learning_version(m).lessons[0]),
                 lambda m: lesson_url(m, learning_version(m).lessons[2]),
                 lambda m: f"{A}/modules/{m.id}/print",
                 lambda m: f"{A}/modules/{m.id}/quiz"):
        assert _queries_for(client, count_queries, page(small)) == _queries_for(client, count_queries, page(large))


def test_my_training_and_the_catalogue_run_a_fixed_number_of_queries(client, login_as, tenant_a, volunteer_a,
                                                                     count_queries):
    def build(n: int, prefix: str) -> None:
        modules = [make_module(title=f"{prefix} {i}", lessons=2) for i in range(n)]
        for module in modules[: n // 2]:
            services.mark_lesson_read(volunteer_a, learning_version(module).lessons[0], tenant_a, now=utcnow())
        complete_module(volunteer_a, modules[-1], tenant_a)
        assign_to(tenant_a, volunteer_a, path=make_path(tenant_a, modules[:2], title=f"Parcours {prefix}"))
        assign_to(tenant_a, volunteer_a, module=modules[2])
        db.session.commit()

    login_as(volunteer_a)
    build(3, "Premier")
    few = (_queries_for(client, count_queries, f"{A}/"), _queries_for(client, count_queries, f"{A}/catalogue"))
    build(12, "Second")
    many = (_queries_for(client, count_queries, f"{A}/"), _queries_for(client, count_queries, f"{A}/catalogue"))
    assert few == many


def test_the_structure_home_shows_whats_next(client, login_as, tenant_a):
    from tests.training.factories import make_path
    user = make_member(tenant_a, "volunteer")
    first = make_module(None, title="Premiers pas sur smartphone", lessons=2)
    path = make_path(None, [first])
    assign_to(tenant_a, user, path=path)
    login_as(user)
    text = page_text(client.get(f"/{tenant_a.slug}/"))
    assert "Premiers pas sur smartphone" in text
    assert "Commencer" in text
