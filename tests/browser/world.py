"""A small but complete structure for the page sweeps (axe, headings, languages):
a site and room, a module with lessons and a quiz, upcoming workshop and shift,
a past training session with attendance and survey answers, pending
invitations, members of every role, and association staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tests.factories import make_invitation, make_member, make_site, make_tenant, make_user
from tests.impact.test_participation_services import answer, attend, past_session, past_shift
from tests.scheduling.factories import enrol_in, local_time, make_event, make_room
from tests.training.factories import make_module, make_qualification
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.impact import services as impact_services
from volunteer_platform.impact.models import HelpTheme

SLUG = "maison-solidaire"


@dataclass
class World:
    tenant: Any
    coordinator: Any
    trainer: Any
    volunteer: Any
    supervisor: Any
    module: Any
    workshop: Any
    shift: Any
    session: Any

    def content(self) -> list[str]:
        """Text people wrote (titles, names): not interface text, so the language checks skip it."""
        from sqlalchemy import select

        from volunteer_platform.auth.models import User
        from volunteer_platform.scheduling.models import Event, Room
        from volunteer_platform.tenants.models import Site
        from volunteer_platform.training.models import Lesson, ModuleVersion, Qualification

        db.session.rollback()
        texts = [self.tenant.name]
        for column in (Event.title, Site.name, Room.name, User.full_name, Qualification.name):
            texts += db.session.scalars(select(column)).all()
        texts += db.session.scalars(select(ModuleVersion.title)).all()
        texts += db.session.scalars(select(Lesson.title)).all()
        db.session.rollback()
        return sorted(set(texts), key=len, reverse=True)

    @property
    def prefix(self) -> str:
        return f"/{self.tenant.slug}"

    def lesson_url(self) -> str:
        from tests.training.factories import learning_version

        lesson = learning_version(self.module).lessons[0]
        return f"{self.prefix}/training/modules/{self.module.id}/lessons/{lesson.id}"


def build_world() -> World:
    tenant = make_tenant(slug=SLUG, name="Maison solidaire de Béthune", region="Hauts-de-France")
    coordinator = make_member(tenant, "coordinator", email="coralie@example.org", full_name="Coralie Martin")
    trainer = make_member(tenant, "trainer", email="theo@example.org", full_name="Théo Formateur")
    volunteer = make_member(tenant, "volunteer", email="victor@example.org", full_name="Victor Bénévole")
    others = [make_member(tenant, "volunteer", full_name=name, email=f"{name.split()[0].lower()}@example.org")
              for name in ("Awa Diallo", "Bruno Petit", "Chloé Roux")]
    supervisor = make_user(email="sam@example.org", full_name="Sam Supervision", is_supervisor=True)
    make_invitation(tenant, "nouvelle@example.org", invited_by=coordinator)
    make_invitation(tenant, "formateur@example.org", "trainer", invited_by=coordinator)

    site = make_site(tenant, name="Centre social du Marais", city="Béthune")
    room = make_room(tenant, site, capacity=12, name="Salle informatique")
    qualification = make_qualification(tenant, name="Accueil numérique")
    module = make_module(tenant, title="Créer une adresse e-mail", qualification=qualification)

    workshop = make_event(tenant, "workshop", local_time(tenant, 2, 14), title="Atelier : envoyer un e-mail",
                          room=room, capacity=8, description="Pour débuter, sans prérequis.")
    enrol_in(workshop, volunteer)
    shift = make_event(tenant, "shift", local_time(tenant, 3, 9), title="Permanence du jeudi",
                       capacity=2, qualification=qualification, room=room)
    make_event(tenant, "shift", local_time(tenant, 4, 9), title="Permanence du vendredi", capacity=2)

    session = past_session(tenant, trainer=trainer, title="Séance : la messagerie", module=module)
    for person in (volunteer, *others):
        attend(session, person, by=trainer)
    for person, mark in zip(others, (5, 4, 3)):
        answer(session, person, mark, comment="Merci !")

    report_shift = past_shift(tenant, hours_ago=30, title="Permanence du mardi")
    enrol_in(report_shift, volunteer, now=report_shift.starts_at - timedelta(days=2))
    impact_services.save_report(report_shift, volunteer, minutes=90, now=utcnow(),
                                people_by_theme={HelpTheme.EMAIL: 3, HelpTheme.HEALTH: 1})
    db.session.commit()
    return World(tenant=tenant, coordinator=coordinator, trainer=trainer, volunteer=volunteer,
                 supervisor=supervisor, module=module, workshop=workshop, shift=shift, session=session)

