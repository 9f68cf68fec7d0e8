"""The demo's history for the impact dashboards: eight months of activity in
each demo structure, so the national dashboard and each structure's own show
real trends out of the box.

What it adds, on top of the agenda of ``scheduling.demo_content`` (whose past
goes back three months):

- the same help-desk shifts ("permanences") in the five months before that,
  as earlier series, staffed in turn by the volunteers who had joined by then
  (and who held the required qualification on the day), with attendance;
- training sessions over the eight months — the in-person posture session and
  practice sessions of the demo modules — one to three a month per structure,
  in free slots of the trainer and the room, with attendance;
- activity reports for most past shifts (people helped by theme: online
  procedures and e-mail first), survey answers from most attendees of past
  sessions (about 90 % satisfied), and a self-assessment at the start and the
  end of every path a volunteer finished (the end one higher, on average);
- the date each person joined their structure, so "new volunteers" is a trend
  rather than everyone on the day of the seed.

How, and why:

- events through the scheduling services (``create_series`` skipping the
  dates in a closure; ``create_event`` after ``problems_for`` says the slot is
  free), so rooms, trainers, opening hours and closures hold, and the existing
  demo agenda (past and future) is never overlapped;
- a place on a past event is taken by ``_take_place``: the rules of
  ``enrolment.enrol`` (member by then, qualified on the day, no other
  commitment at that time, within capacity) and the same "person" booking,
  without the confirmation e-mail that ``enrol`` builds (with its ``.ics``)
  for every place — hundreds of messages for events long gone, which made
  the seed seconds slower only to be deleted;
- attendance through ``enrolment.mark_attendance`` (a training session then
  counts for its module's in-person requirement). The satisfaction survey
  e-mail is not queued: before marking someone present at a session, their
  ``survey_invited_at`` is set to the moment attendance was taken, as if the
  invitation had gone then, so ``invite_to_survey`` skips them;
- surveys, reports and self-assessments through ``impact.services``, at the
  moment each would have been given, so their rules hold (attendees only,
  volunteers confirmed and not absent, within the answer window);
- deterministic: ``random.Random`` seeded per structure, every date relative
  to ``now``. Nothing is queued in the outbox (the tests check it).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from volunteer_platform.auth.models import User
from volunteer_platform.extensions import db
from volunteer_platform.impact import services as impact
from volunteer_platform.impact.models import SATISFIED_FROM, AssessmentStage, HelpTheme
from volunteer_platform.scheduling import enrolment, recurrence, services
from volunteer_platform.scheduling.demo_content import (
    DEMARCHES_NAME,
    POSTURE_BRING,
    POSTURE_SESSION,
    POSTURE_TEXT,
    SHIFT_DEMARCHES,
    SHIFT_DEMARCHES_TEXT,
    DemoAgenda,
    _public_holidays,
    _qualification,
)
from volunteer_platform.scheduling.models import (
    Attendance,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    EventStatus,
    Kit,
    Room,
)
from volunteer_platform.tenants.models import Membership, Role, Tenant
from volunteer_platform.training.demo_content import MODULES
from volunteer_platform.training.models import (
    Assignment,
    InPersonAttendance,
    Module,
    ModuleVersion,
    Path,
    PathCompletion,
)

HISTORY_MONTHS = 8

MON, TUE, WED, THU, FRI, SAT = range(6)

# How long ago each person joined their structure, in weeks. Everyone on the
# scheduling demo's rota (its past starts 13 weeks ago) joined before that;
# the coordinators, trainers and the volunteers of the training demo's long
# story (qualified two years ago) have been there since the catalogue.
LONG_AGO = 130
MULTI = "benevole-multi@demo.example.org"
JOINED_WEEKS_AGO = {
    "ccas-bethune": {"benevole3": 18, "benevole4": 16, "benevole5": 28, "benevole-multi": 17},
    "passerelle-lens": {"benevole4": 30, "benevole5": 20, "benevole-multi": 15},
    "mairie-roubaix": {"benevole1": 40, "benevole2": 40, "benevole3": 26, "benevole4": 22, "benevole5": 15},
}

# Titles of the scheduling demo's shifts, for what people come to them for.
SHIFT_ANNEX = "Permanence numérique du Mont-Liébaut"
SHIFT_JOBS = "Permanence emploi — France Travail et CV"
SHIFT_TOWN_HALL = "Permanence numérique de l'hôtel de ville"
SHIFT_LIBRARY = "Permanence numérique à la médiathèque"

T = HelpTheme
#: What people come to a help desk for (relative weights), by shift title.
THEMES_BY_SHIFT: dict[str, dict[HelpTheme, int]] = {
    SHIFT_DEMARCHES: {T.ONLINE_PROCEDURES: 46, T.EMAIL: 18, T.HEALTH: 12, T.HOUSING: 8, T.BANKING: 6,
                      T.JOB_SEARCH: 5, T.SMARTPHONE: 3, T.OTHER: 2},
    SHIFT_JOBS: {T.JOB_SEARCH: 38, T.EMAIL: 26, T.ONLINE_PROCEDURES: 20, T.SMARTPHONE: 8, T.OTHER: 8},
    SHIFT_LIBRARY: {T.SMARTPHONE: 28, T.EMAIL: 26, T.ONLINE_PROCEDURES: 24, T.HEALTH: 8, T.BANKING: 8,
                    T.OTHER: 6},
}
DEFAULT_THEMES = {T.ONLINE_PROCEDURES: 32, T.EMAIL: 25, T.SMARTPHONE: 14, T.HEALTH: 10, T.BANKING: 7,
                  T.HOUSING: 5, T.JOB_SEARCH: 4, T.OTHER: 3}

GOOD_COMMENTS = (
    "Très concret, merci !",
    "J'ai enfin compris FranceConnect.",
    "Les mises en situation m'ont beaucoup aidé.",
    "Formateur patient et très clair.",
    "Bon rythme, on a pu poser toutes nos questions.",
    "Je me sens plus sûre de moi pour la permanence.",
    "Les fiches pratiques sont très utiles.",
    "Bonne ambiance dans le groupe.",
    "Des exemples tirés de vraies situations, c'est ce qu'il fallait.",
)
MIXED_COMMENTS = (
    "Un peu rapide pour moi.",
    "J'aurais aimé plus de pratique sur ordinateur.",
    "La salle était un peu petite pour le groupe.",
    "Il faudrait une deuxième séance sur ce sujet.",
    "Difficile de suivre sans avoir lu les leçons avant.",
)

PRACTICE_TEXT = (
    "Exercices en petit groupe à partir des situations rencontrées en permanence, avec le formateur ou la "
    "formatrice de la structure. Complète le module en ligne du même nom."
)


@dataclass(frozen=True)
class ShiftPlan:
    """A weekly (or every N weeks) shift, as in the scheduling demo, for the months before it."""

    title: str
    weekday: int
    start: str
    end: str
    room: str
    people: tuple[str, ...]  # local parts of e-mail addresses, in rota order
    description: str
    every_weeks: int = 1
    needs_demarches: bool = False


@dataclass(frozen=True)
class StructurePlan:
    shifts: tuple[ShiftPlan, ...]
    session_room: str
    session_capacity: int
    session_slots: tuple[tuple[int, str], ...]  # (weekday, start time), in order of preference
    session_modules: tuple[str, ...]  # keys of training.demo_content.MODULES, in turn
    sessions_per_month: tuple[int, ...]  # drawn from, each month
    summer_break: bool  # fewer sessions and volunteers in July and August
    present_at_shifts: float
    present_at_sessions: float
    missing_volunteer: float  # chance a shift lacks one of its volunteers
    report_rate: float
    # Survey answers are dealt from shuffled decks of 20 with these proportions, so every
    # structure's rates stay close to them however few answers it has.
    satisfaction: tuple[int, int, int, int, int]  # how many of 20 answers give 1, 2, 3, 4, 5
    more_able: int  # how many of 20 answer yes
    at_ease: int  # how many of 20 answer yes


PLANS = {
    "ccas-bethune": StructurePlan(
        shifts=(
            ShiftPlan(SHIFT_DEMARCHES, TUE, "09:30", "12:00", "Bureau d'accueil numérique",
                      ("benevole1", "benevole2", "formation"), SHIFT_DEMARCHES_TEXT, needs_demarches=True),
            ShiftPlan(SHIFT_ANNEX, THU, "14:00", "17:00", "Salle polyvalente",
                      ("benevole5", "benevole1", "benevole3", "benevole2", "benevole4", MULTI),
                      "Aide à l'utilisation du téléphone, de l'ordinateur et des services en ligne, "
                      "sans rendez-vous."),
        ),
        session_room="Salle informatique", session_capacity=8,
        session_slots=((WED, "14:00"), (FRI, "14:00"), (THU, "09:00")),
        session_modules=("posture", "email", "smartphone", "securite", "demarches", "video"),
        sessions_per_month=(1, 2, 2, 3), summer_break=True,
        present_at_shifts=0.93, present_at_sessions=0.88, missing_volunteer=0.12, report_rate=0.9,
        satisfaction=(0, 0, 1, 7, 12), more_able=19, at_ease=17,
    ),
    "passerelle-lens": StructurePlan(
        shifts=(
            ShiftPlan(SHIFT_DEMARCHES, TUE, "14:00", "17:00", "Bureau d'accueil",
                      ("benevole1", "benevole3", "benevole2"), SHIFT_DEMARCHES_TEXT, needs_demarches=True),
            ShiftPlan(SHIFT_JOBS, WED, "09:30", "12:00", "Salle de formation",
                      ("benevole4", "benevole5", MULTI, "benevole2", "benevole1"),
                      "Aide à l'espace France Travail, aux candidatures en ligne et à la mise en page du CV."),
        ),
        session_room="Salle de formation", session_capacity=6,
        session_slots=((MON, "14:00"), (FRI, "14:00"), (THU, "09:00")),
        session_modules=("demarches", "france_travail", "cv", "posture", "email"),
        sessions_per_month=(1, 1, 2, 2), summer_break=False,
        present_at_shifts=0.9, present_at_sessions=0.82, missing_volunteer=0.2, report_rate=0.85,
        satisfaction=(0, 1, 2, 8, 9), more_able=17, at_ease=15,
    ),
    "mairie-roubaix": StructurePlan(
        shifts=(
            ShiftPlan(SHIFT_TOWN_HALL, MON, "09:30", "12:00", "Salle numérique",
                      ("benevole1", "benevole2", "benevole3", "benevole4", "benevole5"),
                      "Aide aux démarches en ligne et à l'usage de l'ordinateur, sans rendez-vous, à l'accueil "
                      "de la mairie."),
            ShiftPlan(SHIFT_LIBRARY, SAT, "10:00", "12:30", "Espace multimédia",
                      ("benevole5", "benevole4", "benevole1"),
                      "Le samedi matin, pour celles et ceux qui travaillent en semaine.", every_weeks=2),
        ),
        session_room="Salle numérique", session_capacity=8,
        session_slots=((FRI, "14:00"), (TUE, "14:00"), (THU, "14:00")),
        session_modules=("posture", "email", "smartphone", "demarches", "securite"),
        sessions_per_month=(0, 1, 1, 1, 2), summer_break=True,
        present_at_shifts=0.95, present_at_sessions=0.9, missing_volunteer=0.28, report_rate=0.8,
        satisfaction=(0, 1, 1, 7, 11), more_able=18, at_ease=16,
    ),
}

#: Length of a session: the posture session is the in-person part of its module; practice sessions are shorter.
SESSION_MINUTES = {"posture": 180}
PRACTICE_MINUTES = 150


class History(DemoAgenda):
    """One structure's past, built through the services at the moments things happened."""

    def __init__(self, tenant: Tenant, plan: StructurePlan, *, now: datetime, rng: random.Random) -> None:
        super().__init__(tenant, now=now)
        self.plan = plan
        self.rng = rng
        self.agenda_starts = self.first_day  # where the scheduling demo's past begins
        self.first_day = self.today - relativedelta(months=HISTORY_MONTHS)
        self.last_day = self.agenda_starts - timedelta(days=1)  # series of the earlier months end there
        self.holidays = dict(_public_holidays(self.first_day, self.today))
        self.rooms = {r.name: r for r in db.session.scalars(select(Room).where(Room.tenant_id == tenant.id))}
        self.kits = {k.name: k for k in db.session.scalars(select(Kit).where(Kit.tenant_id == tenant.id))}
        self.members = {m.user_id: m for m in db.session.scalars(
            select(Membership).where(Membership.tenant_id == tenant.id).order_by(Membership.id))}

    # --- who, when -----------------------------------------------------------------------------

    def date_joins(self) -> None:
        """Backdate each membership to when the person joined (see JOINED_WEEKS_AGO)."""
        joined = JOINED_WEEKS_AGO.get(self.tenant.slug, {})
        for membership in self.members.values():
            user = db.session.get(User, membership.user_id)
            weeks = joined.get(user.email.split("@")[0], LONG_AGO)
            membership.created_at = self.at(self.today - timedelta(weeks=weeks, days=self.rng.randint(0, 5)),
                                            "10:00")
            user.created_at = min(user.created_at, membership.created_at)
        db.session.flush()

    def take_place(self, event: Event, user: User, *, at: datetime) -> Enrolment | None:
        """A confirmed place taken at ``at`` (before the event), if ``enrolment.enrol``'s
        rules allow it then; None otherwise. No e-mail (see the module docstring)."""
        membership = self.members.get(user.id)
        if membership is None or not membership.is_active or membership.created_at > at or at >= event.starts_at:
            return None
        if not self.qualified(event, [user]):  # enrol()'s rule (check_qualified), without its message
            return None
        if enrolment._busy_elsewhere(user, event):  # the same check and booking as enrol()
            return None
        place = Enrolment(tenant_id=self.tenant.id, event_id=event.id, user_id=user.id,
                          status=EnrolmentStatus.CONFIRMED, created_at=at, confirmed_at=at)
        db.session.add(place)
        db.session.flush()
        enrolment._book_person(place, event)
        return place

    def staff(self, event: Event, people: Sequence[User], wanted: int) -> list[Enrolment]:
        """Up to ``wanted`` places, people signing up a few days before, in the order given."""
        places: list[Enrolment] = []
        for index, user in enumerate(people):
            if len(places) >= min(wanted, event.capacity or 0):
                break
            at = event.starts_at - timedelta(days=self.rng.randint(2, 9), hours=3 * index)
            place = self.take_place(event, user, at=at)
            if place is not None:
                places.append(place)
        return places

    def take_attendance(self, event: Event, places: Sequence[Enrolment], *, present: float,
                        by: User | None = None) -> None:
        """Attendance taken just after the event: mostly present, now and then absent or excused."""
        taken_at = min(event.ends_at + timedelta(minutes=self.rng.randint(10, 180)), self.now)
        for place in places:
            draw = self.rng.random()
            attendance = (Attendance.PRESENT if draw < present
                          else Attendance.ABSENT if draw < present + (1 - present) * 0.6 else Attendance.EXCUSED)
            if attendance is Attendance.PRESENT and event.kind is EventKind.TRAINING_SESSION:
                place.survey_invited_at = taken_at  # sent then: invite_to_survey queues nothing now
            enrolment.mark_attendance(place, attendance, by=by or self.coordinator, now=taken_at)

    def summer(self, day: date) -> bool:
        return self.plan.summer_break and day.month in (7, 8)

    # --- the months before the scheduling demo's agenda ----------------------------------------

    def earlier_shifts(self) -> None:
        demarches = _qualification(DEMARCHES_NAME)
        for shift in self.plan.shifts:
            people = [self.person(p) for p in shift.people]
            events = self.series(
                EventKind.SHIFT, shift.title, shift.weekday, shift.start, shift.end, every_weeks=shift.every_weeks,
                room=shift.room, capacity=2, qualification=demarches if shift.needs_demarches else None,
                description=shift.description,
            )
            for index, event in enumerate(events):
                day = self.day_of(event)
                missing = self.plan.missing_volunteer * (2.5 if self.summer(day) else 1)
                wanted = (event.capacity or 0) - (self.rng.random() < missing) - (self.rng.random() < 0.04)
                rota = [people[(index * 2 + k) % len(people)] for k in range(len(people))]
                self.take_attendance(event, self.staff(event, rota, wanted), present=self.plan.present_at_shifts)

    def day_of(self, event: Event) -> date:
        return recurrence.utc_to_local(event.starts_at, self.zone).date()

    # --- training sessions over the eight months -----------------------------------------------

    def sessions(self, modules: dict[str, Module]) -> None:
        """Up to three sessions a month (one fewer in July and August where the
        structure slows down), their modules in turn, each with the volunteers
        who had joined by then."""
        volunteers = sorted(
            (db.session.get(User, m.user_id) for m in self.members.values() if m.role is Role.VOLUNTEER),
            key=lambda u: u.email,
        )
        turn = 0
        month = self.first_day.replace(day=1)
        while month <= self.today:
            count = self.rng.choice(self.plan.sessions_per_month)
            if self.summer(month):
                count -= 1
            mondays = [day for day in (month + timedelta(days=i) for i in range(31))
                       if day.month == month.month and day.weekday() == MON]
            self.rng.shuffle(mondays)
            held = 0
            for monday in mondays:  # the chosen weeks first; another week when no slot is free
                if held >= count:
                    break
                key = self.plan.session_modules[turn % len(self.plan.session_modules)]
                event = self.session(monday, key, modules[key])
                if event is None:
                    continue
                held += 1
                turn += 1
                signed_up_by = event.starts_at - timedelta(days=10)
                # Not someone who attended this module's session in their other structure:
                # training.services.record_attendance would fail on it (see the report).
                elsewhere = set(db.session.scalars(select(InPersonAttendance.user_id).where(
                    InPersonAttendance.module_id == event.module_id, InPersonAttendance.tenant_id != self.tenant.id)))
                pool = [u for u in self.rng.sample(volunteers, len(volunteers))
                        if self.members[u.id].created_at < signed_up_by and u.id not in elsewhere]
                if not pool:
                    continue
                wanted = self.rng.randint(min(3, len(pool)), min(self.plan.session_capacity, len(pool)))
                self.take_attendance(event, self.staff(event, pool, wanted),
                                     present=self.plan.present_at_sessions, by=self.trainer)
            month = (month + timedelta(days=32)).replace(day=1)

    def session(self, monday: date, key: str, module: Module) -> Event | None:
        """A session in the week of ``monday``, in the first free slot of the trainer
        and the room (as a coordinator would find it), over an hour before now."""
        minutes = SESSION_MINUTES.get(key, PRACTICE_MINUTES)
        posture = key == "posture"
        for weekday, start in self.plan.session_slots:
            day = monday + timedelta(days=weekday)
            if day < self.first_day or day in self.holidays:
                continue
            starts_at = self.at(day, start)
            end = (recurrence.utc_to_local(starts_at, self.zone) + timedelta(minutes=minutes)).strftime("%H:%M")
            fields = self.fields(
                EventKind.TRAINING_SESSION, POSTURE_SESSION if posture else f"Séance de pratique — {_title(key)}",
                day, start, end, room=self.plan.session_room, trainer=self.trainer, module=module,
                capacity=self.plan.session_capacity, description=POSTURE_TEXT if posture else PRACTICE_TEXT,
                what_to_bring=POSTURE_BRING if posture else "",
            )
            if fields.ends_at > self.now - timedelta(hours=1):
                return None
            if not services.problems_for(self.tenant, fields):
                return services.create_event(self.tenant, fields, created_by=self.coordinator,
                                             now=self._created_at(fields.starts_at))
        return None


def _title(module_key: str) -> str:
    return next(spec.title for spec in MODULES if spec.key == module_key)


def _shared_modules() -> dict[str, Module]:
    """The shared catalogue's modules, by their key in training.demo_content.MODULES."""
    by_title = dict(db.session.execute(
        select(ModuleVersion.title, Module)
        .join(Module, Module.id == ModuleVersion.module_id)
        .where(Module.tenant_id.is_(None))
    ).all())
    return {spec.key: by_title[spec.title] for spec in MODULES if spec.owner is None and spec.title in by_title}


# --- what people said and did after the events ------------------------------------------------


class Deck:
    """Deals ``cards`` in a shuffled order, reshuffling when all were dealt."""

    def __init__(self, rng: random.Random, cards: list) -> None:
        self.rng = rng
        self.cards = cards
        self.left: list = []

    def draw(self):
        if not self.left:
            self.left = self.rng.sample(self.cards, len(self.cards))
        return self.left.pop()


def _answer_moment(event: Event, rng: random.Random, now: datetime) -> datetime:
    """Within a few days after the event, and never after now."""
    moment = event.ends_at + timedelta(hours=rng.randint(1, 96), minutes=rng.randint(0, 59))
    return max(min(moment, now - timedelta(minutes=1)), event.ends_at)


def _recent(event: Event, now: datetime) -> bool:
    """Ended in the last fortnight: some people have not answered yet."""
    return event.ends_at > now - timedelta(days=14)


def file_reports(tenant: Tenant, plan: StructurePlan, rng: random.Random, *, now: datetime) -> None:
    """Most volunteers present on a past shift report on it: how long, how many
    people, by theme (what each shift's public comes for)."""
    places = db.session.execute(
        select(Event, Enrolment)
        .join(Enrolment, (Enrolment.event_id == Event.id) & (Enrolment.tenant_id == Event.tenant_id))
        .where(Event.tenant_id == tenant.id, Event.kind == EventKind.SHIFT, Event.status == EventStatus.SCHEDULED,
               Event.ends_at <= now, Enrolment.status == EnrolmentStatus.CONFIRMED,
               Enrolment.attendance == Attendance.PRESENT)
        .order_by(Event.starts_at, Event.id, Enrolment.id)
    ).all()
    for event, place in places:
        if rng.random() >= plan.report_rate * (0.6 if _recent(event, now) else 1):
            continue
        hours = event.hours
        weights = THEMES_BY_SHIFT.get(event.title, DEFAULT_THEMES)
        people = rng.randint(max(1, round(hours * 1.2)), round(hours * 2.8))
        counts = Counter(rng.choices(list(weights), weights=list(weights.values()), k=people))
        minutes = int(hours * 60) + rng.choice((-30, -15, 0, 0, 0, 15))
        impact.save_report(event, place.user, minutes=minutes, people_by_theme=dict(counts),
                           now=_answer_moment(event, rng, now))


def answer_surveys(tenant: Tenant, plan: StructurePlan, rng: random.Random, *, now: datetime) -> None:
    """Most attendees of a past session answer its survey within a few days."""
    places = db.session.execute(
        select(Event, Enrolment)
        .join(Enrolment, (Enrolment.event_id == Event.id) & (Enrolment.tenant_id == Event.tenant_id))
        .where(Event.tenant_id == tenant.id, Event.kind == EventKind.TRAINING_SESSION,
               Event.status == EventStatus.SCHEDULED, Event.ends_at <= now,
               Enrolment.status == EnrolmentStatus.CONFIRMED, Enrolment.attendance == Attendance.PRESENT)
        .order_by(Event.starts_at, Event.id, Enrolment.id)
    ).all()
    satisfaction = Deck(rng, [score for score, n in enumerate(plan.satisfaction, start=1) for _ in range(n)])
    more_able = Deck(rng, [True] * plan.more_able + [False] * (20 - plan.more_able))
    at_ease = Deck(rng, [True] * plan.at_ease + [False] * (20 - plan.at_ease))
    for event, place in places:
        if rng.random() >= (0.55 if _recent(event, now) else 0.85):
            continue
        score = satisfaction.draw()
        comment = ""
        if rng.random() < 0.22:
            comment = rng.choice(GOOD_COMMENTS if score >= SATISFIED_FROM else MIXED_COMMENTS)
        impact.answer_survey(
            event, place.user, satisfaction=score, more_able_to_help=more_able.draw(),
            at_ease_with_computer=at_ease.draw(), comment=comment, now=_answer_moment(event, rng, now),
        )


def self_assessments(rng: random.Random, *, now: datetime) -> None:
    """Everyone who finished a path assessed their confidence when they were given
    it and again once done — higher at the end, on average, not always."""
    completions = db.session.scalars(select(PathCompletion).order_by(PathCompletion.id)).all()
    for completion in completions:
        if completion.tenant_id is None:
            continue
        tenant = db.session.get(Tenant, completion.tenant_id)
        user = db.session.get(User, completion.user_id)
        path = db.session.get(Path, completion.path_id)
        assigned_at = db.session.scalar(
            select(func.min(Assignment.created_at)).where(Assignment.user_id == user.id,
                                                          Assignment.path_id == path.id)
        )
        started = assigned_at if assigned_at and assigned_at < completion.completed_at \
            else completion.completed_at - timedelta(days=30)
        start, end = {}, {}
        for area in impact.path_areas(path):
            start[area] = rng.choices((1, 2, 3), weights=(3, 5, 2))[0]
            end[area] = max(1, min(4, start[area] + rng.choice((-1, 0, 1, 1, 1, 2))))
        impact.record_assessment(tenant, user, path, AssessmentStage.START, start,
                                 now=min(started + timedelta(hours=rng.randint(2, 48)),
                                         completion.completed_at - timedelta(hours=1)))
        impact.record_assessment(tenant, user, path, AssessmentStage.END, end,
                                 now=min(completion.completed_at + timedelta(hours=rng.randint(1, 72)), now))


def seed_impact_demo(tenants: dict[str, Tenant], *, now: datetime) -> None:
    """Add eight months of history to the demo structures (see the module
    docstring); needs the training and scheduling demos."""
    modules = _shared_modules()
    for slug, plan in PLANS.items():
        rng = random.Random(f"impact-demo:{slug}")
        history = History(tenants[slug], plan, now=now, rng=rng)
        history.date_joins()
        history.close_public_holidays()
        history.earlier_shifts()
        history.sessions(modules)
        file_reports(tenants[slug], plan, rng, now=now)
        answer_surveys(tenants[slug], plan, rng, now=now)
    self_assessments(random.Random("impact-demo:self-assessments"), now=now)
    db.session.flush()
