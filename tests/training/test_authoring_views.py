"""Authoring pages: coordinators author their structure's modules under
``/<slug>/training/authoring``, association staff the shared catalogue under
``/supervision/catalogue``. Versioning, previews, quizzes, files, paths, copies
of shared modules, and isolation between structures."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from tests.factories import csrf_token_in, make_member, page_text
from tests.training.factories import (
    PDF_BYTES,
    complete_module,
    make_module,
    make_path,
    make_qualification,
)
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Role
from volunteer_platform.training import queries, services
from volunteer_platform.training.models import (
    Attestation,
    CatalogueStatus,
    Choice,
    Lesson,
    LessonResource,
    Module,
    ModuleCompletion,
    ModuleVersion,
    Path,
    PathStep,
    Qualification,
    Question,
    QuestionKind,
)

A = "/structure-a/training/authoring"
B = "/structure-b/training/authoring"
CAT = "/supervision/catalogue"
FORBIDDEN_SHARED = "Vous ne pouvez pas modifier ce contenu : il appartient au catalogue commun."


# --- helpers -------------------------------------------------------------------------------


def module_form(**overrides):
    data = {
        "title": "Utiliser FranceConnect",
        "summary": "Se connecter aux services publics avec un compte existant.",
        "objectives": "Reconnaître le bouton FranceConnect\nChoisir un compte",
        "competence_area": "information",
        "level": "beginner",
        "duration_minutes": "45",
        "pass_mark": "80",
        "qualification_id": "",
    }
    data.update(overrides)
    return data


def question_form(prompt="Quel bouton utiliser ?", kind="single", rows=(("FranceConnect", True), ("Autre", False)),
                  feedback="Le bouton FranceConnect est bleu."):
    data = {"prompt": prompt, "kind": kind, "feedback": feedback}
    for i, (text, right) in enumerate(rows):
        data[f"choices-{i}-text"] = text
        if right:
            data[f"choices-{i}-is_correct"] = "y"
    for i in range(len(rows), 6):
        data[f"choices-{i}-text"] = ""
    return data


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def fresh_module(module_id) -> Module:
    db.session.rollback()
    return db.session.scalars(select(Module).where(Module.id == module_id)).one()


def versions_of(module_id) -> list[ModuleVersion]:
    db.session.rollback()
    return list(db.session.scalars(
        select(ModuleVersion).where(ModuleVersion.module_id == module_id).order_by(ModuleVersion.number)
    ))


def draft_of(module_id) -> ModuleVersion:
    return next(v for v in versions_of(module_id) if v.is_draft)


def version_url(prefix, version) -> str:
    return f"{prefix}/modules/{version.module_id}/versions/{version.id}"


def lesson_titles(version_id) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(
        select(Lesson.title).where(Lesson.version_id == version_id).order_by(Lesson.position)
    ))


def question_prompts(version_id) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(
        select(Question.prompt).where(Question.version_id == version_id).order_by(Question.position)
    ))


def snapshot(version_id) -> tuple:
    """A version's content, read fresh: fields, lessons, questions and choices."""
    db.session.rollback()
    version = db.session.scalars(select(ModuleVersion).where(ModuleVersion.id == version_id)).one()
    return (
        tuple(getattr(version, c.key) for c in ModuleVersion.__table__.columns),
        tuple((lesson.title, lesson.body, lesson.position) for lesson in version.lessons),
        tuple((q.prompt, q.kind, q.feedback, tuple((c.text, c.is_correct) for c in q.choices))
              for q in version.questions),
    )


def upload(filename, data, **fields):
    return {"title": "Leçon avec document", "body": "Voir la fiche.", "resource_title": "Fiche",
            **fields, "file": (io.BytesIO(data), filename)}


# --- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [f"{A}/", f"{A}/modules/new", f"{A}/paths", f"{CAT}/", f"{CAT}/paths"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, tenant_a, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("url", [f"{A}/", f"{A}/modules/new", f"{A}/paths", f"{A}/qualifications/new"])
def test_volunteers_cannot_author(client, login_as, volunteer_a, url):
    login_as(volunteer_a)
    assert client.get(url).status_code == 403


def test_a_volunteer_cannot_create_a_module(client, login_as, volunteer_a):
    login_as(volunteer_a)
    assert client.post(f"{A}/modules/new", data=module_form()).status_code == 403
    assert count(Module) == 0


@pytest.mark.parametrize("url", [f"{CAT}/", f"{CAT}/modules/new", f"{CAT}/paths", f"{CAT}/qualifications/new"])
def test_a_coordinator_cannot_reach_the_shared_catalogue(client, login_as, coordinator_a, url):
    login_as(coordinator_a)
    assert client.get(url).status_code == 403


def test_a_coordinator_cannot_add_to_the_shared_catalogue(client, login_as, coordinator_a):
    login_as(coordinator_a)
    assert client.post(f"{CAT}/modules/new", data=module_form()).status_code == 403
    shared = make_module(None, publish=False)
    draft = shared.versions[0]
    assert client.post(f"{version_url(CAT, draft)}/lessons/new",
                       data={"title": "Intrusion", "body": ""}).status_code == 403
    assert count(Module) == 1
    assert lesson_titles(draft.id) == ["Leçon 1", "Leçon 2", "Leçon 3"]


def test_a_coordinator_of_a_cannot_reach_the_authoring_pages_of_b(client, login_as, coordinator_a, tenant_b):
    login_as(coordinator_a)
    for url in [f"{B}/", f"{B}/modules/new", f"{B}/paths"]:
        assert client.get(url).status_code == 404
    assert client.post(f"{B}/modules/new", data=module_form()).status_code == 404
    assert count(Module) == 0


# --- the whole authoring journey -------------------------------------------------------------------


def test_create_fill_reorder_preview_and_publish_a_module(client, login_as, coordinator_a, tenant_a):
    login_as(coordinator_a)
    assert client.get(f"{A}/modules/new").status_code == 200

    response = client.post(f"{A}/modules/new", data=module_form())
    assert response.status_code == 302
    module = db.session.scalars(select(Module)).one()
    assert module.tenant_id == tenant_a.id
    assert module.status is CatalogueStatus.DRAFT
    (version,) = versions_of(module.id)
    assert version.number == 1 and version.is_draft
    assert version.title == "Utiliser FranceConnect" and version.duration_minutes == 45
    assert response.headers["Location"].endswith(version_url(A, version))

    page = page_text(client.get(version_url(A, version)))
    assert "Vous modifiez la version 1 (brouillon)." in page

    for title, body in [("Repérer le bouton", "Cherchez le **bouton bleu**."),
                        ("Choisir son compte", "![Écran de connexion](https://exemple.fr/ecran.png)")]:
        response = client.post(f"{version_url(A, version)}/lessons/new", data={"title": title, "body": body})
        assert response.status_code == 302
    assert lesson_titles(version.id) == ["Repérer le bouton", "Choisir son compte"]

    assert client.post(f"{version_url(A, version)}/questions/new", data=question_form()).status_code == 302
    assert client.post(f"{version_url(A, version)}/questions/new", data=question_form(
        prompt="Quels comptes sont possibles ?", kind="multiple",
        rows=[("Impots.gouv", True), ("Ameli", True), ("", False), ("Un réseau social", False)],
    )).status_code == 302
    assert question_prompts(version.id) == ["Quel bouton utiliser ?", "Quels comptes sont possibles ?"]
    multiple = db.session.scalars(select(Question).where(Question.kind == QuestionKind.MULTIPLE)).one()
    assert [(c.text, c.is_correct) for c in multiple.choices] == [
        ("Impots.gouv", True), ("Ameli", True), ("Un réseau social", False)]  # the empty row is ignored

    second_lesson = db.session.scalars(select(Lesson).where(Lesson.title == "Choisir son compte")).one()
    assert client.post(f"{A}/lessons/{second_lesson.id}/move", data={"direction": "up"}).status_code == 302
    assert lesson_titles(version.id) == ["Choisir son compte", "Repérer le bouton"]
    first_question = db.session.scalars(select(Question).where(Question.prompt == "Quel bouton utiliser ?")).one()
    assert client.post(f"{A}/questions/{first_question.id}/move", data={"direction": "down"}).status_code == 302
    assert question_prompts(version.id) == ["Quels comptes sont possibles ?", "Quel bouton utiliser ?"]

    response = client.get(f"{version_url(A, version)}/preview")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    preview = page_text(response)
    assert "Aperçu" in preview
    assert "<strong>bouton bleu</strong>" in html
    assert '<img src="https://exemple.fr/ecran.png" alt="Écran de connexion">' in page_text(response)
    assert "Leçon 1 : Choisir son compte" in preview and "Leçon 2 : Repérer le bouton" in preview
    assert re.search(r"Impots\.gouv\s*<strong>— bonne réponse</strong>", preview)
    assert not re.search(r"Un réseau social\s*<strong>", preview)
    assert "Le bouton FranceConnect est bleu." in preview

    response = client.post(f"{A}/modules/{module.id}/publish")
    assert response.status_code == 302
    module = fresh_module(module.id)
    assert module.status is CatalogueStatus.PUBLISHED
    (version,) = versions_of(module.id)
    assert version.published_at is not None

    listing = page_text(client.get(f"{A}/"))
    assert "Utiliser FranceConnect" in listing
    assert "Publié" in listing and "Version 1 publiée" in listing


def test_lessons_and_questions_can_be_edited_and_deleted(client, login_as, coordinator_a, tenant_a):
    module = make_module(tenant_a, publish=False, lessons=2, questions=2)
    version = module.versions[0]
    lesson = version.lessons[0]
    question = version.questions[0]
    login_as(coordinator_a)

    page = page_text(client.get(f"{A}/lessons/{lesson.id}"))
    assert "Contenu de la leçon 1" in page
    response = client.post(f"{A}/lessons/{lesson.id}", data={"title": "Bienvenue", "body": "# Titre"})
    assert response.status_code == 302
    assert lesson_titles(version.id) == ["Bienvenue", "Leçon 2"]

    page = page_text(client.get(f"{A}/questions/{question.id}"))
    assert 'value="Choix A1"' in page
    response = client.post(f"{A}/questions/{question.id}", data=question_form(
        prompt="Question revue ?", rows=[("Oui", False), ("Non", True)]))
    assert response.status_code == 302
    db.session.rollback()
    choices = db.session.scalars(select(Choice).where(Choice.question_id == question.id).order_by(Choice.position))
    assert [(c.text, c.is_correct) for c in choices] == [("Oui", False), ("Non", True)]

    assert client.post(f"{A}/lessons/{lesson.id}/delete").status_code == 302
    assert lesson_titles(version.id) == ["Leçon 2"]
    assert client.post(f"{A}/questions/{question.id}/delete").status_code == 302
    assert question_prompts(version.id) == ["Question 2 ?"]


def test_publishing_without_lessons_is_refused(client, login_as, coordinator_a, tenant_a):
    module = make_module(tenant_a, publish=False, lessons=0, questions=0)
    login_as(coordinator_a)
    response = client.post(f"{A}/modules/{module.id}/publish")
    assert response.status_code == 422
    assert "Ajoutez au moins une leçon avant de publier." in page_text(response)
    assert fresh_module(module.id).status is CatalogueStatus.DRAFT
    assert versions_of(module.id)[0].published_at is None


# --- versions --------------------------------------------------------------------------------------


def test_editing_a_published_module_starts_version_2_and_leaves_version_1_alone(client, login_as, coordinator_a,
                                                                              tenant_a):
    module = make_module(tenant_a, title="Créer une adresse e-mail")
    (v1,) = versions_of(module.id)
    before = snapshot(v1.id)
    login_as(coordinator_a)

    response = client.post(f"{A}/modules/{module.id}/edit")
    assert response.status_code == 302
    v1_again, v2 = versions_of(module.id)
    assert (v2.number, v2.is_draft) == (2, True)
    assert response.headers["Location"].endswith(version_url(A, v2))
    assert lesson_titles(v2.id) == lesson_titles(v1.id)  # the draft starts as a copy

    page = page_text(client.get(version_url(A, v2)))
    assert ("Vous modifiez la version 2 (brouillon). "
            "La version publiée reste visible jusqu'à la publication.") in page

    # Pressing "Modifier" again opens the same draft.
    assert client.post(f"{A}/modules/{module.id}/edit").headers["Location"].endswith(version_url(A, v2))
    assert len(versions_of(module.id)) == 2

    assert client.post(version_url(A, v2), data=module_form(title="Créer et utiliser une adresse e-mail",
                                                            pass_mark="60")).status_code == 302
    assert client.post(f"{version_url(A, v2)}/lessons/new",
                       data={"title": "Leçon ajoutée", "body": "Nouveau"}).status_code == 302
    v2_lesson = db.session.scalars(
        select(Lesson).where(Lesson.version_id == v2.id, Lesson.title == "Leçon 1")).one()
    assert client.post(f"{A}/lessons/{v2_lesson.id}/delete").status_code == 302

    # Until the new publication, learners still follow version 1, untouched.
    assert snapshot(v1.id) == before
    db.session.rollback()
    assert queries.latest_published_version(fresh_module(module.id)).id == v1.id
    # The published version is not editable through its own URL.
    assert client.get(version_url(A, v1)).status_code == 404
    v1_lesson = db.session.scalars(select(Lesson).where(Lesson.version_id == v1.id)).first()
    assert client.get(f"{A}/lessons/{v1_lesson.id}").status_code == 404
    assert client.post(f"{A}/lessons/{v1_lesson.id}", data={"title": "Piraté", "body": ""}).status_code == 404

    assert client.post(f"{A}/modules/{module.id}/publish").status_code == 302
    v1_final, v2_final = versions_of(module.id)
    assert v2_final.published_at is not None and v2_final.title == "Créer et utiliser une adresse e-mail"
    assert v2_final.pass_mark == 60
    assert snapshot(v1.id) == before
    assert queries.latest_published_version(fresh_module(module.id)).id == v2.id
    page = page_text(client.get(f"{A}/modules/{module.id}"))
    assert "Ancienne version" in page and "Publiée" in page


def test_people_who_completed_version_1_keep_completion_and_attestation(client, login_as, coordinator_a,
                                                                       volunteer_a, tenant_a):
    qualification = make_qualification(tenant_a, name="Messagerie")
    module = make_module(tenant_a, qualification=qualification)
    v1 = complete_module(volunteer_a, module, tenant_a)
    completion_before = db.session.scalars(select(ModuleCompletion)).one()
    attestation_before = db.session.scalars(select(Attestation)).one()
    assert attestation_before.module_version_id == v1.id
    completion_id, attestation_id, code = completion_before.id, attestation_before.id, attestation_before.code

    login_as(coordinator_a)
    client.post(f"{A}/modules/{module.id}/edit")
    v2 = draft_of(module.id)
    client.post(version_url(A, v2), data=module_form(title="Messagerie, nouvelle version"))
    assert client.post(f"{A}/modules/{module.id}/publish").status_code == 302

    db.session.rollback()
    completion = db.session.scalars(select(ModuleCompletion)).one()
    attestation = db.session.scalars(select(Attestation)).one()
    assert (completion.id, completion.version_id, completion.user_id) == (completion_id, v1.id, volunteer_a.id)
    assert (attestation.id, attestation.code, attestation.module_version_id) == (attestation_id, code, v1.id)
    assert attestation.withdrawn_at is None
    assert attestation.module_version.title == "Créer une adresse e-mail"
    assert services.attestation_by_code(code).id == attestation_id


def test_a_draft_can_be_abandoned_and_the_published_version_stays(client, login_as, coordinator_a, tenant_a):
    module = make_module(tenant_a)
    login_as(coordinator_a)
    client.post(f"{A}/modules/{module.id}/edit")
    assert len(versions_of(module.id)) == 2
    assert client.post(f"{A}/modules/{module.id}/discard").status_code == 302
    (v1,) = versions_of(module.id)
    assert v1.number == 1 and not v1.is_draft
    assert fresh_module(module.id).status is CatalogueStatus.PUBLISHED


def test_archive_and_reactivate_a_module(client, login_as, coordinator_a, tenant_a):
    module = make_module(tenant_a)
    login_as(coordinator_a)
    assert client.post(f"{A}/modules/{module.id}/archive", data={"archived": "1"}).status_code == 302
    assert fresh_module(module.id).status is CatalogueStatus.ARCHIVED
    page = page_text(client.get(f"{A}/modules/{module.id}"))
    assert "Ce module est archivé" in page
    response = client.post(f"{A}/modules/{module.id}/edit")
    assert response.status_code == 409
    assert "réactivez-le avant de le modifier" in page_text(response)
    assert len(versions_of(module.id)) == 1
    assert client.post(f"{A}/modules/{module.id}/archive", data={"archived": "0"}).status_code == 302
    assert fresh_module(module.id).status is CatalogueStatus.PUBLISHED


def test_get_pages_never_create_versions(client, login_as, coordinator_a, supervisor, tenant_a):
    own = make_module(tenant_a, title="Module publié", resource=("fiche.pdf", PDF_BYTES))
    shared = make_module(None, title="Module commun")
    make_path(tenant_a, [own])
    (v1,) = versions_of(own.id)
    lesson = v1.lessons[0]
    question = v1.questions[0]
    resource = lesson.resources[0]
    before = count(ModuleVersion)
    login_as(coordinator_a)
    urls = [f"{A}/", f"{A}/modules/{own.id}", version_url(A, v1), f"{version_url(A, v1)}/preview",
            f"{version_url(A, v1)}/lessons/new", f"{version_url(A, v1)}/questions/new",
            f"{A}/lessons/{lesson.id}", f"{A}/questions/{question.id}", f"{A}/resources/{resource.id}",
            f"{A}/paths", f"{A}/modules/{shared.id}"]
    statuses = [client.get(url).status_code for url in urls]
    assert statuses == [200, 200, 404, 200, 404, 404, 404, 404, 200, 200, 403]
    login_as(supervisor)
    shared_v1 = versions_of(shared.id)[0]
    for url in [f"{CAT}/", f"{CAT}/modules/{shared.id}", version_url(CAT, shared_v1),
                f"{version_url(CAT, shared_v1)}/preview"]:
        client.get(url)
    assert count(ModuleVersion) == before


# --- invalid input ---------------------------------------------------------------------------------


def test_a_module_needs_a_title(client, login_as, coordinator_a):
    login_as(coordinator_a)
    response = client.post(f"{A}/modules/new", data=module_form(title=""))
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in page_text(response)
    assert count(Module) == 0


def test_a_pass_mark_over_100_is_refused(client, login_as, coordinator_a, tenant_a):
    login_as(coordinator_a)
    response = client.post(f"{A}/modules/new", data=module_form(pass_mark="150"))
    assert response.status_code == 422
    assert "Le seuil de réussite est un pourcentage entre 0 et 100." in page_text(response)
    assert count(Module) == 0

    module = make_module(tenant_a, publish=False)
    version = module.versions[0]
    before = snapshot(version.id)
    response = client.post(version_url(A, version), data=module_form(title="Nouveau titre", pass_mark="150"))
    assert response.status_code == 422
    assert "Le seuil de réussite est un pourcentage entre 0 et 100." in page_text(response)
    assert snapshot(version.id) == before


def test_a_duration_must_be_a_whole_number(client, login_as, coordinator_a):
    login_as(coordinator_a)
    response = client.post(f"{A}/modules/new", data=module_form(duration_minutes="une heure"))
    assert response.status_code == 422
    assert "Saisissez un nombre entier" in page_text(response)
    assert count(Module) == 0


def test_a_single_choice_question_with_two_right_answers_is_refused(client, login_as, coordinator_a, tenant_a):
    module = make_module(tenant_a, publish=False, questions=1)
    version = module.versions[0]
    before = snapshot(version.id)
    login_as(coordinator_a)
    response = client.post(f"{version_url(A, version)}/questions/new", data=question_form(
        rows=[("FranceConnect", True), ("Ameli", True), ("Autre", False)]))
    assert response.status_code == 422
    page = page_text(response)
    assert "Une question à réponse unique a exactement une bonne réponse." in page
    assert 'id="choices-error"' in page
    assert 'value="Ameli"' in page  # what was typed is kept
    assert snapshot(version.id) == before

    question = version.questions[0]
    response = client.post(f"{A}/questions/{question.id}", data=question_form(rows=[("Seule réponse", True)]))
    assert response.status_code == 422
    assert "Proposez au moins deux réponses." in page_text(response)
    assert snapshot(version.id) == before


def test_a_lesson_needs_a_title(client, login_as, coordinator_a, tenant_a):
    module = make_module(tenant_a, publish=False)
    version = module.versions[0]
    login_as(coordinator_a)
    response = client.post(f"{version_url(A, version)}/lessons/new", data={"title": "  ", "body": "Texte"})
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in page_text(response)
    assert len(lesson_titles(version.id)) == 3


# --- files ------------------------------------------------------------------------------------------


def test_a_lesson_can_carry_a_pdf_to_download(client, login_as, coordinator_a, tenant_a):
    module = make_module(tenant_a, publish=False)
    version = module.versions[0]
    login_as(coordinator_a)
    response = client.post(f"{version_url(A, version)}/lessons/new", data=upload("fiche pratique.pdf", PDF_BYTES),
                           content_type="multipart/form-data")
    assert response.status_code == 302
    resource = db.session.scalars(select(LessonResource)).one()
    assert (resource.title, resource.filename, resource.content_type, resource.size) == (
        "Fiche", "fiche pratique.pdf", "application/pdf", len(PDF_BYTES))
    assert resource.data == PDF_BYTES
    assert resource.lesson.title == "Leçon avec document"

    download = client.get(f"{A}/resources/{resource.id}")
    assert download.status_code == 200
    assert download.data == PDF_BYTES
    assert download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    assert "Fiche" in page_text(client.get(f"{version_url(A, version)}/preview"))

    assert client.post(f"{A}/resources/{resource.id}/delete").status_code == 302
    assert count(LessonResource) == 0


def test_a_file_over_5_mb_is_refused_and_nothing_is_saved(client, login_as, coordinator_a, tenant_a):
    module = make_module(tenant_a, publish=False)
    version = module.versions[0]
    lesson = version.lessons[0]
    before = snapshot(version.id)
    login_as(coordinator_a)
    big = PDF_BYTES + b"0" * (services.RESOURCE_MAX_BYTES + 1 - len(PDF_BYTES))

    response = client.post(f"{version_url(A, version)}/lessons/new", data=upload("gros.pdf", big),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Le fichier dépasse la taille maximale de 5 Mo." in page_text(response)

    response = client.post(f"{A}/lessons/{lesson.id}", data=upload("gros.pdf", big, title="Titre changé"),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert snapshot(version.id) == before  # neither the new lesson nor the edited title
    assert count(LessonResource) == 0


def test_a_request_far_over_the_limit_is_refused_with_a_french_message(client, login_as, coordinator_a, tenant_a):
    module = make_module(tenant_a, publish=False)
    version = module.versions[0]
    login_as(coordinator_a)
    huge = PDF_BYTES + b"0" * (8 * 1024 * 1024)
    response = client.post(f"{version_url(A, version)}/lessons/new", data=upload("enorme.pdf", huge),
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "Le fichier dépasse la taille maximale de 5 Mo." in page_text(response)
    assert len(lesson_titles(version.id)) == 3
    assert count(LessonResource) == 0


@pytest.mark.parametrize("filename, data", [
    ("programme.exe", b"MZ\x90\x00"),
    ("faux.pdf", b"MZ\x90\x00 not a pdf"),
    ("page.html", b"<script>alert(1)</script>"),
])
def test_other_file_types_are_refused(client, login_as, coordinator_a, tenant_a, filename, data):
    module = make_module(tenant_a, publish=False)
    version = module.versions[0]
    login_as(coordinator_a)
    response = client.post(f"{version_url(A, version)}/lessons/new", data=upload(filename, data),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Ce type de fichier n'est pas accepté." in page_text(response)
    assert count(LessonResource) == 0


# --- the shared catalogue --------------------------------------------------------------------------


def test_supervisors_author_the_shared_catalogue(client, login_as, supervisor):
    login_as(supervisor)
    assert client.get(f"{CAT}/modules/new").status_code == 200
    response = client.post(f"{CAT}/modules/new", data=module_form(title="Module pour tous"))
    assert response.status_code == 302
    module = db.session.scalars(select(Module)).one()
    assert module.tenant_id is None
    version = module.versions[0]
    assert response.headers["Location"].endswith(version_url(CAT, version))
    assert client.post(f"{version_url(CAT, version)}/lessons/new",
                       data={"title": "Première leçon", "body": "Bonjour"}).status_code == 302
    assert client.post(f"{CAT}/modules/{module.id}/publish").status_code == 302
    assert fresh_module(module.id).status is CatalogueStatus.PUBLISHED
    page = page_text(client.get(f"{CAT}/"))
    assert "Module pour tous" in page and "Catalogue commun de l'association" in page
    assert "Copier pour l'adapter" not in page


def test_supervisors_do_not_see_structure_modules_in_the_shared_catalogue(client, login_as, supervisor,
                                                                          tenant_a):
    module = make_module(tenant_a, title="MARQUEUR-A-MODULE", publish=False)
    version = module.versions[0]
    login_as(supervisor)
    assert "MARQUEUR-A-MODULE" not in page_text(client.get(f"{CAT}/"))
    assert client.get(f"{CAT}/modules/{module.id}").status_code == 404
    assert client.get(version_url(CAT, version)).status_code == 404
    assert client.post(f"{CAT}/modules/{module.id}/publish").status_code == 404
    assert fresh_module(module.id).status is CatalogueStatus.DRAFT


def test_a_supervisor_in_a_structure_authors_for_that_structure(client, login_as, supervisor, tenant_a):
    login_as(supervisor)
    assert client.post(f"{A}/modules/new", data=module_form()).status_code == 302
    assert db.session.scalars(select(Module)).one().tenant_id == tenant_a.id


def test_a_structure_cannot_edit_a_shared_module(client, login_as, coordinator_a, tenant_a):
    shared = make_module(None, title="Module commun")
    (v1,) = versions_of(shared.id)
    before = snapshot(v1.id)
    login_as(coordinator_a)
    for response in [client.get(f"{A}/modules/{shared.id}"), client.post(f"{A}/modules/{shared.id}/edit"),
                     client.post(f"{A}/modules/{shared.id}/archive", data={"archived": "1"}),
                     client.get(f"{version_url(A, v1)}/preview"),
                     client.post(f"{A}/lessons/{v1.lessons[0].id}/delete")]:
        assert response.status_code == 403
        assert FORBIDDEN_SHARED in page_text(response)
    assert len(versions_of(shared.id)) == 1
    assert snapshot(v1.id) == before
    assert fresh_module(shared.id).status is CatalogueStatus.PUBLISHED


def test_a_structure_copies_a_shared_module_to_adapt_it(client, login_as, coordinator_a, tenant_a):
    shared = make_module(None, title="Les arnaques en ligne", resource=("fiche.pdf", PDF_BYTES))
    make_module(None, title="Brouillon commun", publish=False)
    shared_before = snapshot(versions_of(shared.id)[0].id)
    login_as(coordinator_a)

    page = page_text(client.get(f"{A}/"))
    assert "Catalogue commun" in page and "Les arnaques en ligne" in page
    assert "Brouillon commun" not in page

    response = client.post(f"{A}/shared/{shared.id}/copy")
    assert response.status_code == 302
    copy = db.session.scalars(select(Module).where(Module.tenant_id == tenant_a.id)).one()
    assert response.headers["Location"].endswith(f"{A}/modules/{copy.id}")
    assert copy.copied_from_id == shared.id
    assert copy.status is CatalogueStatus.DRAFT
    (copy_version,) = versions_of(copy.id)
    assert copy_version.title == "Les arnaques en ligne" and copy_version.is_draft
    assert lesson_titles(copy_version.id) == ["Leçon 1", "Leçon 2", "Leçon 3"]
    assert question_prompts(copy_version.id) == ["Question 1 ?", "Question 2 ?"]
    assert db.session.scalars(
        select(LessonResource).join(Lesson).where(Lesson.version_id == copy_version.id)
    ).one().data == PDF_BYTES

    # The copy is the structure's to edit; the original is untouched.
    assert client.post(version_url(A, copy_version), data=module_form(title="Les arnaques, version locale")
                       ).status_code == 302
    assert snapshot(versions_of(shared.id)[0].id) == shared_before
    assert "Vous en avez déjà une copie." in page_text(client.get(f"{A}/"))


def test_a_copy_requested_twice_is_made_once_but_a_later_one_is_another(client, login_as, coordinator_a, tenant_a):
    shared = make_module(None, title="Les arnaques en ligne")
    login_as(coordinator_a)
    first = client.post(f"{A}/shared/{shared.id}/copy")
    second = client.post(f"{A}/shared/{shared.id}/copy")  # a double click
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    db.session.rollback()
    copies = db.session.scalars(select(Module).where(Module.tenant_id == tenant_a.id)).all()
    assert len(copies) == 1
    # Asked for again later, it is a second copy (a structure may keep several).
    copies[0].created_at = copies[0].created_at - services.TWIN_WINDOW
    db.session.commit()
    assert client.post(f"{A}/shared/{shared.id}/copy").status_code == 302
    db.session.rollback()
    assert len(db.session.scalars(select(Module).where(Module.tenant_id == tenant_a.id)).all()) == 2


def test_only_published_shared_modules_can_be_copied(client, login_as, coordinator_a, tenant_a, tenant_b):
    draft = make_module(None, publish=False)
    other = make_module(tenant_b, title="MARQUEUR-B")
    login_as(coordinator_a)
    assert client.post(f"{A}/shared/{draft.id}/copy").status_code == 404
    assert client.post(f"{A}/shared/{other.id}/copy").status_code == 404
    assert count(Module) == 2


# --- isolation between structures ----------------------------------------------------------------


@pytest.fixture
def b_content(tenant_b):
    """Structure B's modules (a published one with a file, a draft), a path and a qualification."""
    qualification = make_qualification(tenant_b, name="MARQUEUR-B-QUALIF")
    published = make_module(tenant_b, title="MARQUEUR-B-PUBLIE", resource=("fiche.pdf", PDF_BYTES),
                            qualification=qualification)
    draft = make_module(tenant_b, title="MARQUEUR-B-BROUILLON", publish=False, resource=("fiche.pdf", PDF_BYTES))
    path = make_path(tenant_b, [published], title="MARQUEUR-B-PARCOURS")
    return published, draft, path


def b_snapshot(published, draft, path) -> tuple:
    db.session.rollback()
    versions = tuple(snapshot(v.id) for m in (published, draft) for v in versions_of(m.id))
    modules = tuple((m.status, m.tenant_id) for m in db.session.scalars(select(Module).order_by(Module.id)))
    path_row = db.session.scalars(select(Path).where(Path.id == path.id)).one()
    steps = tuple(db.session.scalars(select(PathStep.module_id).where(PathStep.path_id == path.id)))
    return versions, modules, (path_row.title, path_row.status), steps, count(LessonResource)


def test_structure_a_cannot_see_or_touch_the_modules_of_b(client, login_as, coordinator_a, tenant_a, b_content):
    published, draft, path = b_content
    draft_version = versions_of(draft.id)[0]
    pub_version = versions_of(published.id)[0]
    lesson = draft_version.lessons[0]
    question = draft_version.questions[0]
    resource = lesson.resources[0]
    before = b_snapshot(published, draft, path)
    login_as(coordinator_a)

    get_urls = [
        f"{A}/modules/{published.id}", f"{A}/modules/{draft.id}", version_url(A, draft_version),
        f"{version_url(A, draft_version)}/preview", f"{version_url(A, pub_version)}/preview",
        f"{version_url(A, draft_version)}/lessons/new", f"{version_url(A, draft_version)}/questions/new",
        f"{A}/lessons/{lesson.id}", f"{A}/questions/{question.id}", f"{A}/resources/{resource.id}",
        f"{A}/paths/{path.id}",
    ]
    for url in get_urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "MARQUEUR-B" not in page_text(response)

    post_requests = [
        (f"{A}/modules/{published.id}/edit", {}),
        (f"{A}/modules/{draft.id}/publish", {}),
        (f"{A}/modules/{published.id}/archive", {"archived": "1"}),
        (f"{A}/modules/{published.id}/discard", {}),
        (version_url(A, draft_version), module_form(title="Piraté")),
        (f"{version_url(A, draft_version)}/lessons/new", {"title": "Piraté", "body": ""}),
        (f"{version_url(A, draft_version)}/questions/new", question_form(prompt="Piraté ?")),
        (f"{A}/lessons/{lesson.id}", {"title": "Piraté", "body": ""}),
        (f"{A}/lessons/{lesson.id}/move", {"direction": "down"}),
        (f"{A}/lessons/{lesson.id}/delete", {}),
        (f"{A}/questions/{question.id}", question_form(prompt="Piraté ?")),
        (f"{A}/questions/{question.id}/move", {"direction": "down"}),
        (f"{A}/questions/{question.id}/delete", {}),
        (f"{A}/resources/{resource.id}/delete", {}),
        (f"{A}/paths/{path.id}", {"title": "Piraté", "modules-0": str(published.id)}),
        (f"{A}/paths/{path.id}/status", {"status": "archived"}),
        (f"{A}/shared/{published.id}/copy", {}),
    ]
    for url, data in post_requests:
        assert client.post(url, data=data).status_code == 404, url
    assert b_snapshot(published, draft, path) == before
    assert db.session.scalar(select(func.count(Module.id)).where(Module.tenant_id == tenant_a.id)) == 0

    for url in [f"{A}/", f"{A}/paths", f"{A}/modules/new", f"{A}/paths/new"]:
        assert "MARQUEUR-B" not in page_text(client.get(url)), url


def test_a_path_of_a_cannot_use_the_modules_of_b(client, login_as, coordinator_a, tenant_a, b_content):
    published, _draft, _path = b_content
    own = make_module(tenant_a, title="Module A")
    login_as(coordinator_a)
    response = client.post(f"{A}/paths/new", data={"title": "Parcours A", "modules-0": str(own.id),
                                                   "modules-1": str(published.id)})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Path.id)).where(Path.tenant_id == tenant_a.id)) == 0


# --- paths -------------------------------------------------------------------------------------------


def test_create_order_publish_and_archive_a_path(client, login_as, coordinator_a, tenant_a):
    first = make_module(tenant_a, title="Les bases du smartphone")
    second = make_module(tenant_a, title="Créer une adresse e-mail")
    shared = make_module(None, title="Sécurité en ligne")
    hidden = make_module(tenant_a, title="Brouillon non proposé", publish=False)
    qualification = make_qualification(tenant_a, name="Aidant niveau 1")
    login_as(coordinator_a)

    page = page_text(client.get(f"{A}/paths/new"))
    assert "Sécurité en ligne" in page and "Les bases du smartphone" in page
    assert "Brouillon non proposé" not in page
    assert 'for="modules-4"' in page  # five steps offered

    response = client.post(f"{A}/paths/new", data={
        "title": "Aidant numérique — niveau 1", "description": "Pour débuter.",
        "qualification_id": str(qualification.id),
        "modules-0": str(second.id), "modules-1": "", "modules-2": str(shared.id), "modules-3": str(first.id),
    })
    assert response.status_code == 302
    path = db.session.scalars(select(Path)).one()
    assert (path.tenant_id, path.status, path.qualification_id) == (tenant_a.id, CatalogueStatus.DRAFT,
                                                                    qualification.id)
    assert [s.module_id for s in path.steps] == [second.id, shared.id, first.id]

    page = page_text(client.get(f"{A}/paths/{path.id}"))
    assert "Aidant numérique — niveau 1" in page

    response = client.post(f"{A}/paths/{path.id}", data={
        "title": "Aidant numérique — niveau 1", "qualification_id": "",
        "modules-0": str(first.id), "modules-1": str(second.id)})
    assert response.status_code == 302
    db.session.rollback()
    path = db.session.scalars(select(Path)).one()
    assert [s.module_id for s in path.steps] == [first.id, second.id]
    assert path.qualification_id is None

    assert client.post(f"{A}/paths/{path.id}/status", data={"status": "published"}).status_code == 302
    db.session.rollback()
    assert db.session.scalars(select(Path)).one().status is CatalogueStatus.PUBLISHED
    assert "Publié" in page_text(client.get(f"{A}/paths"))
    assert client.post(f"{A}/paths/{path.id}/status", data={"status": "archived"}).status_code == 302
    db.session.rollback()
    assert db.session.scalars(select(Path)).one().status is CatalogueStatus.ARCHIVED
    assert hidden.id not in [s.module_id for s in path.steps]


def test_a_path_refuses_twice_the_same_module_and_an_empty_list(client, login_as, coordinator_a, tenant_a):
    module = make_module(tenant_a)
    login_as(coordinator_a)
    response = client.post(f"{A}/paths/new", data={"title": "Parcours", "modules-0": str(module.id),
                                                   "modules-1": str(module.id)})
    assert response.status_code == 422
    assert "Un module ne peut figurer qu'une fois dans un parcours." in page_text(response)
    response = client.post(f"{A}/paths/new", data={"title": "Parcours"})
    assert response.status_code == 422
    assert "Choisissez au moins un module." in page_text(response)
    assert count(Path) == 0


def test_a_path_with_an_archived_module_cannot_be_published(client, login_as, coordinator_a, tenant_a):
    module = make_module(tenant_a, title="Module retiré")
    path = services.create_path(tenant_a, title="Parcours", module_ids=[module.id], now=module.created_at)
    services.set_archived(module, tenant_a, True)
    db.session.commit()
    login_as(coordinator_a)
    response = client.post(f"{A}/paths/{path.id}/status", data={"status": "published"})
    assert response.status_code == 409
    assert "Ces modules ne sont pas publiés : Module retiré." in page_text(response)
    db.session.rollback()
    assert db.session.scalars(select(Path)).one().status is CatalogueStatus.DRAFT
    # The archived module stays in the path's form, so saving it does not drop it.
    assert "Module retiré (non publié)" in page_text(client.get(f"{A}/paths/{path.id}"))


def test_supervisors_author_shared_paths(client, login_as, supervisor, tenant_a):
    shared = make_module(None, title="Module commun")
    own = make_module(tenant_a, title="MARQUEUR-A")
    login_as(supervisor)
    page = page_text(client.get(f"{CAT}/paths/new"))
    assert "Module commun" in page and "MARQUEUR-A" not in page
    assert client.post(f"{CAT}/paths/new", data={"title": "Parcours commun", "modules-0": str(shared.id)}
                       ).status_code == 302
    path = db.session.scalars(select(Path)).one()
    assert path.tenant_id is None
    assert client.post(f"{CAT}/paths/new", data={"title": "Intrus", "modules-0": str(own.id)}).status_code == 422
    assert count(Path) == 1


def test_a_structure_cannot_edit_a_shared_path(client, login_as, coordinator_a, tenant_a):
    shared_path = make_path(None, [make_module(None)], title="Parcours commun")
    login_as(coordinator_a)
    response = client.post(f"{A}/paths/{shared_path.id}/status", data={"status": "archived"})
    assert response.status_code == 403
    assert FORBIDDEN_SHARED in page_text(response)
    db.session.rollback()
    assert db.session.scalars(select(Path)).one().status is CatalogueStatus.PUBLISHED


# --- qualifications -----------------------------------------------------------------------------------


def test_a_new_qualification_can_be_chosen_for_a_module(client, login_as, coordinator_a, tenant_a, tenant_b):
    make_qualification(tenant_b, name="MARQUEUR-B-QUALIF")
    make_qualification(None, name="Qualification commune")
    login_as(coordinator_a)
    response = client.post(f"{A}/qualifications/new",
                           data={"name": "Démarches en ligne", "validity_months": "24"})
    assert response.status_code == 302
    page = page_text(client.get(f"{A}/modules/new"))
    assert "Démarches en ligne" in page and "Qualification commune" in page
    assert "MARQUEUR-B-QUALIF" not in page
    qualification = db.session.scalars(
        select(Qualification).where(Qualification.name == "Démarches en ligne")).one()
    assert (qualification.tenant_id, qualification.validity_months) == (tenant_a.id, 24)

    assert client.post(f"{A}/modules/new", data=module_form(qualification_id=str(qualification.id))
                       ).status_code == 302
    assert db.session.scalars(select(ModuleVersion)).one().qualification_id == qualification.id


def test_a_qualification_of_b_cannot_be_chosen(client, login_as, coordinator_a, tenant_b):
    other = make_qualification(tenant_b, name="MARQUEUR-B-QUALIF")
    login_as(coordinator_a)
    response = client.post(f"{A}/modules/new", data=module_form(qualification_id=str(other.id)))
    assert response.status_code == 422
    assert count(Module) == 0


def test_a_qualification_validity_must_be_positive(client, login_as, coordinator_a):
    login_as(coordinator_a)
    response = client.post(f"{A}/qualifications/new", data={"name": "Démarches", "validity_months": "0"})
    assert response.status_code == 422
    assert "Indiquez un nombre de mois entre 1 et 600." in page_text(response)
    assert count(Qualification) == 0


# --- pages' cost ----------------------------------------------------------------------------------------


def test_the_edit_page_costs_the_same_whatever_the_number_of_lessons(client, login_as, coordinator_a, tenant_a,
                                                                    count_queries):
    small = make_module(tenant_a, publish=False, lessons=1, questions=1, resource=("a.pdf", PDF_BYTES))
    large = make_module(tenant_a, publish=False, lessons=8, questions=8, resource=("b.pdf", PDF_BYTES))
    login_as(coordinator_a)
    costs = []
    for module in (small, large):
        version = versions_of(module.id)[0]
        for url in (version_url(A, version), f"{version_url(A, version)}/preview"):
            with count_queries() as statements:
                assert client.get(url).status_code == 200
            costs.append((url.endswith("preview"), len(statements)))
    assert costs[0][1] == costs[2][1]
    assert costs[1][1] == costs[3][1]


def test_a_trainer_cannot_author(client, login_as, tenant_a):
    trainer = make_member(tenant_a, Role.TRAINER)
    login_as(trainer)
    assert client.get(f"{A}/").status_code == 403


# --- forms carry their CSRF token ----------------------------------------------------------------------


@pytest.fixture
def csrf(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def test_action_buttons_and_uploads_work_with_the_pages_csrf_token(csrf, client, login_as, coordinator_a,
                                                                   tenant_a):
    module = make_module(tenant_a, publish=False)
    version = module.versions[0]
    login_as(coordinator_a)

    assert client.post(f"{A}/modules/{module.id}/publish").status_code == 400
    assert fresh_module(module.id).status is CatalogueStatus.DRAFT

    page = client.get(version_url(A, version))
    token = csrf_token_in(page)
    lesson = versions_of(module.id)[0].lessons[0]
    assert client.post(f"{A}/lessons/{lesson.id}/move", data={"direction": "down", "csrf_token": token}
                       ).status_code == 302
    assert lesson_titles(version.id) == ["Leçon 2", "Leçon 1", "Leçon 3"]

    response = client.post(f"{version_url(A, version)}/lessons/new",
                           data={**upload("fiche.pdf", PDF_BYTES), "csrf_token": token},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert count(LessonResource) == 1

    # Far over the limit, the request is refused before its body is read (by the CSRF check, here).
    huge = PDF_BYTES + b"0" * (8 * 1024 * 1024)
    response = client.post(f"{version_url(A, version)}/lessons/new",
                           data={**upload("enorme.pdf", huge), "csrf_token": token},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert count(LessonResource) == 1

    assert client.post(f"{A}/modules/{module.id}/publish", data={"csrf_token": token}).status_code == 302
    assert fresh_module(module.id).status is CatalogueStatus.PUBLISHED
