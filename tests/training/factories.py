"""Training test data, built through the services: modules, paths,
qualifications, a learner's answers, assignments."""

from __future__ import annotations

from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.training import queries, services
from volunteer_platform.training.models import CompetenceArea, Level, QuestionKind

PDF_BYTES = b"%PDF-1.4\n% fiche de test\n"


def make_qualification(owner=None, *, name="Accompagnement aux démarches en ligne", validity_months=24,
                       now=None):
    """A qualification of ``owner``'s catalogue (the shared one for None)."""
    qualification = services.create_qualification(owner, name=name, validity_months=validity_months,
                                                   now=now or utcnow())
    db.session.commit()
    return qualification


def make_module(tenant=None, *, lessons=3, questions=2, publish=True, title="Créer une adresse e-mail",
                pass_mark=50, qualification=None, requires_attendance=False, multiple=False,
                area=CompetenceArea.COMMUNICATION, level=Level.BEGINNER, summary="Un module pour débuter.",
                objectives="Créer une adresse\nEnvoyer un message", resource=None, archive=False, now=None):
    """A module of ``tenant``'s own catalogue (the shared one for None), built through the services.

    Lessons are "Leçon i" with body "Contenu de la leçon i". Question i offers
    "Choix Ai" (right), "Choix Bi" (wrong; right too when ``multiple``) and
    "Choix Ci" (wrong), with the feedback "EXPLICATION-i". ``resource``:
    ``(filename, bytes)`` attached to the first lesson. ``publish=False`` leaves
    a draft; ``archive=True`` publishes then archives.
    """
    now = now or utcnow()
    module = services.create_module(
        tenant,
        services.VersionFields(title=title, competence_area=area, level=level, summary=summary,
                               objectives=objectives, duration_minutes=45, pass_mark=pass_mark,
                               requires_attendance=requires_attendance,
                               qualification_id=qualification.id if qualification else None),
        now=now,
    )
    version = module.versions[0]
    for i in range(1, lessons + 1):
        services.add_lesson(version, tenant, title=f"Leçon {i}", body=f"Contenu de la leçon {i}")
    for i in range(1, questions + 1):
        kind = QuestionKind.MULTIPLE if multiple else QuestionKind.SINGLE
        services.add_question(
            version, tenant, prompt=f"Question {i} ?", kind=kind,
            choices=[(f"Choix A{i}", True), (f"Choix B{i}", multiple), (f"Choix C{i}", False)],
            feedback=f"EXPLICATION-{i}",
        )
    if resource is not None and lessons:
        filename, data = resource
        services.add_resource(version.lessons[0], tenant, title="Fiche pratique", filename=filename, data=data)
    if publish or archive:
        services.publish(module, tenant, now=now)
    if archive:
        services.set_archived(module, tenant, True)
    db.session.commit()
    return module


def make_path(tenant, modules, *, title="Aidant numérique — niveau 1", qualification=None, publish=True,
              now=None):
    """A path of ``tenant``'s catalogue (shared for None) made of ``modules`` in
    that order, published unless told otherwise."""
    path = services.create_path(tenant, title=title, module_ids=[m.id for m in modules],
                                qualification_id=qualification.id if qualification else None,
                                now=now or utcnow(), publish_now=publish)
    db.session.commit()
    return path


def learning_version(module):
    """The version learners follow (the latest published one)."""
    return queries.latest_published_version(module)


def right_answers(version):
    return {q.id: [c.id for c in q.choices if c.is_correct] for q in version.questions}


def wrong_answers(version):
    return {q.id: [next(c.id for c in q.choices if not c.is_correct)] for q in version.questions}


def complete_module(user, module, tenant, *, now=None):
    """Read every lesson and pass the quiz of the module's current version, as ``user`` in ``tenant``."""
    now = now or utcnow()
    version = learning_version(module)
    for lesson in version.lessons:
        services.mark_lesson_read(user, lesson, tenant, now=now)
    if version.questions:
        services.submit_quiz(user, version, tenant, right_answers(version), now=now)
    db.session.commit()
    return version


def assign_to(tenant, user, *, path=None, module=None, due_on=None, now=None):
    """``tenant`` asks ``user`` to follow a path or a module."""
    services.assign(tenant, [user], path=path, module=module, due_on=due_on, assigned_by=None,
                    now=now or utcnow())
    db.session.commit()
