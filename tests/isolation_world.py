"""A structure full of real objects, for the tenant-isolation suite (``tests/test_isolation.py``).

``build_structure`` gives a structure one object of every kind a URL can name
(site, members, invitation, room, kit, closures, events of every kind and a
series, enrolments, its own module with a lesson, a resource, a question, a
quiz attempt; its own path and qualification, awards, attestations, a
volunteering attestation, an external calendar, survey answers, a shift
report, self-assessments, audit entries, the members' calendar-feed tokens…),
every text of it carrying ``mark``. It goes through the real services where
they exist, so the rows are the ones the application makes.

``Structure.ids`` lists the ids by kind of object ("event": the shift, the
workshop, the training session, the room booking, a series' first date…);
the isolation walk maps each URL variable to one of these kinds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from tests.calendars.factories import issue_token
from tests.factories import make_invitation, make_membership, make_site, make_user
from tests.scheduling.factories import enrol_in, local_time, make_event, make_kit, make_room
from volunteer_platform.auth.models import User
from volunteer_platform.calendars import external
from volunteer_platform.calendars.external import ExternalBusy
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.impact import services as impact
from volunteer_platform.impact.models import (
    ActivityReport,
    ActivityReportTheme,
    AssessmentStage,
    HelpTheme,
    SelfAssessment,
    SurveyResponse,
)
from volunteer_platform.privacy.services import record as audit
from volunteer_platform.scheduling import enrolment as enrolments
from volunteer_platform.scheduling import recurrence
from volunteer_platform.scheduling import services as scheduling
from volunteer_platform.scheduling.models import EventKind
from volunteer_platform.tenants.models import Membership, Role, Tenant
from volunteer_platform.training import services as training
from volunteer_platform.training.models import (
    Attestation,
    CompetenceArea,
    Level,
    QualificationAward,
    QuestionKind,
    QuizAttempt,
)


@dataclass
class Structure:
    """One structure's objects, by kind (ids), and the texts that name them."""

    tenant: Tenant
    coordinator: User
    trainer: User
    volunteer: User
    ids: dict[str, list[int]] = field(default_factory=dict)
    codes: list[str] = field(default_factory=list)  # attestation codes (public verification)
    tokens: dict[str, str] = field(default_factory=dict)  # calendar-feed token by role
    texts: dict[str, str] = field(default_factory=dict)  # what public pages may show, by name

    @property
    def slug(self) -> str:
        return self.tenant.slug

    def first(self, name: str) -> int:
        return self.ids[name][0]


def _membership(tenant: Tenant, user: User) -> Membership:
    return db.session.scalars(
        select(Membership).where(Membership.tenant_id == tenant.id, Membership.user_id == user.id)
    ).one()


def build_structure(tenant: Tenant, *, mark: str, coordinator: User, volunteer: User | None = None,
                    trainer: User | None = None, prefix: str) -> Structure:
    """Fill ``tenant`` with one object of every kind, every text carrying ``mark``.

    ``coordinator`` is already a member; ``volunteer`` and ``trainer`` are made
    members (created when not given, their first names starting with
    ``prefix``: "Bvin", "Bma").
    """
    now = utcnow()
    low = mark.lower()
    tenant = db.session.get(Tenant, tenant.id)
    tenant.name = f"{tenant.name} {mark}"
    tenant.contact_email = f"contact-{low}@example.org"
    db.session.commit()

    if volunteer is None:
        volunteer = make_user(full_name=f"{prefix}vin {mark}-BENEVOLE", email=f"{low}-benevole@example.org")
    if trainer is None:
        trainer = make_user(full_name=f"{prefix}ma {mark}-FORMATRICE", email=f"{low}-formatrice@example.org")
    for user, role in ((volunteer, Role.VOLUNTEER), (trainer, Role.TRAINER)):
        if db.session.scalars(select(Membership).where(
                Membership.tenant_id == tenant.id, Membership.user_id == user.id)).first() is None:
            make_membership(tenant, user, role)
    s = Structure(tenant=tenant, coordinator=coordinator, trainer=trainer, volunteer=volunteer)
    ids = s.ids

    # --- people, places, equipment ---------------------------------------------------------------
    site = make_site(tenant, name=f"{mark} Lieu", address=f"{mark} 3 rue Haute", city="Lens",
                     access_notes=f"{mark} sonner deux fois")
    vol_m, trainer_m, coord_m = (_membership(tenant, u) for u in (volunteer, trainer, coordinator))
    vol_m.site_id = site.id
    db.session.commit()
    invitation = make_invitation(tenant, f"{low}-invitation@example.org", Role.COORDINATOR)
    room = make_room(tenant, site, capacity=12, name=f"{mark} Salle")
    kit = make_kit(tenant, f"{mark} Valise", description=f"{mark} huit tablettes")
    far = local_time(tenant, 90, 0).date()
    site_closure = scheduling.create_closure(tenant, site_id=site.id, starts_on=far, ends_on=far,
                                             reason=f"{mark} travaux")
    room_closure = scheduling.create_closure(tenant, room_id=room.id, starts_on=far + timedelta(days=2),
                                             ends_on=far + timedelta(days=2), reason=f"{mark} peinture")
    enrolments.update_settings(tenant, signup_horizon_days=120, cancellation_deadline_hours=2)
    db.session.commit()

    # --- training content -------------------------------------------------------------------------
    qualification = training.create_qualification(tenant, name=f"{mark} Qualification", validity_months=24, now=now)
    module = training.create_module(tenant, training.VersionFields(
        title=f"{mark} Module", competence_area=CompetenceArea.COMMUNICATION, level=Level.BEGINNER,
        summary=f"{mark} résumé", objectives=f"{mark} objectif", duration_minutes=45, pass_mark=50,
        requires_attendance=False, qualification_id=qualification.id), now=now)
    version = module.versions[0]
    lesson = training.add_lesson(version, tenant, title=f"{mark} Leçon", body=f"{mark} contenu de la leçon")
    question = training.add_question(version, tenant, prompt=f"{mark} Question ?", kind=QuestionKind.SINGLE,
                                     choices=[(f"{mark} bonne réponse", True), (f"{mark} mauvaise réponse", False)],
                                     feedback=f"{mark} explication")
    resource = training.add_resource(lesson, tenant, title=f"{mark} Fiche", filename="fiche.pdf",
                                    data=f"%PDF-1.4\n% {mark} fiche\n".encode())
    training.publish(module, tenant, now=now)
    path = training.create_path(tenant, title=f"{mark} Parcours", module_ids=[module.id],
                                qualification_id=None, now=now, publish_now=True)
    path.description = f"{mark} description du parcours"
    training.set_default_path(tenant, path)
    db.session.commit()

    # The volunteer follows the path and completes the module: progress, a quiz
    # attempt, a completion, the module's qualification and two attestations.
    training.assign(tenant, [volunteer], path=path, module=None, due_on=None, assigned_by=coordinator, now=now)
    training.mark_lesson_read(volunteer, lesson, tenant, now=now)
    training.submit_quiz(volunteer, version, tenant, {question.id: [c.id for c in question.choices if c.is_correct]},
                         now=now)
    training.record_attendance(tenant, volunteer, module, attended_on=now.date(), recorded_by=coordinator, now=now)
    training.record_external_qualification(
        tenant, trainer, qualification, obtained_on=now - timedelta(days=30), note=f"{mark} diplôme obtenu ailleurs",
        recorded_by=coordinator, now=now)
    db.session.commit()
    # A draft of the next version (its own lessons, questions and resources), as authors edit it.
    draft = training.editable_version(module, tenant, now=now)
    db.session.commit()
    draft_lesson, draft_question = draft.lessons[0], draft.questions[0]
    drafts = {"version": draft.id, "lesson": draft_lesson.id, "question": draft_question.id,
              "resource": draft_lesson.resources[0].id if draft_lesson.resources else None}
    attempt = db.session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == volunteer.id,
                                                           QuizAttempt.version_id == version.id)).one()
    attestations = list(db.session.scalars(
        select(Attestation).where(Attestation.tenant_id == tenant.id).order_by(Attestation.id)))
    awards = [a.id for a in db.session.scalars(
        select(QualificationAward).where(QualificationAward.tenant_id == tenant.id))]

    # --- the agenda: every kind of event, a series, places on them ------------------------------------
    shift = make_event(tenant, "shift", local_time(tenant, 1, 9), title=f"{mark} Permanence", room=room,
                       capacity=3, description=f"{mark} accueil du public", what_to_bring=f"{mark} badge",
                       kits=[kit])
    workshop = make_event(tenant, "workshop", local_time(tenant, 1, 14), title=f"{mark} Atelier public", room=room,
                          capacity=10, description=f"{mark} atelier ouvert à tous",
                          what_to_bring=f"{mark} carte Vitale")
    session = make_event(tenant, "training_session", local_time(tenant, 2, 9), title=f"{mark} Séance", room=room,
                         trainer=trainer, module=module, capacity=8, description=f"{mark} séance de formation")
    booking = make_event(tenant, "booking", local_time(tenant, 2, 14), title=f"{mark} Réunion", room=room)
    start = local_time(tenant, 3, 16)
    series, occurrences = scheduling.create_series(
        tenant,
        scheduling.EventFields(kind=EventKind.SHIFT, title=f"{mark} Permanence du jeudi", starts_at=start,
                               ends_at=start + timedelta(hours=2), room_id=room.id, capacity=2,
                               description=f"{mark} série"),
        recurrence.Rule(recurrence.Frequency.WEEKLY, 1, until=None, count=3),
        skip_conflicts=False, created_by=coordinator, now=now)
    db.session.commit()
    shift_place = enrol_in(shift, volunteer)
    session_place = enrol_in(session, volunteer)
    enrol_in(occurrences[0], volunteer)

    # --- calendars --------------------------------------------------------------------------------------
    calendar = external.add_calendar(tenant, name=f"{mark} Agenda de la mairie",
                                     url=f"https://calendrier.example.org/{low}.ics", room_id=room.id, now=now)
    db.session.add(ExternalBusy(tenant_id=tenant.id, external_calendar_id=calendar.id,
                                starts_at=local_time(tenant, 1, 7), ends_at=local_time(tenant, 1, 8)))
    db.session.commit()
    for role, user in (("coordinator", coordinator), ("trainer", trainer), ("volunteer", volunteer)):
        s.tokens[role] = issue_token(user)

    # --- impact: survey, shift report, self-assessment, volunteering attestation -------------------------
    db.session.add(SurveyResponse(tenant_id=tenant.id, event_id=session.id, user_id=volunteer.id, satisfaction=5,
                                  more_able_to_help=True, at_ease_with_computer=True,
                                  comment=f"{mark} commentaire du questionnaire"))
    db.session.add(ActivityReport(tenant_id=tenant.id, event_id=shift.id, user_id=volunteer.id, minutes=90,
                                  themes=[ActivityReportTheme(theme=HelpTheme.EMAIL, people=3)]))
    db.session.add(SelfAssessment(tenant_id=tenant.id, user_id=volunteer.id, path_id=path.id,
                                  stage=AssessmentStage.START, area=CompetenceArea.COMMUNICATION, confidence=2))
    today = local_time(tenant, 0, 12).date()
    volunteering = impact.issue_volunteering_attestation(tenant, volunteer, start=today - timedelta(days=60),
                                                         end=today, now=now, zone=tenant.timezone)

    # --- the audit log -------------------------------------------------------------------------------
    audit("person.viewed", actor=coordinator, tenant=tenant, subject=volunteer,
          details={"page": f"/{tenant.slug}/members/{vol_m.id}"})
    audit("members.listed", actor=coordinator, tenant=tenant, details={"page": f"/{tenant.slug}/members"})
    db.session.commit()

    ids.update({
        "site": [site.id],
        "membership": [vol_m.id, trainer_m.id, coord_m.id],
        "invitation": [invitation.id],
        "room": [room.id],
        "kit": [kit.id],
        "closure": [site_closure.id, room_closure.id],
        "event": [shift.id, workshop.id, session.id, booking.id, occurrences[0].id],
        "enrolment": [shift_place.id, session_place.id],
        "module": [module.id],
        # The published version (what learners follow) and the draft (what authors edit).
        "version": [version.id, drafts["version"]],
        "lesson": [lesson.id, drafts["lesson"]],
        "resource": [r for r in (resource.id, drafts["resource"]) if r is not None],
        "question": [drafts["question"]],  # only authors reach questions, in a draft
        "attempt": [attempt.id],
        "path": [path.id],
        "award": awards,
        "attestation": [a.id for a in attestations],  # the module's and the path's
        "volunteering_attestation": [volunteering.id],
        "calendar": [calendar.id],
        "tenant": [tenant.id],
        "series": [series.id],
        "qualification": [qualification.id],
        "user": [volunteer.id, trainer.id],
    })
    s.codes = [a.code for a in attestations] + [volunteering.code]
    s.texts = {
        "tenant": tenant.name, "contact": tenant.contact_email or "", "site": site.name, "address": site.address,
        "access": site.access_notes or "", "room": room.name, "workshop": workshop.title,
        "workshop_description": workshop.description, "workshop_bring": workshop.what_to_bring,
        "volunteer": volunteer.full_name, "module": version.title, "path": path.title,
        "signatory": volunteering.signatory_name, "signatory_role": volunteering.signatory_role,
        "shift": shift.title, "session": session.title,
    }
    return s


def rename(user: User, full_name: str, email: str) -> User:
    """Give a fixture's person a marked name and address."""
    user = db.session.get(User, user.id)
    user.full_name, user.email = full_name, email
    db.session.commit()
    return user

